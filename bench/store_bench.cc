// Named workloads of the store, with the physical limit of the disk measured
// in the same run (docs/benchmarks.md lists the targets and the results).
//
// Every workload appends the same event shape (bench_util.h): type
// "StudentSubscribed", two tags, 100 bytes of JSON data. Each reports
// items_per_second (events/s, reads/s or decisions/s) and labels itself with
// the durability mode it uses.
//
//   build/bin/opossum_bench                              # everything (~10 min)
//   build/bin/opossum_bench --benchmark_filter=Append    # one family
//   OPOSSUM_BENCH_SMALL=1 build/bin/opossum_bench --benchmark_min_time=0.01
//                                                        # smoke run, seconds
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "bench_util.h"
#include "report.h"

namespace opossum::bench {
namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Context printed once at the top of a run: where the stores live and on what.

[[maybe_unused]] const bool kContextAdded = [] {
  const auto root = BenchRoot();
  benchmark::AddCustomContext("opossum_bench_dir", root.string());
  benchmark::AddCustomContext("opossum_bench_fs", FileSystemOf(root));
  benchmark::AddCustomContext("opossum_bench_small", SmallMode() ? "yes (sizes / 100)" : "no");
  benchmark::AddCustomContext(
      "opossum_event",
      "StudentSubscribed, 2 tags, 100 B JSON data, " +
          std::to_string(EncodedBatchBytes(MakeEvent("course:c0000", "student:s000000", 0))) +
          " B as a one-event batch");
  return true;
}();

// A ring of prebuilt events, so that the timed loops measure the store and
// not the building of strings.
std::vector<Event> EventRing(size_t count, int thread = 0) {
  std::vector<Event> ring;
  ring.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ring.push_back(MakeEvent("course:c" + Padded(i % 1000, 4),
                             "student:s" + Padded(static_cast<uint64_t>(thread) * 1000000 + i, 7),
                             i));
  }
  return ring;
}

void SetEventRate(benchmark::State& state, int64_t events) { state.SetItemsProcessed(events); }

// ---------------------------------------------------------------------------
// The physical limit: pwrite of one encoded one-event batch into a
// preallocated file + fdatasync, as the engine's segments are written.

void BM_Limit_PwriteFdatasync(benchmark::State& state) {
  const auto path = BenchRoot() / "limit.dat";
  const size_t record = EncodedBatchBytes(MakeEvent("course:c0000", "student:s000000", 0));
  const std::string bytes(record, 'x');
  constexpr off_t kFileSize = 64 << 20;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError(std::strerror(errno));
    return;
  }
  auto preallocate = [&] {
    if (::ftruncate(fd, 0) != 0 || ::posix_fallocate(fd, 0, kFileSize) != 0 || ::fsync(fd) != 0) {
      state.SkipWithError("posix_fallocate/fsync failed");
      return false;
    }
    return true;
  };
  if (!preallocate()) {
    ::close(fd);
    return;
  }
  off_t offset = 0;
  for (auto _ : state) {
    if (offset + static_cast<off_t>(record) > kFileSize) {
      state.PauseTiming();  // a fresh preallocated file, as at a segment change
      if (!preallocate()) break;
      offset = 0;
      state.ResumeTiming();
    }
    if (::pwrite(fd, bytes.data(), bytes.size(), offset) != static_cast<ssize_t>(bytes.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError(std::strerror(errno));
      break;
    }
    offset += static_cast<off_t>(record);
  }
  ::close(fd);
  std::filesystem::remove(path);
  SetEventRate(state, state.iterations());
  state.counters["bytes_per_write"] = static_cast<double>(record);
  state.SetLabel("sync (pwrite+fdatasync)");
}
BENCHMARK(BM_Limit_PwriteFdatasync)->UseRealTime();

// ---------------------------------------------------------------------------
// One thread, one event per append.

void AppendOne(benchmark::State& state, Durability durability) {
  auto store = FreshStore(std::string("append-1-") + DurabilityName(durability), durability);
  const auto ring = EventRing(4096);
  size_t i = 0;
  for (auto _ : state) {
    Status s = store->Append(std::span<const Event>(&ring[i++ & 4095], 1));
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  if (store->Head() != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("head differs from the number of appends");
  }
  SetEventRate(state, state.iterations());
  state.SetLabel(DurabilityName(durability));
}

void BM_AppendSync_1(benchmark::State& state) { AppendOne(state, Durability::kSync); }
BENCHMARK(BM_AppendSync_1)->UseRealTime();

void BM_AppendBuffered_1(benchmark::State& state) { AppendOne(state, Durability::kBuffered); }
BENCHMARK(BM_AppendBuffered_1)->UseRealTime();

// ---------------------------------------------------------------------------
// 64 threads, each appending one event per append, to one shared store. The
// store is created by thread 0 before the loop; benchmark's start barrier
// keeps the others out of the loop until then, and its stop barrier keeps
// thread 0 from closing it while others still append. max_in_flight shows
// how many appends were really waiting at once.

std::unique_ptr<Store> g_shared_store;
std::atomic<int> g_in_flight{0};
std::atomic<int> g_max_in_flight{0};

void BM_AppendSync_64(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_shared_store = FreshStore("append-sync-64", Durability::kSync);
    g_in_flight = 0;
    g_max_in_flight = 0;
  }
  const auto ring = EventRing(1024, state.thread_index());
  size_t i = 0;
  for (auto _ : state) {
    int now = g_in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
    int seen = g_max_in_flight.load(std::memory_order_relaxed);
    while (now > seen && !g_max_in_flight.compare_exchange_weak(seen, now)) {
    }
    Status s = g_shared_store->Append(std::span<const Event>(&ring[i++ & 1023], 1));
    g_in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  SetEventRate(state, state.iterations());
  if (state.thread_index() == 0) {
    const uint64_t expected = static_cast<uint64_t>(state.iterations()) * state.threads();
    if (g_shared_store->Head() != expected) {
      state.SkipWithError("head differs from the number of appends");
    }
    state.counters["max_in_flight"] = g_max_in_flight.load();
    g_shared_store.reset();
  }
  state.SetLabel("sync");
}
BENCHMARK(BM_AppendSync_64)->Threads(64)->UseRealTime();

// ---------------------------------------------------------------------------
// One thread, batches of 1,000 events.

void BM_AppendBatch_1000(benchmark::State& state) {
  auto store = FreshStore("append-batch-1000", Durability::kSync);
  const auto batch = EventRing(1000);
  for (auto _ : state) {
    Status s = store->Append(batch);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  SetEventRate(state, state.iterations() * 1000);
  state.SetLabel("sync");
}
BENCHMARK(BM_AppendBatch_1000)->UseRealTime();

// ---------------------------------------------------------------------------
// A decision: read the events of a course and of a student, decide, append
// with a condition on those two tags after the last position read.

void BM_DecideSync_1(benchmark::State& state) {
  auto store = FreshStore("decide-sync-1", Durability::kSync);
  std::mt19937_64 rng(42);
  constexpr uint64_t kCourses = 1000;
  constexpr uint64_t kStudents = 100000;
  int64_t conflicts = 0;
  int64_t events_read = 0;
  uint64_t n = 0;
  for (auto _ : state) {
    const std::string course = "course:c" + Padded(rng() % kCourses, 4);
    const std::string student = "student:s" + Padded(rng() % kStudents, 7);
    Query query;
    query.Or(QueryItem{{}, {course}}).Or(QueryItem{{}, {student}});
    uint64_t last = 0;
    bool already = false;
    Reader reader = store->NewReader();
    Status s = reader.ForEach(query, {}, [&](const EventView& e) {
      last = e.position();
      already = already || (e.HasTag(course) && e.HasTag(student));
      ++events_read;
      return true;
    });
    if (s.ok() && !already) {
      const Event event = MakeEvent(course, student, n++);
      s = store->Append(std::span<const Event>(&event, 1), AppendCondition{query, last});
      if (s.IsConditionFailed()) {
        ++conflicts;
        s = Status::Ok();
      }
    }
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["conflicts"] = static_cast<double>(conflicts);
  state.counters["events_read_per_decision"] =
      state.iterations() > 0 ? static_cast<double>(events_read) / state.iterations() : 0;
  state.SetLabel("sync; items = decisions");
}
BENCHMARK(BM_DecideSync_1)->UseRealTime();

// ---------------------------------------------------------------------------
// Reads on the cached tag stores (built with kBuffered; reads do not depend
// on the durability mode).

// Each workload opens its store afresh, and a fresh mapping takes a page
// fault on the first touch of every page, even when the page cache holds it.
// One untimed pass over the queries first, so that the timed loop measures a
// store in steady use rather than the kernel filling in page tables.
void WarmUp(const Store& store, const std::vector<Query>& queries) {
  Reader reader = store.NewReader();
  uint64_t sum = 0;
  for (const Query& q : queries) {
    Status s = reader.ForEach(q, {}, [&](const EventView& e) {
      sum += e.position() + e.data().size();
      return true;
    });
    if (!s.ok()) Die("warm-up read", s);
  }
  benchmark::DoNotOptimize(sum);
}

void BM_ReadAll(benchmark::State& state) {
  auto store = OpenTagStore(state.range(0));
  uint64_t sum = 0;
  int64_t events = 0;
  WarmUp(*store, {Query::All()});
  for (auto _ : state) {
    Reader reader = store->NewReader();
    Status s = reader.ForEach(Query::All(), {}, [&](const EventView& e) {
      const std::string_view data = e.data();
      sum += e.type().size() + data.size() + static_cast<uint8_t>(data[0]);
      ++events;
      return true;
    });
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(sum);
  }
  SetEventRate(state, events);
  state.SetLabel("read; store of " + std::to_string(store->Head()) + " events");
}
BENCHMARK(BM_ReadAll)->Arg(Scaled(1000000))->UseRealTime();

// Store sizes 100,000 / 1,000,000 / 10,000,000 (divided by 100 in small mode).
void StoreSizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {100000, 1000000, 10000000}) b->Arg(Scaled(n));
}

std::vector<Query> RandomTagQueries(int64_t n, size_t count) {
  std::mt19937_64 rng(7);
  std::vector<Query> queries;
  queries.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    queries.push_back(
        Query::ForTags({TagOf(static_cast<int64_t>(rng() % TagCount(static_cast<uint64_t>(n))))}));
  }
  return queries;
}

void BM_ReadTag(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto store = OpenTagStore(n);
  const auto queries = RandomTagQueries(n, 4096);
  WarmUp(*store, queries);
  size_t i = 0;
  int64_t events = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    Reader reader = store->NewReader();
    Status s = reader.ForEach(queries[i++ & 4095], {}, [&](const EventView& e) {
      sum += e.position() + e.data().size();
      ++events;
      return true;
    });
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(sum);
  }
  if (n >= 10 && events != 10 * state.iterations()) {
    state.SkipWithError("a tag read did not return exactly 10 events");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("read; items = tag reads of 10 events");
}
BENCHMARK(BM_ReadTag)->Apply(StoreSizes)->UseRealTime();

// An append whose condition names one existing tag (10 events, all before
// `after`, so it holds) to the cached store of N events. kBuffered, so that
// the condition's cost is not hidden behind a sync. A fixed number of
// iterations bounds how much the cached store grows per run.
void AppendToTagStore(benchmark::State& state, bool with_condition) {
  const int64_t n = state.range(0);
  auto store = OpenTagStore(n);
  const uint64_t after = store->Head();
  const auto queries = RandomTagQueries(n, 4096);
  WarmUp(*store, queries);
  std::vector<Event> ring;
  for (uint64_t i = 0; i < 1024; ++i) {
    ring.push_back(MakeEvent("c:" + Padded(i, 8), "k:cond", i));
  }
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++;
    Status s = with_condition ? store->Append(std::span<const Event>(&ring[k & 1023], 1),
                                              AppendCondition{queries[k & 4095], after})
                              : store->Append(std::span<const Event>(&ring[k & 1023], 1));
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  SetEventRate(state, state.iterations());
  state.SetLabel(with_condition ? "buffered; condition on 1 tag" : "buffered; no condition");
}

void BM_ConditionTag(benchmark::State& state) { AppendToTagStore(state, true); }
BENCHMARK(BM_ConditionTag)->Apply(StoreSizes)->Iterations(SmallMode() ? 200 : 10000)->UseRealTime();

// The same appends without a condition: the difference to BM_ConditionTag at
// the same N is what the condition itself costs.
void BM_AppendNoCondition(benchmark::State& state) { AppendToTagStore(state, false); }
BENCHMARK(BM_AppendNoCondition)
    ->Apply(StoreSizes)
    ->Iterations(SmallMode() ? 200 : 10000)
    ->UseRealTime();

// ---------------------------------------------------------------------------
// Open (and close) the cached store of 10,000,000 events after a clean close.
// open_ms is the open alone; the benchmark's time is open + close.

void BM_OpenClean(benchmark::State& state) {
  const int64_t n = state.range(0);
  OpenTagStore(n).reset();  // builds it when needed; a clean close
  const auto root = BenchRoot();
  const std::string name = CachedStoreName(n);
  Options options = BenchOptions(Durability::kBuffered);
  options.create_if_missing = false;
  double open_seconds = 0;
  for (auto _ : state) {
    std::unique_ptr<Store> store;
    const auto t0 = Clock::now();
    Status s = Store::Open(root, name, options, &store);
    open_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    if (store->Head() < static_cast<uint64_t>(n)) {
      state.SkipWithError("the reopened store lost events");
      break;
    }
    store.reset();
  }
  state.counters["open_ms"] = state.iterations() > 0 ? 1000 * open_seconds / state.iterations() : 0;
  state.SetLabel("open+close of " + std::to_string(n) + " events");
}
BENCHMARK(BM_OpenClean)->Arg(Scaled(10000000))->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace opossum::bench
