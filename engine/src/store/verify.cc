// Verify (every checksum, the chain, gapless positions, every index entry)
// and statistics.
#include <algorithm>
#include <utility>

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
  // 2. The key index, against every key derived above.
  return keys_->Verify(std::move(keys), std::min(keys_->indexed_through(), head));
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
