#include "workloads.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "dataset.h"
#include "timing.h"

namespace opossum::bench {
namespace {

// ---------------------------------------------------------------------------
// Stores.

std::filesystem::path BackendDir(const RunConfig& c, const Backend& b) {
  return c.dir / std::string(b.name());
}

// A fresh, empty store of `b` for an append workload; removed again by the
// caller's FreshStore destructor.
struct FreshStore {
  FreshStore(Backend& backend, const RunConfig& c, const std::string& name, Durability d)
      : b(backend), path(BackendDir(c, backend) / name) {
    std::filesystem::remove_all(path);
    b.Open(path, d);
  }
  ~FreshStore() {
    b.Close();
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  Backend& b;
  std::filesystem::path path;
};

// Reads every byte of data of every file under `dir` (skipping the holes of
// sparse files, such as LMDB's map), so that the timed reads find the store
// in the page cache as a long-running reader would, whatever ran before.
void WarmPageCache(const std::filesystem::path& dir) {
  std::vector<char> buf(1 << 20);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    off_t at = 0;
    while ((at = ::lseek(fd, at, SEEK_DATA)) >= 0) {
      const off_t hole = ::lseek(fd, at, SEEK_HOLE);
      for (; at < hole;) {
        const ssize_t n = ::pread(fd, buf.data(), std::min<off_t>(buf.size(), hole - at), at);
        if (n <= 0) break;
        at += n;
      }
      if (at < hole) break;
    }
    ::close(fd);
  }
}

// Opens the prepared store of `n` events (dataset.h) with `durability`,
// building it first when it is missing, incomplete, or has grown by more
// than `growth` events. Decisions append to it, to the upper half of its
// tags, and allow n/5 (beyond that their reads find many more events); the
// reads use the lower half of the tags and the first type, which decisions
// never touch, and count what they find, so they accept up to n and do not
// rebuild a store just before they read it.
void OpenPrepared(Backend& b, const RunConfig& c, uint64_t n, Durability durability,
                  uint64_t growth) {
  const auto path = BackendDir(c, b) / ("store-" + std::to_string(n));
  const auto mark = BackendDir(c, b) / ("store-" + std::to_string(n) + ".complete");
  if (std::filesystem::exists(mark)) {
    try {
      b.Open(path, durability);
      const uint64_t head = b.Head();
      if (head >= n && head <= n + growth) {
        WarmPageCache(path);
        return;
      }
      b.Close();
    } catch (const BenchError& e) {
      // Written by another build with another format: build it again.
      if (c.progress) c.progress(std::string(b.name()) + ": cannot reuse store: " + e.what());
      b.Close();
    }
  }
  std::filesystem::remove(mark);
  std::filesystem::remove_all(path);
  if (c.progress) {
    c.progress(std::string(b.name()) + ": building a store of " + std::to_string(n) + " events");
  }
  b.Open(path, Durability::kBuffered);
  std::vector<Event> batch;
  for (uint64_t i = 0; i < n;) {
    batch.clear();
    for (uint64_t j = 0; j < 1000 && i < n; ++j, ++i) batch.push_back(StoredEvent(n, i));
    b.Append(batch);
  }
  if (b.Head() != n) throw BenchError(std::string(b.name()) + ": store built with a wrong head");
  b.Close();  // a clean close: everything synced
  std::ofstream(mark) << n << "\n";
  b.Open(path, durability);
}

struct OpenedStore {
  OpenedStore(Backend& backend, const RunConfig& c, uint64_t n, Durability d, uint64_t growth)
      : b(backend) {
    OpenPrepared(b, c, n, d, growth);
  }
  ~OpenedStore() { b.Close(); }
  Backend& b;
};

const char* DurabilityName(Durability d) { return d == Durability::kSync ? "sync" : "buffered"; }

[[noreturn]] void Fail(const Backend& b, const std::string& what) {
  throw BenchError(std::string(b.name()) + ": " + what);
}

// Called inside timed loops: builds no message unless the check fails.
void Expect(bool ok, const Backend& b, const char* what) {
  if (!ok) Fail(b, what);
}

// ---------------------------------------------------------------------------
// Appends: `threads` threads, each appending batches of `batch` events of its
// own, to one fresh store.

Result Appends(const WorkloadSpec& spec, Backend& b, const RunConfig& c, Durability d, int threads,
               uint64_t batch) {
  Result r = NewResult(spec, b.name(), DurabilityName(d), "events/s", threads);
  FreshStore store(b, c, spec.name, d);
  // Prebuilt events: the loop measures the store, not the building of strings.
  constexpr uint64_t kRing = 1024;
  std::vector<std::vector<Event>> events(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    for (uint64_t i = 0; i < std::max(kRing, batch); ++i) {
      events[static_cast<size_t>(t)].push_back(AppendedEvent(static_cast<uint64_t>(t), i));
    }
  }
  RunTotals totals =
      RunTimed(threads, c.seconds, [&](int t, ThreadRun& run, Clock::time_point deadline) {
        const auto& mine = events[static_cast<size_t>(t)];
        uint64_t i = 0;
        while (Clock::now() < deadline) {
          std::span<const Event> span = batch == 1 ? std::span<const Event>(&mine[i++ % kRing], 1)
                                                   : std::span<const Event>(mine.data(), batch);
          run.Timed([&] {
            Expect(b.Append(span).ok, b, "append without a condition failed");
            return span.size();
          });
        }
      });
  if (b.Head() != totals.items) Fail(b, spec.name + ": head differs from the events appended");
  Record(totals, &r);
  return r;
}

// ---------------------------------------------------------------------------
// Decisions on the prepared store of `spec.store` events: read the events of
// two tags, decide, append one event tagged with both, on the condition that
// no event of either tag came after the last one read. Every tenth decision
// of a thread is made on a stale read (`after` one below the last event
// read), so that about 10 % of decisions conflict even on one thread; more
// conflict when threads race for the same tags.

Result Decisions(const WorkloadSpec& spec, Backend& b, const RunConfig& c, int threads) {
  Result r = NewResult(spec, b.name(), "sync", "decisions/s", threads);
  OpenedStore store(b, c, spec.store, Durability::kSync, spec.store / 5);
  const uint64_t tags = TagCount(spec.store);
  // The decisions use the upper half of the tags; the reads the lower half,
  // which decisions never touch.
  const uint64_t first = tags / 2, span = tags - tags / 2;
  RunTotals totals =
      RunTimed(threads, c.seconds, [&](int t, ThreadRun& run, Clock::time_point deadline) {
        std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919 + spec.store);
        uint64_t n = 0;
        while (Clock::now() < deadline) {
          const std::string x = TagName(first + rng() % span), y = TagName(first + rng() % span);
          const bool stale = ++n % 10 == 0;
          run.Timed([&] {
            Query q = Query::ForTags({x});
            q.Or(QueryItem{{}, {y}});
            uint64_t last = 0, seen = 0;
            b.Read(q, 1, [&](const ReadEvent& e) {
              last = e.position;
              ++seen;
              return true;
            });
            // The decision: here, that a student may hold at most 1,000 subscriptions.
            if (seen >= 1000) return uint64_t{1};
            AppendCondition cond{std::move(q), stale && last > 0 ? last - 1 : last};
            const Event e = MakeEvent("StudentSubscribed", x, y, n);
            const AppendResult a = b.Append({&e, 1}, &cond);
            if (!a.ok) ++run.conflicts;
            Expect(a.ok || a.conflict_position > *cond.after, b, "a conflict below `after`");
            Expect(!stale || last == 0 || !a.ok, b, "a stale decision was accepted");
            return uint64_t{1};
          });
        }
      });
  Record(totals, &r);
  r.conflict_pct = totals.ops > 0 ? 100.0 * static_cast<double>(totals.conflicts) / totals.ops : 0;
  return r;
}

// ---------------------------------------------------------------------------
// Reads of the prepared store (one thread).

// The tags reads use: the lower half, never appended to by decisions, so
// that each holds exactly ten events.
uint64_t ReadTag(std::mt19937_64& rng, uint64_t n) {
  return rng() % (TagCount(n) / 2 > 0 ? TagCount(n) / 2 : 1);
}

// Queries for one random read tag each, built before the timed loop (the
// loop measures the read, not the building of strings).
struct TagQueries {
  TagQueries(uint64_t store, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < kRing; ++i) {
      tags.push_back(ReadTag(rng, store));
      queries.push_back(Query::ForTags({TagName(tags.back())}));
    }
  }
  static constexpr size_t kRing = 4096;
  std::vector<uint64_t> tags;
  std::vector<Query> queries;
};

// Touches what a reader of the event would: its position, type, tags and data.
uint64_t Touch(const ReadEvent& e) {
  uint64_t h = e.position + e.type.size() + e.data.size() + e.tags.size();
  if (!e.data.empty()) h += static_cast<unsigned char>(e.data[e.data.size() / 2]);
  if (!e.tags.empty()) h += e.tags[0].size();
  return h;
}

// Reads `q` through `b`, touching every event; returns how many there were.
uint64_t ReadAndCount(Backend& b, const Query& q, volatile uint64_t* sink) {
  uint64_t count = 0, h = 0;
  b.Read(q, 1, [&](const ReadEvent& e) {
    h += Touch(e);
    ++count;
    return true;
  });
  *sink = *sink + h;
  return count;
}

// Whole passes over a query until the time is up; the rate counts events.
Result Scans(const WorkloadSpec& spec, Backend& b, const RunConfig& c, const Query& q,
             uint64_t expected_per_pass) {
  Result r = NewResult(spec, b.name(), "-", "events/s", 1);
  OpenedStore store(b, c, spec.store, Durability::kBuffered, spec.store);
  const uint64_t expected = expected_per_pass == 0 ? b.Head() : expected_per_pass;
  volatile uint64_t sink = 0;
  RunTotals totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
    do {
      const uint64_t count = ReadAndCount(b, q, &sink);
      if (count != expected) {
        Fail(b, spec.name + ": a pass read " + std::to_string(count) + " events, not " +
                    std::to_string(expected));
      }
      run.items += count;
      ++run.ops;
    } while (Clock::now() < deadline);
  });
  RecordPasses(totals, &r);
  return r;
}

Result TagReads(const WorkloadSpec& spec, Backend& b, const RunConfig& c) {
  Result r = NewResult(spec, b.name(), "-", "reads/s", 1);
  OpenedStore store(b, c, spec.store, Durability::kBuffered, spec.store);
  const uint64_t per_tag = spec.store / TagCount(spec.store);
  const TagQueries ring(spec.store, 42);
  volatile uint64_t sink = 0;
  RunTotals totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
    for (size_t i = 0; Clock::now() < deadline; ++i) {
      const Query& q = ring.queries[i % TagQueries::kRing];
      run.Timed([&] {
        const uint64_t count = ReadAndCount(b, q, &sink);
        if (count != per_tag) Fail(b, "a tag read found " + std::to_string(count) + " events");
        return uint64_t{1};
      });
    }
  });
  Record(totals, &r);
  return r;
}

Result LastReads(const WorkloadSpec& spec, Backend& b, const RunConfig& c) {
  Result r = NewResult(spec, b.name(), "-", "reads/s", 1);
  OpenedStore store(b, c, spec.store, Durability::kBuffered, spec.store);
  const TagQueries ring(spec.store, 43);
  volatile uint64_t sink = 0;
  RunTotals totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
    for (size_t i = 0; Clock::now() < deadline; ++i) {
      const uint64_t tag = ring.tags[i % TagQueries::kRing];
      const Query& q = ring.queries[i % TagQueries::kRing];
      run.Timed([&] {
        uint64_t position = 0;
        Expect(b.ReadLast(q,
                          [&](const ReadEvent& e) {
                            position = e.position;
                            sink = sink + Touch(e);
                            return true;
                          }),
               b, "read_last found nothing");
        // The tag's newest event is its tenth: tag + 9 * tags, at position + 1.
        Expect(position == tag + 9 * TagCount(spec.store) + 1, b,
               "read_last found the wrong event");
        return uint64_t{1};
      });
    }
  });
  Record(totals, &r);
  return r;
}

// Opens of the prepared store after a clean close: the open and the first
// look at the head are timed, the close is not.
Result Opens(const WorkloadSpec& spec, Backend& b, const RunConfig& c) {
  Result r = NewResult(spec, b.name(), "-", "opens/s", 1);
  OpenPrepared(b, c, spec.store, Durability::kBuffered, spec.store);
  b.Close();
  const auto path = BackendDir(c, b) / ("store-" + std::to_string(spec.store));
  RunTotals totals = RunTimed(1, c.seconds, [&](int, ThreadRun& run, Clock::time_point deadline) {
    do {
      run.Timed([&] {
        b.Open(path, Durability::kBuffered);
        Expect(b.Head() >= spec.store, b, "the reopened store lost events");
        return uint64_t{1};
      });
      b.Close();
    } while (Clock::now() < deadline);
  });
  // The rate is of the opens alone: their summed time, not the closes'.
  double open_seconds = 0;
  for (uint32_t ns : totals.latencies.ns) open_seconds += ns / 1e9;
  Record(totals, &r);
  r.seconds = open_seconds;
  return r;
}

}  // namespace

const std::vector<std::string>& WorkloadNames() {
  static const std::vector<std::string> names = {
      "append_sync_1",      "append_sync_64", "append_batch_1000", "append_buffered_1",
      "read_all",           "read_tag",       "read_type",         "read_last",
      "open_clean",         "decide_sync_1",  "decide_sync_64",    "scale_read_tag",
      "scale_decide_sync_1"};
  return names;
}

Result RunWorkload(const WorkloadSpec& spec, Backend& b, const RunConfig& c) {
  const std::string& w = spec.name;
  if (w == "append_sync_1") return Appends(spec, b, c, Durability::kSync, 1, 1);
  if (w == "append_sync_64") return Appends(spec, b, c, Durability::kSync, c.many_threads, 1);
  if (w == "append_batch_1000") return Appends(spec, b, c, Durability::kSync, 1, c.batch);
  if (w == "append_buffered_1") return Appends(spec, b, c, Durability::kBuffered, 1, 1);
  if (w == "decide_sync_1" || w == "scale_decide_sync_1") return Decisions(spec, b, c, 1);
  if (w == "decide_sync_64") return Decisions(spec, b, c, c.many_threads);
  if (w == "read_all") return Scans(spec, b, c, Query::All(), 0);
  if (w == "read_type") {
    // kTypes[0]: every fourth stored event, never appended by decisions.
    return Scans(spec, b, c, Query::ForTypes({kTypes[0]}), (spec.store + 3) / 4);
  }
  if (w == "read_tag" || w == "scale_read_tag") return TagReads(spec, b, c);
  if (w == "read_last") return LastReads(spec, b, c);
  if (w == "open_clean") return Opens(spec, b, c);
  throw BenchError("unknown workload: " + w);
}

}  // namespace opossum::bench
