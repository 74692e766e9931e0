// The interface every benchmark backend implements: one event store with the
// Dynamic Consistency Boundary semantics of the engine (store.h, query.h),
// so that each workload does the same job on every backend.
//
// Semantics every backend keeps (the semantic test checks them against this
// store on a fixed workload, tests/bench/bench_backends_test.cc):
//  - positions start at 1 and are gapless; an Append is one atomic batch;
//  - a query is a list of items, an event matches when it matches ANY item;
//    an item matches when the event's type is one of its types (if it names
//    types) AND the event has ALL its tags (if it names tags); the query with
//    no items matches every event;
//  - a condition fails the append when an event matching its query has a
//    position above `after` (any position when `after` is absent); the
//    conflict reported is the NEWEST such event; nothing is written then;
//  - reads return events in position order (ReadLast: the newest match);
//  - durability kSync: the batch is on stable storage before Append returns;
//    kBuffered: it survives a crash of the process.
//
// Threads: after Open, Append, Read, ReadLast and Head may be called from any
// number of threads at once. Open and Close are called from one thread with
// no other call running.
//
// Errors: a backend throws BenchError (with the backend and what failed) on
// any failure other than a failed condition; the driver stops the run.
#ifndef OPOSSUM_BENCH_DRIVER_BACKEND_H_
#define OPOSSUM_BENCH_DRIVER_BACKEND_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "opossum/event.h"
#include "opossum/options.h"
#include "opossum/query.h"

namespace opossum::bench {

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One event as a backend hands it to a read callback. The views are valid
// only during the callback.
struct ReadEvent {
  uint64_t position = 0;
  std::string_view type;
  std::span<const std::string_view> tags;  // in the order the backend keeps
  std::string_view data;
};

// The tags of one event as views, gathered for a ReadEvent: no heap
// allocation and nothing to clear for up to kInline tags.
class TagViews {
 public:
  static constexpr size_t kInline = 8;
  void push_back(std::string_view tag) {
    if (n_ < kInline) {
      inline_[n_] = tag;
    } else {
      if (n_ == kInline) spill_.assign(inline_.begin(), inline_.end());
      spill_.push_back(tag);
    }
    ++n_;
  }
  std::span<const std::string_view> span() const {
    return n_ <= kInline ? std::span<const std::string_view>(inline_.data(), n_)
                         : std::span<const std::string_view>(spill_);
  }

 private:
  std::array<std::string_view, kInline> inline_;
  std::vector<std::string_view> spill_;
  size_t n_ = 0;
};

// Return false to stop the read early.
using ReadFn = std::function<bool(const ReadEvent&)>;

struct AppendResult {
  bool ok = true;                  // false: the condition failed, nothing written
  uint64_t last_position = 0;      // when ok: the position of the batch's last event
  uint64_t conflict_position = 0;  // when !ok: the newest event that matched
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Short lower-case name used in tables and CSV ("opossum", "sqlite", ...).
  virtual std::string_view name() const = 0;
  // One line on how the backend is set up for `durability` (for the report).
  virtual std::string Describe(Durability durability) const = 0;

  // Opens the store kept in the folder `dir` (creating both when missing).
  // A backend's files are all inside `dir`.
  virtual void Open(const std::filesystem::path& dir, Durability durability) = 0;
  // Closes cleanly (everything synced); Open may follow again.
  virtual void Close() = 0;

  // Appends `events` (non-empty) as one atomic batch when `condition` holds.
  virtual AppendResult Append(std::span<const Event> events,
                              const AppendCondition* condition = nullptr) = 0;
  // Calls `fn` for each event matching `query` with position >= `from`, in
  // position order, until `fn` returns false.
  virtual void Read(const Query& query, uint64_t from, const ReadFn& fn) = 0;
  // Calls `fn` once with the newest event matching `query`; false if none.
  virtual bool ReadLast(const Query& query, const ReadFn& fn) = 0;
  // The position of the last event (0 when empty).
  virtual uint64_t Head() = 0;
};

std::unique_ptr<Backend> NewOpossumBackend();
std::unique_ptr<Backend> NewSqliteBackend();
std::unique_ptr<Backend> NewLmdbBackend();

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_BACKEND_H_
