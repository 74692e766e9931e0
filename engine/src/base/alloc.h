// The engine's own allocations go to mimalloc (fast, thread-local free
// lists); the allocator of the program that embeds the library is never
// replaced. Containers on the hot paths use this allocator explicitly.
//
// How, with what Debian 12 ships: libmimalloc-dev has only the shared
// library (libmimalloc.so -> libmimalloc.so.2, no static archive, no object
// files), and Debian builds it with the override: it exports malloc, free,
// calloc, realloc, posix_memalign, operator new and delete themselves
// (`nm -D --defined-only libmimalloc.so.2`). A program with libmimalloc.so.2
// among its DT_NEEDED libraries finds those before the C library's, so
// linking it (as the library did) replaced malloc for the whole process. So
// the library does not link mimalloc: on the first allocation, alloc.cc
// loads libmimalloc.so.2 with dlopen(RTLD_LOCAL), which keeps its symbols
// out of the process's global scope (malloc stays the C library's for the
// program and every other library), and takes mi_malloc, mi_malloc_aligned,
// mi_realloc and mi_free with dlsym. They are called through function
// pointers, as the calls into the shared library went through the PLT
// before. A program that does link mimalloc (the `opossum` command line
// opts in to the override) already has the library loaded: dlopen returns
// that same copy, so the whole tool runs on one mimalloc.
//
// When libmimalloc.so.2 cannot be loaded (the Debian package libmimalloc2.0
// is not installed, a static executable, no room for its static TLS), the
// engine allocates with the C library instead: the choice is made once, the
// first time memory is asked for, and holds for the life of the process, so
// every block is freed by the allocator that gave it. UsingMimalloc() says
// which it is.
//
// Under ThreadSanitizer they go to the system allocator too, without trying.
// mimalloc is an uninstrumented library: a block freed by one thread goes
// back to its owner through mimalloc's own atomics, which TSan cannot see,
// so the owner's next use of the block is reported as a race with the
// freeing thread's last use of the old one. TSan intercepts malloc/free and
// knows that a freed block is new memory when handed out again; what it
// then checks is the engine's own synchronization, which is the same with
// either allocator.
#ifndef OPOSSUM_BASE_ALLOC_H_
#define OPOSSUM_BASE_ALLOC_H_

#if defined(__SANITIZE_THREAD__)
#define OPOSSUM_SYSTEM_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OPOSSUM_SYSTEM_ALLOC 1
#endif
#endif

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
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
inline bool UsingMimalloc() { return false; }
#else
namespace alloc_internal {

// The allocator's entry points: mimalloc's, or the C library's when
// mimalloc cannot be loaded (see above).
struct Functions {
  void* (*malloc)(size_t n);  // aligned for max_align_t (16 bytes)
  void* (*malloc_aligned)(size_t n, size_t alignment);
  void* (*realloc)(void* p, size_t n);  // keeps malloc's alignment
  void (*free)(void* p);
  bool mimalloc;
};
// Loads them (alloc.cc); called once, through Get().
Functions Load();
inline const Functions& Get() {
  static const Functions functions = Load();
  return functions;
}

}  // namespace alloc_internal

// n bytes, 8-byte aligned; nullptr when out of memory.
inline void* AllocBytes(size_t n) { return alloc_internal::Get().malloc(n); }
// Resizes a block from AllocBytes/ReallocBytes (or nullptr), keeping its bytes.
inline void* ReallocBytes(void* p, size_t n) { return alloc_internal::Get().realloc(p, n); }
inline void FreeBytes(void* p) { alloc_internal::Get().free(p); }
// Whether the engine's allocations are mimalloc's (else the C library's).
inline bool UsingMimalloc() { return alloc_internal::Get().mimalloc; }

// The standard containers' allocator over the functions above (what
// mimalloc's mi_stl_allocator does over mi_new_n and mi_free).
template <typename T>
struct Allocator {
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::true_type;

  Allocator() noexcept = default;
  template <typename U>
  Allocator(const Allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] T* allocate(size_t count) {
    if (count > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    const alloc_internal::Functions& f = alloc_internal::Get();
    void* p = alignof(T) <= alignof(std::max_align_t)
                  ? f.malloc(count * sizeof(T))
                  : f.malloc_aligned(count * sizeof(T), alignof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { alloc_internal::Get().free(p); }
};
template <typename T, typename U>
bool operator==(const Allocator<T>&, const Allocator<U>&) noexcept {
  return true;
}
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
// A hint only (the kernel may ignore it). Asked of the io::Env (alloc.cc).
void AdviseHugePages(void* p, size_t n);

}  // namespace opossum

#endif  // OPOSSUM_BASE_ALLOC_H_
