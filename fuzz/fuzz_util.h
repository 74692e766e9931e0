// Shared pieces of the fuzz targets: a scratch folder per process, a small
// template store (its files held in memory, written back for every input),
// the events the template holds, a brute-force query matcher, and checks
// that abort with a message (libFuzzer then saves the input).
//
// Every target is built twice: with libFuzzer (OPOSSUM_FUZZ=ON, clang) and
// as a replay binary (replay_main.cc) that ctest runs over fuzz/corpus/<t>
// and fuzz/crashes/<t>.
#ifndef OPOSSUM_FUZZ_FUZZ_UTIL_H_
#define OPOSSUM_FUZZ_FUZZ_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "opossum/opossum.h"

namespace opossum::fuzz {

namespace fs = std::filesystem;

// A check that cannot be allowed to fail: prints and aborts (libFuzzer and
// the replay driver both report the input that got here).
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "FUZZ CHECK FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}
inline void Check(bool ok, const std::string& what) {
  if (!ok) Fail(what);
}

// Reads the fuzzer's bytes as a stream of small decisions; past the end
// everything reads as zero, so every input decodes to something.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ >= end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  uint8_t Byte() { return p_ < end_ ? *p_++ : 0; }
  uint32_t Below(uint32_t n) { return n == 0 ? 0 : Byte() % n; }
  bool Bool() { return (Byte() & 1) != 0; }
  uint16_t U16() {
    uint16_t lo = Byte();
    return static_cast<uint16_t>(lo | (Byte() << 8));
  }
  std::string Bytes(size_t n) {
    n = std::min(n, remaining());
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string Rest() { return Bytes(remaining()); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// A folder of this process (on /dev/shm when there is one: no disk syncs),
// emptied for each input and removed at exit.
inline const fs::path& ScratchRoot(const char* target) {
  static fs::path root = [&] {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path p = base / ("opossum-fuzz-" + std::string(target) + "-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(p, ec);
    fs::create_directories(p);
    static fs::path to_remove = p;
    std::atexit([] {
      std::error_code e;
      fs::remove_all(to_remove, e);
    });
    return p;
  }();
  return root;
}

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `bytes`, then extends the file with zeros (a hole) to `size` when
// that is larger: segments are 1 MiB, mostly zeros.
inline void WriteFile(const fs::path& p, const std::string& bytes, uint64_t size = 0) {
  fs::create_directories(p.parent_path());
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Fail("cannot create " + p.string());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) Fail("cannot write " + p.string());
    done += static_cast<size_t>(n);
  }
  if (size > bytes.size() && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    Fail("cannot extend " + p.string());
  }
  ::close(fd);
}

// The files of a store folder: relative path -> (bytes, full size; zeros
// follow the bytes up to the size).
struct FileImage {
  std::string bytes;
  uint64_t size = 0;
};
using StoreImage = std::map<std::string, FileImage>;

inline StoreImage TakeImage(const fs::path& dir) {
  StoreImage image;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "open.lock" || rel == "write.lock") continue;
    // Whole files: trimming their zeros here costs more than writing them
    // (std::string's search is instrumented in the libFuzzer build).
    FileImage f;
    f.bytes = ReadFile(e.path());
    f.size = f.bytes.size();
    image[rel] = std::move(f);
  }
  return image;
}

inline void WriteImage(const fs::path& dir, const StoreImage& image) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "segments");
  fs::create_directories(dir / "index");
  for (const auto& [rel, f] : image) WriteFile(dir / rel, f.bytes, f.size);
}

// The bytes of a file without its trailing zeros (seeds: the targets put
// the zeros back).
inline std::string Trimmed(const FileImage& f) {
  size_t end = f.bytes.find_last_not_of('\0');
  return f.bytes.substr(0, end == std::string::npos ? 0 : end + 1);
}

// Reads a file of the image back as its full bytes (zeros restored).
inline std::string FullBytes(const FileImage& f) {
  std::string s = f.bytes;
  s.resize(f.size, '\0');
  return s;
}

inline Options FuzzOptions(bool read_only = false) {
  Options o;
  o.durability = Durability::kBuffered;
  o.segment_size = 1u << 20;
  o.read_only = read_only;
  o.create_if_missing = !read_only;
  o.lock_timeout = std::chrono::milliseconds(2000);
  return o;
}

constexpr const char* kStoreName = "s";

// An event as the model keeps it (tags sorted and distinct, as reads give).
struct ModelEvent {
  std::string type;
  std::vector<std::string> tags;
  std::string data;
  bool data_is_json = false;
  std::optional<Uuid> id;
  std::vector<std::pair<std::string, std::string>> metadata;

  static ModelEvent From(const Event& e) {
    ModelEvent m{e.type, e.tags, e.data, e.data_is_json, e.id, e.metadata};
    std::sort(m.tags.begin(), m.tags.end());
    m.tags.erase(std::unique(m.tags.begin(), m.tags.end()), m.tags.end());
    return m;
  }
  static ModelEvent From(const EventView& v) {
    ModelEvent m;
    m.type = std::string(v.type());
    for (size_t i = 0; i < v.tag_count(); ++i) m.tags.emplace_back(v.tag(i));
    m.data = std::string(v.data());
    m.data_is_json = v.data_is_json();
    m.id = v.id();
    for (size_t i = 0; i < v.metadata_count(); ++i) {
      auto [k, val] = v.metadata(i);
      m.metadata.emplace_back(std::string(k), std::string(val));
    }
    return m;
  }
  friend bool operator==(const ModelEvent&, const ModelEvent&) = default;
};

// The matching rule of docs/semantics.md, written out again (not the
// engine's code).
inline bool ItemMatches(const QueryItem& item, const ModelEvent& e) {
  if (!item.types.empty() &&
      std::find(item.types.begin(), item.types.end(), e.type) == item.types.end()) {
    return false;
  }
  for (const std::string& t : item.tags) {
    if (std::find(e.tags.begin(), e.tags.end(), t) == e.tags.end()) return false;
  }
  return true;
}
inline bool QueryMatches(const Query& q, const ModelEvent& e) {
  if (q.items.empty()) return true;
  for (const QueryItem& item : q.items) {
    if (ItemMatches(item, e)) return true;
  }
  return false;
}

// Positions (1-based) of `events` a read with these options must return.
inline std::vector<uint64_t> ModelRead(const std::vector<ModelEvent>& events, const Query& q,
                                       const ReadOptions& ro) {
  std::vector<uint64_t> out;
  const uint64_t head = events.size();
  if (ro.limit && *ro.limit == 0) return out;
  auto take = [&](uint64_t p) {
    if (!QueryMatches(q, events[p - 1])) return true;
    out.push_back(p);
    return !(ro.limit && out.size() >= *ro.limit);
  };
  if (!ro.backwards) {
    for (uint64_t p = std::max<uint64_t>(ro.from.value_or(1), 1); p <= head; ++p) {
      if (!take(p)) break;
    }
  } else {
    uint64_t hi = std::min(ro.from.value_or(head), head);
    for (uint64_t p = hi; p >= 1; --p) {
      if (!take(p)) break;
    }
  }
  return out;
}

inline std::string Describe(const Query& q) {
  if (q.items.empty()) return "all";
  std::string s;
  for (const QueryItem& it : q.items) {
    s += s.empty() ? "[" : " OR [";
    for (const auto& t : it.types) s += "type=" + t + " ";
    for (const auto& t : it.tags) s += "tag=" + t + " ";
    s += "]";
  }
  return s;
}

// Touches every field of an event read from a (possibly damaged) store, so
// that a view into bytes that were never checked shows under the sanitizers.
inline size_t TouchEvent(const EventView& v) {
  size_t n = v.type().size() + v.data().size() + (v.data_is_json() ? 1 : 0);
  for (size_t i = 0; i < v.tag_count(); ++i) n += v.tag(i).size();
  for (size_t i = 0; i < v.metadata_count(); ++i) {
    auto [k, val] = v.metadata(i);
    n += k.size() + val.size();
  }
  if (v.id()) ++n;
  return n;
}

// ---------------------------------------------------------------------------
// The template store: 13 events in 6 batches, with every kind of field.

inline std::vector<std::vector<Event>> TemplateBatchesWithoutTimes() {
  auto id = [](uint8_t b) {
    Uuid u;
    u.bytes.fill(b);
    return u;
  };
  return {
      {Event{.type = "CourseCreated",
             .tags = {"course:c1"},
             .data = R"({"cap":10})",
             .data_is_json = true}},
      {Event{.type = "StudentRegistered", .tags = {"student:s1"}, .data = "\x01\x02", .id = id(1)},
       Event{.type = "StudentRegistered", .tags = {"student:s2"}, .id = id(2)}},
      {Event{.type = "Subscribed",
             .tags = {"course:c1", "student:s1"},
             .data = "[]",
             .data_is_json = true,
             .metadata = {{"user", "u1"}}},
       Event{.type = "Subscribed", .tags = {"student:s2", "course:c1"}},
       Event{.type = "CourseCreated", .tags = {"course:c2"}, .data = "{}", .data_is_json = true}},
      {Event{.type = "Unsubscribed",
             .tags = {"course:c1", "student:s1"},
             .timestamp_ns = 1700000000000000000}},
      {Event{.type = "Subscribed", .tags = {"course:c2", "student:s1"}},
       Event{.type = "Note", .data = std::string(300, 'x')},
       Event{.type = "Subscribed",
             .tags = {"course:c2", "student:s2"},
             .metadata = {{"a", "b"}, {"c", ""}}}},
      {Event{.type = "CourseClosed", .tags = {"course:c1"}},
       Event{.type = "CourseClosed", .tags = {"course:c2"}, .id = id(3)},
       Event{.type = "Note", .tags = {"t"}}},
  };
}

// Every event carries its timestamp, so the template's bytes (checksums
// and the batch chain included) are the same in every process: the seed
// corpora are made by another process than the one that fuzzes them.
inline std::vector<std::vector<Event>> TemplateBatches() {
  auto batches = TemplateBatchesWithoutTimes();
  int64_t t = 1700000000000000000;
  for (auto& b : batches) {
    for (Event& e : b) e.timestamp_ns = t += 1000;
  }
  return batches;
}

inline std::vector<ModelEvent> TemplateEvents() {
  std::vector<ModelEvent> out;
  for (const auto& b : TemplateBatches()) {
    for (const Event& e : b) out.push_back(ModelEvent::From(e));
  }
  return out;
}

// The queries the targets read with: every kind of item the planner has.
inline std::vector<Query> TemplateQueries() {
  std::vector<Query> qs = {Query::All(),
                           Query::ForTags({"course:c1"}),
                           Query::ForTags({"course:c2"}),
                           Query::ForTags({"student:s1"}),
                           Query::ForTags({"student:s2"}),
                           Query::ForTags({"course:c1", "student:s1"}),
                           Query::ForTags({"nope"}),
                           Query::ForTypes({"Subscribed"}),
                           Query::ForTypes({"CourseCreated", "CourseClosed"}),
                           Query::ForTypes({"Note"}),
                           Query::Of({"Subscribed"}, {"student:s2"})};
  qs.push_back(Query::ForTags({"t"}).Or(QueryItem{{"StudentRegistered"}, {}}));
  return qs;
}

enum class Variant {
  kClean,    // closed cleanly: ledger clean, key table sealed
  kCrashed,  // files as a killed process leaves them: the ledger and index
             // from before the last batch, the segment after it
};

// The template's files (made once per process, in the scratch folder).
inline const StoreImage& Template(const char* target, Variant v) {
  static std::map<Variant, StoreImage> images;
  auto it = images.find(v);
  if (it != images.end()) return it->second;
  fs::path dir = ScratchRoot(target) / "template";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  StoreImage image;
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir, kStoreName, FuzzOptions(), &store);
    if (!s.ok()) Fail("template: open: " + s.ToString());
    auto batches = TemplateBatches();
    for (size_t i = 0; i < batches.size(); ++i) {
      if (v == Variant::kCrashed && i + 1 == batches.size()) {
        image = TakeImage(dir / kStoreName);
      }
      s = store->Append(std::span<const Event>(batches[i]));
      if (!s.ok()) Fail("template: append: " + s.ToString());
    }
    if (v == Variant::kCrashed) {
      StoreImage after = TakeImage(dir / kStoreName);
      for (auto& [rel, f] : after) {
        if (rel.starts_with("segments/")) image[rel] = f;
      }
    }
  }
  if (v == Variant::kClean) image = TakeImage(dir / kStoreName);
  fs::remove_all(dir, ec);
  return images[v] = std::move(image);
}

inline std::string SegmentName() { return "segments/00000000000000000001.seg"; }

// Reads everything a store serves and checks it against itself: read-all,
// then each query (forwards, backwards, with a limit) must give exactly the
// brute-force filter of read-all -- or, on a damaged store, kCorruption.
// With `expected`, read-all must also equal (or, with `prefix_ok`, be a
// prefix of) those events. Returns false when some read reported damage.
inline bool CheckReads(Store* store, const std::vector<ModelEvent>* expected, bool prefix_ok,
                       bool subset_ok = false) {
  const uint64_t head = store->Head();
  std::vector<EventView> all;
  Status s = store->Read(Query::All(), ReadOptions{}, &all);
  if (!s.ok()) {
    Check(s.IsCorruption() || s.IsIOError(), "read all: unexpected status " + s.ToString());
    return false;
  }
  Check(all.size() == head,
        "read all gave " + std::to_string(all.size()) + " events, head is " + std::to_string(head));
  std::vector<ModelEvent> events;
  for (size_t i = 0; i < all.size(); ++i) {
    Check(all[i].position() == i + 1, "read all: position " + std::to_string(all[i].position()) +
                                          " at index " + std::to_string(i));
    TouchEvent(all[i]);
    events.push_back(ModelEvent::From(all[i]));
  }
  if (expected != nullptr) {
    Check(events.size() <= expected->size(),
          "more events than were written: " + std::to_string(events.size()));
    Check(prefix_ok || events.size() == expected->size(),
          "lost events: " + std::to_string(events.size()));
    for (size_t i = 0; i < events.size(); ++i) {
      Check(events[i] == (*expected)[i],
            "event " + std::to_string(i + 1) + " differs from the one written");
    }
  }
  bool damage = false;
  for (const Query& q : TemplateQueries()) {
    for (int mode = 0; mode < 3; ++mode) {
      ReadOptions ro;
      if (mode == 1) ro.backwards = true;
      if (mode == 2) ro.limit = 2, ro.from = 3;
      std::vector<EventView> got;
      s = store->Read(q, ro, &got);
      if (!s.ok()) {
        Check(s.IsCorruption(), "read " + Describe(q) + ": unexpected status " + s.ToString());
        damage = true;
        continue;
      }
      std::vector<uint64_t> want = ModelRead(events, q, ro);
      std::vector<uint64_t> have;
      for (const EventView& v : got) have.push_back(v.position());
      bool same = have == want;
      if (!same && subset_ok) {
        // Events of a hidden key are skipped, so with a limit later ones
        // take their places: every event given must match, in order, within
        // the limit.
        ReadOptions unlimited = ro;
        unlimited.limit.reset();
        const std::vector<uint64_t> wider = ModelRead(events, q, unlimited);
        same = (!ro.limit || have.size() <= *ro.limit) &&
               std::includes(wider.begin(), wider.end(), have.begin(), have.end(),
                             [&](uint64_t a, uint64_t b) { return ro.backwards ? a > b : a < b; });
      }
      Check(same, "read " + Describe(q) + " mode " + std::to_string(mode) + " gave " +
                      std::to_string(have.size()) + " events, the model " +
                      std::to_string(want.size()));
    }
    std::optional<EventView> last;
    s = store->ReadLast(q, &last);
    if (!s.ok()) {
      Check(s.IsCorruption(), "read last: unexpected status " + s.ToString());
      damage = true;
      continue;
    }
    std::vector<uint64_t> want = ModelRead(events, q, ReadOptions{.backwards = true, .limit = 1});
    if (!subset_ok) {
      Check(last.has_value() == !want.empty() && (!last || last->position() == want[0]),
            "read last " + Describe(q) + " disagrees with the model");
    } else if (last) {
      // With events of a hidden key skipped, the newest one found may be an
      // older match; it must still match.
      const std::vector<uint64_t> every = ModelRead(events, q, ReadOptions{});
      Check(std::binary_search(every.begin(), every.end(), last->position()),
            "read last " + Describe(q) + " gave an event that does not match");
    }
  }
  return !damage;
}

// After damage was dealt with (Verify said the store is whole): one more
// append must work and be read back, also after a reopen.
inline void CheckAppendAndReopen(std::unique_ptr<Store>* store, const fs::path& root) {
  const uint64_t head = (*store)->Head();
  uint64_t last = 0;
  Status s =
      (*store)->Append({Event{.type = "FuzzCheck", .tags = {"course:c1"}}}, std::nullopt, &last);
  if (!s.ok()) {
    // Damage Verify does not look at (the ledger's unchecked fields) may
    // still stop an append; it must say so as an error.
    Check(s.IsCorruption() || s.IsIOError() || s.IsNotSupported(),
          "append on a verified store: " + s.ToString());
    return;
  }
  Check(last == head + 1,
        "append gave position " + std::to_string(last) + " after head " + std::to_string(head));
  store->reset();
  s = Store::Open(root, kStoreName, FuzzOptions(), store);
  Check(s.ok(), "reopen after a successful append: " + s.ToString());
  Check((*store)->Head() == head + 1, "head after reopen " + std::to_string((*store)->Head()));
  std::optional<EventView> ev;
  s = (*store)->ReadLast(Query::ForTypes({"FuzzCheck"}), &ev);
  Check(s.ok() && ev && ev->position() == head + 1, "the appended event is not read back");
}

// The checks of a store whose segment or ledger the fuzzer wrote: opened
// read-only first when asked (its reads exact or reporting damage), then for
// writing: an open that fails must fail as `expected_error` allows; reads
// give a prefix of what was written or report damage; when Verify finds the
// store whole, no read may have reported damage, and an append and a reopen
// must work.
inline void CheckDamagedStore(const fs::path& root, bool read_only_first,
                              const std::function<bool(const Status&)>& expected_error) {
  const std::vector<ModelEvent> written = TemplateEvents();
  std::unique_ptr<Store> store;
  if (read_only_first) {
    Status s = Store::Open(root, kStoreName, FuzzOptions(/*read_only=*/true), &store);
    if (s.ok()) {
      CheckReads(store.get(), &written, /*prefix_ok=*/true);
      Status v = store->Verify();
      Check(v.ok() || v.IsCorruption(), "read-only Verify: " + v.ToString());
      store.reset();
    } else {
      Check(expected_error(s), "read-only open: " + s.ToString());
    }
  }
  Status s = Store::Open(root, kStoreName, FuzzOptions(), &store);
  if (!s.ok()) {
    Check(expected_error(s), "open: " + s.ToString());
    return;
  }
  bool reads_whole = CheckReads(store.get(), &written, /*prefix_ok=*/true);
  Status v = store->Verify();
  if (v.ok()) {
    Check(reads_whole, "Verify found the store whole, but a read reported damage");
    CheckAppendAndReopen(&store, root);
  } else {
    Check(v.IsCorruption(), "Verify: " + v.ToString());
  }
}

}  // namespace opossum::fuzz

#endif  // OPOSSUM_FUZZ_FUZZ_UTIL_H_
