// Verify (every checksum, the chain, gapless positions, every index entry)
// and statistics.
#include <algorithm>

#include "format/batch.h"
#include "format/filenames.h"
#include "format/layout.h"
#include "index/event_keys.h"
#include "log/log_walker.h"
#include "opossum/store.h"
#include "store/store_core.h"

namespace opossum::internal {

Status StoreCore::Verify(const std::function<void(uint64_t, uint64_t)>& progress) {
  const uint64_t head = Head();
  Status s = RefreshReaderView();
  if (!s.ok() || !(s = segments_.Refresh()).ok()) return s;
  // 1. The log: batches chained from the first segment up to the head.
  std::vector<std::pair<uint64_t, uint64_t>> keys;  // (key hash, position)
  log::LogWalker walk(&segments_, log::EmptyLogState(), true);
  while (walk.state().head < head) {
    log::LogWalker::Step step = walk.Next();
    if (step != log::LogWalker::Step::kBatch) {
      return Status::Corruption(walk.Where() + ": " +
                                (walk.why().empty()
                                     ? "the log ends before the head " + std::to_string(head)
                                     : walk.why()));
    }
    const format::BatchInfo& info = walk.info();
    for (uint32_t i = 0; i < info.count; ++i) {
      uint64_t p = info.first_position + i;
      if (p > head) break;
      if (progress && (p & 0xFFFF) == 0) progress(p, head);
      uint64_t want = format::PackLocation(walk.batch_segment(), walk.offsets()[i]);
      if (!positions_->Covers(p) || positions_->Get(p) != want) {
        return Status::Corruption(positions_->EntryWhere(p) + ": wrong entry for position " +
                                  std::to_string(p));
      }
      EventView ev;
      if (!(s = EventAt(p, &ev)).ok()) return s;
      index::ForEachEventKey(ev,
                             [&](uint64_t hash, format::KeyKind) { keys.emplace_back(hash, p); });
    }
  }
  // 2. The key index: its allocation mark lies above every block (or the
  // next new list would be written over one), every slot passes its check,
  // and the list of each key hash holds exactly the positions, up to the
  // indexed-through mark, of the events with a key of that hash.
  const std::filesystem::path index_dir = format::IndexDir(path_);
  if (!keys_->BlocksBelowAllocEnd()) {
    return Status::Corruption(format::PostingsPath(index_dir).string() +
                              ": alloc_end (offset 16) lies below a key's blocks");
  }
  const uint64_t mark = std::min(keys_->indexed_through(), head);
  std::sort(keys.begin(), keys.end());
  keys.erase(
      std::remove_if(keys.begin(), keys.end(), [mark](const auto& k) { return k.second > mark; }),
      keys.end());
  uint64_t seen_entries = 0;
  std::string bad;
  keys_->ForEachKey([&](uint64_t hash, uint8_t, const index::KeySlot* slot) {
    if (!bad.empty()) return;
    if (!index::KeyIndex::SlotIntact(slot)) {
      bad = "the slot of key " + std::to_string(hash) + " fails its check";
      return;
    }
    auto lo = std::lower_bound(keys.begin(), keys.end(), std::make_pair(hash, uint64_t{0}));
    index::PostingCursor c(keys_.get(), slot, 1, mark, false);
    auto it = lo;
    for (uint64_t p = c.Next(); p != 0; p = c.Next(), ++it) {
      if (it == keys.end() || it->first != hash || it->second != p) {
        bad = "key " + std::to_string(hash) + " lists position " + std::to_string(p) + " wrongly";
        return;
      }
      ++seen_entries;
    }
    if (c.failed()) {
      bad = "the list of key " + std::to_string(hash) + " is damaged";
      return;
    }
    if (it != keys.end() && it->first == hash) {
      bad = "key " + std::to_string(hash) + " misses position " + std::to_string(it->second);
    }
  });
  if (!bad.empty()) {
    return Status::Corruption(format::PostingsPath(index_dir).string() + ": " + bad);
  }
  if (seen_entries != keys.size()) {
    return Status::Corruption(format::KeysPath(index_dir).string() + ": " +
                              std::to_string(keys.size() - seen_entries) +
                              " index entries are missing");
  }
  return Status::Ok();
}

Status StoreCore::GetStats(StoreStats* out) {
  Status s = RefreshReaderView();
  if (!s.ok()) return s;
  s = segments_.Refresh();
  if (!s.ok()) return s;
  out->head = Head();
  out->segments = segments_.count();
  out->bytes_on_disk = segments_.bytes_on_disk();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(format::IndexDir(path_), ec)) {
    if (e.is_regular_file(ec)) out->bytes_on_disk += e.file_size(ec);
  }
  out->bytes_on_disk += std::filesystem::file_size(format::LedgerPath(path_), ec);
  out->distinct_types = keys_->CountKind(format::KeyKind::kType);
  out->distinct_tags = keys_->CountKind(format::KeyKind::kTag);
  return Status::Ok();
}

}  // namespace opossum::internal
