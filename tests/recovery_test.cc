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
    b.push_back(Event{.type = "Row", .tags = {Tag("n", std::to_string(n)), "all:1"},
                      .data = std::string(2000, 'r')});
  }
  return b;
}

uint64_t CountSegmentFiles(const fs::path& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".seg";
  return n;
}

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

}  // namespace
}  // namespace opossum
