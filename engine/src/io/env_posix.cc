// The real Env: POSIX calls, Boost.Interprocess for maps and locks.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/sync/file_lock.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <system_error>

#include "io/env.h"
#include "io/file.h"

namespace opossum::io {

namespace bip = boost::interprocess;

namespace {

class BoostRegion final : public MappedRegion {
 public:
  BoostRegion(bip::mapped_region region) : region_(std::move(region)) {
    data_ = static_cast<uint8_t*>(region_.get_address());
    size_ = region_.get_size();
  }

 private:
  bip::mapped_region region_;
};

class BoostLock final : public LockHandle {
 public:
  explicit BoostLock(const fs::path& path) : lock_(path.c_str()) {}
  bip::file_lock& lock() { return lock_; }

 private:
  bip::file_lock lock_;
};

class Posix final : public Env {
 public:
  Status Open(const fs::path& path, OpenMode mode, int* fd) override {
    // O_NOFOLLOW: a store's files are never symbolic links; one planted in
    // the store folder is refused rather than written through.
    int flags = O_CLOEXEC | O_NOFOLLOW;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT;
        break;
    }
    *fd = ::open(path.c_str(), flags, 0644);
    if (*fd < 0) {
      if (errno == ENOENT) return Status::NotFound("no such file: " + path.string());
      if (errno == ELOOP) {
        return Status::IOError("open " + path.string() +
                               ": is a symbolic link (a store's files never are; refused)");
      }
      return ErrnoStatus("open", path, errno);
    }
    return Status::Ok();
  }

  void Close(int fd, const fs::path&) override { ::close(fd); }

  Status PWrite(int fd, const fs::path& path, const void* data, size_t size,
                uint64_t offset) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path, errno);
      }
      p += n;
      size -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status PWriteV(int fd, const fs::path& path, const struct iovec* iov, int count,
                 uint64_t offset) override {
    std::vector<struct iovec> rest(iov, iov + count);
    size_t first = 0;
    while (first < rest.size()) {
      int n_iov = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
      ssize_t n = ::pwritev(fd, rest.data() + first, n_iov, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path, errno);
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

  Status PRead(int fd, const fs::path& path, void* data, size_t size, uint64_t offset) override {
    char* p = static_cast<char*>(data);
    while (size > 0) {
      ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path, errno);
      }
      if (n == 0) {
        return Status::IOError("read " + path.string() + ": unexpected end of file at offset " +
                               std::to_string(offset));
      }
      p += n;
      size -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status DataSync(int fd, const fs::path& path) override {
    if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync", path, errno);
    return Status::Ok();
  }

  Status Sync(int fd, const fs::path& path) override {
    if (::fsync(fd) != 0) return ErrnoStatus("fsync", path, errno);
    return Status::Ok();
  }

  Status Allocate(int fd, const fs::path& path, uint64_t offset, uint64_t length) override {
    int err = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(length));
    if (err != 0) return ErrnoStatus("allocate space for", path, err);
    return Status::Ok();
  }

  Status Truncate(int fd, const fs::path& path, uint64_t size) override {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path, errno);
    }
    return Status::Ok();
  }

  Status Size(int fd, const fs::path& path, uint64_t* size) override {
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::Ok();
  }

  Status Map(const fs::path& path, uint64_t size, bool writable,
             std::unique_ptr<MappedRegion>* out) override {
    try {
      bip::mode_t mode = writable ? bip::read_write : bip::read_only;
      bip::file_mapping file(path.c_str(), mode);
      // MAP_NORESERVE: a reservation beyond the file's end costs no memory.
      *out = std::make_unique<BoostRegion>(bip::mapped_region(
          file, mode, 0, static_cast<std::size_t>(size), nullptr, MAP_NORESERVE));
      // file_mapping closes its descriptor here; the map stays valid.
    } catch (const bip::interprocess_exception& e) {
      return Status::IOError("map " + path.string() + ": " + e.what());
    }
    return Status::Ok();
  }

  Status SyncMapped(const fs::path& path, const MappedRegion& region, uint64_t offset,
                    uint64_t length) override {
    if (length == 0) return Status::Ok();
    const uint64_t page = 4096;
    const uint64_t start = offset & ~(page - 1);
    if (::msync(region.data() + start, length + (offset - start), MS_SYNC) != 0) {
      return ErrnoStatus("msync", path, errno);
    }
    return Status::Ok();
  }

  Status OpenLock(const fs::path& path, std::unique_ptr<LockHandle>* out) override {
    try {
      *out = std::make_unique<BoostLock>(path);
    } catch (const bip::interprocess_exception& e) {
      return Status::IOError("open lock " + path.string() + ": " + e.what());
    }
    return Status::Ok();
  }

  Status Lock(LockHandle& handle, const fs::path& path, LockOp op, bool* acquired) override {
    bip::file_lock& lock = static_cast<BoostLock&>(handle).lock();
    try {
      switch (op) {
        case LockOp::kTryExclusive:
          *acquired = lock.try_lock();
          break;
        case LockOp::kUnlock:
          lock.unlock();
          break;
        case LockOp::kShared:
          lock.lock_sharable();
          break;
        case LockOp::kUnlockShared:
          lock.unlock_sharable();
          break;
      }
    } catch (const bip::interprocess_exception& e) {
      const bool release = op == LockOp::kUnlock || op == LockOp::kUnlockShared;
      return Status::IOError(std::string(release ? "unlock " : "lock ") + path.string() + ": " +
                             e.what());
    }
    return Status::Ok();
  }

  Status SyncDir(const fs::path& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open folder", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync folder", dir, err);
    return Status::Ok();
  }

  Status CreateDirs(const fs::path& dir) override {
    // Each missing folder with mode 0755 (less the umask): never writable
    // by others, whatever the umask (fs::create_directories uses 0777).
    std::vector<fs::path> missing;
    struct stat st;
    for (fs::path p = dir.lexically_normal(); !p.empty(); p = p.parent_path()) {
      if (::stat(p.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return ErrnoStatus("create folder", p, ENOTDIR);
        break;
      }
      if (errno != ENOENT) return ErrnoStatus("create folder", p, errno);
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("create folder", *it, errno);
      }
    }
    return Status::Ok();
  }

  Status ListDir(const fs::path& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("list folder", dir, errno);
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) names->emplace_back(e->d_name);
    }
    ::closedir(d);
    return Status::Ok();
  }

  Status Rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
    return Status::Ok();
  }

  Status Remove(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove", path, errno);
    return Status::Ok();
  }

  Status FileMode(const fs::path& path, uint32_t* mode) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    *mode = static_cast<uint32_t>(st.st_mode) & 07777u;
    return Status::Ok();
  }

  Status SetFileMode(const fs::path& path, uint32_t mode) override {
    if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
      return ErrnoStatus("chmod", path, errno);
    }
    return Status::Ok();
  }

  Status CheckLocalFileSystem(const fs::path& dir) override {
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

  Status Exists(const fs::path& path, bool* exists) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      *exists = true;
      return Status::Ok();
    }
    // As fs::exists: a missing entry, or a file where a folder should be on
    // the way to it, means nothing is there.
    if (errno == ENOENT || errno == ENOTDIR) {
      *exists = false;
      return Status::Ok();
    }
    return ErrnoStatus("stat", path, errno);
  }

  Status FileSize(const fs::path& path, uint64_t* size) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound("no such file: " + path.string());
      return ErrnoStatus("stat", path, errno);
    }
    *size = static_cast<uint64_t>(st.st_size);
    return Status::Ok();
  }

  Status AbsolutePath(const fs::path& path, fs::path* out) override {
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec);
    if (ec) return Status::IOError("resolve " + path.string() + ": " + ec.message());
    *out = std::move(abs);
    return Status::Ok();
  }

  Status CanonicalPath(const fs::path& path, fs::path* out) override {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (ec) return Status::IOError("resolve " + path.string() + ": " + ec.message());
    *out = std::move(canonical);
    return Status::Ok();
  }

  Status Advise(void* addr, size_t length, Advice advice) override {
    int how = -1;
    const char* name = "";
    switch (advice) {
      case Advice::kHugePages:
#ifdef MADV_HUGEPAGE
        how = MADV_HUGEPAGE;
#endif
        name = "MADV_HUGEPAGE";
        break;
      case Advice::kPopulateWrite:
#ifdef MADV_POPULATE_WRITE
        how = MADV_POPULATE_WRITE;
#endif
        name = "MADV_POPULATE_WRITE";
        break;
    }
    if (how < 0) return Status::NotSupported(std::string(name) + " is not known on this system");
    if (::madvise(addr, length, how) != 0) {
      return Status::IOError("madvise(" + std::string(name) + ") of " + std::to_string(length) +
                             " bytes: " + ::strerror(errno));
    }
    return Status::Ok();
  }

  std::string BootId() override {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
  }

  int64_t NowNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

std::atomic<Env*> g_env{nullptr};

}  // namespace

Env* PosixEnv() {
  static Posix env;
  return &env;
}

Env* CurrentEnv() {
  Env* e = g_env.load(std::memory_order_acquire);
  return e != nullptr ? e : PosixEnv();
}

ScopedEnv::ScopedEnv(Env* env) : previous_(g_env.exchange(env, std::memory_order_acq_rel)) {}

ScopedEnv::~ScopedEnv() { g_env.store(previous_, std::memory_order_release); }

}  // namespace opossum::io
