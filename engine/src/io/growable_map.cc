#include "io/growable_map.h"

namespace opossum::io {

Status GrowableMap::Open(const std::filesystem::path& path, bool writable, bool create,
                         uint64_t initial_size, uint64_t reserve) {
  reserve_ = reserve;
  File::Mode mode = !writable ? File::Mode::kReadOnly
                              : (create ? File::Mode::kCreate : File::Mode::kReadWrite);
  Status s = File::Open(path, mode, &file_);
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (!(s = file_.Size(&size)).ok()) return s;
  if (writable && size < initial_size) {
    if (!(s = file_.Allocate(0, initial_size)).ok()) return s;
    size = initial_size;
  }
  size_.store(size, std::memory_order_release);
  return Mapping::Map(path, reserve_, writable, &map_);
}

Status GrowableMap::RefreshSize() {
  uint64_t size = 0;
  Status s = file_.Size(&size);
  if (s.ok()) size_.store(size, std::memory_order_release);
  return s;
}

Status GrowableMap::EnsureSize(uint64_t needed) {
  if (needed <= size()) return Status::Ok();
  Status s = RefreshSize();
  if (!s.ok() || needed <= size()) return s;
  if (needed > reserve_) {
    return Status::NotSupported(file_.path().string() + " would grow past its reserved " +
                                std::to_string(reserve_) + " bytes");
  }
  // Grow by at least half again (and 1 MiB), so growth is rare.
  uint64_t target = std::max(needed, size() + size() / 2);
  target = std::max<uint64_t>(target, 1 << 20);
  target = (target + 4095) & ~uint64_t{4095};
  target = std::min(target, reserve_);
  if (!(s = file_.Allocate(0, target)).ok()) return s;
  size_.store(target, std::memory_order_release);
  return Status::Ok();
}

}  // namespace opossum::io
