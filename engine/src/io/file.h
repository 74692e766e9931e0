// The engine's files: plain file I/O (pwrite/pread/fdatasync/fallocate),
// memory maps, OS file locks, folders and the clock. Every call goes to the
// current Env (io/env.h), the one place that talks to the operating system.
// Everything returns a Status that keeps the OS's message.
#ifndef OPOSSUM_IO_FILE_H_
#define OPOSSUM_IO_FILE_H_

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/env.h"
#include "opossum/status.h"

namespace opossum::io {

namespace fs = std::filesystem;

// "what path: strerror(errno)".
Status ErrnoStatus(std::string_view what, const fs::path& path, int err);

// An open file descriptor. Move-only; closes on destruction.
class File {
 public:
  using Mode = OpenMode;

  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // kCreate creates the file (mode 0644) when missing.
  static Status Open(const fs::path& path, Mode mode, File* out);

  bool is_open() const { return fd_ >= 0; }
  const fs::path& path() const { return path_; }

  Status PWrite(const void* data, size_t size, uint64_t offset) const;
  Status PWriteV(const struct iovec* iov, int count, uint64_t offset) const;
  Status PRead(void* data, size_t size, uint64_t offset) const;
  Status DataSync() const;
  Status Sync() const;                                      // fsync: data and all metadata
  Status Allocate(uint64_t offset, uint64_t length) const;  // posix_fallocate
  Status Truncate(uint64_t size) const;
  Status Size(uint64_t* size) const;
  void Close();

 private:
  int fd_ = -1;
  fs::path path_;
};

// A shared memory map of a file. `size` may exceed the file's current size
// (a reservation for a file that grows): touching pages beyond the end of
// the file is the caller's bug, so callers only touch published bytes.
class Mapping {
 public:
  Mapping();
  ~Mapping();
  Mapping(Mapping&&) noexcept;
  Mapping& operator=(Mapping&&) noexcept;

  static Status Map(const fs::path& path, uint64_t size, bool writable, Mapping* out);

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() const { return data_; }
  uint64_t size() const { return size_; }
  // msync(MS_SYNC) of [offset, offset+length).
  Status Sync(uint64_t offset, uint64_t length) const;

 private:
  std::unique_ptr<MappedRegion> region_;
  fs::path path_;
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// An OS advisory file lock (fcntl record lock via Boost.Interprocess).
// Such locks belong to the process: the store opens each lock file once per
// process (see the registry in store/store.cc) and serialises its own threads itself.
class FileLock {
 public:
  FileLock();
  ~FileLock();
  static Status Open(const fs::path& path, bool create, FileLock* out);
  FileLock(FileLock&&) noexcept;
  FileLock& operator=(FileLock&&) noexcept;

  // Exclusive lock, waiting at most `timeout`; kBusy when it runs out.
  Status Lock(std::chrono::milliseconds timeout);
  // Exclusive lock if free now; *acquired tells.
  Status TryLock(bool* acquired);
  // Releasing fails only for a descriptor that is not open (a defect) or a
  // fault a test injects. Callers on close and error paths ignore it: the
  // lock goes with the descriptor at the latest, when this object dies.
  Status Unlock();
  // Shared lock (also converts a held exclusive lock to shared).
  Status LockShared();
  Status UnlockShared();  // as Unlock

 private:
  std::unique_ptr<LockHandle> handle_;
  fs::path path_;
};

// The permission bits of the file at `path` (st_mode & 07777), and chmod.
// Segments lose their write bits once full (Options::write_protect_segments).
Status FileMode(const fs::path& path, uint32_t* mode);
Status SetFileMode(const fs::path& path, uint32_t mode);
// fsync of a folder, so that files created in it survive a power loss.
Status SyncDir(const fs::path& dir);
// Creates the folder (and parents) with mode 0755.
Status CreateDirs(const fs::path& dir);
// Names of the regular files in `dir`.
Status ListDir(const fs::path& dir, std::vector<std::string>* names);
// Atomically replaces `to` with `from`.
Status Rename(const fs::path& from, const fs::path& to);
// Removes a file; a missing one is not an error.
Status RemoveFile(const fs::path& path);
// The kernel's boot id: it changes when the machine restarts, which tells a
// process crash (page cache intact) from a power loss or reboot.
std::string BootId();
// Refuses folders on network file systems (NFS, SMB, ...).
Status CheckLocalFileSystem(const fs::path& dir);
// Whether anything is at `path` (a missing entry is not an error).
Status Exists(const fs::path& path, bool* exists);
// The size of the file at `path`; kNotFound when it is missing.
Status FileSize(const fs::path& path, uint64_t* size);
// `path` made absolute against the current folder.
Status AbsolutePath(const fs::path& path, fs::path* out);
// `path` with the symbolic links of its existing part resolved.
Status CanonicalPath(const fs::path& path, fs::path* out);
// Advice on a range of memory. A hint: the kernel may ignore it, and the
// engine works the same when it fails, so nothing is returned.
void Advise(void* addr, size_t length, Advice advice);
// Wall-clock time, nanoseconds since the Unix epoch.
int64_t NowNs();

}  // namespace opossum::io

#endif  // OPOSSUM_IO_FILE_H_
