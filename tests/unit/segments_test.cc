// Unit tests of engine/src/log/segments: segment files named by their first
// position (zero-padded, so name order is number order), created in order,
// found and mapped again by Open and Refresh, a torn last header reported
// (not an error), a damaged earlier header an error naming the file, the
// tail cut by RemoveFrom, and a truncated file re-extended by Repair.
#include "log/segments.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "format/checksum.h"
#include "format/layout.h"
#include "test_util.h"

namespace opossum::log {
namespace {

namespace fs = std::filesystem;
using format::SegmentHeader;
using opossum::testing::TempDir;
using opossum::testing::TestSeed;
using ::testing::HasSubstr;

constexpr uint64_t kSize = 1 << 20;
// Segment i starts at position kFirst[i].
constexpr uint64_t kFirst[] = {1, 101, 250, 9999};

SegmentHeader ReadHeader(const fs::path& p) {
  SegmentHeader h{};
  std::ifstream in(p, std::ios::binary);
  in.read(reinterpret_cast<char*>(&h), sizeof(h));
  return h;
}
void WriteAt(const fs::path& p, uint64_t offset, const void* data, size_t n) {
  int fd = ::open(p.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::pwrite(fd, data, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
}
// Rewrites a header with its checksum recomputed (a header that is
// well-formed but says the wrong thing).
void WriteHeader(const fs::path& p, SegmentHeader h) {
  h.checksum = format::Hash64(&h, 56);
  WriteAt(p, 0, &h, sizeof(h));
}

class SegmentsTest : public ::testing::Test {
 protected:
  fs::path dir() const { return tmp_.path(); }
  fs::path SegPath(int i) const { return dir() / SegmentFileName(kFirst[i]); }
  // Creates segments 0..n-1 through a set that is then dropped.
  void CreateSegments(int n, uint64_t size = kSize) {
    SegmentSet set;
    ASSERT_TRUE(set.Open(dir()).ok());
    for (int i = 0; i < n; ++i) {
      Status s = set.Create(static_cast<uint64_t>(i), kFirst[i], size);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  TempDir tmp_;
};

TEST(SegmentsFileNameTest, PaddingAndOrder) {
  EXPECT_EQ(SegmentFileName(0), "00000000000000000000.seg");
  EXPECT_EQ(SegmentFileName(1), "00000000000000000001.seg");
  EXPECT_EQ(SegmentFileName(1234567890), "00000000001234567890.seg");
  EXPECT_EQ(SegmentFileName(UINT64_MAX), "18446744073709551615.seg");
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    // Numbers of every magnitude.
    uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
    std::string na = SegmentFileName(a), nb = SegmentFileName(b);
    ASSERT_EQ(na.size(), 24u) << a;
    ASSERT_EQ(a < b, na < nb) << "seed " << seed << ": " << a << " vs " << b;
    ASSERT_EQ(a == b, na == nb);
    ASSERT_EQ(std::stoull(na.substr(0, 20)), a);
  }
}

// The sizes of new segments: the first 1 MiB, then twice the previous, up
// to segment_size; never less than a batch needs (header + batch).
TEST(SegmentsSizeTest, FirstThenDoublingUpToTheLimit) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  EXPECT_EQ(FirstSegmentSize(64 * kMiB), kMiB);
  EXPECT_EQ(FirstSegmentSize(kMiB), kMiB);
  EXPECT_EQ(FirstSegmentSize(kMiB / 2), kMiB / 2);  // below the option's range: the limit wins
  std::vector<uint64_t> sizes = {FirstSegmentSize(64 * kMiB)};
  while (sizes.size() < 9) sizes.push_back(NextSegmentSize(sizes.back(), 64 * kMiB, 100));
  EXPECT_EQ(sizes, (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB, 16 * kMiB, 32 * kMiB,
                                          64 * kMiB, 64 * kMiB, 64 * kMiB}));
  // A limit that is not 1 MiB times a power of two is reached, not passed.
  EXPECT_EQ(NextSegmentSize(2 * kMiB, 3 * kMiB, 100), 3 * kMiB);
  EXPECT_EQ(NextSegmentSize(3 * kMiB, 3 * kMiB, 100), 3 * kMiB);
  // A batch larger than the step: exactly its size, 8-aligned.
  EXPECT_EQ(NextSegmentSize(kMiB, 64 * kMiB, 5 * kMiB + 3), format::Align8(64 + 5 * kMiB + 3));
  EXPECT_EQ(NextSegmentSize(kMiB, 64 * kMiB, 2 * kMiB - 64), 2 * kMiB);
  EXPECT_EQ(NextSegmentSize(kMiB, 64 * kMiB, 2 * kMiB - 63), 2 * kMiB + 8);
  // ... and larger than the limit.
  EXPECT_EQ(NextSegmentSize(64 * kMiB, 64 * kMiB, 100 * kMiB), 100 * kMiB + 64);
  // After a segment larger than the limit (such a batch, or a limit lowered
  // since): the limit.
  EXPECT_EQ(NextSegmentSize(100 * kMiB + 64, 64 * kMiB, 100), 64 * kMiB);
  EXPECT_EQ(NextSegmentSize(64 * kMiB, 4 * kMiB, 100), 4 * kMiB);
  // After a segment smaller than the first size (none is made so): the
  // first size.
  EXPECT_EQ(NextSegmentSize(4096, 64 * kMiB, 100), kMiB);
  // The largest limit, 1 TiB, without overflow.
  EXPECT_EQ(NextSegmentSize(uint64_t{1} << 40, uint64_t{1} << 40, 100), uint64_t{1} << 40);
  EXPECT_EQ(NextSegmentSize(uint64_t{1} << 39, uint64_t{1} << 40, 100), uint64_t{1} << 40);
}

TEST_F(SegmentsTest, CreateThenOpenFindsThemInOrder) {
  SegmentSet set;
  ASSERT_TRUE(set.Open(dir()).ok());
  EXPECT_EQ(set.count(), 0u);
  EXPECT_EQ(set.Get(0), nullptr);
  const uint64_t sizes[] = {kSize, 2 * kSize, kSize};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(set.Create(static_cast<uint64_t>(i), kFirst[i], sizes[i]).ok());
    EXPECT_EQ(set.count(), static_cast<uint64_t>(i) + 1);
  }
  EXPECT_EQ(set.bytes_on_disk(), 4 * kSize);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(fs::exists(SegPath(i)));
    EXPECT_EQ(fs::file_size(SegPath(i)), sizes[i]);  // preallocated
    SegmentHeader h = ReadHeader(SegPath(i));
    EXPECT_EQ(h.magic, format::kSegmentMagic);
    EXPECT_EQ(h.version, format::kSegmentVersion);
    EXPECT_EQ(h.first_position, kFirst[i]);
    EXPECT_EQ(h.size, sizes[i]);
    EXPECT_EQ(h.ordinal, static_cast<uint64_t>(i));
    EXPECT_EQ(h.checksum, format::Hash64(&h, 56));
  }
  // Out of order: a gap, or an ordinal that exists.
  for (uint64_t ord : {4, 2, 0}) {
    Status s = set.Create(ord, 5000, kSize);
    EXPECT_TRUE(s.IsCorruption()) << ord << ": " << s.ToString();
  }
  EXPECT_EQ(set.count(), 3u);

  // Files that are not segments are ignored.
  std::ofstream(dir() / "ledger") << "x";
  std::ofstream(dir() / "x.seg") << "x";
  std::ofstream(dir() / "0001.seg") << "x";
  std::ofstream(dir() / "0000000000000000000a.seg") << "x";
  std::ofstream(dir() / "00000000000000000500.seg.tmp") << "x";
  fs::create_directory(dir() / "index");

  SegmentSet again;
  Status s = again.Open(dir());
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(again.count(), 3u);
  EXPECT_TRUE(again.torn_path().empty());
  EXPECT_EQ(again.dir(), dir());
  for (int i = 0; i < 3; ++i) {
    const Segment* seg = again.Get(static_cast<uint64_t>(i));
    ASSERT_NE(seg, nullptr);
    EXPECT_EQ(seg, again.GetIfKnown(static_cast<uint64_t>(i)));
    EXPECT_EQ(seg->ordinal, static_cast<uint64_t>(i));
    EXPECT_EQ(seg->first_position, kFirst[i]);
    EXPECT_EQ(seg->size, sizes[i]);
    EXPECT_EQ(seg->file_size, sizes[i]);
    EXPECT_EQ(seg->mapped(), sizes[i]);
    EXPECT_EQ(seg->path, SegPath(i));
    uint64_t magic;
    std::memcpy(&magic, seg->data(), 8);
    EXPECT_EQ(magic, format::kSegmentMagic);
  }
  EXPECT_EQ(again.Get(3), nullptr);
  EXPECT_EQ(again.GetIfKnown(3), nullptr);
  EXPECT_EQ(again.bytes_on_disk(), 4 * kSize);
}

TEST_F(SegmentsTest, OrderIsByNumberAcrossDigitCounts) {
  // First positions of 1, 2, 3, 4 digits: name order must still be number
  // order (9999 after 250, not before).
  ASSERT_NO_FATAL_FAILURE(CreateSegments(4));
  SegmentSet set;
  ASSERT_TRUE(set.Open(dir()).ok());
  ASSERT_EQ(set.count(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(set.Get(static_cast<uint64_t>(i))->first_position, kFirst[i]);
}

TEST_F(SegmentsTest, BytesWrittenToTheFileAreSeenThroughTheMap) {
  ASSERT_NO_FATAL_FAILURE(CreateSegments(2));
  SegmentSet set;
  ASSERT_TRUE(set.Open(dir()).ok());
  const Segment* seg = set.Get(1);
  ASSERT_NE(seg, nullptr);
  const char msg[] = "written with pwrite";
  ASSERT_NO_FATAL_FAILURE(WriteAt(SegPath(1), 4096, msg, sizeof(msg)));
  EXPECT_EQ(std::memcmp(seg->data() + 4096, msg, sizeof(msg)), 0);
  EXPECT_EQ(seg->data()[kSize - 1], 0);  // preallocated zeros
}

TEST_F(SegmentsTest, OpenOfAMissingFolderFails) {
  SegmentSet set;
  Status s = set.Open(dir() / "nope");
  EXPECT_FALSE(s.ok());
}

// The ways a header can be damaged, applied to segment `i`.
struct Damage {
  const char* name;
  std::function<void(const fs::path&)> apply;
};

// Damage a creation cut short can leave (a header partly or not at all
// written) or that makes the header unreadable; with `resealed`, also
// well-formed headers that disagree with the file's name or place.
std::vector<Damage> HeaderDamage(bool resealed) {
  std::vector<Damage> out = {
      {"only the magic written",
       [](const fs::path& p) {
         uint8_t zeros[56] = {};
         WriteAt(p, 8, zeros, sizeof(zeros));
       }},
      {"magic byte flipped",
       [](const fs::path& p) {
         uint8_t b = 'X';
         WriteAt(p, 0, &b, 1);
       }},
      {"first_position bit flipped",
       [](const fs::path& p) {
         SegmentHeader h = ReadHeader(p);
         h.first_position ^= 1;
         WriteAt(p, 0, &h, sizeof(h));
       }},
      {"checksum bit flipped",
       [](const fs::path& p) {
         SegmentHeader h = ReadHeader(p);
         h.checksum ^= uint64_t{1} << 40;
         WriteAt(p, 0, &h, sizeof(h));
       }},
      {"header zeroed",
       [](const fs::path& p) {
         uint8_t zeros[64] = {};
         WriteAt(p, 0, zeros, sizeof(zeros));
       }},
      {"file of 10 bytes", [](const fs::path& p) { fs::resize_file(p, 10); }},
      {"empty file", [](const fs::path& p) { fs::resize_file(p, 0); }},
  };
  if (!resealed) return out;
  std::vector<Damage> more = {
      {"resealed, wrong first position",
       [](const fs::path& p) {
         SegmentHeader h = ReadHeader(p);
         h.first_position += 1;
         WriteHeader(p, h);
       }},
      {"resealed, wrong ordinal",
       [](const fs::path& p) {
         SegmentHeader h = ReadHeader(p);
         h.ordinal += 7;
         WriteHeader(p, h);
       }},
      {"resealed, size below the header",
       [](const fs::path& p) {
         SegmentHeader h = ReadHeader(p);
         h.size = 16;
         WriteHeader(p, h);
       }},
  };
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

TEST_F(SegmentsTest, TornLastHeaderIsReportedNotAnError) {
  for (const Damage& d : HeaderDamage(/*resealed=*/false)) {
    SCOPED_TRACE(d.name);
    TempDir t;
    {
      SegmentSet set;
      ASSERT_TRUE(set.Open(t.path()).ok());
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(set.Create(i, kFirst[i], kSize).ok());
    }
    const fs::path last = t.path() / SegmentFileName(kFirst[2]);
    ASSERT_NO_FATAL_FAILURE(d.apply(last));
    SegmentSet set;
    Status s = set.Open(t.path());
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(set.count(), 2u);
    EXPECT_EQ(set.torn_path(), last);
    EXPECT_EQ(set.Get(2), nullptr);
    // The creation is redone over the torn file.
    ASSERT_TRUE(set.Create(2, kFirst[2], kSize).ok());
    EXPECT_TRUE(set.torn_path().empty());
    EXPECT_EQ(set.count(), 3u);
    SegmentSet again;
    ASSERT_TRUE(again.Open(t.path()).ok());
    EXPECT_EQ(again.count(), 3u);
    EXPECT_TRUE(again.torn_path().empty());
  }
}

TEST_F(SegmentsTest, TornLastHeaderIsRemovedByRemoveFrom) {
  ASSERT_NO_FATAL_FAILURE(CreateSegments(3));
  fs::resize_file(SegPath(2), 0);
  SegmentSet set;
  ASSERT_TRUE(set.Open(dir()).ok());
  ASSERT_EQ(set.torn_path(), SegPath(2));
  ASSERT_TRUE(set.RemoveFrom(2).ok());
  EXPECT_FALSE(fs::exists(SegPath(2)));
  EXPECT_TRUE(set.torn_path().empty());
  EXPECT_EQ(set.count(), 2u);
}

TEST_F(SegmentsTest, DamagedEarlierHeaderIsCorruptionNamingTheFile) {
  for (int victim : {0, 1}) {
    for (const Damage& d : HeaderDamage(/*resealed=*/true)) {
      SCOPED_TRACE(std::string(d.name) + " in segment " + std::to_string(victim));
      TempDir t;
      {
        SegmentSet set;
        ASSERT_TRUE(set.Open(t.path()).ok());
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(set.Create(i, kFirst[i], kSize).ok());
      }
      const fs::path p = t.path() / SegmentFileName(kFirst[victim]);
      ASSERT_NO_FATAL_FAILURE(d.apply(p));
      SegmentSet set;
      Status s = set.Open(t.path());
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr(p.string()));
      EXPECT_TRUE(set.torn_path().empty());
    }
  }
}

TEST_F(SegmentsTest, OtherVersionIsNotSupported) {
  ASSERT_NO_FATAL_FAILURE(CreateSegments(3));
  SegmentHeader h = ReadHeader(SegPath(1));
  h.version = format::kSegmentVersion + 1;
  ASSERT_NO_FATAL_FAILURE(WriteHeader(SegPath(1), h));
  SegmentSet set;
  Status s = set.Open(dir());
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(SegPath(1).string()));
}

TEST_F(SegmentsTest, MissingMiddleSegmentIsNotATornTail) {
  // Segment 1 deleted (by hand, or lost): segment 2's header is whole and
  // valid but no longer in its place. It is not a creation cut short, and
  // must not be reported as one (a store removes a torn tail's file).
  ASSERT_NO_FATAL_FAILURE(CreateSegments(3));
  fs::remove(SegPath(1));
  SegmentSet set;
  Status s = set.Open(dir());
  EXPECT_NE(set.torn_path(), SegPath(2)) << "a whole, valid segment reported as torn";
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(SegPath(2).string()));
}

TEST_F(SegmentsTest, RemoveFromDeletesFilesAndLowersCount) {
  ASSERT_NO_FATAL_FAILURE(CreateSegments(4));
  SegmentSet set;
  ASSERT_TRUE(set.Open(dir()).ok());
  ASSERT_EQ(set.count(), 4u);
  const Segment* kept = set.Get(1);
  ASSERT_TRUE(set.RemoveFrom(2).ok());
  EXPECT_EQ(set.count(), 2u);
  EXPECT_TRUE(fs::exists(SegPath(0)));
  EXPECT_TRUE(fs::exists(SegPath(1)));
  EXPECT_FALSE(fs::exists(SegPath(2)));
  EXPECT_FALSE(fs::exists(SegPath(3)));
  EXPECT_EQ(set.Get(2), nullptr);
  EXPECT_EQ(set.Get(3), nullptr);
  EXPECT_EQ(set.Get(1), kept);
  EXPECT_EQ(set.bytes_on_disk(), 2 * kSize);
  // Beyond the end: nothing to do.
  ASSERT_TRUE(set.RemoveFrom(5).ok());
  EXPECT_EQ(set.count(), 2u);
  // The log grows again from there.
  ASSERT_TRUE(set.Create(2, kFirst[2], kSize).ok());
  EXPECT_EQ(set.count(), 3u);
  {
    SegmentSet other;
    ASSERT_TRUE(other.Open(dir()).ok());
    EXPECT_EQ(other.count(), 3u);
  }
  ASSERT_TRUE(set.RemoveFrom(0).ok());
  EXPECT_EQ(set.count(), 0u);
  EXPECT_EQ(set.bytes_on_disk(), 0u);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(fs::exists(SegPath(i))) << i;
  ASSERT_TRUE(set.Create(0, kFirst[0], kSize).ok());
  EXPECT_EQ(set.count(), 1u);
}

TEST_F(SegmentsTest, RepairReextendsATruncatedFileAndKeepsItsContent) {
  ASSERT_NO_FATAL_FAILURE(CreateSegments(2));
  std::vector<uint8_t> content(200000);
  std::mt19937_64 rng(7);
  for (auto& b : content) b = static_cast<uint8_t>(rng() | 1);
  ASSERT_NO_FATAL_FAILURE(WriteAt(SegPath(1), 64, content.data(), content.size()));
  const uint64_t cut = 64 + content.size() + 13;  // not page-aligned
  fs::resize_file(SegPath(1), cut);

  SegmentSet set;
  ASSERT_TRUE(set.Open(dir()).ok());
  ASSERT_EQ(set.count(), 2u);
  const Segment* before = set.Get(1);
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->size, kSize);
  EXPECT_EQ(before->file_size, cut);
  EXPECT_EQ(before->mapped(), cut);  // never maps past the end of the file
  EXPECT_EQ(set.bytes_on_disk(), kSize + cut);

  ASSERT_TRUE(set.Repair(0).ok());  // whole: nothing to do
  EXPECT_EQ(fs::file_size(SegPath(0)), kSize);
  ASSERT_TRUE(set.Repair(1).ok());
  EXPECT_EQ(fs::file_size(SegPath(1)), kSize);
  const Segment* after = set.Get(1);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->file_size, kSize);
  EXPECT_EQ(after->mapped(), kSize);
  EXPECT_EQ(after->first_position, kFirst[1]);
  EXPECT_EQ(std::memcmp(after->data() + 64, content.data(), content.size()), 0);
  for (uint64_t i = 64 + content.size(); i < kSize; i += 997) {
    ASSERT_EQ(after->data()[i], 0) << "offset " << i;
  }
  EXPECT_EQ(after->data()[kSize - 1], 0);
  // The old map stays valid for a reader that still holds it.
  EXPECT_EQ(std::memcmp(before->data() + 64, content.data(), content.size()), 0);
  EXPECT_EQ(set.bytes_on_disk(), 2 * kSize);
  // Repairing again changes nothing.
  ASSERT_TRUE(set.Repair(1).ok());
  EXPECT_EQ(set.Get(1), after);

  SegmentSet again;
  ASSERT_TRUE(again.Open(dir()).ok());
  EXPECT_EQ(again.Get(1)->file_size, kSize);
  EXPECT_EQ(std::memcmp(again.Get(1)->data() + 64, content.data(), content.size()), 0);
}

TEST_F(SegmentsTest, RefreshSeesASegmentCreatedByAnotherSet) {
  SegmentSet writer, reader;
  ASSERT_TRUE(writer.Open(dir()).ok());
  ASSERT_TRUE(writer.Create(0, kFirst[0], kSize).ok());
  ASSERT_TRUE(reader.Open(dir()).ok());
  EXPECT_EQ(reader.count(), 1u);

  ASSERT_TRUE(writer.Create(1, kFirst[1], kSize).ok());
  EXPECT_EQ(reader.count(), 1u);
  EXPECT_EQ(reader.GetIfKnown(1), nullptr);
  ASSERT_TRUE(reader.Refresh().ok());
  EXPECT_EQ(reader.count(), 2u);
  ASSERT_NE(reader.GetIfKnown(1), nullptr);
  EXPECT_EQ(reader.GetIfKnown(1)->first_position, kFirst[1]);
  const Segment* zero = reader.GetIfKnown(0);

  // Get of an ordinal not yet known refreshes by itself.
  ASSERT_TRUE(writer.Create(2, kFirst[2], kSize).ok());
  const char msg[] = "bytes of segment 2";
  ASSERT_NO_FATAL_FAILURE(WriteAt(SegPath(2), 64, msg, sizeof(msg)));
  const Segment* two = reader.Get(2);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(reader.count(), 3u);
  EXPECT_EQ(std::memcmp(two->data() + 64, msg, sizeof(msg)), 0);
  EXPECT_EQ(reader.Get(3), nullptr);
  EXPECT_EQ(reader.count(), 3u);
  EXPECT_EQ(reader.GetIfKnown(0), zero);  // known segments are not mapped again
  // Refreshing with nothing new changes nothing.
  ASSERT_TRUE(reader.Refresh().ok());
  EXPECT_EQ(reader.count(), 3u);
  EXPECT_EQ(reader.GetIfKnown(2), two);
}

}  // namespace
}  // namespace opossum::log
