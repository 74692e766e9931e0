// A file that grows by whole chunks, mapped with room to grow (a
// reservation beyond its end), so that it is rarely remapped. When it
// outgrows the reservation it is mapped again, larger; the old maps stay
// valid until the object is destroyed, so a reader holding a pointer from
// data() never faults. Space is reserved with posix_fallocate, so a full disk
// shows as an error when growing, never as a fault on a mapped write. Used by
// the derived index files.
#ifndef OPOSSUM_IO_GROWABLE_MAP_H_
#define OPOSSUM_IO_GROWABLE_MAP_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "io/file.h"

namespace opossum::io {

class GrowableMap {
 public:
  // Maps `path` (created with `initial_size` zero bytes when `create` and
  // missing).
  Status Open(const std::filesystem::path& path, bool writable, bool create, uint64_t initial_size);

  uint8_t* data() const { return data_.load(std::memory_order_acquire); }
  // The file size as this process last saw it (all of it is mapped).
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  // Makes the file at least `needed` bytes long (writer only).
  Status EnsureSize(uint64_t needed);
  // Re-reads the file size (another process may have grown it).
  Status RefreshSize();
  Status Sync() const;
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  Status MapAtLeast(uint64_t size) REQUIRES(mu_);

  File file_;
  bool writable_ = false;
  mutable base::Mutex mu_;  // remaps (data_ and size_ are read without it)
  std::vector<std::unique_ptr<Mapping>> maps_ GUARDED_BY(mu_);  // the newest is current
  std::atomic<uint8_t*> data_{nullptr};
  std::atomic<uint64_t> size_{0};
  uint64_t reserve_ GUARDED_BY(mu_) = 0;
};

}  // namespace opossum::io

#endif  // OPOSSUM_IO_GROWABLE_MAP_H_
