// What a workload measured, and how the driver prints it: the machine, one
// table of rates with the ratios of this store to each peer and to the limit,
// one table of latencies, and CSV for the plots.
#ifndef OPOSSUM_BENCH_DRIVER_REPORT_H_
#define OPOSSUM_BENCH_DRIVER_REPORT_H_

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace opossum::bench {

// Per-operation latencies of one run, in nanoseconds.
struct Latencies {
  std::vector<uint32_t> ns;
  void Add(uint64_t v) { ns.push_back(v > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(v)); }
  void Merge(const Latencies& o) { ns.insert(ns.end(), o.ns.begin(), o.ns.end()); }
  // The q-quantile (0..1) in microseconds, 0 when nothing was recorded.
  // Sorts in place.
  double QuantileUs(double q);
};

struct Result {
  std::string workload;
  std::string backend;        // "opossum", "sqlite", "lmdb", "limit"
  std::string durability;     // "sync", "buffered" or "-" (reads)
  uint64_t store_events = 0;  // events in the store read (reads, decide, scale)
  int threads = 1;
  uint64_t ops = 0;    // appends, decisions, reads or opens
  uint64_t items = 0;  // what the rate counts (events, decisions, reads, opens)
  std::string unit;    // "events/s", "decisions/s", "reads/s", "opens/s"
  double seconds = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0;  // per op; 0 when not measured
  double conflict_pct = -1;                    // decide workloads only
  double rate() const { return seconds > 0 ? static_cast<double>(items) / seconds : 0; }
};

struct MachineInfo {
  std::string cpu, kernel, file_system, device;
  unsigned cores = 0;
  uint64_t memory_bytes = 0;
  double fdatasync_p50_us = 0, fdatasync_p99_us = 0;  // 4 KiB pwrite + fdatasync
};

// The file system type of the folder `p` ("ext4", "xfs", ...; statfs).
std::string FileSystemOf(const std::filesystem::path& p);

// Reads /proc, uname and statfs, and times pwrite + fdatasync in `dir`.
MachineInfo ProbeMachine(const std::filesystem::path& dir);

void PrintMachine(const MachineInfo& m, const std::filesystem::path& dir, std::ostream& out);
// Rates, one row per workload (and store size), one column per backend,
// then the ratios of "opossum" to each other backend.
void PrintRates(const std::vector<Result>& results, std::ostream& out);
void PrintLatencies(const std::vector<Result>& results, std::ostream& out);
void WriteCsv(const std::vector<Result>& results, const MachineInfo& m,
              const std::filesystem::path& path);

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_REPORT_H_
