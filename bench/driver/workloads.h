// The driver's named workloads, each run against one backend (or the limit)
// for a fixed time, checked for doing the whole job (heads and read counts),
// and reported as a Result.
#ifndef OPOSSUM_BENCH_DRIVER_WORKLOADS_H_
#define OPOSSUM_BENCH_DRIVER_WORKLOADS_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "backend.h"
#include "report.h"

namespace opossum::bench {

struct RunConfig {
  std::filesystem::path dir;      // stores live in dir/<backend>/...
  double seconds = 3;             // the timed part of each run
  int many_threads = 64;          // the threads of the *_64 workloads
  uint64_t read_store = 1000000;  // events in the store of the read and decide workloads
  uint64_t batch = 1000;          // events per append of append_batch_1000
  // Called with a line of progress (building a store, starting a run).
  std::function<void(const std::string&)> progress;
};

// One workload to run: its name, and the store size for the scale ones.
struct WorkloadSpec {
  std::string name;    // "append_sync_1", ..., "scale_read_tag", "scale_decide_sync_1"
  uint64_t store = 0;  // events in the store read; 0 for the append workloads
};

// A Result named for `spec` and `backend`, to be filled by a run.
inline Result NewResult(const WorkloadSpec& spec, std::string_view backend, const char* durability,
                        const char* unit, int threads = 1) {
  Result r;
  r.workload = spec.name;
  r.backend = std::string(backend);
  r.durability = durability;
  r.store_events = spec.store;
  r.unit = unit;
  r.threads = threads;
  return r;
}

// Every workload name, in the order a full run takes them (reads of a
// prepared store before the decisions that append to it).
const std::vector<std::string>& WorkloadNames();

Result RunWorkload(const WorkloadSpec& spec, Backend& backend, const RunConfig& config);
// The same workload on the bare disk and memory (limit.cc).
Result RunLimit(const WorkloadSpec& spec, const RunConfig& config);

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_WORKLOADS_H_
