#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/sync/file_lock.hpp>
#include <chrono>
#include <fstream>
#include <thread>

namespace opossum::io {

namespace bip = boost::interprocess;

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
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status File::Open(const fs::path& path, Mode mode, File* out) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case Mode::kReadOnly: flags |= O_RDONLY; break;
    case Mode::kReadWrite: flags |= O_RDWR; break;
    case Mode::kCreate: flags |= O_RDWR | O_CREAT; break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + path.string());
    return ErrnoStatus("open", path, errno);
  }
  out->Close();
  out->fd_ = fd;
  out->path_ = path;
  return Status::Ok();
}

Status File::PWrite(const void* data, size_t size, uint64_t offset) const {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path_, errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status File::PWriteV(const struct iovec* iov, int count, uint64_t offset) const {
  std::vector<struct iovec> rest(iov, iov + count);
  size_t first = 0;
  while (first < rest.size()) {
    int n_iov = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
    ssize_t n = ::pwritev(fd_, rest.data() + first, n_iov, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path_, errno);
    }
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (first < rest.size() && left >= rest[first].iov_len) {
      left -= rest[first].iov_len;
      ++first;
    }
    if (left > 0) {
      rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + left;
      rest[first].iov_len -= left;
    }
  }
  return Status::Ok();
}

Status File::PRead(void* data, size_t size, uint64_t offset) const {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::pread(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path_, errno);
    }
    if (n == 0) {
      return Status::IOError("read " + path_.string() + ": unexpected end of file at offset " +
                             std::to_string(offset));
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status File::DataSync() const {
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
  return Status::Ok();
}

Status File::Sync() const {
  if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
  return Status::Ok();
}

Status File::Allocate(uint64_t offset, uint64_t length) const {
  int err = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(length));
  if (err != 0) return ErrnoStatus("allocate space for", path_, err);
  return Status::Ok();
}

Status File::Truncate(uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("truncate", path_, errno);
  }
  return Status::Ok();
}

Status File::Size(uint64_t* size) const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat", path_, errno);
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

struct Mapping::Impl {
  bip::mapped_region region;
};

Mapping::Mapping() = default;
Mapping::~Mapping() = default;
Mapping::Mapping(Mapping&&) noexcept = default;
Mapping& Mapping::operator=(Mapping&&) noexcept = default;

Status Mapping::Map(const fs::path& path, uint64_t size, bool writable, Mapping* out) {
  try {
    bip::mode_t mode = writable ? bip::read_write : bip::read_only;
    bip::file_mapping file(path.c_str(), mode);
    auto impl = std::make_unique<Impl>();
    // MAP_NORESERVE: a reservation beyond the file's end costs no memory.
    impl->region = bip::mapped_region(file, mode, 0, static_cast<std::size_t>(size), nullptr,
                                      MAP_NORESERVE);
    out->data_ = static_cast<uint8_t*>(impl->region.get_address());
    out->size_ = size;
    out->impl_ = std::move(impl);
    // file_mapping closes its descriptor here; the map stays valid.
  } catch (const bip::interprocess_exception& e) {
    return Status::IOError("map " + path.string() + ": " + e.what());
  }
  return Status::Ok();
}

Status Mapping::Sync(uint64_t offset, uint64_t length) const {
  if (length == 0) return Status::Ok();
  uint64_t page = 4096;
  uint64_t start = offset & ~(page - 1);
  if (::msync(data_ + start, length + (offset - start), MS_SYNC) != 0) {
    return Status::IOError(std::string("msync: ") + ::strerror(errno));
  }
  return Status::Ok();
}

struct FileLock::Impl {
  bip::file_lock lock;
  fs::path path;
};

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
  try {
    auto impl = std::make_unique<Impl>();
    impl->lock = bip::file_lock(path.c_str());
    impl->path = path;
    out->impl_ = std::move(impl);
  } catch (const bip::interprocess_exception& e) {
    return Status::IOError("open lock " + path.string() + ": " + e.what());
  }
  return Status::Ok();
}

Status FileLock::Lock(std::chrono::milliseconds timeout) {
  try {
    if (impl_->lock.try_lock()) return Status::Ok();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(pause);
      if (impl_->lock.try_lock()) return Status::Ok();
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
    }
  } catch (const bip::interprocess_exception& e) {
    return Status::IOError("lock " + impl_->path.string() + ": " + e.what());
  }
  return Status::Busy("the write lock " + impl_->path.string() + " was not obtained within " +
                      std::to_string(timeout.count()) + " ms (another process is writing)");
}

namespace {
// Boost.Interprocess throws; the store speaks Status.
template <typename F>
Status LockCall(const char* what, const fs::path& path, F&& call) {
  try {
    call();
  } catch (const bip::interprocess_exception& e) {
    return Status::IOError(std::string(what) + " " + path.string() + ": " + e.what());
  }
  return Status::Ok();
}
}  // namespace

Status FileLock::TryLock(bool* acquired) {
  return LockCall("lock", impl_->path, [&] { *acquired = impl_->lock.try_lock(); });
}

Status FileLock::Unlock() {
  return LockCall("unlock", impl_->path, [&] { impl_->lock.unlock(); });
}

Status FileLock::LockShared() {
  return LockCall("lock", impl_->path, [&] { impl_->lock.lock_sharable(); });
}

Status FileLock::UnlockShared() {
  return LockCall("unlock", impl_->path, [&] { impl_->lock.unlock_sharable(); });
}

Status FileMode(const fs::path& path, uint32_t* mode) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  *mode = static_cast<uint32_t>(st.st_mode) & 07777u;
  return Status::Ok();
}

Status SetFileMode(const fs::path& path, uint32_t mode) {
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return ErrnoStatus("chmod", path, errno);
  }
  return Status::Ok();
}

Status SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open folder", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync folder", dir, err);
  return Status::Ok();
}

Status CreateDirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create folder " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

Status ListDir(const fs::path& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("list folder", dir, errno);
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) names->emplace_back(e->d_name);
  }
  ::closedir(d);
  return Status::Ok();
}

Status Rename(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
  return Status::Ok();
}

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

Status CheckLocalFileSystem(const fs::path& dir) {
  struct statfs st;
  if (::statfs(dir.c_str(), &st) != 0) return ErrnoStatus("statfs", dir, errno);
  constexpr long kNfs = 0x6969, kSmb = 0x517B, kCifs = 0xFF534D42, kSmb2 = 0xFE534D42,
                 kCeph = 0x00C36400, kAfs = 0x5346414F;
  long t = static_cast<long>(st.f_type);
  if (t == kNfs || t == kSmb || t == kCifs || t == kSmb2 || t == kCeph || t == kAfs) {
    return Status::NotSupported(
        "the store folder " + dir.string() +
        " is on a network file system; OS file locks and shared maps are not "
        "reliable there. Keep the store on a local disk.");
  }
  return Status::Ok();
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace opossum::io
