// The benchmark backends (bench/driver) do the same job: on a fixed workload
// of appends, conditional appends and queries, SQLite and LMDB give exactly
// the reads, positions and condition outcomes this store gives, so that no
// benchmark compares different work. Each backend also keeps its events
// across a close and an open, and stays gapless under concurrent appenders.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"
#include "test_util.h"

namespace opossum::bench {
namespace {

struct BackendCase {
  const char* name;
  std::unique_ptr<Backend> (*make)();
};

void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }

const BackendCase kBackends[] = {
    {"opossum", &NewOpossumBackend},
    {"sqlite", &NewSqliteBackend},
    {"lmdb", &NewLmdbBackend},
};

std::string Describe(const ReadEvent& e) {
  std::string s = std::to_string(e.position) + " " + std::string(e.type) + " [";
  std::vector<std::string> tags(e.tags.begin(), e.tags.end());
  std::sort(tags.begin(), tags.end());
  for (const auto& t : tags) s += t + ",";
  return s + "] " + std::string(e.data);
}

std::string DescribeQuery(const Query& q) {
  std::string s = "{";
  for (const auto& item : q.items) {
    s += "(";
    for (const auto& t : item.types) s += "type=" + t + " ";
    for (const auto& t : item.tags) s += "tag=" + t + " ";
    s += ")";
  }
  return s + "}";
}

// A random query over the workload's types and tags: one to three items,
// each naming types, tags or both.
Query RandomQuery(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  Query q;
  const int items = 1 + pick(3);
  for (int i = 0; i < items; ++i) {
    QueryItem item;
    const int shape = pick(3);  // 0 types, 1 tags, 2 both
    if (shape != 1) {
      for (int t = 0, n = 1 + pick(2); t < n; ++t)
        item.types.push_back("Type" + std::to_string(pick(4)));
    }
    if (shape != 0) {
      for (int t = 0, n = 1 + pick(2); t < n; ++t) {
        item.tags.push_back(pick(2) == 0 ? "x:" + std::to_string(pick(8))
                                         : "y:" + std::to_string(pick(3)));
      }
    }
    q.items.push_back(std::move(item));
  }
  return q;
}

std::vector<Event> RandomBatch(std::mt19937_64& rng, int serial) {
  std::vector<Event> batch(1 + rng() % 4);
  for (auto& e : batch) {
    e.type = "Type" + std::to_string(rng() % 4);
    const int tags = static_cast<int>(rng() % 4);
    for (int t = 0; t < tags; ++t) {
      std::string tag =
          rng() % 2 == 0 ? "x:" + std::to_string(rng() % 8) : "y:" + std::to_string(rng() % 3);
      if (std::find(e.tags.begin(), e.tags.end(), tag) == e.tags.end()) e.tags.push_back(tag);
    }
    e.data = R"({"n":)" + std::to_string(serial++) + "}";
    e.data_is_json = true;
  }
  return batch;
}

// Runs the fixed workload and returns what the backend answered, line by line.
std::vector<std::string> Transcript(Backend& b) {
  std::vector<std::string> out;
  std::mt19937_64 rng(20261127);
  int serial = 0;
  for (int round = 0; round < 150; ++round) {
    std::vector<Event> batch = RandomBatch(rng, serial);
    serial += static_cast<int>(batch.size());
    AppendResult r;
    if (rng() % 2 == 0) {
      AppendCondition c{RandomQuery(rng), std::nullopt};
      const uint64_t head = b.Head();
      const uint64_t choice = rng() % 3;  // no after, an after within the log, after beyond it
      if (choice == 1) c.after = head == 0 ? 0 : head - rng() % std::min<uint64_t>(head, 12);
      if (choice == 2) c.after = head + 5;
      r = b.Append(batch, &c);
      out.push_back("append " + DescribeQuery(c.fail_if_events_match) + " after " +
                    (c.after ? std::to_string(*c.after) : "-") + ": " +
                    (r.ok ? "ok " + std::to_string(r.last_position)
                          : "conflict " + std::to_string(r.conflict_position)));
    } else {
      r = b.Append(batch);
      out.push_back("append: " + (r.ok ? "ok " + std::to_string(r.last_position) : "conflict"));
    }
    out.push_back("head " + std::to_string(b.Head()));
  }
  std::vector<Query> queries = {Query::All(),
                                Query::ForTags({"x:1"}),
                                Query::ForTags({"x:1", "y:2"}),
                                Query::ForTypes({"Type2"}),
                                Query::ForTypes({"Type0", "Type3"}),
                                Query::Of({"Type1"}, {"y:0"}),
                                Query::ForTags({"x:9"})};
  for (int i = 0; i < 60; ++i) queries.push_back(RandomQuery(rng));
  for (const Query& q : queries) {
    const std::string name = DescribeQuery(q);
    for (uint64_t from : {uint64_t{1}, uint64_t{37}, uint64_t{400}}) {
      b.Read(q, from, [&](const ReadEvent& e) {
        out.push_back("read " + name + " from " + std::to_string(from) + ": " + Describe(e));
        return true;
      });
    }
    int seen = 0;
    b.Read(q, 1, [&](const ReadEvent& e) {
      out.push_back("read " + name + " first 3: " + std::to_string(e.position));
      return ++seen < 3;
    });
    const bool found = b.ReadLast(q, [&](const ReadEvent& e) {
      out.push_back("last " + name + ": " + Describe(e));
      return true;
    });
    if (!found) out.push_back("last " + name + ": none");
  }
  return out;
}

class BackendTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  std::unique_ptr<Backend> Make() { return GetParam().make(); }
  opossum::testing::TempDir dir_;
};

TEST_P(BackendTest, SameAnswersAsThisStore) {
  auto reference = NewOpossumBackend();
  reference->Open(dir_.path() / "reference", Durability::kBuffered);
  const std::vector<std::string> expected = Transcript(*reference);
  reference->Close();

  auto b = Make();
  b->Open(dir_.path() / "peer", Durability::kBuffered);
  const std::vector<std::string> got = Transcript(*b);
  b->Close();

  // The workload exercises both outcomes and some reads.
  EXPECT_GT(std::count_if(
                expected.begin(), expected.end(),
                [](const std::string& s) { return s.find(": conflict ") != std::string::npos; }),
            10);
  EXPECT_GT(std::count_if(expected.begin(), expected.end(),
                          [](const std::string& s) {
                            return s.find(" after ") != std::string::npos &&
                                   s.find(": ok ") != std::string::npos;
                          }),
            10);
  EXPECT_GT(expected.size(), 3000u);
  ASSERT_EQ(got.size(), expected.size()) << GetParam().name;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(got[i], expected[i]) << GetParam().name << " line " << i;
  }
}

TEST_P(BackendTest, KeepsEventsAcrossCloseAndOpen) {
  auto b = Make();
  b->Open(dir_.path() / "s", Durability::kSync);
  std::mt19937_64 rng(7);
  uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    std::vector<Event> batch = RandomBatch(rng, i * 10);
    AppendResult r = b->Append(batch);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.last_position, last + batch.size());
    last = r.last_position;
  }
  std::vector<std::string> before;
  b->Read(Query::All(), 1, [&](const ReadEvent& e) { return before.push_back(Describe(e)), true; });
  b->Close();
  b->Open(dir_.path() / "s", Durability::kSync);
  EXPECT_EQ(b->Head(), last);
  std::vector<std::string> after;
  b->Read(Query::All(), 1, [&](const ReadEvent& e) { return after.push_back(Describe(e)), true; });
  EXPECT_EQ(after, before);
  EXPECT_EQ(after.size(), last);
  // A condition sees the events from before the open.
  AppendCondition c{Query::ForTypes({"Type0", "Type1", "Type2", "Type3"}), last - 1};
  AppendResult r = b->Append(RandomBatch(rng, 999), &c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.conflict_position, last);
  EXPECT_EQ(b->Head(), last);
  b->Close();
}

TEST_P(BackendTest, ConcurrentAppendersStayGaplessAndConditionsSerialise) {
  auto b = Make();
  b->Open(dir_.path() / "c", Durability::kBuffered);
  constexpr int kThreads = 8, kAppends = 40;
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        Event e{.type = "Ev",
                .tags = {"thread:" + std::to_string(t), "round:" + std::to_string(i)},
                .data = std::to_string(t * 1000 + i)};
        // Every thread races for each round's claim: exactly one may win it.
        AppendCondition claim{Query::Of({"Claim"}, {"round:" + std::to_string(i)}), std::nullopt};
        Event c{.type = "Claim", .tags = {"round:" + std::to_string(i)}, .data = std::to_string(t)};
        if (b->Append({&c, 1}, &claim).ok) won.fetch_add(1);
        ASSERT_TRUE(b->Append({&e, 1}).ok);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(won.load(), kAppends);
  EXPECT_EQ(b->Head(), static_cast<uint64_t>(kThreads * kAppends + kAppends));
  std::vector<uint64_t> positions;
  b->Read(Query::All(), 1,
          [&](const ReadEvent& e) { return positions.push_back(e.position), true; });
  ASSERT_EQ(positions.size(), b->Head());
  for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(positions[i], i + 1);
  b->Close();
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendTest, ::testing::ValuesIn(kBackends),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace opossum::bench
