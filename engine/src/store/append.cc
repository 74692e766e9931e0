// The append path: checking and encoding, the group commit queue, and the
// leader's work under the OS write lock (see store_core.h): catch up,
// decide each batch's idempotency and condition, then the log writer
// (log/log_writer.h) writes, the indexes take the new events, and the log
// writer commits.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "format/checksum.h"
#include "format/layout.h"
#include "index/event_keys.h"
#include "store/matching.h"
#include "store/store_core.h"

namespace opossum::internal {

Status StoreCore::Append(std::span<const Event> events,
                         const std::optional<AppendCondition>& condition, uint64_t* last_position) {
  if (!writable_) return Status::NotSupported("the store was opened read-only");
  if (events.empty())
    return Status::InvalidArgument("the batch is empty (append at least one event)");
  format::EncodedBatch batch(options_.max_event_size);
  uint64_t estimate = format::kBatchHeaderSize;
  for (const Event& e : events) estimate += e.data.size() + e.type.size() + 16 * e.tags.size() + 96;
  batch.Reserve(estimate);
  for (const Event& e : events) {
    Status s = batch.Add(e);
    if (!s.ok()) return s;
  }
  return Append(std::move(batch), condition, last_position);
}

Status StoreCore::Append(format::EncodedBatch&& batch,
                         const std::optional<AppendCondition>& condition, uint64_t* last_position) {
  if (!writable_) return Status::NotSupported("the store was opened read-only");
  if (batch.empty())
    return Status::InvalidArgument("the batch is empty (append at least one event)");
  if (batch.size() > UINT32_MAX) {
    return Status::InvalidArgument("the batch has " + std::to_string(batch.size()) +
                                   " events (the limit is 4294967295)");
  }
  auto pending = std::make_shared<Pending>();
  Pending& p = *pending;
  p.batch = std::move(batch);
  p.all_ids = p.batch.all_ids();
  p.bytes = p.batch.length();
  if (p.batch.any_ids()) {
    const format::EncodedBatch& b = p.batch;
    std::unordered_set<uint64_t> ids;
    for (size_t i = 0; i < b.size(); ++i) {
      if (!b.has_id(i)) continue;
      const auto& id = b.id(i).bytes;
      if (!ids.insert(format::Hash64(id.data(), id.size())).second) {
        for (size_t j = 0; j < i; ++j) {
          if (b.has_id(j) && b.id(j) == b.id(i)) {
            return Status::InvalidArgument("event " + std::to_string(i) + ": id " +
                                           b.id(i).ToString() + " appears twice in the batch");
          }
        }
      }
    }
  }
  if (condition) {
    Status s = ValidateQuery(condition->fail_if_events_match, "condition query");
    if (!s.ok()) return s;
    p.condition = &*condition;
  }

  queue_mu_.Lock();
  queue_.push_back(pending);
  if (leader_busy_) {
    queue_mu_.Unlock();
    // All waiters sleep on one word, so a leader wakes a whole group with a
    // single system call; each then looks at its own state. (libstdc++'s
    // atomic wait spins and yields briefly first, which measured faster
    // here than sleeping at once.)
    while (true) {
      uint64_t epoch = wake_epoch_.load(std::memory_order_acquire);
      if (p.state.load(std::memory_order_acquire) != kWaiting) break;
      wake_epoch_.wait(epoch, std::memory_order_acquire);
    }
    if (p.state.load(std::memory_order_acquire) == kLead) {
      queue_mu_.Lock();
      LeadGroups(0);
    }
  } else {
    leader_busy_ = true;
    LeadGroups(0);
  }
  if (p.status.ok() && last_position != nullptr) *last_position = p.last_position;
  return p.status;
}

// Commits the queue as one group and hands leadership to the first appender
// still queued (or ends it). Called with queue_mu_ held and leader_busy_ set.
void StoreCore::LeadGroups(int rounds) {
  std::vector<std::shared_ptr<Pending>> group;
  std::vector<Pending*> raw;
  uint64_t bytes = 0;
  while (!queue_.empty() &&
         (group.empty() || bytes + queue_.front()->bytes <= options_.max_group_bytes)) {
    bytes += queue_.front()->bytes;
    raw.push_back(queue_.front().get());
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queue_mu_.Unlock();
  CommitGroup(raw);
  // `group` keeps each Pending alive while its appender is woken.
  for (auto& g : group) g->state.store(kDone, std::memory_order_release);
  wake_epoch_.fetch_add(1, std::memory_order_release);
  wake_epoch_.notify_all();
  queue_mu_.Lock();
  if (queue_.empty()) {
    leader_busy_ = false;
  } else if (rounds + 1 < kLeaderRounds) {
    // Lead the next group too: handing over costs a context switch.
    LeadGroups(rounds + 1);
    return;
  } else {
    queue_.front()->state.store(kLead, std::memory_order_release);
    queue_mu_.Unlock();
    wake_epoch_.fetch_add(1, std::memory_order_release);
    wake_epoch_.notify_all();
    return;
  }
  queue_mu_.Unlock();
}

Status StoreCore::CatchUpLocked() {
  bool moved = false;
  Status s = log_.Follow(&moved);
  if (!s.ok()) return s;
  if (moved) {
    // Another process committed since: follow its index files too.
    if (ledger_.keys_generation() != keys_->generation()) {
      if (!(s = keys_->Refresh(ledger_.keys_generation())).ok()) return s;
    }
    if (!(s = positions_->RefreshSize()).ok()) return s;
    if (!(s = keys_->RefreshPostingsSize()).ok()) return s;
  }
  bool changed = false;
  if (!(s = log_.AdoptTail(FillPositions(), &changed)).ok()) return s;
  if (!(s = IndexCatchUpLocked()).ok()) return s;
  if (changed) log_.Commit(/*checkpoint=*/false);
  return Status::Ok();
}

Status StoreCore::CheckIdempotency(const Pending& p, const std::vector<Pending*>& accepted,
                                   uint64_t* duplicate_last) {
  *duplicate_last = 0;
  const format::EncodedBatch& pb = p.batch;
  const size_t n = pb.size();
  // Batches accepted earlier in this group.
  for (const Pending* a : accepted) {
    const format::EncodedBatch& ab = a->batch;
    if (!ab.any_ids()) continue;
    size_t same = 0;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < ab.size(); ++j) {
        if (ab.has_id(j) && ab.id(j) == pb.id(i)) ++same;
      }
    }
    if (same == 0) continue;
    bool exact = same == n && ab.size() == n;
    for (size_t i = 0; exact && i < n; ++i) exact = ab.has_id(i) && ab.id(i) == pb.id(i);
    if (!exact)
      return Status::InvalidArgument("the batch's ids only partly match an earlier batch");
    *duplicate_last = a->first_position + n - 1;
    return Status::Ok();
  }
  // Committed batches.
  const uint64_t head = log_.head();
  uint64_t first = 0;
  Status s = FindId(pb.id(0), head, &first);
  if (!s.ok()) return s;
  if (first != 0) {
    bool exact = first + n - 1 <= head;
    for (size_t i = 1; exact && i < n; ++i) {
      EventView ev;
      if (!(s = EventAt(first + i, &ev)).ok()) return s;
      exact = ev.id() == pb.id(i);
    }
    if (exact) {
      // The same batch, not a part of a larger one: its first record sits
      // right after its batch header, and the header counts n events.
      uint64_t loc = positions_->Get(first);
      const log::Segment* seg = segments_.Get(format::LocationOrdinal(loc));
      uint64_t off = format::LocationOffset(loc);
      format::BatchHeader bh{};
      if (seg != nullptr && off >= format::kBatchHeaderSize && off <= seg->mapped()) {
        std::memcpy(&bh, seg->data() + off - format::kBatchHeaderSize, sizeof(bh));
      }
      exact = bh.magic == format::kBatchMagic && bh.first_position == first && bh.count == n;
    }
    if (exact) {
      *duplicate_last = first + n - 1;
      return Status::Ok();
    }
    return Status::InvalidArgument(
        "the batch's ids only partly match the batch committed at position " +
        std::to_string(first));
  }
  for (size_t i = 1; i < n; ++i) {
    uint64_t pos = 0;
    if (!(s = FindId(pb.id(i), head, &pos)).ok()) return s;
    if (pos != 0) {
      return Status::InvalidArgument("event " + std::to_string(i) + ": id " + pb.id(i).ToString() +
                                     " was already committed at position " + std::to_string(pos) +
                                     " in another batch");
    }
  }
  return Status::Ok();
}

void StoreCore::CommitGroup(std::vector<Pending*>& group) {
  base::MutexLock wl(&write_mu_);
  auto fail_all = [&](const Status& s) {
    for (Pending* g : group) g->status = s;
  };
  Status s = write_lock_.Lock(options_.lock_timeout);
  if (!s.ok()) return fail_all(s);
  struct Unlocker {
    io::FileLock* l;
    ~Unlocker() { l->Unlock().IgnoreError(); }  // see FileLock::Unlock
  } unlocker{&write_lock_};
  if (!(s = CatchUpLocked()).ok()) return fail_all(s);

  // Decide, in order: each batch sees the ones accepted before it.
  const uint64_t head = log_.head();
  std::vector<Pending*> accepted;
  uint64_t next = head + 1;
  uint64_t new_keys = 0;
  for (Pending* g : group) {
    if (g->all_ids) {
      uint64_t dup = 0;
      g->status = CheckIdempotency(*g, accepted, &dup);
      if (!g->status.ok()) continue;
      if (dup != 0) {
        g->last_position = dup;
        continue;
      }
    }
    if (g->condition != nullptr) {
      Status err;
      uint64_t conflict = CheckCondition(*g->condition, accepted, &err);
      if (!err.ok()) {
        g->status = err;
        continue;
      }
      if (conflict != 0) {
        g->status = Status::ConditionFailed(conflict);
        continue;
      }
    }
    g->first_position = next;
    next += g->batch.size();
    new_keys += 2 * g->batch.size() + g->batch.tag_count();
    accepted.push_back(g);
  }
  if (accepted.empty()) return;
  auto fail_accepted = [&](const Status& st) {
    for (Pending* g : accepted) g->status = st;
  };

  // Room in the indexes first, so that a full disk shows before the bytes
  // are durable. Every key entry might be a new key; for a large group that
  // bound is far above the truth (a million events with two tags each would
  // size the table for four million keys), so beyond kReserveKeys the table
  // grows as keys come. A failure then only leaves the index behind the
  // head: readers scan the rest and the next writer catches up.
  constexpr uint64_t kReserveKeys = uint64_t{1} << 16;
  bool grown = false;
  if (!(s = positions_->Reserve(next - 1)).ok()) return fail_accepted(s);
  if (!(s = keys_->Reserve(std::min(new_keys, kReserveKeys), &grown)).ok()) {
    return fail_accepted(s);
  }
  if (grown) ledger_.SetKeysGeneration(keys_->generation());

  // The log writer assigns the positions after the head, in this order.
  thread_local std::vector<format::EncodedBatch*> batches;
  batches.clear();
  for (Pending* g : accepted) batches.push_back(&g->batch);
  std::vector<uint64_t> locations;
  locations.reserve(next - head - 1);
  if (!(s = log_.Write(batches, &locations)).ok()) return fail_accepted(s);

  // Index, then commit and publish.
  uint64_t p = head + 1;
  for (uint64_t loc : locations) positions_->Set(p++, loc);
  if (keys_->indexed_through() == head) {
    thread_local std::vector<index::KeyIndex::Entry> entries;
    entries.clear();
    entries.reserve(new_keys);
    for (Pending* g : accepted) {
      for (size_t i = 0; i < g->batch.size(); ++i) {
        const uint64_t pos = g->first_position + i;
        index::ForEachEventKey(g->batch, i, [pos](uint64_t hash, format::KeyKind kind) {
          entries.push_back({hash, kind, pos});
        });
      }
    }
    // A failure here (disk full) only leaves the index behind the head:
    // readers scan the rest, and the next writer catches up.
    if (keys_->InsertAll(entries, &grown).ok()) keys_->SetIndexedThrough(next - 1);
  }
  if (grown) ledger_.SetKeysGeneration(keys_->generation());
  log_.Commit(/*checkpoint=*/options_.durability == Durability::kSync);
  for (Pending* g : accepted) g->last_position = g->first_position + g->batch.size() - 1;

  // Now and then: a checkpoint on stable storage bounds recovery after a
  // machine restart (and, in buffered mode, what a power loss can take).
  int64_t now = io::NowNs();
  // A checkpoint that fails (a full disk, an I/O error) leaves the previous
  // one in force; the group is committed all the same (in buffered mode the
  // appenders were promised the OS cache, no more), and the next group tries
  // again instead of a second later.
  if (now - last_ledger_sync_ns_ > 1'000'000'000 && log_.Checkpoint().ok()) {
    last_ledger_sync_ns_ = now;
  }
}

Status StoreCore::Sync() {
  if (!writable_) return Status::Ok();
  base::MutexLock wl(&write_mu_);
  Status s = write_lock_.Lock(options_.lock_timeout);
  if (!s.ok()) return s;
  s = CatchUpLocked();
  if (s.ok()) s = log_.Checkpoint();
  write_lock_.Unlock().IgnoreError();  // see FileLock::Unlock
  return s;
}

}  // namespace opossum::internal
