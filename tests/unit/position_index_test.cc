// Unit tests of index::PositionIndex (engine/src/index/position_index.h):
// a new file gets its header and initial size, entry p-1 lies at
// 64 + 8(p-1) and keeps what was set across a reopen, Reserve grows the
// file without losing entries, a reader sees a writer's growth after
// RefreshSize, and a damaged or missing header is reported as corruption
// naming the file (the store then rebuilds it).
#include "index/position_index.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"

namespace opossum::index {
namespace {

namespace fs = std::filesystem;
using opossum::testing::ReadFileBytes;
using opossum::testing::TempDir;
using opossum::testing::TestSeed;
using opossum::testing::WriteFileBytes;
using ::testing::HasSubstr;

uint64_t U64At(const std::string& bytes, uint64_t offset) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + offset, 8);
  return v;
}

void PWriteAt(const fs::path& p, uint64_t offset, const void* data, size_t n) {
  int fd = ::open(p.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::pwrite(fd, data, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
}

class PositionIndexTest : public ::testing::Test {
 protected:
  fs::path file() const { return tmp_.path() / "positions"; }
  TempDir tmp_;
};

TEST_F(PositionIndexTest, ANewFileHasItsHeaderAndInitialSize) {
  PositionIndex idx;
  Status s = idx.Open(file(), /*writable=*/true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(idx.path(), file());
  EXPECT_EQ(fs::file_size(file()), kPositionsInitialSize);
  const uint64_t capacity = (kPositionsInitialSize - kPositionsHeaderSize) / 8;
  EXPECT_EQ(capacity, 8184u);
  EXPECT_TRUE(idx.Covers(capacity));
  EXPECT_FALSE(idx.Covers(capacity + 1));
  ASSERT_TRUE(idx.Sync().ok());
  EXPECT_EQ(U64At(ReadFileBytes(file()), 0), kPositionsMagic);
}

TEST_F(PositionIndexTest, EntriesLieAtTheirOffsetsAndSurviveAReopen) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> values(2000);
  for (auto& v : values) v = rng();
  {
    PositionIndex idx;
    ASSERT_TRUE(idx.Open(file(), true).ok());
    for (uint64_t p = 1; p <= values.size(); ++p) idx.Set(p, values[p - 1]);
    for (uint64_t p = 1; p <= values.size(); ++p) ASSERT_EQ(idx.Get(p), values[p - 1]) << p;
    ASSERT_TRUE(idx.Sync().ok());
  }
  const std::string bytes = ReadFileBytes(file());
  for (uint64_t p = 1; p <= values.size(); ++p) {
    ASSERT_EQ(U64At(bytes, kPositionsHeaderSize + (p - 1) * 8), values[p - 1]) << p;
  }
  PositionIndex reader;
  Status s = reader.Open(file(), /*writable=*/false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (uint64_t p = 1; p <= values.size(); ++p) ASSERT_EQ(reader.Get(p), values[p - 1]) << p;
}

TEST_F(PositionIndexTest, ReserveGrowsTheFileAndKeepsEntries) {
  PositionIndex idx;
  ASSERT_TRUE(idx.Open(file(), true).ok());
  for (uint64_t p = 1; p <= 100; ++p) idx.Set(p, p * 1000 + 7);
  const uint64_t last = 300000;
  EXPECT_FALSE(idx.Covers(last));
  Status s = idx.Reserve(last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(idx.Covers(last));
  EXPECT_GE(fs::file_size(file()), kPositionsHeaderSize + last * 8);
  idx.Set(last, 42);
  EXPECT_EQ(idx.Get(last), 42u);
  for (uint64_t p = 1; p <= 100; ++p) ASSERT_EQ(idx.Get(p), p * 1000 + 7) << p;
  // Reserving less than is there changes nothing.
  const uint64_t size = fs::file_size(file());
  ASSERT_TRUE(idx.Reserve(10).ok());
  EXPECT_EQ(fs::file_size(file()), size);
}

TEST_F(PositionIndexTest, AReaderSeesTheWritersGrowthAfterRefreshSize) {
  PositionIndex writer;
  ASSERT_TRUE(writer.Open(file(), true).ok());
  PositionIndex reader;
  ASSERT_TRUE(reader.Open(file(), false).ok());
  const uint64_t p = 50000;
  ASSERT_FALSE(reader.Covers(p));
  ASSERT_TRUE(writer.Reserve(p).ok());
  writer.Set(p, 0xABCDEF);
  writer.Set(1, 99);
  // The first entry is visible at once (the same pages), the grown part
  // only once the reader has looked at the file's size again.
  EXPECT_EQ(reader.Get(1), 99u);
  EXPECT_FALSE(reader.Covers(p));
  ASSERT_TRUE(reader.RefreshSize().ok());
  ASSERT_TRUE(reader.Covers(p));
  EXPECT_EQ(reader.Get(p), 0xABCDEFu);
}

TEST_F(PositionIndexTest, ResetWritesTheHeaderBack) {
  {
    PositionIndex idx;
    ASSERT_TRUE(idx.Open(file(), true).ok());
    idx.Set(1, 5);
    const uint64_t zero = 0;
    PWriteAt(file(), 0, &zero, 8);  // the header damaged under the writer
    ASSERT_TRUE(idx.Reset().ok());
    ASSERT_TRUE(idx.Sync().ok());
  }
  EXPECT_EQ(U64At(ReadFileBytes(file()), 0), kPositionsMagic);
  PositionIndex reader;
  Status s = reader.Open(file(), false);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PositionIndexTest, ABadHeaderIsCorruptionNamingTheFile) {
  {
    PositionIndex idx;
    ASSERT_TRUE(idx.Open(file(), true).ok());
  }
  const uint64_t wrong = kPositionsMagic ^ 1;
  PWriteAt(file(), 0, &wrong, 8);
  for (bool writable : {false, true}) {
    PositionIndex idx;
    Status s = idx.Open(file(), writable);
    ASSERT_TRUE(s.IsCorruption()) << writable << " " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(file().string()));
    EXPECT_THAT(s.message(), HasSubstr("bad position index header at offset 0"));
  }
  // A zeroed header (a file created and never written) too.
  const uint64_t zero = 0;
  PWriteAt(file(), 0, &zero, 8);
  PositionIndex idx;
  Status s = idx.Open(file(), true);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("bad position index header"));
}

TEST_F(PositionIndexTest, AFileTooShortForItsHeaderIsCorruption) {
  ASSERT_TRUE(WriteFileBytes(file(), std::string(10, '\x01')));
  PositionIndex idx;
  Status s = idx.Open(file(), /*writable=*/false);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(file().string()));
  EXPECT_THAT(s.message(), HasSubstr("too short"));
}

TEST_F(PositionIndexTest, AMissingFileIsNotCreatedForAReader) {
  PositionIndex idx;
  Status s = idx.Open(file(), /*writable=*/false);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(file()));
}

}  // namespace
}  // namespace opossum::index
