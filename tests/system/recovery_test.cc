// Recovery cases that need a hand-made state of the files: a segment a
// writer created but died before committing, and a machine restart seen
// while readers have the store open.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "log/ledger.h"
#include "log/segments.h"
#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::TempDir;

std::vector<Event> Batch(int n) {
  std::vector<Event> b;
  for (int i = 0; i < 10; ++i) {
    b.push_back(Event{.type = "Row",
                      .tags = {Tag("n", std::to_string(n)), "all:1"},
                      .data = std::string(2000, 'r')});
  }
  return b;
}

uint64_t CountSegmentFiles(const fs::path& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".seg";
  return n;
}

// The sizes in the segment headers, in position order.
std::vector<uint64_t> SegmentSizes(const fs::path& store_dir) {
  log::SegmentSet set;
  std::vector<uint64_t> sizes;
  if (!set.Open(store_dir / "segments").ok()) return sizes;
  for (uint64_t i = 0; i < set.count(); ++i) sizes.push_back(set.Get(i)->size);
  return sizes;
}

// Every event 1..head is there once, in order, and Verify passes; "" when so.
std::string CheckAll(const Store& store, uint64_t head) {
  if (store.Head() != head) return "head " + std::to_string(store.Head());
  std::vector<EventView> all;
  Status s = store.Read(Query::ForTags({"all:1"}), {}, &all);
  if (!s.ok()) return "read: " + s.ToString();
  if (all.size() != head) return std::to_string(all.size()) + " events read";
  for (uint64_t i = 0; i < head; ++i) {
    if (all[i].position() != i + 1) return "position " + std::to_string(i + 1) + " missing";
    if (!all[i].HasTag(Tag("n", std::to_string(i / 10)))) {
      return "position " + std::to_string(i + 1) + ": wrong event";
    }
  }
  s = store.Verify();
  return s.ok() ? "" : "verify: " + s.ToString();
}

// Appends Batch(*n), Batch(*n + 1), ... until the store has `segments`
// segment files.
std::string AppendUntilSegments(Store& store, const fs::path& store_dir, int* n,
                                uint64_t segments) {
  while (CountSegmentFiles(store_dir / "segments") < segments) {
    Status s = store.Append(Batch(*n));
    if (!s.ok()) return "batch " + std::to_string(*n) + ": " + s.ToString();
    ++*n;
  }
  return "";
}

constexpr uint64_t kMiB = uint64_t{1} << 20;

// A writer created segment N+1 (named by the head it saw + 1) and died
// before it counted the segment in the ledger or wrote to it. Live writers
// append on in segment N; when they need a new segment, the stale file must
// not be taken for theirs or left to confuse a later open.
TEST(Recovery, SegmentLeftByAWriterThatDiedBeforeUsingIt) {
  TempDir dir;
  Options options;
  options.segment_size = 1 << 20;
  const fs::path store_dir = dir.path() / "s";
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
  int n = 0;
  for (; n < 5; ++n) ASSERT_TRUE(store->Append(Batch(n)).ok());
  // The dead writer's file: a whole header for ordinal 1, named head + 1.
  {
    log::SegmentSet other;
    ASSERT_TRUE(other.Open(store_dir / "segments").ok());
    ASSERT_EQ(other.count(), 1u);
    ASSERT_TRUE(other.Create(1, store->Head() + 1, options.segment_size).ok());
  }
  ASSERT_EQ(CountSegmentFiles(store_dir / "segments"), 2u);
  // Append well past the first segment's end.
  for (; n < 200; ++n) {
    Status s = store->Append(Batch(n));
    ASSERT_TRUE(s.ok()) << "batch " << n << ": " << s.ToString();
  }
  const uint64_t head = store->Head();
  EXPECT_EQ(head, 2000u);
  EXPECT_TRUE(store->Verify().ok()) << store->Verify().ToString();
  store.reset();
  Status s = Store::Open(dir.path(), "s", options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(store->Head(), head);
  EXPECT_TRUE(store->Verify().ok()) << store->Verify().ToString();
  std::vector<EventView> all;
  ASSERT_TRUE(store->Read(Query::ForTags({"all:1"}), {}, &all).ok());
  EXPECT_EQ(all.size(), head);
}

// After a machine restart (another boot id, not closed cleanly) a writer
// that is not alone (a reader has the store open) must not append on state
// that only a recovery can establish; once alone, it recovers.
TEST(Recovery, RestartSeenWhileAReaderHasTheStoreOpen) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.path(), "s", Options{}, &store).ok());
    for (int n = 0; n < 3; ++n) ASSERT_TRUE(store->Append(Batch(n)).ok());
  }
  // Make it look as if the machine restarted while the store was open.
  {
    log::Ledger ledger;
    ASSERT_TRUE(ledger.Open(store_dir / "ledger", true).ok());
    ledger.SetClean(false);
    ledger.SetBootId("a-boot-before-this-one");
    ASSERT_TRUE(ledger.Sync().ok());
  }
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(20);
    Options ro;
    ro.read_only = true;
    std::unique_ptr<Store> reader;
    char ok = Store::Open(dir.path(), "s", ro, &reader).ok() ? 'y' : 'n';
    if (::write(from_child[1], &ok, 1) != 1) ::_exit(3);
    char c;
    if (::read(to_child[0], &c, 1) != 1) ::_exit(4);  // hold it open until told
    reader.reset();
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(from_child[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  std::unique_ptr<Store> writer;
  Status s = Store::Open(dir.path(), "s", Options{}, &writer);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  writer.reset();
  char go = 'g';
  ASSERT_EQ(::write(to_child[1], &go, 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Alone now: the writer recovers (rebuilding from the checkpoint) and works.
  s = Store::Open(dir.path(), "s", Options{}, &writer);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(writer->Head(), 30u);
  EXPECT_TRUE(writer->Verify().ok()) << writer->Verify().ToString();
  uint64_t last = 0;
  ASSERT_TRUE(writer->Append(Batch(9), std::nullopt, &last).ok());
  EXPECT_EQ(last, 40u);
  for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
}

// After a machine restart recovery walks every segment from the first,
// whatever their sizes (1, 2, 4, 4 MiB here), rebuilds the indexes and
// appends on at segment_size.
TEST(Recovery, RestartWalksSegmentsOfDifferentSizes) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  Options options;
  options.segment_size = 4 * kMiB;
  int n = 0;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
    ASSERT_EQ(AppendUntilSegments(*store, store_dir, &n, 4), "");
  }
  ASSERT_EQ(SegmentSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB, 4 * kMiB}));
  {
    log::Ledger ledger;
    ASSERT_TRUE(ledger.Open(store_dir / "ledger", true).ok());
    ledger.SetClean(false);
    ledger.SetBootId("a-boot-before-this-one");
    ASSERT_TRUE(ledger.Sync().ok());
  }
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "s", options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
  ASSERT_EQ(AppendUntilSegments(*store, store_dir, &n, 5), "");
  EXPECT_EQ(SegmentSizes(store_dir),
            (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB, 4 * kMiB, 4 * kMiB}));
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
}

// A writer killed (no close) just after its appends moved the log into a
// new, larger segment: the next open adopts everything it wrote, in every
// segment, and appends on with the doubling.
TEST(Recovery, WriterKilledAfterASegmentChange) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  Options options;
  options.segment_size = 8 * kMiB;
  options.durability = Durability::kBuffered;
  int from_child[2];
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(60);
    std::unique_ptr<Store> store;
    int k = 0;
    if (!Store::Open(dir.path(), "s", options, &store).ok()) ::_exit(2);
    if (!AppendUntilSegments(*store, store_dir, &k, 3).empty()) ::_exit(3);
    // One more batch into the 4 MiB segment, then die without closing.
    if (!store->Append(Batch(k)).ok()) ::_exit(4);
    ++k;
    if (::write(from_child[1], &k, sizeof(k)) != sizeof(k)) ::_exit(5);
    ::_exit(0);
  }
  int n = 0;
  ASSERT_EQ(::read(from_child[0], &n, sizeof(n)), static_cast<ssize_t>(sizeof(n)));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(SegmentSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB}));
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "s", options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
  ASSERT_EQ(AppendUntilSegments(*store, store_dir, &n, 4), "");
  EXPECT_EQ(SegmentSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB}));
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
  store.reset();
  ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
  for (int fd : from_child) ::close(fd);
}

// The file a dead writer left for the next segment had the full
// segment_size (8 MiB); the live writer removes it and creates the next
// segment at the size the doubling gives (2 MiB after the 1 MiB first).
TEST(Recovery, LeftoverSegmentIsReplacedAtTheDoubledSize) {
  TempDir dir;
  Options options;
  options.segment_size = 8 * kMiB;
  const fs::path store_dir = dir.path() / "s";
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
  int n = 0;
  for (; n < 5; ++n) ASSERT_TRUE(store->Append(Batch(n)).ok());
  {
    log::SegmentSet other;
    ASSERT_TRUE(other.Open(store_dir / "segments").ok());
    ASSERT_TRUE(other.Create(1, store->Head() + 1, 8 * kMiB).ok());
  }
  ASSERT_EQ(SegmentSizes(store_dir), (std::vector<uint64_t>{kMiB, 8 * kMiB}));
  // Past the first segment: the leftover goes, a 2 MiB segment comes.
  while (store->Head() < 10 * (kMiB / 20000 + 5)) {
    ASSERT_TRUE(store->Append(Batch(n)).ok()) << n;
    ++n;
  }
  EXPECT_EQ(SegmentSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB}));
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
  store.reset();
  ASSERT_TRUE(Store::Open(dir.path(), "s", options, &store).ok());
  EXPECT_EQ(CheckAll(*store, 10 * static_cast<uint64_t>(n)), "");
}

}  // namespace
}  // namespace opossum
