// Verify (every checksum, the chain, gapless positions, every index entry)
// and statistics.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "format/batch.h"
#include "format/filenames.h"
#include "format/layout.h"
#include "index/event_keys.h"
#include "io/file.h"
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
  const std::filesystem::path index_dir = format::IndexDir(path_);
  std::vector<std::string> names;
  if (!(s = io::ListDir(index_dir, &names)).ok()) return s;
  for (const std::string& name : names) {
    uint64_t size = 0;
    s = io::FileSize(index_dir / name, &size);
    if (s.IsNotFound()) continue;  // replaced since the listing (a rebuilt key table)
    if (!s.ok()) return s;
    out->bytes_on_disk += size;
  }
  uint64_t ledger_size = 0;
  if (!(s = io::FileSize(format::LedgerPath(path_), &ledger_size)).ok()) return s;
  out->bytes_on_disk += ledger_size;
  out->distinct_types = keys_->CountKind(format::KeyKind::kType);
  out->distinct_tags = keys_->CountKind(format::KeyKind::kTag);
  return Status::Ok();
}

}  // namespace opossum::internal
