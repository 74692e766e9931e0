// Contract tests: one test per rule of the store's contract (the public headers),
// written against the public API only. Reads are checked against a
// brute-force model of the store kept by the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

using ::opossum::testing::DescribeQuery;
using ::opossum::testing::TempDir;

// ---------------------------------------------------------------------------
// Helpers

Options SyncOptions() { return Options{}; }

std::unique_ptr<Store> MustOpen(const TempDir& dir, const Options& options = SyncOptions(),
                                std::string_view name = "contract") {
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), name, options, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(store, nullptr);
  return store;
}

Event Ev(std::string type, std::vector<std::string> tags = {}, std::string data = {}) {
  Event e;
  e.type = std::move(type);
  e.tags = std::move(tags);
  e.data = std::move(data);
  return e;
}

std::vector<EventView> ReadAll(const Store& store, const Query& q = Query::All(),
                               const ReadOptions& ro = {}) {
  std::vector<EventView> out;
  Status s = store.Read(q, ro, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<uint64_t> Positions(const std::vector<EventView>& views) {
  std::vector<uint64_t> p;
  p.reserve(views.size());
  for (const EventView& v : views) p.push_back(v.position());
  return p;
}

std::vector<uint64_t> ReadPositions(const Store& store, const Query& q,
                                    const ReadOptions& ro = {}) {
  return Positions(ReadAll(store, q, ro));
}

std::vector<std::string> SortedUnique(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

// What the test knows about an event it appended.
struct ModelEvent {
  uint64_t position = 0;
  std::string type;
  std::vector<std::string> tags;  // sorted, unique
};

bool ModelMatches(const ModelEvent& e, const Query& q) {
  if (q.items.empty()) return true;
  for (const QueryItem& item : q.items) {
    bool type_ok = item.types.empty() ||
                   std::find(item.types.begin(), item.types.end(), e.type) != item.types.end();
    bool tags_ok = true;
    for (const std::string& t : item.tags) {
      if (!std::binary_search(e.tags.begin(), e.tags.end(), t)) tags_ok = false;
    }
    if (type_ok && tags_ok) return true;
  }
  return false;
}

std::vector<uint64_t> ModelRead(const std::vector<ModelEvent>& model, const Query& q,
                                const ReadOptions& ro) {
  uint64_t head = model.empty() ? 0 : model.back().position;
  std::vector<uint64_t> out;
  if (!ro.backwards) {
    uint64_t from = ro.from.value_or(1);
    for (const ModelEvent& e : model) {
      if (e.position >= from && ModelMatches(e, q)) out.push_back(e.position);
    }
  } else {
    uint64_t from = ro.from.value_or(head);
    for (auto it = model.rbegin(); it != model.rend(); ++it) {
      if (it->position <= from && ModelMatches(*it, q)) out.push_back(it->position);
    }
  }
  if (ro.limit.has_value() && out.size() > *ro.limit) out.resize(*ro.limit);
  return out;
}

// Appends `events` as one batch and records them in `model`.
void AppendToModel(Store& store, std::vector<ModelEvent>* model, std::vector<Event> events) {
  uint64_t last = 0;
  Status s = store.Append(std::span<const Event>(events), std::nullopt, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  uint64_t first = last - events.size() + 1;
  for (size_t i = 0; i < events.size(); ++i) {
    model->push_back(ModelEvent{first + i, events[i].type, SortedUnique(events[i].tags)});
  }
}

std::string OptName(const std::optional<uint64_t>& v) {
  return v.has_value() ? std::to_string(*v) : "none";
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The six events used by the query-matching tests:
//   1: A {x}   2: B {x,y}   3: C {y}   4: A {x,y,z}   5: B {}   6: A {z}
class ContractQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MustOpen(dir_);
    ASSERT_NE(store_, nullptr);
    AppendToModel(*store_, &model_, {Ev("A", {"x"}), Ev("B", {"x", "y"})});
    AppendToModel(*store_, &model_, {Ev("C", {"y"})});
    AppendToModel(*store_, &model_, {Ev("A", {"x", "y", "z"}), Ev("B"), Ev("A", {"z"})});
    ASSERT_EQ(store_->Head(), 6u);
  }

  // Checks Read (forwards and backwards) and ReadLast against `expected`
  // (ascending) and against the model.
  void ExpectMatches(const Query& q, const std::vector<uint64_t>& expected) {
    SCOPED_TRACE(DescribeQuery(q));
    EXPECT_EQ(ModelRead(model_, q, {}), expected) << "the test's model disagrees";
    EXPECT_EQ(ReadPositions(*store_, q), expected);
    std::vector<uint64_t> reversed(expected.rbegin(), expected.rend());
    EXPECT_EQ(ReadPositions(*store_, q, ReadOptions{.backwards = true}), reversed);
    std::optional<EventView> last;
    Status s = store_->ReadLast(q, &last);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (expected.empty()) {
      EXPECT_FALSE(last.has_value());
    } else {
      ASSERT_TRUE(last.has_value());
      EXPECT_EQ(last->position(), expected.back());
    }
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<ModelEvent> model_;
};

// ---------------------------------------------------------------------------
// Query

TEST_F(ContractQueryTest, TypesWithinAnItemAreOred) {
  ExpectMatches(Query::ForTypes({"A"}), {1, 4, 6});
  ExpectMatches(Query::ForTypes({"A", "B"}), {1, 2, 4, 5, 6});
  ExpectMatches(Query::ForTypes({"C", "Nope"}), {3});
}

TEST_F(ContractQueryTest, TagsWithinAnItemAreAnded) {
  ExpectMatches(Query::ForTags({"x"}), {1, 2, 4});
  ExpectMatches(Query::ForTags({"x", "y"}), {2, 4});
  ExpectMatches(Query::ForTags({"x", "y", "z"}), {4});
  ExpectMatches(Query::ForTags({"y", "x"}), {2, 4});
}

TEST_F(ContractQueryTest, TypesAndTagsWithinAnItemMustBothMatch) {
  ExpectMatches(Query::Of({"A"}, {"x"}), {1, 4});
  ExpectMatches(Query::Of({"A", "C"}, {"y"}), {3, 4});
  ExpectMatches(Query::Of({"B"}, {"z"}), {});
}

TEST_F(ContractQueryTest, ItemsAreOred) {
  Query q = Query::ForTypes({"C"});
  q.Or(QueryItem{{}, {"z"}});
  ExpectMatches(q, {3, 4, 6});
  Query q2 = Query::Of({"A"}, {"x"});
  q2.Or(QueryItem{{"B"}, {}}).Or(QueryItem{{}, {"x", "y"}});
  ExpectMatches(q2, {1, 2, 4, 5});
}

TEST_F(ContractQueryTest, NonMatchingQueriesReturnNothing) {
  ExpectMatches(Query::ForTypes({"D"}), {});
  ExpectMatches(Query::ForTags({"w"}), {});
  ExpectMatches(Query::ForTags({"x", "w"}), {});
  // Types and tags are separate: a type name is not a tag.
  ExpectMatches(Query::ForTags({"A"}), {});
  ExpectMatches(Query::ForTypes({"x"}), {});
}

TEST_F(ContractQueryTest, QueryAllMatchesEveryEvent) {
  EXPECT_TRUE(Query::All().MatchesAll());
  ExpectMatches(Query::All(), {1, 2, 3, 4, 5, 6});
}

TEST_F(ContractQueryTest, ItemWithNeitherTypesNorTagsIsInvalidArgument) {
  Query empty_item{{QueryItem{}}};
  Query mixed = Query::ForTypes({"A"});
  mixed.Or(QueryItem{});
  for (const Query& q : {empty_item, mixed}) {
    SCOPED_TRACE(DescribeQuery(q));
    std::vector<EventView> out;
    Status s = store_->Read(q, {}, &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    std::optional<EventView> last;
    s = store_->ReadLast(q, &last);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    s = store_->NewReader().ForEach(q, {}, [](const EventView&) { return true; });
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  }
}

// A query item whose tag or type no event could carry would match nothing,
// so a condition on it could never fail: every call refuses it, naming the
// item and the value, and writes nothing.
TEST(ContractQuery, ItemsWhoseTypesOrTagsBreakTheEventRulesAreInvalid) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("T", {"course:c1"})}).ok());
  struct Case {
    Query query;
    std::string names;  // what the message must name
  };
  const std::string long_tag(300, 'g');
  const std::string long_type(256, 't');
  std::vector<Case> cases = {
      {Query::ForTags({""}), "item 0: a tag is empty"},
      {Query::Of({"T"}, {""}), "item 0: a tag is empty"},
      {Query::ForTags({"course:c1", long_tag}),
       "item 0: tag \"" + long_tag.substr(0, 40) + "...\" is 300 bytes"},
      {Query::ForTags({"a\tb"}), "item 0: tag \"a\\x09b\" contains a control character"},
      {Query::ForTags({"x\x01"}), "item 0: tag \"x\\x01\" contains a control character"},
      {Query::ForTags({"bad\xfe"}), "item 0: tag \"bad\xfe\" is not valid UTF-8"},
      {Query::ForTypes({""}), "item 0: type is empty"},
      {Query::ForTypes({"T", long_type}),
       "item 0: type \"" + long_type.substr(0, 40) + "...\" is 256 bytes (the limit is 255)"},
      {Query::ForTypes({"bad\xff"}), "item 0: type \"bad\xff\" is not valid UTF-8"},
      {Query::ForTypes({"T"}).Or(QueryItem{.tags = {""}}), "item 1: a tag is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.names);
    std::vector<EventView> out;
    Status s = store->Read(c.query, {}, &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(s.message().rfind("query item ", 0), 0u) << s.message();
    // The same check, before any store is involved.
    EXPECT_TRUE(c.query.Check().IsInvalidArgument());
    EXPECT_EQ(c.query.Check().message(), s.message());
    EXPECT_EQ(AppendCondition{.fail_if_events_match = c.query}.Check().message(),
              "condition " + s.message());
    EXPECT_NE(s.message().find(c.names), std::string::npos) << s.message();
    EXPECT_TRUE(out.empty());
    std::optional<EventView> last;
    s = store->ReadLast(c.query, &last);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    s = store->NewReader().ForEach(c.query, {}, [](const EventView&) { return true; });
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    for (std::optional<uint64_t> after : {std::optional<uint64_t>{}, std::optional<uint64_t>{1}}) {
      s = store->Append({Ev("T", {"course:c1"})}, AppendCondition{c.query, after});
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_NE(s.message().find("condition query " + c.names), std::string::npos) << s.message();
      Batch batch = store->NewBatch();
      ASSERT_TRUE(batch.Add(Ev("T")).ok());
      s = store->Append(std::move(batch), AppendCondition{c.query, after});
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    }
  }
  EXPECT_EQ(store->Head(), 1u);
  // The limits themselves are fine in a query, as in an event.
  std::vector<EventView> out;
  EXPECT_TRUE(
      store->Read(Query::Of({std::string(255, 't')}, {std::string(255, 'g')}), {}, &out).ok());
  EXPECT_TRUE(store->Read(Query::ForTags({"caf\xc3\xa9:\xe2\x82\xac"}), {}, &out).ok());
  EXPECT_TRUE(Query::Of({std::string(255, 't')}, {std::string(255, 'g')}).Check().ok());
  EXPECT_TRUE(Query::All().Check().ok());
  EXPECT_TRUE(Query{{QueryItem{}}}.Check().IsInvalidArgument());
}

TEST(ContractQuery, TagsMatchExactlyNotByPrefix) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store
                  ->Append({Ev("T", {Tag("course", "c1")}), Ev("T", {Tag("course", "c10")}),
                            Ev("T", {"course"})})
                  .ok());
  EXPECT_EQ(ReadPositions(*store, Query::ForTags({"course:c1"})), (std::vector<uint64_t>{1}));
  EXPECT_EQ(ReadPositions(*store, Query::ForTags({"course:c"})), (std::vector<uint64_t>{}));
  EXPECT_EQ(ReadPositions(*store, Query::ForTags({"course"})), (std::vector<uint64_t>{3}));
  EXPECT_EQ(ReadPositions(*store, Query::ForTypes({"t"})), (std::vector<uint64_t>{}));
}

// ---------------------------------------------------------------------------
// Read

TEST(ContractRead, EveryFromBackwardsLimitCombinationMatchesModel) {
  TempDir dir;
  auto store = MustOpen(dir, Options{.durability = Durability::kBuffered});
  std::vector<ModelEvent> model;
  // 30 events in batches of 1..4, types T0..T2, tags m2 / m3 / all.
  int i = 1;
  int batch = 0;
  while (i <= 30) {
    std::vector<Event> events;
    for (int k = 0; k < 1 + batch % 4 && i <= 30; ++k, ++i) {
      std::vector<std::string> tags = {"all"};
      if (i % 2 == 0) tags.push_back("m2");
      if (i % 3 == 0) tags.push_back("m3");
      events.push_back(Ev("T" + std::to_string(i % 3), tags, std::to_string(i)));
    }
    AppendToModel(*store, &model, std::move(events));
    ++batch;
  }
  ASSERT_EQ(store->Head(), 30u);

  std::vector<Query> queries = {Query::All(),
                                Query::ForTypes({"T0"}),
                                Query::ForTags({"m2"}),
                                Query::ForTags({"m2", "m3"}),
                                Query::Of({"T1", "T2"}, {"m2"}),
                                Query::ForTags({"m3"}).Or(QueryItem{{"T1"}, {}}),
                                Query::ForTags({"none"})};
  std::vector<std::optional<uint64_t>> froms = {std::nullopt, 1, 15, 30, 45};
  std::vector<std::optional<uint64_t>> limits = {std::nullopt, 0, 1, 3, 1000};
  int checked = 0;
  for (const Query& q : queries) {
    for (const auto& from : froms) {
      for (bool backwards : {false, true}) {
        for (const auto& limit : limits) {
          ReadOptions ro{.from = from, .backwards = backwards, .limit = limit};
          SCOPED_TRACE(DescribeQuery(q) + " from=" + OptName(from) +
                       " backwards=" + (backwards ? "1" : "0") + " limit=" + OptName(limit));
          std::vector<uint64_t> expected = ModelRead(model, q, ro);
          EXPECT_EQ(ReadPositions(*store, q, ro), expected);
          // ForEach gives the same sequence.
          std::vector<uint64_t> seen;
          Status s = store->NewReader().ForEach(q, ro, [&](const EventView& v) {
            seen.push_back(v.position());
            return true;
          });
          EXPECT_TRUE(s.ok()) << s.ToString();
          EXPECT_EQ(seen, expected);
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 7 * 5 * 2 * 5);
}

TEST(ContractRead, ReadReturnsEventsWithTheirOwnContent) {
  TempDir dir;
  auto store = MustOpen(dir);
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(store->Append({Ev("T" + std::to_string(i % 2), {}, "d" + std::to_string(i))}).ok());
  }
  auto views = ReadAll(*store, Query::All(), ReadOptions{.from = 4, .backwards = true});
  ASSERT_EQ(views.size(), 4u);
  for (const EventView& v : views) {
    EXPECT_EQ(v.data(), "d" + std::to_string(v.position()));
    EXPECT_EQ(v.type(), "T" + std::to_string(v.position() % 2));
  }
}

TEST(ContractRead, ForEachStopsWhenCallbackReturnsFalse) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("A"), Ev("A"), Ev("A"), Ev("A")}).ok());
  std::vector<uint64_t> seen;
  Status s = store->NewReader().ForEach(Query::All(), {}, [&](const EventView& v) {
    seen.push_back(v.position());
    return seen.size() < 2;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
}

// The decision loop reads, decides, and appends with `after` = the head of
// the snapshot it read. Store::Head() after the read may already include a
// rival's matching event; the snapshot's head never does.
TEST(ContractRead, ReadsGiveTheHeadOfTheirSnapshot) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("A", {"k:1"}), Ev("B", {"k:2"}), Ev("A", {"k:1"})}).ok());
  std::vector<EventView> out;
  uint64_t head = 99;
  ASSERT_TRUE(store->Read(Query::ForTags({"k:2"}), {}, &out, &head).ok());
  EXPECT_EQ(head, 3u);
  ASSERT_EQ(out.size(), 1u);
  std::optional<EventView> last;
  head = 99;
  ASSERT_TRUE(store->ReadLast(Query::ForTags({"k:1"}), &last, &head).ok());
  EXPECT_EQ(head, 3u);
  // An empty store's snapshot head is 0 (no `after`: any match conflicts).
  auto empty = MustOpen(dir, SyncOptions(), "empty");
  head = 99;
  ASSERT_TRUE(empty->Read(Query::ForTags({"k:1"}), {}, &out, &head).ok());
  EXPECT_EQ(head, 0u);

  // A rival appends a matching event between the read and the decision.
  const Query q = Query::ForTags({"k:2"});
  out.clear();
  ASSERT_TRUE(store->Read(q, {}, &out, &head).ok());
  ASSERT_TRUE(store->Append({Ev("B", {"k:2"})}).ok());
  Status s = store->Append({Ev("C", {"k:2"})}, AppendCondition{q, head});
  EXPECT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 4u);
  // The racy `after` would have let it through.
  EXPECT_EQ(store->Head(), 4u);
  std::vector<EventView> after_head;
  ASSERT_TRUE(store->Read(q, ReadOptions{.from = store->Head() + 1}, &after_head).ok());
  EXPECT_TRUE(after_head.empty());
}

TEST(ContractRead, ReadByIdFindsTheEventCarryingTheId) {
  TempDir dir;
  const Uuid a = Uuid::Random(), b = Uuid::Random(), missing = Uuid::Random();
  {
    auto store = MustOpen(dir);
    Event with_a = Ev("A", {"x"}, "first");
    with_a.id = a;
    Event with_b = Ev("B", {}, "second");
    with_b.id = b;
    ASSERT_TRUE(store->Append({Ev("Plain")}).ok());
    ASSERT_TRUE(store->Append({with_a, with_b}).ok());
    std::optional<EventView> found;
    ASSERT_TRUE(store->ReadById(b, &found).ok());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->position(), 3u);
    EXPECT_EQ(found->data(), "second");
    ASSERT_TRUE(store->ReadById(missing, &found).ok());
    EXPECT_FALSE(found.has_value());
    // A snapshot does not see ids appended after it.
    Reader before = store->NewReader();
    Event later = Ev("C");
    later.id = missing;
    ASSERT_TRUE(store->Append({later}).ok());
    ASSERT_TRUE(before.ReadById(missing, &found).ok());
    EXPECT_FALSE(found.has_value());
    ASSERT_TRUE(store->ReadById(missing, &found).ok());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->position(), 4u);
  }
  auto reopened = MustOpen(dir);
  std::optional<EventView> found;
  ASSERT_TRUE(reopened->ReadById(a, &found).ok());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->position(), 2u);
  EXPECT_EQ(found->data(), "first");
}

TEST(ContractRead, ReadAppendsToOutput) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("A"), Ev("B")}).ok());
  std::vector<EventView> out;
  ASSERT_TRUE(store->Read(Query::ForTypes({"A"}), {}, &out).ok());
  ASSERT_TRUE(store->Read(Query::ForTypes({"B"}), {}, &out).ok());
  EXPECT_EQ(Positions(out), (std::vector<uint64_t>{1, 2}));
}

TEST(ContractRead, ReadOnEmptyStoreReturnsNothing) {
  TempDir dir;
  auto store = MustOpen(dir);
  EXPECT_TRUE(ReadAll(*store).empty());
  EXPECT_TRUE(ReadAll(*store, Query::All(), ReadOptions{.backwards = true}).empty());
  EXPECT_TRUE(ReadAll(*store, Query::ForTags({"x"}), ReadOptions{.from = 1}).empty());
}

TEST(ContractRead, ReadLastReturnsHighestMatchOrNone) {
  TempDir dir;
  auto store = MustOpen(dir);
  std::optional<EventView> last;
  ASSERT_TRUE(store->ReadLast(Query::All(), &last).ok());
  EXPECT_FALSE(last.has_value()) << "empty store";

  ASSERT_TRUE(store->Append({Ev("A", {"x"}, "1"), Ev("B", {"y"}, "2")}).ok());
  ASSERT_TRUE(store->Append({Ev("A", {"y"}, "3"), Ev("C", {}, "4")}).ok());

  ASSERT_TRUE(store->ReadLast(Query::All(), &last).ok());
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->position(), 4u);
  EXPECT_EQ(last->data(), "4");

  ASSERT_TRUE(store->ReadLast(Query::ForTypes({"A"}), &last).ok());
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->position(), 3u);
  EXPECT_EQ(last->data(), "3");

  ASSERT_TRUE(store->ReadLast(Query::ForTags({"x"}), &last).ok());
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->position(), 1u);

  ASSERT_TRUE(store->ReadLast(Query::ForTags({"nope"}), &last).ok());
  EXPECT_FALSE(last.has_value());
}

// ---------------------------------------------------------------------------
// Head and positions

TEST(ContractHead, IsZeroOnEmptyStoreAndLastPositionAfterAppends) {
  TempDir dir;
  auto store = MustOpen(dir);
  EXPECT_EQ(store->Head(), 0u);
  EXPECT_EQ(store->NewReader().head(), 0u);
  uint64_t last = 0;
  ASSERT_TRUE(store->Append({Ev("A"), Ev("A"), Ev("A")}, std::nullopt, &last).ok());
  EXPECT_EQ(last, 3u);
  EXPECT_EQ(store->Head(), 3u);
  EXPECT_EQ(store->NewReader().head(), 3u);
  StoreStats stats;
  ASSERT_TRUE(store->GetStats(&stats).ok());
  EXPECT_EQ(stats.head, 3u);
}

TEST(ContractPositions, StartAtOneAndAreConsecutiveAcrossBatches) {
  TempDir dir;
  auto store = MustOpen(dir, Options{.durability = Durability::kBuffered});
  uint64_t expected_last = 0;
  for (size_t batch_size : {1u, 2u, 5u, 1u, 10u, 3u}) {
    std::vector<Event> events(batch_size, Ev("E"));
    uint64_t last = 0;
    ASSERT_TRUE(store->Append(std::span<const Event>(events), std::nullopt, &last).ok());
    expected_last += batch_size;
    EXPECT_EQ(last, expected_last);
    EXPECT_EQ(store->Head(), expected_last);
  }
  std::vector<uint64_t> expected(expected_last);
  for (uint64_t i = 0; i < expected_last; ++i) expected[i] = i + 1;
  EXPECT_EQ(ReadPositions(*store, Query::All()), expected);
}

// ---------------------------------------------------------------------------
// Event fields

TEST(ContractTags, TagHelperJoinsKeyAndValueWithColon) {
  EXPECT_EQ(Tag("course", "c1"), "course:c1");
  EXPECT_EQ(Tag("", ""), ":");
  EXPECT_EQ(Tag("a:b", "c"), "a:b:c");
}

// SplitTag takes what outlives its parts, and refuses a temporary string
// (SplitTag(Tag(k, v)) would leave them pointing into freed memory).
template <typename T>
concept Splittable = requires(T&& t) {
  SplitTag(std::forward<T>(t));
};
static_assert(Splittable<std::string&>);
static_assert(Splittable<const std::string&>);
static_assert(Splittable<std::string_view>);
static_assert(Splittable<const char*>);
static_assert(!Splittable<std::string>);
static_assert(!Splittable<std::string&&>);

TEST(ContractTags, SplitTagAndTagValueUndoTheTagHelper) {
  const std::string course_tag = Tag("course", "c1");
  TagParts parts = SplitTag(course_tag);
  EXPECT_EQ(parts.key, "course");
  EXPECT_EQ(parts.value, "c1");
  parts = SplitTag("a:b:c");
  EXPECT_EQ(parts.key, "a");
  EXPECT_EQ(parts.value, "b:c");
  parts = SplitTag("plain");
  EXPECT_EQ(parts.key, "plain");
  EXPECT_EQ(parts.value, "");
  parts = SplitTag(":v");
  EXPECT_EQ(parts.key, "");
  EXPECT_EQ(parts.value, "v");

  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store
                  ->Append({Ev("T", {Tag("student", "s9"), Tag("course", "c2"), "course",
                                     Tag("course", "c1"), Tag("coursework", "w"), "z:"})})
                  .ok());
  auto events = ReadAll(*store);
  ASSERT_EQ(events.size(), 1u);
  const EventView& e = events[0];
  // Several values for one key: the bytewise smallest.
  EXPECT_EQ(e.TagValue("course"), std::optional<std::string_view>("c1"));
  EXPECT_EQ(e.TagValue("student"), std::optional<std::string_view>("s9"));
  EXPECT_EQ(e.TagValue("coursework"), std::optional<std::string_view>("w"));
  EXPECT_EQ(e.TagValue("z"), std::optional<std::string_view>(""));
  EXPECT_FALSE(e.TagValue("cours").has_value());
  EXPECT_FALSE(e.TagValue("missing").has_value());
  EXPECT_FALSE(e.TagValue("").has_value());
}

TEST(ContractTags, ReturnedSortedBytewiseWithDuplicatesDropped) {
  TempDir dir;
  auto store = MustOpen(dir);
  // "\xc3\xa9" (é) sorts after ASCII bytewise; "B" (0x42) before "a" (0x61).
  std::vector<std::string> given = {"b", "a", "\xc3\xa9t\xc3\xa9", "B", "a", "c:1", "b", "c"};
  ASSERT_TRUE(store->Append({Ev("T", given)}).ok());
  auto views = ReadAll(*store);
  ASSERT_EQ(views.size(), 1u);
  std::vector<std::string_view> want = {"B", "a", "b", "c", "c:1", "\xc3\xa9t\xc3\xa9"};
  EXPECT_EQ(views[0].tags(), want);
  ASSERT_EQ(views[0].tag_count(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(views[0].tag(i), want[i]);
  EXPECT_TRUE(views[0].HasTag("a"));
  EXPECT_TRUE(views[0].HasTag("\xc3\xa9t\xc3\xa9"));
  EXPECT_FALSE(views[0].HasTag("A"));
  EXPECT_FALSE(views[0].HasTag("c:"));
  // The duplicate tag still matches once.
  EXPECT_EQ(ReadPositions(*store, Query::ForTags({"a", "b"})), (std::vector<uint64_t>{1}));
  EXPECT_EQ(views[0].ToEvent().tags,
            (std::vector<std::string>{"B", "a", "b", "c", "c:1", "\xc3\xa9t\xc3\xa9"}));
}

TEST(ContractEvent, DataJsonFlagMetadataIdAndTimestampRoundTrip) {
  TempDir dir;
  auto store = MustOpen(dir);
  std::string binary("\x00\x01\xff\xfe zero\x00 inside", 16);
  Uuid id = Uuid::Random();
  Event json_event = Ev("Json", {"k:v"}, R"({"a":1,"b":[true,null]})");
  json_event.data_is_json = true;
  json_event.id = id;
  json_event.metadata = {
      {"correlation", "c-1"}, {"causation", "c-0"}, {"user", "ann"}, {"empty", ""}};
  json_event.timestamp_ns = 1234567890123456789LL;
  Event binary_event = Ev("Bin", {}, binary);
  Event empty_event = Ev("Empty");

  int64_t before = NowNs();
  ASSERT_TRUE(store->Append({json_event, binary_event, empty_event}).ok());
  int64_t after = NowNs();

  auto views = ReadAll(*store);
  ASSERT_EQ(views.size(), 3u);

  const EventView& j = views[0];
  EXPECT_EQ(j.type(), "Json");
  EXPECT_EQ(j.data(), R"({"a":1,"b":[true,null]})");
  EXPECT_TRUE(j.data_is_json());
  ASSERT_TRUE(j.id().has_value());
  EXPECT_EQ(*j.id(), id);
  ASSERT_EQ(j.metadata_count(), 4u);
  EXPECT_EQ(j.metadata(0), (std::pair<std::string_view, std::string_view>{"correlation", "c-1"}));
  EXPECT_EQ(j.metadata(1), (std::pair<std::string_view, std::string_view>{"causation", "c-0"}));
  EXPECT_EQ(j.metadata(2), (std::pair<std::string_view, std::string_view>{"user", "ann"}));
  EXPECT_EQ(j.metadata(3), (std::pair<std::string_view, std::string_view>{"empty", ""}));
  EXPECT_EQ(j.timestamp_ns(), 1234567890123456789LL) << "caller's timestamp must be kept";

  const EventView& b = views[1];
  EXPECT_EQ(b.type(), "Bin");
  EXPECT_EQ(b.data(), binary);
  EXPECT_EQ(b.data().size(), 16u);
  EXPECT_FALSE(b.data_is_json());
  EXPECT_FALSE(b.id().has_value());
  EXPECT_EQ(b.metadata_count(), 0u);
  EXPECT_EQ(b.tag_count(), 0u);
  // Store timestamp: plausibly now (the batch's commit time).
  EXPECT_GE(b.timestamp_ns(), before - 1'000'000'000LL);
  EXPECT_LE(b.timestamp_ns(), after + 1'000'000'000LL);

  const EventView& e = views[2];
  EXPECT_EQ(e.data(), "");
  EXPECT_FALSE(e.data_is_json());
  // Both store-stamped events of one batch carry the batch's commit time.
  EXPECT_EQ(e.timestamp_ns(), b.timestamp_ns());

  // ToEvent is an owning copy equal to what was appended.
  Event copy = j.ToEvent();
  EXPECT_EQ(copy.type, json_event.type);
  EXPECT_EQ(copy.tags, json_event.tags);
  EXPECT_EQ(copy.data, json_event.data);
  EXPECT_EQ(copy.data_is_json, true);
  EXPECT_EQ(copy.id, json_event.id);
  EXPECT_EQ(copy.metadata, json_event.metadata);
  ASSERT_TRUE(copy.timestamp_ns.has_value());
  EXPECT_EQ(*copy.timestamp_ns, 1234567890123456789LL);
}

TEST(ContractEvent, UuidParsesAndPrintsCanonicalForm) {
  auto u = Uuid::Parse("0123ABCD-4567-89ab-CDEF-0123456789aB");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->ToString(), "0123abcd-4567-89ab-cdef-0123456789ab");
  EXPECT_EQ(u->bytes[0], 0x01);
  EXPECT_EQ(u->bytes[15], 0xab);
  EXPECT_FALSE(Uuid::Parse("not-a-uuid").has_value());
  EXPECT_NE(Uuid::Random(), Uuid::Random());
}

// ---------------------------------------------------------------------------
// Append conditions

TEST(ContractCondition, WithoutAfterFailsIfAnyEventMatches) {
  TempDir dir;
  auto store = MustOpen(dir);
  // Empty store: nothing matches.
  ASSERT_TRUE(store->Append({Ev("A", {"x"})}, AppendCondition{Query::ForTags({"x"}), {}}).ok());
  ASSERT_TRUE(store->Append({Ev("B", {"y"})}).ok());
  // Position 1 matches: fails, carrying 1.
  Status s = store->Append({Ev("A", {"x"})}, AppendCondition{Query::ForTags({"x"}), {}});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 1u);
  s = store->Append({Ev("C")}, AppendCondition{Query::ForTypes({"B"}), {}});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 2u);
  // A query that matches nothing lets the append through.
  uint64_t last = 0;
  s = store->Append({Ev("C", {"z"})}, AppendCondition{Query::ForTags({"x", "y"}), {}}, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, 3u);
  EXPECT_EQ(s.conflicting_position(), 0u);
}

TEST(ContractCondition, WithAfterOnlyLaterEventsFail) {
  TempDir dir;
  auto store = MustOpen(dir);
  // 1: A{x}  2: B{y}  3: A{x}  4: B{y}
  ASSERT_TRUE(store->Append({Ev("A", {"x"}), Ev("B", {"y"})}).ok());
  ASSERT_TRUE(store->Append({Ev("A", {"x"}), Ev("B", {"y"})}).ok());
  Query qx = Query::ForTags({"x"});

  // after = 0 behaves like "any": a matching position > 0.
  Status s = store->Append({Ev("N")}, AppendCondition{qx, 0});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_TRUE(s.conflicting_position() == 1 || s.conflicting_position() == 3)
      << s.conflicting_position();

  // after = 1 or 2: only position 3 matches above.
  for (uint64_t after : {1u, 2u}) {
    s = store->Append({Ev("N")}, AppendCondition{qx, after});
    ASSERT_TRUE(s.IsConditionFailed()) << "after=" << after << " " << s.ToString();
    EXPECT_EQ(s.conflicting_position(), 3u) << "after=" << after;
  }
  EXPECT_EQ(store->Head(), 4u);

  // An event exactly at `after` does not fail the append.
  uint64_t last = 0;
  s = store->Append({Ev("N", {"n"})}, AppendCondition{qx, 3}, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, 5u);

  // `after` higher than any match (and higher than the head) is valid.
  s = store->Append({Ev("N", {"n"})}, AppendCondition{qx, 4}, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, 6u);
  s = store->Append({Ev("N", {"n"})}, AppendCondition{qx, 1000}, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, 7u);

  // Query::All with after = head passes, after = head-1 fails at head.
  s = store->Append({Ev("N")}, AppendCondition{Query::All(), 7}, &last);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, 8u);
  s = store->Append({Ev("N")}, AppendCondition{Query::All(), 7});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 8u);
}

TEST(ContractCondition, ConflictingPositionIsARealMatchAfterAfter) {
  TempDir dir;
  auto store = MustOpen(dir, Options{.durability = Durability::kBuffered});
  std::vector<ModelEvent> model;
  for (int i = 1; i <= 40; ++i) {
    std::vector<std::string> tags;
    if (i % 4 == 0) tags.push_back("q4");
    if (i % 7 == 0) tags.push_back("q7");
    AppendToModel(*store, &model, {Ev(i % 5 == 0 ? "Five" : "Other", tags)});
  }
  std::vector<Query> queries = {Query::ForTags({"q4"}), Query::ForTags({"q4", "q7"}),
                                Query::ForTypes({"Five"}),
                                Query::ForTags({"q7"}).Or(QueryItem{{"Five"}, {}})};
  for (const Query& q : queries) {
    for (std::optional<uint64_t> after :
         {std::optional<uint64_t>{}, std::optional<uint64_t>{0}, std::optional<uint64_t>{10},
          std::optional<uint64_t>{27}, std::optional<uint64_t>{39}, std::optional<uint64_t>{40}}) {
      SCOPED_TRACE(DescribeQuery(q) + " after=" + OptName(after));
      std::vector<uint64_t> matches =
          ModelRead(model, q, ReadOptions{.from = after.value_or(0) + 1});
      Status s = store->Append({Ev("Probe", {"probe"})}, AppendCondition{q, after});
      if (matches.empty()) {
        EXPECT_TRUE(s.ok()) << s.ToString();
        if (s.ok()) {
          // Keep the model in step with the store.
          model.push_back(ModelEvent{store->Head(), "Probe", {"probe"}});
        }
      } else {
        ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
        EXPECT_TRUE(std::find(matches.begin(), matches.end(), s.conflicting_position()) !=
                    matches.end())
            << "conflicting_position " << s.conflicting_position()
            << " is not a matching position after `after`";
      }
    }
  }
}

TEST(ContractCondition, FailedConditionWritesNothing) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("A", {"x"}), Ev("A", {"x"})}).ok());
  for (int i = 0; i < 5; ++i) {
    Status s = store->Append({Ev("New", {"new"}), Ev("New", {"new"})},
                             AppendCondition{Query::ForTags({"x"}), 1});
    ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
    EXPECT_EQ(s.conflicting_position(), 2u);
    EXPECT_EQ(store->Head(), 2u);
  }
  EXPECT_TRUE(ReadAll(*store, Query::ForTypes({"New"})).empty());
  EXPECT_TRUE(ReadAll(*store, Query::ForTags({"new"})).empty());
  // Positions are not consumed by failed appends.
  uint64_t last = 0;
  ASSERT_TRUE(store->Append({Ev("After")}, std::nullopt, &last).ok());
  EXPECT_EQ(last, 3u);
  EXPECT_EQ(ReadPositions(*store, Query::All()), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(ContractCondition, InvalidConditionQueryIsInvalidArgumentAndWritesNothing) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("A")}).ok());
  Status s = store->Append({Ev("B")}, AppendCondition{Query{{QueryItem{}}}, {}});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  Query mixed = Query::ForTags({"x"});
  mixed.Or(QueryItem{});
  s = store->Append({Ev("B")}, AppendCondition{mixed, 1});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(store->Head(), 1u);
}

// ---------------------------------------------------------------------------
// Idempotency

Event WithId(Event e, const Uuid& id) {
  e.id = id;
  return e;
}

TEST(ContractIdempotency, SameIdsSameOrderWriteNothingAndReturnEarlierLast) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("Before")}).ok());
  Uuid a = Uuid::Random(), b = Uuid::Random();
  uint64_t first_last = 0;
  ASSERT_TRUE(store
                  ->Append({WithId(Ev("A", {"k"}), a), WithId(Ev("B", {"k"}), b)}, std::nullopt,
                           &first_last)
                  .ok());
  EXPECT_EQ(first_last, 3u);

  uint64_t again = 0;
  Status s =
      store->Append({WithId(Ev("A", {"k"}), a), WithId(Ev("B", {"k"}), b)}, std::nullopt, &again);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again, first_last);
  EXPECT_EQ(store->Head(), 3u);

  // Other events in between: still the earlier batch's last position.
  ASSERT_TRUE(store->Append({Ev("Between")}).ok());
  again = 0;
  s = store->Append({WithId(Ev("A", {"k"}), a), WithId(Ev("B", {"k"}), b)}, std::nullopt, &again);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again, first_last);
  EXPECT_EQ(store->Head(), 4u);

  // A single-event batch with an id is idempotent too.
  Uuid c = Uuid::Random();
  uint64_t single = 0;
  ASSERT_TRUE(store->Append({WithId(Ev("C"), c)}, std::nullopt, &single).ok());
  EXPECT_EQ(single, 5u);
  again = 0;
  ASSERT_TRUE(store->Append({WithId(Ev("C"), c)}, std::nullopt, &again).ok());
  EXPECT_EQ(again, 5u);
  EXPECT_EQ(store->Head(), 5u);
  EXPECT_EQ(ReadAll(*store).size(), 5u);
}

TEST(ContractIdempotency, RepeatSucceedsEvenWhenItsConditionWouldNowFail) {
  TempDir dir;
  auto store = MustOpen(dir);
  Uuid a = Uuid::Random(), b = Uuid::Random();
  AppendCondition cond{Query::ForTags({"order:1"}), {}};
  uint64_t first_last = 0;
  ASSERT_TRUE(
      store
          ->Append({WithId(Ev("Placed", {"order:1"}), a), WithId(Ev("Paid", {"order:1"}), b)}, cond,
                   &first_last)
          .ok());
  EXPECT_EQ(first_last, 2u);
  ASSERT_TRUE(store->Append({Ev("Shipped", {"order:1"})}).ok());
  // The condition now matches positions 1..3, but the ids repeat a batch.
  uint64_t again = 0;
  Status s = store->Append(
      {WithId(Ev("Placed", {"order:1"}), a), WithId(Ev("Paid", {"order:1"}), b)}, cond, &again);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again, first_last);
  EXPECT_EQ(store->Head(), 3u);
}

TEST(ContractIdempotency, IdsPartlyMatchingAnEarlierBatchAreInvalidAndWriteNothing) {
  TempDir dir;
  auto store = MustOpen(dir);
  Uuid a = Uuid::Random(), b = Uuid::Random(), c = Uuid::Random();
  ASSERT_TRUE(store->Append({WithId(Ev("A"), a), WithId(Ev("B"), b)}).ok());
  struct Case {
    const char* name;
    std::vector<Event> events;
  };
  std::vector<Case> cases = {
      {"one old, one new", {WithId(Ev("A"), a), WithId(Ev("C"), c)}},
      {"new, then old", {WithId(Ev("C"), c), WithId(Ev("B"), b)}},
      {"prefix of the earlier batch", {WithId(Ev("A"), a)}},
      {"suffix of the earlier batch", {WithId(Ev("B"), b)}},
      {"earlier batch plus one", {WithId(Ev("A"), a), WithId(Ev("B"), b), WithId(Ev("C"), c)}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    Status s = store->Append(std::span<const Event>(tc.events));
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(store->Head(), 2u);
  }
  // c was never written: it can still be used.
  uint64_t last = 0;
  ASSERT_TRUE(store->Append({WithId(Ev("C"), c)}, std::nullopt, &last).ok());
  EXPECT_EQ(last, 3u);
}

TEST(ContractIdempotency, DuplicateIdsInsideOneBatchAreInvalid) {
  TempDir dir;
  auto store = MustOpen(dir);
  Uuid a = Uuid::Random(), b = Uuid::Random();
  Status s = store->Append({WithId(Ev("A"), a), WithId(Ev("B"), a)});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = store->Append({WithId(Ev("A"), a), WithId(Ev("B"), b), WithId(Ev("C"), a)});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(store->Head(), 0u);
  EXPECT_TRUE(ReadAll(*store).empty());
}

// ---------------------------------------------------------------------------
// Validation: each error is kInvalidArgument and writes nothing.

class ContractValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.max_event_size = 4096;
    store_ = MustOpen(dir_, o);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Append({Ev("Seed", {"seed"})}).ok());
  }

  // Appends `events` alone and behind a valid event; both must be rejected.
  void ExpectInvalid(const std::vector<Event>& events) {
    Status s = store_->Append(std::span<const Event>(events));
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_FALSE(s.message().empty()) << "an error must say what failed";
    std::vector<Event> mixed = {Ev("Valid", {"valid"}, "ok")};
    mixed.insert(mixed.end(), events.begin(), events.end());
    s = store_->Append(std::span<const Event>(mixed));
    EXPECT_TRUE(s.IsInvalidArgument()) << "behind a valid event: " << s.ToString();
    EXPECT_EQ(store_->Head(), 1u);
    EXPECT_TRUE(ReadAll(*store_, Query::ForTypes({"Valid"})).empty());
  }
  // Also checks that the rejected appends before it used up no position.
  void ExpectValid(const Event& e) {
    uint64_t head = store_->Head();
    uint64_t last = 0;
    Status s = store_->Append({e}, std::nullopt, &last);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(last, head + 1);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ContractValidationTest, EmptyBatchIsInvalid) {
  Status s = store_->Append(std::span<const Event>{});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = store_->Append(std::span<const Event>{}, AppendCondition{Query::ForTags({"x"}), {}});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(store_->Head(), 1u);
}

TEST_F(ContractValidationTest, EmptyTypeIsInvalid) { ExpectInvalid({Ev("")}); }

TEST_F(ContractValidationTest, TypeOf256BytesIsInvalid) {
  ExpectInvalid({Ev(std::string(256, 't'))});
}

TEST_F(ContractValidationTest, TypeOf255BytesIsValid) { ExpectValid(Ev(std::string(255, 't'))); }

TEST_F(ContractValidationTest, TypeThatIsNotUtf8IsInvalid) {
  ExpectInvalid({Ev("bad\xff")});
  ExpectInvalid({Ev("\xc3")});  // truncated sequence
}

TEST_F(ContractValidationTest, SixtyFiveTagsAreInvalid) {
  std::vector<std::string> tags;
  for (int i = 0; i < 65; ++i) tags.push_back("t" + std::to_string(i));
  ExpectInvalid({Ev("T", tags)});
}

TEST_F(ContractValidationTest, SixtyFourTagsAreValid) {
  std::vector<std::string> tags;
  for (int i = 0; i < 64; ++i) tags.push_back("t" + std::to_string(i));
  ExpectValid(Ev("T", tags));
  auto last = ReadAll(*store_, Query::All(), ReadOptions{.backwards = true, .limit = 1});
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].tag_count(), 64u);
}

TEST_F(ContractValidationTest, TagOf256BytesIsInvalid) {
  ExpectInvalid({Ev("T", {std::string(256, 'g')})});
}

TEST_F(ContractValidationTest, TagOf255BytesIsValid) {
  ExpectValid(Ev("T", {std::string(255, 'g')}));
}

TEST_F(ContractValidationTest, EmptyTagIsInvalid) { ExpectInvalid({Ev("T", {"ok", ""})}); }

TEST_F(ContractValidationTest, TagWithControlCharacterIsInvalid) {
  ExpectInvalid({Ev("T", {"a\x01"
                          "b"})});
  ExpectInvalid({Ev("T", {"line\nbreak"})});
  ExpectInvalid({Ev("T", {"tab\there"})});
  ExpectInvalid({Ev("T", {std::string("nul\0x", 5)})});
  ExpectInvalid({Ev("T", {"del\x7f"})});
}

TEST_F(ContractValidationTest, TagThatIsNotUtf8IsInvalid) { ExpectInvalid({Ev("T", {"bad\xfe"})}); }

TEST_F(ContractValidationTest, DataLargerThanMaxEventSizeIsInvalid) {
  ExpectInvalid({Ev("Big", {}, std::string(8192, 'd'))});
  ExpectValid(Ev("Small", {}, std::string(1024, 'd')));
}

TEST_F(ContractValidationTest, DataFlaggedJsonMustBeJson) {
  for (const char* bad : {"", "{", "{'a': 1}", "01", "[1,]", "nan", "{\"a\": 1} trailing",
                          "\"raw\ttab\"", "\"\xff\""}) {
    SCOPED_TRACE(bad);
    Event e = Ev("T", {}, bad);
    e.data_is_json = true;
    ExpectInvalid({e});
    Status s = store_->Append({e});
    EXPECT_NE(s.message().find("event 0: data is not JSON, though data_is_json is set: "),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find(" at byte "), std::string::npos) << s.message();
  }
  // The same bytes as binary data are fine.
  for (const char* bad : {"", "{", "{'a': 1}", "\"\xff\""}) ExpectValid(Ev("T", {}, bad));
  for (const char* good : {"null", " {\"a\": [1, 2.5e-3, true, false, null, \"\\u00e9\"]} ",
                           "\"caf\xc3\xa9\"", "123456789012345678901234567890"}) {
    SCOPED_TRACE(good);
    Event e = Ev("T", {}, good);
    e.data_is_json = true;
    ExpectValid(e);
  }
}

TEST_F(ContractValidationTest, ConditionItemWithNeitherTypesNorTagsIsInvalid) {
  Status s = store_->Append({Ev("T")}, AppendCondition{Query{{QueryItem{}}}, {}});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(store_->Head(), 1u);
}

// ---------------------------------------------------------------------------
// Reopen

TEST(ContractReopen, EverythingReadsBackTheSameAfterReopen) {
  TempDir dir;
  std::vector<Event> before;
  std::vector<uint64_t> before_positions;
  Uuid a = Uuid::Random(), b = Uuid::Random();
  uint64_t id_batch_last = 0;
  {
    auto store = MustOpen(dir);
    ASSERT_NE(store, nullptr);
    Event j = Ev("Json", {"z", "k:1", "a"}, R"({"n":1})");
    j.data_is_json = true;
    j.metadata = {{"user", "u"}, {"corr", "c"}};
    ASSERT_TRUE(store->Append({j, Ev("Bin", {}, std::string("\0\1\2", 3))}).ok());
    Event t = Ev("Stamped", {"k:1"});
    t.timestamp_ns = 42;
    ASSERT_TRUE(store->Append({t}).ok());
    ASSERT_TRUE(store
                    ->Append({WithId(Ev("I1", {"k:2"}), a), WithId(Ev("I2", {"k:2"}), b)},
                             std::nullopt, &id_batch_last)
                    .ok());
    for (const EventView& v : ReadAll(*store)) {
      before.push_back(v.ToEvent());
      before_positions.push_back(v.position());
    }
    ASSERT_EQ(before.size(), 5u);
    EXPECT_TRUE(store->Verify().ok());
  }
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Head(), 5u);
  auto after = ReadAll(*store);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    Event e = after[i].ToEvent();
    EXPECT_EQ(after[i].position(), before_positions[i]);
    EXPECT_EQ(e.type, before[i].type);
    EXPECT_EQ(e.tags, before[i].tags);
    EXPECT_EQ(e.data, before[i].data);
    EXPECT_EQ(e.data_is_json, before[i].data_is_json);
    EXPECT_EQ(e.id, before[i].id);
    EXPECT_EQ(e.metadata, before[i].metadata);
    EXPECT_EQ(e.timestamp_ns, before[i].timestamp_ns);
  }
  // Indexes work after reopen.
  EXPECT_EQ(ReadPositions(*store, Query::ForTags({"k:1"})), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(ReadPositions(*store, Query::ForTypes({"Bin", "I2"})), (std::vector<uint64_t>{2, 5}));
  // Conditions see the old events.
  Status s = store->Append({Ev("X")}, AppendCondition{Query::ForTags({"k:2"}), 3});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_TRUE(s.conflicting_position() == 4 || s.conflicting_position() == 5);
  // Idempotency survives reopen.
  uint64_t again = 0;
  ASSERT_TRUE(store
                  ->Append({WithId(Ev("I1", {"k:2"}), a), WithId(Ev("I2", {"k:2"}), b)},
                           std::nullopt, &again)
                  .ok());
  EXPECT_EQ(again, id_batch_last);
  // Positions continue from the head.
  uint64_t last = 0;
  ASSERT_TRUE(store->Append({Ev("Next")}, std::nullopt, &last).ok());
  EXPECT_EQ(last, 6u);
  EXPECT_TRUE(store->Verify().ok());
}

TEST(ContractReopen, BufferedStoreReadsBackAfterCleanClose) {
  TempDir dir;
  {
    auto store = MustOpen(dir, Options{.durability = Durability::kBuffered});
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(store->Append({Ev("E", {"n:" + std::to_string(i % 5)}, std::to_string(i))}).ok());
    }
  }
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Head(), 50u);
  auto views = ReadAll(*store, Query::ForTags({"n:3"}));
  ASSERT_EQ(views.size(), 10u);
  for (const EventView& v : views) EXPECT_EQ(v.data(), std::to_string(v.position() - 1));
}

// ---------------------------------------------------------------------------
// Open

TEST(ContractOpen, BadStoreNameIsInvalidArgument) {
  TempDir dir;
  for (std::string name : {std::string(""), std::string(".hidden"), std::string("a/b"),
                           std::string(".."), std::string("."), std::string(65, 'n'),
                           std::string("a b"), std::string("a\\b"), std::string("/abs")}) {
    SCOPED_TRACE("name '" + name + "'");
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), name, Options{}, &store);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  }
  // Nothing was created for the rejected names.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ContractOpen, GoodStoreNamesOpen) {
  TempDir dir;
  for (std::string name :
       {std::string(64, 'n'), std::string("a-b_c.d"), std::string("A9"), std::string("x")}) {
    SCOPED_TRACE("name '" + name + "'");
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), name, Options{}, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST(ContractOpen, MissingStoreWithoutCreateIsNotFound) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Options o;
  o.create_if_missing = false;
  Status s = Store::Open(dir.path(), "missing", o, &store);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing"));
  // Once created, create_if_missing=false opens it.
  { auto created = MustOpen(dir, Options{}, "missing"); }
  store.reset();
  s = Store::Open(dir.path(), "missing", o, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ContractOpen, TwoHandlesInOneProcessSeeEachOthersAppends) {
  TempDir dir;
  auto first = MustOpen(dir);
  auto second = MustOpen(dir);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  uint64_t last = 0;
  ASSERT_TRUE(first->Append({Ev("A", {"x"})}, std::nullopt, &last).ok());
  EXPECT_EQ(last, 1u);
  EXPECT_EQ(second->Head(), 1u);
  Status s = second->Append({Ev("B", {"x"})}, AppendCondition{Query::ForTags({"x"}), {}});
  ASSERT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 1u);
  ASSERT_TRUE(
      second->Append({Ev("B", {"x"})}, AppendCondition{Query::ForTags({"x"}), 1}, &last).ok());
  EXPECT_EQ(last, 2u);
  first.reset();  // closing one handle leaves the other working
  EXPECT_EQ(ReadPositions(*second, Query::ForTags({"x"})), (std::vector<uint64_t>{1, 2}));
  ASSERT_TRUE(second->Append({Ev("C")}, std::nullopt, &last).ok());
  EXPECT_EQ(last, 3u);
}

TEST(ContractOpen, ReadOnlyOpenReadsAndRejectsAppend) {
  TempDir dir;
  {
    auto store = MustOpen(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append({Ev("A", {"x"}, "one"), Ev("B", {"y"}, "two")}).ok());
  }
  Options o;
  o.read_only = true;
  auto ro = MustOpen(dir, o);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->Head(), 2u);
  auto views = ReadAll(*ro, Query::ForTags({"y"}));
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].data(), "two");
  Status s = ro->Append({Ev("C")});
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  s = ro->Append({Ev("C")}, AppendCondition{Query::ForTags({"nope"}), {}});
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_EQ(ro->Head(), 2u);
  EXPECT_TRUE(ro->Verify().ok());
}

// ---------------------------------------------------------------------------
// Snapshots and Verify

TEST(ContractSnapshot, ReaderDoesNotSeeLaterAppends) {
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_TRUE(store->Append({Ev("A", {"x"}), Ev("A", {"x"})}).ok());
  Reader reader = store->NewReader();
  EXPECT_EQ(reader.head(), 2u);
  ASSERT_TRUE(store->Append({Ev("A", {"x"}), Ev("B", {"x"})}).ok());
  ASSERT_TRUE(store->Append({Ev("C", {"x"})}).ok());
  EXPECT_EQ(store->Head(), 5u);

  EXPECT_EQ(reader.head(), 2u);
  std::vector<EventView> out;
  ASSERT_TRUE(reader.Read(Query::All(), {}, &out).ok());
  EXPECT_EQ(Positions(out), (std::vector<uint64_t>{1, 2}));
  out.clear();
  ASSERT_TRUE(reader.Read(Query::ForTags({"x"}), ReadOptions{.backwards = true}, &out).ok());
  EXPECT_EQ(Positions(out), (std::vector<uint64_t>{2, 1}));
  out.clear();
  ASSERT_TRUE(reader.Read(Query::All(), ReadOptions{.from = 3}, &out).ok());
  EXPECT_TRUE(out.empty());
  out.clear();
  ASSERT_TRUE(reader.Read(Query::All(), ReadOptions{.from = 10, .backwards = true}, &out).ok());
  EXPECT_EQ(Positions(out), (std::vector<uint64_t>{2, 1}));
  std::optional<EventView> last;
  ASSERT_TRUE(reader.ReadLast(Query::ForTags({"x"}), &last).ok());
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->position(), 2u);
  ASSERT_TRUE(reader.ReadLast(Query::ForTypes({"C"}), &last).ok());
  EXPECT_FALSE(last.has_value());

  // A new reader sees everything.
  Reader fresh = store->NewReader();
  EXPECT_EQ(fresh.head(), 5u);
  out.clear();
  ASSERT_TRUE(fresh.Read(Query::ForTags({"x"}), {}, &out).ok());
  EXPECT_EQ(Positions(out), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(ContractVerify, HealthyStoreVerifiesOk) {
  TempDir dir;
  auto store = MustOpen(dir);
  EXPECT_TRUE(store->Verify().ok()) << "empty store";
  for (int i = 0; i < 20; ++i) {
    Event e = Ev("T" + std::to_string(i % 3), {"k:" + std::to_string(i % 4), "all"},
                 std::string(static_cast<size_t>(i) * 10, 'x'));
    if (i % 2) e.id = Uuid::Random();
    ASSERT_TRUE(store->Append({e}).ok());
  }
  Status s = store->Verify();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace opossum
