// Env: every operation the engine asks of the operating system about files
// (descriptors, reads and writes, syncs, space, maps, locks, folders,
// renames and removals, permissions, whether a file is there and its size,
// making a path absolute or resolving its symbolic links), about memory
// (advice on a map or a buffer: madvise) and about the machine (boot id,
// clock) passes through one interface. The engine uses the process's
// current Env; PosixEnv, the real one, is the default. Tests install another
// (a fault-injecting one that fails chosen calls, or keeps unsynced writes
// apart to simulate a power loss) with ScopedEnv.
//
// What counts as such an operation: anything that asks the kernel about
// the file system or the process's memory maps. Pure path arithmetic
// (fs::path's operator/, lexically_normal, filename) asks nothing and needs
// no Env. Left out on purpose, because no file and no test fault depends on
// them: memory allocation (malloc, and loading the allocator's shared
// library with dlopen, base/alloc.cc), the random seed of new ids, threads,
// and the monotonic clock and sleeps that pace waiting for a lock.
// The test check_os_calls (tools/check-os-calls.sh) fails when a file
// other than io/env_posix.cc makes such a call directly.
//
// The calls mirror the system calls one to one; the io classes in file.h
// build on them (retries on EINTR, short writes and error messages live
// here, in the real implementation, so that every Env reports the same
// way). The cost on the real path is one virtual call per system call.
#ifndef OPOSSUM_IO_ENV_H_
#define OPOSSUM_IO_ENV_H_

#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "opossum/status.h"

namespace opossum::io {

namespace fs = std::filesystem;

// How a file is opened. kCreate creates it (mode 0644) when missing.
enum class OpenMode { kReadOnly, kReadWrite, kCreate };

// What a lock call does (see FileLock in file.h).
enum class LockOp { kTryExclusive, kUnlock, kShared, kUnlockShared };

// Advice on a range of memory (madvise). Hints: the kernel may ignore them.
enum class Advice {
  kHugePages,      // MADV_HUGEPAGE: back the range with transparent huge pages
  kPopulateWrite,  // MADV_POPULATE_WRITE: fault the range in, writable, now
};

// A mapped range of a file; unmapped when destroyed.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 protected:
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// An OS advisory lock on a file (held by the process; see FileLock).
class LockHandle {
 public:
  virtual ~LockHandle() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // Descriptors. Every call names the file's path for its error message.
  virtual Status Open(const fs::path& path, OpenMode mode, int* fd) = 0;
  virtual void Close(int fd, const fs::path& path) = 0;
  virtual Status PWrite(int fd, const fs::path& path, const void* data, size_t size,
                        uint64_t offset) = 0;
  virtual Status PWriteV(int fd, const fs::path& path, const struct iovec* iov, int count,
                         uint64_t offset) = 0;
  virtual Status PRead(int fd, const fs::path& path, void* data, size_t size, uint64_t offset) = 0;
  virtual Status DataSync(int fd, const fs::path& path) = 0;  // fdatasync
  virtual Status Sync(int fd, const fs::path& path) = 0;      // fsync
  virtual Status Allocate(int fd, const fs::path& path, uint64_t offset,
                          uint64_t length) = 0;  // posix_fallocate
  virtual Status Truncate(int fd, const fs::path& path, uint64_t size) = 0;
  virtual Status Size(int fd, const fs::path& path, uint64_t* size) = 0;

  // Shared maps. `size` may exceed the file (a reservation for growth).
  virtual Status Map(const fs::path& path, uint64_t size, bool writable,
                     std::unique_ptr<MappedRegion>* out) = 0;
  // msync(MS_SYNC) of [offset, offset + length) of a region of `path`.
  virtual Status SyncMapped(const fs::path& path, const MappedRegion& region, uint64_t offset,
                            uint64_t length) = 0;

  // Locks (fcntl record locks: they belong to the process).
  virtual Status OpenLock(const fs::path& path, std::unique_ptr<LockHandle>* out) = 0;
  // *acquired is set for kTryExclusive (the others block or just release).
  virtual Status Lock(LockHandle& lock, const fs::path& path, LockOp op, bool* acquired) = 0;

  // Folders and names.
  virtual Status SyncDir(const fs::path& dir) = 0;
  virtual Status CreateDirs(const fs::path& dir) = 0;
  virtual Status ListDir(const fs::path& dir, std::vector<std::string>* names) = 0;
  virtual Status Rename(const fs::path& from, const fs::path& to) = 0;
  virtual Status Remove(const fs::path& path) = 0;  // a missing file is not an error
  virtual Status FileMode(const fs::path& path, uint32_t* mode) = 0;
  virtual Status SetFileMode(const fs::path& path, uint32_t mode) = 0;
  virtual Status CheckLocalFileSystem(const fs::path& dir) = 0;
  // Whether anything is at `path`, following symbolic links (stat, as
  // fs::exists): a missing entry is *exists = false, not an error.
  virtual Status Exists(const fs::path& path, bool* exists) = 0;
  // The size of the file at `path` (stat); kNotFound when it is missing.
  virtual Status FileSize(const fs::path& path, uint64_t* size) = 0;
  // `path` made absolute against the current folder (fs::absolute: getcwd).
  virtual Status AbsolutePath(const fs::path& path, fs::path* out) = 0;
  // `path` with the symbolic links of its existing part resolved
  // (fs::weakly_canonical: realpath).
  virtual Status CanonicalPath(const fs::path& path, fs::path* out) = 0;

  // Memory: advice on [addr, addr + length), a range of a map or of a
  // buffer (madvise). kNotSupported when this system lacks the advice.
  virtual Status Advise(void* addr, size_t length, Advice advice) = 0;

  // The machine.
  virtual std::string BootId() = 0;
  virtual int64_t NowNs() = 0;  // wall clock, ns since the Unix epoch
};

// The real one (a process-wide singleton).
Env* PosixEnv();

// The Env the engine uses now (PosixEnv unless a test installed another).
Env* CurrentEnv();

// Installs `env` for the whole process while it lives, then puts the
// previous one back. For tests: no store may be open across the change.
class ScopedEnv {
 public:
  explicit ScopedEnv(Env* env);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  Env* previous_;
};

}  // namespace opossum::io

#endif  // OPOSSUM_IO_ENV_H_
