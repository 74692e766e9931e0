#include "io/growable_map.h"

#include <algorithm>

namespace opossum::io {

namespace {
constexpr uint64_t kMinReserve = uint64_t{1} << 30;  // address space only
}

Status GrowableMap::Open(const std::filesystem::path& path, bool writable, bool create,
                         uint64_t initial_size) {
  writable_ = writable;
  File::Mode mode =
      !writable ? File::Mode::kReadOnly : (create ? File::Mode::kCreate : File::Mode::kReadWrite);
  Status s = File::Open(path, mode, &file_);
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (!(s = file_.Size(&size)).ok()) return s;
  if (writable && size < initial_size) {
    if (!(s = file_.Allocate(0, initial_size)).ok()) return s;
    size = initial_size;
  }
  base::MutexLock lock(&mu_);
  if (!(s = MapAtLeast(size)).ok()) return s;
  size_.store(size, std::memory_order_release);
  return Status::Ok();
}

Status GrowableMap::MapAtLeast(uint64_t size) {
  if (size <= reserve_ && !maps_.empty()) return Status::Ok();
  uint64_t reserve = std::max(kMinReserve, reserve_ * 4);
  while (reserve < size * 2) reserve *= 2;
  auto map = std::make_unique<Mapping>();
  Status s = Mapping::Map(file_.path(), reserve, writable_, map.get());
  if (!s.ok()) return s;
  data_.store(map->mutable_data(), std::memory_order_release);
  maps_.push_back(std::move(map));
  reserve_ = reserve;
  return Status::Ok();
}

Status GrowableMap::RefreshSize() {
  uint64_t size = 0;
  Status s = file_.Size(&size);
  if (!s.ok()) return s;
  base::MutexLock lock(&mu_);
  if (!(s = MapAtLeast(size)).ok()) return s;
  // The file only grows: a size read before another thread's EnsureSize
  // stored a larger one must not take it back.
  if (size > size_.load(std::memory_order_acquire)) size_.store(size, std::memory_order_release);
  return Status::Ok();
}

Status GrowableMap::EnsureSize(uint64_t needed) {
  if (needed <= size()) return Status::Ok();
  Status s = RefreshSize();
  if (!s.ok() || needed <= size()) return s;
  // Grow by at least half again (and 1 MiB), so growth is rare.
  uint64_t target = std::max(needed, size() + size() / 2);
  target = std::max<uint64_t>(target, 1 << 20);
  target = (target + 4095) & ~uint64_t{4095};
  if (!(s = file_.Allocate(0, target)).ok()) return s;
  base::MutexLock lock(&mu_);
  if (!(s = MapAtLeast(target)).ok()) return s;
  // Fault the new pages in with one call rather than one fault per page on
  // first write (index growth during a large batch is dominated by those
  // faults otherwise). Best effort: older kernels lack it.
  const uint64_t from = (size() + 4095) & ~uint64_t{4095};
  if (target > from) Advise(data() + from, target - from, Advice::kPopulateWrite);
  size_.store(target, std::memory_order_release);
  return Status::Ok();
}

Status GrowableMap::Sync() const {
  const Mapping* m;
  {
    base::MutexLock lock(&mu_);
    m = maps_.back().get();
  }
  return m->Sync(0, size());
}

}  // namespace opossum::io
