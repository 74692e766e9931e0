// Corruption: damaged bytes in any file of a closed store must never crash
// the store nor give a wrong answer.
//
// For each kind of file (segment records, batch headers, segment headers,
// the ledger, each file under index/) the tests damage bytes at many offsets
// (a seeded random selection plus chosen ones), then open the store in a
// forked child (so that a crash is reported as a failure, not fatal) and
// check:
//  - Open either succeeds or gives kCorruption naming the damaged file;
//  - when it succeeds, Head() is unchanged, and every read either returns
//    exactly the events a brute-force filter of the original events gives
//    (for every query: by position, tag, type, several tags, OR, backwards,
//    limits, ReadLast, append conditions) or gives kCorruption naming the
//    damaged file (with an offset, for segments) -- the latter only when the
//    read involves a damaged event (segments) or any read (derived index
//    files, which may also be rebuilt);
//  - Verify() gives kCorruption whenever a read did, and for every damaged
//    segment byte (all of them are covered by checksums);
//  - the same holds after an append on the damaged store and a reopen.
//
// Randomized: the seed is printed; OPOSSUM_SEED=<seed> repeats a run.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using opossum::testing::DescribeQuery;
using opossum::testing::kTimeScale;
using opossum::testing::ReadFileBytes;
using opossum::testing::TempDir;
using opossum::testing::TestSeed;
using opossum::testing::WriteFileBytes;

// The few on-disk facts these tests rely on (docs: segment format), kept
// here rather than taken from the engine's internal headers so that a format
// change shows up as a clear failure of the set-up.
constexpr uint64_t kSegmentHeaderBytes = 64;
constexpr uint64_t kBatchHeaderBytes = 32;     // magic u32, count u32, first u64, length u64, ...
constexpr uint64_t kRecordHeaderBytes = 24;    // length u32, checksum u32, position u64, ...
constexpr uint32_t kBatchMagic = 0x5442504fU;  // "OPBT"
constexpr uint64_t kSegmentSize = 1ull << 20;

template <typename T>
T Load(const std::string& bytes, uint64_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

// Every regular file of a store folder, by path relative to the folder;
// nullopt marks a deleted file.
using Snapshot = std::map<std::string, std::optional<std::string>>;

Snapshot TakeSnapshot(const fs::path& dir) {
  Snapshot snap;
  for (auto& [rel, bytes] : opossum::testing::ReadTree(dir)) snap[rel] = std::move(bytes);
  return snap;
}

bool RestoreSnapshot(const fs::path& dir, const Snapshot& snap) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  fs::create_directories(dir / "segments");
  fs::create_directories(dir / "index");
  for (const auto& [rel, bytes] : snap) {
    if (bytes && !WriteFileBytes(dir / rel, *bytes)) return false;
  }
  return true;
}

std::string Basename(const std::string& rel) { return fs::path(rel).filename().string(); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// "offset 123", "offset=123", "byte 123", "at 123", "@123" (any case).
bool NamesOffset(const std::string& msg) {
  std::string lower = msg;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* word : {"offset", "byte", "at", "@"}) {
    for (size_t i = lower.find(word); i != std::string::npos; i = lower.find(word, i + 1)) {
      size_t j = i + std::strlen(word);
      while (j < lower.size() && (lower[j] == ' ' || lower[j] == ':' || lower[j] == '=')) ++j;
      if (j < lower.size() && std::isdigit(static_cast<unsigned char>(lower[j]))) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// The original store: its events and where they lie.

struct ModelEvent {
  std::string type;
  std::vector<std::string> tags;  // sorted, unique
  std::string data;
  bool data_is_json = false;
  std::vector<std::pair<std::string, std::string>> metadata;
  int64_t timestamp_ns = 0;  // filled from a read of the original store
};

struct BatchLoc {
  std::string segment;  // relative path
  uint64_t offset = 0;  // of the batch header in the segment
  uint64_t length = 0;
  uint64_t first = 0;  // first position
  uint32_t count = 0;
};

struct RecordLoc {
  size_t batch = 0;     // index into batches
  uint64_t offset = 0;  // of the record header in the segment
  uint64_t fb_length = 0;
};

struct Base {
  Snapshot files;
  std::vector<ModelEvent> events;  // events[p-1] is position p
  std::vector<BatchLoc> batches;
  std::vector<RecordLoc> records;  // records[p-1]
  std::vector<std::string> segments;
  std::vector<std::string> tags, types;
  uint64_t head() const { return events.size(); }
};

ModelEvent MakeEvent(uint64_t pos, size_t batch, bool first_of_batch) {
  static const char* const kTypes[] = {"Created", "Enrolled", "Left"};
  ModelEvent m;
  m.type = kTypes[pos % 3];
  m.tags = {"course:c" + std::to_string(pos % 7), "student:s" + std::to_string(pos % 11),
            "batch:" + std::to_string(batch)};
  if (pos % 5 == 0) m.tags.push_back("flag:x");
  std::sort(m.tags.begin(), m.tags.end());
  // Batches 14, 29 and 44 carry one big event each: they push the store into
  // a second segment.
  const bool big = (batch == 14 || batch == 29 || batch == 44) && first_of_batch;
  const size_t fill = big ? 350 * 1024 : 20 + (pos * 37) % 150;
  m.data = "d-" + std::to_string(pos) + "-";
  for (size_t i = 0; i < fill; ++i) m.data.push_back(static_cast<char>('a' + (pos + i) % 26));
  m.data += "-end";
  if (pos % 4 == 0) m.metadata = {{"correlation", "c" + std::to_string(pos)}, {"user", "u"}};
  return m;
}

// Walks the batches of a segment. Returns "" or what did not match.
std::string WalkSegment(Base* base, const std::string& rel, uint64_t* next_position) {
  const std::string& seg = *base->files.at(rel);
  uint64_t off = kSegmentHeaderBytes;
  while (off + kBatchHeaderBytes <= seg.size() && Load<uint32_t>(seg, off) == kBatchMagic) {
    BatchLoc b;
    b.segment = rel;
    b.offset = off;
    b.count = Load<uint32_t>(seg, off + 4);
    b.first = Load<uint64_t>(seg, off + 8);
    b.length = Load<uint64_t>(seg, off + 16);
    if (b.first != *next_position) {
      return rel + ": batch at " + std::to_string(off) + " starts at position " +
             std::to_string(b.first) + ", expected " + std::to_string(*next_position);
    }
    if (b.length % 8 != 0 || off + b.length > seg.size() || b.count == 0) {
      return rel + ": batch at " + std::to_string(off) + " has length " + std::to_string(b.length);
    }
    uint64_t r = off + kBatchHeaderBytes;
    for (uint32_t i = 0; i < b.count; ++i) {
      RecordLoc rec;
      rec.batch = base->batches.size();
      rec.offset = r;
      rec.fb_length = Load<uint32_t>(seg, r);
      if (Load<uint64_t>(seg, r + 8) != b.first + i) {
        return rel + ": record at " + std::to_string(r) + " has position " +
               std::to_string(Load<uint64_t>(seg, r + 8));
      }
      r += (kRecordHeaderBytes + rec.fb_length + 7) & ~uint64_t{7};
      base->records.push_back(rec);
    }
    if (r != off + b.length) {
      return rel + ": records of the batch at " + std::to_string(off) + " end at " +
             std::to_string(r) + ", its length says " + std::to_string(off + b.length);
    }
    base->batches.push_back(b);
    *next_position += b.count;
    off += b.length;
  }
  return "";
}

// Builds the original store (closed) and describes it.
void BuildBase(const fs::path& root, const std::string& name, Base* base) {
  Options options;
  options.segment_size = kSegmentSize;
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, name, options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<size_t> batch_sizes;
  uint64_t pos = 0;
  for (size_t b = 0; b < 60; ++b) {
    const size_t size = 1 + (b * 7) % 4;
    std::vector<Event> batch;
    for (size_t i = 0; i < size; ++i) {
      ModelEvent m = MakeEvent(++pos, b, i == 0);
      Event e;
      e.type = m.type;
      e.tags = m.tags;
      e.data = m.data;
      e.metadata = m.metadata;
      batch.push_back(std::move(e));
      base->events.push_back(std::move(m));
    }
    uint64_t last = 0;
    s = store->Append(std::span<const Event>(batch), std::nullopt, &last);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(last, pos);
  }
  std::vector<EventView> all;
  s = store->Read(Query::All(), ReadOptions{}, &all);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(all.size(), base->events.size());
  for (size_t i = 0; i < all.size(); ++i) base->events[i].timestamp_ns = all[i].timestamp_ns();
  ASSERT_TRUE(store->Verify().ok());
  store.reset();

  base->files = TakeSnapshot(root / name);
  for (const auto& [rel, bytes] : base->files) {
    if (rel.rfind("segments/", 0) == 0 && rel.size() > 4 &&
        rel.compare(rel.size() - 4, 4, ".seg") == 0) {
      base->segments.push_back(rel);  // map order = name order = position order
    }
  }
  ASSERT_GE(base->segments.size(), 2u) << "expected the big events to need a second segment";
  uint64_t next = 1;
  for (const std::string& rel : base->segments) {
    std::string problem = WalkSegment(base, rel, &next);
    ASSERT_EQ(problem, "") << "the segment layout is not what this test expects";
  }
  ASSERT_EQ(next, base->head() + 1) << "the batches found do not cover the store";
  ASSERT_EQ(base->records.size(), base->events.size());

  std::set<std::string> tags, types;
  for (const ModelEvent& m : base->events) {
    types.insert(m.type);
    tags.insert(m.tags.begin(), m.tags.end());
  }
  base->tags.assign(tags.begin(), tags.end());
  base->types.assign(types.begin(), types.end());
}

// ---------------------------------------------------------------------------
// Damage cases.

struct Case {
  std::string label;
  std::string file;  // relative path of the damaged file
  std::function<void(Snapshot*)> damage;
  // Positions whose reads may give kCorruption (segment damage).
  std::set<uint64_t> affected;
  // Derived or global files: any read may give a clean kCorruption.
  bool any_read_may_fail = false;
  // Every byte changed is covered by a checksum: Open or Verify must say so.
  bool must_detect = false;
  // Missing files: Open may also give kNotFound naming the file.
  bool may_be_not_found = false;
  // Open with create_if_missing (the default) instead of without.
  bool create_if_missing = false;
};

std::string& Bytes(Snapshot* snap, const std::string& rel) { return *snap->at(rel); }

std::function<void(Snapshot*)> FlipByte(const std::string& rel, uint64_t offset, uint8_t mask) {
  return [=](Snapshot* s) {
    std::string& b = Bytes(s, rel);
    if (offset < b.size()) b[offset] = static_cast<char>(b[offset] ^ mask);
  };
}

std::function<void(Snapshot*)> ZeroBytes(const std::string& rel, uint64_t offset, uint64_t n) {
  return [=](Snapshot* s) {
    std::string& b = Bytes(s, rel);
    for (uint64_t i = offset; i < offset + n && i < b.size(); ++i) b[i] = 0;
  };
}

std::function<void(Snapshot*)> Truncate(const std::string& rel, uint64_t size) {
  return [=](Snapshot* s) { Bytes(s, rel).resize(size); };
}

std::function<void(Snapshot*)> Remove(const std::string& rel) {
  return [=](Snapshot* s) { (*s)[rel] = std::nullopt; };
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

uint8_t RandomMask(std::mt19937_64& rng) { return static_cast<uint8_t>(1u << (rng() % 8)); }

// A flip (of one random bit) or, when the byte is not zero, a zeroing.
Case DamageByte(const Base& base, const std::string& rel, uint64_t offset, std::mt19937_64& rng,
                const std::string& what) {
  Case c;
  c.file = rel;
  const char byte = (*base.files.at(rel))[offset];
  if (byte != 0 && rng() % 3 == 0) {
    c.label = "zero byte " + std::to_string(offset) + " of " + rel + " (" + what + ")";
    c.damage = ZeroBytes(rel, offset, 1);
  } else {
    const uint8_t mask = RandomMask(rng);
    c.label = "flip bit " + Hex(mask) + " of byte " + std::to_string(offset) + " of " + rel + " (" +
              what + ")";
    c.damage = FlipByte(rel, offset, mask);
  }
  return c;
}

std::set<uint64_t> BatchPositions(const BatchLoc& b) {
  std::set<uint64_t> s;
  for (uint64_t p = b.first; p < b.first + b.count; ++p) s.insert(p);
  return s;
}

// Batch i and everything after it in its segment, and the next batch (whose
// checksum chains from batch i's).
std::set<uint64_t> FromBatchOn(const Base& base, size_t i) {
  std::set<uint64_t> s;
  for (size_t j = i; j < base.batches.size(); ++j) {
    if (j > i + 1 && base.batches[j].segment != base.batches[i].segment) break;
    auto p = BatchPositions(base.batches[j]);
    s.insert(p.begin(), p.end());
  }
  return s;
}

std::set<uint64_t> SegmentPositions(const Base& base, const std::string& rel) {
  std::set<uint64_t> s;
  for (const BatchLoc& b : base.batches) {
    if (b.segment != rel) continue;
    auto p = BatchPositions(b);
    s.insert(p.begin(), p.end());
  }
  return s;
}

// ---------------------------------------------------------------------------
// The checks, run in a forked child.

bool Matches(const ModelEvent& e, const Query& q) {
  if (q.items.empty()) return true;
  for (const QueryItem& item : q.items) {
    bool type_ok = item.types.empty() ||
                   std::find(item.types.begin(), item.types.end(), e.type) != item.types.end();
    bool tags_ok = std::all_of(item.tags.begin(), item.tags.end(), [&](const std::string& t) {
      return std::binary_search(e.tags.begin(), e.tags.end(), t);
    });
    if (type_ok && tags_ok) return true;
  }
  return false;
}

std::string Describe(const ReadOptions& o) {
  std::string s = o.backwards ? "backwards" : "forwards";
  if (o.from) s += " from " + std::to_string(*o.from);
  if (o.limit) s += " limit " + std::to_string(*o.limit);
  return s;
}

// Returns "" when the view is the model event at position p.
std::string Diff(const EventView& v, const ModelEvent& m, uint64_t p) {
  std::string at = "event " + std::to_string(p) + ": ";
  if (v.position() != p) return at + "position " + std::to_string(v.position());
  if (v.type() != m.type) return at + "type '" + std::string(v.type()) + "'";
  if (v.data() != m.data)
    return at + "data differs (" + std::to_string(v.data().size()) + " bytes)";
  if (v.data_is_json() != m.data_is_json) return at + "data_is_json differs";
  if (v.timestamp_ns() != m.timestamp_ns) return at + "timestamp differs";
  std::vector<std::string> tags;
  for (auto t : v.tags()) tags.emplace_back(t);
  if (tags != m.tags) return at + "tags differ";
  if (v.metadata_count() != m.metadata.size()) return at + "metadata count differs";
  for (size_t i = 0; i < m.metadata.size(); ++i) {
    auto kv = v.metadata(i);
    if (kv.first != m.metadata[i].first || kv.second != m.metadata[i].second) {
      return at + "metadata differs";
    }
  }
  return "";
}

class Checker {
 public:
  Checker(const Base& base, const Case& c) : base_(base), case_(c), truth_(base.events) {}

  std::vector<std::string> problems;
  std::string open_outcome = "ok";
  int corrupt_reads = 0;
  std::string verify_outcome = "-";
  std::string append_outcome = "-";

  void Run(const fs::path& root, const std::string& name) {
    for (int round = 0; round < 2; ++round) {
      round_ = round == 0 ? "" : "[after append+reopen] ";
      Options options;
      options.segment_size = kSegmentSize;
      options.create_if_missing = case_.create_if_missing;
      std::unique_ptr<Store> store;
      Status s = Store::Open(root, name, options, &store);
      if (round == 0) open_outcome = s.ok() ? "ok" : std::string(Status::CodeName(s.code()));
      if (!s.ok()) {
        const bool code_ok = s.IsCorruption() || (case_.may_be_not_found && s.IsNotFound());
        if (!code_ok || !NamesAllowedFile(s.message())) {
          Problem("Open gave " + s.ToString() + "; expected OK or kCorruption naming " +
                  Basename(case_.file));
        }
        return;
      }
      const uint64_t head = store->Head();
      if (head != truth_.size()) {
        Problem("Head() is " + std::to_string(head) + ", expected " +
                std::to_string(truth_.size()) + " (events lost or invented)");
        return;
      }
      CheckReads(*store);
      if (round == 0 && problems.empty()) CheckConditions(store.get());
      Status v = store->Verify();
      if (round == 0) verify_outcome = v.ok() ? "ok" : std::string(Status::CodeName(v.code()));
      if (!v.ok()) {
        if (!v.IsCorruption()) {
          Problem("Verify gave " + v.ToString() + "; expected OK or kCorruption");
        } else if (!NamesAllowedFile(v.message())) {
          Problem("Verify's kCorruption does not name the damaged file " + Basename(case_.file) +
                  ": " + v.ToString());
        }
      } else if (corrupt_reads_this_round_ > 0) {
        Problem("reads gave kCorruption (" + first_corrupt_read_ + ") but Verify gave OK");
      } else if (case_.must_detect) {
        Problem("the damage went undetected: Open, every read and Verify gave OK");
      }
      corrupt_reads_this_round_ = 0;
      if (!problems.empty()) return;
    }
  }

 private:
  void Problem(const std::string& p) {
    if (problems.size() < 6) {
      problems.push_back(round_ + p);
    } else if (problems.size() == 6) {
      problems.push_back("(further problems of this case not shown)");
    }
  }

  // A kCorruption message must name the damaged file; for derived index
  // files, naming any file of index/ will do (a mismatch may show up in
  // another of them).
  bool NamesAllowedFile(const std::string& msg) const {
    if (Contains(msg, Basename(case_.file))) return true;
    if (case_.file.rfind("index", 0) == 0) {
      if (Contains(msg, "index")) return true;
      for (const auto& [rel, bytes] : base_.files) {
        if (rel.rfind("index/", 0) == 0 && Contains(msg, Basename(rel))) return true;
      }
    }
    return false;
  }

  // A read's outcome: OK with `got` == `want`, or a kCorruption that the
  // case allows for a read whose matching events are `involved`.
  void Judge(const std::string& what, const Status& s, const std::vector<EventView>& got,
             const std::vector<uint64_t>& want, const std::vector<uint64_t>& involved) {
    if (s.ok()) {
      if (got.size() != want.size()) {
        Problem(what + ": returned " + std::to_string(got.size()) + " events, expected " +
                std::to_string(want.size()) + Positions(got, want));
        return;
      }
      for (size_t i = 0; i < got.size(); ++i) {
        std::string d = Diff(got[i], truth_[want[i] - 1], want[i]);
        if (!d.empty()) {
          Problem(what + ": WRONG ANSWER: " + d);
          return;
        }
      }
      return;
    }
    if (!s.IsCorruption()) {
      Problem(what + ": gave " + s.ToString() + "; expected OK or kCorruption");
      return;
    }
    ++corrupt_reads;
    ++corrupt_reads_this_round_;
    if (first_corrupt_read_.empty()) first_corrupt_read_ = what + ": " + s.ToString();
    bool allowed = case_.any_read_may_fail;
    for (uint64_t p : involved) allowed = allowed || case_.affected.count(p) > 0;
    if (!allowed) {
      Problem(what + ": gave " + s.ToString() + " although no event it involves is damaged");
    } else if (!NamesAllowedFile(s.message())) {
      Problem(what + ": kCorruption does not name the damaged file " + Basename(case_.file) + ": " +
              s.ToString());
    } else if (!case_.any_read_may_fail && !NamesOffset(s.message())) {
      Problem(what + ": kCorruption names no offset: " + s.ToString());
    }
  }

  static std::string Positions(const std::vector<EventView>& got,
                               const std::vector<uint64_t>& want) {
    std::string s = " (got positions";
    for (size_t i = 0; i < got.size() && i < 12; ++i) s += " " + std::to_string(got[i].position());
    s += "; expected";
    for (size_t i = 0; i < want.size() && i < 12; ++i) s += " " + std::to_string(want[i]);
    return s + ")";
  }

  void CheckQuery(const Store& store, const Query& q, const ReadOptions& o) {
    std::vector<uint64_t> matching;
    for (uint64_t p = 1; p <= truth_.size(); ++p) {
      if (Matches(truth_[p - 1], q)) matching.push_back(p);
    }
    std::vector<uint64_t> want;
    if (!o.backwards) {
      for (uint64_t p : matching) {
        if (!o.from || p >= *o.from) want.push_back(p);
      }
    } else {
      for (auto it = matching.rbegin(); it != matching.rend(); ++it) {
        if (!o.from || *it <= *o.from) want.push_back(*it);
      }
    }
    if (o.limit && want.size() > *o.limit) want.resize(*o.limit);
    // The events a read may have to look at: those with any tag or type the
    // query names (a store may filter one list by reading the events).
    std::vector<uint64_t> involved;
    for (uint64_t p = 1; p <= truth_.size(); ++p) {
      const ModelEvent& e = truth_[p - 1];
      bool any = q.items.empty();
      for (const QueryItem& item : q.items) {
        for (const auto& t : item.types) any = any || e.type == t;
        for (const auto& t : item.tags) {
          any = any || std::binary_search(e.tags.begin(), e.tags.end(), t);
        }
      }
      if (any) involved.push_back(p);
    }
    std::vector<EventView> got;
    Status s = store.Read(q, o, &got);
    Judge("Read(" + DescribeQuery(q) + ", " + Describe(o) + ")", s, got, want, involved);

    std::optional<EventView> last;
    s = store.ReadLast(q, &last);
    std::vector<EventView> got_last;
    if (last) got_last.push_back(*last);
    std::vector<uint64_t> want_last;
    if (!matching.empty()) want_last.push_back(matching.back());
    Judge("ReadLast(" + DescribeQuery(q) + ")", s, got_last, want_last, involved);
  }

  void CheckReads(const Store& store) {
    // Every position on its own.
    for (uint64_t p = 1; p <= truth_.size(); ++p) {
      std::vector<EventView> got;
      ReadOptions o;
      o.from = p;
      o.limit = 1;
      Status s = store.Read(Query::All(), o, &got);
      Judge("Read(All, from " + std::to_string(p) + " limit 1)", s, got, {p}, {p});
    }
    CheckQuery(store, Query::All(), ReadOptions{});
    ReadOptions back;
    back.backwards = true;
    back.limit = 5;
    CheckQuery(store, Query::All(), back);
    for (const std::string& tag : base_.tags) {
      CheckQuery(store, Query::ForTags({tag}), ReadOptions{});
      CheckQuery(store, Query::ForTags({tag}), back);
    }
    for (const std::string& type : base_.types) {
      CheckQuery(store, Query::ForTypes({type}), ReadOptions{});
    }
    ReadOptions mid;
    mid.from = truth_.size() / 2;
    CheckQuery(store, Query::ForTags({"course:c1", "student:s3"}), ReadOptions{});
    CheckQuery(store, Query::ForTags({"flag:x", "course:c0"}), mid);
    CheckQuery(store, Query::Of({"Enrolled", "Left"}, {"course:c2"}), ReadOptions{});
    Query either = Query::ForTags({"student:s4"});
    either.Or(QueryItem{{"Created"}, {"flag:x"}});
    CheckQuery(store, either, ReadOptions{});
    CheckQuery(store, either, back);
    CheckQuery(store, Query::ForTags({"course:c3", "no:such"}), ReadOptions{});
    CheckQuery(store, Query::ForTypes({"NoSuchType"}), ReadOptions{});
  }

  // Append conditions are answered from the index: one that must fail, for
  // a few tags, and one that must pass.
  void CheckConditions(Store* store) {
    for (const std::string tag : {"course:c4", "student:s7", "flag:x", "batch:59", "batch:0"}) {
      std::vector<uint64_t> matching;
      for (uint64_t p = 1; p <= truth_.size(); ++p) {
        if (Matches(truth_[p - 1], Query::ForTags({tag}))) matching.push_back(p);
      }
      if (matching.empty()) continue;
      Event e;
      e.type = "MustNotBeWritten";
      e.tags = {"condition:check"};
      uint64_t pos = 0;
      Status s = store->Append(std::span<const Event>(&e, 1),
                               AppendCondition{Query::ForTags({tag}), matching.back() - 1}, &pos);
      const std::string what =
          "Append with condition {" + tag + " after " + std::to_string(matching.back() - 1) + "}";
      if (s.ok()) {
        Problem(what + ": WRONG ANSWER: succeeded (position " + std::to_string(pos) +
                ") although event " + std::to_string(matching.back()) + " matches");
        return;
      }
      if (s.IsConditionFailed()) {
        const uint64_t c = s.conflicting_position();
        if (std::find(matching.begin(), matching.end(), c) == matching.end() ||
            c <= matching.back() - 1) {
          Problem(what + ": conflicting position " + std::to_string(c) +
                  " is not a matching event after " + std::to_string(matching.back() - 1));
        }
      } else if (!s.IsCorruption()) {
        Problem(what + ": gave " + s.ToString());
      } else {
        bool allowed = case_.any_read_may_fail;
        for (uint64_t p : matching) allowed = allowed || case_.affected.count(p) > 0;
        if (!allowed)
          Problem(what + ": gave " + s.ToString() + " but no matching event is damaged");
        ++corrupt_reads;
        ++corrupt_reads_this_round_;
        if (first_corrupt_read_.empty()) first_corrupt_read_ = what + ": " + s.ToString();
      }
    }
    // A condition that holds: the append is written at Head()+1 (or the
    // damaged store refuses writes with kCorruption).
    ModelEvent m;
    m.type = "AfterDamage";
    m.tags = {"after:damage"};
    m.data = "appended to a damaged store";
    Event e;
    e.type = m.type;
    e.tags = m.tags;
    e.data = m.data;
    uint64_t pos = 0;
    Status s = store->Append(std::span<const Event>(&e, 1),
                             AppendCondition{Query::ForTags({"after:damage"}), std::nullopt}, &pos);
    append_outcome = s.ok() ? "ok" : std::string(Status::CodeName(s.code()));
    if (s.ok()) {
      if (pos != truth_.size() + 1) {
        Problem("Append got position " + std::to_string(pos) + ", expected " +
                std::to_string(truth_.size() + 1));
        return;
      }
      std::vector<EventView> got;
      Status r = store->Read(Query::ForTags({"after:damage"}), ReadOptions{}, &got);
      if (!r.ok() || got.size() != 1 || got[0].position() != pos || got[0].data() != m.data) {
        std::string seen;
        for (const EventView& g : got) seen += " " + std::to_string(g.position());
        Problem("the event appended to the damaged store at " + std::to_string(pos) +
                " does not read back by its tag: " + r.ToString() + ", " +
                std::to_string(got.size()) + " events (positions" + seen + ")");
        return;
      }
      m.timestamp_ns = got[0].timestamp_ns();
      truth_.push_back(m);
    } else if (!s.IsCorruption()) {
      Problem("Append to the damaged store gave " + s.ToString() + "; expected OK or kCorruption");
    }
  }

  const Base& base_;
  const Case& case_;
  std::vector<ModelEvent> truth_;
  std::string round_;
  int corrupt_reads_this_round_ = 0;
  std::string first_corrupt_read_;
};

struct Outcome {
  bool failed = false;
  std::string report;  // problems, one a line
  std::string stats;   // "open=.. verify=.. corrupt_reads=.."
};

// Restores the base with the case's damage and checks it in a child.
Outcome RunCase(const fs::path& root, const std::string& name, const Base& base, const Case& c,
                bool no_fork) {
  Outcome out;
  Snapshot snap = base.files;
  c.damage(&snap);
  if (!RestoreSnapshot(root / name, snap)) {
    out.failed = true;
    out.report = "cannot write the damaged store";
    return out;
  }
  const fs::path result = root / "result.txt";
  std::error_code ec;
  fs::remove(result, ec);
  if (no_fork) {
    Checker checker(base, c);
    checker.Run(root, name);
    out.stats = "open=" + checker.open_outcome + " verify=" + checker.verify_outcome;
    for (const std::string& p : checker.problems) out.report += p + "\n";
    out.failed = !out.report.empty();
    return out;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    out.failed = true;
    out.report = "fork failed";
    return out;
  }
  if (pid == 0) {
    ::alarm(30);
    Checker checker(base, c);
    checker.Run(root, name);
    std::string text = "open=" + checker.open_outcome + " verify=" + checker.verify_outcome +
                       " append=" + checker.append_outcome +
                       " corrupt_reads=" + std::to_string(checker.corrupt_reads) + "\n";
    for (const std::string& p : checker.problems) text += p + "\n";
    ::_exit(WriteFileBytes(result, text) ? 0 : 3);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    out.failed = true;
    out.report = std::string("CRASH: the child died of signal ") +
                 std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")" +
                 (WTERMSIG(status) == SIGALRM ? " -- it hung for 30 s" : "");
    return out;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out.failed = true;
    out.report = "the child exited with status " + std::to_string(WEXITSTATUS(status));
    return out;
  }
  std::string text = ReadFileBytes(result);
  const size_t nl = text.find('\n');
  out.stats = text.substr(0, nl);
  out.report = nl == std::string::npos ? "" : text.substr(nl + 1);
  out.failed = !out.report.empty();
  return out;
}

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = TestSeed();
    rng_.seed(seed_);
    BuildBase(dir_.path(), "orig", &base_);
  }

  // Runs every case and reports the failing ones: up to 4 of each kind of
  // outcome in full, 24 in all. To look at one case closely:
  //   OPOSSUM_SEED=<seed> OPOSSUM_CASE='<part of its label>' [OPOSSUM_NOFORK=1]
  // (OPOSSUM_NOFORK runs it in the test process, e.g. under gdb).
  void RunAll(const std::vector<Case>& cases) {
    ASSERT_FALSE(cases.empty());
    const char* only = std::getenv("OPOSSUM_CASE");
    const bool no_fork = std::getenv("OPOSSUM_NOFORK") != nullptr;
    const auto start = std::chrono::steady_clock::now();
    std::map<std::string, int> stats, shown_of_kind;
    int failed = 0, shown = 0;
    size_t run = 0;
    for (const Case& c : cases) {
      if (only != nullptr && !Contains(c.label, only)) continue;
      // The budget only bounds the test's run time (each case's child also
      // has an alarm); a sanitizer build gets more of it.
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(240 * kTimeScale)) {
        ADD_FAILURE() << "time budget exhausted after " << run << " of " << cases.size()
                      << " cases";
        break;
      }
      ++run;
      Outcome o = RunCase(dir_.path(), "case", base_, c, no_fork);
      const std::string kind = o.stats.empty()
                                   ? o.report.substr(0, o.report.find(" (")) + " (no outcome)"
                                   : o.stats.substr(0, o.stats.find(" corrupt_reads"));
      ++stats[kind];
      if (o.failed) {
        ++failed;
        std::fprintf(stderr, "[ failed   ] %s: %s\n", c.label.c_str(),
                     o.report.substr(0, std::min<size_t>(o.report.find('\n'), 160)).c_str());
        if (shown < 24 && ++shown_of_kind[kind] <= 4) {
          ++shown;
          ADD_FAILURE() << "case: " << c.label << "\n  outcome: " << o.stats << "\n  " << o.report
                        << "  reproduce: OPOSSUM_SEED=" << seed_ << " OPOSSUM_CASE='" << c.label
                        << "'";
        }
      }
    }
    std::fprintf(stderr, "[ info     ] %zu cases, %d failed; outcomes:\n", run, failed);
    for (const auto& [k, n] : stats) std::fprintf(stderr, "[ info     ]   %5d  %s\n", n, k.c_str());
    EXPECT_EQ(failed, 0) << "cases failed (a sample of them is shown above)";
  }

  const std::string& SegmentOf(size_t batch) const { return base_.batches[batch].segment; }

  // Chosen batches: first, second, one in the middle, last of the first
  // segment, first of the second, last of the store.
  std::vector<size_t> ChosenBatches() const {
    std::vector<size_t> v = {0, 1, base_.batches.size() / 3, base_.batches.size() - 1};
    for (size_t i = 1; i < base_.batches.size(); ++i) {
      if (base_.batches[i].segment != base_.batches[i - 1].segment) {
        v.push_back(i - 1);
        v.push_back(i);
      }
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  TempDir dir_;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  Base base_;
};

TEST_F(CorruptionTest, SegmentRecordBytes) {
  std::vector<Case> cases;
  auto add = [&](size_t p, uint64_t offset, const std::string& what) {
    const RecordLoc& r = base_.records[p - 1];
    const BatchLoc& b = base_.batches[r.batch];
    Case c = DamageByte(
        base_, b.segment, offset, rng_,
        what + " of event " + std::to_string(p) + ", record at " + std::to_string(r.offset));
    c.affected = BatchPositions(b);
    c.must_detect = true;
    cases.push_back(std::move(c));
  };
  // Chosen: the first and last event of each chosen batch, at its record
  // header fields and inside its data, type and tag bytes.
  for (size_t bi : ChosenBatches()) {
    const BatchLoc& b = base_.batches[bi];
    const std::string& seg = *base_.files.at(b.segment);
    for (uint64_t p : {b.first, b.first + b.count - 1}) {
      const RecordLoc& r = base_.records[p - 1];
      const ModelEvent& m = base_.events[p - 1];
      for (uint64_t f : {0, 4, 8, 16, 23})
        add(p, r.offset + f, "record header byte " + std::to_string(f));
      const uint64_t fb = r.offset + kRecordHeaderBytes;
      const std::string_view rec(seg.data() + fb, r.fb_length);
      add(p, fb, "first FlatBuffers byte");
      add(p, fb + r.fb_length - 1, "last FlatBuffers byte");
      if (auto i = rec.find(m.data); i != std::string_view::npos) {
        add(p, fb + i + m.data.size() / 2, "data byte");
      }
      if (auto i = rec.find(m.type); i != std::string_view::npos) add(p, fb + i, "type byte");
      if (auto i = rec.find(m.tags.back()); i != std::string_view::npos) {
        add(p, fb + i + m.tags.back().size() - 1, "tag byte");
      }
      const uint64_t padded = (kRecordHeaderBytes + r.fb_length + 7) & ~uint64_t{7};
      if (padded > kRecordHeaderBytes + r.fb_length) {
        add(p, r.offset + padded - 1, "record padding byte");
      }
    }
  }
  // Random: any byte of the records of a random batch.
  for (int i = 0; i < 80; ++i) {
    const size_t bi = rng_() % base_.batches.size();
    const BatchLoc& b = base_.batches[bi];
    const uint64_t off = b.offset + kBatchHeaderBytes + rng_() % (b.length - kBatchHeaderBytes);
    uint64_t p = b.first;
    while (p + 1 < b.first + b.count && base_.records[p].offset <= off) ++p;
    add(p, off, "random record byte");
  }
  RunAll(cases);
}

TEST_F(CorruptionTest, BatchHeaderBytes) {
  std::vector<Case> cases;
  auto add = [&](size_t bi, Case c) {
    c.affected = FromBatchOn(base_, bi);
    c.must_detect = true;
    cases.push_back(std::move(c));
  };
  for (size_t bi : ChosenBatches()) {
    const BatchLoc& b = base_.batches[bi];
    const std::string what =
        "header of batch " + std::to_string(bi) + " at " + std::to_string(b.offset);
    for (uint64_t f = 0; f < kBatchHeaderBytes; ++f) {
      add(bi,
          DamageByte(base_, b.segment, b.offset + f, rng_, what + ", byte " + std::to_string(f)));
    }
    Case z;
    z.file = b.segment;
    z.label = "zero the whole " + what;
    z.damage = ZeroBytes(b.segment, b.offset, kBatchHeaderBytes);
    add(bi, z);
  }
  for (int i = 0; i < 40; ++i) {
    const size_t bi = rng_() % base_.batches.size();
    const BatchLoc& b = base_.batches[bi];
    const uint64_t f = rng_() % kBatchHeaderBytes;
    add(bi, DamageByte(base_, b.segment, b.offset + f, rng_,
                       "header of batch " + std::to_string(bi) + ", byte " + std::to_string(f)));
  }
  RunAll(cases);
}

TEST_F(CorruptionTest, SegmentHeaderBytes) {
  std::vector<Case> cases;
  for (const std::string& seg : base_.segments) {
    const std::set<uint64_t> affected = SegmentPositions(base_, seg);
    for (uint64_t f = 0; f < kSegmentHeaderBytes; ++f) {
      Case c = DamageByte(base_, seg, f, rng_, "segment header byte " + std::to_string(f));
      c.affected = affected;
      c.must_detect = true;
      cases.push_back(std::move(c));
    }
    Case z;
    z.file = seg;
    z.label = "zero the whole segment header of " + seg;
    z.damage = ZeroBytes(seg, 0, kSegmentHeaderBytes);
    z.affected = affected;
    z.must_detect = true;
    cases.push_back(std::move(z));
  }
  RunAll(cases);
}

TEST_F(CorruptionTest, Ledger) {
  const std::string rel = "ledger";
  ASSERT_TRUE(base_.files.count(rel)) << "no ledger file";
  const uint64_t size = base_.files.at(rel)->size();
  std::set<uint64_t> all;
  for (uint64_t p = 1; p <= base_.head(); ++p) all.insert(p);
  std::vector<Case> cases;
  auto add = [&](Case c) {
    c.file = rel;
    c.affected = all;
    c.any_read_may_fail = true;  // the commit point is global
    cases.push_back(std::move(c));
  };
  for (uint64_t f = 0; f < std::min<uint64_t>(size, 512); ++f) {
    add(DamageByte(base_, rel, f, rng_, "ledger byte"));
  }
  for (int i = 0; i < 40 && size > 512; ++i) {
    add(DamageByte(base_, rel, 512 + rng_() % (size - 512), rng_, "ledger byte"));
  }
  for (uint64_t at : {0, 256, 512}) {
    Case z;
    z.label = "zero 256 bytes of the ledger at " + std::to_string(at);
    z.damage = ZeroBytes(rel, at, 256);
    add(z);
  }
  Case zall;
  zall.label = "zero the whole ledger";
  zall.damage = ZeroBytes(rel, 0, size);
  add(zall);
  Case half;
  half.label = "truncate the ledger to half";
  half.damage = Truncate(rel, size / 2);
  add(half);
  Case empty;
  empty.label = "truncate the ledger to 0 bytes";
  empty.damage = Truncate(rel, 0);
  add(empty);
  Case gone;
  gone.label = "delete the ledger (segments remain)";
  gone.damage = Remove(rel);
  gone.may_be_not_found = true;
  add(gone);
  // With create_if_missing, a folder whose ledger is gone must not become a
  // new empty store over the old segments.
  Case gone_create;
  gone_create.label = "delete the ledger (segments remain), open with create_if_missing";
  gone_create.damage = Remove(rel);
  gone_create.create_if_missing = true;
  add(gone_create);
  RunAll(cases);
}

TEST_F(CorruptionTest, IndexFiles) {
  std::vector<std::string> files;
  for (const auto& [rel, bytes] : base_.files) {
    if (rel.rfind("index/", 0) == 0) files.push_back(rel);
  }
  ASSERT_FALSE(files.empty()) << "no files under index/";
  std::vector<Case> cases;
  auto add = [&](const std::string& rel, Case c) {
    c.file = rel;
    c.any_read_may_fail = true;  // derived: rebuilt, or a clean error
    c.may_be_not_found = true;
    cases.push_back(std::move(c));
  };
  for (const std::string& rel : files) {
    const std::string& bytes = *base_.files.at(rel);
    const uint64_t size = bytes.size();
    std::fprintf(stderr, "[ info     ] %s: %" PRIu64 " bytes\n", rel.c_str(), size);
    if (size > 0) {
      for (uint64_t f = 0; f < std::min<uint64_t>(size, 64); ++f) {
        add(rel, DamageByte(base_, rel, f, rng_, "index header byte"));
      }
      // Random bytes, biased to the non-zero ones (where the entries are).
      std::vector<uint64_t> nonzero;
      for (uint64_t i = 0; i < size; ++i) {
        if (bytes[i] != 0) nonzero.push_back(i);
      }
      for (int i = 0; i < 60; ++i) {
        const uint64_t off =
            (!nonzero.empty() && i % 4 != 0) ? nonzero[rng_() % nonzero.size()] : rng_() % size;
        add(rel, DamageByte(base_, rel, off, rng_, "index byte"));
      }
      for (int i = 0; i < 3; ++i) {
        const uint64_t at = (rng_() % size) & ~uint64_t{4095};
        Case z;
        z.label = "zero 4096 bytes of " + rel + " at " + std::to_string(at);
        z.damage = ZeroBytes(rel, at, 4096);
        add(rel, z);
      }
      Case zall;
      zall.label = "zero the whole of " + rel;
      zall.damage = ZeroBytes(rel, 0, size);
      add(rel, zall);
      Case half;
      half.label = "truncate " + rel + " to half";
      half.damage = Truncate(rel, size / 2);
      add(rel, half);
      Case empty;
      empty.label = "truncate " + rel + " to 0 bytes";
      empty.damage = Truncate(rel, 0);
      add(rel, empty);
    }
    Case gone;
    gone.label = "delete " + rel;
    gone.damage = Remove(rel);
    add(rel, gone);
  }
  Case all_gone;
  all_gone.label = "delete every file under index/";
  all_gone.damage = [files](Snapshot* s) {
    for (const std::string& rel : files) (*s)[rel] = std::nullopt;
  };
  add(files.front(), all_gone);
  cases.back().file = "index";
  RunAll(cases);
}

}  // namespace
}  // namespace opossum
