#include "index/indexes.h"

#include <algorithm>

#include "format/filenames.h"
#include "io/file.h"

namespace opossum::index {

namespace fs = std::filesystem;

bool OpenTrusted(const fs::path& dir, bool writable, uint64_t generation, uint64_t head, bool alone,
                 std::unique_ptr<PositionIndex>* positions, std::unique_ptr<KeyIndex>* keys) {
  bool ok = true;
  for (const fs::path& file : format::IndexFiles(dir)) {
    bool exists = false;
    ok = ok && io::Exists(file, &exists).ok() && exists;
  }
  *keys = std::make_unique<KeyIndex>();
  *positions = std::make_unique<PositionIndex>();
  KeyIndex& k = **keys;
  PositionIndex& p = **positions;
  ok = ok && p.Open(format::PositionsPath(dir), writable).ok();
  ok = ok && k.Open(dir, writable, generation).ok();
  ok = ok && k.generation() >= generation;
  ok = ok && k.CheckSealAndUnseal(writable).ok();
  if (!ok) return false;
  // Alone, nothing may be indexed past the commit: a writer that died
  // between indexing its group and committing it leaves entries for
  // positions that recovery may give to other events. With others, the
  // live writer's group may be indexed and not yet committed; its room in
  // the position index was made before (read the mark, then the size).
  const uint64_t indexed = k.indexed_through();
  return k.HeaderPlausible(alone ? head : UINT64_MAX) &&
         (!alone || k.SealCoversAllocEnd() || k.BlocksBelowAllocEnd()) && p.RefreshSize().ok() &&
         p.Covers(alone ? head : std::max(head, indexed));
}

Status Recreate(const fs::path& dir, uint64_t generation, std::unique_ptr<PositionIndex>* positions,
                std::unique_ptr<KeyIndex>* keys) {
  Status s;
  for (const fs::path& file : format::IndexFiles(dir)) {
    if (!(s = io::RemoveFile(file)).ok()) return s;
  }
  *positions = std::make_unique<PositionIndex>();
  *keys = std::make_unique<KeyIndex>();
  if (!(s = (*positions)->Open(format::PositionsPath(dir), true)).ok()) return s;
  return (*keys)->Open(dir, true, generation);
}

}  // namespace opossum::index
