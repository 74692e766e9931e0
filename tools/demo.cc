// opossum-demo: the Dynamic Consistency Boundary idea in one run.
//
//   opossum-demo [folder]        (default ./opossum-data; uses store "demo")
//
// Courses have a capacity; students subscribe to at most 3 courses. Eight
// threads make subscription decisions at once. Each decision reads the events
// of one course and one student (the decision's consistency boundary), checks
// the rules, and appends "StudentSubscribed" with a condition: no new event
// for that course or that student after the last position read. When another
// thread got there first, the append fails with kConditionFailed and the
// decision is made again on fresh facts. No lock, no aggregate, no lost seat.
//
// Any previous "demo" store in the folder is removed first, so runs repeat.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "opossum/opossum.h"

namespace {

using opossum::AppendCondition;
using opossum::Event;
using opossum::EventView;
using opossum::Query;
using opossum::QueryItem;
using opossum::Status;
using opossum::Store;
using Clock = std::chrono::steady_clock;

constexpr int kThreads = 8;
constexpr int kCourses = 100;
constexpr int kStudents = 2000;
constexpr int kDecisionsPerThread = 1250;
constexpr int kMaxCoursesPerStudent = 3;

std::string CourseId(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "c%03d", i);
  return b;
}
std::string StudentId(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "s%04d", i);
  return b;
}

// "1234567" -> "1,234,567"
std::string Thousands(double v) {
  std::string digits = std::to_string(static_cast<long long>(v + 0.5));
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[i]);
    if ((n - i - 1) % 3 == 0 && i + 1 < n) out.push_back(',');
  }
  return out;
}

// The value of a JSON field, for the two flat objects this demo writes.
std::string JsonField(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const size_t at = json.find(needle);
  if (at == std::string_view::npos) return {};
  size_t b = at + needle.size();
  if (b < json.size() && json[b] == '"') ++b;
  size_t e = b;
  while (e < json.size() && json[e] != '"' && json[e] != ',' && json[e] != '}') ++e;
  return std::string(json.substr(b, e - b));
}

[[noreturn]] void Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "opossum-demo: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

struct Counts {
  std::atomic<int64_t> decisions{0};
  std::atomic<int64_t> subscribed{0};
  std::atomic<int64_t> full{0};
  std::atomic<int64_t> limit{0};
  std::atomic<int64_t> already{0};
  std::atomic<int64_t> conflicts{0};
  std::atomic<int64_t> events_read{0};
};

enum class Outcome { kSubscribed, kFull, kLimit, kAlready };

// One decision, retried until it stands on facts nobody changed meanwhile.
Outcome Subscribe(Store& store, const std::string& course_id, const std::string& student_id,
                  Counts& counts) {
  const std::string course = opossum::Tag("course", course_id);
  const std::string student = opossum::Tag("student", student_id);
  Query boundary;
  boundary.Or(QueryItem{{}, {course}}).Or(QueryItem{{}, {student}});
  for (;;) {
    int64_t capacity = 0, taken = 0, student_courses = 0;
    bool already = false;
    uint64_t last = 0;
    int64_t read = 0;
    Status s = store.NewReader().ForEach(boundary, {}, [&](const EventView& e) {
      last = e.position();
      ++read;
      if (e.type() == "CourseDefined") {
        capacity = std::strtoll(JsonField(e.data(), "capacity").c_str(), nullptr, 10);
      } else if (e.type() == "StudentSubscribed") {
        const bool this_course = e.HasTag(course);
        const bool this_student = e.HasTag(student);
        taken += this_course;
        student_courses += this_student;
        already = already || (this_course && this_student);
      }
      return true;
    });
    if (!s.ok()) Fail("read", s);
    counts.events_read += read;
    if (already) return Outcome::kAlready;
    if (taken >= capacity) return Outcome::kFull;
    if (student_courses >= kMaxCoursesPerStudent) return Outcome::kLimit;
    Event event{.type = "StudentSubscribed",
                .tags = {course, student},
                .data = R"({"course":")" + course_id + R"(","student":")" + student_id + R"("})",
                .data_is_json = true};
    s = store.Append(std::span<const Event>(&event, 1), AppendCondition{boundary, last});
    if (s.ok()) return Outcome::kSubscribed;
    if (!s.IsConditionFailed()) Fail("append", s);
    ++counts.conflicts;  // someone changed this course or student: decide again
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path root = argc > 1 ? argv[1] : "./opossum-data";
  if (argc > 2 ||
      (argc == 2 && (std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help"))) {
    std::fprintf(stderr, "usage: opossum-demo [folder]   (default ./opossum-data)\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove_all(root / "demo", ec);  // only the demo store
  if (ec) {
    std::fprintf(stderr, "opossum-demo: cannot remove %s: %s\n", (root / "demo").c_str(),
                 ec.message().c_str());
    return 1;
  }

  opossum::Options options;  // durability kSync: every append is on disk when it returns
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, "demo", options, &store);
  if (!s.ok()) Fail("open", s);
  std::printf("Opossum demo: store \"demo\" in %s\n", store->path().c_str());
  std::printf(
      "durability: sync (each append is on disk when it returns; concurrent appends "
      "share one fdatasync)\n\n");

  // The courses, in one atomic batch, on the condition that none exists yet.
  std::mt19937 rng(2026);
  std::vector<Event> courses;
  int64_t seats = 0;
  for (int c = 0; c < kCourses; ++c) {
    const int capacity = 30 + static_cast<int>(rng() % 51);
    seats += capacity;
    courses.push_back(Event{.type = "CourseDefined",
                            .tags = {opossum::Tag("course", CourseId(c))},
                            .data = R"({"course":")" + CourseId(c) + R"(","capacity":)" +
                                    std::to_string(capacity) + "}",
                            .data_is_json = true});
  }
  s = store->Append(courses, AppendCondition{Query::ForTypes({"CourseDefined"}), std::nullopt});
  if (!s.ok()) Fail("define courses", s);
  std::printf(
      "setup: %d courses with %s seats in all (one batch); %s students, at most %d "
      "courses each\n",
      kCourses, Thousands(static_cast<double>(seats)).c_str(), Thousands(kStudents).c_str(),
      kMaxCoursesPerStudent);

  // Eight threads subscribe random students to random courses.
  Counts counts;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 r(static_cast<unsigned>(1000 + t));
      for (int i = 0; i < kDecisionsPerThread; ++i) {
        const Outcome o = Subscribe(*store, CourseId(static_cast<int>(r() % kCourses)),
                                    StudentId(static_cast<int>(r() % kStudents)), counts);
        ++counts.decisions;
        switch (o) {
          case Outcome::kSubscribed:
            ++counts.subscribed;
            break;
          case Outcome::kFull:
            ++counts.full;
            break;
          case Outcome::kLimit:
            ++counts.limit;
            break;
          case Outcome::kAlready:
            ++counts.already;
            break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  std::printf("%d threads made %s decisions in %.2f s:\n", kThreads,
              Thousands(static_cast<double>(counts.decisions)).c_str(), seconds);
  std::printf("  %7s subscribed (each a conditional, durable append)\n",
              Thousands(static_cast<double>(counts.subscribed)).c_str());
  std::printf("  %7s refused: course full\n", Thousands(static_cast<double>(counts.full)).c_str());
  std::printf("  %7s refused: student already in %d courses\n",
              Thousands(static_cast<double>(counts.limit)).c_str(), kMaxCoursesPerStudent);
  std::printf("  %7s refused: already subscribed\n",
              Thousands(static_cast<double>(counts.already)).c_str());
  std::printf(
      "  %7s conflicts retried (another thread changed the course or student between "
      "read and append)\n",
      Thousands(static_cast<double>(counts.conflicts)).c_str());
  const uint64_t head = store->Head();
  std::printf("head: %s events (%d courses + %s subscriptions)\n",
              Thousands(static_cast<double>(head)).c_str(), kCourses,
              Thousands(static_cast<double>(counts.subscribed)).c_str());

  // A read by tag.
  const std::string tag = opossum::Tag("course", CourseId(7));
  std::vector<EventView> events;
  s = store->Read(Query::ForTags({tag}), {}, &events);
  if (!s.ok()) Fail("read by tag", s);
  std::string capacity, students;
  int shown = 0;
  for (const auto& e : events) {
    if (e.type() == "CourseDefined") capacity = JsonField(e.data(), "capacity");
    if (e.type() == "StudentSubscribed" && shown < 5) {
      students += (shown++ ? ", " : "") + JsonField(e.data(), "student");
    }
  }
  std::printf("read by tag %s: %zu events: capacity %s, %zu subscribed (%s%s)\n", tag.c_str(),
              events.size(), capacity.c_str(), events.empty() ? 0 : events.size() - 1,
              students.c_str(), events.size() > 6 ? ", ..." : "");

  // Check the rules over the whole store, and time a full scan.
  std::map<std::string, int64_t> course_capacity, course_taken, student_courses;
  std::set<std::pair<std::string, std::string>> pairs;
  bool doubled = false;
  s = store->NewReader().ForEach(Query::All(), {}, [&](const EventView& e) {
    const std::string course = JsonField(e.data(), "course");
    if (e.type() == "CourseDefined") {
      course_capacity[course] = std::strtoll(JsonField(e.data(), "capacity").c_str(), nullptr, 10);
    } else {
      const std::string student = JsonField(e.data(), "student");
      ++course_taken[course];
      ++student_courses[student];
      doubled = doubled || !pairs.emplace(course, student).second;
    }
    return true;
  });
  if (!s.ok()) Fail("read all", s);
  bool over = doubled;
  for (const auto& [course, taken] : course_taken) over = over || taken > course_capacity[course];
  for (const auto& [student, n] : student_courses) over = over || n > kMaxCoursesPerStudent;
  std::printf(
      "check: no course over capacity, no student in more than %d courses, no double "
      "subscription: %s\n",
      kMaxCoursesPerStudent, over ? "FAILED" : "OK");

  int64_t scanned = 0;
  const auto r0 = Clock::now();
  double scan_seconds = 0;
  uint64_t sink = 0;
  do {
    s = store->NewReader().ForEach(Query::All(), {}, [&](const EventView& e) {
      sink += e.type().size() + e.data().size();
      ++scanned;
      return true;
    });
    if (!s.ok()) Fail("read all", s);
    scan_seconds = std::chrono::duration<double>(Clock::now() - r0).count();
  } while (scan_seconds < 0.2);
  int64_t tag_reads = 0;
  const auto q0 = Clock::now();
  double tag_seconds = 0;
  std::vector<Query> queries;
  for (int c = 0; c < kCourses; ++c)
    queries.push_back(Query::ForTags({opossum::Tag("course", CourseId(c))}));
  do {
    for (int i = 0; i < 1000; ++i) {
      s = store->NewReader().ForEach(queries[static_cast<size_t>(tag_reads++ % kCourses)], {},
                                     [&](const EventView& e) {
                                       sink += e.position();
                                       return true;
                                     });
      if (!s.ok()) Fail("read by tag", s);
    }
    tag_seconds = std::chrono::duration<double>(Clock::now() - q0).count();
  } while (tag_seconds < 0.2);

  std::printf("\nspeed (%u cores):\n", std::thread::hardware_concurrency());
  std::printf("  %12s decisions/s (read 2 tags, decide, conditional append; %s events read)\n",
              Thousands(static_cast<double>(counts.decisions) / seconds).c_str(),
              Thousands(static_cast<double>(counts.events_read)).c_str());
  std::printf("  %12s durable appends/s (sync, from %d threads)\n",
              Thousands(static_cast<double>(counts.subscribed) / seconds).c_str(), kThreads);
  std::printf("  %12s events/s read in full scans\n",
              Thousands(static_cast<double>(scanned) / scan_seconds).c_str());
  std::printf("  %12s reads/s by course tag (about %s events each)\n",
              Thousands(static_cast<double>(tag_reads) / tag_seconds).c_str(),
              Thousands(static_cast<double>(head) / kCourses).c_str());
  if (sink == 42) std::printf(" ");  // keeps the timed reads from being optimized away
  return over ? 1 : 0;
}
