// A full disk during appends: the append that hits it fails with the
// operating system's message, nothing of it becomes visible, acknowledged
// events stay readable, and the store works again once space is back.
// Runs on a small tmpfs mounted for the test (needs root; skipped otherwise).
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <string>
#include <vector>

#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::TempDir;

class SmallDisk {
 public:
  explicit SmallDisk(const fs::path& at, const char* size) : at_(at) {
    fs::create_directories(at);
    std::string opts = std::string("size=") + size;
    mounted_ = ::mount("tmpfs", at.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path at_;
  bool mounted_ = false;
};

std::vector<Event> Batch(uint64_t n, size_t data_bytes) {
  std::vector<Event> batch;
  for (int i = 0; i < 8; ++i) {
    batch.push_back(Event{.type = "Filled",
                          .tags = {Tag("batch", std::to_string(n)), "all:1"},
                          .data = std::string(data_bytes, static_cast<char>('a' + n % 26))});
  }
  return batch;
}

void ExpectEventsUpTo(Store& store, uint64_t head) {
  std::vector<EventView> all;
  ASSERT_TRUE(store.Read(Query::All(), {}, &all).ok());
  ASSERT_EQ(all.size(), head);
  for (uint64_t i = 0; i < head; ++i) {
    ASSERT_EQ(all[i].position(), i + 1);
    ASSERT_EQ(all[i].type(), "Filled");
  }
  std::vector<EventView> tagged;
  ASSERT_TRUE(store.Read(Query::ForTags({"all:1"}), {}, &tagged).ok());
  ASSERT_EQ(tagged.size(), head);
}

TEST(DiskFull, AppendFailsCleanlyAndTheStoreWorksAgainWithSpace) {
  TempDir dir;
  SmallDisk disk(dir.path() / "fs", "12m");
  if (!disk.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root";
  const fs::path root = dir.path() / "fs";
  // Space to give back later.
  {
    std::string filler(3 << 20, 'f');
    ASSERT_TRUE(::opossum::testing::WriteFileBytes(root / "filler", filler));
  }
  Options options;
  options.segment_size = 1 << 20;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(root, "s", options, &store).ok());

  uint64_t acknowledged = 0;
  Status failure;
  for (uint64_t n = 0; n < 100000; ++n) {
    uint64_t last = 0;
    Status s = store->Append(Batch(n, 4000), std::nullopt, &last);
    if (!s.ok()) {
      failure = s;
      break;
    }
    ASSERT_EQ(last, acknowledged + 8);
    acknowledged = last;
  }
  ASSERT_FALSE(failure.ok()) << "the disk never filled up";
  EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
  EXPECT_NE(failure.message().find("No space left on device"), std::string::npos)
      << failure.ToString();
  EXPECT_GT(acknowledged, 0u);

  // Nothing of the failed append is visible; a second try fails the same way.
  EXPECT_EQ(store->Head(), acknowledged);
  ExpectEventsUpTo(*store, acknowledged);
  Status again = store->Append(Batch(999999, 4000));
  EXPECT_TRUE(again.IsIOError()) << again.ToString();
  EXPECT_EQ(store->Head(), acknowledged);
  EXPECT_TRUE(store->Verify().ok()) << store->Verify().ToString();

  // Space comes back: appends work again, at the next position.
  fs::remove(root / "filler");
  uint64_t last = 0;
  Status s = store->Append(Batch(7, 4000), std::nullopt, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, acknowledged + 8);
  ExpectEventsUpTo(*store, acknowledged + 8);

  // And after a reopen everything is still there and whole.
  store.reset();
  ASSERT_TRUE(Store::Open(root, "s", options, &store).ok());
  EXPECT_EQ(store->Head(), acknowledged + 8);
  ExpectEventsUpTo(*store, acknowledged + 8);
  EXPECT_TRUE(store->Verify().ok()) << store->Verify().ToString();
}

}  // namespace
}  // namespace opossum
