// The engine's mutex: std::mutex with the thread-safety attributes the
// standard library's does not carry, so that clang can check the locking
// rules written next to each guarded member (base/thread_annotations.h).
#ifndef OPOSSUM_BASE_MUTEX_H_
#define OPOSSUM_BASE_MUTEX_H_

#include <mutex>

#include "base/thread_annotations.h"

namespace opossum::base {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // For the analysis only: the caller knows the lock is held.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

  // BasicLockable, so that std::unique_lock and std::condition_variable_any
  // can hold it.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex from construction to destruction.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace opossum::base

#endif  // OPOSSUM_BASE_MUTEX_H_
