// Options::write_protect_segments: every segment the log has moved past
// loses its write bits (0644 becomes 0444), the segment the log ends in
// keeps them, and the store opens, reads, verifies and appends on with
// protected segments, with or without the option. Modes are checked with
// stat(): the tests may run as root, whom mode bits do not stop. When they
// run as root (and may switch users), the life cycle also runs in a child
// process as "nobody", where a protected segment really refuses to be
// opened for writing, and a child that may write a segment but not chmod it
// shows that the failed chmod fails the append cleanly.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "log/ledger.h"
#include "log/segments.h"
#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::TempDir;

constexpr uint64_t kSegmentSize = 1 << 20;  // the smallest allowed
constexpr int kPerBatch = 10;
constexpr size_t kDataSize = 20000;  // five batches fill a segment

// New files get 0644 while it lives, so modes can be compared exactly.
class UmaskGuard {
 public:
  UmaskGuard() : old_(::umask(022)) {}
  ~UmaskGuard() { ::umask(old_); }

 private:
  mode_t old_;
};

Options StoreOptions(bool protect) {
  Options o;
  o.segment_size = kSegmentSize;
  o.write_protect_segments = protect;
  return o;
}

Options ReadOnly() {
  Options o;
  o.read_only = true;
  return o;
}

// The data of the event expected at `position`: it names its position.
std::string DataFor(uint64_t position) {
  std::string d = "event " + std::to_string(position) + "|";
  d.resize(kDataSize, 'x');
  return d;
}

// kPerBatch events meant for positions `first`, `first` + 1, ...
std::vector<Event> BatchAt(uint64_t first) {
  std::vector<Event> events;
  for (int i = 0; i < kPerBatch; ++i) {
    events.push_back(Event{.type = "Row", .tags = {"all:1"}, .data = DataFor(first + i)});
  }
  return events;
}

// Appends `batches` batches of kPerBatch events, one at a time, whose
// positions start at *next; "" or what went wrong.
std::string AppendBatches(Store& store, uint64_t* next, int batches) {
  for (int b = 0; b < batches; ++b) {
    uint64_t last = 0;
    Status s = store.Append(BatchAt(*next), std::nullopt, &last);
    if (!s.ok()) return "append at position " + std::to_string(*next) + ": " + s.ToString();
    if (last != *next + kPerBatch - 1) {
      return "append at position " + std::to_string(*next) + " ended at " + std::to_string(last);
    }
    *next += kPerBatch;
  }
  return "";
}

// Opens store "s" under `dir` (protecting segments or not), appends
// `batches` batches from *next, and closes it.
std::string FillStore(const TempDir& dir, bool protect, uint64_t* next, int batches) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "s", StoreOptions(protect), &store);
  if (!s.ok()) return "open: " + s.ToString();
  return AppendBatches(*store, next, batches);
}

// Every event 1..head read back in order with the data it was given.
std::string CheckReadBack(const Store& store, uint64_t head) {
  if (store.Head() != head) {
    return "head " + std::to_string(store.Head()) + ", expected " + std::to_string(head);
  }
  std::vector<EventView> all;
  Status s = store.Read(Query::All(), {}, &all);
  if (!s.ok()) return "read: " + s.ToString();
  if (all.size() != head) return "read " + std::to_string(all.size()) + " events";
  for (uint64_t i = 0; i < head; ++i) {
    if (all[i].position() != i + 1 || all[i].data() != DataFor(i + 1)) {
      return "wrong event at position " + std::to_string(i + 1);
    }
  }
  s = store.Verify();
  if (!s.ok()) return "Verify: " + s.ToString();
  return "";
}

struct SegmentMode {
  fs::path path;
  uint32_t mode;
};

// The segment files in name (= ordinal) order, with their permission bits.
std::vector<SegmentMode> Segments(const fs::path& store_dir) {
  std::vector<SegmentMode> out;
  for (const auto& e : fs::directory_iterator(store_dir / "segments")) {
    if (e.path().extension() != ".seg") continue;
    struct stat st;
    if (::stat(e.path().c_str(), &st) != 0) continue;
    out.push_back({e.path(), static_cast<uint32_t>(st.st_mode) & 07777u});
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentMode& a, const SegmentMode& b) { return a.path < b.path; });
  return out;
}

std::string Octal(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", mode);
  return buf;
}

// "" when the segments' modes are `want`, in order.
std::string CheckModes(const fs::path& store_dir, const std::vector<uint32_t>& want) {
  std::vector<SegmentMode> segs = Segments(store_dir);
  std::string got, expected;
  for (const SegmentMode& s : segs) got += Octal(s.mode) + " ";
  for (uint32_t m : want) expected += Octal(m) + " ";
  return got == expected ? "" : "segment modes " + got + "expected " + expected;
}

// Every segment but the last 0444, the last 0644.
std::vector<uint32_t> ProtectedButLast(size_t segments) {
  std::vector<uint32_t> modes(segments, 0444);
  if (!modes.empty()) modes.back() = 0644;
  return modes;
}

std::string CheckProtectedButLast(const fs::path& store_dir) {
  return CheckModes(store_dir, ProtectedButLast(Segments(store_dir).size()));
}

// Cuts 4 KiB off the zero tail of a full, protected segment (its events
// stay whole): a damaged file that Repair re-extends at the next open.
bool CutProtectedTail(const fs::path& segment) {
  return ::chmod(segment.c_str(), 0644) == 0 &&
         ::truncate(segment.c_str(), static_cast<off_t>(kSegmentSize - 4096)) == 0 &&
         ::chmod(segment.c_str(), 0444) == 0;
}

TEST(WriteProtect, FullSegmentsLoseTheirWriteBits) {
  UmaskGuard umask;
  for (Durability d : {Durability::kSync, Durability::kBuffered}) {
    SCOPED_TRACE(d == Durability::kSync ? "kSync" : "kBuffered");
    TempDir dir;
    const fs::path store_dir = dir.path() / "s";
    Options options = StoreOptions(true);
    options.durability = d;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
    uint64_t next = 1;
    // The invariant holds after every append, not only at the end.
    for (int b = 0; b < 22; ++b) {
      ASSERT_EQ(AppendBatches(*store, &next, 1), "");
      ASSERT_EQ(CheckProtectedButLast(store_dir), "") << "after batch " << b;
    }
    ASSERT_EQ(Segments(store_dir).size(), 5u);
    EXPECT_EQ(CheckReadBack(*store, next - 1), "");
    store.reset();
    EXPECT_EQ(CheckProtectedButLast(store_dir), "");
    ASSERT_EQ(Segments(store_dir).size(), 5u);
  }
}

TEST(WriteProtect, ReopenWritableAndReadOnlyReadsEverything) {
  UmaskGuard umask;
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  uint64_t next = 1;
  ASSERT_EQ(FillStore(dir, true, &next, 18), "");
  ASSERT_EQ(CheckModes(store_dir, ProtectedButLast(4)), "");
  {
    std::unique_ptr<Store> reader;
    Status s = Store::Open(dir.path(), "s", ReadOnly(), &reader);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(CheckReadBack(*reader, next - 1), "");
  }
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), "s", StoreOptions(true), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(CheckReadBack(*store, next - 1), "");
    // A reader in the same process beside the writer (it shares the engine).
    std::unique_ptr<Store> reader;
    ASSERT_TRUE(Store::Open(dir.path(), "s", StoreOptions(true), &reader).ok());
    ASSERT_EQ(AppendBatches(*store, &next, 6), "");
    EXPECT_EQ(CheckReadBack(*reader, next - 1), "");
  }
  EXPECT_EQ(CheckModes(store_dir, ProtectedButLast(5)), "");
  // The restart path (no clean close, another boot) walks every protected
  // segment and syncs those since the checkpoint.
  {
    log::Ledger ledger;
    ASSERT_TRUE(ledger.Open(store_dir / "ledger", true).ok());
    ledger.SetClean(false);
    ledger.SetBootId("a-boot-before-this-one");
    ASSERT_TRUE(ledger.Sync().ok());
  }
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "s", StoreOptions(true), &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckReadBack(*store, next - 1), "");
  EXPECT_EQ(CheckModes(store_dir, ProtectedButLast(5)), "");
}

// Without the option a writer leaves modes as they are: the segments
// protected before stay protected, the ones it fills stay writable.
TEST(WriteProtect, ReopenWithoutTheOptionAppendsOnAndChangesNoMode) {
  UmaskGuard umask;
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  uint64_t next = 1;
  ASSERT_EQ(FillStore(dir, true, &next, 12), "");
  ASSERT_EQ(CheckModes(store_dir, ProtectedButLast(3)), "");
  // A protected segment cut short in its zero tail: the open re-extends it
  // and gives it its mode back.
  const fs::path first = Segments(store_dir).at(0).path;
  ASSERT_TRUE(CutProtectedTail(first));
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), "s", StoreOptions(false), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(fs::file_size(first), kSegmentSize);
    EXPECT_EQ(CheckModes(store_dir, ProtectedButLast(3)), "");
    ASSERT_EQ(AppendBatches(*store, &next, 12), "");
    EXPECT_EQ(CheckReadBack(*store, next - 1), "");
  }
  EXPECT_EQ(CheckModes(store_dir, {0444, 0444, 0644, 0644, 0644}), "");
  std::unique_ptr<Store> reader;
  ASSERT_TRUE(Store::Open(dir.path(), "s", ReadOnly(), &reader).ok());
  EXPECT_EQ(CheckReadBack(*reader, next - 1), "");
}

// A store written without the option: a read-only open with it changes
// nothing, a writable open protects every segment before the last.
TEST(WriteProtect, WritableOpenProtectsSegmentsWrittenWithoutTheOption) {
  UmaskGuard umask;
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  uint64_t next = 1;
  ASSERT_EQ(FillStore(dir, false, &next, 18), "");
  ASSERT_EQ(CheckModes(store_dir, {0644, 0644, 0644, 0644}), "");
  {
    Options ro = ReadOnly();
    ro.write_protect_segments = true;
    std::unique_ptr<Store> reader;
    ASSERT_TRUE(Store::Open(dir.path(), "s", ro, &reader).ok());
    EXPECT_EQ(CheckReadBack(*reader, next - 1), "");
  }
  EXPECT_EQ(CheckModes(store_dir, {0644, 0644, 0644, 0644}), "");
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "s", StoreOptions(true), &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckModes(store_dir, ProtectedButLast(4)), "");
  EXPECT_EQ(CheckReadBack(*store, next - 1), "");
  ASSERT_EQ(AppendBatches(*store, &next, 4), "");
  EXPECT_EQ(CheckModes(store_dir, ProtectedButLast(5)), "");
  EXPECT_EQ(CheckReadBack(*store, next - 1), "");
}

// Groups of several batches may leave more than one segment at once
// (including ones they fill entirely).
TEST(WriteProtect, ConcurrentAppendersLeaveEverySegmentProtected) {
  UmaskGuard umask;
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  Options options = StoreOptions(true);
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
  std::vector<std::thread> threads;
  std::vector<std::string> errors(6);
  for (size_t t = 0; t < errors.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 8 && errors[t].empty(); ++b) {
        std::vector<Event> events(kPerBatch, Event{.type = "Row",
                                                   .tags = {"t:" + std::to_string(t)},
                                                   .data = std::string(kDataSize, 'c')});
        Status s = store->Append(events);
        if (!s.ok()) errors[t] = s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(store->Head(), 6u * 8 * kPerBatch);
  EXPECT_GE(Segments(store_dir).size(), 9u);
  EXPECT_EQ(CheckProtectedButLast(store_dir), "");
  Status v = store->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
}

// The whole life cycle, "" or what went wrong. With `unprivileged`, the
// mode bits also stop this process: a protected segment must refuse to be
// opened for writing, and nothing the store does may need to.
std::string LifeCycle(const fs::path& root, bool unprivileged) {
  const fs::path store_dir = root / "s";
  uint64_t next = 1;
  std::string err;
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, "s", StoreOptions(true), &store);
  if (!s.ok()) return "open: " + s.ToString();
  if (!(err = AppendBatches(*store, &next, 18)).empty()) return err;
  if (!(err = CheckModes(store_dir, ProtectedButLast(4))).empty()) return err;
  if (unprivileged) {
    int fd = ::open(Segments(store_dir)[0].path.c_str(), O_RDWR);
    if (fd >= 0 || errno != EACCES) {
      if (fd >= 0) ::close(fd);
      return "a protected segment was opened for writing";
    }
  }
  store.reset();

  // A protected segment cut short in its zero tail (its events intact):
  // the writable open re-extends it and leaves it protected.
  const fs::path second = Segments(store_dir).at(1).path;
  if (!CutProtectedTail(second)) return "cut " + second.string();

  // Read-only, then writable with the option, each reading everything.
  if (!(s = Store::Open(root, "s", ReadOnly(), &store)).ok()) return "open ro: " + s.ToString();
  if (!(err = CheckReadBack(*store, next - 1)).empty()) return "read-only: " + err;
  store.reset();
  if (!(s = Store::Open(root, "s", StoreOptions(true), &store)).ok()) {
    return "reopen: " + s.ToString();
  }
  if (fs::file_size(second) != kSegmentSize) return "the cut segment was not re-extended";
  if (!(err = CheckModes(store_dir, ProtectedButLast(4))).empty()) return "repaired: " + err;
  if (!(err = CheckReadBack(*store, next - 1)).empty()) return "reopened: " + err;
  if (!(err = AppendBatches(*store, &next, 3)).empty()) return err;
  store.reset();
  if (!(err = CheckModes(store_dir, ProtectedButLast(5))).empty()) return err;

  // A crash between the chmod of the last segment and the commit that
  // would have moved the log past it: the last segment is protected, and
  // the new one the writer created holds nothing committed.
  const fs::path last = Segments(store_dir).back().path;
  auto crash_after_chmod = [&]() -> std::string {
    if (::chmod(last.c_str(), 0444) != 0) return "chmod " + last.string();
    log::SegmentSet other;
    Status st = other.Open(store_dir / "segments");
    if (st.ok()) st = other.Create(other.count(), next, kSegmentSize);
    return st.ok() ? "" : "create: " + st.ToString();
  };
  // Opened and closed at once: the close syncs the protected last segment
  // and marks the store clean.
  if (!(err = crash_after_chmod()).empty()) return err;
  if (!(s = Store::Open(root, "s", StoreOptions(true), &store)).ok()) {
    return "open after crash: " + s.ToString();
  }
  store.reset();
  log::LogState commit;
  {
    log::Ledger ledger;
    if (!(s = ledger.Open(store_dir / "ledger", false)).ok()) return "ledger: " + s.ToString();
    if (!ledger.clean()) return "the close after the crash was not clean";
    if (!ledger.LatestCommit(&commit)) return "no commit slot";
  }
  if (Segments(store_dir).size() != 5) return "the unused segment was not removed";

  // Again, with a torn batch where the log ends: recovery zeroes it in the
  // protected segment.
  if (::chmod(last.c_str(), 0644) != 0) return "chmod " + last.string();
  {
    int fd = ::open(last.c_str(), O_RDWR);
    if (fd < 0) return "open " + last.string();
    const std::string torn(48, '\xab');
    bool wrote = ::pwrite(fd, torn.data(), torn.size(), static_cast<off_t>(commit.end_offset)) ==
                 static_cast<ssize_t>(torn.size());
    ::close(fd);
    if (!wrote) return "write torn batch";
  }
  if (!(err = crash_after_chmod()).empty()) return err;
  // Without the option: the writer must still write the last segment.
  if (!(s = Store::Open(root, "s", StoreOptions(false), &store)).ok()) {
    return "open after crash: " + s.ToString();
  }
  if (Segments(store_dir).size() != 5) return "the unused segment was not removed";
  if (!(err = CheckReadBack(*store, next - 1)).empty()) return "after crash: " + err;
  if (!(err = AppendBatches(*store, &next, 10)).empty()) return "after crash: " + err;
  if (!(err = CheckReadBack(*store, next - 1)).empty()) return "after crash: " + err;
  store.reset();
  // The option was off: the segments it filled keep their write bits.
  if (!(err = CheckModes(store_dir, {0444, 0444, 0444, 0444, 0644, 0644, 0644})).empty()) {
    return "option off: " + err;
  }
  // With the option again: the open protects what was left writable.
  if (!(s = Store::Open(root, "s", StoreOptions(true), &store)).ok()) {
    return "open with the option: " + s.ToString();
  }
  if (!(err = CheckModes(store_dir, ProtectedButLast(7))).empty()) return "reprotect: " + err;
  if (!(err = AppendBatches(*store, &next, 2)).empty()) return err;
  if (!(err = CheckReadBack(*store, next - 1)).empty()) return err;
  store.reset();

  // A buffered writer killed two segments past its last checkpoint: the
  // next open syncs every segment since the checkpoint, protected or not.
  const pid_t pid = ::fork();
  if (pid < 0) return "fork";
  if (pid == 0) {
    Options buffered = StoreOptions(true);
    buffered.durability = Durability::kBuffered;
    std::unique_ptr<Store> doomed;
    if (!Store::Open(root, "s", buffered, &doomed).ok()) ::_exit(1);
    uint64_t at = next;
    ::_exit(AppendBatches(*doomed, &at, 10).empty() ? 0 : 2);  // no close
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "the buffered writer failed: " + std::to_string(status);
  }
  next += 10 * kPerBatch;
  if (!(s = Store::Open(root, "s", StoreOptions(true), &store)).ok()) {
    return "open after the buffered writer died: " + s.ToString();
  }
  if (!(err = CheckModes(store_dir, ProtectedButLast(9))).empty()) return "killed: " + err;
  if (!(err = AppendBatches(*store, &next, 1)).empty()) return "killed: " + err;
  return CheckReadBack(*store, next - 1);
}

TEST(WriteProtect, LifeCycle) {
  UmaskGuard umask;
  TempDir dir;
  EXPECT_EQ(LifeCycle(dir.path(), ::geteuid() != 0), "");
}

constexpr uid_t kNobody = 65534;
constexpr int kCannotSwitchUser = 77;

// Runs `fn` in a child process as uid/gid kNobody; its exit code (0 when
// `fn` gave "", kCannotSwitchUser) and its message.
std::pair<int, std::string> RunAsNobody(const std::function<std::string()>& fn) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {-1, "pipe"};
  const pid_t pid = ::fork();
  if (pid < 0) return {-1, "fork"};
  if (pid == 0) {
    ::alarm(60);
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(kCannotSwitchUser);
    }
    ::umask(022);
    std::string err = fn();
    if (!err.empty() && ::write(pipe_fds[1], err.data(), err.size()) < 0) ::_exit(2);
    ::_exit(err.empty() ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0;) message.append(buf, n);
  ::close(pipe_fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return {-1, "waitpid"};
  if (!WIFEXITED(status)) return {-1, "the child died: " + std::to_string(status) + " " + message};
  return {WEXITSTATUS(status), message};
}

// As root, mode bits stop nothing: run the life cycle as "nobody", where
// opening a protected segment for writing fails with EACCES.
TEST(WriteProtect, LifeCycleAsAnUnprivilegedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "not root: the LifeCycle test already runs unprivileged";
  TempDir dir;
  ASSERT_EQ(::chown(dir.path().c_str(), kNobody, kNobody), 0);
  auto [code, message] = RunAsNobody([&] { return LifeCycle(dir.path(), true); });
  if (code == kCannotSwitchUser) GTEST_SKIP() << "cannot switch to uid " << kNobody;
  EXPECT_EQ(code, 0) << message;
  EXPECT_EQ(message, "");
}

// A writer that may write a segment but not change its mode (it does not
// own the file): the append that leaves the segment fails with the OS's
// message, nothing of it is committed, and the store goes on.
TEST(WriteProtect, FailedChmodFailsTheAppendCleanly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a file its writer does not own";
  UmaskGuard umask;
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  uint64_t next = 1;
  ASSERT_EQ(FillStore(dir, false, &next, 4), "");
  // Everything belongs to nobody but the first segment: root's, mode 0666.
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    ASSERT_EQ(::lchown(e.path().c_str(), kNobody, kNobody), 0) << e.path();
  }
  ASSERT_EQ(::chown(dir.path().c_str(), kNobody, kNobody), 0);
  const fs::path first = Segments(store_dir).at(0).path;
  ASSERT_EQ(::chown(first.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(first.c_str(), 0666), 0);
  auto [code, message] = RunAsNobody([&]() -> std::string {
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), "s", StoreOptions(true), &store);
    if (!s.ok()) return "open: " + s.ToString();
    std::string err;
    if (!(err = AppendBatches(*store, &next, 1)).empty()) return err;  // fills the segment
    for (int attempt = 0; attempt < 2; ++attempt) {
      s = store->Append(BatchAt(next));
      if (!s.IsIOError() || s.ToString().find("chmod " + first.string()) == std::string::npos) {
        return "the append that leaves the segment gave " + s.ToString();
      }
      if (!(err = CheckReadBack(*store, next - 1)).empty()) return "after the failure: " + err;
    }
    store.reset();
    // Without the option the same user appends on.
    if (!(s = Store::Open(dir.path(), "s", StoreOptions(false), &store)).ok()) {
      return "reopen: " + s.ToString();
    }
    if (!(err = CheckReadBack(*store, next - 1)).empty()) return "reopened: " + err;
    if (!(err = AppendBatches(*store, &next, 3)).empty()) return err;
    return CheckReadBack(*store, next - 1);
  });
  if (code == kCannotSwitchUser) GTEST_SKIP() << "cannot switch to uid " << kNobody;
  EXPECT_EQ(code, 0) << message;
  EXPECT_EQ(message, "");
  EXPECT_EQ(CheckModes(store_dir, {0666, 0644}), "");
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), "s", ReadOnly(), &store).ok());
  EXPECT_EQ(CheckReadBack(*store, 80), "");
}

}  // namespace
}  // namespace opossum
