// Position index (index/positions): where each event lives. Entry p-1 holds
// the segment ordinal and record offset of position p (format::PackLocation).
// Derived data: rebuilt from the segments when damaged or untrusted.
// Written by the writer only for positions it is about to publish; readers
// read entries up to their snapshot's head, without a lock.
#ifndef OPOSSUM_INDEX_POSITION_INDEX_H_
#define OPOSSUM_INDEX_POSITION_INDEX_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "format/layout.h"
#include "io/growable_map.h"
#include "opossum/status.h"

namespace opossum::index {

// ON-DISK FORMAT.
constexpr uint64_t kPositionsMagic = 0x49534f5053504f4fULL;  // "OOPSPOSI"
constexpr uint64_t kPositionsHeaderSize = 64;
// A new file's size: 8,184 positions, about what a store's first 1 MiB
// segment holds; it grows when needed (GrowableMap::EnsureSize).
constexpr uint64_t kPositionsInitialSize = 64 << 10;

class PositionIndex {
 public:
  // Opens (creating when writable and missing). A file with a bad header is
  // reported as corruption; the store then rebuilds it.
  Status Open(const std::filesystem::path& path, bool writable);
  // Empties the file (for a rebuild).
  Status Reset();

  uint64_t Get(uint64_t position) const {
    return std::atomic_ref<uint64_t>(Entry(position)).load(std::memory_order_relaxed);
  }
  // Entries up to `position` can be read (the file is long enough).
  bool Covers(uint64_t position) const {
    return kPositionsHeaderSize + position * 8 <= map_.size();
  }
  Status RefreshSize() { return map_.RefreshSize(); }
  void Prefetch(uint64_t position) const {
    if (Covers(position)) __builtin_prefetch(&Entry(position));
  }
  Status Reserve(uint64_t last_position) {
    return map_.EnsureSize(kPositionsHeaderSize + last_position * 8);
  }
  void Set(uint64_t position, uint64_t location) {
    std::atomic_ref<uint64_t>(Entry(position)).store(location, std::memory_order_relaxed);
  }
  // Sets the entries of a batch found in the log (recovery, a rebuild):
  // `first_position` onwards, its records at `record_offsets` in `segment`.
  Status Fill(uint64_t first_position, uint64_t segment,
              const std::vector<uint64_t>& record_offsets);
  Status Sync() const { return map_.Sync(); }
  const std::filesystem::path& path() const { return map_.path(); }

  // Where the entry of `position` lies in the file.
  static constexpr uint64_t EntryOffset(uint64_t position) {
    return kPositionsHeaderSize + (position - 1) * 8;
  }
  // "<path> offset <n>" of that entry, for messages.
  std::string EntryWhere(uint64_t position) const;

 private:
  uint64_t& Entry(uint64_t position) const {
    return reinterpret_cast<uint64_t*>(map_.data() + kPositionsHeaderSize)[position - 1];
  }
  io::GrowableMap map_;
  bool writable_ = false;
};

}  // namespace opossum::index

#endif  // OPOSSUM_INDEX_POSITION_INDEX_H_
