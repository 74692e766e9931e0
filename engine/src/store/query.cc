// The read path: candidates from the key index (or every position), each
// record located through the position index, checked, and matched against
// the query in place. Also the store side of append conditions.
#include <algorithm>
#include <memory>

#include "format/batch.h"
#include "format/filenames.h"
#include "format/key_hash.h"
#include "format/layout.h"
#include "index/damage.h"
#include "store/event_view_access.h"
#include "store/matching.h"
#include "store/store_core.h"

namespace opossum::internal {

namespace {

// A source of candidate positions in one direction; 0 ends it.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual uint64_t Next() = 0;
  // A source broke its invariants: the key index is damaged.
  virtual bool failed() const { return false; }
};

class RangeCursor final : public Cursor {
 public:
  RangeCursor(uint64_t lo, uint64_t hi, bool backwards)
      : next_(backwards ? hi : lo), lo_(lo), hi_(hi), backwards_(backwards) {}
  uint64_t Next() override {
    if (lo_ > hi_ || next_ < lo_ || next_ > hi_ || next_ == 0) return 0;
    return backwards_ ? next_-- : next_++;
  }

 private:
  uint64_t next_, lo_, hi_;
  bool backwards_;
};

class ListCursor final : public Cursor {
 public:
  ListCursor(const index::KeyIndex* keys, const index::KeySlot* slot, uint64_t lo, uint64_t hi,
             bool backwards)
      : c_(keys, slot, lo, hi, backwards) {}
  uint64_t Next() override { return c_.Next(); }
  bool failed() const override { return c_.failed(); }

 private:
  index::PostingCursor c_;
};

// The union of several ascending (or descending) sources, without repeats.
class UnionCursor final : public Cursor {
 public:
  UnionCursor(std::vector<std::unique_ptr<Cursor>> parts, bool backwards)
      : parts_(std::move(parts)), heads_(parts_.size()), backwards_(backwards) {
    for (size_t i = 0; i < parts_.size(); ++i) heads_[i] = parts_[i]->Next();
  }
  uint64_t Next() override {
    uint64_t best = 0;
    for (uint64_t h : heads_) {
      if (h == 0) continue;
      if (best == 0 || (backwards_ ? h > best : h < best)) best = h;
    }
    if (best == 0) return 0;
    for (size_t i = 0; i < parts_.size(); ++i) {
      while (heads_[i] == best) heads_[i] = parts_[i]->Next();
    }
    return best;
  }
  bool failed() const override {
    for (const auto& p : parts_) {
      if (p->failed()) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<Cursor>> parts_;
  std::vector<uint64_t> heads_;
  bool backwards_;
};

}  // namespace

Status StoreCore::CorruptRecord(uint64_t position, const log::Segment* seg, uint64_t offset,
                                const std::string& why) const {
  return Status::Corruption("segment " + seg->path.string() + " offset " + std::to_string(offset) +
                            ": " + why + " (reading position " + std::to_string(position) +
                            ", found through " + positions_->EntryWhere(position) +
                            "; if Verify finds the segment whole, that index entry is damaged)");
}

Status StoreCore::DamagedIndex() const {
  return index::Damaged(format::IndexDir(path_).string() + ": the key index is damaged");
}

void StoreCore::PrefetchRecord(uint64_t position) const {
  if (!positions_->Covers(position)) return;
  uint64_t loc = positions_->Get(position);
  const log::Segment* seg = segments_.GetIfKnown(format::LocationOrdinal(loc));
  uint64_t off = format::LocationOffset(loc);
  if (seg == nullptr || off >= seg->mapped()) return;
  // A typical record (a header and a table of a few hundred bytes) spans
  // four or five cache lines, and its checksum reads them all.
  const uint64_t end = std::min<uint64_t>(seg->mapped(), off + 320);
  for (uint64_t at = off; at < end; at += 64) __builtin_prefetch(seg->data() + at);
}

Status StoreCore::EventAt(uint64_t position, EventView* out) {
  if (!positions_->Covers(position)) {
    Status s = positions_->RefreshSize();
    if (!s.ok()) return s;
    if (!positions_->Covers(position)) {
      return Status::Corruption(positions_->path().string() + ": too short for position " +
                                std::to_string(position));
    }
  }
  uint64_t loc = positions_->Get(position);
  uint64_t ordinal = format::LocationOrdinal(loc);
  const log::Segment* seg = segments_.GetIfKnown(ordinal);
  if (seg == nullptr) seg = segments_.Get(ordinal);
  if (seg == nullptr) {
    return Status::Corruption(positions_->EntryWhere(position) + ": position " +
                              std::to_string(position) + " points to a missing segment");
  }
  const format::RecordHeader* rh;
  std::string why;
  uint64_t off = format::LocationOffset(loc);
  bool ok = format::CheckRecord(seg->data(), seg->mapped(), off, position, &rh, &why);
  if (!ok && segments_.Reload(ordinal)) {
    // Another process grew the segment (a new store's first batch larger
    // than a segment) since this one mapped it.
    seg = segments_.GetIfKnown(ordinal);
    ok = format::CheckRecord(seg->data(), seg->mapped(), off, position, &rh, &why);
  }
  if (!ok) {
    // Either file may be damaged. The index entry is wrong when it points
    // out of the segment, or at a whole record of another position.
    bool index_wrong =
        off % 8 != 0 || off > seg->mapped() || seg->mapped() - off < format::kRecordHeaderSize;
    if (!index_wrong) {
      uint64_t held = reinterpret_cast<const format::RecordHeader*>(seg->data() + off)->position;
      const format::RecordHeader* other;
      std::string ignored;
      index_wrong = held != position &&
                    format::CheckRecord(seg->data(), seg->mapped(), off, held, &other, &ignored);
    }
    if (index_wrong) {
      return index::Damaged(positions_->EntryWhere(position) + ": the entry for position " +
                            std::to_string(position) + " points to " + seg->path.string() +
                            " offset " + std::to_string(off) + ", where that record is not");
    }
    return CorruptRecord(position, seg, off, why);
  }
  *out = EventViewAccess::Make(position, rh->timestamp_ns,
                               format::TableFromBytes(reinterpret_cast<const uint8_t*>(rh + 1)));
  return Status::Ok();
}

Status StoreCore::RefreshReaderView() {
  uint64_t gen = ledger_.keys_generation();
  if (gen != keys_->generation()) return keys_->Refresh(gen);
  return Status::Ok();
}

namespace {

// Candidates for `q` within [lo, hi]: from the key index up to `mark`, and
// every position above it (not yet indexed).
std::unique_ptr<Cursor> PlanQuery(const index::KeyIndex& keys, const Query& q, uint64_t lo,
                                  uint64_t hi, uint64_t mark, bool backwards, bool* damaged) {
  if (q.items.empty()) return std::make_unique<RangeCursor>(lo, hi, backwards);
  std::vector<std::unique_ptr<Cursor>> parts;
  uint64_t ihi = std::min(hi, mark);
  for (const QueryItem& item : q.items) {
    if (!item.tags.empty()) {
      // The rarest tag bounds the item; the others are checked on the event.
      const index::KeySlot* best = nullptr;
      bool missing = false;
      for (const std::string& tag : item.tags) {
        const index::KeySlot* slot =
            keys.Find(format::KeyHash(format::KeyKind::kTag, tag), damaged);
        if (slot == nullptr) {
          missing = true;
          break;
        }
        if (best == nullptr || index::KeyIndex::Count(slot) < index::KeyIndex::Count(best)) {
          best = slot;
        }
      }
      if (!missing && lo <= ihi)
        parts.push_back(std::make_unique<ListCursor>(&keys, best, lo, ihi, backwards));
      continue;
    }
    for (const std::string& type : item.types) {
      const index::KeySlot* slot =
          keys.Find(format::KeyHash(format::KeyKind::kType, type), damaged);
      if (slot != nullptr && lo <= ihi) {
        parts.push_back(std::make_unique<ListCursor>(&keys, slot, lo, ihi, backwards));
      }
    }
  }
  if (mark < hi) {
    parts.push_back(std::make_unique<RangeCursor>(std::max(lo, mark + 1), hi, backwards));
  }
  if (parts.size() == 1) return std::move(parts[0]);
  return std::make_unique<UnionCursor>(std::move(parts), backwards);
}

}  // namespace

Status StoreCore::ForEach(uint64_t head, const Query& query, const ReadOptions& options,
                          const std::function<bool(const EventView&)>& fn) {
  Status s = ValidateQuery(query, "query");
  if (!s.ok()) return s;
  if (options.limit && *options.limit == 0) return Status::Ok();
  uint64_t lo = 1, hi = head;
  if (options.backwards) {
    if (options.from) hi = std::min(hi, *options.from);
  } else if (options.from) {
    lo = std::max<uint64_t>(1, *options.from);
  }
  if (lo > hi) return Status::Ok();
  if (!query.items.empty() && !(s = RefreshReaderView()).ok()) return s;
  uint64_t mark = keys_->indexed_through();
  bool damaged = false;
  std::unique_ptr<Cursor> c = PlanQuery(*keys_, query, lo, hi, mark, options.backwards, &damaged);
  if (damaged) return DamagedIndex();
  uint64_t left = options.limit ? *options.limit : UINT64_MAX;
  if (query.items.empty()) {
    // Consecutive positions: fetch a few records ahead of the one read.
    constexpr uint64_t kAhead = 6;
    for (uint64_t p = c->Next(); p != 0 && left > 0; p = c->Next()) {
      uint64_t ahead = options.backwards ? p - std::min(p, kAhead) : p + kAhead;
      if (ahead >= lo && ahead <= hi) PrefetchRecord(ahead);
      EventView ev;
      if (!(s = EventAt(p, &ev)).ok()) return s;
      --left;
      if (!fn(ev)) return Status::Ok();
    }
    return Status::Ok();
  }
  // Scattered positions: take them in groups and prefetch each one's index
  // entry, then its record, so the cache misses overlap instead of queueing.
  constexpr size_t kAhead = 16;
  uint64_t group[kAhead];
  while (left > 0) {
    size_t n = 0;
    for (uint64_t p; n < std::min<uint64_t>(kAhead, left) && (p = c->Next()) != 0;) group[n++] = p;
    if (n == 0) break;
    // A list that broke may have ended early: never answer past it.
    if (c->failed()) return DamagedIndex();
    if (n > 1) {
      for (size_t i = 0; i < n; ++i) positions_->Prefetch(group[i]);
      for (size_t i = 0; i < n; ++i) PrefetchRecord(group[i]);
    }
    for (size_t i = 0; i < n && left > 0; ++i) {
      EventView ev;
      if (!(s = EventAt(group[i], &ev)).ok()) return s;
      if (!Matches(ev, query)) continue;
      --left;
      if (!fn(ev)) return Status::Ok();
    }
  }
  if (c->failed()) return DamagedIndex();
  return Status::Ok();
}

Status StoreCore::FindId(const Uuid& id, uint64_t head, uint64_t* position) {
  *position = 0;
  const uint64_t mark = std::min(keys_->indexed_through(), head);
  bool damaged = false;
  const index::KeySlot* slot = keys_->Find(format::IdKeyHash(id), &damaged);
  if (damaged) return DamagedIndex();
  // Ids hash into the key index: a slot lists every event whose id shares the
  // hash, so each candidate's own id decides.
  if (slot != nullptr) {
    index::PostingCursor c(keys_.get(), slot, 1, mark, true);
    for (uint64_t p = c.Next(); p != 0; p = c.Next()) {
      EventView ev;
      Status s = EventAt(p, &ev);
      if (!s.ok()) return s;
      if (ev.id() == id) {
        *position = p;
        return Status::Ok();
      }
    }
    if (c.failed()) return DamagedIndex();
  }
  for (uint64_t p = mark + 1; p <= head; ++p) {  // not yet indexed
    EventView ev;
    Status s = EventAt(p, &ev);
    if (!s.ok()) return s;
    if (ev.id() == id) {
      *position = p;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status StoreCore::ReadById(uint64_t head, const Uuid& id, std::optional<EventView>* out) {
  out->reset();
  Status s = RefreshReaderView();
  if (!s.ok()) return s;
  uint64_t position = 0;
  if (!(s = FindId(id, head, &position)).ok() || position == 0) return s;
  EventView ev;
  if (!(s = EventAt(position, &ev)).ok()) return s;
  *out = ev;
  return Status::Ok();
}

uint64_t StoreCore::CheckCondition(const AppendCondition& c, const std::vector<Pending*>& accepted,
                                   Status* error) {
  const uint64_t after = c.after.value_or(0);
  // Batches accepted earlier in this group, newest first.
  for (auto it = accepted.rbegin(); it != accepted.rend(); ++it) {
    const Pending* a = *it;
    for (size_t i = a->batch.size(); i-- > 0;) {
      uint64_t pos = a->first_position + i;
      if (pos > after && EncodedMatches(a->batch, i, c.fail_if_events_match)) return pos;
    }
  }
  // The store: the newest match above `after`.
  const uint64_t head = log_.head();
  if (after >= head) return 0;
  uint64_t mark = keys_->indexed_through();
  bool damaged = false;
  std::unique_ptr<Cursor> cur =
      PlanQuery(*keys_, c.fail_if_events_match, after + 1, head, mark, true, &damaged);
  if (damaged) {
    *error = DamagedIndex();
    return 0;
  }
  for (uint64_t p = cur->Next(); p != 0; p = cur->Next()) {
    EventView ev;
    Status s = EventAt(p, &ev);
    if (!s.ok()) {
      *error = s;
      return 0;
    }
    if (Matches(ev, c.fail_if_events_match)) return p;
  }
  if (cur->failed()) *error = DamagedIndex();
  return 0;
}

}  // namespace opossum::internal
