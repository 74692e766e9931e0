// The engine's own allocations go to mimalloc (fast, thread-local free
// lists) without replacing the allocator of the application that embeds the
// library: containers on the hot paths use this allocator explicitly.
#ifndef OPOSSUM_BASE_ALLOC_H_
#define OPOSSUM_BASE_ALLOC_H_

#include <mimalloc.h>
#include <sys/mman.h>

#include <new>

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace opossum {

template <typename T>
using Vec = std::vector<T, mi_stl_allocator<T>>;

// A byte buffer owned in mimalloc, 8-byte aligned (FlatBuffers tables are
// read in place from it).
class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { mi_free(data_); }
  Buffer(Buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void Assign(const void* src, size_t n) {
    mi_free(data_);
    data_ = static_cast<uint8_t*>(mi_malloc_aligned(n == 0 ? 1 : n, 8));
    if (data_ == nullptr) throw std::bad_alloc();
    std::memcpy(data_, src, n);
    size_ = n;
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Asks for transparent huge pages over the whole 2 MiB pages inside a large
// buffer: one fault per 2 MiB instead of per 4 KiB when it is first written.
// A hint only (the kernel may ignore it).
inline void AdviseHugePages(void* p, size_t n) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(kHuge - 1);
#ifdef MADV_HUGEPAGE
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

}  // namespace opossum

#endif  // OPOSSUM_BASE_ALLOC_H_
