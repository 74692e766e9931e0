// Clang's thread-safety attributes, named for what they promise. Under clang
// with -Wthread-safety (tools/run-static-checks.sh) the compiler checks that
// every access to a GUARDED_BY member holds its mutex and that every function
// marked REQUIRES is called with the lock held; under other compilers the
// attributes vanish.
#ifndef OPOSSUM_BASE_THREAD_ANNOTATIONS_H_
#define OPOSSUM_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define OPOSSUM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OPOSSUM_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (Mutex below).
#define CAPABILITY(x) OPOSSUM_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a lock for its lifetime (MutexLock below).
#define SCOPED_CAPABILITY OPOSSUM_THREAD_ANNOTATION(scoped_lockable)
// The member may be read or written only with the lock held.
#define GUARDED_BY(x) OPOSSUM_THREAD_ANNOTATION(guarded_by(x))
// What the pointer points at may be read or written only with the lock held.
#define PT_GUARDED_BY(x) OPOSSUM_THREAD_ANNOTATION(pt_guarded_by(x))
// The function must be called with the lock(s) held.
#define REQUIRES(...) OPOSSUM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The function must be called without the lock(s) held (it takes them).
#define EXCLUDES(...) OPOSSUM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes, releases or tries to take the lock.
#define ACQUIRE(...) OPOSSUM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) OPOSSUM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) OPOSSUM_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// Locks must be taken in this order.
#define ACQUIRED_BEFORE(...) OPOSSUM_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) OPOSSUM_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// The function returns a reference to the lock.
#define RETURN_CAPABILITY(x) OPOSSUM_THREAD_ANNOTATION(lock_returned(x))
// Tells the analysis the lock is held here (checked at run time by the caller's logic).
#define ASSERT_CAPABILITY(x) OPOSSUM_THREAD_ANNOTATION(assert_capability(x))
// Turns the analysis off for one function; every use says why.
#define NO_THREAD_SAFETY_ANALYSIS OPOSSUM_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // OPOSSUM_BASE_THREAD_ANNOTATIONS_H_
