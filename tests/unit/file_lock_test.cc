// Unit tests of io::FileLock (engine/src/io/file.h), an OS record lock that
// belongs to the process: across processes (forked children) an exclusive
// lock excludes every other, shared locks share and exclude an exclusive
// one, LockShared turns a held exclusive lock into a shared one, Lock waits
// for a release and gives up with kBusy naming the file when its time runs
// out, and a lock dies with its process. Within one process two lock objects
// on the same file do not exclude each other (why the store opens each lock
// file once per process and serialises its own threads itself).
//
// A child reports through its exit code (0: as expected; other values say
// which check failed) and never uses GoogleTest; an alarm ends a child that
// would otherwise wait forever on a lock it should have got.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "io/file.h"
#include "test_util.h"

namespace opossum::io {
namespace {

using opossum::testing::TempDir;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr unsigned kChildAlarmSeconds = 60;

// A pipe for one byte at a time between the test and a child.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) std::abort();
  }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  void Send() const {
    const char c = 'x';
    if (::write(fds_[1], &c, 1) != 1) std::abort();
  }
  // False when the other side closed without sending.
  bool Receive() const {
    char c;
    return ::read(fds_[0], &c, 1) == 1;
  }

 private:
  int fds_[2];
};

// Forks a child that runs `body` and exits with what it returns.
pid_t Fork(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(kChildAlarmSeconds);
    ::_exit(body());
  }
  return pid;
}

// The child's exit code (128 + N when signal N ended it).
int Wait(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Runs `body` in a child and returns its exit code.
int InChild(const std::function<int()>& body) { return Wait(Fork(body)); }

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = FileLock::Open(path(), /*create=*/true, &lock_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::filesystem::path path() const { return tmp_.path() / "lock"; }

  // In a child: opens its own lock on the file and tries for the exclusive
  // lock. 0: not acquired, 1: acquired, 2: an error.
  int ChildTryExclusive() const {
    return InChild([this] {
      FileLock l;
      if (!FileLock::Open(path(), false, &l).ok()) return 2;
      bool acquired = false;
      if (!l.TryLock(&acquired).ok()) return 2;
      return acquired ? 1 : 0;
    });
  }

  TempDir tmp_;
  FileLock lock_;
};

TEST(FileLockOpenTest, CreatesTheFileOnlyWhenAsked) {
  TempDir tmp;
  const auto path = tmp.path() / "lock";
  FileLock lock;
  Status s = FileLock::Open(path, /*create=*/false, &lock);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(path.string()));
  EXPECT_FALSE(std::filesystem::exists(path));
  s = FileLock::Open(path, /*create=*/true, &lock);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(std::filesystem::exists(path));
  bool acquired = false;
  ASSERT_TRUE(lock.TryLock(&acquired).ok());
  EXPECT_TRUE(acquired);
  ASSERT_TRUE(lock.Unlock().ok());
}

TEST_F(FileLockTest, AnExclusiveLockExcludesAnotherProcess) {
  EXPECT_EQ(ChildTryExclusive(), 1);  // free
  bool acquired = false;
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  ASSERT_TRUE(acquired);
  EXPECT_EQ(ChildTryExclusive(), 0);
  ASSERT_TRUE(lock_.Unlock().ok());
  EXPECT_EQ(ChildTryExclusive(), 1);
}

TEST_F(FileLockTest, LockGivesUpWithBusyNamingTheFile) {
  bool acquired = false;
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  ASSERT_TRUE(acquired);
  EXPECT_EQ(InChild([this] {
              FileLock l;
              if (!FileLock::Open(path(), false, &l).ok()) return 2;
              Status s = l.Lock(30ms);
              if (!s.IsBusy()) return 3;
              if (s.message().find(path().string()) == std::string::npos) return 4;
              if (s.message().find("30 ms") == std::string::npos) return 5;
              return 0;
            }),
            0);
  ASSERT_TRUE(lock_.Unlock().ok());
}

TEST_F(FileLockTest, LockWaitsForARelease) {
  bool acquired = false;
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  ASSERT_TRUE(acquired);
  Pipe waiting;
  const pid_t child = Fork([&] {
    FileLock l;
    if (!FileLock::Open(path(), false, &l).ok()) return 2;
    bool got = false;
    if (!l.TryLock(&got).ok() || got) return 3;  // held by the parent now
    waiting.Send();
    // Released only after this: the wait itself must see the release.
    return l.Lock(std::chrono::seconds(kChildAlarmSeconds / 2)).ok() ? 0 : 4;
  });
  ASSERT_TRUE(waiting.Receive());
  ASSERT_TRUE(lock_.Unlock().ok());
  EXPECT_EQ(Wait(child), 0);
}

TEST_F(FileLockTest, SharedLocksShareAndExcludeAnExclusiveOne) {
  ASSERT_TRUE(lock_.LockShared().ok());
  EXPECT_EQ(ChildTryExclusive(), 0);
  EXPECT_EQ(InChild([this] {
              FileLock l;
              if (!FileLock::Open(path(), false, &l).ok()) return 2;
              // Would wait (until the alarm) if the parent's lock excluded it.
              if (!l.LockShared().ok()) return 3;
              return l.UnlockShared().ok() ? 0 : 4;
            }),
            0);
  // The child holding a shared lock keeps the parent from going exclusive.
  Pipe holding, done;
  const pid_t child = Fork([&] {
    FileLock l;
    if (!FileLock::Open(path(), false, &l).ok()) return 2;
    if (!l.LockShared().ok()) return 3;
    holding.Send();
    done.Receive();
    return 0;
  });
  ASSERT_TRUE(holding.Receive());
  ASSERT_TRUE(lock_.UnlockShared().ok());
  bool acquired = true;
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  EXPECT_FALSE(acquired);
  done.Send();
  EXPECT_EQ(Wait(child), 0);
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  EXPECT_TRUE(acquired);
  ASSERT_TRUE(lock_.Unlock().ok());
}

TEST_F(FileLockTest, LockSharedTurnsAHeldExclusiveLockShared) {
  bool acquired = false;
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  ASSERT_TRUE(acquired);
  ASSERT_TRUE(lock_.LockShared().ok());
  // Others may now share it (a child would wait until the alarm if the
  // exclusive lock were still held) but not take it whole.
  EXPECT_EQ(InChild([this] {
              FileLock l;
              if (!FileLock::Open(path(), false, &l).ok()) return 2;
              if (!l.LockShared().ok()) return 3;
              return 0;
            }),
            0);
  EXPECT_EQ(ChildTryExclusive(), 0);
  ASSERT_TRUE(lock_.UnlockShared().ok());
  EXPECT_EQ(ChildTryExclusive(), 1);
}

TEST_F(FileLockTest, ALockDiesWithItsProcess) {
  Pipe holding, never;
  const pid_t child = Fork([&] {
    FileLock l;
    if (!FileLock::Open(path(), false, &l).ok()) return 2;
    bool got = false;
    if (!l.TryLock(&got).ok() || !got) return 3;
    holding.Send();
    never.Receive();  // killed while it waits here
    return 4;
  });
  ASSERT_TRUE(holding.Receive());
  bool acquired = true;
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  EXPECT_FALSE(acquired);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(Wait(child), 128 + SIGKILL);
  ASSERT_TRUE(lock_.TryLock(&acquired).ok());
  EXPECT_TRUE(acquired);
  ASSERT_TRUE(lock_.Unlock().ok());
}

TEST_F(FileLockTest, TwoLocksInOneProcessDoNotExcludeEachOther) {
  FileLock second;
  ASSERT_TRUE(FileLock::Open(path(), false, &second).ok());
  bool first_acquired = false, second_acquired = false;
  ASSERT_TRUE(lock_.TryLock(&first_acquired).ok());
  ASSERT_TRUE(second.TryLock(&second_acquired).ok());
  EXPECT_TRUE(first_acquired);
  EXPECT_TRUE(second_acquired);  // the lock is the process's, not the object's
  // Other processes are still kept out.
  EXPECT_EQ(ChildTryExclusive(), 0);
  ASSERT_TRUE(second.Unlock().ok());
}

}  // namespace
}  // namespace opossum::io
