// Opening a store's indexes (its index folder) together: whether the files
// there can be trusted for the log the ledger describes, and recreating them
// empty when they cannot (they are derived data: the store then rebuilds
// them from the segments).
#ifndef OPOSSUM_INDEX_INDEXES_H_
#define OPOSSUM_INDEX_INDEXES_H_

#include <cstdint>
#include <filesystem>
#include <memory>

#include "index/key_index.h"
#include "index/position_index.h"
#include "opossum/status.h"

namespace opossum::index {

// Opens the position and key indexes in `dir` (new objects in *positions
// and *keys, also when false is returned) for a log whose head is `head`
// and whose key table generation is `generation`, both read from the ledger
// before this call: a writer in another process grows the files and replaces
// the key table before it publishes them there, so files opened after that
// read are at least as far along. True when they can be trusted: every file
// present with a valid header, the key table as new as the ledger says, its
// seal (from a clean close) intact, and the positions covered. With
// `alone` (no other process has the store open), nothing may be indexed
// past `head` either.
bool OpenTrusted(const std::filesystem::path& dir, bool writable, uint64_t generation,
                 uint64_t head, bool alone, std::unique_ptr<PositionIndex>* positions,
                 std::unique_ptr<KeyIndex>* keys);

// Removes the index files in `dir` and creates them empty, for a rebuild.
Status Recreate(const std::filesystem::path& dir, uint64_t generation,
                std::unique_ptr<PositionIndex>* positions, std::unique_ptr<KeyIndex>* keys);

}  // namespace opossum::index

#endif  // OPOSSUM_INDEX_INDEXES_H_
