// Crash recovery: a store must hold exactly the acknowledged batches (plus
// possibly the one in flight, whole or not at all) after a process dies at
// any instant, and a torn batch at the tail must never be adopted.
//
//  - CrashTest.SigkillDuringConcurrentAppends: a forked child appends from
//    four threads and reports every acknowledged batch through a pipe; the
//    parent kills it with SIGKILL at a random moment and checks the store.
//  - CrashTest.TornTailAtEveryByte: the last batch of a segment is cut at
//    every byte (zeroed, or the file truncated) under a ledger that does not
//    know it; only the whole batch may be adopted.
//
// Randomized: the seed is printed; OPOSSUM_SEED=<seed> repeats a run.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using opossum::testing::ReadFileBytes;
using opossum::testing::TempDir;
using opossum::testing::TestSeed;
using opossum::testing::WriteFileBytes;

// ---------------------------------------------------------------------------
// Small file helpers.

// Every regular file under `dir`, keyed by its path relative to `dir`.
using Snapshot = std::map<std::string, std::string>;

Snapshot TakeSnapshot(const fs::path& dir) { return opossum::testing::ReadTree(dir); }

void RestoreSnapshot(const fs::path& dir, const Snapshot& snap) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  for (const auto& [rel, bytes] : snap) ASSERT_TRUE(WriteFileBytes(dir / rel, bytes)) << rel;
}

// The one segment file of a snapshot (relative path), or "" when there is
// not exactly one.
std::string OnlySegment(const Snapshot& snap) {
  std::string found;
  int n = 0;
  for (const auto& [rel, bytes] : snap) {
    if (rel.rfind("segments/", 0) == 0 && rel.size() > 4 &&
        rel.compare(rel.size() - 4, 4, ".seg") == 0) {
      found = rel;
      ++n;
    }
  }
  return n == 1 ? found : std::string();
}

// One past the last non-zero byte, rounded up to 8 (the end of the content
// of a zero-filled, preallocated segment).
uint64_t ContentEnd(const std::string& seg) {
  uint64_t i = seg.size();
  while (i > 0 && seg[i - 1] == 0) --i;
  return (i + 7) & ~uint64_t{7};
}

// The few on-disk facts this test relies on (docs: segment format). Kept
// here, not taken from the engine's internal headers, so that a format change
// shows up as a clear test failure.
constexpr uint64_t kSegmentHeaderBytes = 64;
constexpr uint64_t kBatchHeaderBytes = 32;
constexpr uint32_t kBatchMagic = 0x5442504fU;  // "OPBT"

template <typename T>
T Load(const std::string& bytes, uint64_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

// ---------------------------------------------------------------------------
// Model events of the torn-tail test.

struct ModelEvent {
  std::string type;
  std::vector<std::string> tags;  // sorted, unique
  std::string data;
};

Event ToEvent(const ModelEvent& m) {
  Event e;
  e.type = m.type;
  e.tags = m.tags;
  e.data = m.data;
  return e;
}

// Compares the whole store with `model` (positions 1..model.size()).
// Returns "" when equal, else a description of the first difference.
std::string CompareWithModel(const Store& store, const std::vector<ModelEvent>& model) {
  std::vector<EventView> got;
  Status s = store.Read(Query::All(), ReadOptions{}, &got);
  if (!s.ok()) return "Read(All) failed: " + s.ToString();
  if (got.size() != model.size()) {
    return "Read(All) returned " + std::to_string(got.size()) + " events, expected " +
           std::to_string(model.size());
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const EventView& v = got[i];
    const ModelEvent& m = model[i];
    std::string where = "event at index " + std::to_string(i);
    if (v.position() != i + 1) {
      return where + ": position " + std::to_string(v.position()) + ", expected " +
             std::to_string(i + 1);
    }
    if (v.type() != m.type) return where + ": type '" + std::string(v.type()) + "'";
    if (v.data() != m.data) return where + ": data differs";
    std::vector<std::string> tags;
    for (auto t : v.tags()) tags.emplace_back(t);
    if (tags != m.tags) return where + ": tags differ";
  }
  return "";
}

// ---------------------------------------------------------------------------
// SIGKILL during concurrent appends.

// What the child tells the parent. Written with one write(2) of a fixed size
// (below PIPE_BUF, hence atomic).
struct Report {
  enum Kind : uint32_t {
    kOpened = 1,           // the child opened the store
    kStarted = 2,          // about to call Append for `batch`
    kAcked = 3,            // Append returned OK with last position `pos`
    kConditionFailed = 4,  // Append returned kConditionFailed: nothing written
    kError = 5,            // anything else: `msg` says what
  };
  uint32_t kind = 0;
  uint32_t size = 0;   // events in the batch
  uint64_t batch = 0;  // batch id
  uint64_t pos = 0;    // kAcked: last position; kStarted: condition's `after` + 1 (0: none)
  char msg[232] = {};
};
static_assert(sizeof(Report) == 256);

void SendReport(int fd, const Report& r) {
  const char* p = reinterpret_cast<const char*>(&r);
  size_t left = sizeof r;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::_exit(3);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void SendError(int fd, const std::string& what) {
  Report r;
  r.kind = Report::kError;
  std::snprintf(r.msg, sizeof r.msg, "%s", what.c_str());
  SendReport(fd, r);
}

constexpr char kSharedTag[] = "shared:hot";
constexpr int kThreads = 4;
constexpr uint64_t kSegmentSize = 1ull << 20;

std::string BatchTag(uint64_t id) { return "batch:" + std::to_string(id); }

std::string EventData(uint64_t batch, uint32_t index, uint32_t size, size_t pad) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{\"b\":%" PRIu64 ",\"i\":%u,\"n\":%u,\"p\":\"", batch, index,
                size);
  std::string d = buf;
  d.append(pad, 'x');
  d += "\"}";
  return d;
}

bool ParseEventData(std::string_view data, uint64_t* batch, uint32_t* index, uint32_t* size) {
  std::string s(data.substr(0, std::min<size_t>(data.size(), 80)));
  unsigned long long b = 0;
  unsigned i = 0, n = 0;
  if (std::sscanf(s.c_str(), "{\"b\":%llu,\"i\":%u,\"n\":%u,", &b, &i, &n) != 3) return false;
  *batch = b;
  *index = i;
  *size = n;
  return true;
}

// The child: opens the store and appends from kThreads threads until killed.
[[noreturn]] void RunAppender(const fs::path& root, const std::string& name, Durability durability,
                              uint64_t iteration, uint64_t seed, int fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Options options;
  options.durability = durability;
  options.segment_size = kSegmentSize;
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, name, options, &store);
  if (!s.ok()) {
    SendError(fd, "child: Open: " + s.ToString());
    ::_exit(2);
  }
  {
    Report r;
    r.kind = Report::kOpened;
    SendReport(fd, r);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(t));
      for (uint64_t n = 0; std::chrono::steady_clock::now() < deadline; ++n) {
        const uint64_t id = iteration * 1'000'000 + static_cast<uint64_t>(t) * 100'000 + n;
        const uint32_t size = 1 + static_cast<uint32_t>(rng() % 5);
        const bool conditional = rng() % 3 == 0;
        std::vector<Event> events;
        for (uint32_t i = 0; i < size; ++i) {
          Event e;
          e.type = "CrashTestEvent";
          e.tags = {BatchTag(id), "thread:" + std::to_string(t)};
          if (conditional) e.tags.push_back(kSharedTag);
          e.data = EventData(id, i, size, rng() % 200);
          e.data_is_json = true;
          events.push_back(std::move(e));
        }
        std::optional<AppendCondition> condition;
        Report started;
        started.kind = Report::kStarted;
        started.batch = id;
        started.size = size;
        if (conditional) {
          std::optional<EventView> last;
          Status rs = store->ReadLast(Query::ForTags({kSharedTag}), &last);
          if (!rs.ok()) {
            SendError(fd, "child: ReadLast: " + rs.ToString());
            ::_exit(2);
          }
          const uint64_t after = last ? last->position() : 0;
          condition = AppendCondition{Query::ForTags({kSharedTag}), after};
          started.pos = after + 1;
        }
        SendReport(fd, started);
        uint64_t pos = 0;
        Status as = store->Append(std::span<const Event>(events), condition, &pos);
        Report r;
        r.batch = id;
        r.size = size;
        if (as.ok()) {
          r.kind = Report::kAcked;
          r.pos = pos;
          SendReport(fd, r);
        } else if (as.IsConditionFailed()) {
          r.kind = Report::kConditionFailed;
          SendReport(fd, r);
        } else {
          SendError(fd, "child: Append: " + as.ToString());
          ::_exit(2);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ::_exit(0);
}

struct BatchInfo {
  uint32_t size = 0;
  std::optional<uint64_t> after;  // the condition's `after`, when conditional
  bool acked = false;
  uint64_t acked_pos = 0;
  bool condition_failed = false;
};

// Reads whole Report records from `fd` until EOF or until `deadline`.
// Returns false on EOF.
bool Drain(int fd, std::string* pending, std::vector<Report>* out,
           std::optional<std::chrono::steady_clock::time_point> deadline) {
  char buf[1 << 16];
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) return true;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    pending->append(buf, static_cast<size_t>(n));
    while (pending->size() >= sizeof(Report)) {
      Report r;
      std::memcpy(&r, pending->data(), sizeof r);
      out->push_back(r);
      pending->erase(0, sizeof r);
    }
  }
}

// Checks the store after a crash against what the child reported. Returns
// "" or the first problem found.
std::string CheckAfterCrash(const Store& store, const std::map<uint64_t, BatchInfo>& batches,
                            uint64_t* events_seen) {
  const uint64_t head = store.Head();
  std::vector<EventView> all;
  Status s = store.Read(Query::All(), ReadOptions{}, &all);
  if (!s.ok()) return "Read(All) after recovery: " + s.ToString();
  *events_seen = all.size();
  if (all.size() != head) {
    return "Read(All) returned " + std::to_string(all.size()) + " events but Head() is " +
           std::to_string(head);
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].position() != i + 1) {
      return "positions not gapless: index " + std::to_string(i) + " has position " +
             std::to_string(all[i].position());
    }
  }
  // Group the events by batch id; check each batch is whole and contiguous.
  struct Seen {
    uint64_t first = 0, last = 0;
    uint32_t count = 0, size = 0;
  };
  std::map<uint64_t, Seen> seen;
  for (const EventView& v : all) {
    uint64_t b;
    uint32_t idx, size;
    if (!ParseEventData(v.data(), &b, &idx, &size)) {
      return "unparsable event data at position " + std::to_string(v.position());
    }
    if (!v.HasTag(BatchTag(b))) {
      return "event at " + std::to_string(v.position()) + " lacks its tag " + BatchTag(b);
    }
    Seen& sn = seen[b];
    if (sn.count == 0) {
      sn.first = v.position();
      sn.size = size;
    } else if (v.position() != sn.last + 1) {
      return "batch " + std::to_string(b) + " is not contiguous (position " +
             std::to_string(v.position()) + " after " + std::to_string(sn.last) + ")";
    }
    if (idx != sn.count || size != sn.size) {
      return "batch " + std::to_string(b) + ": event index " + std::to_string(idx) +
             " at position " + std::to_string(v.position()) + ", expected index " +
             std::to_string(sn.count);
    }
    sn.last = v.position();
    ++sn.count;
  }
  for (const auto& [b, sn] : seen) {
    if (sn.count != sn.size) {
      return "batch " + std::to_string(b) + " is partly present: " + std::to_string(sn.count) +
             " of " + std::to_string(sn.size) + " events (positions " + std::to_string(sn.first) +
             ".." + std::to_string(sn.last) + ")";
    }
  }
  // Every acknowledged batch at its acknowledged positions; no failed one.
  uint64_t max_acked = 0;
  for (const auto& [b, info] : batches) {
    auto it = seen.find(b);
    if (info.acked) {
      max_acked = std::max(max_acked, info.acked_pos);
      if (it == seen.end()) {
        return "acknowledged batch " + std::to_string(b) + " (last position " +
               std::to_string(info.acked_pos) + ") is missing after recovery";
      }
      if (it->second.last != info.acked_pos) {
        return "acknowledged batch " + std::to_string(b) + " was acknowledged at " +
               std::to_string(info.acked_pos) + " but ends at " + std::to_string(it->second.last);
      }
    }
    if (info.condition_failed && it != seen.end()) {
      return "batch " + std::to_string(b) + " failed its condition but is present at " +
             std::to_string(it->second.first);
    }
    if (it != seen.end() && it->second.size != info.size) {
      return "batch " + std::to_string(b) + " has size " + std::to_string(it->second.size) +
             ", the child appended " + std::to_string(info.size);
    }
  }
  if (head < max_acked) {
    return "Head() " + std::to_string(head) + " < acknowledged position " +
           std::to_string(max_acked);
  }
  // Every conditional batch present held its condition: no shared-tag event
  // between its `after` and its first position.
  std::vector<uint64_t> shared_positions;
  for (const EventView& v : all) {
    if (v.HasTag(kSharedTag)) shared_positions.push_back(v.position());
  }
  for (const auto& [b, info] : batches) {
    auto it = seen.find(b);
    if (!info.after || it == seen.end()) continue;
    auto lo = std::upper_bound(shared_positions.begin(), shared_positions.end(), *info.after);
    if (lo != shared_positions.end() && *lo < it->second.first) {
      return "conditional batch " + std::to_string(b) + " (after " + std::to_string(*info.after) +
             ") committed at " + std::to_string(it->second.first) + " although event " +
             std::to_string(*lo) + " matches its condition";
    }
  }
  // A read by the batch tag (through the index) finds acknowledged batches:
  // those of the last iteration, and a sample of the older ones.
  const uint64_t newest = batches.empty() ? 0 : batches.rbegin()->first / 1'000'000;
  int checked = 0;
  for (const auto& [b, info] : batches) {
    if (!info.acked) continue;
    if (b / 1'000'000 != newest && (b % 17 != 0 || ++checked > 40)) continue;
    std::vector<EventView> got;
    Status rs = store.Read(Query::ForTags({BatchTag(b)}), ReadOptions{}, &got);
    if (!rs.ok()) return "Read(tag " + BatchTag(b) + "): " + rs.ToString();
    if (got.size() != info.size || got.back().position() != info.acked_pos) {
      return "Read(tag " + BatchTag(b) + ") returned " + std::to_string(got.size()) +
             " events, expected " + std::to_string(info.size) + " ending at " +
             std::to_string(info.acked_pos);
    }
  }
  return "";
}

TEST(CrashTest, SigkillDuringConcurrentAppends) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string name = "crash";
  const auto start = std::chrono::steady_clock::now();
  constexpr int kIterations = 26;
  uint64_t total_acked = 0, total_events = 0;
  int iterations_run = 0;
  std::set<uint64_t> all_batches_ever;  // ids of every batch ever started
  std::map<uint64_t, BatchInfo> history;
  for (int iter = 1; iter <= kIterations; ++iter) {
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(15)) break;
    ++iterations_run;
    const Durability durability = iter % 2 == 0 ? Durability::kBuffered : Durability::kSync;
    const bool early = rng() % 6 == 0;  // sometimes kill during open/recovery
    const auto delay = std::chrono::microseconds(early ? rng() % 5000 : 5000 + rng() % 250000);
    const uint64_t child_seed = rng();
    SCOPED_TRACE("iteration " + std::to_string(iter) + " (" +
                 (durability == Durability::kSync ? "kSync" : "kBuffered") + "), kill after " +
                 std::to_string(delay.count()) + " us, seed " + std::to_string(seed));

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      ::close(fds[0]);
      RunAppender(dir.path(), name, durability, static_cast<uint64_t>(iter), child_seed, fds[1]);
    }
    ::close(fds[1]);
    std::string pending;
    std::vector<Report> reports;
    const bool open_pipe =
        Drain(fds[0], &pending, &reports, std::chrono::steady_clock::now() + delay);
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    if (open_pipe) Drain(fds[0], &pending, &reports, std::nullopt);
    ::close(fds[0]);

    bool opened = false;
    for (const Report& r : reports) {
      switch (r.kind) {
        case Report::kOpened:
          opened = true;
          break;
        case Report::kStarted: {
          BatchInfo& info = history[r.batch];
          info.size = r.size;
          if (r.pos != 0) info.after = r.pos - 1;
          all_batches_ever.insert(r.batch);
          break;
        }
        case Report::kAcked: {
          BatchInfo& info = history[r.batch];
          info.acked = true;
          info.acked_pos = r.pos;
          ++total_acked;
          if (r.pos < r.size) ADD_FAILURE() << "batch " << r.batch << " acked at " << r.pos;
          break;
        }
        case Report::kConditionFailed:
          history[r.batch].condition_failed = true;
          break;
        case Report::kError:
          ADD_FAILURE() << std::string(r.msg, strnlen(r.msg, sizeof r.msg));
          break;
        default:
          FAIL() << "garbled report from the child (kind " << r.kind << ")";
      }
    }
    if (!WIFSIGNALED(wstatus) || WTERMSIG(wstatus) != SIGKILL) {
      ADD_FAILURE() << "child ended by itself before the kill, status " << wstatus;
    }
    if (::testing::Test::HasFailure()) return;

    // Recovery, in the parent (the child is dead: nothing holds the store).
    Options options;
    options.segment_size = kSegmentSize;
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), name, options, &store);
    ASSERT_TRUE(s.ok()) << "Open after SIGKILL: " << s.ToString();
    Status v = store->Verify();
    ASSERT_TRUE(v.ok()) << "Verify after SIGKILL (child opened: " << opened
                        << "): " << v.ToString();
    uint64_t events = 0;
    std::string problem = CheckAfterCrash(*store, history, &events);
    ASSERT_EQ(problem, "") << "after SIGKILL, " << reports.size() << " reports";
    total_events = events;

    // A new append gets Head()+1 and reads back.
    const uint64_t head = store->Head();
    const uint64_t id = static_cast<uint64_t>(iter) * 1'000'000 + 999'999;
    Event e;
    e.type = "CrashTestEvent";
    e.tags = {BatchTag(id), "parent"};
    e.data = EventData(id, 0, 1, 3);
    e.data_is_json = true;
    uint64_t pos = 0;
    s = store->Append(std::span<const Event>(&e, 1), std::nullopt, &pos);
    ASSERT_TRUE(s.ok()) << "Append after recovery: " << s.ToString();
    ASSERT_EQ(pos, head + 1) << "first append after recovery";
    EXPECT_EQ(store->Head(), head + 1);
    std::vector<EventView> back;
    s = store->Read(Query::ForTags({BatchTag(id)}), ReadOptions{}, &back);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].position(), head + 1);
    EXPECT_EQ(back[0].data(), e.data);
    BatchInfo& mine = history[id];
    mine.size = 1;
    mine.acked = true;
    mine.acked_pos = pos;
    store.reset();  // never hold the store across the next fork
  }
  std::fprintf(stderr,
               "[ info     ] %d kill/recover iterations, %" PRIu64 " acknowledged batches, %" PRIu64
               " events in the store\n",
               iterations_run, total_acked, total_events);
  EXPECT_GE(iterations_run, 10) << "too few iterations ran in the time budget";
}

// ---------------------------------------------------------------------------
// A torn batch at the tail of a segment, cut at every byte.

class CrashTornTail : public ::testing::Test {
 protected:
  // Appends `count` events of batch `b` (kept in model_) as one batch.
  void AppendModelBatch(Store& store, const char* phase, size_t b, int count) {
    std::vector<Event> batch;
    for (int i = 0; i < count; ++i) {
      ModelEvent m = MakeEvent(phase, b, i);
      model_.push_back(m);
      batch.push_back(ToEvent(m));
    }
    uint64_t pos = 0;
    Status s = store.Append(std::span<const Event>(batch), std::nullopt, &pos);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(pos, model_.size());
  }

  void SetUp() override {
    options_.segment_size = kSegmentSize;
    options_.durability = Durability::kSync;
    store_dir_ = dir_.path() / name_;

    // K batches, closed.
    const std::vector<int> sizes = {1, 3, 2, 5, 1, 4};
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir_.path(), name_, options_, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (size_t b = 0; b < sizes.size(); ++b) {
      ASSERT_NO_FATAL_FAILURE(AppendModelBatch(*store, "early", b, sizes[b]));
    }
    store.reset();
    old_ = TakeSnapshot(store_dir_);
    early_count_ = model_.size();

    // One more batch of several events, closed.
    s = Store::Open(dir_.path(), name_, options_, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NO_FATAL_FAILURE(AppendModelBatch(*store, "last", sizes.size(), 6));
    store.reset();
    new_ = TakeSnapshot(store_dir_);

    seg_ = OnlySegment(new_);
    ASSERT_NE(seg_, "") << "expected exactly one segment file";
    ASSERT_EQ(OnlySegment(old_), seg_);
    const std::string& o = old_.at(seg_);
    const std::string& n = new_.at(seg_);
    ASSERT_EQ(o.size(), n.size());
    // The last batch starts where the old content ended (and where the two
    // files first differ beyond the segment header), and ends at the new
    // content's end.
    uint64_t first_diff = kSegmentHeaderBytes;
    while (first_diff < n.size() && o[first_diff] == n[first_diff]) ++first_diff;
    ASSERT_LT(first_diff, n.size()) << "the last append changed nothing in the segment";
    start_ = std::max(ContentEnd(o), first_diff & ~uint64_t{7});
    for (uint64_t i = start_; i < o.size(); ++i) {
      ASSERT_EQ(o[i], 0) << "old segment has content at " << i << " beyond " << start_;
    }
    // The batch header (magic, count, first position, length, checksum)
    // gives the batch's exact extent.
    ASSERT_LE(start_ + kBatchHeaderBytes, n.size());
    ASSERT_EQ(Load<uint32_t>(n, start_), kBatchMagic) << "no batch header at " << start_;
    ASSERT_EQ(Load<uint32_t>(n, start_ + 4), 6u) << "batch count";
    ASSERT_EQ(Load<uint64_t>(n, start_ + 8), early_count_ + 1) << "batch first position";
    end_ = start_ + Load<uint64_t>(n, start_ + 16);
    ASSERT_GT(end_, start_ + kBatchHeaderBytes);
    ASSERT_LE(end_, n.size());
    raw_end_ = end_;
    while (raw_end_ > start_ && n[raw_end_ - 1] == 0) --raw_end_;
    ASSERT_EQ(ContentEnd(n), (raw_end_ + 7) & ~uint64_t{7});
    std::fprintf(stderr,
                 "[ info     ] last batch at bytes [%" PRIu64 ", %" PRIu64
                 ") of %s, last non-zero "
                 "byte at %" PRIu64 "\n",
                 start_, end_, seg_.c_str(), raw_end_ - 1);
  }

  static ModelEvent MakeEvent(const std::string& kind, size_t batch, int i) {
    ModelEvent m;
    m.type = i % 2 == 0 ? "Even" : "Odd";
    m.tags = {"batch:" + kind + std::to_string(batch), "index:" + std::to_string(i)};
    std::sort(m.tags.begin(), m.tags.end());
    m.data = kind + "-" + std::to_string(batch) + "-" + std::to_string(i) + "-" +
             std::string(10 + 7 * static_cast<size_t>(i), 'a' + static_cast<char>(i)) + "!";
    return m;
  }

  // Opens the restored store and checks it holds exactly `expect` events of
  // the model; then appends one and reads it back, and checks a reopen.
  // Returns "" or the first problem.
  std::string CheckRecovered(size_t expect) {
    std::vector<ModelEvent> model(model_.begin(), model_.begin() + static_cast<long>(expect));
    for (int round = 0; round < 2; ++round) {
      const std::string when = round == 0 ? "after the cut: " : "after a further reopen: ";
      std::unique_ptr<Store> store;
      Status s = Store::Open(dir_.path(), name_, options_, &store);
      if (!s.ok()) return when + "Open: " + s.ToString();
      if (store->Head() != model.size()) {
        return when + "Head() " + std::to_string(store->Head()) + ", expected " +
               std::to_string(model.size());
      }
      std::string diff = CompareWithModel(*store, model);
      if (!diff.empty()) return when + diff;
      s = store->Verify();
      if (!s.ok()) return when + "Verify: " + s.ToString();
      if (round == 1) break;
      ModelEvent m;
      m.type = "AfterRecovery";
      m.tags = {"after:recovery"};
      m.data = "appended after the cut";
      Event e = ToEvent(m);
      uint64_t pos = 0;
      s = store->Append(std::span<const Event>(&e, 1), std::nullopt, &pos);
      if (!s.ok()) return when + "Append: " + s.ToString();
      if (pos != model.size() + 1) {
        return when + "Append got position " + std::to_string(pos) + ", expected " +
               std::to_string(model.size() + 1);
      }
      model.push_back(m);
      diff = CompareWithModel(*store, model);
      if (!diff.empty()) return when + "after the append: " + diff;
      std::vector<EventView> got;
      s = store->Read(Query::ForTags({"after:recovery"}), ReadOptions{}, &got);
      if (!s.ok()) return when + "Read(tag) of the new event: " + s.ToString();
      if (got.size() != 1 || got[0].position() != pos) {
        return when + "Read(tag) of the new event returned " + std::to_string(got.size()) +
               " events";
      }
    }
    return "";
  }

  // The old store (ledger, indexes) with the new segment cut at t.
  void RestoreCut(uint64_t t, bool truncate, const Snapshot& base) {
    Snapshot snap = base;
    std::string seg = new_.at(seg_);
    if (truncate) {
      seg.resize(t);
    } else {
      std::fill(seg.begin() + static_cast<long>(t), seg.begin() + static_cast<long>(end_), '\0');
    }
    snap[seg_] = std::move(seg);
    RestoreSnapshot(store_dir_, snap);
  }

  TempDir dir_;
  const std::string name_ = "torn";
  fs::path store_dir_;
  Options options_;
  std::vector<ModelEvent> model_;
  size_t early_count_ = 0;
  Snapshot old_, new_;
  std::string seg_;
  uint64_t start_ = 0;    // first byte of the last batch
  uint64_t end_ = 0;      // one past its last byte (from its header's length)
  uint64_t raw_end_ = 0;  // one past its last non-zero byte
};

TEST_F(CrashTornTail, ZeroedAtEveryByte) {
  // Zeroing from t >= raw_end_ changes nothing: the batch stays whole.
  const uint64_t step = std::max<uint64_t>(1, (end_ - start_) / 1500);
  std::vector<uint64_t> cuts;
  for (uint64_t t = start_; t < raw_end_; t += step) cuts.push_back(t);
  cuts.push_back(raw_end_ - 1);
  cuts.push_back(raw_end_);
  cuts.push_back(end_);
  int failures = 0;
  for (uint64_t t : cuts) {
    RestoreCut(t, /*truncate=*/false, old_);
    const bool whole = t >= raw_end_;
    std::string problem = CheckRecovered(whole ? model_.size() : early_count_);
    if (!problem.empty()) {
      ADD_FAILURE() << "segment bytes [" << t << ", " << end_ << ") zeroed (batch at [" << start_
                    << ", " << end_ << "), " << (whole ? "whole" : "torn") << "): " << problem;
      if (++failures >= 8) break;
    }
  }
  std::fprintf(stderr, "[ info     ] %zu cut points checked\n", cuts.size());
}

TEST_F(CrashTornTail, TruncatedFile) {
  // Cuts inside the batch's non-zero bytes (torn), and at its very end
  // (whole: the file ends with the batch).
  std::vector<uint64_t> cuts = {start_,       start_ + 1,   start_ + 4,  start_ + 8,
                                start_ + 31,  start_ + 32,  start_ + 33, (start_ + end_) / 2,
                                raw_end_ - 8, raw_end_ - 1, end_};
  for (uint64_t t : cuts) {
    RestoreCut(t, /*truncate=*/true, old_);
    const bool whole = t == end_;
    std::string problem = CheckRecovered(whole ? model_.size() : early_count_);
    EXPECT_EQ(problem, "") << "segment file truncated to " << t << " bytes (batch at [" << start_
                           << ", " << end_ << "))";
  }
}

// The writer died after writing the whole batch and updating the index files
// but before the ledger: the batch is adopted and the index agrees.
TEST_F(CrashTornTail, WholeBatchWithNewerIndex) {
  Snapshot base = old_;
  for (const auto& [rel, bytes] : new_) {
    if (rel.rfind("index/", 0) == 0) base[rel] = bytes;
  }
  for (auto it = base.begin(); it != base.end();) {  // index files the new store lacks
    if (it->first.rfind("index/", 0) == 0 && !new_.count(it->first)) {
      it = base.erase(it);
    } else {
      ++it;
    }
  }
  RestoreCut(end_, /*truncate=*/false, base);
  EXPECT_EQ(CheckRecovered(model_.size()), "");
}

}  // namespace
}  // namespace opossum
