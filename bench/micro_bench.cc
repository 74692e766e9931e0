// Micro-benchmarks of the engine's hot paths, each calling the engine's own
// functions on memory or on a key index in a temporary folder (no Store):
//
//   BM_Micro_RecordEncode        EncodedBatch::Add of one benchmark event
//                                (MakeEvent: 100 B JSON data, 2 tags): checks,
//                                FlatBuffers encoding, key hashes, framing
//                                into the batch's bytes (what Batch::Add does)
//   BM_Micro_RecordCheckRead     one committed record read as StoreCore::EventAt
//                                reads it once it has its location:
//                                format::CheckRecord (bounds, position,
//                                CRC-32C), an EventView on its table, then its
//                                type, tags and data read through the view
//   BM_Micro_RecordVerifyTable   format::VerifyEventBytes (the FlatBuffers
//                                verifier) on one record's table: used by
//                                Verify and when adopting bytes after a crash,
//                                not by reads
//   BM_Micro_JsonCheck           format::CheckJson on the benchmark event's
//                                100 B of JSON data (the data_is_json check,
//                                a part of RecordEncode)
//   BM_Micro_RecordChecksum/N    format::RecordChecksum (CRC-32C) over N bytes,
//                                N = 272 and 4096
//   BM_Micro_KeyIndexInsert      one KeyIndex::Insert (tag hash -> position)
//   BM_Micro_KeyIndexInsertAll   KeyIndex::InsertAll of 1024 entries (the
//                                engine's path for a commit group); items are
//                                entries
//   BM_Micro_KeyIndexLookup      one tag's postings: KeyHash + KeyIndex::Find
//                                + a forward PostingCursor over its 10
//                                positions
//   BM_Micro_ConditionTagHolds   deciding a one-tag append condition that
//                                holds, on the index as StoreCore::CheckCondition
//                                plans it (see the comment there)
//   BM_Micro_MatchTagQuery       internal::Matches of a one-tag query against
//                                one EventView (the check of each candidate)
//
// Each reports items_per_second (and bytes_per_second where bytes are the
// work). The index benchmarks use 100,000 tags (1,000 with
// OPOSSUM_BENCH_SMALL=1) in a folder under OPOSSUM_BENCH_DIR, removed after.
//
//   build/bin/opossum_bench --benchmark_filter=Micro
//   build/bin/opossum_bench --benchmark_filter=Micro_KeyIndex   # one group
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bench_util.h"
#include "format/batch.h"
#include "format/checksum.h"
#include "format/encoded_batch.h"
#include "format/event_codec.h"
#include "format/json_check.h"
#include "format/layout.h"
#include "index/key_index.h"
#include "store/event_view_access.h"
#include "store/matching.h"

namespace opossum::bench {
namespace {

using format::KeyHash;
using format::KeyKind;

// ---------------------------------------------------------------------------
// Records.

// Prebuilt events of the benchmark shape (as EventRing in store_bench.cc),
// so that the timed loops do not build strings.
std::vector<Event> MicroEventRing(size_t count) {
  std::vector<Event> ring;
  ring.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ring.push_back(MakeEvent("course:c" + Padded(i % 1000, 4), "student:s" + Padded(i, 7), i));
  }
  return ring;
}

// One benchmark event committed at position 1: its batch's bytes as they lie
// in a segment (sealed: positions, timestamps and checksums filled in).
struct CommittedRecord {
  std::vector<uint64_t> words;  // 8-byte aligned, as a mapped segment is
  uint64_t offset = 0;          // of the record header
  uint64_t limit = 0;           // bytes of the batch
  uint64_t record_bytes = 0;    // header + table + padding
  uint32_t table_bytes = 0;
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words.data()); }
};

CommittedRecord MakeCommittedRecord() {
  format::EncodedBatch batch;
  Status s = batch.Add(MakeEvent("course:c0001", "student:s0000001", 1));
  if (!s.ok()) Die("encode", s);
  batch.Seal(/*first_position=*/1, /*commit_ns=*/1'700'000'000'000'000'000, /*prev_checksum=*/0);
  CommittedRecord r;
  r.limit = batch.length();
  r.words.resize(r.limit / 8);
  auto* out = reinterpret_cast<uint8_t*>(r.words.data());
  for (size_t k = 0; k < batch.piece_count(); ++k) {
    std::memcpy(out, batch.piece_data(k), batch.piece_size(k));
    out += batch.piece_size(k);
  }
  r.offset = batch.record_offset(0);
  r.record_bytes = r.limit - r.offset;
  r.table_bytes = format::LoadUnaligned<uint32_t>(r.data() + r.offset);  // RecordHeader::length
  return r;
}

void BM_Micro_RecordEncode(benchmark::State& state) {
  constexpr size_t kRing = 256;
  constexpr size_t kPerBatch = 1024;
  const auto ring = MicroEventRing(kRing);
  format::EncodedBatch batch;
  if (Status s = batch.Add(ring[0]); !s.ok()) Die("encode", s);
  const uint64_t record_bytes = batch.length() - format::kBatchHeaderSize;
  // Room for a whole batch up front, as StoreCore::Append reserves its
  // estimate: no reallocation in the loop. Clearing it every kPerBatch events
  // (which keeps its buffer) stays in the timing; it is amortised.
  batch.Clear();
  batch.Reserve(format::kBatchHeaderSize + kPerBatch * (record_bytes + 64));
  size_t i = 0;
  for (auto _ : state) {
    if (batch.size() == kPerBatch) batch.Clear();
    Status s = batch.Add(ring[i++ & (kRing - 1)]);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(batch.length());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(record_bytes));
  state.SetLabel("items = events; bytes = " + std::to_string(record_bytes) + " B record");
}
BENCHMARK(BM_Micro_RecordEncode);

void BM_Micro_JsonCheck(benchmark::State& state) {
  constexpr size_t kRing = 256;
  const auto ring = MicroEventRing(kRing);
  size_t i = 0;
  for (auto _ : state) {
    bool ok = format::CheckJson(ring[i++ & (kRing - 1)].data);
    if (!ok) {
      state.SkipWithError("the benchmark event's data is not JSON");
      break;
    }
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(ring[0].data.size()));
  state.SetLabel("items = documents of " + std::to_string(ring[0].data.size()) + " B");
}
BENCHMARK(BM_Micro_JsonCheck);

void BM_Micro_RecordCheckRead(benchmark::State& state) {
  const CommittedRecord rec = MakeCommittedRecord();
  const uint8_t* data = rec.data();
  uint64_t sum = 0;
  std::string why;
  for (auto _ : state) {
    benchmark::DoNotOptimize(data);  // the bytes are read afresh each time
    const format::RecordHeader* rh = nullptr;
    if (!format::CheckRecord(data, rec.limit, rec.offset, /*position=*/1, &rh, &why)) {
      state.SkipWithError(why.c_str());
      break;
    }
    const EventView ev = internal::EventViewAccess::Make(
        1, rh->timestamp_ns, format::TableFromBytes(reinterpret_cast<const uint8_t*>(rh + 1)));
    const std::string_view d = ev.data();
    sum += ev.type().size() + d.size() + static_cast<uint8_t>(d[0]);
    for (size_t t = 0, n = ev.tag_count(); t < n; ++t) sum += ev.tag(t).size();
    benchmark::DoNotOptimize(sum);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(rec.record_bytes));
  state.SetLabel("items = records; bytes = " + std::to_string(rec.record_bytes) + " B record");
}
BENCHMARK(BM_Micro_RecordCheckRead);

void BM_Micro_RecordVerifyTable(benchmark::State& state) {
  const CommittedRecord rec = MakeCommittedRecord();
  const uint8_t* table = rec.data() + rec.offset + format::kRecordHeaderSize;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table);
    if (!format::VerifyEventBytes(table, rec.table_bytes)) {
      state.SkipWithError("the table does not verify");
      break;
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(rec.table_bytes));
  state.SetLabel("items = tables; bytes = " + std::to_string(rec.table_bytes) + " B table");
}
BENCHMARK(BM_Micro_RecordVerifyTable);

// RecordChecksum(record, fb_length) covers bytes [8, 24 + fb_length) of a
// record: fb_length = N - 16 makes it N bytes.
void BM_Micro_RecordChecksum(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  std::vector<uint8_t> bytes(8 + n);
  std::mt19937_64 rng(1);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  const uint8_t* record = bytes.data();
  for (auto _ : state) {
    benchmark::DoNotOptimize(record);
    uint32_t sum = format::RecordChecksum(record, n - 16);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n));
  state.SetLabel("CRC-32C; items = checksums");
}
BENCHMARK(BM_Micro_RecordChecksum)->Arg(272)->Arg(4096);

// ---------------------------------------------------------------------------
// The key index, in a folder of its own under OPOSSUM_BENCH_DIR.

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (BenchRoot() / "micro-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("opossum_bench: mkdtemp");
      std::exit(1);
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A writable key index in a fresh folder (declared first: removed last).
struct IndexFolder {
  TempDir dir;
  std::unique_ptr<index::KeyIndex> keys = std::make_unique<index::KeyIndex>();
  ~IndexFolder() { keys.reset(); }
};

// A fresh index whose table is grown for `new_keys` keys, as the commit
// leader reserves before it indexes a group (KeyIndex::Reserve).
std::unique_ptr<IndexFolder> NewIndex(uint64_t new_keys) {
  auto f = std::make_unique<IndexFolder>();
  Status s = f->keys->Open(f->dir.path(), /*writable=*/true, /*generation=*/1);
  if (!s.ok()) Die("open key index", s);
  bool grown = false;
  s = f->keys->Reserve(new_keys, &grown);
  if (!s.ok()) Die("reserve key index", s);
  return f;
}

// The tags of the cached tag stores (bench_util.h): TagCount tags of 10
// events each; position p carries tag (p - 1) mod tags, so that one tag's
// positions lie `tags` apart.
int64_t MicroTags() { return Scaled(100000); }

std::vector<uint64_t> TagHashes(int64_t tags) {
  std::vector<uint64_t> hashes;
  hashes.reserve(static_cast<size_t>(tags));
  for (int64_t t = 0; t < tags; ++t) hashes.push_back(KeyHash(KeyKind::kTag, TagOf(t)));
  return hashes;
}

// Inserts of one round: positions 1 .. 10 * tags, each tag's list growing
// to 10 positions (its first insert creates the key and a 4-entry block, its
// fifth links an 8-entry block, the others append within a block). After a
// round the index is thrown away and a fresh one started, untimed, so that
// the files stay small however many iterations run. The table is reserved
// for all the round's keys before it (no Grow in the timed loop, which is
// checked); the first touches of the fresh files' pages and the growth of
// the postings file (KeyIndex::AllocBlock) are timed, as in the engine.
void BM_Micro_KeyIndexInsert(benchmark::State& state) {
  const int64_t tags = MicroTags();
  const auto hashes = TagHashes(tags);
  const uint64_t round = 10 * static_cast<uint64_t>(tags);
  auto ix = NewIndex(static_cast<uint64_t>(tags));
  uint64_t position = 0;  // last inserted in this round
  size_t tag = 0;
  bool grown = false;
  for (auto _ : state) {
    if (position == round) {
      state.PauseTiming();
      ix = NewIndex(static_cast<uint64_t>(tags));
      position = 0;
      tag = 0;
      state.ResumeTiming();
    }
    Status s = ix->keys->Insert(hashes[tag], KeyKind::kTag, ++position, &grown);
    if (++tag == hashes.size()) tag = 0;
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  if (grown) state.SkipWithError("the key table grew inside the timed loop");
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = inserts; " + std::to_string(tags) + " tags x 10 positions per index");
}
BENCHMARK(BM_Micro_KeyIndexInsert);

// The same inserts through KeyIndex::InsertAll, 1024 entries per call (the
// engine's path for a commit group: slots and blocks prefetched ahead).
void BM_Micro_KeyIndexInsertAll(benchmark::State& state) {
  constexpr size_t kGroup = 1024;
  const int64_t tags = MicroTags();
  const auto hashes = TagHashes(tags);
  const size_t groups = static_cast<size_t>(10 * tags) / kGroup;  // per index
  std::vector<std::vector<index::KeyIndex::Entry>> round(groups);
  uint64_t position = 0;
  for (auto& group : round) {
    group.reserve(kGroup);
    for (size_t j = 0; j < kGroup; ++j, ++position) {
      group.push_back({hashes[position % hashes.size()], KeyKind::kTag, position + 1});
    }
  }
  auto ix = NewIndex(static_cast<uint64_t>(tags));
  size_t g = 0;
  bool grown = false;
  for (auto _ : state) {
    if (g == groups) {
      state.PauseTiming();
      ix = NewIndex(static_cast<uint64_t>(tags));
      g = 0;
      state.ResumeTiming();
    }
    Status s = ix->keys->InsertAll(round[g++], &grown);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  if (grown) state.SkipWithError("the key table grew inside the timed loop");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kGroup));
  state.SetLabel("items = entries (1024 per call); " + std::to_string(tags) +
                 " tags x 10 positions per index");
}
BENCHMARK(BM_Micro_KeyIndexInsertAll);

// The populated index shared by the lookup and condition benchmarks, built
// once per process: MicroTags() tags of 10 positions each (positions 1 ..
// `after`), then kLater positions of other, one-event tags ("c:<n>", as the
// events BM_ConditionTag appends), up to `head`; indexed through `head`.
struct TagIndex {
  static constexpr uint64_t kLater = 1000;
  std::unique_ptr<IndexFolder> folder;
  int64_t tags = 0;
  uint64_t after = 0;  // the last position of the t: tags
  uint64_t head = 0;
  std::vector<std::string> random_tags;  // 4096 existing t: tags, seeded
};

const TagIndex& SharedTagIndex() {
  static const std::unique_ptr<TagIndex> shared = [] {
    auto t = std::make_unique<TagIndex>();
    t->tags = MicroTags();
    t->after = 10 * static_cast<uint64_t>(t->tags);
    t->head = t->after + TagIndex::kLater;
    t->folder = NewIndex(static_cast<uint64_t>(t->tags) + TagIndex::kLater);
    const auto hashes = TagHashes(t->tags);
    std::vector<index::KeyIndex::Entry> group;
    bool grown = false;
    for (uint64_t p = 1; p <= t->head; ++p) {
      const uint64_t hash = p <= t->after ? hashes[(p - 1) % hashes.size()]
                                          : KeyHash(KeyKind::kTag, "c:" + Padded(p, 8));
      group.push_back({hash, KeyKind::kTag, p});
      if (group.size() == 4096 || p == t->head) {
        Status s = t->folder->keys->InsertAll(group, &grown);
        if (!s.ok()) Die("populate key index", s);
        group.clear();
      }
    }
    t->folder->keys->SetIndexedThrough(t->head);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 4096; ++i) {
      t->random_tags.push_back(TagOf(static_cast<int64_t>(rng() % static_cast<uint64_t>(t->tags))));
    }
    return t;
  }();
  return *shared;
}

// A read of one tag's postings as the read path gets them for a tag query:
// the tag's key hash, its slot (KeyIndex::Find), and a forward
// PostingCursor over [1, head] walked to its end (10 positions).
void BM_Micro_KeyIndexLookup(benchmark::State& state) {
  const TagIndex& t = SharedTagIndex();
  const index::KeyIndex& keys = *t.folder->keys;
  size_t i = 0;
  int64_t positions = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const std::string& tag = t.random_tags[i++ & 4095];
    bool damaged = false;
    const index::KeySlot* slot = keys.Find(KeyHash(KeyKind::kTag, tag), &damaged);
    if (slot == nullptr) {
      state.SkipWithError(damaged ? "the key index is damaged" : "a tag is missing");
      break;
    }
    index::PostingCursor cursor(&keys, slot, 1, t.head, /*backwards=*/false);
    for (uint64_t p = cursor.Next(); p != 0; p = cursor.Next()) {
      sum += p;
      ++positions;
    }
    if (cursor.failed()) {
      state.SkipWithError("a posting list is damaged");
      break;
    }
    benchmark::DoNotOptimize(sum);
  }
  if (positions != 10 * static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("a lookup did not find exactly 10 positions");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = lookups of 10 positions; " + std::to_string(t.tags) + " tags");
}
BENCHMARK(BM_Micro_KeyIndexLookup);

// Deciding an append condition on one tag whose 10 positions are all at or
// before `after` (so it holds), with head - after = 1000 later events.
// StoreCore::CheckCondition and PlanQuery (store/query.cc) are private to
// the store, so this is their index part rebuilt from the engine's pieces,
// step for step for a query of one item with one tag: the tag's key hash,
// KeyIndex::Find, and a backward PostingCursor over [after + 1,
// min(head, indexed_through)], which ends at the tag's newest position. No
// candidate comes out, so the per-candidate EventAt + Matches never runs
// here (BM_Micro_RecordCheckRead and BM_Micro_MatchTagQuery time those).
// Not included: PlanQuery's heap allocation of its cursor objects, and the
// group commit around it (BM_ConditionTag minus BM_AppendNoCondition in
// store_bench.cc measures the whole cost in a store).
void BM_Micro_ConditionTagHolds(benchmark::State& state) {
  const TagIndex& t = SharedTagIndex();
  const index::KeyIndex& keys = *t.folder->keys;
  std::vector<Query> queries;
  queries.reserve(t.random_tags.size());
  for (const std::string& tag : t.random_tags) queries.push_back(Query::ForTags({tag}));
  const uint64_t mark = keys.indexed_through();
  size_t i = 0;
  int64_t candidates = 0;
  for (auto _ : state) {
    const Query& q = queries[i++ & 4095];
    const uint64_t lo = t.after + 1, hi = std::min(t.head, mark);
    bool damaged = false;
    for (const QueryItem& item : q.items) {
      // The rarest tag bounds the item (PlanQuery).
      const index::KeySlot* best = nullptr;
      bool missing = false;
      for (const std::string& tag : item.tags) {
        const index::KeySlot* slot = keys.Find(KeyHash(KeyKind::kTag, tag), &damaged);
        if (slot == nullptr) {
          missing = true;
          break;
        }
        if (best == nullptr || index::KeyIndex::Count(slot) < index::KeyIndex::Count(best)) {
          best = slot;
        }
      }
      if (missing || lo > hi) continue;
      index::PostingCursor cursor(&keys, best, lo, hi, /*backwards=*/true);
      for (uint64_t p = cursor.Next(); p != 0; p = cursor.Next()) ++candidates;
      damaged = damaged || cursor.failed();
    }
    if (damaged) {
      state.SkipWithError("the key index is damaged");
      break;
    }
    benchmark::DoNotOptimize(candidates);
  }
  if (candidates != 0) state.SkipWithError("a condition that should hold found a candidate");
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = conditions (1 tag, holds); index part only; " + std::to_string(t.tags) +
                 " tags");
}
BENCHMARK(BM_Micro_ConditionTagHolds);

// internal::Matches of a one-tag query against one committed event that
// carries the tag (2 tags, binary search): what the store does for each
// candidate of a tag read or of a condition that fails.
void BM_Micro_MatchTagQuery(benchmark::State& state) {
  const CommittedRecord rec = MakeCommittedRecord();
  const auto* rh = reinterpret_cast<const format::RecordHeader*>(rec.data() + rec.offset);
  const EventView ev = internal::EventViewAccess::Make(
      1, rh->timestamp_ns, format::TableFromBytes(reinterpret_cast<const uint8_t*>(rh + 1)));
  const Query q = Query::ForTags({"student:s0000001"});
  int64_t matched = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(&ev);
    matched += internal::Matches(ev, q) ? 1 : 0;
    benchmark::ClobberMemory();
  }
  if (matched != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("the event did not match its own tag");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = checks (match)");
}
BENCHMARK(BM_Micro_MatchTagQuery);

}  // namespace
}  // namespace opossum::bench
