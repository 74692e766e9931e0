// The program of the embedding tests (tests/embed/run.sh): built by a parent
// project that takes Opossum in with add_subdirectory or FetchContent and
// links only opossum::opossum. It opens a store in the folder given, appends
// with a condition, reads back, and exits 1 at the first mismatch.
#include <opossum/opossum.h>

#include <cstdio>
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

}  // namespace

int main(int argc, char** argv) {
  using namespace opossum;
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_check FOLDER\n");
    return 2;
  }
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
  if (failures != 0) return 1;
  std::printf("embed_check: ok\n");
  return 0;
}
