// The kill loop's worker (tools/stress/killloop.sh): one program, three modes.
//
//   write  --root R --store S --log FILE --writer W --run N [--threads 4]
//          [--durability sync|buffered] [--segment-size BYTES] [--seed X]
//     Appends from several threads until killed. Each batch holds 1-5 events
//     whose type, tags and data are a pure function of the batch id (so the
//     checker can recompute every byte); about half carry the condition
//     "fail if an event with one of my tags (and, for some items, one of two
//     types) lies after the position I last read". Every append is logged to
//     FILE (O_APPEND, one write(2) per line) before and after it:
//       S <id> <size> <after|-> .        about to append (written first)
//       A <id> <first> <last> .          acknowledged (Append returned OK)
//       F <id> <conflicting position> .  the condition failed
//     A process kill keeps what write(2) put in the page cache, so a line is
//     reported once its write returned. Any other error: an X line, exit 2.
//
//   read   --root R --store S [--seed X]
//     Opens read-only, reads snapshots again and again (a window at the head,
//     tag reads through the index, ReadLast), reopens now and then; checks
//     gapless positions, whole batches, every event's bytes. Runs until
//     killed; on any problem prints it to stderr and exits 1.
//
//   check  --root R --store S --logs DIR [--run N] [--durability ...]
//     Opens the store for writing (recovery), runs Verify, reads every event
//     and checks it against every log in DIR: positions gapless 1..head;
//     every batch whole, contiguous, logged as started, present at most once;
//     every acknowledged batch present at exactly its positions; a thread's
//     batches in the order it appended them; an unacknowledged batch present
//     only as its thread's last; no present conditional batch with a matching
//     event between its `after` and its first position; every failed
//     condition's conflicting event real and matching; reads by every tag
//     and type (the index) equal to the scan. Prints one JSON line; exit 0
//     when everything holds, 1 otherwise (the first problem in "error").
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "opossum/opossum.h"

namespace {

namespace fs = std::filesystem;
using opossum::AppendCondition;
using opossum::Durability;
using opossum::Event;
using opossum::EventView;
using opossum::Options;
using opossum::Query;
using opossum::QueryItem;
using opossum::ReadOptions;
using opossum::Status;
using opossum::Store;

// ---------------------------------------------------------------------------
// Batch ids and the content of each batch, a pure function of its id.

// id = run (24 bits) | writer (4) | thread (4) | counter (32).
uint64_t MakeId(uint64_t run, uint64_t writer, uint64_t thread, uint64_t counter) {
  return (run << 40) | (writer << 36) | (thread << 32) | counter;
}
uint64_t IdThreadKey(uint64_t id) { return id >> 32; }  // run, writer, thread

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr int kTypes = 4;
constexpr int kTags = 8;
const std::array<std::string, kTypes> kTypeNames = {"T0", "T1", "T2", "T3"};
const std::array<std::string, kTags> kTagNames = {"k:0", "k:1", "k:2", "k:3",
                                                  "k:4", "k:5", "k:6", "k:7"};

uint32_t BatchSize(uint64_t id) { return 1 + static_cast<uint32_t>(Mix(id) % 5); }
bool BatchConditional(uint64_t id) { return (Mix(id) >> 8) % 2 == 0; }

struct Shape {
  int type = 0;
  uint8_t tag_mask = 0;  // bit t: kTagNames[t]
  uint32_t pad = 0;
};

Shape EventShape(uint64_t id, uint32_t index) {
  const uint64_t h = Mix(id * 8 + index + 1);
  Shape s;
  s.type = static_cast<int>(h % kTypes);
  const int ntags = static_cast<int>((h >> 8) % 4);  // 0..3 draws, duplicates dropped
  for (int i = 0; i < ntags; ++i) s.tag_mask |= uint8_t(1u << ((h >> (16 + 3 * i)) % kTags));
  s.pad = static_cast<uint32_t>((h >> 32) % 200);
  return s;
}

std::string EventData(uint64_t id, uint32_t index, uint32_t size, uint32_t pad) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{\"b\":%" PRIu64 ",\"i\":%u,\"n\":%u,\"p\":\"", id, index, size);
  std::string d = buf;
  d.append(pad, 'x');
  d += "\"}";
  return d;
}

// Parses the data of an event written by EventData; false when it is not
// exactly such bytes.
bool ParseEventData(std::string_view data, uint64_t* id, uint32_t* index, uint32_t* size) {
  if (data.size() > 200 + 96) return false;
  std::string s(data);
  unsigned long long b = 0;
  unsigned i = 0, n = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "{\"b\":%llu,\"i\":%u,\"n\":%u,\"p\":\"%n", &b, &i, &n, &consumed) !=
          3 ||
      consumed == 0) {
    return false;
  }
  if (n < 1 || n > 5 || i >= n) return false;
  const Shape shape = EventShape(b, i);
  if (s != EventData(b, i, n, shape.pad)) return false;
  *id = b;
  *index = i;
  *size = n;
  return true;
}

Event MakeEvent(uint64_t id, uint32_t index, uint32_t size) {
  const Shape shape = EventShape(id, index);
  Event e;
  e.type = kTypeNames[shape.type];
  for (int t = 0; t < kTags; ++t) {
    if (shape.tag_mask & (1u << t)) e.tags.push_back(kTagNames[t]);
  }
  e.data = EventData(id, index, size, shape.pad);
  e.data_is_json = true;
  return e;
}

// The condition's query of a conditional batch: one item per tag the batch
// carries ({tag}, or {tag, two types} for some); a batch without tags asks
// for its first event's type.
struct ModelItem {
  uint8_t type_mask = 0;  // 0: any type
  int tag = -1;           // -1: no tag
};

std::vector<ModelItem> ConditionItems(uint64_t id) {
  const uint32_t size = BatchSize(id);
  uint8_t tags = 0;
  for (uint32_t i = 0; i < size; ++i) tags |= EventShape(id, i).tag_mask;
  const uint64_t h = Mix(id ^ 0x5555);
  std::vector<ModelItem> items;
  for (int t = 0; t < kTags; ++t) {
    if (!(tags & (1u << t))) continue;
    ModelItem it;
    it.tag = t;
    if ((h >> t) & 1) {
      const int a = static_cast<int>((h >> (8 + 2 * t)) % kTypes);
      it.type_mask = uint8_t((1u << a) | (1u << ((a + 1) % kTypes)));
    }
    items.push_back(it);
  }
  if (items.empty()) {
    ModelItem it;
    it.type_mask = uint8_t(1u << EventShape(id, 0).type);
    items.push_back(it);
  }
  return items;
}

Query ToQuery(const std::vector<ModelItem>& items) {
  Query q;
  for (const ModelItem& m : items) {
    QueryItem qi;
    for (int t = 0; t < kTypes; ++t) {
      if (m.type_mask & (1u << t)) qi.types.push_back(kTypeNames[t]);
    }
    if (m.tag >= 0) qi.tags.push_back(kTagNames[m.tag]);
    q.items.push_back(std::move(qi));
  }
  return q;
}

// An event as the checker keeps it: its type and tags, two bytes.
struct Packed {
  uint8_t type = 0;
  uint8_t tags = 0;
};

bool Matches(const std::vector<ModelItem>& items, Packed e) {
  for (const ModelItem& m : items) {
    if (m.type_mask != 0 && !(m.type_mask & (1u << e.type))) continue;
    if (m.tag >= 0 && !(e.tags & (1u << m.tag))) continue;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Arguments.

struct Args {
  std::string mode;
  std::string root, store, log, logs;
  uint64_t writer = 0, run = 0, threads = 4, seed = 0;
  uint64_t segment_size = 1ull << 20;
  Durability durability = Durability::kSync;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "killloop_worker: %s\n"
               "usage: opossum_stress_worker write --root R --store S --log FILE --writer W --run "
               "N [--threads N] [--durability sync|buffered] [--segment-size B] [--seed X]\n"
               "       opossum_stress_worker read --root R --store S [--seed X]\n"
               "       opossum_stress_worker check --root R --store S --logs DIR [--run N] "
               "[--durability sync|buffered]\n",
               why.c_str());
  std::exit(2);
}

uint64_t ToU64(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') Usage("bad number for " + flag + ": " + text);
  return v;
}

Args ParseArgs(int argc, char** argv) {
  if (argc < 2) Usage("no mode");
  Args a;
  a.mode = argv[1];
  a.seed = std::random_device{}();
  for (int i = 2; i < argc; ++i) {
    const std::string f = argv[i];
    if (i + 1 >= argc) Usage("missing value for " + f);
    const char* v = argv[++i];
    if (f == "--root")
      a.root = v;
    else if (f == "--store")
      a.store = v;
    else if (f == "--log")
      a.log = v;
    else if (f == "--logs")
      a.logs = v;
    else if (f == "--writer")
      a.writer = ToU64(f, v);
    else if (f == "--run")
      a.run = ToU64(f, v);
    else if (f == "--threads")
      a.threads = ToU64(f, v);
    else if (f == "--seed")
      a.seed = ToU64(f, v);
    else if (f == "--segment-size")
      a.segment_size = ToU64(f, v);
    else if (f == "--durability") {
      const std::string d = v;
      if (d == "sync")
        a.durability = Durability::kSync;
      else if (d == "buffered")
        a.durability = Durability::kBuffered;
      else
        Usage("bad durability " + d);
    } else {
      Usage("unknown option " + f);
    }
  }
  if (a.root.empty() || a.store.empty()) Usage("--root and --store are required");
  if (a.writer > 15 || a.threads < 1 || a.threads > 16 || a.run >= (1ull << 24)) {
    Usage("--writer 0..15, --threads 1..16, --run < 2^24");
  }
  return a;
}

// ---------------------------------------------------------------------------
// write

// One line, one write(2) (O_APPEND: never interleaved with another line).
void WriteLine(int fd, const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "killloop_worker: write log: %s\n", std::strerror(errno));
      ::_exit(3);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

int RunWrite(const Args& a) {
  if (a.log.empty()) Usage("write needs --log");
  const int fd = ::open(a.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "killloop_worker: open %s: %s\n", a.log.c_str(), std::strerror(errno));
    return 2;
  }
  // A line cut by an earlier kill: end it, so that it stands alone (and,
  // lacking its final " .", is ignored by the checker).
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') WriteLine(fd, "\n");
  }
  Options options;
  options.durability = a.durability;
  options.segment_size = a.segment_size;
  std::unique_ptr<Store> store;
  Status s = Store::Open(a.root, a.store, options, &store);
  if (!s.ok()) {
    WriteLine(fd, "X open " + s.ToString() + "\n");
    std::fprintf(stderr, "killloop_worker: Open: %s\n", s.ToString().c_str());
    return 2;
  }
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(a.seed * 131 + t);
      for (uint64_t n = 0; n < 0xffffffffu; ++n) {
        const uint64_t id = MakeId(a.run, a.writer, t, n);
        const uint32_t size = BatchSize(id);
        std::vector<Event> events;
        for (uint32_t i = 0; i < size; ++i) events.push_back(MakeEvent(id, i, size));
        std::optional<AppendCondition> condition;
        std::string after_text = "-";
        if (BatchConditional(id)) {
          const std::vector<ModelItem> items = ConditionItems(id);
          Query q = ToQuery(items);
          uint64_t after = 0;
          if (rng() % 2 == 0) {
            // The decision read: the newest event matching the query.
            std::optional<EventView> last;
            Status rs = store->ReadLast(q, &last);
            if (!rs.ok()) {
              WriteLine(fd, "X readlast " + rs.ToString() + "\n");
              ::_exit(2);
            }
            after = last ? last->position() : 0;
          } else {
            // A read of the query's events from a recent position; `after`
            // is the snapshot's head.
            opossum::Reader reader = store->NewReader();
            const uint64_t head = reader.head();
            ReadOptions ro;
            ro.from = head > 50 ? head - 50 : 1;
            uint64_t past_head = 0;
            Status rs = reader.ForEach(q, ro, [&](const EventView& v) {
              if (v.position() > head) past_head = v.position();
              return true;
            });
            if (!rs.ok() || past_head != 0) {
              WriteLine(fd, "X read " +
                                (rs.ok() ? "event " + std::to_string(past_head) + " past the head"
                                         : rs.ToString()) +
                                "\n");
              ::_exit(2);
            }
            after = head;
          }
          condition = AppendCondition{std::move(q), after};
          after_text = std::to_string(after);
        }
        WriteLine(
            fd, "S " + std::to_string(id) + " " + std::to_string(size) + " " + after_text + " .\n");
        uint64_t last = 0;
        Status as = store->Append(std::span<const Event>(events), condition, &last);
        if (as.ok()) {
          WriteLine(fd, "A " + std::to_string(id) + " " + std::to_string(last + 1 - size) + " " +
                            std::to_string(last) + " .\n");
        } else if (as.IsConditionFailed()) {
          WriteLine(fd, "F " + std::to_string(id) + " " +
                            std::to_string(as.conflicting_position()) + " .\n");
        } else {
          WriteLine(fd, "X " + std::to_string(id) + " " + as.ToString() + "\n");
          std::fprintf(stderr, "killloop_worker: Append: %s\n", as.ToString().c_str());
          ::_exit(2);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return 0;
}

// ---------------------------------------------------------------------------
// read

[[noreturn]] void ReadFail(const std::string& what) {
  std::fprintf(stderr, "killloop_worker read: %s\n", what.c_str());
  std::fflush(stderr);
  ::_exit(1);
}

// Reads [from, head] of one snapshot and checks it. Returns the events read.
uint64_t CheckSnapshot(const opossum::Reader& reader, uint64_t from) {
  const uint64_t head = reader.head();
  uint64_t expect = from;
  uint64_t cur_id = 0;
  uint32_t cur_next = 0, cur_size = 0;  // next index expected in the current batch
  bool first = true;
  std::array<std::vector<uint64_t>, kTags> by_tag;
  ReadOptions ro;
  ro.from = from;
  Status s = reader.ForEach(Query::All(), ro, [&](const EventView& v) {
    if (v.position() != expect) {
      ReadFail("snapshot at head " + std::to_string(head) + ": position " +
               std::to_string(v.position()) + " where " + std::to_string(expect) + " was expected");
    }
    ++expect;
    uint64_t id;
    uint32_t idx, size;
    if (!ParseEventData(v.data(), &id, &idx, &size)) {
      ReadFail("event " + std::to_string(v.position()) +
               ": data does not parse: " + std::string(v.data().substr(0, 120)));
    }
    const Event want = MakeEvent(id, idx, size);
    std::vector<std::string_view> tags = v.tags();
    if (v.type() != want.type || tags.size() != want.tags.size() ||
        !std::equal(tags.begin(), tags.end(), want.tags.begin()) || !v.data_is_json()) {
      ReadFail("event " + std::to_string(v.position()) + ": type or tags differ from batch " +
               std::to_string(id) + " event " + std::to_string(idx));
    }
    if (first && idx != 0) {
      cur_id = id;  // the window began inside a batch
    } else if (idx == 0) {
      if (!first && cur_next != cur_size) {
        ReadFail("batch " + std::to_string(cur_id) + " is cut at position " +
                 std::to_string(v.position() - 1));
      }
      cur_id = id;
    } else if (id != cur_id || idx != cur_next) {
      ReadFail("event " + std::to_string(v.position()) + " (batch " + std::to_string(id) +
               " index " + std::to_string(idx) + ") follows batch " + std::to_string(cur_id) +
               " index " + std::to_string(cur_next - 1));
    }
    cur_next = idx + 1;
    cur_size = size;
    first = false;
    const Shape shape = EventShape(id, idx);
    for (int t = 0; t < kTags; ++t) {
      if (shape.tag_mask & (1u << t)) by_tag[t].push_back(v.position());
    }
    return true;
  });
  if (!s.ok()) ReadFail("ForEach(All) from " + std::to_string(from) + ": " + s.ToString());
  if (from <= head && expect != head + 1) {
    ReadFail("snapshot at head " + std::to_string(head) + " ended at " +
             std::to_string(expect - 1));
  }
  if (!first && cur_next != cur_size) {
    ReadFail("snapshot at head " + std::to_string(head) + " ends inside batch " +
             std::to_string(cur_id));
  }
  // The same snapshot through the index, one tag at a time.
  for (int t = 0; t < kTags; ++t) {
    std::vector<uint64_t> got;
    s = reader.ForEach(Query::ForTags({kTagNames[t]}), ro, [&](const EventView& v) {
      got.push_back(v.position());
      return true;
    });
    if (!s.ok()) ReadFail("ForEach(" + kTagNames[t] + "): " + s.ToString());
    if (got != by_tag[t]) {
      ReadFail("snapshot at head " + std::to_string(head) + ": read by tag " + kTagNames[t] +
               " from " + std::to_string(from) + " gave " + std::to_string(got.size()) +
               " events, the scan " + std::to_string(by_tag[t].size()));
    }
  }
  return expect - from;
}

int RunRead(const Args& a) {
  std::mt19937_64 rng(a.seed);
  Options options;
  options.read_only = true;
  options.create_if_missing = false;
  for (;;) {
    std::unique_ptr<Store> store;
    Status s = Store::Open(a.root, a.store, options, &store);
    if (s.IsNotFound()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (!s.ok()) ReadFail("Open read-only: " + s.ToString());
    const int rounds = 1 + static_cast<int>(rng() % 20);
    for (int r = 0; r < rounds; ++r) {
      opossum::Reader reader = store->NewReader();
      const uint64_t head = reader.head();
      const uint64_t window = 1 + rng() % 3000;
      CheckSnapshot(reader, head > window ? head - window : 1);
      std::optional<EventView> last;
      s = reader.ReadLast(Query::All(), &last);
      if (!s.ok()) ReadFail("ReadLast(All): " + s.ToString());
      if ((head == 0) != !last.has_value() || (last && last->position() != head)) {
        ReadFail("ReadLast(All) at head " + std::to_string(head) + " gave " +
                 (last ? std::to_string(last->position()) : std::string("nothing")));
      }
      if (store->Head() < head) {
        ReadFail("Head() went back from " + std::to_string(head) + " to " +
                 std::to_string(store->Head()));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// check

struct Record {
  uint32_t size = 0;
  std::optional<uint64_t> after;  // conditional: the condition's `after`
  bool started = false;
  bool acked = false;
  uint64_t ack_first = 0, ack_last = 0;
  bool failed = false;
  uint64_t conflict = 0;
  uint64_t present_first = 0;  // 0: not in the store
};

struct Summary {
  uint64_t head = 0, events = 0, batches_started = 0, batches_acked = 0, batches_present = 0,
           unacked_present = 0, conditions_failed = 0, conditional_present = 0, acked_this_run = 0,
           torn_log_lines = 0;
};

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o.push_back(c);
    }
  }
  return o;
}

void PrintSummary(const Summary& m, const std::string& error, double seconds) {
  std::printf(
      "{\"ok\": %s, \"head\": %" PRIu64 ", \"events\": %" PRIu64 ", \"batches_started\": %" PRIu64
      ", \"batches_acked\": %" PRIu64 ", \"batches_present\": %" PRIu64
      ", \"unacked_present\": %" PRIu64 ", \"conditional_present\": %" PRIu64
      ", \"conditions_failed\": %" PRIu64 ", \"acked_this_run\": %" PRIu64
      ", \"torn_log_lines\": %" PRIu64 ", \"seconds\": %.3f%s%s%s}\n",
      error.empty() ? "true" : "false", m.head, m.events, m.batches_started, m.batches_acked,
      m.batches_present, m.unacked_present, m.conditional_present, m.conditions_failed,
      m.acked_this_run, m.torn_log_lines, seconds, error.empty() ? "" : ", \"error\": \"",
      JsonEscape(error).c_str(), error.empty() ? "" : "\"");
  std::fflush(stdout);
}

// Reads every *.log under `dir` into `records`. "" or the first problem.
std::string LoadLogs(const std::string& dir, std::unordered_map<uint64_t, Record>* records,
                     Summary* m) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log") files.push_back(entry.path());
  }
  if (ec) return "cannot list " + dir + ": " + ec.message();
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return "cannot open " + f.string();
    std::string line;
    uint64_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      const std::string where = f.filename().string() + ":" + std::to_string(lineno);
      if (line.empty()) continue;
      if (line[0] == 'X') return where + ": the writer reported an error: " + line;
      if (line.size() < 2 || line.compare(line.size() - 2, 2, " .") != 0) {
        ++m->torn_log_lines;  // cut by a kill: never reported
        continue;
      }
      unsigned long long id = 0, x = 0, y = 0;
      char after[32] = {};
      Record* r = nullptr;
      if (line[0] == 'S' && std::sscanf(line.c_str(), "S %llu %llu %31s .", &id, &x, after) == 3) {
        r = &(*records)[id];
        if (r->started) return where + ": batch " + std::to_string(id) + " started twice";
        r->started = true;
        r->size = static_cast<uint32_t>(x);
        if (x != BatchSize(id)) return where + ": size " + std::to_string(x) + " is not the id's";
        if (std::string(after) != "-") r->after = std::strtoull(after, nullptr, 10);
        if (r->after.has_value() != BatchConditional(id)) {
          return where + ": condition presence differs from the id's";
        }
        ++m->batches_started;
      } else if (line[0] == 'A' &&
                 std::sscanf(line.c_str(), "A %llu %llu %llu .", &id, &x, &y) == 3) {
        r = &(*records)[id];
        if (!r->started || r->acked || r->failed) {
          return where + ": acknowledgement of batch " + std::to_string(id) +
                 " not after its start, or twice";
        }
        r->acked = true;
        r->ack_first = x;
        r->ack_last = y;
        if (y + 1 - x != r->size) return where + ": acknowledged range has the wrong size";
        ++m->batches_acked;
      } else if (line[0] == 'F' && std::sscanf(line.c_str(), "F %llu %llu .", &id, &x) == 2) {
        r = &(*records)[id];
        if (!r->started || r->acked || r->failed || !r->after) {
          return where + ": failed condition of batch " + std::to_string(id) +
                 " not after its conditional start, or twice";
        }
        r->failed = true;
        r->conflict = x;
        ++m->conditions_failed;
      } else {
        return where + ": unreadable line: " + line;
      }
    }
  }
  return "";
}

std::string RunCheckInner(const Args& a, Summary* m) {
  std::unordered_map<uint64_t, Record> records;
  if (std::string e = LoadLogs(a.logs, &records, m); !e.empty()) return e;

  Options options;
  options.durability = a.durability;
  options.create_if_missing = false;
  options.segment_size = a.segment_size;
  std::unique_ptr<Store> store;
  Status s = Store::Open(a.root, a.store, options, &store);
  if (s.IsNotFound() && records.empty()) return "";  // killed before the store existed
  if (!s.ok()) return "Open (recovery): " + s.ToString();
  s = store->Verify();
  if (!s.ok()) return "Verify: " + s.ToString();

  const uint64_t head = store->Head();
  m->head = head;
  std::vector<Packed> events;  // events[p - 1]
  events.reserve(head);
  std::string problem;
  uint64_t cur_id = 0;
  uint32_t cur_next = 0, cur_size = 0;
  uint64_t cur_first = 0;
  // Finishes the batch that ended at `last`.
  auto close_batch = [&](uint64_t last) -> bool {
    if (cur_next != cur_size) {
      problem = "batch " + std::to_string(cur_id) +
                " is partly present: " + std::to_string(cur_next) + " of " +
                std::to_string(cur_size) + " events at " + std::to_string(cur_first) + ".." +
                std::to_string(last);
      return false;
    }
    auto it = records.find(cur_id);
    if (it == records.end() || !it->second.started) {
      problem = "batch " + std::to_string(cur_id) + " at " + std::to_string(cur_first) +
                " was never started by a writer";
      return false;
    }
    Record& r = it->second;
    if (r.present_first != 0) {
      problem = "batch " + std::to_string(cur_id) + " is present twice, at " +
                std::to_string(r.present_first) + " and " + std::to_string(cur_first);
      return false;
    }
    r.present_first = cur_first;
    ++m->batches_present;
    if (r.after) ++m->conditional_present;
    if (r.acked && (r.ack_first != cur_first || r.ack_last != last)) {
      problem = "batch " + std::to_string(cur_id) + " was acknowledged at " +
                std::to_string(r.ack_first) + ".." + std::to_string(r.ack_last) + " but is at " +
                std::to_string(cur_first) + ".." + std::to_string(last);
      return false;
    }
    if (r.failed) {
      problem = "batch " + std::to_string(cur_id) + " failed its condition but is present at " +
                std::to_string(cur_first);
      return false;
    }
    if (!r.acked) ++m->unacked_present;
    return true;
  };
  uint64_t expect = 1;
  s = store->NewReader().ForEach(Query::All(), ReadOptions{}, [&](const EventView& v) {
    if (v.position() != expect) {
      problem = "position " + std::to_string(v.position()) + " where " + std::to_string(expect) +
                " was expected (positions not gapless)";
      return false;
    }
    ++expect;
    uint64_t id;
    uint32_t idx, size;
    if (!ParseEventData(v.data(), &id, &idx, &size)) {
      problem = "event " + std::to_string(v.position()) +
                ": data does not parse: " + std::string(v.data().substr(0, 120));
      return false;
    }
    const Event want = MakeEvent(id, idx, size);
    std::vector<std::string_view> tags = v.tags();
    if (v.type() != want.type || tags.size() != want.tags.size() ||
        !std::equal(tags.begin(), tags.end(), want.tags.begin()) || !v.data_is_json()) {
      problem = "event " + std::to_string(v.position()) + ": type or tags differ from batch " +
                std::to_string(id) + " event " + std::to_string(idx);
      return false;
    }
    if (idx == 0) {
      if (v.position() > 1 && !close_batch(v.position() - 1)) return false;
      cur_id = id;
      cur_first = v.position();
      cur_size = size;
    } else if (v.position() == 1 || id != cur_id || idx != cur_next) {
      problem = "event " + std::to_string(v.position()) + " (batch " + std::to_string(id) +
                " index " + std::to_string(idx) + ") does not continue batch " +
                std::to_string(cur_id);
      return false;
    }
    cur_next = idx + 1;
    const Shape shape = EventShape(id, idx);
    events.push_back(Packed{static_cast<uint8_t>(shape.type), shape.tag_mask});
    return true;
  });
  if (!s.ok()) return "ForEach(All): " + s.ToString();
  if (!problem.empty()) return problem;
  if (expect != head + 1) {
    return "read " + std::to_string(expect - 1) + " events but Head() is " + std::to_string(head);
  }
  if (head > 0 && !close_batch(head)) return problem;
  m->events = events.size();

  // Positions of each tag and type, for the condition checks and the index.
  std::array<std::vector<uint64_t>, kTags> by_tag;
  std::array<std::vector<uint64_t>, kTypes> by_type;
  for (uint64_t p = 1; p <= head; ++p) {
    const Packed e = events[p - 1];
    by_type[e.type].push_back(p);
    for (int t = 0; t < kTags; ++t) {
      if (e.tags & (1u << t)) by_tag[t].push_back(p);
    }
  }
  // The first event in (after, before) matching `items`, or 0.
  auto first_match = [&](const std::vector<ModelItem>& items, uint64_t after,
                         uint64_t before) -> uint64_t {
    uint64_t best = 0;
    for (const ModelItem& it : items) {
      if (it.tag < 0) {
        for (int t = 0; t < kTypes; ++t) {
          if (!(it.type_mask & (1u << t))) continue;
          auto lo = std::upper_bound(by_type[t].begin(), by_type[t].end(), after);
          if (lo != by_type[t].end() && *lo < before && (best == 0 || *lo < best)) best = *lo;
        }
        continue;
      }
      const std::vector<uint64_t>& list = by_tag[it.tag];
      for (auto lo = std::upper_bound(list.begin(), list.end(), after);
           lo != list.end() && *lo < before; ++lo) {
        if (it.type_mask == 0 || (it.type_mask & (1u << events[*lo - 1].type))) {
          if (best == 0 || *lo < best) best = *lo;
          break;
        }
      }
    }
    return best;
  };

  // The logs against the store.
  std::map<uint64_t, std::vector<uint64_t>> by_thread;  // thread key -> ids
  for (auto& [id, r] : records) {
    if (!r.started) return "batch " + std::to_string(id) + " acknowledged but never started";
    by_thread[IdThreadKey(id)].push_back(id);
    if ((id >> 40) == a.run && r.acked) ++m->acked_this_run;
    if (r.acked && r.present_first == 0) {
      return "acknowledged batch " + std::to_string(id) + " (positions " +
             std::to_string(r.ack_first) + ".." + std::to_string(r.ack_last) +
             ") is missing; head " + std::to_string(head);
    }
    if (r.after && r.present_first != 0) {
      const uint64_t bad = first_match(ConditionItems(id), *r.after, r.present_first);
      if (bad != 0) {
        return "conditional batch " + std::to_string(id) + " (after " + std::to_string(*r.after) +
               ") committed at " + std::to_string(r.present_first) + " although event " +
               std::to_string(bad) + " matches its condition";
      }
    }
    if (r.failed) {
      if (r.conflict <= *r.after || r.conflict > head ||
          !Matches(ConditionItems(id), events[r.conflict - 1])) {
        return "batch " + std::to_string(id) + " failed its condition (after " +
               std::to_string(*r.after) + ") on event " + std::to_string(r.conflict) +
               ", which does not match it or is not after `after`; head " + std::to_string(head);
      }
    }
  }
  for (auto& [key, ids] : by_thread) {
    std::sort(ids.begin(), ids.end());
    uint64_t prev_first = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const Record& r = records[ids[i]];
      if (r.present_first == 0) continue;
      if (r.present_first <= prev_first) {
        return "batch " + std::to_string(ids[i]) + " lies at " + std::to_string(r.present_first) +
               ", before an earlier batch of its thread (at " + std::to_string(prev_first) + ")";
      }
      prev_first = r.present_first;
    }
    // A thread starts a batch only when its previous one was answered (and
    // stops at an error): only its last may be unanswered (the one a kill
    // interrupted), and only that one may be present unacknowledged.
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const Record& r = records[ids[i]];
      if (!r.acked && !r.failed) {
        return "batch " + std::to_string(ids[i]) +
               " has no answer in the log (present: " + (r.present_first ? "yes" : "no") +
               ") but its thread started a later one";
      }
    }
  }

  // The index against the scan: every tag and every type.
  opossum::Reader reader = store->NewReader();
  auto compare = [&](const Query& q, const std::vector<uint64_t>& want,
                     const std::string& what) -> std::string {
    std::vector<uint64_t> got;
    got.reserve(want.size());
    Status rs = reader.ForEach(q, ReadOptions{}, [&](const EventView& v) {
      got.push_back(v.position());
      return true;
    });
    if (!rs.ok()) return "read " + what + ": " + rs.ToString();
    if (got != want) {
      return "read " + what + " gave " + std::to_string(got.size()) + " events, the scan " +
             std::to_string(want.size());
    }
    return "";
  };
  for (int t = 0; t < kTags; ++t) {
    if (std::string e = compare(Query::ForTags({kTagNames[t]}), by_tag[t], kTagNames[t]);
        !e.empty()) {
      return e;
    }
  }
  for (int t = 0; t < kTypes; ++t) {
    if (std::string e = compare(Query::ForTypes({kTypeNames[t]}), by_type[t], kTypeNames[t]);
        !e.empty()) {
      return e;
    }
  }
  return "";
}

int RunCheck(const Args& a) {
  if (a.logs.empty()) Usage("check needs --logs");
  const auto start = std::chrono::steady_clock::now();
  Summary m;
  const std::string error = RunCheckInner(a, &m);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(m, error, seconds);
  if (!error.empty()) std::fprintf(stderr, "killloop_worker check: %s\n", error.c_str());
  return error.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  if (a.mode == "write") return RunWrite(a);
  if (a.mode == "read") return RunRead(a);
  if (a.mode == "check") return RunCheck(a);
  Usage("unknown mode " + a.mode);
}
