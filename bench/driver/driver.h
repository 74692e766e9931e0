// The workload driver (opossum-bench, main.cc): the named workloads against
// this store, SQLite, LMDB and the limit, one table of rates with ratios,
// one of latencies, the machine, and a CSV file (docs/benchmarks.md).
#ifndef OPOSSUM_BENCH_DRIVER_DRIVER_H_
#define OPOSSUM_BENCH_DRIVER_DRIVER_H_

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace opossum::bench {

struct DriverOptions {
  std::filesystem::path dir = "bench-data";  // the stores (keep it on the disk to measure)
  std::vector<std::string> workloads;        // empty: all (WorkloadNames())
  std::vector<std::string> backends;         // empty: opossum, sqlite, lmdb, limit
  double seconds = 3;                        // timed part of each run
  int threads = 64;                          // threads of the *_64 workloads
  uint64_t read_store = 1000000;             // events in the read and decide store
  std::vector<uint64_t> scale_sizes = {100000, 1000000, 10000000};
  std::filesystem::path csv;  // empty: dir/results.csv
  bool progress = false;      // progress lines on the error stream
};

// The tiny configuration (`opossum-bench --tiny`, run by ctest): every
// workload and backend in a few seconds, on stores of a few thousand events.
DriverOptions TinyOptions(DriverOptions base);

// Runs the workloads and prints the report on `out`. Throws BenchError
// (backend.h) on a failure or an unknown workload or backend name.
void RunDriver(const DriverOptions& options, std::ostream& out, std::ostream& err);

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_DRIVER_H_
