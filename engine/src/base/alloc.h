// The engine's own allocations go to mimalloc (fast, thread-local free
// lists) without replacing the allocator of the application that embeds the
// library: containers on the hot paths use this allocator explicitly.
//
// Under ThreadSanitizer they go to the system allocator instead. mimalloc is
// an uninstrumented library: a block freed by one thread goes back to its
// owner through mimalloc's own atomics, which TSan cannot see, so the owner's
// next use of the block is reported as a race with the freeing thread's last
// use of the old one. TSan intercepts malloc/free and knows that a freed
// block is new memory when handed out again; what it then checks is the
// engine's own synchronization, which is the same with either allocator.
#ifndef OPOSSUM_BASE_ALLOC_H_
#define OPOSSUM_BASE_ALLOC_H_

#if defined(__SANITIZE_THREAD__)
#define OPOSSUM_SYSTEM_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OPOSSUM_SYSTEM_ALLOC 1
#endif
#endif

#ifndef OPOSSUM_SYSTEM_ALLOC
#include <mimalloc.h>
#endif
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace opossum {

#ifdef OPOSSUM_SYSTEM_ALLOC
template <typename T>
using Allocator = std::allocator<T>;
// malloc's blocks are aligned for max_align_t (16 bytes on the targets we
// build for), more than the 8 bytes promised below.
static_assert(alignof(std::max_align_t) >= 8);
// n bytes, 8-byte aligned; nullptr when out of memory.
inline void* AllocBytes(size_t n) { return std::malloc(n); }
// Resizes a block from AllocBytes/ReallocBytes (or nullptr), keeping its bytes.
inline void* ReallocBytes(void* p, size_t n) { return std::realloc(p, n); }
inline void FreeBytes(void* p) { std::free(p); }
#else
template <typename T>
using Allocator = mi_stl_allocator<T>;
inline void* AllocBytes(size_t n) { return mi_malloc_aligned(n, 8); }
inline void* ReallocBytes(void* p, size_t n) { return mi_realloc_aligned(p, n, 8); }
inline void FreeBytes(void* p) { mi_free(p); }
#endif

template <typename T>
using Vec = std::vector<T, Allocator<T>>;

// A byte buffer owned in mimalloc (see above), 8-byte aligned (FlatBuffers
// tables are read in place from it).
class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { FreeBytes(data_); }
  Buffer(Buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void Assign(const void* src, size_t n) {
    FreeBytes(data_);
    data_ = static_cast<uint8_t*>(AllocBytes(n == 0 ? 1 : n));
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
