// Timed runs on one or many threads: the threads are started, released
// together, and each runs its body until a common deadline; the run's time is
// from the release to the last thread's end (so a slow last operation counts).
#ifndef OPOSSUM_BENCH_DRIVER_TIMING_H_
#define OPOSSUM_BENCH_DRIVER_TIMING_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "report.h"

namespace opossum::bench {

using Clock = std::chrono::steady_clock;

inline uint64_t NanosSince(Clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// What one thread of a run did.
struct ThreadRun {
  uint64_t ops = 0;
  uint64_t items = 0;
  uint64_t conflicts = 0;
  Latencies latencies;

  // Times one operation `op` that returns the items it did.
  template <class Op>
  void Timed(Op&& op) {
    const auto t0 = Clock::now();
    items += op();
    latencies.Add(NanosSince(t0));
    ++ops;
  }
};

struct RunTotals {
  uint64_t ops = 0, items = 0, conflicts = 0;
  Latencies latencies;
  double seconds = 0;
};

// Runs body(thread, run, deadline) on `threads` threads for `seconds`. An
// exception in any thread is rethrown here after all have stopped.
template <class Body>
RunTotals RunTimed(int threads, double seconds, Body body) {
  std::vector<ThreadRun> runs(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start, deadline;
  std::exception_ptr failure;
  std::mutex failure_mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      try {
        body(t, runs[static_cast<size_t>(t)], deadline);
      } catch (...) {
        std::lock_guard<std::mutex> l(failure_mu);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  start = Clock::now();
  deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  RunTotals totals;
  totals.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failure) std::rethrow_exception(failure);
  for (auto& r : runs) {
    totals.ops += r.ops;
    totals.items += r.items;
    totals.conflicts += r.conflicts;
    totals.latencies.Merge(r.latencies);
  }
  return totals;
}

// Fills the rate and latency fields of `r` from a run.
inline void Record(RunTotals& t, Result* r) {
  r->ops = t.ops;
  r->items = t.items;
  r->seconds = t.seconds;
  r->p50_us = t.latencies.QuantileUs(0.5);
  r->p99_us = t.latencies.QuantileUs(0.99);
  r->p999_us = t.latencies.QuantileUs(0.999);
}

// Fills the counts of `r` from a run of whole passes (no per-op latencies).
inline void RecordPasses(const RunTotals& t, Result* r) {
  r->ops = t.ops;
  r->items = t.items;
  r->seconds = t.seconds;
}

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_TIMING_H_
