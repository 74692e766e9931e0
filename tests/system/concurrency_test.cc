// Concurrency tests: many threads of one process appending with conditions
// on contested and disjoint consistency boundaries while readers take
// snapshots. Checked: exactly one winner per contested decision, no lost
// update, gapless positions, contiguous batches, and snapshots that never
// show part of a batch or anything beyond their head.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

using ::opossum::testing::TagWithPrefix;
using ::opossum::testing::TempDir;
using ::opossum::testing::TestSeed;

constexpr std::string_view kBatchPrefix = "batch:";

std::unique_ptr<Store> MustOpen(const TempDir& dir, Durability durability = Durability::kSync) {
  Options o;
  o.durability = durability;
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path(), "concurrency", o, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// An event of a batch of k: tags {extra..., "batch:<name>"}, data "k/j".
std::vector<Event> MakeBatch(const std::string& batch_name, size_t k,
                             const std::vector<std::string>& extra_tags,
                             std::string type = "Batched") {
  std::vector<Event> events;
  for (size_t j = 0; j < k; ++j) {
    Event e;
    e.type = type;
    e.tags = extra_tags;
    e.tags.push_back(std::string(kBatchPrefix) + batch_name);
    e.data = std::to_string(k) + "/" + std::to_string(j);
    events.push_back(std::move(e));
  }
  return events;
}

// k and j from an event's "k/j" or "k/j/value" data.
bool ParseKJ(std::string_view data, uint64_t* k, uint64_t* j) {
  size_t slash = data.find('/');
  if (slash == std::string_view::npos) return false;
  size_t end = data.find('/', slash + 1);
  if (end == std::string_view::npos) end = data.size();
  auto pk = ParseU64(data.substr(0, slash));
  auto pj = ParseU64(data.substr(slash + 1, end - slash - 1));
  if (!pk || !pj) return false;
  *k = *pk;
  *j = *pj;
  return true;
}

// What an appender knows about a batch it committed.
struct Committed {
  std::string batch_tag;
  uint64_t k = 0;
  uint64_t last = 0;
};

// Positions 1..Head gapless; every committed batch contiguous, complete, in
// order and ending where Append said; no event that nobody committed.
// The batches of several threads (one list each) as one list.
std::vector<Committed> Flatten(const std::vector<std::vector<Committed>>& per_thread) {
  std::vector<Committed> all;
  for (const auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  return all;
}

void ExpectGaplessAndContiguous(const Store& store, const std::vector<Committed>& committed) {
  uint64_t total = 0;
  for (const Committed& c : committed) total += c.k;
  EXPECT_EQ(store.Head(), total);
  std::vector<EventView> all;
  Status s = store.Read(Query::All(), {}, &all);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(all.size(), total);
  std::map<std::string, std::vector<const EventView*>> by_batch;
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].position(), i + 1) << "positions must be gapless from 1";
    by_batch[TagWithPrefix(all[i], kBatchPrefix)].push_back(&all[i]);
  }
  EXPECT_EQ(by_batch.count(""), 0u) << "event without a batch tag";
  EXPECT_EQ(by_batch.size(), committed.size()) << "batches in store vs committed";
  for (const Committed& c : committed) {
    SCOPED_TRACE(c.batch_tag);
    auto it = by_batch.find(c.batch_tag);
    ASSERT_NE(it, by_batch.end()) << "committed batch missing";
    const auto& events = it->second;
    ASSERT_EQ(events.size(), c.k);
    EXPECT_EQ(events.back()->position(), c.last) << "Append's last position";
    for (size_t j = 0; j < events.size(); ++j) {
      EXPECT_EQ(events[j]->position(), events[0]->position() + j) << "batch not contiguous";
      uint64_t k = 0, jj = 0;
      ASSERT_TRUE(ParseKJ(events[j]->data(), &k, &jj)) << events[j]->data();
      EXPECT_EQ(k, c.k);
      EXPECT_EQ(jj, j) << "batch order";
    }
  }
}

// Records the first few problems seen by worker threads (which must not
// return early: they share barriers).
class Problems {
 public:
  void Add(std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    if (list_.size() < 20) list_.push_back(std::move(what));
  }
  void ExpectNone() {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(count_, 0u) << "problems seen by worker threads";
    for (const std::string& p : list_) ADD_FAILURE() << p;
  }

 private:
  std::mutex mu_;
  size_t count_ = 0;
  std::vector<std::string> list_;
};

// ---------------------------------------------------------------------------

// Every round all threads read the last event tagged "contested" (the same
// one: the round before has finished), then all append with the condition
// {tag contested, after = what they read}: exactly one may win. Each thread
// then makes a decision on its own tag, which must always succeed.
TEST(ConcurrencyAppend, ContestedRoundsHaveExactlyOneWinnerDisjointAllSucceed) {
  const uint64_t seed = TestSeed();
  constexpr int kThreads = 16;
  constexpr int kRounds = 40;
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);

  struct Attempt {
    uint64_t read_position = 0;  // 0: none
    Status status;
    uint64_t first = 0, last = 0;  // when ok
    Committed committed;
  };
  std::vector<std::vector<Attempt>> contested(kThreads, std::vector<Attempt>(kRounds));
  std::vector<std::vector<Committed>> committed(kThreads);
  Problems problems;
  std::barrier sync(kThreads);

  auto worker = [&](int t) {
    std::mt19937_64 rng(seed + static_cast<uint64_t>(t));
    const std::string own = "own:" + std::to_string(t);
    for (int r = 0; r < kRounds; ++r) {
      sync.arrive_and_wait();  // the previous round has finished
      std::optional<EventView> last;
      Status s = store->ReadLast(Query::ForTags({"contested"}), &last);
      if (!s.ok()) problems.Add("ReadLast: " + s.ToString());
      Attempt& a = contested[t][r];
      a.read_position = last ? last->position() : 0;
      sync.arrive_and_wait();  // everyone has read

      size_t k = 1 + rng() % 3;
      std::string name = "c-" + std::to_string(t) + "-" + std::to_string(r);
      auto events = MakeBatch(name, k, {"contested"});
      AppendCondition cond{Query::ForTags({"contested"}), std::nullopt};
      if (last) cond.after = last->position();
      uint64_t pos = 0;
      a.status = store->Append(std::span<const Event>(events), cond, &pos);
      if (a.status.ok()) {
        a.first = pos - k + 1;
        a.last = pos;
        committed[t].push_back({std::string(kBatchPrefix) + name, k, pos});
      } else if (!a.status.IsConditionFailed()) {
        problems.Add("contested append: " + a.status.ToString());
      }

      // A disjoint decision: nobody else writes this thread's tag.
      std::optional<EventView> mine;
      s = store->ReadLast(Query::ForTags({own}), &mine);
      if (!s.ok()) problems.Add("ReadLast own: " + s.ToString());
      size_t k2 = 1 + rng() % 2;
      std::string name2 = "d-" + std::to_string(t) + "-" + std::to_string(r);
      auto events2 = MakeBatch(name2, k2, {own}, "Own");
      AppendCondition cond2{Query::ForTags({own}), std::nullopt};
      if (mine) cond2.after = mine->position();
      s = store->Append(std::span<const Event>(events2), cond2, &pos);
      if (s.ok()) {
        committed[t].push_back({std::string(kBatchPrefix) + name2, k2, pos});
      } else {
        problems.Add("disjoint append on " + own + " failed: " + s.ToString());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  problems.ExpectNone();

  for (int r = 0; r < kRounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r));
    int winners = 0;
    const Attempt* winner = nullptr;
    for (int t = 0; t < kThreads; ++t) {
      EXPECT_EQ(contested[t][r].read_position, contested[0][r].read_position)
          << "all threads read the same last event";
      if (contested[t][r].status.ok()) {
        ++winners;
        winner = &contested[t][r];
      }
    }
    EXPECT_EQ(winners, 1) << "exactly one winner per contested round";
    if (winner == nullptr) continue;
    EXPECT_GT(winner->first, winner->read_position);
    for (int t = 0; t < kThreads; ++t) {
      const Attempt& a = contested[t][r];
      if (!a.status.IsConditionFailed()) continue;
      // The only events tagged "contested" after what was read are the winner's.
      EXPECT_GE(a.status.conflicting_position(), winner->first) << a.status.ToString();
      EXPECT_LE(a.status.conflicting_position(), winner->last) << a.status.ToString();
    }
  }
  const std::vector<Committed> all = Flatten(committed);
  EXPECT_EQ(all.size(), static_cast<size_t>(kRounds + kThreads * kRounds));
  ExpectGaplessAndContiguous(*store, all);
  EXPECT_TRUE(store->Verify().ok());
}

// All threads race to be the first to write a tag (condition without
// `after`): whether the batches land in one group commit or not, exactly one
// may win, and the losers name the winner's event.
TEST(ConcurrencyAppend, SimultaneousFirstWritesOfATagHaveOneWinner) {
  constexpr int kThreads = 32;
  constexpr int kRounds = 30;
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  std::vector<std::vector<Status>> results(kThreads, std::vector<Status>(kRounds));
  std::vector<std::vector<uint64_t>> lasts(kThreads, std::vector<uint64_t>(kRounds, 0));
  std::barrier sync(kThreads);
  auto worker = [&](int t) {
    for (int r = 0; r < kRounds; ++r) {
      sync.arrive_and_wait();
      std::string tag = "unique:" + std::to_string(r);
      auto events = MakeBatch("u-" + std::to_string(t) + "-" + std::to_string(r), 1, {tag});
      results[t][r] =
          store->Append(std::span<const Event>(events),
                        AppendCondition{Query::ForTags({tag}), std::nullopt}, &lasts[t][r]);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();

  std::vector<Committed> committed;
  for (int r = 0; r < kRounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r));
    int winners = 0;
    uint64_t winner_pos = 0;
    for (int t = 0; t < kThreads; ++t) {
      const Status& s = results[t][r];
      EXPECT_TRUE(s.ok() || s.IsConditionFailed()) << s.ToString();
      if (s.ok()) {
        ++winners;
        winner_pos = lasts[t][r];
        committed.push_back(
            {std::string(kBatchPrefix) + "u-" + std::to_string(t) + "-" + std::to_string(r), 1,
             lasts[t][r]});
      }
    }
    EXPECT_EQ(winners, 1);
    for (int t = 0; t < kThreads; ++t) {
      if (results[t][r].IsConditionFailed()) {
        EXPECT_EQ(results[t][r].conflicting_position(), winner_pos);
      }
    }
    std::vector<EventView> tagged;
    ASSERT_TRUE(store->Read(Query::ForTags({"unique:" + std::to_string(r)}), {}, &tagged).ok());
    EXPECT_EQ(tagged.size(), 1u);
  }
  ExpectGaplessAndContiguous(*store, committed);
}

// All threads append the same batch of ids at once (so that copies may land
// in one group commit): it is written once, and every thread gets its last
// position.
TEST(ConcurrencyAppend, SameIdsFromManyThreadsAreWrittenOnce) {
  constexpr int kThreads = 16;
  constexpr int kRounds = 20;
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  std::vector<std::vector<Event>> batches;
  for (int r = 0; r < kRounds; ++r) {
    auto batch = MakeBatch("same-" + std::to_string(r), 1 + r % 3, {"same"});
    for (Event& e : batch) e.id = Uuid::Random();
    batches.push_back(std::move(batch));
  }
  std::vector<std::vector<Status>> results(kThreads, std::vector<Status>(kRounds));
  std::vector<std::vector<uint64_t>> lasts(kThreads, std::vector<uint64_t>(kRounds, 0));
  std::barrier sync(kThreads);
  auto worker = [&](int t) {
    for (int r = 0; r < kRounds; ++r) {
      sync.arrive_and_wait();
      // Half the threads also carry a condition that fails once a copy exists.
      std::optional<AppendCondition> cond;
      if (t % 2)
        cond = AppendCondition{
            Query::ForTags({std::string(kBatchPrefix) + "same-" + std::to_string(r)}),
            std::nullopt};
      results[t][r] = store->Append(std::span<const Event>(batches[r]), cond, &lasts[t][r]);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();

  std::vector<Committed> committed;
  for (int r = 0; r < kRounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r));
    for (int t = 0; t < kThreads; ++t) {
      EXPECT_TRUE(results[t][r].ok()) << "thread " << t << ": " << results[t][r].ToString();
      EXPECT_EQ(lasts[t][r], lasts[0][r]) << "thread " << t;
    }
    committed.push_back(
        {std::string(kBatchPrefix) + "same-" + std::to_string(r), batches[r].size(), lasts[0][r]});
  }
  ExpectGaplessAndContiguous(*store, committed);
}

// A counter without barriers: read the last "counter" event, append its
// value + 1 with the condition after that position, retry on conflict. With
// no lost update the values along the tag are exactly 1..N.
TEST(ConcurrencyAppend, UnsynchronizedCounterLosesNoUpdate) {
  const uint64_t seed = TestSeed();
  constexpr int kThreads = 16;
  constexpr int kIncrementsPerThread = 10;
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  Problems problems;
  std::vector<std::vector<Committed>> committed(kThreads);
  std::atomic<uint64_t> conflicts{0};
  auto worker = [&](int t) {
    std::mt19937_64 rng(seed ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(t + 1)));
    int done = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int attempt = 0; done < kIncrementsPerThread && attempt < 100000; ++attempt) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::optional<EventView> last;
      Status s = store->ReadLast(Query::ForTags({"counter"}), &last);
      if (!s.ok()) {
        problems.Add("ReadLast: " + s.ToString());
        return;
      }
      uint64_t value = 0;
      if (last) {
        std::string_view data = last->data();
        auto v = ParseU64(data.substr(data.rfind('/') + 1));  // npos + 1 == 0
        if (!v) {
          problems.Add("bad counter data: " + std::string(last->data()));
          return;
        }
        value = *v;
      }
      if (rng() % 4 == 0) std::this_thread::yield();
      Event e;
      e.type = "Incremented";
      std::string name = "n-" + std::to_string(t) + "-" + std::to_string(done);
      e.tags = {"counter", std::string(kBatchPrefix) + name};
      e.data = "1/0/" + std::to_string(value + 1);  // a batch of one
      AppendCondition cond{Query::ForTags({"counter"}), std::nullopt};
      if (last) cond.after = last->position();
      uint64_t pos = 0;
      s = store->Append({e}, cond, &pos);
      if (s.ok()) {
        committed[t].push_back({std::string(kBatchPrefix) + name, 1, pos});
        ++done;
      } else if (s.IsConditionFailed()) {
        conflicts.fetch_add(1);
        if (last && s.conflicting_position() <= last->position()) {
          problems.Add("conflicting position " + std::to_string(s.conflicting_position()) +
                       " not after " + std::to_string(last->position()));
        }
      } else {
        problems.Add("Append: " + s.ToString());
        return;
      }
    }
    if (done < kIncrementsPerThread) {
      problems.Add("thread " + std::to_string(t) + " gave up after " + std::to_string(done) +
                   " increments (100000 attempts or 20 s)");
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  problems.ExpectNone();
  std::fprintf(stderr, "[ info     ] %llu condition conflicts\n",
               static_cast<unsigned long long>(conflicts.load()));

  std::vector<EventView> counter;
  ASSERT_TRUE(store->Read(Query::ForTags({"counter"}), {}, &counter).ok());
  ASSERT_EQ(counter.size(), static_cast<size_t>(kThreads * kIncrementsPerThread));
  for (size_t i = 0; i < counter.size(); ++i) {
    EXPECT_EQ(counter[i].data(), "1/0/" + std::to_string(i + 1))
        << "at position " << counter[i].position();
  }
  const std::vector<Committed> all = Flatten(committed);
  ExpectGaplessAndContiguous(*store, all);
}

// Writers append batches of 1..8 events (each batch with its own tag and its
// size in every event) with conditions on their own tags; readers take
// snapshots all the while. A snapshot must see every event up to its head,
// nothing beyond it, and each batch whole or not at all.
TEST(ConcurrencyRead, SnapshotsNeverSeePartOfABatchOrBeyondTheirHead) {
  const uint64_t seed = TestSeed();
  constexpr int kWriters = 8;
  constexpr int kBatchesPerWriter = 60;
  constexpr int kReaders = 3;
  TempDir dir;
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  Problems problems;
  std::vector<std::vector<Committed>> committed(kWriters);
  std::atomic<int> writers_left{kWriters};
  std::atomic<uint64_t> snapshots{0};

  auto writer = [&](int w) {
    std::mt19937_64 rng(seed + 1000 + static_cast<uint64_t>(w));
    const std::string own = "writer:" + std::to_string(w);
    uint64_t my_last = 0;
    for (int b = 0; b < kBatchesPerWriter; ++b) {
      size_t k = 1 + rng() % 8;
      std::string name = std::to_string(w) + "-" + std::to_string(b);
      auto events = MakeBatch(name, k, {own, "any"});
      AppendCondition cond{Query::ForTags({own}), std::nullopt};
      if (my_last) cond.after = my_last;
      uint64_t pos = 0;
      Status s = store->Append(std::span<const Event>(events), cond, &pos);
      if (!s.ok()) {
        problems.Add("writer " + own + ": " + s.ToString());
        continue;
      }
      my_last = pos;
      committed[w].push_back({std::string(kBatchPrefix) + name, k, pos});
    }
    writers_left.fetch_sub(1);
  };

  auto reader = [&](int rd) {
    std::mt19937_64 rng(seed + 2000 + static_cast<uint64_t>(rd));
    uint64_t previous_head = 0;
    // At least one pass after the writers finish.
    for (bool last_pass = false; !last_pass;) {
      last_pass = writers_left.load() == 0;
      Reader snap = store->NewReader();
      const uint64_t head = snap.head();
      if (head < previous_head) {
        problems.Add("head went back from " + std::to_string(previous_head) + " to " +
                     std::to_string(head));
      }
      previous_head = head;
      if (store->Head() < head) problems.Add("Store::Head() below a snapshot's head");

      // Full scan: 1..head exactly, batches whole.
      std::map<std::string, std::pair<uint64_t, uint64_t>> seen;  // tag -> (count, k)
      uint64_t expect_pos = 1;
      bool ok = true;
      Status s = snap.ForEach(Query::All(), {}, [&](const EventView& v) {
        if (v.position() != expect_pos) {
          problems.Add("snapshot at head " + std::to_string(head) + ": expected position " +
                       std::to_string(expect_pos) + ", got " + std::to_string(v.position()));
          ok = false;
          return false;
        }
        ++expect_pos;
        uint64_t k = 0, j = 0;
        if (!ParseKJ(v.data(), &k, &j)) {
          problems.Add("bad data " + std::string(v.data()));
          ok = false;
          return false;
        }
        auto& entry = seen[TagWithPrefix(v, kBatchPrefix)];
        ++entry.first;
        entry.second = k;
        return true;
      });
      if (!s.ok()) problems.Add("ForEach: " + s.ToString());
      if (ok && expect_pos - 1 != head) {
        problems.Add("snapshot at head " + std::to_string(head) + " saw " +
                     std::to_string(expect_pos - 1) + " events");
      }
      for (const auto& [tag, ck] : seen) {
        if (ck.first != ck.second) {
          problems.Add("snapshot at head " + std::to_string(head) + " saw " +
                       std::to_string(ck.first) + " of the " + std::to_string(ck.second) +
                       " events of " + tag);
        }
      }

      // Filtered and backwards reads agree with the head.
      std::optional<EventView> last;
      s = snap.ReadLast(Query::All(), &last);
      if (!s.ok()) problems.Add("ReadLast: " + s.ToString());
      if (head == 0 ? last.has_value() : (!last || last->position() != head)) {
        problems.Add("ReadLast(All) in a snapshot at head " + std::to_string(head) + " gave " +
                     (last ? std::to_string(last->position()) : std::string("none")));
      }
      std::vector<EventView> newest;
      s = snap.Read(Query::ForTags({"any"}), ReadOptions{.backwards = true, .limit = 5}, &newest);
      if (!s.ok()) problems.Add("Read backwards: " + s.ToString());
      for (size_t i = 0; i < newest.size(); ++i) {
        if (newest[i].position() != head - i) {
          problems.Add("backwards read at head " + std::to_string(head) + " gave position " +
                       std::to_string(newest[i].position()) + " at index " + std::to_string(i));
          break;
        }
      }
      if (!newest.empty()) {
        std::string tag = TagWithPrefix(newest[0], kBatchPrefix);
        std::vector<EventView> batch;
        s = snap.Read(Query::ForTags({tag}), {}, &batch);
        uint64_t k = 0, j = 0;
        if (!s.ok() || !ParseKJ(newest[0].data(), &k, &j) || batch.size() != k) {
          problems.Add("tag read of newest batch " + tag + " gave " + std::to_string(batch.size()) +
                       " events, want " + std::to_string(k));
        }
        for (const EventView& v : batch) {
          if (v.position() > head) problems.Add("tag read beyond the snapshot's head");
        }
      }
      // A writer's own tag, from a random position.
      std::vector<EventView> own;
      uint64_t from = head == 0 ? 1 : 1 + rng() % head;
      s = snap.Read(Query::ForTags({"writer:" + std::to_string(rng() % kWriters)}),
                    ReadOptions{.from = from}, &own);
      if (!s.ok()) problems.Add("Read own: " + s.ToString());
      for (const EventView& v : own) {
        if (v.position() > head || v.position() < from) {
          problems.Add("read from " + std::to_string(from) + " in snapshot at head " +
                       std::to_string(head) + " gave position " + std::to_string(v.position()));
          break;
        }
      }
      snapshots.fetch_add(1);
    }
  };

  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) threads.emplace_back(reader, r);
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  for (auto& th : threads) th.join();
  std::fprintf(stderr, "[ info     ] %llu snapshots checked\n",
               static_cast<unsigned long long>(snapshots.load()));
  problems.ExpectNone();
  EXPECT_GT(snapshots.load(), static_cast<uint64_t>(kReaders));

  const std::vector<Committed> all = Flatten(committed);
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kBatchesPerWriter));
  ExpectGaplessAndContiguous(*store, all);
  EXPECT_TRUE(store->Verify().ok());
}

// Many threads appending without conditions, in buffered mode, with
// batches of random sizes: positions stay gapless and batches contiguous.
TEST(ConcurrencyAppend, UnconditionalBatchesStayGaplessAndContiguous) {
  const uint64_t seed = TestSeed();
  constexpr int kThreads = 64;
  constexpr int kBatchesPerThread = 15;
  TempDir dir;
  auto store = MustOpen(dir, Durability::kBuffered);
  ASSERT_NE(store, nullptr);
  Problems problems;
  std::vector<std::vector<Committed>> committed(kThreads);
  auto worker = [&](int t) {
    std::mt19937_64 rng(seed + 3000 + static_cast<uint64_t>(t));
    for (int b = 0; b < kBatchesPerThread; ++b) {
      size_t k = 1 + rng() % 12;
      std::string name = "x-" + std::to_string(t) + "-" + std::to_string(b);
      auto events = MakeBatch(name, k, {});
      uint64_t pos = 0;
      Status s = store->Append(std::span<const Event>(events), std::nullopt, &pos);
      if (!s.ok()) {
        problems.Add(s.ToString());
        continue;
      }
      committed[t].push_back({std::string(kBatchPrefix) + name, k, pos});
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  problems.ExpectNone();
  const std::vector<Committed> all = Flatten(committed);
  ExpectGaplessAndContiguous(*store, all);
}

// The whole public surface at once, for the thread sanitizer as much as for
// the assertions: appenders fill several small segments (each segment change
// maps a new file) and add thousands of distinct tags (the key table is
// replaced by larger ones, and the postings file grows), while other threads
// Verify, GetStats, Sync, read by tag and by type, and open and close more
// handles of the same store (one engine, shared).
TEST(ConcurrencyRead, VerifyStatsSyncAndReopenBesideGrowingAppends) {
  const uint64_t seed = TestSeed();
  constexpr int kWriters = 4;
  constexpr int kBatchesPerWriter = 60;
  constexpr size_t kEventsPerBatch = 6;
  TempDir dir;
  Options o;
  o.durability = Durability::kBuffered;
  o.segment_size = 1ull << 20;  // the smallest: the log crosses several
  std::unique_ptr<Store> store;
  Status open = Store::Open(dir.path(), "concurrency", o, &store);
  ASSERT_TRUE(open.ok()) << open.ToString();
  Problems problems;
  std::vector<std::vector<Committed>> committed(kWriters);
  std::atomic<int> writers_left{kWriters};
  std::atomic<uint64_t> checks{0};
  // The tag of the newest event each writer committed ("" before the first).
  std::mutex newest_mu;
  std::vector<std::pair<std::string, uint64_t>> newest(kWriters);

  auto writer = [&](int w) {
    std::mt19937_64 rng(seed + 3000 + static_cast<uint64_t>(w));
    for (int b = 0; b < kBatchesPerWriter; ++b) {
      std::string name = std::to_string(w) + "-" + std::to_string(b);
      auto events = MakeBatch(name, kEventsPerBatch, {}, "Type" + std::to_string(rng() % 5));
      for (size_t j = 0; j < events.size(); ++j) {
        events[j].tags.push_back("unique:" + name + "-" + std::to_string(j));
        events[j].data += "/" + std::string(1500 + rng() % 1000, 'x');
      }
      uint64_t pos = 0;
      Status s = store->Append(std::span<const Event>(events), std::nullopt, &pos);
      if (!s.ok()) {
        problems.Add("writer " + std::to_string(w) + ": " + s.ToString());
        continue;
      }
      committed[w].push_back({std::string(kBatchPrefix) + name, kEventsPerBatch, pos});
      std::lock_guard<std::mutex> lock(newest_mu);
      newest[w] = {"unique:" + name + "-" + std::to_string(kEventsPerBatch - 1), pos};
    }
    writers_left.fetch_sub(1);
  };

  // Verify, statistics, Sync and reads by tag and type, until the writers
  // are done (and once more after).
  auto checker = [&] {
    uint64_t previous_head = 0;
    for (bool last_pass = false; !last_pass;) {
      last_pass = writers_left.load() == 0;
      Status s = store->Verify();
      if (!s.ok()) problems.Add("Verify: " + s.ToString());
      StoreStats stats;
      s = store->GetStats(&stats);
      if (!s.ok()) problems.Add("GetStats: " + s.ToString());
      if (stats.head < previous_head) problems.Add("GetStats: the head went back");
      previous_head = stats.head;
      if (stats.distinct_types > 5) {
        problems.Add("GetStats: " + std::to_string(stats.distinct_types) + " types");
      }
      if (!(s = store->Sync()).ok()) problems.Add("Sync: " + s.ToString());
      std::vector<std::pair<std::string, uint64_t>> tags;
      {
        std::lock_guard<std::mutex> lock(newest_mu);
        tags = newest;
      }
      Reader snap = store->NewReader();
      for (const auto& [tag, pos] : tags) {
        if (tag.empty()) continue;
        std::vector<EventView> found;
        s = snap.Read(Query::ForTags({tag}), {}, &found);
        if (!s.ok() || found.size() != 1 || found[0].position() != pos) {
          problems.Add("tag " + tag + ": " + s.ToString() + ", " + std::to_string(found.size()) +
                       " events, want position " + std::to_string(pos));
        }
      }
      std::optional<EventView> last;
      s = snap.ReadLast(Query::ForTypes({"Type0", "Type1", "Type2", "Type3", "Type4"}), &last);
      if (!s.ok() || (snap.head() > 0 && (!last || last->position() != snap.head()))) {
        problems.Add("ReadLast by type at head " + std::to_string(snap.head()) + ": " +
                     s.ToString());
      }
      checks.fetch_add(1);
    }
  };

  // More handles of the same store come and go (they share its engine); each
  // reads the newest events through its own Reader.
  auto reopener = [&] {
    for (bool last_pass = false; !last_pass;) {
      last_pass = writers_left.load() == 0;
      std::unique_ptr<Store> other;
      Status s = Store::Open(dir.path(), "concurrency", o, &other);
      if (!s.ok()) {
        problems.Add("second Open: " + s.ToString());
        continue;
      }
      Reader snap = other->NewReader();
      std::vector<EventView> tail;
      s = snap.Read(Query::All(), ReadOptions{.backwards = true, .limit = 20}, &tail);
      if (!s.ok()) problems.Add("second handle's read: " + s.ToString());
      for (size_t i = 0; i < tail.size(); ++i) {
        if (tail[i].position() != snap.head() - i) {
          problems.Add("second handle's read gave position " + std::to_string(tail[i].position()) +
                       " at index " + std::to_string(i) + " under head " +
                       std::to_string(snap.head()));
          break;
        }
      }
    }
  };

  std::vector<std::thread> threads;
  threads.emplace_back(checker);
  threads.emplace_back(reopener);
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  for (auto& th : threads) th.join();
  std::fprintf(stderr, "[ info     ] %llu rounds of checks\n",
               static_cast<unsigned long long>(checks.load()));
  problems.ExpectNone();

  const std::vector<Committed> all = Flatten(committed);
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kBatchesPerWriter));
  ExpectGaplessAndContiguous(*store, all);
  StoreStats stats;
  ASSERT_TRUE(store->GetStats(&stats).ok());
  EXPECT_GE(stats.segments, 3u) << "the log should have crossed segments";
  // A tag of its own for each event, and one for each batch.
  EXPECT_EQ(stats.distinct_tags, all.size() * (kEventsPerBatch + 1));
  EXPECT_EQ(stats.distinct_types, 5u);
  EXPECT_TRUE(store->Verify().ok());
}

}  // namespace
}  // namespace opossum
