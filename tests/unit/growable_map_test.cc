// Unit tests of io::GrowableMap (engine/src/io/growable_map.h): a file
// created at its initial size and mapped whole; EnsureSize grows it on disk
// (by half again at least, to a whole page) without moving the map, keeping
// every byte; another process's growth appears after RefreshSize, and the
// size seen never goes back; what is written through the map reaches the
// file; a full disk fails the growth and leaves the size as it was.
#include "io/growable_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "fault_env.h"
#include "io/env.h"
#include "test_util.h"

namespace opossum::io {
namespace {

using opossum::testing::FaultEnv;
using opossum::testing::ReadFileBytes;
using opossum::testing::TempDir;
using opossum::testing::WriteFileBytes;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class GrowableMapTest : public ::testing::Test {
 protected:
  fs::path file() const { return tmp_.path() / "map"; }
  TempDir tmp_;
};

TEST_F(GrowableMapTest, CreatesTheFileAtItsInitialSize) {
  GrowableMap m;
  Status s = m.Open(file(), /*writable=*/true, /*create=*/true, 4096);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(m.path(), file());
  EXPECT_EQ(m.size(), 4096u);
  EXPECT_EQ(fs::file_size(file()), 4096u);
  ASSERT_NE(m.data(), nullptr);
  for (uint64_t i = 0; i < 4096; ++i) ASSERT_EQ(m.data()[i], 0) << i;
}

TEST_F(GrowableMapTest, AMissingFileIsAnErrorWithoutCreate) {
  for (bool writable : {false, true}) {
    GrowableMap m;
    Status s = m.Open(file(), writable, /*create=*/false, 4096);
    EXPECT_FALSE(s.ok()) << writable;
    EXPECT_THAT(s.message(), HasSubstr(file().string()));
    EXPECT_FALSE(fs::exists(file()));
  }
}

TEST_F(GrowableMapTest, AnExistingFileKeepsItsSizeAndBytes) {
  std::string bytes(10000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(WriteFileBytes(file(), bytes));
  GrowableMap m;
  ASSERT_TRUE(m.Open(file(), true, true, 4096).ok());
  EXPECT_EQ(m.size(), bytes.size());
  EXPECT_EQ(std::memcmp(m.data(), bytes.data(), bytes.size()), 0);
  // A smaller file is extended to the initial size, with its bytes kept.
  ASSERT_TRUE(WriteFileBytes(file(), "abc"));
  GrowableMap w;
  ASSERT_TRUE(w.Open(file(), true, false, 8192).ok());
  EXPECT_EQ(w.size(), 8192u);
  EXPECT_EQ(fs::file_size(file()), 8192u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(w.data()), 4), std::string("abc\0", 4));
  // A reader maps what is there and grows nothing.
  ASSERT_TRUE(WriteFileBytes(file(), "xyz"));
  GrowableMap r;
  ASSERT_TRUE(r.Open(file(), false, false, 8192).ok());
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(fs::file_size(file()), 3u);
}

TEST_F(GrowableMapTest, EnsureSizeGrowsInPlaceKeepingTheBytes) {
  GrowableMap m;
  ASSERT_TRUE(m.Open(file(), true, true, 4096).ok());
  uint8_t* const before = m.data();
  for (uint64_t i = 0; i < 4096; ++i) m.data()[i] = static_cast<uint8_t>(i % 251);

  ASSERT_TRUE(m.EnsureSize(100).ok());  // already there: nothing changes
  EXPECT_EQ(m.size(), 4096u);
  EXPECT_EQ(fs::file_size(file()), 4096u);

  ASSERT_TRUE(m.EnsureSize(5000).ok());
  // At least 1 MiB, a whole number of pages, and the file as long.
  EXPECT_GE(m.size(), kMiB);
  EXPECT_EQ(m.size() % 4096, 0u);
  EXPECT_EQ(fs::file_size(file()), m.size());
  // Within the reservation: the map did not move, a pointer taken before
  // still reads the same bytes.
  EXPECT_EQ(m.data(), before);
  for (uint64_t i = 0; i < 4096; ++i) ASSERT_EQ(before[i], i % 251) << i;

  // Growth by at least half again, so that it is rare.
  const uint64_t old_size = m.size();
  ASSERT_TRUE(m.EnsureSize(old_size + 1).ok());
  EXPECT_GE(m.size(), old_size + old_size / 2);
  EXPECT_EQ(fs::file_size(file()), m.size());
  // A request beyond that is met exactly (rounded to a page).
  ASSERT_TRUE(m.EnsureSize(20 * kMiB + 1).ok());
  EXPECT_EQ(m.size(), 20 * kMiB + 4096);
  m.data()[20 * kMiB] = 0x5A;
  EXPECT_EQ(m.data(), before);
}

TEST_F(GrowableMapTest, WritesThroughTheMapReachTheFile) {
  {
    GrowableMap m;
    ASSERT_TRUE(m.Open(file(), true, true, 4096).ok());
    ASSERT_TRUE(m.EnsureSize(3 * kMiB).ok());
    std::memcpy(m.data() + 17, "hello", 5);
    std::memcpy(m.data() + 3 * kMiB - 5, "world", 5);
    Status s = m.Sync();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const std::string bytes = ReadFileBytes(file());
  ASSERT_GE(bytes.size(), 3 * kMiB);
  EXPECT_EQ(bytes.substr(17, 5), "hello");
  EXPECT_EQ(bytes.substr(3 * kMiB - 5, 5), "world");
}

TEST_F(GrowableMapTest, RefreshSizeShowsAnotherWritersGrowth) {
  GrowableMap writer;
  ASSERT_TRUE(writer.Open(file(), true, true, 4096).ok());
  GrowableMap reader;
  ASSERT_TRUE(reader.Open(file(), false, false, 0).ok());
  EXPECT_EQ(reader.size(), 4096u);
  ASSERT_TRUE(writer.EnsureSize(2 * kMiB).ok());
  writer.data()[2 * kMiB - 1] = 0xC3;
  writer.data()[0] = 0x11;
  EXPECT_EQ(reader.size(), 4096u);    // as it last saw it
  EXPECT_EQ(reader.data()[0], 0x11);  // one file, shared pages
  ASSERT_TRUE(reader.RefreshSize().ok());
  EXPECT_EQ(reader.size(), writer.size());
  EXPECT_EQ(reader.data()[2 * kMiB - 1], 0xC3);
}

TEST_F(GrowableMapTest, TheSizeSeenNeverGoesBack) {
  GrowableMap m;
  ASSERT_TRUE(m.Open(file(), true, true, 4096).ok());
  ASSERT_TRUE(m.EnsureSize(2 * kMiB).ok());
  const uint64_t grown = m.size();
  // A size read before a larger one was stored (here: a file cut behind the
  // map's back) must not take the larger one back.
  fs::resize_file(file(), 4096);
  ASSERT_TRUE(m.RefreshSize().ok());
  EXPECT_EQ(m.size(), grown);
}

TEST_F(GrowableMapTest, SizeOnlyGrowsWhileAnotherThreadRefreshes) {
  GrowableMap m;
  ASSERT_TRUE(m.Open(file(), true, true, 4096).ok());
  std::atomic<bool> done{false};
  std::atomic<bool> went_back{false};
  std::thread refresher([&] {
    uint64_t last = 0;
    while (!done.load()) {
      if (!m.RefreshSize().ok()) break;
      const uint64_t now = m.size();
      if (now < last) went_back = true;
      last = now;
    }
  });
  uint64_t needed = 4096;
  for (int i = 0; i < 40; ++i) {
    needed += 256 * 1024;
    ASSERT_TRUE(m.EnsureSize(needed).ok());
    ASSERT_GE(m.size(), needed);
    m.data()[needed - 1] = static_cast<uint8_t>(i);
  }
  done = true;
  refresher.join();
  EXPECT_FALSE(went_back.load());
  EXPECT_GE(m.size(), needed);
}

TEST_F(GrowableMapTest, AFullDiskFailsTheGrowthAndKeepsTheSize) {
  GrowableMap m;
  ASSERT_TRUE(m.Open(file(), true, true, 4096).ok());
  m.data()[100] = 0x42;
  FaultEnv env;
  ScopedEnv scoped(&env);
  env.FailAt(1, /*repeat=*/true, ENOSPC, FaultEnv::kSpaceCalls);
  Status s = m.EnsureSize(8 * kMiB);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(file().string()));
  EXPECT_GE(env.failures(), 1u);
  EXPECT_EQ(m.size(), 4096u);
  EXPECT_EQ(m.data()[100], 0x42);
  // Space again: the same growth succeeds.
  env.ClearFaults();
  s = m.EnsureSize(8 * kMiB);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(m.size(), 8 * kMiB);
  EXPECT_EQ(m.data()[100], 0x42);
}

}  // namespace
}  // namespace opossum::io
