// Must NOT compile under clang -Wthread-safety -Werror: it reads and writes a
// guarded member without its lock and calls a REQUIRES function unlocked.
// tools/run-static-checks.sh compiles it and fails if the compiler accepts it,
// which proves that the engine's annotations are checked at all.
#include "base/mutex.h"

namespace {

class Counter {
 public:
  void Good() {
    opossum::base::MutexLock lock(&mu_);
    ++n_;
    BumpLocked();
  }
  int Bad() {
    ++n_;          // written without mu_
    BumpLocked();  // called without mu_
    return n_;
  }

 private:
  void BumpLocked() REQUIRES(mu_) { ++n_; }

  opossum::base::Mutex mu_;
  int n_ GUARDED_BY(mu_) = 0;
};

}  // namespace

int main() {
  Counter c;
  c.Good();
  return c.Bad();
}
