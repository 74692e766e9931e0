// The program of the embedding tests (tests/embed/run.sh): built by a parent
// project that takes Opossum in with add_subdirectory or FetchContent and
// links only opossum::opossum (and by this build, ctest embed_malloc). It
// opens a store in the folder given, appends with a condition, reads back,
// and exits 1 at the first mismatch.
//
// It also checks that the library leaves the program's allocator alone: the
// engine allocates with mimalloc, which it loads itself, but `malloc`,
// `free`, `operator new` and the rest, as the program and every other
// library in it call them, stay the C library's (or a sanitizer's, which
// replaces them in the executable), never mimalloc's.
#include <dlfcn.h>
#include <opossum/opossum.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "embed_check: %s\n", what);
    ++failures;
  }
}

// The file that defines the global-scope `symbol` (what a call from the
// program binds to); nullptr if none.
const void* DefiningObject(const char* symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info{};
  if (address == nullptr || dladdr(address, &info) == 0) return nullptr;
  return info.dli_fbase;
}

// Before the library is used: mimalloc is not in the process (the program
// does not link it; linking the library did not bring it in either).
void CheckNoMimallocYet() {
  void* mimalloc = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
  Check(mimalloc == nullptr,
        "libmimalloc.so.2 is loaded before the library allocated anything: it is linked into "
        "the program, and its malloc replaces the C library's");
  if (mimalloc != nullptr) dlclose(mimalloc);
}

// After the library has worked: the engine has loaded mimalloc for its own
// blocks, and none of the process's allocation functions is mimalloc's.
void CheckMallocIsNotMimalloc() {
  void* mimalloc = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
  if (mimalloc == nullptr) {
    Check(false, "the engine did not load libmimalloc.so.2 (it allocates with malloc instead)");
    return;
  }
  Dl_info mi{};
  void* mi_malloc = dlsym(mimalloc, "mi_malloc");
  // mi_check_owned: whether a block is in this thread's mimalloc heap (it
  // walks the heap's pages; mi_is_in_heap_region, which looks the address
  // up, misses blocks that mimalloc placed outside its usual address range,
  // as it does under AddressSanitizer).
  using Owned = bool (*)(const void*);
  auto owned = reinterpret_cast<Owned>(dlsym(mimalloc, "mi_check_owned"));
  if (mi_malloc == nullptr || owned == nullptr || dladdr(mi_malloc, &mi) == 0) {
    Check(false, "libmimalloc.so.2 has no mi_malloc or mi_check_owned");
    dlclose(mimalloc);
    return;
  }
  for (const char* f : {"malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc",
                        "_Znwm", "_ZdlPv", "_Znam", "_ZdaPv"}) {
    const void* object = DefiningObject(f);
    if (object == nullptr) {
      std::fprintf(stderr, "embed_check: %s is not found in the global scope\n", f);
      ++failures;
    } else if (object == mi.dli_fbase) {
      std::fprintf(stderr, "embed_check: %s is mimalloc's (%s), not the C library's\n", f,
                   mi.dli_fname);
      ++failures;
    }
  }
  // And so the program's blocks are not in mimalloc's heap.
  void* block = std::malloc(100);
  Check(block != nullptr && !owned(block), "a block from malloc is in mimalloc's heap");
  std::free(block);
  auto* object = new std::string(200, 'x');
  Check(!owned(object) && !owned(object->data()),
        "a block from operator new is in mimalloc's heap");
  delete object;
  dlclose(mimalloc);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace opossum;
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_check FOLDER\n");
    return 2;
  }
  CheckNoMimallocYet();
  std::unique_ptr<Store> store;
  Status s = Store::Open(argv[1], "embedded", Options{}, &store);
  if (!s.ok()) {
    std::fprintf(stderr, "embed_check: open: %s\n", s.ToString().c_str());
    return 1;
  }
  Check(store->Head() == 0, "a new store is not empty");

  const Query course = Query::ForTags({Tag("course", "c1")});
  const AppendCondition once{.fail_if_events_match = course};
  const Event created{.type = "CourseCreated",
                      .tags = {Tag("course", "c1")},
                      .data = R"({"capacity": 10})",
                      .data_is_json = true};
  uint64_t position = 0;
  s = store->Append({created}, once, &position);
  Check(s.ok(), "the first append under the condition failed");
  Check(position == 1, "the first append is not at position 1");

  // The same decision again: the condition now matches event 1.
  s = store->Append({created}, once, &position);
  Check(s.IsConditionFailed(), "the second append under the condition was not refused");
  Check(s.conflicting_position() == 1, "the refusal does not name event 1");
  Check(store->Head() == 1, "the refused append wrote something");

  std::vector<EventView> events;
  s = store->Read(course, ReadOptions{}, &events);
  Check(s.ok(), "the read failed");
  if (events.size() != 1) {
    Check(false, "the read did not return exactly one event");
  } else {
    const EventView& e = events[0];
    Check(e.position() == 1, "the event read back is not at position 1");
    Check(e.type() == "CourseCreated", "the event read back has another type");
    Check(e.tags() == std::vector<std::string_view>{"course:c1"},
          "the event read back has other tags");
    Check(e.data() == R"({"capacity": 10})", "the event read back has other data");
    Check(e.data_is_json(), "the event read back lost data_is_json");
  }
  CheckMallocIsNotMimalloc();
  if (failures != 0) return 1;
  std::printf("embed_check: ok\n");
  return 0;
}
