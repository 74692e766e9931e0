// Fuzz target: random operation sequences against a model of what every
// call means (docs/semantics.md).
//
// The fuzzer's bytes decode into up to 48 operations on one store: appends
// (1..3 events of types A/B/C with tags from a small set, sometimes with
// ids, sometimes with a condition, now and then a 200 KiB event so that the
// log moves to new segments), reads (query, from, backwards, limit),
// ReadLast, Head, reopen, Verify, and simulated crashes. A crash takes the
// store's files as a killed process would leave them around one more
// append: whole; with the ledger from before the append (killed between the
// segment write and the commit slot: the batch is adopted); with that
// batch's bytes torn (zeroed or cut from a point inside it: the batch is
// gone, and the next append reuses its positions); optionally with the
// ledger saying the machine restarted (recovery from the checkpoint).
//
// The model is a list of events with their batches. Every outcome must
// agree with it: positions gapless from 1; a condition fails iff an event
// matching its query exists after `after` (and names such an event); an
// all-ids batch repeating a committed one returns its last position and
// writes nothing, one that only partly matches is refused; reads return
// exactly the model's events, in order. Any disagreement aborts.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>

#include "fuzz_util.h"

namespace {

using namespace opossum;
using namespace opossum::fuzz;

constexpr const char* kTarget = "ops";
const char* const kTypes[] = {"A", "B", "C"};
const char* const kTags[] = {"x:1", "x:2", "y:1", "z"};

struct Model {
  std::vector<ModelEvent> events;
  std::vector<uint64_t> batch_first;  // per position: first position of its batch
  std::vector<uint64_t> batch_count;  // per position: events in its batch
  uint64_t head() const { return events.size(); }
  void Add(const std::vector<Event>& batch) {
    const uint64_t first = head() + 1;
    for (const Event& e : batch) {
      events.push_back(ModelEvent::From(e));
      batch_first.push_back(first);
      batch_count.push_back(batch.size());
    }
  }
  uint64_t FindId(const Uuid& id) const {
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].id == id) return i + 1;
    }
    return 0;
  }
};

Uuid IdOf(uint8_t n) {
  Uuid u;
  u.bytes.fill(0);
  u.bytes[15] = n;
  u.bytes[0] = 0x42;
  return u;
}

QueryItem GenItem(ByteReader& in) {
  QueryItem item;
  uint8_t t = in.Byte(), g = in.Byte();
  for (int i = 0; i < 3; ++i) {
    if (t & (1 << i)) item.types.push_back(kTypes[i]);
  }
  for (int i = 0; i < 4; ++i) {
    if (g & (1 << i)) item.tags.push_back(kTags[i]);
  }
  if (g & 0x10) item.tags.push_back("unused:1");
  return item;  // may name neither: an invalid item
}

Query GenQuery(ByteReader& in) {
  Query q;
  size_t n = in.Below(4);  // 0 items: all events
  for (size_t i = 0; i < n; ++i) q.items.push_back(GenItem(in));
  return q;
}

bool QueryValid(const Query& q) {
  for (const QueryItem& it : q.items) {
    if (it.types.empty() && it.tags.empty()) return false;
  }
  return true;
}

std::vector<Event> GenBatch(ByteReader& in, bool* big) {
  std::vector<Event> batch;
  const size_t n = 1 + in.Below(3);
  const uint8_t mode = in.Byte();
  for (size_t i = 0; i < n; ++i) {
    Event e;
    uint8_t b = in.Byte();
    e.type = kTypes[b % 3];
    for (int k = 0; k < 4; ++k) {
      if (b & (8 << k)) e.tags.push_back(kTags[k]);
    }
    if ((mode & 3) == 1) e.id = IdOf(in.Below(8));  // all events with ids
    e.data = std::to_string(batch.size());
    if ((mode & 0x1c) == 0x1c && *big) {
      e.data.assign(200u << 10, 'b');
      *big = false;
    }
    batch.push_back(std::move(e));
  }
  return batch;
}

struct Harness {
  fs::path root;
  std::unique_ptr<Store> store;
  Model model;
  int big_left = 12;  // bounds the bytes one input writes

  void Open() {
    store.reset();
    Status s = Store::Open(root, kStoreName, FuzzOptions(), &store);
    Check(s.ok(), "open: " + s.ToString());
    Check(store->Head() == model.head(), "head after open " + std::to_string(store->Head()) +
                                             ", the model " + std::to_string(model.head()));
  }

  // Appends and checks the outcome against the model (which it updates).
  void Append(const std::vector<Event>& batch, const std::optional<AppendCondition>& cond) {
    // What docs/semantics.md says must happen.
    enum { kOk, kDuplicate, kInvalid, kConflict } want = kOk;
    uint64_t want_last = model.head() + batch.size();
    bool all_ids = true;
    for (const Event& e : batch) all_ids = all_ids && e.id.has_value();
    for (size_t i = 0; i < batch.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (batch[i].id && batch[i].id == batch[j].id) want = kInvalid;
      }
    }
    if (cond && !QueryValid(cond->fail_if_events_match)) want = kInvalid;
    if (want == kOk && all_ids) {
      uint64_t f = model.FindId(*batch[0].id);
      if (f != 0) {
        bool exact = model.batch_first[f - 1] == f && model.batch_count[f - 1] == batch.size();
        for (size_t i = 0; exact && i < batch.size(); ++i) {
          exact = model.events[f - 1 + i].id == batch[i].id;
        }
        want = exact ? kDuplicate : kInvalid;
        want_last = f + batch.size() - 1;
      } else {
        for (const Event& e : batch) {
          if (model.FindId(*e.id) != 0) want = kInvalid;
        }
      }
    }
    if (want == kOk && cond) {
      for (uint64_t p = cond->after.value_or(0) + 1; p <= model.head(); ++p) {
        if (QueryMatches(cond->fail_if_events_match, model.events[p - 1])) want = kConflict;
      }
    }
    uint64_t last = 0;
    Status s = store->Append(std::span<const Event>(batch), cond, &last);
    switch (want) {
      case kOk:
        Check(s.ok(), "append: " + s.ToString());
        Check(last == want_last, "append gave last position " + std::to_string(last) +
                                     ", the model " + std::to_string(want_last));
        model.Add(batch);
        break;
      case kDuplicate:
        Check(s.ok() && last == want_last, "a repeated batch: " + s.ToString() + " last " +
                                               std::to_string(last) + ", the model " +
                                               std::to_string(want_last));
        break;
      case kInvalid:
        Check(s.IsInvalidArgument(), "an invalid append: " + s.ToString());
        break;
      case kConflict: {
        Check(s.IsConditionFailed(), "a condition that must fail: " + s.ToString());
        uint64_t c = s.conflicting_position();
        Check(c > cond->after.value_or(0) && c <= model.head() &&
                  QueryMatches(cond->fail_if_events_match, model.events[c - 1]),
              "the condition names position " + std::to_string(c) + ", which does not match");
        break;
      }
    }
    Check(store->Head() == model.head(), "head after append " + std::to_string(store->Head()));
  }

  void Read(const Query& q, const ReadOptions& ro) {
    std::vector<EventView> got;
    Status s = store->Read(q, ro, &got);
    if (!QueryValid(q)) {
      Check(s.IsInvalidArgument(), "a read with an invalid item: " + s.ToString());
      return;
    }
    Check(s.ok(), "read " + Describe(q) + ": " + s.ToString());
    std::vector<uint64_t> want = ModelRead(model.events, q, ro);
    Check(got.size() == want.size(), "read " + Describe(q) + " gave " + std::to_string(got.size()) +
                                         " events, the model " + std::to_string(want.size()));
    for (size_t i = 0; i < got.size(); ++i) {
      Check(got[i].position() == want[i], "read " + Describe(q) + ": position " +
                                              std::to_string(got[i].position()) + ", the model " +
                                              std::to_string(want[i]));
      Check(ModelEvent::From(got[i]) == model.events[want[i] - 1],
            "read: the event at " + std::to_string(want[i]) + " differs from the model's");
    }
  }

  void ReadLast(const Query& q) {
    std::optional<EventView> last;
    Status s = store->ReadLast(q, &last);
    if (!QueryValid(q)) {
      Check(s.IsInvalidArgument(), "ReadLast with an invalid item: " + s.ToString());
      return;
    }
    Check(s.ok(), "ReadLast: " + s.ToString());
    std::vector<uint64_t> want =
        ModelRead(model.events, q, ReadOptions{.backwards = true, .limit = 1});
    Check(last.has_value() == !want.empty() && (!last || last->position() == want[0]),
          "ReadLast " + Describe(q) + " disagrees with the model");
  }

  static std::pair<uint64_t, uint64_t> CommitEnd(const std::string& ledger) {
    // The valid commit slot with the higher seq (docs/format-ledger.md);
    // this ledger is our own, undamaged.
    uint64_t best_seq = 0, segment = 0, end = 0;
    for (size_t off : {size_t{256}, size_t{304}}) {
      uint64_t seq, seg, e;
      std::memcpy(&seq, ledger.data() + off, 8);
      std::memcpy(&seg, ledger.data() + off + 16, 8);
      std::memcpy(&e, ledger.data() + off + 24, 8);
      if (seq > best_seq) best_seq = seq, segment = seg, end = e;
    }
    return {segment, end};
  }

  void Crash(ByteReader& in) {
    StoreImage before = TakeImage(root / kStoreName);
    bool big = false;
    std::vector<Event> batch = GenBatch(in, &big);
    for (Event& e : batch) e.id.reset();
    uint64_t last = 0;
    Status s = store->Append(std::span<const Event>(batch), std::nullopt, &last);
    Check(s.ok(), "append before a crash: " + s.ToString());
    StoreImage after = TakeImage(root / kStoreName);
    const uint8_t how = in.Byte();
    StoreImage crash = after;
    bool keep = true;
    if (how & 1) {
      // Killed between the segment write and the commit slot.
      crash["ledger"] = before.at("ledger");
      if (how & 2) {
        for (auto& [rel, f] : before) {
          if (rel.starts_with("index/")) crash[rel] = f;
        }
      }
      if (how & 4) {
        // ... and the batch itself torn: from a point inside it on, its
        // bytes never reached the file.
        keep = false;
        auto [seg0, end0] = CommitEnd(FullBytes(before.at("ledger")));
        auto [seg1, end1] = CommitEnd(FullBytes(after.at("ledger")));
        uint64_t start = seg1 == seg0 ? end0 : 64;
        std::vector<std::string> segs;
        for (auto& [rel, f] : crash) {
          if (rel.starts_with("segments/")) segs.push_back(rel);
        }
        Check(seg1 < segs.size() && end1 > start, "crash: cannot find the batch");
        FileImage& f = crash[segs[seg1]];
        std::string bytes = FullBytes(f);
        // The cut must remove a byte that is not zero (the record padding
        // at the batch's end is zero already).
        uint64_t last_nonzero = end1 - 1;
        while (last_nonzero > start && bytes[last_nonzero] == 0) --last_nonzero;
        uint64_t cut = start + (uint64_t{in.U16()} % (last_nonzero + 1 - start));
        if (how & 8) {
          std::memset(bytes.data() + cut, 0, end1 - cut);
          f.bytes = bytes;
        } else {
          f.bytes = bytes.substr(0, cut);
          f.size = cut;
        }
      }
    }
    if (how & 16) {
      // The machine restarted: not clean, another boot id.
      std::string ledger = FullBytes(crash["ledger"]);
      uint64_t zero = 0;
      std::memcpy(ledger.data() + 40, &zero, 8);
      std::memset(ledger.data() + 64, 0, 64);
      std::memcpy(ledger.data() + 64, "fuzz-another-boot", 17);
      crash["ledger"].bytes = ledger;
    }
    store.reset();
    WriteImage(root / kStoreName, crash);
    if (keep) model.Add(batch);
    Open();
    Check(store->Verify().ok(), "Verify after a crash");
  }

  void Run(ByteReader& in) {
    Open();
    static const bool trace = std::getenv("OPOSSUM_FUZZ_TRACE") != nullptr;
    for (int op = 0; op < 48 && !in.empty(); ++op) {
      const uint32_t kind = in.Below(10);
      if (trace)
        std::fprintf(stderr, "op %d: kind %u, head %llu\n", op, kind,
                     static_cast<unsigned long long>(model.head()));
      switch (kind) {
        case 0:
        case 1:
        case 2: {
          bool big = big_left > 0;
          std::vector<Event> batch = GenBatch(in, &big);
          if (!big && big_left > 0) --big_left;
          std::optional<AppendCondition> cond;
          uint8_t c = in.Byte();
          if (c & 1) {
            cond = AppendCondition{GenQuery(in), std::nullopt};
            if (c & 2) cond->after = in.Below(static_cast<uint32_t>(model.head() + 3));
          }
          Append(batch, cond);
          break;
        }
        case 3:
        case 4: {
          Query q = GenQuery(in);
          ReadOptions ro;
          uint8_t o = in.Byte();
          if (o & 1) ro.from = in.Below(static_cast<uint32_t>(model.head() + 3));
          ro.backwards = (o & 2) != 0;
          if (o & 4) ro.limit = in.Below(5);
          Read(q, ro);
          break;
        }
        case 5:
          ReadLast(GenQuery(in));
          break;
        case 6:
          Open();
          break;
        case 7:
        case 8:
          Crash(in);
          break;
        default: {
          Status s = store->Verify();
          Check(s.ok(), "Verify: " + s.ToString());
          break;
        }
      }
    }
    Open();
    Read(Query::All(), ReadOptions{});
    Check(store->Verify().ok(), "Verify at the end");
    store.reset();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  Harness h;
  h.root = ScratchRoot(kTarget) / "run";
  std::error_code ec;
  fs::remove_all(h.root, ec);
  ByteReader in(data, size);
  h.Run(in);
  return 0;
}
