// Fault injection through the Env (tests/support/fault_env.h), in the manner of
// SQLite's and LevelDB's I/O-error and power-loss tests.
//
// I/O errors at every step: one fixed workload (create a store, appends of
// several sizes, some with conditions, one that rolls over to a new segment,
// a read, a close, a reopen and one more append) runs again and again; run N
// fails the Nth operating-system call (once, or it and every later one; EIO,
// or ENOSPC on the calls that take space), until a run completes untouched.
// After each run, with the faults gone: every call that failed reported the
// cause; the store opens, passes Verify, holds every acknowledged batch at
// its positions, holds no part of a batch whose append failed, has gapless
// positions, and accepts a new append.
//
// Power loss: the workload runs with the power going at the Nth call; each
// page written since its file's last sync is then kept, dropped or torn, and
// the machine "restarts" (new boot id). After reopening: every batch
// acknowledged in sync mode is there, no batch is there in part, positions
// are gapless, Verify passes; in buffered mode what is lost is a suffix.
#include <gtest/gtest.h>
#include <string.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fault_env.h"
#include "io/env.h"
#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::FaultEnv;

constexpr std::string_view kName = "s";

// A temporary folder on tmpfs when there is one: the runs sync a lot.
class ScratchDir {
 public:
  ScratchDir() {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "opossum-fault-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Clear() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(path_, ec)) fs::remove_all(e.path(), ec);
  }

 private:
  fs::path path_;
};

struct BatchSpec {
  std::string name;
  int count = 1;
  size_t data_size = 40;
  bool conditional = false;
};

// Event data: "<batch>/<index>/<count>/" then padding.
std::vector<Event> MakeEvents(const BatchSpec& b, int salt) {
  std::vector<Event> out;
  for (int j = 0; j < b.count; ++j) {
    Event e;
    e.type = "T" + std::to_string(salt % 2);
    e.tags = {"k:" + std::to_string(salt % 3), "b:" + b.name};
    e.data = b.name + "/" + std::to_string(j) + "/" + std::to_string(b.count) + "/";
    e.data.resize(std::max(e.data.size(), b.data_size), 'x');
    out.push_back(std::move(e));
  }
  return out;
}

struct Parsed {
  std::string batch;
  int index = 0;
  int count = 0;
};
std::optional<Parsed> ParseData(std::string_view d) {
  size_t a = d.find('/');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = d.find('/', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  size_t c = d.find('/', b + 1);
  if (c == std::string_view::npos) return std::nullopt;
  Parsed p;
  p.batch = std::string(d.substr(0, a));
  p.index = std::stoi(std::string(d.substr(a + 1, b - a - 1)));
  p.count = std::stoi(std::string(d.substr(b + 1, c - b - 1)));
  return p;
}

struct Outcome {
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> acked;  // in order
  std::set<std::string> failed;     // appends that gave an error (not a failed condition)
  std::vector<std::string> errors;  // every error status, as text
};

std::vector<BatchSpec> WorkloadBatches() {
  std::vector<BatchSpec> v;
  for (int b = 0; b < 8; ++b) {
    BatchSpec s;
    s.name = "w" + std::to_string(b);
    s.count = 1 + b % 3;
    s.conditional = b % 3 == 1;
    if (b == 5) {  // ~1.2 MB: rolls over into a second (and third) segment
      s.count = 4;
      s.data_size = 300'000;
    }
    v.push_back(s);
  }
  return v;
}

Options WorkloadOptions(Durability d) {
  Options o;
  o.durability = d;
  o.segment_size = 1 << 20;
  o.lock_timeout = std::chrono::milliseconds(200);
  return o;
}

// Runs the fixed workload; every non-OK status is recorded.
Outcome RunWorkload(const fs::path& root, Durability durability) {
  Outcome out;
  auto note = [&](const Status& s) { out.errors.push_back(s.ToString()); };
  const Options options = WorkloadOptions(durability);
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(root, kName, options, &store);
    if (!s.ok()) {
      note(s);
    } else {
      int salt = 0;
      for (const BatchSpec& b : WorkloadBatches()) {
        std::vector<Event> events = MakeEvents(b, salt++);
        std::optional<AppendCondition> cond;
        if (b.conditional) {
          cond = AppendCondition{Query::ForTags({"b:" + b.name}), store->Head()};
        }
        uint64_t last = 0;
        s = store->Append(std::span<const Event>(events), cond, &last);
        if (s.ok()) {
          out.acked.push_back({b.name, {last - events.size() + 1, last}});
        } else if (!s.IsConditionFailed()) {
          note(s);
          out.failed.insert(b.name);
        }
      }
      std::vector<EventView> all;
      s = store->Read(Query::All(), {}, &all);
      if (!s.ok()) note(s);
    }
  }
  {
    std::unique_ptr<Store> store;
    Options o = options;
    o.create_if_missing = false;
    Status s = Store::Open(root, kName, o, &store);
    if (!s.ok()) {
      if (!s.IsNotFound()) note(s);
    } else {
      std::vector<Event> events = MakeEvents({"r0", 2, 60, false}, 7);
      uint64_t last = 0;
      s = store->Append(std::span<const Event>(events), std::nullopt, &last);
      if (s.ok()) {
        out.acked.push_back({"r0", {last - 1, last}});
      } else {
        note(s);
        out.failed.insert("r0");
      }
    }
  }
  return out;
}

// "" when the store holds whole batches at gapless positions, every batch
// in `must_hold` at its positions and none of `must_lack`; else the problem.
std::string CheckStore(
    Store& store,
    const std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>>& must_hold,
    const std::set<std::string>& must_lack,
    std::map<std::string, std::pair<uint64_t, uint64_t>>* present = nullptr) {
  Status s = store.Verify();
  if (!s.ok()) return "Verify: " + s.ToString();
  std::vector<EventView> all;
  s = store.Read(Query::All(), {}, &all);
  if (!s.ok()) return "read all: " + s.ToString();
  if (all.size() != store.Head()) {
    return "read " + std::to_string(all.size()) + " events, head " + std::to_string(store.Head());
  }
  std::map<std::string, std::pair<uint64_t, uint64_t>> seen;
  for (size_t i = 0; i < all.size(); ++i) {
    const EventView& e = all[i];
    if (e.position() != i + 1)
      return "position " + std::to_string(e.position()) + " at " + std::to_string(i + 1);
    auto p = ParseData(e.data());
    if (!p) return "unreadable data at " + std::to_string(e.position());
    if (p->index == 0) {
      if (seen.count(p->batch)) return "batch " + p->batch + " twice";
      seen[p->batch] = {e.position(), e.position()};
    } else {
      auto it = seen.find(p->batch);
      if (it == seen.end() || it->second.second + 1 != e.position() ||
          static_cast<int>(e.position() - it->second.first) != p->index) {
        return "batch " + p->batch + " not contiguous at " + std::to_string(e.position());
      }
      it->second.second = e.position();
    }
    if (p->index == p->count - 1 &&
        seen[p->batch].second - seen[p->batch].first + 1 != static_cast<uint64_t>(p->count)) {
      return "batch " + p->batch + " has a wrong length";
    }
  }
  for (const auto& [name, range] : seen) {
    auto p = ParseData(all[range.second - 1].data());
    if (p->index != p->count - 1) return "batch " + name + " is there only in part";
  }
  for (const auto& [name, range] : must_hold) {
    auto it = seen.find(name);
    if (it == seen.end()) return "acknowledged batch " + name + " is missing";
    if (it->second != range) {
      return "acknowledged batch " + name + " moved: at " + std::to_string(it->second.first) +
             " instead of " + std::to_string(range.first);
    }
  }
  for (const std::string& name : must_lack) {
    if (seen.count(name)) return "batch " + name + " whose append failed is there";
  }
  if (present != nullptr) *present = seen;
  return "";
}

// After a run: the store opens (no faults now), is whole, and appends.
std::string CheckAfterRun(const fs::path& root, const Outcome& out, Durability durability) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, kName, WorkloadOptions(durability), &store);
  if (!s.ok()) return "reopen: " + s.ToString();
  std::string problem = CheckStore(*store, out.acked, out.failed);
  if (!problem.empty()) return problem;
  const uint64_t head = store->Head();
  std::vector<Event> events = MakeEvents({"after", 2, 50, false}, 1);
  uint64_t last = 0;
  s = store->Append(std::span<const Event>(events), std::nullopt, &last);
  if (!s.ok()) return "append after reopen: " + s.ToString();
  if (last != head + 2) return "append after reopen went to " + std::to_string(last);
  return "";
}

struct FaultCase {
  bool repeat;
  int error;
  FaultEnv::Kinds kinds;
};

void RunEveryStep(const FaultCase& c, Durability durability) {
  ScratchDir dir;
  FaultEnv env;
  io::ScopedEnv scoped(&env);
  const std::string cause = ::strerror(c.error);
  uint64_t n = 1;
  for (; n < 20000; ++n) {
    dir.Clear();
    env.FailAt(n, c.repeat, c.error, c.kinds);
    Outcome out = RunWorkload(dir.path(), durability);
    const bool touched = env.failures() > 0;
    const std::string failed_call = env.first_failure();
    env.ClearFaults();
    SCOPED_TRACE("failing call " + std::to_string(n) + " (" + failed_call + ")" +
                 (c.repeat ? " and every later one" : ""));
    if (!touched) {
      EXPECT_TRUE(out.errors.empty()) << out.errors.front();
      break;
    }
    for (const std::string& e : out.errors) {
      EXPECT_NE(e.find(cause), std::string::npos) << "an error without its cause: " << e;
    }
    const std::string problem = CheckAfterRun(dir.path(), out, durability);
    ASSERT_EQ(problem, "");
  }
  ASSERT_LT(n, 20000u) << "the workload never completed untouched";
  EXPECT_GT(n, 50u) << "the workload makes fewer calls than expected";
  std::printf("[ info     ] %llu failure points tried\n", static_cast<unsigned long long>(n - 1));
}

TEST(FaultInjection, IoErrorOnceAtEveryCall) {
  RunEveryStep({false, EIO, FaultEnv::kAnyCall}, Durability::kSync);
}

TEST(FaultInjection, IoErrorFromEveryCallOn) {
  RunEveryStep({true, EIO, FaultEnv::kAnyCall}, Durability::kSync);
}

TEST(FaultInjection, IoErrorOnceAtEveryCallBuffered) {
  RunEveryStep({false, EIO, FaultEnv::kAnyCall}, Durability::kBuffered);
}

TEST(FaultInjection, DiskFullOnceAtEverySpaceCall) {
  RunEveryStep({false, ENOSPC, FaultEnv::kSpaceCalls}, Durability::kSync);
}

TEST(FaultInjection, DiskFullFromEverySpaceCallOn) {
  RunEveryStep({true, ENOSPC, FaultEnv::kSpaceCalls}, Durability::kSync);
}

// Several threads append at once, so that groups of several batches are
// committed together (and fail together): every call failed in turn, once.
Outcome RunConcurrentWorkload(const fs::path& root) {
  constexpr int kThreads = 4, kAppends = 4;
  Outcome out;
  std::unique_ptr<Store> store;
  Status s = Store::Open(root, kName, WorkloadOptions(Durability::kSync), &store);
  if (!s.ok()) {
    out.errors.push_back(s.ToString());
    return out;
  }
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        BatchSpec b{"t" + std::to_string(t) + "-" + std::to_string(i), 1 + (t + i) % 3, 80,
                    i % 2 == 1};
        std::vector<Event> events = MakeEvents(b, t);
        std::optional<AppendCondition> cond;
        if (b.conditional) cond = AppendCondition{Query::ForTags({"b:" + b.name}), std::nullopt};
        uint64_t last = 0;
        Status st = store->Append(std::span<const Event>(events), cond, &last);
        std::lock_guard<std::mutex> lock(mu);
        if (st.ok()) {
          out.acked.push_back({b.name, {last - events.size() + 1, last}});
        } else {
          out.errors.push_back(st.ToString());
          out.failed.insert(b.name);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

TEST(FaultInjection, IoErrorOnceDuringConcurrentAppends) {
  ScratchDir dir;
  FaultEnv env;
  io::ScopedEnv scoped(&env);
  const std::string cause = ::strerror(EIO);
  uint64_t n = 1;
  for (; n < 20000; ++n) {
    dir.Clear();
    env.FailAt(n, false, EIO);
    Outcome out = RunConcurrentWorkload(dir.path());
    const bool touched = env.failures() > 0;
    const std::string failed_call = env.first_failure();
    env.ClearFaults();
    SCOPED_TRACE("failing call " + std::to_string(n) + " (" + failed_call + ")");
    if (!touched) break;
    for (const std::string& e : out.errors) {
      EXPECT_NE(e.find(cause), std::string::npos) << "an error without its cause: " << e;
    }
    ASSERT_EQ(CheckAfterRun(dir.path(), out, Durability::kSync), "");
  }
  ASSERT_LT(n, 20000u) << "the workload never completed untouched";
  std::printf("[ info     ] %llu failure points tried\n", static_cast<unsigned long long>(n - 1));
}

// Power loss at every call of the workload, under each page policy.
void RunPowerLoss(Durability durability) {
  ScratchDir dir;
  FaultEnv env;
  io::ScopedEnv scoped(&env);
  uint64_t points = 0, changed_pages = 0;
  const FaultEnv::CrashPolicy policies[] = {FaultEnv::CrashPolicy::kKeepAll,
                                            FaultEnv::CrashPolicy::kDropAll,
                                            FaultEnv::CrashPolicy::kRandomPages};
  for (uint64_t n = 1; n < 20000; ++n) {
    // Each call point gets one policy, in turn.
    const FaultEnv::CrashPolicy policy = policies[n % 3];
    dir.Clear();
    env.CrashAt(n);
    Outcome out = RunWorkload(dir.path(), durability);
    if (!env.crashed()) break;
    ++points;
    const uint64_t seed = n * 7919 + static_cast<uint64_t>(policy);
    changed_pages += env.ApplyCrash(policy, seed);
    SCOPED_TRACE("power lost at call " + std::to_string(n) + " (" + env.crash_point() +
                 "), policy " + std::to_string(static_cast<int>(policy)) + ", seed " +
                 std::to_string(seed));
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir.path(), kName, WorkloadOptions(durability), &store);
    if (!s.ok() && s.IsNotFound()) {
      ASSERT_TRUE(out.acked.empty()) << "the store vanished with acknowledged batches";
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::map<std::string, std::pair<uint64_t, uint64_t>> present;
    if (durability == Durability::kSync) {
      ASSERT_EQ(CheckStore(*store, out.acked, {}, &present), "");
    } else {
      // Buffered: a prefix of the acknowledged batches survives.
      ASSERT_EQ(CheckStore(*store, {}, {}, &present), "");
      bool lost = false;
      for (const auto& [name, range] : out.acked) {
        auto it = present.find(name);
        if (it == present.end()) {
          lost = true;
          continue;
        }
        ASSERT_FALSE(lost) << "batch " << name << " survived a batch acknowledged before it";
        ASSERT_EQ(it->second, range) << "batch " << name << " moved";
      }
    }
    std::vector<Event> events = MakeEvents({"after", 1, 30, false}, 0);
    uint64_t last = 0;
    ASSERT_TRUE(store->Append(std::span<const Event>(events), std::nullopt, &last).ok());
    ASSERT_EQ(last, store->Head());
  }
  EXPECT_GT(points, 50u);
  EXPECT_GT(changed_pages, 0u) << "no crash ever dropped or tore a page";
  std::printf("[ info     ] %llu power losses simulated, %llu pages dropped or torn\n",
              static_cast<unsigned long long>(points),
              static_cast<unsigned long long>(changed_pages));
}

TEST(PowerLoss, SyncModeKeepsEveryAcknowledgedBatch) { RunPowerLoss(Durability::kSync); }

TEST(PowerLoss, BufferedModeLosesAtMostASuffix) { RunPowerLoss(Durability::kBuffered); }

}  // namespace
}  // namespace opossum
