// Store: an event store in one folder, implementing the Dynamic Consistency
// Boundary model (types, tags, positions, conditional appends).
//
//   std::unique_ptr<opossum::Store> store;
//   opossum::Status s = opossum::Store::Open("/var/lib/app", "orders", {}, &store);
//   uint64_t last = 0;
//   s = store->Append({{.type = "OrderPlaced", .tags = {"order:1"}, .data = "{}"}},
//                     opossum::AppendCondition{opossum::Query::ForTags({"order:1"}), 0},
//                     &last);
//
// Contract (docs/semantics.md): positions start at 1 and are gapless;
// an append is atomic (all its events or none, also across crashes); a read
// is a snapshot of the head when it starts; an append condition sees every
// batch committed before it, by any thread or process.
//
// Files: segments (events as checksummed FlatBuffers, append-only,
// preallocated, read through memory maps), the ledger (commit point, read by
// other processes without a lock), and derived indexes (positions, tags,
// types, ids), rebuilt from the segments when needed. See docs/.
//
// Thread safety: a Store is safe to use from any number of threads at once.
// Opening the same store twice in one process returns handles that share one
// engine. Several processes may open one store on one machine: appends are
// serialised by an OS file lock, readers take no lock. Network file systems
// are not supported.
#ifndef OPOSSUM_STORE_H_
#define OPOSSUM_STORE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "opossum/event.h"
#include "opossum/options.h"
#include "opossum/query.h"
#include "opossum/status.h"

namespace opossum {

namespace internal {
class StoreCore;
}
namespace format {
class EncodedBatch;
}

// A consistent snapshot of the store: it sees every event up to head() and
// none after. Cheap to create. Views it returns stay valid until the Store
// is closed. A Reader may be used by one thread at a time.
class Reader {
 public:
  uint64_t head() const { return head_; }

  // Calls `fn` for each matching event in order; stop early by returning
  // false. Gives kCorruption (file and offset) on a damaged record.
  Status ForEach(const Query& query, const ReadOptions& options,
                 const std::function<bool(const EventView&)>& fn) const;
  // Appends the matching events to *out (what *out held before stays, in
  // front of them).
  Status Read(const Query& query, const ReadOptions& options, std::vector<EventView>* out) const;
  // The matching event with the highest position, or none.
  Status ReadLast(const Query& query, std::optional<EventView>* out) const;
  // The event carrying `id`, or none. Costs one key-index lookup. Append
  // keeps an id unique in the store only for batches in which every event
  // carries an id; a batch in which only some do is not checked against the
  // store, so when several events carry `id` this returns one of them
  // (docs/semantics.md, "Idempotency (ids)").
  Status ReadById(const Uuid& id, std::optional<EventView>* out) const;

 private:
  friend class Store;
  Reader(std::shared_ptr<internal::StoreCore> core, uint64_t head)
      : core_(std::move(core)), head_(head) {}
  std::shared_ptr<internal::StoreCore> core_;
  uint64_t head_;
};

struct StoreStats {
  uint64_t head = 0;
  uint64_t segments = 0;
  uint64_t bytes_on_disk = 0;
  uint64_t distinct_types = 0;
  uint64_t distinct_tags = 0;
};

// A batch built event by event (Store::NewBatch): each Add checks its event
// against the store's limits and encodes it at once, into the layout the
// batch will have on disk. A large batch (an import, a bulk load) is then held
// once, encoded, rather than as Events and again encoded, and the caller may
// reuse one Event object for every Add. Appending it is exactly
// Store::Append of the same events. A Batch may be used by one thread at a
// time.
class Batch {
 public:
  // A batch checked against the default limits (Options{}); Store::NewBatch
  // gives one checked against that store's. Appending a batch checked
  // against a larger max_event_size than the store's is refused.
  Batch();
  Batch(Batch&& other) noexcept;
  Batch& operator=(Batch&& other) noexcept;
  ~Batch();

  // Checks and encodes `event`. An invalid event gives kInvalidArgument
  // naming it by its index in the batch ("event 7: ..."), and leaves the
  // batch as it was.
  Status Add(const Event& event);
  // Moves the events of `other` to the end of this batch, in order, without
  // encoding them again (for building parts of a batch on several threads).
  // `other` is left empty. The result is checked against the smaller of the
  // two batches' limits.
  void Extend(Batch&& other);
  // Room for about `bytes` of encoded events (a hint that saves regrowth).
  void Reserve(uint64_t bytes);
  size_t size() const;
  // Bytes the batch will take in a segment.
  uint64_t bytes() const;

 private:
  friend class Store;
  explicit Batch(uint32_t max_event_size);
  std::unique_ptr<format::EncodedBatch> impl_;
};

class Store {
 public:
  // Opens (or creates) the store `name` under the folder `root`. A name is
  // 1..64 letters, digits, '-', '_' and '.', not starting with '.'.
  static Status Open(const std::filesystem::path& root, std::string_view name,
                     const Options& options, std::unique_ptr<Store>* out);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Appends `events` as one atomic batch when `condition` holds, and sets
  // *last_position to the position of its last event. A failed condition
  // gives kConditionFailed with a conflicting position and writes nothing.
  // When every event carries an id and the same ids in the same order were
  // already committed, nothing is written and *last_position is the earlier
  // batch's last position; ids that only partly match are kInvalidArgument.
  Status Append(std::span<const Event> events,
                const std::optional<AppendCondition>& condition = std::nullopt,
                uint64_t* last_position = nullptr);
  Status Append(std::initializer_list<Event> events,
                const std::optional<AppendCondition>& condition = std::nullopt,
                uint64_t* last_position = nullptr) {
    return Append(std::span<const Event>(events.begin(), events.size()), condition, last_position);
  }

  // An empty batch for this store (see Batch).
  Batch NewBatch() const;
  // Appends `batch` as one atomic batch, exactly as Append of its events
  // above; the batch is consumed (empty afterwards, whatever the outcome).
  Status Append(Batch&& batch, const std::optional<AppendCondition>& condition = std::nullopt,
                uint64_t* last_position = nullptr);

  // A snapshot at the current head.
  Reader NewReader() const;

  // Shorthands that read from a fresh snapshot, as Reader's calls do. When
  // `snapshot_head` is given it receives the head of the snapshot read: the
  // `after` of a decision built on what was read (see below). Store::Head()
  // after the read is not the same thing: another writer may have appended
  // a matching event in between, and a condition with that later head would
  // not see it.
  //
  // The decision loop of the Dynamic Consistency Boundary model:
  //
  //   for (;;) {
  //     std::vector<EventView> events;
  //     uint64_t head = 0;
  //     Status s = store->Read(query, {}, &events, &head);  // 1. read
  //     State state = Fold(events);                         // 2. fold
  //     std::vector<Event> decided = Decide(state);         // 3. decide
  //     s = store->Append(decided,                          // 4. append
  //                       AppendCondition{.fail_if_events_match = query, .after = head});
  //     if (!s.IsConditionFailed()) break;  // done, or a real error
  //   }                                     // 5. another writer won: again
  Status Read(const Query& query, const ReadOptions& options, std::vector<EventView>* out,
              uint64_t* snapshot_head = nullptr) const {
    Reader r = NewReader();
    if (snapshot_head != nullptr) *snapshot_head = r.head();
    return r.Read(query, options, out);
  }
  Status ReadLast(const Query& query, std::optional<EventView>* out,
                  uint64_t* snapshot_head = nullptr) const {
    Reader r = NewReader();
    if (snapshot_head != nullptr) *snapshot_head = r.head();
    return r.ReadLast(query, out);
  }
  Status ReadById(const Uuid& id, std::optional<EventView>* out) const {
    return NewReader().ReadById(id, out);
  }

  // The position of the last committed event (0 for an empty store),
  // including other processes' appends.
  uint64_t Head() const;

  // Makes everything appended so far durable (useful in kBuffered mode).
  Status Sync();

  // Checks every record checksum, the positions and every index entry
  // against the segments. kCorruption names the first damaged file/offset.
  // `progress`, when given, is called now and then from this thread with
  // the events checked so far and the head (the total), for long checks.
  Status Verify(const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr) const;

  Status GetStats(StoreStats* out) const;

  const std::filesystem::path& path() const;

 private:
  explicit Store(std::shared_ptr<internal::StoreCore> core);
  std::shared_ptr<internal::StoreCore> core_;
};

}  // namespace opossum

#endif  // OPOSSUM_STORE_H_
