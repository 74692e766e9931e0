// Helpers shared by the benchmarks: where stores live, the event shape every
// workload appends, and cached stores of N events that are built once and
// reused across runs (building 10,000,000 events takes a while).
//
// Environment:
//   OPOSSUM_BENCH_DIR    folder for the stores (default ./bench-data). Keep it
//                        on the disk you want to measure: the limit workload
//                        writes its file there too.
//   OPOSSUM_BENCH_SMALL  when set to anything but "0", every store size is
//                        divided by 100, for a smoke run in a few seconds.
#ifndef OPOSSUM_BENCH_BENCH_UTIL_H_
#define OPOSSUM_BENCH_BENCH_UTIL_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataset.h"
#include "opossum/opossum.h"

namespace opossum::bench {

inline bool SmallMode() {
  const char* env = std::getenv("OPOSSUM_BENCH_SMALL");
  return env != nullptr && *env != '\0' && std::string_view(env) != "0";
}

// A store size as used by the workloads: n, or n / 100 in small mode.
inline int64_t Scaled(int64_t n) { return SmallMode() ? n / 100 : n; }

inline std::filesystem::path BenchRoot() {
  const char* env = std::getenv("OPOSSUM_BENCH_DIR");
  std::filesystem::path root = (env != nullptr && *env != '\0') ? env : "bench-data";
  std::filesystem::create_directories(root);
  return std::filesystem::absolute(root);
}

// Options of every store the benchmarks open. In small mode segments are
// 4 MiB instead of 64 MiB, so that a smoke run does not preallocate
// gigabytes of disk.
inline Options BenchOptions(Durability durability) {
  Options options;
  options.durability = durability;
  if (SmallMode()) options.segment_size = 4ull << 20;
  return options;
}

inline const char* DurabilityName(Durability d) {
  return d == Durability::kSync ? "sync" : "buffered";
}

// The event every workload appends: type "StudentSubscribed", two tags and
// 100 bytes of JSON data (the driver's event shape, driver/dataset.h).
inline Event MakeEvent(std::string tag1, std::string tag2, uint64_t n) {
  return MakeEvent("StudentSubscribed", std::move(tag1), std::move(tag2), n);
}

// Bytes one single-event batch of `e` takes in a segment (dataset.h).
inline size_t EncodedBatchBytes(const Event& e) { return EncodedBatchBytes({&e, 1}); }

inline void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "opossum_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// Opens `root/name`, first removing any earlier store of that name.
inline std::unique_ptr<Store> FreshStore(const std::string& name, Durability durability) {
  const auto root = BenchRoot();
  std::filesystem::remove_all(root / name);
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, name, BenchOptions(durability), &store);
  if (!s.ok()) Die("open", s);
  return store;
}

// The tag store of N events: event i (0-based) has the tags
//   "t:<i mod N/10>"  (N/10 tags of 10 events each, spread over the store)
//   "k:<i mod 4>"     (a second, low-cardinality tag)
// so that one tag's 10 events sit N/10 positions apart: a read by tag never
// benefits from its events sharing a page.
inline std::string TagOf(int64_t tag) { return "t:" + Padded(tag, 8); }

inline std::string CachedStoreName(int64_t n) { return "tagstore-" + std::to_string(n); }

// Opens the cached tag store of N events (kBuffered), building it first when
// it is missing, incomplete, or has grown by more than N/5 events since it
// was built (BM_ConditionTag appends to it). Opening it is not timed by the
// callers. The returned store must be destroyed before the next Open of the
// same store, so that each open really reads the files.
inline std::unique_ptr<Store> OpenTagStore(int64_t n) {
  const auto root = BenchRoot();
  const std::string name = CachedStoreName(n);
  const auto complete_mark = root / (name + ".complete");
  const Options options = BenchOptions(Durability::kBuffered);
  std::unique_ptr<Store> store;
  if (std::filesystem::exists(complete_mark) && std::filesystem::exists(root / name)) {
    Status s = Store::Open(root, name, options, &store);
    if (!s.ok()) {
      // Probably written by an older build with another file format.
      std::fprintf(stderr, "opossum_bench: cannot reuse %s (%s)\n", name.c_str(),
                   s.ToString().c_str());
    } else {
      const uint64_t head = store->Head();
      if (head >= static_cast<uint64_t>(n) && head <= static_cast<uint64_t>(n + n / 5)) {
        return store;
      }
    }
    store.reset();
  }
  std::filesystem::remove(complete_mark);
  std::filesystem::remove_all(root / name);
  std::fprintf(stderr, "opossum_bench: building %s (%lld events) in %s ...\n", name.c_str(),
               static_cast<long long>(n), root.c_str());
  Status s = Store::Open(root, name, options, &store);
  if (!s.ok()) Die("create cached store", s);
  const auto started = std::chrono::steady_clock::now();
  const int64_t tags = static_cast<int64_t>(TagCount(static_cast<uint64_t>(n)));
  constexpr int64_t kBatch = 1000;
  std::vector<Event> batch;
  batch.reserve(kBatch);
  for (int64_t i = 0; i < n;) {
    batch.clear();
    for (int64_t j = 0; j < kBatch && i < n; ++j, ++i) {
      batch.push_back(
          MakeEvent(TagOf(i % tags), "k:" + std::to_string(i % 4), static_cast<uint64_t>(i)));
    }
    s = store->Append(batch);
    if (!s.ok()) Die("build cached store", s);
  }
  s = store->Sync();
  if (!s.ok()) Die("sync cached store", s);
  store.reset();  // a clean close
  std::fprintf(stderr, "opossum_bench: built %s in %.1f s\n", name.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::FILE* f = std::fopen(complete_mark.c_str(), "w");
  if (f != nullptr) std::fclose(f);
  s = Store::Open(root, name, options, &store);
  if (!s.ok()) Die("reopen cached store", s);
  return store;
}

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_BENCH_UTIL_H_
