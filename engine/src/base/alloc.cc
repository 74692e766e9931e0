// The choice of the engine's allocator (alloc.h says why it is loaded, not
// linked), and the huge-page hint for large buffers (asked of the io::Env).
#include "base/alloc.h"

#include "io/file.h"

namespace opossum {

void AdviseHugePages(void* p, size_t n) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(kHuge - 1);
  if (end > begin) {
    io::Advise(reinterpret_cast<void*>(begin), end - begin, io::Advice::kHugePages);
  }
}

}  // namespace opossum

#ifndef OPOSSUM_SYSTEM_ALLOC

#include <dlfcn.h>

namespace opossum::alloc_internal {
namespace {

// mimalloc 2's soname (Debian 12: libmimalloc2.0, libmimalloc.so.2.0).
constexpr char kMimalloc[] = "libmimalloc.so.2";

void* SystemMalloc(size_t n) { return std::malloc(n); }
void* SystemMallocAligned(size_t n, size_t alignment) {
  if (alignment <= alignof(std::max_align_t)) return std::malloc(n);
  void* p = nullptr;
  return posix_memalign(&p, alignment, n) == 0 ? p : nullptr;
}
void* SystemRealloc(void* p, size_t n) { return std::realloc(p, n); }
void SystemFree(void* p) { std::free(p); }

template <typename F>
bool Find(void* library, const char* name, F* out) {
  void* symbol = dlsym(library, name);
  if (symbol == nullptr) return false;
  *out = reinterpret_cast<F>(symbol);
  return true;
}

}  // namespace

Functions Load() {
  const Functions system{SystemMalloc, SystemMallocAligned, SystemRealloc, SystemFree, false};
  // RTLD_LOCAL: mimalloc's malloc, free and operator new stay out of the
  // global scope, so nothing outside the engine resolves to them. The
  // handle is kept for the life of the process (blocks outlive any close).
  void* library = dlopen(kMimalloc, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    dlerror();  // clears the failure: the program's own dlerror() does not see it
    return system;
  }
  Functions mi{nullptr, nullptr, nullptr, nullptr, true};
  if (!Find(library, "mi_malloc", &mi.malloc) ||
      !Find(library, "mi_malloc_aligned", &mi.malloc_aligned) ||
      !Find(library, "mi_realloc", &mi.realloc) || !Find(library, "mi_free", &mi.free)) {
    dlclose(library);
    return system;
  }
  return mi;
}

}  // namespace opossum::alloc_internal

#endif  // OPOSSUM_SYSTEM_ALLOC
