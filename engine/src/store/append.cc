// The append path: checking and encoding, the group commit queue, and the
// leader's work under the OS write lock (see store_core.h).
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <unordered_set>

#include "format/batch.h"
#include "format/checksum.h"
#include "format/layout.h"
#include "store/matching.h"
#include "store/store_core.h"

namespace opossum::internal {



Status StoreCore::Append(std::span<const Event> events,
                         const std::optional<AppendCondition>& condition,
                         uint64_t* last_position) {
  if (!writable_) return Status::NotSupported("the store was opened read-only");
  if (events.empty()) return Status::InvalidArgument("the batch is empty (append at least one event)");
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
                         const std::optional<AppendCondition>& condition,
                         uint64_t* last_position) {
  if (!writable_) return Status::NotSupported("the store was opened read-only");
  if (batch.empty()) return Status::InvalidArgument("the batch is empty (append at least one event)");
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

  std::unique_lock<std::mutex> lk(queue_mu_);
  queue_.push_back(pending);
  if (leader_busy_) {
    lk.unlock();
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
      lk.lock();
      LeadGroups(lk, 0);
    }
  } else {
    leader_busy_ = true;
    LeadGroups(lk, 0);
  }
  if (p.status.ok() && last_position != nullptr) *last_position = p.last_position;
  return p.status;
}

// Commits the queue as one group and hands leadership to the first appender
// still queued (or ends it). Called with queue_mu_ held and leader_busy_ set.
void StoreCore::LeadGroups(std::unique_lock<std::mutex>& lk, int rounds) {
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
  lk.unlock();
  CommitGroup(raw);
  // `group` keeps each Pending alive while its appender is woken.
  for (auto& g : group) g->state.store(kDone, std::memory_order_release);
  wake_epoch_.fetch_add(1, std::memory_order_release);
  wake_epoch_.notify_all();
  lk.lock();
  if (queue_.empty()) {
    leader_busy_ = false;
  } else if (rounds + 1 < kLeaderRounds) {
    // Lead the next group too: handing over costs a context switch.
    LeadGroups(lk, rounds + 1);
    return;
  } else {
    queue_.front()->state.store(kLead, std::memory_order_release);
    lk.unlock();
    wake_epoch_.fetch_add(1, std::memory_order_release);
    wake_epoch_.notify_all();
    return;
  }
  lk.unlock();
}

Status StoreCore::CatchUpLocked() {
  log::LogState st;
  if (!ledger_.LatestCommit(&st)) {
    return Status::Corruption("ledger " + ledger_.path().string() +
                              ": no valid commit slot (offset 256)");
  }
  Status s;
  if (st.seq != state_.seq) {
    // Another process committed since: follow its files.
    state_ = st;
    if (ledger_.segment_count() != segments_.count()) {
      if (!(s = segments_.Refresh()).ok()) return s;
    }
    if (const log::Segment* seg = segments_.Get(state_.segment);
        seg != nullptr && state_.end_offset > seg->mapped()) {
      segments_.Reload(state_.segment);  // grown by the other process
    }
    if (ledger_.keys_generation() != keys_->generation()) {
      if (!(s = keys_->Refresh(ledger_.keys_generation())).ok()) return s;
    }
    if (!(s = positions_->RefreshSize()).ok()) return s;
    if (!(s = keys_->RefreshPostingsSize()).ok()) return s;
  }
  bool changed = false;
  if (!(s = AdoptTailLocked(&changed)).ok()) return s;
  if (!(s = IndexCatchUpLocked()).ok()) return s;
  if (changed) {
    ledger_.WriteCommit(&state_);
    ledger_.Publish(state_.head);
  }
  return Status::Ok();
}

Status StoreCore::IndexEventKeys(const EventView& ev, bool* grown) {
  uint64_t p = ev.position();
  Status s = keys_->Insert(format::KeyHash(format::KeyKind::kType, ev.type()),
                           format::KeyKind::kType, p, grown);
  for (size_t i = 0; s.ok() && i < ev.tag_count(); ++i) {
    s = keys_->Insert(format::KeyHash(format::KeyKind::kTag, ev.tag(i)), format::KeyKind::kTag, p,
                      grown);
  }
  if (s.ok()) {
    if (auto id = ev.id()) {
      s = keys_->Insert(format::KeyHash(format::KeyKind::kId,
                                        std::string_view(reinterpret_cast<const char*>(
                                                             id->bytes.data()),
                                                         16)),
                        format::KeyKind::kId, p, grown);
    }
  }
  return s;
}

Status StoreCore::IndexCatchUpLocked() {
  uint64_t from = keys_->indexed_through();
  if (from >= state_.head) return Status::Ok();
  bool grown = false;
  Status s;
  for (uint64_t p = from + 1; p <= state_.head; ++p) {
    EventView ev;
    if (!(s = EventAt(p, &ev)).ok()) break;
    if (!(s = IndexEventKeys(ev, &grown)).ok()) break;
    keys_->SetIndexedThrough(p);
  }
  if (grown) ledger_.SetKeysGeneration(keys_->generation());
  return s;
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
    if (!exact) return Status::InvalidArgument("the batch's ids only partly match an earlier batch");
    *duplicate_last = a->first_position + n - 1;
    return Status::Ok();
  }
  // Committed batches.
  const uint64_t head = state_.head;
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
    return Status::InvalidArgument("the batch's ids only partly match the batch committed at position " +
                                   std::to_string(first));
  }
  for (size_t i = 1; i < n; ++i) {
    uint64_t pos = 0;
    if (!(s = FindId(pb.id(i), head, &pos)).ok()) return s;
    if (pos != 0) {
      return Status::InvalidArgument("event " + std::to_string(i) + ": id " +
                                     pb.id(i).ToString() +
                                     " was already committed at position " + std::to_string(pos) +
                                     " in another batch");
    }
  }
  return Status::Ok();
}

Status StoreCore::SegmentFile(uint64_t ordinal, io::File** out) {
  if (write_ordinal_ != ordinal || !write_file_.is_open()) {
    Status s = segments_.OpenForWrite(ordinal, &write_file_);
    if (!s.ok()) return s;
    write_ordinal_ = ordinal;
  }
  *out = &write_file_;
  return Status::Ok();
}

// Where one segment's share of a group goes: the batches iov[iov_begin,
// iov_end) (each batch's own sealed buffer, written without a copy), `bytes`
// in all, at `file_offset`.
struct StoreCore::Placement {
  uint64_t ordinal;
  uint64_t file_offset;
  size_t iov_begin;
  size_t iov_end;
  uint64_t bytes;
};

Status StoreCore::WriteGroup(const std::vector<Pending*>& accepted, std::vector<uint64_t>* locations,
                             uint64_t* checksum) {
  thread_local std::vector<struct iovec> iov;
  iov.clear();
  std::vector<Placement> pieces;
  uint64_t ordinal = state_.segment;
  uint64_t off = state_.end_offset;
  uint64_t chain = state_.last_checksum;
  const int64_t now = io::NowNs();
  Status s;
  const log::Segment* seg = segments_.Get(ordinal);
  if (seg == nullptr) return Status::Corruption("segment " + std::to_string(ordinal) + " is missing");
  pieces.push_back({ordinal, off, 0, 0, 0});
  for (Pending* p : accepted) {
    const uint64_t len = p->batch.length();
    if (off + len > seg->size && off == format::kSegmentHeaderSize) {
      // The segment holds no batch yet (only a new store's first one can be
      // empty): make it large enough, rather than start a second segment at
      // the same first position (the same file name).
      if (!(s = segments_.Grow(ordinal, format::Align8(format::kSegmentHeaderSize + len))).ok()) {
        return s;
      }
      seg = segments_.Get(ordinal);
    } else if (off + len > seg->size) {
      // Start a new segment: the batch goes whole into one segment.
      if (pieces.back().iov_begin == iov.size()) {
        pieces.pop_back();
        // Buffered bytes (of this or another process, in either mode) stay
        // unsynced only in the segment the log ends in: sync the one we leave.
        io::File* f;
        if (!(s = SegmentFile(ordinal, &f)).ok() || !(s = f->DataSync()).ok()) return s;
      } else {
        pieces.back().iov_end = iov.size();
      }
      ++ordinal;
      // A writer that died before using a segment it created may have left
      // the file (even before counting it in the ledger): look, and remove.
      if (!(s = segments_.Refresh()).ok()) return s;
      if (segments_.count() > ordinal || !segments_.torn_path().empty()) {
        if (!(s = segments_.RemoveFrom(ordinal)).ok()) return s;
      }
      uint64_t size = std::max(options_.segment_size,
                               format::Align8(format::kSegmentHeaderSize + len));
      if (!(s = segments_.Create(ordinal, p->first_position, size)).ok()) return s;
      ledger_.SetSegmentCount(segments_.count());
      seg = segments_.Get(ordinal);
      off = format::kSegmentHeaderSize;
      pieces.push_back({ordinal, off, iov.size(), 0, 0});
    }
    chain = p->batch.Seal(p->first_position, now, chain);
    for (size_t i = 0; i < p->batch.size(); ++i) {
      locations->push_back(format::PackLocation(ordinal, off + p->batch.record_offset(i)));
    }
    for (size_t k = 0; k < p->batch.piece_count(); ++k) {
      iov.push_back({const_cast<uint8_t*>(p->batch.piece_data(k)), p->batch.piece_size(k)});
    }
    pieces.back().bytes += len;
    off += len;
  }
  pieces.back().iov_end = iov.size();

  // Write, then sync: one pwritev and one fdatasync per segment touched.
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Placement& pc = pieces[i];
    io::File* f;
    if (!(s = SegmentFile(pc.ordinal, &f)).ok()) break;
    if (!(s = f->PWriteV(iov.data() + pc.iov_begin, static_cast<int>(pc.iov_end - pc.iov_begin),
                         pc.file_offset))
             .ok())
      break;
    bool last = i + 1 == pieces.size();
    if (options_.durability == Durability::kSync || !last) {
      if (!(s = f->DataSync()).ok()) break;
    }
  }
  const bool protect = s.ok() && options_.write_protect_segments && ordinal != state_.segment;
  if (protect) {
    // Every segment this group left is synced and will never be written
    // again. Before the commit, so that a failed chmod still fails the group.
    for (uint64_t o = state_.segment; s.ok() && o < ordinal; ++o) {
      s = segments_.SetProtected(o, true);
    }
  }
  if (!s.ok()) {
    // The log still ends where the group began: give back the write bits
    // taken above (best effort: OpenForWrite gives them back too).
    for (uint64_t o = state_.segment; protect && o < ordinal; ++o) {
      segments_.SetProtected(o, false);
    }
    // Nothing of a failed group may ever be taken for a batch (a whole batch
    // left in the page cache would look like one a dead writer left). Mark
    // where it began in the ledger, so that every writer zeroes instead of
    // adopting there, then try to zero it now.
    ledger_.MarkFailedWrite(state_.segment, state_.end_offset);
    ledger_.Sync();
    bool zeroed = true;
    for (const Placement& pc : pieces) {
      io::File* f;
      std::vector<uint8_t> zeros(pc.bytes, 0);
      zeroed = zeroed && SegmentFile(pc.ordinal, &f).ok() &&
               f->PWrite(zeros.data(), zeros.size(), pc.file_offset).ok() && f->DataSync().ok();
    }
    if (zeroed && ordinal == state_.segment) ledger_.ClearFailedWrite();
    return s;
  }
  state_.segment = ordinal;
  state_.end_offset = off;
  *checksum = chain;
  return Status::Ok();
}

void StoreCore::CommitGroup(std::vector<Pending*>& group) {
  std::lock_guard<std::mutex> wl(write_mu_);
  auto fail_all = [&](const Status& s) {
    for (Pending* g : group) g->status = s;
  };
  Status s = write_lock_.Lock(options_.lock_timeout);
  if (!s.ok()) return fail_all(s);
  struct Unlocker {
    io::FileLock* l;
    ~Unlocker() { l->Unlock(); }
  } unlocker{&write_lock_};
  if (!(s = CatchUpLocked()).ok()) return fail_all(s);

  // Decide, in order: each batch sees the ones accepted before it.
  std::vector<Pending*> accepted;
  uint64_t next = state_.head + 1;
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

  std::vector<uint64_t> locations;
  locations.reserve(next - state_.head - 1);
  uint64_t checksum = 0;
  if (!(s = WriteGroup(accepted, &locations, &checksum)).ok()) return fail_accepted(s);

  // Index, then publish.
  uint64_t p = state_.head + 1;
  for (uint64_t loc : locations) positions_->Set(p++, loc);
  if (keys_->indexed_through() == state_.head) {
    thread_local std::vector<index::KeyIndex::Entry> entries;
    entries.clear();
    entries.reserve(new_keys);
    for (Pending* g : accepted) {
      const format::EncodedBatch& b = g->batch;
      for (size_t i = 0; i < b.size(); ++i) {
        uint64_t pos = g->first_position + i;
        entries.push_back({b.type_hash(i), format::KeyKind::kType, pos});
        for (uint64_t h : b.tag_hashes(i)) entries.push_back({h, format::KeyKind::kTag, pos});
        if (b.has_id(i)) {
          entries.push_back({format::KeyHash(format::KeyKind::kId,
                                             std::string_view(reinterpret_cast<const char*>(
                                                                  b.id(i).bytes.data()),
                                                              16)),
                             format::KeyKind::kId, pos});
        }
      }
    }
    // A failure here (disk full) only leaves the index behind the head:
    // readers scan the rest, and the next writer catches up.
    if (keys_->InsertAll(entries, &grown).ok()) keys_->SetIndexedThrough(next - 1);
  }
  if (grown) ledger_.SetKeysGeneration(keys_->generation());
  state_.head = next - 1;
  state_.last_checksum = checksum;
  ledger_.WriteCommit(&state_);
  if (options_.durability == Durability::kSync) ledger_.WriteCheckpoint(state_);
  ledger_.Publish(state_.head);
  for (Pending* g : accepted) g->last_position = g->first_position + g->batch.size() - 1;

  // Now and then: a checkpoint on stable storage bounds recovery after a
  // machine restart (and, in buffered mode, what a power loss can take).
  int64_t now = io::NowNs();
  if (now - last_ledger_sync_ns_ > 1'000'000'000) {
    CheckpointLocked();
    last_ledger_sync_ns_ = now;
  }
}

Status StoreCore::CheckpointLocked() {
  // The segment the log ends in may hold unsynced bytes of any buffered
  // writer (this process or another): sync it before the checkpoint says so.
  io::File* f;
  Status s = SegmentFile(state_.segment, &f);
  if (!s.ok() || !(s = f->DataSync()).ok()) return s;
  log::LogState st;
  if (ledger_.LatestCommit(&st)) ledger_.WriteCheckpoint(st);
  return ledger_.Sync();
}

Status StoreCore::Sync() {
  if (!writable_) return Status::Ok();
  std::lock_guard<std::mutex> wl(write_mu_);
  Status s = write_lock_.Lock(options_.lock_timeout);
  if (!s.ok()) return s;
  s = CatchUpLocked();
  if (s.ok()) s = CheckpointLocked();
  write_lock_.Unlock();
  return s;
}

}  // namespace opossum::internal
