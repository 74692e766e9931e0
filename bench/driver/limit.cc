// The limit: each workload done on the bare disk and memory, with no store
// at all, for the ratios of the report.
//  - durable appends: pwrite of the bytes this store would write for the
//    batch (its encoded size, Batch::bytes) at the next offset of a
//    preallocated file, then fdatasync; for the 64-thread workloads one
//    pwrite of 64 events and one fdatasync (a perfect group commit);
//  - buffered appends: the pwrite alone;
//  - decisions: their durable append (the reads cost nothing at the limit);
//  - reads: the events as records of that size in one block of memory:
//    read_all and read_type read every byte of the records they return,
//    read_tag and read_last those of the records at the tag's positions
//    (known by arithmetic, no index);
//  - open_clean: open, fstat, mmap, a read of the first and last page,
//    munmap and close of a file the size of the store.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "dataset.h"
#include "opossum/store.h"
#include "timing.h"
#include "workloads.h"

namespace opossum::bench {
namespace {

uint64_t EncodedBytes(std::span<const Event> events) {
  const uint64_t bytes = EncodedBatchBytes(events);
  if (bytes == 0) throw BenchError("limit: cannot encode the benchmark event");
  return bytes;
}

uint64_t RecordBytes() {
  const Event e = AppendedEvent(0, 0);
  return EncodedBytes({&e, 1});
}

class File {
 public:
  explicit File(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) Fail("open");
  }
  ~File() {
    ::close(fd_);
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  int fd() const { return fd_; }
  [[noreturn]] void Fail(const char* what) const {
    throw BenchError(std::string("limit: ") + what + " " + path_.string() + ": " +
                     std::strerror(errno));
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

// `events_per_write` events of `record` bytes per pwrite, each followed by
// an fdatasync when `sync`.
Result Writes(const WorkloadSpec& spec, const RunConfig& c, bool sync, uint64_t events_per_write,
              int threads, const char* unit) {
  Result r = NewResult(spec, "limit", sync ? "sync" : "buffered", unit, threads);
  std::vector<Event> events;
  for (uint64_t i = 0; i < events_per_write; ++i) events.push_back(AppendedEvent(0, i));
  const std::string bytes(EncodedBytes(events), 'x');
  std::filesystem::create_directories(c.dir / "limit");
  File f(c.dir / "limit" / "limit.dat");
  // Preallocated like a segment (64 MiB, or the batch when larger).
  const off_t size = std::max<off_t>(64 << 20, static_cast<off_t>(bytes.size()));
  auto preallocate = [&] {
    if (::ftruncate(f.fd(), 0) != 0 || ::posix_fallocate(f.fd(), 0, size) != 0 ||
        ::fsync(f.fd()) != 0) {
      f.Fail("preallocate");
    }
  };
  preallocate();
  RunTotals totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
    off_t offset = 0;
    while (Clock::now() < deadline) {
      if (offset + static_cast<off_t>(bytes.size()) > size) {
        preallocate();  // a new segment (untimed but inside the run, as for the store)
        offset = 0;
      }
      run.Timed([&] {
        if (::pwrite(f.fd(), bytes.data(), bytes.size(), offset) !=
                static_cast<ssize_t>(bytes.size()) ||
            (sync && ::fdatasync(f.fd()) != 0)) {
          f.Fail("pwrite/fdatasync");
        }
        return events_per_write;
      });
      offset += static_cast<off_t>(bytes.size());
    }
  });
  Record(totals, &r);
  return r;
}

// The store's events as records in memory.
struct Records {
  explicit Records(uint64_t n) : count(n), size(RecordBytes()), bytes(n * size) {
    for (uint64_t i = 0; i < bytes.size(); i += 64) bytes[i] = static_cast<char>(i);
  }
  // Reads every byte of record i (positions are i + 1).
  uint64_t Read(uint64_t i) const {
    uint64_t h = 0;
    const char* p = bytes.data() + i * size;
    for (uint64_t k = 0; k + 8 <= size; k += 8) {
      uint64_t w;
      std::memcpy(&w, p + k, 8);
      h += w;
    }
    return h;
  }
  uint64_t count, size;
  std::vector<char> bytes;
};

Result Reads(const WorkloadSpec& spec, const RunConfig& c) {
  Result r = NewResult(spec, "limit", "-", "reads/s");
  const Records records(spec.store);
  const uint64_t tags = TagCount(spec.store);
  volatile uint64_t sink = 0;
  const std::string& w = spec.name;
  RunTotals totals;
  if (w == "read_all" || w == "read_type") {
    r.unit = "events/s";
    const uint64_t step = w == "read_all" ? 1 : kTypes.size();
    totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
      do {
        uint64_t h = 0, n = 0;
        for (uint64_t i = 0; i < records.count; i += step, ++n) h += records.Read(i);
        sink = sink + h;
        run.items += n;
        ++run.ops;
      } while (Clock::now() < deadline);
    });
    RecordPasses(totals, &r);
    return r;
  }
  const bool last_only = w == "read_last";
  totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
    std::mt19937_64 rng(42);
    while (Clock::now() < deadline) {
      const uint64_t tag = rng() % (tags / 2 > 0 ? tags / 2 : 1);
      run.Timed([&] {
        uint64_t h = 0;
        for (uint64_t i = last_only ? tag + 9 * tags : tag; i < records.count; i += tags)
          h += records.Read(i);
        sink = sink + h;
        return uint64_t{1};
      });
    }
  });
  Record(totals, &r);
  return r;
}

Result Opens(const WorkloadSpec& spec, const RunConfig& c) {
  Result r = NewResult(spec, "limit", "-", "opens/s");
  std::filesystem::create_directories(c.dir / "limit");
  const auto path = c.dir / "limit" / "open.dat";
  const off_t size = static_cast<off_t>(spec.store * RecordBytes());
  {
    File f(path);
    if (::posix_fallocate(f.fd(), 0, size) != 0) f.Fail("preallocate");
    RunTotals totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
      volatile char sink = 0;
      while (Clock::now() < deadline) {
        run.Timed([&] {
          int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
          struct stat st {};
          if (fd < 0 || ::fstat(fd, &st) != 0) f.Fail("open");
          void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
          if (m == MAP_FAILED) f.Fail("mmap");
          const char* p = static_cast<const char*>(m);
          sink = static_cast<char>(p[0] + p[st.st_size - 1]);
          ::munmap(m, static_cast<size_t>(st.st_size));
          ::close(fd);
          return uint64_t{1};
        });
      }
    });
    Record(totals, &r);
  }
  return r;
}

}  // namespace

Result RunLimit(const WorkloadSpec& spec, const RunConfig& c) {
  const std::string& w = spec.name;
  if (w == "append_sync_1") return Writes(spec, c, true, 1, 1, "events/s");
  if (w == "append_sync_64")
    return Writes(spec, c, true, static_cast<uint64_t>(c.many_threads), 1, "events/s");
  if (w == "append_batch_1000") return Writes(spec, c, true, c.batch, 1, "events/s");
  if (w == "append_buffered_1") return Writes(spec, c, false, 1, 1, "events/s");
  if (w == "decide_sync_1" || w == "scale_decide_sync_1")
    return Writes(spec, c, true, 1, 1, "decisions/s");
  if (w == "decide_sync_64")
    return Writes(spec, c, true, static_cast<uint64_t>(c.many_threads), 1, "decisions/s");
  if (w == "read_all" || w == "read_type" || w == "read_tag" || w == "scale_read_tag" ||
      w == "read_last") {
    return Reads(spec, c);
  }
  if (w == "open_clean") return Opens(spec, c);
  throw BenchError("unknown workload: " + w);
}

}  // namespace opossum::bench
