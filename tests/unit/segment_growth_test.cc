// Segments that start small: a new store's first segment is 1 MiB, each new
// segment twice the one before, up to Options::segment_size; a batch larger
// than that step still gets a segment of its own size. Every segment is
// preallocated at its size when created (its blocks are on disk) and keeps
// it. Checked through the files: disk use of a small store (st_blocks), the
// sizes in the segment headers, reopen, other processes, write protection,
// and stores whose segments are all segment_size (as made before segments
// started small).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "format/layout.h"
#include "log/segments.h"
#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::TempDir;

constexpr uint64_t kMiB = uint64_t{1} << 20;

struct SegFile {
  fs::path path;
  uint64_t first_position = 0;
  uint64_t header_size = 0;  // the size in the header
  uint64_t file_size = 0;
  uint64_t disk_bytes = 0;  // st_blocks * 512
  uint32_t mode = 0;
};

// The segment files of a store in position order, with their headers.
std::vector<SegFile> Segments(const fs::path& store_dir) {
  std::vector<SegFile> out;
  for (const auto& e : fs::directory_iterator(store_dir / "segments")) {
    if (e.path().extension() != ".seg") continue;
    SegFile f;
    f.path = e.path();
    format::SegmentHeader h{};
    std::ifstream in(f.path, std::ios::binary);
    in.read(reinterpret_cast<char*>(&h), sizeof(h));
    f.first_position = h.first_position;
    f.header_size = h.size;
    struct stat st {};
    if (::stat(f.path.c_str(), &st) == 0) {
      f.file_size = static_cast<uint64_t>(st.st_size);
      f.disk_bytes = static_cast<uint64_t>(st.st_blocks) * 512;
      f.mode = st.st_mode & 07777;
    }
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(),
            [](const SegFile& a, const SegFile& b) { return a.path < b.path; });
  return out;
}

std::vector<uint64_t> HeaderSizes(const fs::path& store_dir) {
  std::vector<uint64_t> sizes;
  for (const SegFile& f : Segments(store_dir)) sizes.push_back(f.header_size);
  return sizes;
}

std::string Describe(const std::vector<uint64_t>& sizes) {
  std::string s;
  for (uint64_t v : sizes) s += std::to_string(v) + " ";
  return s;
}

// Disk space taken by everything under `dir`, as du counts it.
uint64_t DiskBytes(const fs::path& dir) {
  uint64_t total = 0;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (::lstat(e.path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

// Each segment is preallocated: the file is as long as its header says and
// its blocks are allocated. "" when so.
std::string CheckPreallocated(const fs::path& store_dir) {
  for (const SegFile& f : Segments(store_dir)) {
    if (f.file_size != f.header_size) {
      return f.path.string() + ": file of " + std::to_string(f.file_size) + " bytes, header says " +
             std::to_string(f.header_size);
    }
    if (f.disk_bytes < f.header_size) {
      return f.path.string() + ": only " + std::to_string(f.disk_bytes) + " of " +
             std::to_string(f.header_size) + " bytes allocated";
    }
  }
  return "";
}

// Event i of a test: tagged with its number and "all", `data_bytes` of data
// that depend on i.
Event Ev(uint64_t i, size_t data_bytes) {
  std::string data(data_bytes, static_cast<char>('a' + i % 26));
  std::string n = std::to_string(i);
  data.replace(0, std::min(n.size(), data.size()), n.substr(0, data.size()));
  return Event{.type = "Row", .tags = {Tag("n", n), "all"}, .data = std::move(data)};
}

// Appends one batch of `count` events from *next on; "" when it went in at
// the positions expected.
std::string AppendBatch(Store& store, uint64_t* next, uint64_t count, size_t data_bytes,
                        uint64_t* bytes = nullptr) {
  Batch batch = store.NewBatch();
  for (uint64_t k = 0; k < count; ++k) {
    Status s = batch.Add(Ev(*next + k, data_bytes));
    if (!s.ok()) return "add: " + s.ToString();
  }
  if (bytes != nullptr) *bytes = batch.bytes();
  uint64_t last = 0;
  Status s = store.Append(std::move(batch), std::nullopt, &last);
  if (!s.ok()) return "append at " + std::to_string(*next) + ": " + s.ToString();
  if (last != *next + count - 1) {
    return "last position " + std::to_string(last) + ", expected " +
           std::to_string(*next + count - 1);
  }
  *next += count;
  return "";
}

// Every event 1..head is there, in order, with its own data; Verify passes.
std::string CheckContents(const Store& store, uint64_t head, size_t data_bytes) {
  if (store.Head() != head) {
    return "head " + std::to_string(store.Head()) + ", expected " + std::to_string(head);
  }
  std::vector<EventView> all;
  Status s = store.Read(Query::ForTags({"all"}), {}, &all);
  if (!s.ok()) return "read: " + s.ToString();
  if (all.size() != head) {
    return std::to_string(all.size()) + " events read, expected " + std::to_string(head);
  }
  for (uint64_t i = 0; i < head; ++i) {
    if (all[i].position() != i + 1) return "event " + std::to_string(i) + " at the wrong position";
    if (all[i].data() != Ev(i + 1, data_bytes).data) {
      return "position " + std::to_string(i + 1) + ": wrong data";
    }
  }
  s = store.Verify();
  return s.ok() ? "" : "verify: " + s.ToString();
}

std::unique_ptr<Store> OpenStore(const TempDir& dir, const Options& o) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "s", o, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

// Appends batches of `count` events until the store has `segments` segments.
std::string FillToSegments(Store& store, const fs::path& store_dir, uint64_t* next, size_t segments,
                           uint64_t count, size_t data_bytes) {
  for (int guard = 0; Segments(store_dir).size() < segments; ++guard) {
    if (guard > 100000) return "the store never reached " + std::to_string(segments) + " segments";
    std::string err = AppendBatch(store, next, count, data_bytes);
    if (!err.empty()) return err;
  }
  return "";
}

// The case that matters for many small stores under one root: eight events
// take little more than the first 1 MiB segment, not 64 MiB plus two 1 MiB
// index files. st_blocks, not the apparent size: preallocated blocks count.
TEST(SegmentGrowth, SmallStoreTakesLittleDisk) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  {
    auto store = OpenStore(dir, Options{});  // the defaults: segment_size 64 MiB
    ASSERT_NE(store, nullptr);
    uint64_t next = 1;
    for (int i = 0; i < 8; ++i) ASSERT_EQ(AppendBatch(*store, &next, 1, 40), "");
    EXPECT_EQ(CheckContents(*store, 8, 40), "");
  }
  const std::vector<SegFile> segs = Segments(store_dir);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].header_size, log::kFirstSegmentSize);
  EXPECT_EQ(CheckPreallocated(store_dir), "");
  const uint64_t used = DiskBytes(store_dir);
  EXPECT_LE(used, kMiB + kMiB / 4) << used << " bytes on disk for 8 events";
  // Reopened, it is the same store and takes no more.
  auto store = OpenStore(dir, Options{});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CheckContents(*store, 8, 40), "");
  store.reset();
  EXPECT_LE(DiskBytes(store_dir), kMiB + kMiB / 4);
}

// Sizes 1, 2, 4, ... MiB, then segment_size from there on, also when
// segment_size is not 1 MiB times a power of two. Batches of about 66 KiB.
TEST(SegmentGrowth, SizesDoubleUpToSegmentSize) {
  struct Case {
    uint64_t segment_size;
    std::vector<uint64_t> sizes;
  };
  const Case cases[] = {
      {8 * kMiB, {kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB, 8 * kMiB, 8 * kMiB}},
      {3 * kMiB + kMiB / 2, {kMiB, 2 * kMiB, 3 * kMiB + kMiB / 2, 3 * kMiB + kMiB / 2}},
      {kMiB, {kMiB, kMiB, kMiB}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("segment_size " + std::to_string(c.segment_size));
    TempDir dir;
    const fs::path store_dir = dir.path() / "s";
    Options o;
    o.segment_size = c.segment_size;
    o.durability = Durability::kBuffered;
    uint64_t next = 1;
    {
      auto store = OpenStore(dir, o);
      ASSERT_NE(store, nullptr);
      ASSERT_EQ(FillToSegments(*store, store_dir, &next, c.sizes.size(), 16, 4000), "");
      EXPECT_EQ(HeaderSizes(store_dir), c.sizes) << Describe(HeaderSizes(store_dir));
      EXPECT_EQ(CheckPreallocated(store_dir), "");
      EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
    }
    // Reopened, the store reads the same and goes on at segment_size.
    auto store = OpenStore(dir, o);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
    ASSERT_EQ(FillToSegments(*store, store_dir, &next, c.sizes.size() + 1, 16, 4000), "");
    EXPECT_EQ(HeaderSizes(store_dir).back(), c.segment_size);
    EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  }
}

// A batch larger than the next step gets a segment of exactly its size
// (header + batch), whole; the doubling goes on from that size.
TEST(SegmentGrowth, BatchLargerThanTheStepLandsWhole) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  uint64_t next = 1;
  uint64_t big_bytes = 0;
  {
    auto store = OpenStore(dir, Options{});
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(AppendBatch(*store, &next, 3, 4000), "");
    // About 3 MiB: more than the 1 MiB segment 0 has left and than the
    // 2 MiB step.
    const uint64_t big_first = next;
    ASSERT_EQ(AppendBatch(*store, &next, 750, 4000, &big_bytes), "");
    ASSERT_GT(big_bytes, 2 * kMiB);
    std::vector<SegFile> segs = Segments(store_dir);
    ASSERT_EQ(segs.size(), 2u);
    EXPECT_EQ(segs[0].header_size, kMiB);
    EXPECT_EQ(segs[1].first_position, big_first);
    const uint64_t big_size = format::Align8(format::kSegmentHeaderSize + big_bytes);
    EXPECT_EQ(segs[1].header_size, big_size);
    // The next batch does not fit behind it: twice that size.
    ASSERT_EQ(AppendBatch(*store, &next, 2, 4000), "");
    segs = Segments(store_dir);
    ASSERT_EQ(segs.size(), 3u);
    EXPECT_EQ(segs[2].first_position, big_first + 750);
    EXPECT_EQ(HeaderSizes(store_dir), (std::vector<uint64_t>{kMiB, big_size, 2 * big_size}));
    EXPECT_EQ(CheckPreallocated(store_dir), "");
    EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  }
  auto store = OpenStore(dir, Options{});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  ASSERT_EQ(AppendBatch(*store, &next, 5, 4000), "");
  EXPECT_EQ(Segments(store_dir).size(), 3u);  // room left in the last one
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
}

// A new store's first batch larger than the first segment: the empty
// segment grows in place (posix_fallocate, then its header) to the size the
// next segment would have had, and the batch lands whole in it.
TEST(SegmentGrowth, FirstBatchLargerThanTheFirstSegmentGrowsIt) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  uint64_t next = 1;
  uint64_t bytes = 0;
  {
    auto store = OpenStore(dir, Options{});
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(HeaderSizes(store_dir), std::vector<uint64_t>{kMiB});
    ASSERT_EQ(AppendBatch(*store, &next, 380, 4000, &bytes), "");  // about 1.5 MiB
    ASSERT_GT(bytes, kMiB);
    ASSERT_LT(bytes, 2 * kMiB - 64);
    EXPECT_EQ(HeaderSizes(store_dir), std::vector<uint64_t>{2 * kMiB});
    EXPECT_EQ(CheckPreallocated(store_dir), "");
    EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  }
  auto store = OpenStore(dir, Options{});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  // Then on to a 4 MiB segment.
  ASSERT_EQ(FillToSegments(*store, store_dir, &next, 2, 16, 4000), "");
  EXPECT_EQ(HeaderSizes(store_dir), (std::vector<uint64_t>{2 * kMiB, 4 * kMiB}));
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
}

// Another process that opened the store when it had one 1 MiB segment reads
// every event after the writer moved through segments of 1, 2 and 4 MiB; a
// writer in another process that appends next sizes its new segment from
// the last one's header (8 MiB); this process then reads that writer's
// events and appends after them.
TEST(SegmentGrowth, OtherProcessesFollowSegmentsOfDifferentSizes) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  Options o;
  o.segment_size = 8 * kMiB;
  uint64_t next = 1;
  {
    auto store = OpenStore(dir, o);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(AppendBatch(*store, &next, 4, 4000), "");
  }
  // Forked while this process has the store closed, so that the child's
  // opens are its own (one engine serves a store's handles in a process).
  int to_child[2], to_parent[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(to_parent), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(60);
    auto report = [&](const std::string& msg) {
      uint32_t n = static_cast<uint32_t>(msg.size());
      if (::write(to_parent[1], &n, 4) != 4 ||
          ::write(to_parent[1], msg.data(), n) != static_cast<ssize_t>(n)) {
        ::_exit(3);
      }
    };
    Options ro = o;
    ro.read_only = true;
    std::unique_ptr<Store> reader;
    Status s = Store::Open(dir.path(), "s", ro, &reader);
    report(s.ok() ? "" : "open: " + s.ToString());
    uint64_t head = 0;
    if (::read(to_child[0], &head, 8) != 8) ::_exit(4);
    report(s.ok() ? CheckContents(*reader, head, 4000) : "not open");
    reader.reset();
    // Then a writer in this process: appends until it made one segment.
    std::unique_ptr<Store> writer;
    s = Store::Open(dir.path(), "s", o, &writer);
    std::string err = s.ok() ? "" : "open writable: " + s.ToString();
    uint64_t n = head + 1;
    if (err.empty()) err = FillToSegments(*writer, store_dir, &n, 4, 16, 4000);
    if (err.empty()) err = CheckContents(*writer, n - 1, 4000);
    report(err);
    if (::write(to_parent[1], &n, 8) != 8) ::_exit(5);
    writer.reset();
    ::_exit(0);
  }
  auto read_report = [&]() {
    uint32_t n = 0;
    if (::read(to_parent[0], &n, 4) != 4) return std::string("the child died");
    std::string msg(n, '\0');
    if (n > 0 && ::read(to_parent[0], msg.data(), n) != static_cast<ssize_t>(n)) {
      return std::string("short report");
    }
    return msg;
  };
  EXPECT_EQ(read_report(), "");  // the reader opened (one segment then)
  auto store = OpenStore(dir, o);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(FillToSegments(*store, store_dir, &next, 3, 16, 4000), "");
  EXPECT_EQ(HeaderSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB}));
  const uint64_t head = next - 1;
  ASSERT_EQ(::write(to_child[1], &head, 8), 8);
  EXPECT_EQ(read_report(), "");  // the reader saw every event
  EXPECT_EQ(read_report(), "");  // the other writer appended into a fourth
  ASSERT_EQ(::read(to_parent[0], &next, 8), 8);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(HeaderSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB}));
  // This process reads the other's events and appends after them.
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  ASSERT_EQ(AppendBatch(*store, &next, 3, 4000), "");
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  EXPECT_EQ(CheckPreallocated(store_dir), "");
}

// Write protection with segments of different sizes: every segment but the
// last loses its write bits; one cut short in its zero tail is re-extended
// to its own size (from its header), not to segment_size.
TEST(SegmentGrowth, WriteProtectionAndRepairKeepEachSegmentsSize) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  Options o;
  o.segment_size = 8 * kMiB;
  o.write_protect_segments = true;
  uint64_t next = 1;
  {
    auto store = OpenStore(dir, o);
    ASSERT_NE(store, nullptr);
    // Batches of about 100 KiB leave a zero tail of several KiB.
    ASSERT_EQ(FillToSegments(*store, store_dir, &next, 4, 24, 4000), "");
  }
  std::vector<SegFile> segs = Segments(store_dir);
  ASSERT_EQ(HeaderSizes(store_dir), (std::vector<uint64_t>{kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB}));
  for (size_t i = 0; i + 1 < segs.size(); ++i) EXPECT_EQ(segs[i].mode & 0222, 0u) << i;
  EXPECT_NE(segs.back().mode & 0200, 0u);
  // Cut 4 KiB off the 2 MiB segment's tail, which must hold no event.
  const fs::path second = segs[1].path;
  {
    std::string bytes = ::opossum::testing::ReadFileBytes(second);
    ASSERT_EQ(bytes.size(), 2 * kMiB);
    ASSERT_EQ(bytes.find_first_not_of('\0', 2 * kMiB - 4096), std::string::npos)
        << "the tail holds events: the test's batch sizes no longer leave a gap";
  }
  ASSERT_EQ(::chmod(second.c_str(), 0644), 0);
  ASSERT_EQ(::truncate(second.c_str(), static_cast<off_t>(2 * kMiB - 4096)), 0);
  ASSERT_EQ(::chmod(second.c_str(), 0444), 0);
  auto store = OpenStore(dir, o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(fs::file_size(second), 2 * kMiB);
  segs = Segments(store_dir);
  EXPECT_EQ(segs[1].mode & 0222, 0u);
  EXPECT_EQ(CheckPreallocated(store_dir), "");
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
}

// Replaces a new, empty store's first segment with one of `size` bytes, as
// the code before segments started small created it (SegmentSet::Create at
// segment_size), and gives the index files the 1 MiB they had then.
void MakeOldStyleStore(const TempDir& dir, uint64_t size) {
  const fs::path store_dir = dir.path() / "s";
  {
    Options o;
    o.segment_size = size;
    auto store = OpenStore(dir, o);
    ASSERT_NE(store, nullptr);
  }
  const fs::path seg0 = store_dir / "segments" / log::SegmentFileName(1);
  ASSERT_TRUE(fs::remove(seg0));
  log::SegmentSet set;
  ASSERT_TRUE(set.Open(store_dir / "segments").ok());
  Status s = set.Create(0, 1, size);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (const char* name : {"positions", "postings"}) {
    fs::resize_file(store_dir / "index" / name, kMiB);
  }
}

// A store whose segments are all segment_size (made before segments started
// small) opens, and new segments go on at segment_size: the rule doubles the
// last segment's size up to the limit. Opened later with a larger
// segment_size, the doubling goes on from there.
TEST(SegmentGrowth, OldStoreWithFullSizeSegmentsGoesOnAtSegmentSize) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  ASSERT_NO_FATAL_FAILURE(MakeOldStyleStore(dir, 4 * kMiB));
  Options o;
  o.segment_size = 4 * kMiB;
  o.durability = Durability::kBuffered;
  uint64_t next = 1;
  {
    auto store = OpenStore(dir, o);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(FillToSegments(*store, store_dir, &next, 3, 16, 4000), "");
    EXPECT_EQ(HeaderSizes(store_dir), (std::vector<uint64_t>{4 * kMiB, 4 * kMiB, 4 * kMiB}));
    EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  }
  o.segment_size = 64 * kMiB;
  auto store = OpenStore(dir, o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  ASSERT_EQ(FillToSegments(*store, store_dir, &next, 4, 16, 4000), "");
  EXPECT_EQ(HeaderSizes(store_dir),
            (std::vector<uint64_t>{4 * kMiB, 4 * kMiB, 4 * kMiB, 8 * kMiB}));
  EXPECT_EQ(CheckPreallocated(store_dir), "");
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
}

// The default case of such a store: a 64 MiB first segment. It opens,
// takes appends into that segment, and reopens.
TEST(SegmentGrowth, OldStoreWith64MiBFirstSegmentOpensAndAppends) {
  TempDir dir;
  const fs::path store_dir = dir.path() / "s";
  ASSERT_NO_FATAL_FAILURE(MakeOldStyleStore(dir, 64 * kMiB));
  uint64_t next = 1;
  {
    auto store = OpenStore(dir, Options{});
    ASSERT_NE(store, nullptr);
    // 3 MiB: beyond what a new store's first segment and its next would
    // hold, well inside the old one.
    for (int i = 0; i < 48; ++i) ASSERT_EQ(AppendBatch(*store, &next, 16, 4000), "");
    EXPECT_EQ(HeaderSizes(store_dir), std::vector<uint64_t>{64 * kMiB});
    EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  }
  auto store = OpenStore(dir, Options{});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CheckContents(*store, next - 1, 4000), "");
  EXPECT_EQ(CheckPreallocated(store_dir), "");
}

}  // namespace
}  // namespace opossum
