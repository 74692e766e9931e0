#include "io/file.h"

#include <string.h>

#include <chrono>
#include <thread>

namespace opossum::io {

Status ErrnoStatus(std::string_view what, const fs::path& path, int err) {
  std::string msg(what);
  msg += " ";
  msg += path.string();
  msg += ": ";
  msg += ::strerror(err);
  return Status::IOError(std::move(msg));
}

File::~File() { Close(); }

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void File::Close() {
  if (fd_ >= 0) CurrentEnv()->Close(fd_, path_);
  fd_ = -1;
}

Status File::Open(const fs::path& path, Mode mode, File* out) {
  int fd = -1;
  Status s = CurrentEnv()->Open(path, mode, &fd);
  if (!s.ok()) return s;
  out->Close();
  out->fd_ = fd;
  out->path_ = path;
  return Status::Ok();
}

Status File::PWrite(const void* data, size_t size, uint64_t offset) const {
  return CurrentEnv()->PWrite(fd_, path_, data, size, offset);
}

Status File::PWriteV(const struct iovec* iov, int count, uint64_t offset) const {
  return CurrentEnv()->PWriteV(fd_, path_, iov, count, offset);
}

Status File::PRead(void* data, size_t size, uint64_t offset) const {
  return CurrentEnv()->PRead(fd_, path_, data, size, offset);
}

Status File::DataSync() const { return CurrentEnv()->DataSync(fd_, path_); }

Status File::Sync() const { return CurrentEnv()->Sync(fd_, path_); }

Status File::Allocate(uint64_t offset, uint64_t length) const {
  return CurrentEnv()->Allocate(fd_, path_, offset, length);
}

Status File::Truncate(uint64_t size) const { return CurrentEnv()->Truncate(fd_, path_, size); }

Status File::Size(uint64_t* size) const { return CurrentEnv()->Size(fd_, path_, size); }

Mapping::Mapping() = default;
Mapping::~Mapping() = default;
Mapping::Mapping(Mapping&&) noexcept = default;
Mapping& Mapping::operator=(Mapping&&) noexcept = default;

Status Mapping::Map(const fs::path& path, uint64_t size, bool writable, Mapping* out) {
  std::unique_ptr<MappedRegion> region;
  Status s = CurrentEnv()->Map(path, size, writable, &region);
  if (!s.ok()) return s;
  out->data_ = region->data();
  out->size_ = size;
  out->region_ = std::move(region);
  out->path_ = path;
  return Status::Ok();
}

Status Mapping::Sync(uint64_t offset, uint64_t length) const {
  return CurrentEnv()->SyncMapped(path_, *region_, offset, length);
}

FileLock::FileLock() = default;
FileLock::~FileLock() = default;
FileLock::FileLock(FileLock&&) noexcept = default;
FileLock& FileLock::operator=(FileLock&&) noexcept = default;

Status FileLock::Open(const fs::path& path, bool create, FileLock* out) {
  if (create) {
    File f;
    Status s = File::Open(path, File::Mode::kCreate, &f);
    if (!s.ok()) return s;
    // Closing this descriptor is safe: no lock is held on the file yet.
  }
  Status s = CurrentEnv()->OpenLock(path, &out->handle_);
  if (s.ok()) out->path_ = path;
  return s;
}

Status FileLock::Lock(std::chrono::milliseconds timeout) {
  Env* env = CurrentEnv();
  bool acquired = false;
  Status s = env->Lock(*handle_, path_, LockOp::kTryExclusive, &acquired);
  if (!s.ok() || acquired) return s;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(pause);
    s = env->Lock(*handle_, path_, LockOp::kTryExclusive, &acquired);
    if (!s.ok() || acquired) return s;
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
  }
  return Status::Busy("the write lock " + path_.string() + " was not obtained within " +
                      std::to_string(timeout.count()) + " ms (another process is writing)");
}

Status FileLock::TryLock(bool* acquired) {
  return CurrentEnv()->Lock(*handle_, path_, LockOp::kTryExclusive, acquired);
}

Status FileLock::Unlock() {
  bool unused = false;
  return CurrentEnv()->Lock(*handle_, path_, LockOp::kUnlock, &unused);
}

Status FileLock::LockShared() {
  bool unused = false;
  return CurrentEnv()->Lock(*handle_, path_, LockOp::kShared, &unused);
}

Status FileLock::UnlockShared() {
  bool unused = false;
  return CurrentEnv()->Lock(*handle_, path_, LockOp::kUnlockShared, &unused);
}

Status FileMode(const fs::path& path, uint32_t* mode) { return CurrentEnv()->FileMode(path, mode); }

Status SetFileMode(const fs::path& path, uint32_t mode) {
  return CurrentEnv()->SetFileMode(path, mode);
}

Status SyncDir(const fs::path& dir) { return CurrentEnv()->SyncDir(dir); }

Status CreateDirs(const fs::path& dir) { return CurrentEnv()->CreateDirs(dir); }

Status ListDir(const fs::path& dir, std::vector<std::string>* names) {
  return CurrentEnv()->ListDir(dir, names);
}

Status Rename(const fs::path& from, const fs::path& to) { return CurrentEnv()->Rename(from, to); }

Status RemoveFile(const fs::path& path) { return CurrentEnv()->Remove(path); }

std::string BootId() { return CurrentEnv()->BootId(); }

Status CheckLocalFileSystem(const fs::path& dir) { return CurrentEnv()->CheckLocalFileSystem(dir); }

Status Exists(const fs::path& path, bool* exists) { return CurrentEnv()->Exists(path, exists); }

Status FileSize(const fs::path& path, uint64_t* size) { return CurrentEnv()->FileSize(path, size); }

Status AbsolutePath(const fs::path& path, fs::path* out) {
  return CurrentEnv()->AbsolutePath(path, out);
}

Status CanonicalPath(const fs::path& path, fs::path* out) {
  return CurrentEnv()->CanonicalPath(path, out);
}

void Advise(void* addr, size_t length, Advice advice) {
  // A hint: a failure leaves the memory as it was, which is correct too.
  Status ignored = CurrentEnv()->Advise(addr, length, advice);
  static_cast<void>(ignored);
}

int64_t NowNs() { return CurrentEnv()->NowNs(); }

}  // namespace opossum::io
