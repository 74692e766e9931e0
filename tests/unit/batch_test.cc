// Store::NewBatch / Batch::Add / Append(Batch&&): a batch built event by event
// means exactly what Append of the same events means; and a batch larger
// than a segment, as the first batch of a new store, also seen by another
// process that had the store open before it was written.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

using testing::TempDir;

Event Ev(uint64_t i, size_t data_bytes = 40) {
  Event e;
  e.type = i % 3 == 0 ? "Shipped" : "Ordered";
  e.tags = {Tag("order", std::to_string(i)), Tag("customer", std::to_string(i % 7))};
  e.data = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(data_bytes, 'x') + "\"}";
  e.data_is_json = true;
  return e;
}

std::unique_ptr<Store> Open(const TempDir& dir, Options o = {}) {
  std::unique_ptr<Store> s;
  Status st = Store::Open(dir.path(), "s", o, &s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

// The events of a store as comparable text (everything but the timestamp).
std::vector<std::string> Dump(const Store& store) {
  std::vector<std::string> out;
  std::vector<EventView> all;
  EXPECT_TRUE(store.Read(Query::All(), {}, &all).ok());
  for (const EventView& ev : all) {
    std::string line = std::to_string(ev.position()) + " " + std::string(ev.type()) + " [";
    for (auto t : ev.tags()) line += std::string(t) + ",";
    line += "] " + std::string(ev.data()) + (ev.data_is_json() ? " json" : " bin");
    if (auto id = ev.id()) line += " " + id->ToString();
    out.push_back(line);
  }
  return out;
}

TEST(BatchTest, SameEventsSameStoreAsAppendOfAVector) {
  TempDir a, b;
  auto sa = Open(a);
  auto sb = Open(b);
  for (int round = 0; round < 3; ++round) {
    std::vector<Event> events;
    Batch batch = sb->NewBatch();
    for (uint64_t i = 0; i < 50; ++i) {
      events.push_back(Ev(round * 100 + i));
      if (i % 10 == 0) events.back().id = Uuid::Random();
      ASSERT_TRUE(batch.Add(events.back()).ok());
    }
    EXPECT_EQ(batch.size(), 50u);
    EXPECT_GT(batch.bytes(), 50u * 40);
    uint64_t la = 0, lb = 0;
    ASSERT_TRUE(sa->Append(events, std::nullopt, &la).ok());
    ASSERT_TRUE(sb->Append(std::move(batch), std::nullopt, &lb).ok());
    EXPECT_EQ(la, lb);
  }
  EXPECT_EQ(Dump(*sa), Dump(*sb));
  EXPECT_TRUE(sb->Verify().ok());
  // Indexes were fed from the batch: tag and type reads agree.
  std::vector<EventView> x, y;
  ASSERT_TRUE(sa->Read(Query::Of({"Shipped"}, {"customer:3"}), {}, &x).ok());
  ASSERT_TRUE(sb->Read(Query::Of({"Shipped"}, {"customer:3"}), {}, &y).ok());
  ASSERT_EQ(x.size(), y.size());
  ASSERT_FALSE(x.empty());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].position(), y[i].position());
}

TEST(BatchTest, InvalidEventIsNamedAndLeavesTheBatchAsItWas) {
  TempDir dir;
  auto store = Open(dir);
  Batch batch = store->NewBatch();
  ASSERT_TRUE(batch.Add(Ev(1)).ok());
  ASSERT_TRUE(batch.Add(Ev(2)).ok());
  const uint64_t bytes = batch.bytes();
  Event bad = Ev(3);
  bad.tags.push_back("");
  Status s = batch.Add(bad);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("event 2:"), std::string::npos) << s.message();
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.bytes(), bytes);
  uint64_t last = 0;
  ASSERT_TRUE(store->Append(std::move(batch), std::nullopt, &last).ok());
  EXPECT_EQ(last, 2u);
  EXPECT_EQ(Dump(*store).size(), 2u);
}

TEST(BatchTest, ABatchForLargerEventsThanTheStoreAllowsIsRefused) {
  TempDir dir;
  Options o;
  o.max_event_size = 1000;
  auto store = Open(dir, o);
  Batch general;  // the default limits: 16 MiB
  ASSERT_TRUE(general.Add(Ev(1, 2000)).ok());
  Status s = store->Append(std::move(general));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(store->Head(), 0u);
  Batch own = store->NewBatch();
  EXPECT_TRUE(own.Add(Ev(1, 2000)).IsInvalidArgument());
  ASSERT_TRUE(own.Add(Ev(2, 100)).ok());
  EXPECT_TRUE(store->Append(std::move(own)).ok());
  EXPECT_EQ(store->Head(), 1u);
}

TEST(BatchTest, ConditionsIdempotencyAndEmptyBatches) {
  TempDir dir;
  auto store = Open(dir);
  Batch empty = store->NewBatch();
  EXPECT_TRUE(store->Append(std::move(empty)).IsInvalidArgument());

  std::vector<Event> first = {Ev(1), Ev(2)};
  first[0].id = Uuid::Random();
  first[1].id = Uuid::Random();
  Batch b1 = store->NewBatch();
  for (const Event& e : first) ASSERT_TRUE(b1.Add(e).ok());
  uint64_t last = 0;
  ASSERT_TRUE(
      store->Append(std::move(b1), AppendCondition{Query::ForTags({"order:1"}), {}}, &last).ok());
  EXPECT_EQ(last, 2u);
  // The same ids again: nothing written, the earlier batch's last position.
  Batch again = store->NewBatch();
  for (const Event& e : first) ASSERT_TRUE(again.Add(e).ok());
  ASSERT_TRUE(store->Append(std::move(again), std::nullopt, &last).ok());
  EXPECT_EQ(last, 2u);
  EXPECT_EQ(store->Head(), 2u);
  // A condition that now matches fails with the conflicting position.
  Batch b2 = store->NewBatch();
  ASSERT_TRUE(b2.Add(Ev(3)).ok());
  Status s = store->Append(std::move(b2), AppendCondition{Query::ForTags({"order:2"}), 0});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 2u);
  EXPECT_EQ(store->Head(), 2u);
  // Duplicate ids inside one batch are invalid.
  Batch dup = store->NewBatch();
  Event d = Ev(9);
  d.id = Uuid::Random();
  ASSERT_TRUE(dup.Add(d).ok());
  ASSERT_TRUE(dup.Add(d).ok());
  EXPECT_TRUE(store->Append(std::move(dup)).IsInvalidArgument());
}

// A new store's first batch larger than a segment: the empty first segment
// grows to hold it (it must not get a second segment with the same first
// position and so the same file name).
TEST(BatchTest, FirstBatchLargerThanASegmentInANewStore) {
  TempDir dir;
  Options o;
  o.segment_size = 1 << 20;
  const uint64_t n = 12000;  // ~2 MiB of records
  {
    auto store = Open(dir, o);
    Batch batch = store->NewBatch();
    for (uint64_t i = 1; i <= n; ++i) ASSERT_TRUE(batch.Add(Ev(i, 120)).ok());
    ASSERT_GT(batch.bytes(), o.segment_size);
    uint64_t last = 0;
    Status s = store->Append(std::move(batch), std::nullopt, &last);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(last, n);
    ASSERT_TRUE(store->Verify().ok());
    ASSERT_TRUE(store->Append({Ev(n + 1)}).ok());  // then the usual way on
  }
  auto store = Open(dir, o);
  auto dump = Dump(*store);
  ASSERT_EQ(dump.size(), n + 1);
  for (uint64_t i = 0; i < dump.size(); ++i) {
    EXPECT_EQ(dump[i].substr(0, dump[i].find(' ')), std::to_string(i + 1));
  }
  Status v = store->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  StoreStats st;
  ASSERT_TRUE(store->GetStats(&st).ok());
  EXPECT_EQ(st.head, n + 1);
}

// The same, with another process that opened the store (mapped its first
// segment at the old size) before the batch came: it reads every event,
// verifies, and appends after it.
TEST(BatchTest, FirstLargeBatchIsSeenByAProcessThatOpenedTheStoreBefore) {
  TempDir dir;
  Options o;
  o.segment_size = 1 << 20;
  const uint64_t n = 12000;
  auto store = Open(dir, o);  // creates the store with its 1 MiB first segment
  int to_child[2], to_parent[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(to_parent), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(60);
    char c;
    std::unique_ptr<Store> mine;
    if (!Store::Open(dir.path(), "s", o, &mine).ok()) ::_exit(10);
    if (::write(to_parent[1], "r", 1) != 1) ::_exit(11);  // opened: go on
    if (::read(to_child[0], &c, 1) != 1) ::_exit(12);     // the batch is in
    if (mine->Head() != n) ::_exit(13);
    std::vector<EventView> all;
    Status rs = mine->Read(Query::All(), {}, &all);
    if (!rs.ok() || all.size() != n) {
      std::fprintf(stderr, "child read: %s, %zu events\n", rs.ToString().c_str(), all.size());
      ::_exit(14);
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (all[i].position() != i + 1) ::_exit(15);
    }
    std::vector<EventView> tag;
    if (!mine->Read(Query::ForTags({"order:11999"}), {}, &tag).ok() || tag.size() != 1 ||
        tag[0].position() != 11999) {
      ::_exit(16);
    }
    uint64_t last = 0;
    if (!mine->Append({Ev(n + 1)}, std::nullopt, &last).ok() || last != n + 1) ::_exit(17);
    if (!mine->Verify().ok()) ::_exit(18);
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  Batch batch = store->NewBatch();
  for (uint64_t i = 1; i <= n; ++i) ASSERT_TRUE(batch.Add(Ev(i, 120)).ok());
  ASSERT_TRUE(store->Append(std::move(batch)).ok());
  ASSERT_EQ(::write(to_child[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child failed at step " << WEXITSTATUS(status);
  EXPECT_EQ(store->Head(), n + 1);
  EXPECT_TRUE(store->Verify().ok());
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

}  // namespace
}  // namespace opossum

namespace opossum {
namespace {

TEST(BatchTest, ExtendJoinsPartsInOrderAsOneBatch) {
  TempDir a, b;
  auto whole = Open(a);
  auto parts = Open(b);
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 30; ++i) {
    events.push_back(Ev(i));
    if (i % 4 == 0) events.back().id = Uuid::Random();
    if (i % 5 == 0) events.back().timestamp_ns = int64_t{1700000000} * 1000000000 + i;
  }
  ASSERT_TRUE(whole->Append(events).ok());
  Batch joined = parts->NewBatch();
  Batch p1, p2, p3;  // 0..9, 10..19 (p2 also gets an empty part), 20..29
  for (size_t i = 0; i < 10; ++i) ASSERT_TRUE(p1.Add(events[i]).ok());
  for (size_t i = 10; i < 20; ++i) ASSERT_TRUE(p2.Add(events[i]).ok());
  for (size_t i = 20; i < 30; ++i) ASSERT_TRUE(p3.Add(events[i]).ok());
  Batch empty;
  p2.Extend(std::move(empty));
  joined.Extend(std::move(p1));
  joined.Extend(std::move(p2));
  joined.Extend(std::move(p3));
  EXPECT_EQ(p1.size(), 0u);
  EXPECT_EQ(p3.size(), 0u);
  EXPECT_EQ(joined.size(), 30u);
  uint64_t last = 0;
  ASSERT_TRUE(parts->Append(std::move(joined), std::nullopt, &last).ok());
  EXPECT_EQ(last, 30u);
  EXPECT_EQ(Dump(*whole), Dump(*parts));
  std::vector<EventView> x, y;
  ASSERT_TRUE(whole->Read(Query::All(), {}, &x).ok());
  ASSERT_TRUE(parts->Read(Query::All(), {}, &y).ok());
  for (size_t i = 0; i < x.size(); ++i) {
    if (events[i].timestamp_ns) {
      EXPECT_EQ(y[i].timestamp_ns(), *events[i].timestamp_ns);
    }
  }
  EXPECT_TRUE(parts->Verify().ok());
  // The ids came along (into the id index): one of them again, alone, only
  // partly matches the committed batch, which Append rejects
  // (docs/semantics.md, "Idempotency").
  Batch again;
  ASSERT_TRUE(again.Add(events[3]).ok());
  Status s = parts->Append(std::move(again));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(parts->Head(), 30u);
}

}  // namespace
}  // namespace opossum

namespace opossum {
namespace {

// A large store built with one Batch; Verify reports its progress in order,
// up to the head.
TEST(BatchTest, VerifyReportsProgressOnALargeStore) {
  TempDir dir;
  auto store = Open(dir);
  const uint64_t n = 200000;
  Batch batch = store->NewBatch();
  for (uint64_t i = 1; i <= n; ++i) ASSERT_TRUE(batch.Add(Ev(i, 8)).ok());
  ASSERT_TRUE(store->Append(std::move(batch)).ok());
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  Status s = store->Verify([&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(calls.size(), n / 65536);  // every 65,536 events
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, n);
    EXPECT_LE(calls[i].first, n);
    if (i > 0) {
      EXPECT_GE(calls[i].first, calls[i - 1].first);
    }
  }
  EXPECT_TRUE(store->Verify().ok());  // and without a callback
}

}  // namespace
}  // namespace opossum

#include "format/batch.h"
#include "format/encoded_batch.h"
#include "format/event_codec.h"

namespace opossum {
namespace {

// Extend joins batches as pieces, without copying: records are found, sealed
// and checked across the pieces exactly as in one buffer.
TEST(EncodedBatchTest, PiecesJoinWithoutCopyAndSealAcrossThem) {
  format::EncodedBatch whole, a, b, c;
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 9; ++i) events.push_back(Ev(i, i * 7));
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(whole.Add(events[i]).ok());
    ASSERT_TRUE((i < 3 ? a : i < 6 ? b : c).Add(events[i]).ok());
  }
  a.Extend(std::move(b));
  a.Extend(std::move(c));
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(c.empty());
  ASSERT_EQ(a.piece_count(), 3u);
  ASSERT_EQ(a.size(), whole.size());
  ASSERT_EQ(a.length(), whole.length());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.record_offset(i), whole.record_offset(i));
    EXPECT_EQ(format::TableType(a.table(i)), events[i].type);
    EXPECT_EQ(a.type_hash(i), whole.type_hash(i));
  }
  const uint64_t sum_a = a.Seal(100, 42, 7);
  const uint64_t sum_whole = whole.Seal(100, 42, 7);
  EXPECT_EQ(sum_a, sum_whole);
  std::vector<uint8_t> bytes_a, bytes_whole;
  for (size_t k = 0; k < a.piece_count(); ++k) {
    bytes_a.insert(bytes_a.end(), a.piece_data(k), a.piece_data(k) + a.piece_size(k));
  }
  ASSERT_EQ(whole.piece_count(), 1u);
  bytes_whole.assign(whole.piece_data(0), whole.piece_data(0) + whole.piece_size(0));
  EXPECT_EQ(bytes_a, bytes_whole);
  format::BatchInfo info;
  std::string why;
  ASSERT_EQ(
      format::CheckBatch(bytes_a.data(), bytes_a.size(), 0, 100, 7, true, &info, nullptr, &why),
      format::BatchCheck::kValid)
      << why;
  EXPECT_EQ(info.count, 9u);
  // A cleared batch is reusable.
  a.Clear();
  ASSERT_TRUE(a.Add(events[0]).ok());
  EXPECT_EQ(a.piece_count(), 1u);
  EXPECT_EQ(a.size(), 1u);
}

}  // namespace
}  // namespace opossum
