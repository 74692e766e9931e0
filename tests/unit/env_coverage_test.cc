// The engine asks every question about files of the io::Env (io/env.h):
// a store's whole life (open, appends small and large, reads, Verify,
// stats, close and reopen) runs under a FaultEnv that records each call by
// the Env method it went to, and the calls the Env gained for it (Exists,
// FileSize, AbsolutePath, CanonicalPath, Advise) are seen at the steps that
// make them. Then each of those kinds of call fails in turn (every call of
// it, EIO): the step that makes it reports the error (Exists, FileSize,
// AbsolutePath, and ListDir for the stats), or, for the calls whose failure
// the engine tolerates by design (CanonicalPath: the registry falls back to
// the normal path; Advise: a hint), carries on unchanged. Last, the real
// Env's new calls on their own. tools/check-os-calls.sh checks the other
// half: that no engine file but io/env_posix.cc calls the OS directly.
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fault_env.h"
#include "io/env.h"
#include "io/file.h"
#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::FaultEnv;
using ::opossum::testing::TempDir;
using ::testing::HasSubstr;

constexpr std::string_view kName = "s";

std::vector<Event> SmallEvents(int count, int salt) {
  std::vector<Event> out;
  for (int i = 0; i < count; ++i) {
    Event e;
    e.type = "T" + std::to_string(i % 3);
    e.tags = {"k:" + std::to_string(salt) + "-" + std::to_string(i)};
    e.data = "event " + std::to_string(i);
    out.push_back(std::move(e));
  }
  return out;
}

// One event of 6 MiB: its encoded batch is large enough for the huge-page
// hint (format/encoded_batch.cc asks from 4 MiB on).
std::vector<Event> LargeEvent() {
  Event e;
  e.type = "Large";
  e.tags = {"big"};
  e.data.assign(6u << 20, 'x');
  return {std::move(e)};
}

uint64_t Seen(const std::map<std::string, uint64_t>& seen, const std::string& call) {
  auto it = seen.find(call);
  return it == seen.end() ? 0 : it->second;
}

class EnvCoverageTest : public ::testing::Test {
 protected:
  fs::path StorePath() const { return dir_.path() / std::string(kName); }

  TempDir dir_;
  FaultEnv env_;
};

TEST_F(EnvCoverageTest, EveryStepOfAStoresLifeAsksTheEnv) {
  io::ScopedEnv scoped(&env_);
  std::unique_ptr<Store> store;

  // Open (creating): the path is made absolute and resolved for the
  // registry, and whether the ledger and the store folder exist is asked.
  ASSERT_TRUE(Store::Open(dir_.path(), kName, {}, &store).ok());
  auto seen = env_.seen();
  EXPECT_EQ(Seen(seen, "AbsolutePath"), 1u);
  EXPECT_EQ(Seen(seen, "CanonicalPath"), 1u);
  // The ledger before and after the open lock, the index files (on a new
  // store they are created, so their existence is asked of the Env).
  EXPECT_GE(Seen(seen, "Exists"), 3u);
  EXPECT_GE(Seen(seen, "Open"), 1u);
  EXPECT_GE(Seen(seen, "CreateDirs"), 1u);
  EXPECT_GE(Seen(seen, "SyncDir"), 1u);

  // Appends: enough small events to grow the position index past its
  // first 64 KiB (the growth asks for its pages with Advise), then one large
  // event (its buffer asks for huge pages).
  env_.ClearSeen();
  for (int b = 0; b < 10; ++b) {
    ASSERT_TRUE(store->Append(SmallEvents(1000, b)).ok());
  }
  seen = env_.seen();
  EXPECT_GE(Seen(seen, "Advise"), 1u) << "growing the index files";
  EXPECT_GE(Seen(seen, "PWriteV") + Seen(seen, "PWrite"), 10u);
  EXPECT_GE(Seen(seen, "DataSync") + Seen(seen, "Sync") + Seen(seen, "SyncMapped"), 10u);

  env_.ClearSeen();
  ASSERT_TRUE(store->Append(LargeEvent()).ok());
  EXPECT_GE(Seen(env_.seen(), "Advise"), 1u) << "the large batch's buffer";
  EXPECT_EQ(store->Head(), 10001u);

  // Read and Verify: through the maps and descriptors the Env gave.
  std::vector<EventView> events;
  ASSERT_TRUE(store->Read(Query::ForTags({"big"}), {}, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data().size(), 6u << 20);
  ASSERT_TRUE(store->Verify().ok());

  // Stats: the index folder is listed and each file's size, and the
  // ledger's, is asked of the Env.
  env_.ClearSeen();
  StoreStats stats;
  ASSERT_TRUE(store->GetStats(&stats).ok());
  seen = env_.seen();
  EXPECT_GE(Seen(seen, "ListDir"), 1u);
  std::vector<std::string> index_files;
  ASSERT_TRUE(io::PosixEnv()->ListDir(StorePath() / "index", &index_files).ok());
  ASSERT_FALSE(index_files.empty());
  EXPECT_GE(Seen(seen, "FileSize"), index_files.size() + 1);
  // The stats count what the files hold, as the file system says.
  uint64_t on_disk = fs::file_size(StorePath() / "ledger");
  for (const std::string& name : index_files)
    on_disk += fs::file_size(StorePath() / "index" / name);
  EXPECT_GT(stats.bytes_on_disk, on_disk);  // the segments come on top
  EXPECT_EQ(stats.head, 10001u);

  // Close and reopen: the existing files are found through the Env.
  store.reset();
  env_.ClearSeen();
  ASSERT_TRUE(Store::Open(dir_.path(), kName, {}, &store).ok());
  seen = env_.seen();
  EXPECT_GE(Seen(seen, "Exists"), 2u);
  EXPECT_EQ(Seen(seen, "AbsolutePath"), 1u);
  EXPECT_EQ(Seen(seen, "CanonicalPath"), 1u);
  EXPECT_EQ(store->Head(), 10001u);
  EXPECT_EQ(env_.failures(), 0u);
}

// Opens the store under a FaultEnv failing every call of `call`.
Status OpenFailing(FaultEnv& env, const fs::path& root, const std::string& call,
                   std::unique_ptr<Store>* store) {
  env.FailCall(call, EIO);
  Status s = Store::Open(root, kName, {}, store);
  return s;
}

TEST_F(EnvCoverageTest, AFailingExistsFailsTheOpen) {
  io::ScopedEnv scoped(&env_);
  for (bool created : {false, true}) {
    SCOPED_TRACE(created ? "existing store" : "new store");
    std::unique_ptr<Store> store;
    Status s = OpenFailing(env_, dir_.path(), "Exists", &store);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(::strerror(EIO)));
    EXPECT_THAT(s.message(), HasSubstr(StorePath().string()));
    EXPECT_GE(env_.failures(), 1u);
    EXPECT_EQ(store, nullptr);
    env_.ClearFaults();
    ASSERT_TRUE(Store::Open(dir_.path(), kName, {}, &store).ok());
    ASSERT_TRUE(store->Append(SmallEvents(3, 0)).ok());
  }
}

TEST_F(EnvCoverageTest, AFailingAbsolutePathFailsTheOpen) {
  io::ScopedEnv scoped(&env_);
  std::unique_ptr<Store> store;
  Status s = OpenFailing(env_, dir_.path(), "AbsolutePath", &store);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("resolve " + dir_.path().string()));
  EXPECT_THAT(s.message(), HasSubstr(::strerror(EIO)));
  EXPECT_EQ(env_.failures(), 1u);
  // Nothing was made.
  EXPECT_FALSE(fs::exists(StorePath()));
}

TEST_F(EnvCoverageTest, AFailingCanonicalPathLeavesTheRegistryItsNormalPath) {
  io::ScopedEnv scoped(&env_);
  std::unique_ptr<Store> first, second;
  ASSERT_TRUE(OpenFailing(env_, dir_.path(), "CanonicalPath", &first).ok());
  EXPECT_EQ(env_.failures(), 1u);
  EXPECT_EQ(env_.first_failure(), "resolve " + StorePath().string());
  // The same normal path again finds the same engine in the registry (one
  // per store and process), which refuses other options.
  Options buffered;
  buffered.durability = Durability::kBuffered;
  Status s = Store::Open(dir_.path(), kName, buffered, &second);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("already open in this process"));
  EXPECT_EQ(env_.failures(), 2u);
  ASSERT_TRUE(Store::Open(dir_.path(), kName, {}, &second).ok());
  ASSERT_TRUE(first->Append(SmallEvents(2, 0)).ok());
  EXPECT_EQ(second->Head(), 2u);
}

TEST_F(EnvCoverageTest, AFailingFileSizeOrListDirFailsTheStats) {
  io::ScopedEnv scoped(&env_);
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir_.path(), kName, {}, &store).ok());
  ASSERT_TRUE(store->Append(SmallEvents(5, 0)).ok());
  StoreStats good;
  ASSERT_TRUE(store->GetStats(&good).ok());
  for (const char* call : {"FileSize", "ListDir"}) {
    SCOPED_TRACE(call);
    env_.FailCall(call, EIO);
    StoreStats stats;
    Status s = store->GetStats(&stats);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(::strerror(EIO)));
    EXPECT_THAT(s.message(), HasSubstr(StorePath().string()));
    EXPECT_GE(env_.failures(), 1u);
    env_.ClearFaults();
    ASSERT_TRUE(store->GetStats(&stats).ok());
    EXPECT_EQ(stats.bytes_on_disk, good.bytes_on_disk);
  }
}

TEST_F(EnvCoverageTest, AFailingAdviceChangesNothing) {
  io::ScopedEnv scoped(&env_);
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir_.path(), kName, {}, &store).ok());
  env_.FailCall("Advise", EIO);
  for (int b = 0; b < 10; ++b) ASSERT_TRUE(store->Append(SmallEvents(1000, b)).ok());
  ASSERT_TRUE(store->Append(LargeEvent()).ok());
  EXPECT_GE(env_.failures(), 2u) << "the index growth and the large batch";
  env_.ClearFaults();
  EXPECT_EQ(store->Head(), 10001u);
  ASSERT_TRUE(store->Verify().ok());
  std::vector<EventView> events;
  ASSERT_TRUE(store->Read(Query::ForTags({"k:9-999"}), {}, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].position(), 10000u);
}

// The real Env's new calls.
TEST(PosixEnvTest, ExistsAndFileSize) {
  TempDir dir;
  io::Env* env = io::PosixEnv();
  const fs::path file = dir.path() / "f";
  bool exists = true;
  ASSERT_TRUE(env->Exists(file, &exists).ok());
  EXPECT_FALSE(exists);
  uint64_t size = 1;
  Status s = env->FileSize(file, &size);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(file.string()));

  {
    std::ofstream out(file, std::ios::binary);
    out << "12345";
  }
  ASSERT_TRUE(env->Exists(file, &exists).ok());
  EXPECT_TRUE(exists);
  ASSERT_TRUE(env->FileSize(file, &size).ok());
  EXPECT_EQ(size, 5u);
  ASSERT_TRUE(env->Exists(dir.path(), &exists).ok());
  EXPECT_TRUE(exists);
  // A file where a folder should be: nothing is there, as fs::exists says.
  ASSERT_TRUE(env->Exists(file / "below", &exists).ok());
  EXPECT_FALSE(exists);
  // A question the system cannot answer is an error, not "missing": a
  // loop of symbolic links (ELOOP), as fs::exists says too.
  fs::create_symlink(dir.path() / "b", dir.path() / "a");
  fs::create_symlink(dir.path() / "a", dir.path() / "b");
  s = env->Exists(dir.path() / "a", &exists);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr((dir.path() / "a").string()));
  EXPECT_THAT(s.message(), HasSubstr(::strerror(ELOOP)));
  s = env->FileSize(dir.path() / "a", &size);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(::strerror(ELOOP)));
}

TEST(PosixEnvTest, AbsoluteAndCanonicalPaths) {
  TempDir dir;
  io::Env* env = io::PosixEnv();
  fs::path out;
  ASSERT_TRUE(env->AbsolutePath("relative/name", &out).ok());
  EXPECT_EQ(out, fs::current_path() / "relative/name");
  ASSERT_TRUE(env->AbsolutePath(dir.path(), &out).ok());
  EXPECT_EQ(out, dir.path());
  // A symbolic link on the way is resolved; the missing rest is kept.
  const fs::path real = dir.path() / "real";
  fs::create_directory(real);
  fs::create_directory_symlink(real, dir.path() / "link");
  ASSERT_TRUE(env->CanonicalPath(dir.path() / "link" / "missing", &out).ok());
  EXPECT_EQ(out, fs::canonical(real) / "missing");
}

TEST(PosixEnvTest, AdviseReachesTheKernel) {
  io::Env* env = io::PosixEnv();
  const size_t length = size_t{4} << 20;
  void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  Status s = env->Advise(p, length, io::Advice::kPopulateWrite);
  // Headers or kernels before Linux 5.14 lack the advice (EINVAL).
  const bool populate = s.ok();
  if (!populate) {
    EXPECT_TRUE(s.IsNotSupported() || s.message().find(::strerror(EINVAL)) != std::string::npos)
        << s.ToString();
  }
  EXPECT_EQ(static_cast<uint8_t*>(p)[length - 1], 0);
  ::munmap(p, length);
  // The same advice on a range no longer mapped: the kernel's refusal
  // (ENOMEM), reported with the call and its length.
  if (populate) {
    s = env->Advise(p, length, io::Advice::kPopulateWrite);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("madvise(MADV_POPULATE_WRITE) of 4194304 bytes: " +
                                       std::string(::strerror(ENOMEM))));
  }
}

}  // namespace
}  // namespace opossum
