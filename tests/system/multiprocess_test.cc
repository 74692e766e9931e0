// Multi-process tests: forked children open one store (each after the fork;
// the parent never holds the store open across a fork) and append with
// conditions, some contested on a shared tag. The parent checks what they
// left: gapless positions, whole contiguous batches, conditions that held
// (a counter with no lost or doubled update), and that one process's Head,
// reads and conditions see the other's appends without reopening.
#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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

constexpr std::string_view kStoreName = "shared";
constexpr std::string_view kBatchPrefix = "batch:";

// Exit codes of the children; each names the first thing that went wrong.
enum ChildExit : int {
  kChildOk = 0,
  kOpenFailed = 10,
  kReadFailed = 11,
  kAppendFailed = 12,
  kDisjointConditionFailed = 13,
  kBadConflictPosition = 14,
  kBadData = 15,
  kHeadDoesNotSeeOtherProcess = 16,
  kReadDoesNotSeeOtherProcess = 17,
  kConditionMissedOtherProcess = 18,
  kPipeFailed = 19,
  kGaveUp = 20,
  kUnexpectedPosition = 21,
};

std::string ChildExitName(int code) {
  switch (code) {
    case kChildOk:
      return "ok";
    case kOpenFailed:
      return "Store::Open failed";
    case kReadFailed:
      return "a read failed";
    case kAppendFailed:
      return "an Append failed with an unexpected status";
    case kDisjointConditionFailed:
      return "an append on the child's own tag hit a condition";
    case kBadConflictPosition:
      return "conflicting_position() not after the condition's `after`";
    case kBadData:
      return "an event's data could not be parsed";
    case kHeadDoesNotSeeOtherProcess:
      return "Head() did not reflect the other process's append";
    case kReadDoesNotSeeOtherProcess:
      return "a read did not see the other process's append";
    case kConditionMissedOtherProcess:
      return "a condition did not see the other process's matching event";
    case kPipeFailed:
      return "pipe read/write failed";
    case kGaveUp:
      return "too many attempts";
    case kUnexpectedPosition:
      return "an append returned an unexpected position";
    default:
      return "exit code " + std::to_string(code);
  }
}

// Forks a child that runs `body` and leaves with its result through _exit
// (no destructors, no atexit handlers, no flushing of the parent's buffers).
pid_t Spawn(const std::function<int()>& body, unsigned alarm_seconds = 30) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(alarm_seconds);  // a hung child dies (SIGALRM) instead of hanging the test
    int code = body();
    ::_exit(code);
  }
  return pid;
}

// Waits for `pid`; "" when it exited 0, else what happened.
std::string WaitChild(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return "waitpid failed";
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    return code == 0 ? std::string() : "child exited: " + ChildExitName(code);
  }
  if (WIFSIGNALED(status)) return "child killed by signal " + std::to_string(WTERMSIG(status));
  return "child status " + std::to_string(status);
}

Status OpenStore(const TempDir& dir, std::unique_ptr<Store>* out, bool read_only = false) {
  Options o;
  o.read_only = read_only;
  return Store::Open(dir.path(), kStoreName, o, out);
}

void CreateStore(const TempDir& dir) {
  std::unique_ptr<Store> store;
  Status s = OpenStore(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
}  // closed again before any fork

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Event data is "k/j/v": batch size, index in the batch, counter value.
struct Payload {
  uint64_t k = 0, j = 0, v = 0;
};
std::optional<Payload> ParsePayload(std::string_view data) {
  size_t a = data.find('/');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = data.find('/', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto k = ParseU64(data.substr(0, a));
  auto j = ParseU64(data.substr(a + 1, b - a - 1));
  auto v = ParseU64(data.substr(b + 1));
  if (!k || !j || !v) return std::nullopt;
  return Payload{*k, *j, *v};
}

std::vector<Event> MakeBatch(const std::string& name, uint64_t k, uint64_t value,
                             const std::vector<std::string>& tags) {
  std::vector<Event> events;
  for (uint64_t j = 0; j < k; ++j) {
    Event e;
    e.type = "Appended";
    e.tags = tags;
    e.tags.push_back(std::string(kBatchPrefix) + name);
    e.data = std::to_string(k) + "/" + std::to_string(j) + "/" + std::to_string(value);
    events.push_back(std::move(e));
  }
  return events;
}

// "" when the snapshot holds positions 1..head() exactly, every batch whole
// and contiguous, events of a batch in order; else the first problem.
std::string CheckSnapshot(const Reader& snap) {
  const uint64_t head = snap.head();
  std::string problem;
  uint64_t expect = 1;
  std::string open_batch;
  uint64_t open_k = 0, open_seen = 0;
  std::map<std::string, int> finished;
  Status s = snap.ForEach(Query::All(), {}, [&](const EventView& v) {
    if (v.position() != expect) {
      problem =
          "expected position " + std::to_string(expect) + ", got " + std::to_string(v.position());
      return false;
    }
    ++expect;
    auto p = ParsePayload(v.data());
    std::string tag = TagWithPrefix(v, kBatchPrefix);
    if (!p || tag.empty()) {
      problem = "bad event at " + std::to_string(v.position());
      return false;
    }
    if (p->j == 0) {
      if (open_seen != open_k) {
        problem = "batch " + open_batch + " interrupted at " + std::to_string(v.position());
        return false;
      }
      if (finished.count(tag)) {
        problem = "batch " + tag + " appears twice";
        return false;
      }
      open_batch = tag;
      open_k = p->k;
      open_seen = 0;
    } else if (tag != open_batch || p->j != open_seen) {
      problem = "event " + std::to_string(p->j) + " of " + tag + " out of place at " +
                std::to_string(v.position());
      return false;
    }
    ++open_seen;
    if (open_seen == open_k) finished[open_batch] = 1;
    return true;
  });
  if (!s.ok()) return "ForEach: " + s.ToString();
  if (!problem.empty()) return problem + " (snapshot head " + std::to_string(head) + ")";
  if (expect - 1 != head) {
    return "snapshot at head " + std::to_string(head) + " saw " + std::to_string(expect - 1) +
           " events";
  }
  if (open_seen != open_k) {
    return "snapshot at head " + std::to_string(head) + " saw " + std::to_string(open_seen) +
           " of the " + std::to_string(open_k) + " events of " + open_batch;
  }
  return {};
}

// ---------------------------------------------------------------------------

// Each child increments a shared counter: read the last event tagged
// "counter", append a batch carrying value + 1 with the condition {counter,
// after = that position}, retry on conflict. Each also makes decisions on its
// own tag, which nobody contests. The parent watches through a read-only
// handle while they run (opened after the children have opened theirs, and
// before they start: see ReadOnlyOpenFirstDoesNotBlockAWriter for the other
// order).
TEST(MultiProcessAppend, CounterAcrossProcessesLosesNoUpdate) {
  constexpr int kChildren = 4;
  constexpr uint64_t kIncrements = 25;
  TempDir dir;
  CreateStore(dir);
  int opened[2], go[2];
  ASSERT_EQ(::pipe(opened), 0);
  ASSERT_EQ(::pipe(go), 0);

  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(Spawn([&dir, &opened, &go, c]() -> int {
      ::close(opened[0]);
      ::close(go[1]);
      std::unique_ptr<Store> store;
      if (!OpenStore(dir, &store).ok()) return kOpenFailed;
      char byte = 'o';
      if (::write(opened[1], &byte, 1) != 1) return kPipeFailed;
      if (::read(go[0], &byte, 1) != 0) return kPipeFailed;  // EOF: the parent says go
      const std::string proc = "proc:" + std::to_string(c);
      const std::string own = "own:" + std::to_string(c);
      uint64_t own_last = 0;
      uint64_t done = 0;
      for (int attempt = 0; done < kIncrements; ++attempt) {
        if (attempt > 20000) return kGaveUp;
        std::optional<EventView> last;
        if (!store->ReadLast(Query::ForTags({"counter"}), &last).ok()) return kReadFailed;
        uint64_t value = 0;
        if (last) {
          auto p = ParsePayload(last->data());
          if (!p) return kBadData;
          value = p->v;
        }
        uint64_t k = 1 + (done + static_cast<uint64_t>(c)) % 3;
        auto events = MakeBatch("c" + std::to_string(c) + "-" + std::to_string(done), k, value + 1,
                                {"counter", proc});
        AppendCondition cond{Query::ForTags({"counter"}), std::nullopt};
        if (last) cond.after = last->position();
        uint64_t pos = 0;
        Status s = store->Append(std::span<const Event>(events), cond, &pos);
        if (s.IsConditionFailed()) {
          if (last && s.conflicting_position() <= last->position()) return kBadConflictPosition;
          continue;
        }
        if (!s.ok()) return kAppendFailed;
        ++done;

        // An uncontested decision on this child's own tag.
        auto mine = MakeBatch("o" + std::to_string(c) + "-" + std::to_string(done), 1, 0, {own});
        AppendCondition own_cond{Query::ForTags({own}), std::nullopt};
        if (own_last) own_cond.after = own_last;
        s = store->Append(std::span<const Event>(mine), own_cond, &own_last);
        if (s.IsConditionFailed()) return kDisjointConditionFailed;
        if (!s.ok()) return kAppendFailed;
      }
      return kChildOk;
    }));
    ASSERT_GT(pids.back(), 0) << "fork failed";
  }

  ::close(opened[1]);
  ::close(go[0]);
  // Wait until every child has the store open (or has died).
  for (int c = 0; c < kChildren; ++c) {
    char byte = 0;
    if (::read(opened[0], &byte, 1) != 1) break;
  }
  ::close(opened[0]);

  // Watch while the children run: every snapshot whole, heads never falling.
  std::vector<std::string> watch_problems;
  uint64_t snapshots = 0;
  {
    std::unique_ptr<Store> watcher;
    Status s = OpenStore(dir, &watcher, /*read_only=*/true);
    EXPECT_TRUE(s.ok()) << s.ToString();
    ::close(go[1]);  // the children start
    uint64_t previous = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (watcher && std::chrono::steady_clock::now() < deadline) {
      bool any_alive = false;
      for (pid_t pid : pids) {
        siginfo_t info{};
        // WNOWAIT: leave the child to WaitChild; si_pid stays 0 while it runs.
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == 0) {
          any_alive = true;
        }
      }
      Reader snap = watcher->NewReader();
      if (snap.head() < previous) watch_problems.push_back("head fell");
      previous = snap.head();
      std::string p = CheckSnapshot(snap);
      if (!p.empty() && watch_problems.size() < 10) watch_problems.push_back(p);
      ++snapshots;
      if (!any_alive) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  for (int c = 0; c < kChildren; ++c) {
    EXPECT_EQ(WaitChild(pids[c]), "") << "child " << c;
  }
  for (const std::string& p : watch_problems) ADD_FAILURE() << "read-only watcher: " << p;
  std::fprintf(stderr, "[ info     ] watcher checked %llu snapshots\n",
               static_cast<unsigned long long>(snapshots));

  std::unique_ptr<Store> store;
  Status s = OpenStore(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckSnapshot(store->NewReader()), "");

  // The counter: batches along the tag carry 1..N, each value once, in order.
  std::vector<EventView> counter;
  ASSERT_TRUE(store->Read(Query::ForTags({"counter"}), {}, &counter).ok());
  uint64_t expected_value = 0;
  uint64_t counter_events = 0;
  std::map<std::string, uint64_t> per_proc;
  for (const EventView& v : counter) {
    auto p = ParsePayload(v.data());
    ASSERT_TRUE(p.has_value()) << v.data();
    if (p->j == 0) {
      ++expected_value;
      for (int c = 0; c < kChildren; ++c) {
        if (v.HasTag("proc:" + std::to_string(c))) ++per_proc["proc:" + std::to_string(c)];
      }
    }
    EXPECT_EQ(p->v, expected_value) << "counter value at position " << v.position();
    counter_events += 1;
  }
  EXPECT_EQ(expected_value, kChildren * kIncrements);
  for (int c = 0; c < kChildren; ++c) {
    EXPECT_EQ(per_proc["proc:" + std::to_string(c)], kIncrements) << "child " << c;
    std::vector<EventView> own;
    ASSERT_TRUE(store->Read(Query::ForTags({"own:" + std::to_string(c)}), {}, &own).ok());
    EXPECT_EQ(own.size(), kIncrements) << "child " << c;
  }
  EXPECT_EQ(store->Head(), counter_events + kChildren * kIncrements);
  EXPECT_TRUE(store->Verify().ok());
}

// Reads and writes a uint64_t through a pipe.
bool Send(int fd, uint64_t v) { return ::write(fd, &v, sizeof v) == sizeof v; }
bool Receive(int fd, uint64_t* v) { return ::read(fd, v, sizeof *v) == sizeof *v; }

// Two processes with the store open at the same time, taking turns: each
// one's Head(), reads and conditions must see the other's appends without
// reopening.
TEST(MultiProcessVisibility, HeadReadsAndConditionsSeeTheOtherProcess) {
  TempDir dir;
  CreateStore(dir);
  int a_to_b[2], b_to_a[2];
  ASSERT_EQ(::pipe(a_to_b), 0);
  ASSERT_EQ(::pipe(b_to_a), 0);
  const Query shared = Query::ForTags({"shared"});

  pid_t a = Spawn([&]() -> int {
    ::close(a_to_b[0]);
    ::close(b_to_a[1]);
    std::unique_ptr<Store> store;
    if (!OpenStore(dir, &store).ok()) return kOpenFailed;
    // A's view before B writes anything.
    std::optional<EventView> stale;
    if (!store->ReadLast(shared, &stale).ok()) return kReadFailed;
    if (stale.has_value() || store->Head() != 0) return kUnexpectedPosition;
    if (!Send(a_to_b[1], 1)) return kPipeFailed;  // A is open and has read

    uint64_t b_last = 0;
    if (!Receive(b_to_a[0], &b_last)) return kPipeFailed;  // B appended 1..3
    if (b_last != 3) return kUnexpectedPosition;
    if (store->Head() != 3) return kHeadDoesNotSeeOtherProcess;
    std::vector<EventView> seen;
    if (!store->Read(shared, {}, &seen).ok()) return kReadFailed;
    if (seen.size() != 3) return kReadDoesNotSeeOtherProcess;
    std::optional<EventView> last;
    if (!store->ReadLast(shared, &last).ok()) return kReadFailed;
    if (!last || last->position() != 3) return kReadDoesNotSeeOtherProcess;

    // Deciding on the stale view must fail, naming one of B's events.
    Status s = store->Append({MakeBatch("a-stale", 1, 0, {"shared"})[0]},
                             AppendCondition{shared, std::nullopt});
    if (!s.IsConditionFailed()) return kConditionMissedOtherProcess;
    if (s.conflicting_position() < 1 || s.conflicting_position() > 3) return kBadConflictPosition;
    s = store->Append({MakeBatch("a-stale2", 1, 0, {"shared"})[0]}, AppendCondition{shared, 2});
    if (!s.IsConditionFailed()) return kConditionMissedOtherProcess;
    if (s.conflicting_position() != 3) return kBadConflictPosition;
    // Deciding on the fresh view succeeds.
    uint64_t pos = 0;
    s = store->Append({MakeBatch("a-fresh", 1, 0, {"shared"})[0]}, AppendCondition{shared, 3},
                      &pos);
    if (!s.ok()) return kAppendFailed;
    if (pos != 4) return kUnexpectedPosition;
    if (!Send(a_to_b[1], pos)) return kPipeFailed;
    return kChildOk;
  });
  ASSERT_GT(a, 0);

  pid_t b = Spawn([&]() -> int {
    ::close(a_to_b[1]);
    ::close(b_to_a[0]);
    std::unique_ptr<Store> store;
    if (!OpenStore(dir, &store).ok()) return kOpenFailed;
    uint64_t msg = 0;
    if (!Receive(a_to_b[0], &msg)) return kPipeFailed;  // A is open and has read
    auto batch = MakeBatch("b-1", 3, 0, {"shared"});
    uint64_t pos = 0;
    Status s =
        store->Append(std::span<const Event>(batch), AppendCondition{shared, std::nullopt}, &pos);
    if (!s.ok()) return kAppendFailed;
    if (pos != 3) return kUnexpectedPosition;
    if (!Send(b_to_a[1], pos)) return kPipeFailed;

    if (!Receive(a_to_b[0], &msg)) return kPipeFailed;  // A appended 4
    if (msg != 4) return kUnexpectedPosition;
    if (store->Head() != 4) return kHeadDoesNotSeeOtherProcess;
    std::optional<EventView> last;
    if (!store->ReadLast(shared, &last).ok()) return kReadFailed;
    if (!last || last->position() != 4) return kReadDoesNotSeeOtherProcess;
    s = store->Append({MakeBatch("b-stale", 1, 0, {"shared"})[0]}, AppendCondition{shared, 3});
    if (!s.IsConditionFailed()) return kConditionMissedOtherProcess;
    if (s.conflicting_position() != 4) return kBadConflictPosition;
    // The next position after another process's append.
    s = store->Append({MakeBatch("b-2", 1, 0, {"other"})[0]}, std::nullopt, &pos);
    if (!s.ok()) return kAppendFailed;
    if (pos != 5) return kUnexpectedPosition;
    return kChildOk;
  });
  ASSERT_GT(b, 0);
  for (int fd : {a_to_b[0], a_to_b[1], b_to_a[0], b_to_a[1]}) ::close(fd);

  EXPECT_EQ(WaitChild(a), "") << "child A";
  EXPECT_EQ(WaitChild(b), "") << "child B";

  std::unique_ptr<Store> store;
  Status s = OpenStore(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(store->Head(), 5u);
  EXPECT_EQ(CheckSnapshot(store->NewReader()), "");
  std::vector<EventView> all;
  ASSERT_TRUE(store->Read(Query::All(), {}, &all).ok());
  std::vector<std::string> order;
  for (const EventView& v : all) order.push_back(TagWithPrefix(v, kBatchPrefix));
  EXPECT_EQ(order, (std::vector<std::string>{"batch:b-1", "batch:b-1", "batch:b-1", "batch:a-fresh",
                                             "batch:b-2"}));
}

// A read-only handle opened while no other process has the store open must
// not keep a writer in another process from opening it ("readers take no
// lock"), and must see that writer's appends.
TEST(MultiProcessVisibility, ReadOnlyOpenFirstDoesNotBlockAWriter) {
  TempDir dir;
  CreateStore(dir);
  int r_to_w[2], w_to_r[2];
  ASSERT_EQ(::pipe(r_to_w), 0);
  ASSERT_EQ(::pipe(w_to_r), 0);

  pid_t reader = Spawn(
      [&]() -> int {
        ::close(r_to_w[0]);
        ::close(w_to_r[1]);
        std::unique_ptr<Store> store;
        if (!OpenStore(dir, &store, /*read_only=*/true).ok()) return kOpenFailed;
        if (store->Head() != 0) return kUnexpectedPosition;
        if (!Send(r_to_w[1], 1)) return kPipeFailed;  // the read-only handle is open
        uint64_t last = 0;
        if (!Receive(w_to_r[0], &last)) return kPipeFailed;  // the writer appended
        if (store->Head() != last) return kHeadDoesNotSeeOtherProcess;
        std::vector<EventView> all;
        if (!store->Read(Query::All(), {}, &all).ok()) return kReadFailed;
        if (all.size() != last) return kReadDoesNotSeeOtherProcess;
        return kChildOk;
      },
      10);
  ASSERT_GT(reader, 0);
  pid_t writer = Spawn(
      [&]() -> int {
        ::close(r_to_w[1]);
        ::close(w_to_r[0]);
        uint64_t msg = 0;
        if (!Receive(r_to_w[0], &msg)) return kPipeFailed;
        std::unique_ptr<Store> store;
        if (!OpenStore(dir, &store).ok()) return kOpenFailed;
        uint64_t last = 0;
        if (!store->Append(std::span<const Event>(MakeBatch("w", 2, 0, {"w"})), std::nullopt, &last)
                 .ok()) {
          return kAppendFailed;
        }
        if (last != 2) return kUnexpectedPosition;
        if (!Send(w_to_r[1], last)) return kPipeFailed;
        return kChildOk;
      },
      5);
  ASSERT_GT(writer, 0);
  for (int fd : {r_to_w[0], r_to_w[1], w_to_r[0], w_to_r[1]}) ::close(fd);
  EXPECT_EQ(WaitChild(writer), "")
      << "the writer (killed by signal 14 = SIGALRM means it hung for 5 s, e.g. in "
         "Store::Open behind the read-only handle's lock)";
  EXPECT_EQ(WaitChild(reader), "") << "the read-only reader";

  std::unique_ptr<Store> store;
  Status s = OpenStore(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(store->Head(), 2u);
}

// Children open a store that does not exist yet, all at once, then race to
// write the first event of a tag (exactly one may) and append batches.
TEST(MultiProcessAppend, ChildrenCreatingOneStoreTogether) {
  constexpr int kChildren = 3;
  constexpr int kBatches = 15;
  TempDir dir;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(Spawn([&, c]() -> int {
      ::close(go[1]);
      char byte = 0;
      if (::read(go[0], &byte, 1) != 0) return kPipeFailed;  // EOF: everyone forked
      std::unique_ptr<Store> store;
      if (!OpenStore(dir, &store).ok()) return kOpenFailed;
      Status s = store->Append({MakeBatch("first-" + std::to_string(c), 1, 0, {"first"})[0]},
                               AppendCondition{Query::ForTags({"first"}), std::nullopt});
      if (!s.ok() && !s.IsConditionFailed()) return kAppendFailed;
      for (int b = 0; b < kBatches; ++b) {
        uint64_t k = 1 + static_cast<uint64_t>(b + c) % 4;
        auto batch = MakeBatch("p" + std::to_string(c) + "-" + std::to_string(b), k, 0,
                               {"proc:" + std::to_string(c)});
        if (!store->Append(std::span<const Event>(batch)).ok()) return kAppendFailed;
      }
      return kChildOk;
    }));
    ASSERT_GT(pids.back(), 0);
  }
  ::close(go[0]);
  ::close(go[1]);  // releases the children together
  for (int c = 0; c < kChildren; ++c) EXPECT_EQ(WaitChild(pids[c]), "") << "child " << c;

  std::unique_ptr<Store> store;
  Status s = OpenStore(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckSnapshot(store->NewReader()), "");
  std::vector<EventView> first;
  ASSERT_TRUE(store->Read(Query::ForTags({"first"}), {}, &first).ok());
  EXPECT_EQ(first.size(), 1u) << "exactly one child may write the first event";
  uint64_t expected = 1;
  for (int c = 0; c < kChildren; ++c) {
    for (int b = 0; b < kBatches; ++b) expected += 1 + static_cast<uint64_t>(b + c) % 4;
  }
  EXPECT_EQ(store->Head(), expected);
  EXPECT_TRUE(store->Verify().ok());
}

// Opens (read-only and writable, in turn) while a writer in another process
// appends: every open must succeed and see a consistent store. The writer grows the position index,
// the postings and the key table (new tags all the time) and indexes each
// group just before committing it; an open that read those files and the
// ledger in the wrong order took a moving writer for damaged indexes.
TEST(MultiProcessVisibility, OpensWhileAnotherProcessAppends) {
  TempDir dir;
  CreateStore(dir);
  constexpr uint64_t kAppends = 20000;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const std::string done = (dir.path() / "writer-done").string();
  pid_t writer = Spawn(
      [&]() -> int {
        ::close(go[0]);
        Options o;
        o.durability = Durability::kBuffered;
        std::unique_ptr<Store> store;
        if (!Store::Open(dir.path(), kStoreName, o, &store).ok()) return kOpenFailed;
        if (!Send(go[1], 1)) return kPipeFailed;
        for (uint64_t i = 0; i < kAppends; ++i) {
          auto batch = MakeBatch("w" + std::to_string(i), 1 + i % 3, i, {"n:" + std::to_string(i)});
          if (!store->Append(std::span<const Event>(batch)).ok()) return kAppendFailed;
        }
        store.reset();
        std::FILE* f = std::fopen(done.c_str(), "w");
        if (f != nullptr) std::fclose(f);
        return kChildOk;
      },
      60);
  ASSERT_GT(writer, 0);
  ::close(go[1]);
  pid_t reader = Spawn(
      [&]() -> int {
        uint64_t msg = 0;
        if (!Receive(go[0], &msg)) return kPipeFailed;  // the writer has the store open
        uint64_t last_head = 0;
        for (int opens = 0; opens < 200000; ++opens) {
          const bool finished = std::filesystem::exists(done);
          std::unique_ptr<Store> store;
          const bool read_only = opens % 2 == 0;
          Status s = OpenStore(dir, &store, read_only);
          if (!s.ok()) {
            std::fprintf(stderr, "%s open %d: %s\n", read_only ? "read-only" : "writable", opens,
                         s.ToString().c_str());
            return kOpenFailed;
          }
          const uint64_t head = store->Head();
          if (head < last_head) return kUnexpectedPosition;
          last_head = head;
          std::vector<EventView> tagged;
          const uint64_t n = head == 0 ? 0 : (head * 7919) % kAppends;
          s = store->Read(Query::ForTags({"n:" + std::to_string(n)}), {}, &tagged);
          if (!s.ok()) {
            std::fprintf(stderr, "read after open %d: %s\n", opens, s.ToString().c_str());
            return kReadFailed;
          }
          if (finished) {
            std::fprintf(stderr, "[ info     ] %d opens while the writer appended %llu events\n",
                         opens, static_cast<unsigned long long>(head));
            break;
          }
        }
        return kChildOk;
      },
      60);
  ASSERT_GT(reader, 0);
  ::close(go[0]);
  EXPECT_EQ(WaitChild(writer), "") << "the writer";
  EXPECT_EQ(WaitChild(reader), "") << "the opener (its stderr names the failure)";

  std::unique_ptr<Store> store;
  Status s = OpenStore(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CheckSnapshot(store->NewReader()), "");
  EXPECT_TRUE(store->Verify().ok());
}

}  // namespace
}  // namespace opossum
