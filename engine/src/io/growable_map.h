// A file that grows by whole chunks and is mapped once with a large
// reservation, so that it never has to be remapped as it grows (other
// processes' maps stay valid too). Space is reserved with posix_fallocate, so
// a full disk shows as an error when growing, never as a fault on a mapped
// write. Used by the derived index files.
#ifndef OPOSSUM_IO_GROWABLE_MAP_H_
#define OPOSSUM_IO_GROWABLE_MAP_H_

#include <atomic>
#include <cstdint>
#include <filesystem>

#include "io/file.h"

namespace opossum::io {

class GrowableMap {
 public:
  // Maps `path` (created with `initial_size` zero bytes when `create` and
  // missing) with a reservation of `reserve` bytes.
  Status Open(const std::filesystem::path& path, bool writable, bool create,
              uint64_t initial_size, uint64_t reserve);

  uint8_t* data() const { return map_.mutable_data(); }
  // The file size as this process last saw it.
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  // Makes the file at least `needed` bytes long (writer only).
  Status EnsureSize(uint64_t needed);
  // Re-reads the file size (another process may have grown it).
  Status RefreshSize();
  Status Sync() const { return map_.Sync(0, size()); }
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  File file_;
  Mapping map_;
  std::atomic<uint64_t> size_{0};
  uint64_t reserve_ = 0;
};

}  // namespace opossum::io

#endif  // OPOSSUM_IO_GROWABLE_MAP_H_
