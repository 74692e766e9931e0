#include "fault_env.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "io/file.h"

namespace opossum::testing {

namespace fs = std::filesystem;

FaultEnv::FaultEnv() : real_(io::PosixEnv()) {}

void FaultEnv::FailAt(uint64_t n, bool repeat, int error, Kinds kinds) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n;
  repeat_ = repeat;
  error_ = error;
  kinds_ = kinds;
  calls_ = 0;
  failures_ = 0;
  first_failure_.clear();
}

void FaultEnv::FailCall(std::string call, int error) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_call_ = std::move(call);
  fail_call_error_ = error;
  failures_ = 0;
  first_failure_.clear();
}

void FaultEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = 0;
  repeat_ = false;
  kinds_ = kAnyCall;
  fail_call_.clear();
}

std::map<std::string, uint64_t> FaultEnv::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

void FaultEnv::ClearSeen() {
  std::lock_guard<std::mutex> lock(mu_);
  seen_.clear();
}

std::string FaultEnv::first_failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_failure_;
}

std::string FaultEnv::crash_point() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crash_point_;
}

void FaultEnv::CrashAt(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_at_ = n;
  kinds_ = kAnyCall;
  calls_ = 0;
}

std::string FaultEnv::ReadWhole(const io::fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void FaultEnv::Track(const io::fs::path& path) {
  // Caller holds mu_.
  if (synced_.count(path.string()) == 0) synced_[path.string()] = ReadWhole(path);
}

void FaultEnv::MarkSynced(const io::fs::path& path, uint64_t offset, uint64_t length) {
  std::lock_guard<std::mutex> lock(mu_);
  // A map made before a rename still syncs the renamed file.
  std::string name = path.string();
  for (auto it = renamed_.find(name); it != renamed_.end(); it = renamed_.find(name)) {
    name = it->second;
  }
  std::string now = ReadWhole(name);
  std::string& synced = synced_[name];
  if (synced.size() < now.size()) synced.resize(now.size(), '\0');
  const uint64_t end = std::min<uint64_t>(now.size(), offset + length);
  if (offset < end) synced.replace(offset, end - offset, now, offset, end - offset);
}

Status FaultEnv::Enter(const char* call, const char* what, const io::fs::path& path,
                       bool takes_space) {
  std::lock_guard<std::mutex> lock(mu_);
  ++seen_[call];
  if (frozen_) {
    failures_++;
    return io::ErrnoStatus(what, path, EIO);
  }
  if (!fail_call_.empty() && fail_call_ == call) {
    if (failures_++ == 0) first_failure_ = std::string(what) + " " + path.string();
    return io::ErrnoStatus(what, path, fail_call_error_);
  }
  if (kinds_ == kSpaceCalls && !takes_space) return Status::Ok();
  const uint64_t n = ++calls_;
  if (crash_at_ != 0 && n >= crash_at_) {
    // The power goes now: what the files hold is what the disk may get.
    for (const auto& [name, synced] : synced_) {
      if (fs::exists(name)) at_crash_[name] = ReadWhole(name);
    }
    frozen_ = true;
    crash_point_ = std::string(what) + " " + path.string();
    failures_++;
    return io::ErrnoStatus(what, path, EIO);
  }
  if (fail_at_ != 0 && (n == fail_at_ || (repeat_ && n > fail_at_))) {
    if (failures_++ == 0) first_failure_ = std::string(what) + " " + path.string();
    return io::ErrnoStatus(what, path, error_);
  }
  return Status::Ok();
}

uint64_t FaultEnv::ApplyCrash(CrashPolicy policy, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  std::mt19937_64 rng(seed);
  constexpr size_t kPage = 4096, kSector = 512;
  uint64_t changed = 0;
  for (auto& [name, now] : at_crash_) {
    std::string disk = synced_[name];
    disk.resize(now.size(), '\0');
    for (size_t page = 0; page < now.size(); page += kPage) {
      const size_t len = std::min(kPage, now.size() - page);
      if (now.compare(page, len, disk, page, len) == 0) continue;
      int choice = policy == CrashPolicy::kKeepAll   ? 0
                   : policy == CrashPolicy::kDropAll ? 1
                                                     : static_cast<int>(rng() % 3);
      if (choice == 0) {
        disk.replace(page, len, now, page, len);
        continue;
      }
      ++changed;
      if (choice == 2) {  // torn: some sectors made it
        for (size_t s = page; s < page + len; s += kSector) {
          if (rng() % 2 == 0) {
            const size_t n = std::min(kSector, page + len - s);
            disk.replace(s, n, now, s, n);
          }
        }
      }
    }
    // Write-protected segments get their write bits back for this.
    struct stat st;
    const bool protect = ::stat(name.c_str(), &st) == 0 && (st.st_mode & S_IWUSR) == 0;
    if (protect) ::chmod(name.c_str(), st.st_mode | S_IWUSR);
    {
      std::ofstream out(name, std::ios::binary | std::ios::trunc);
      out.write(disk.data(), static_cast<std::streamsize>(disk.size()));
    }
    if (protect) ::chmod(name.c_str(), st.st_mode);
    synced_[name] = std::move(disk);
  }
  at_crash_.clear();
  frozen_ = false;
  crash_at_ = 0;
  fail_at_ = 0;
  repeat_ = false;
  kinds_ = kAnyCall;
  ++boot_;
  return changed;
}

Status FaultEnv::Open(const io::fs::path& path, io::OpenMode mode, int* fd) {
  const bool creates = mode == io::OpenMode::kCreate && !fs::exists(path);
  Status s = Enter("Open", "open", path, creates);
  if (!s.ok()) return s;
  s = real_->Open(path, mode, fd);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (creates) {
      synced_[path.string()].clear();  // nothing of a new file is on disk yet
      renamed_.erase(path.string());   // a new file under a name renamed away
    } else {
      Track(path);
    }
  }
  return s;
}

void FaultEnv::Close(int fd, const io::fs::path& path) { real_->Close(fd, path); }

Status FaultEnv::PWrite(int fd, const io::fs::path& path, const void* data, size_t size,
                        uint64_t offset) {
  Status s = Enter("PWrite", "write", path, true);
  return s.ok() ? real_->PWrite(fd, path, data, size, offset) : s;
}

Status FaultEnv::PWriteV(int fd, const io::fs::path& path, const struct iovec* iov, int count,
                         uint64_t offset) {
  Status s = Enter("PWriteV", "write", path, true);
  return s.ok() ? real_->PWriteV(fd, path, iov, count, offset) : s;
}

Status FaultEnv::PRead(int fd, const io::fs::path& path, void* data, size_t size, uint64_t offset) {
  Status s = Enter("PRead", "read", path, false);
  return s.ok() ? real_->PRead(fd, path, data, size, offset) : s;
}

Status FaultEnv::DataSync(int fd, const io::fs::path& path) {
  // A full disk can show at the sync (delayed allocation).
  Status s = Enter("DataSync", "fdatasync", path, true);
  if (s.ok()) s = real_->DataSync(fd, path);
  if (s.ok()) MarkSynced(path, 0, UINT64_MAX);
  return s;
}

Status FaultEnv::Sync(int fd, const io::fs::path& path) {
  Status s = Enter("Sync", "fsync", path, true);
  if (s.ok()) s = real_->Sync(fd, path);
  if (s.ok()) MarkSynced(path, 0, UINT64_MAX);
  return s;
}

Status FaultEnv::Allocate(int fd, const io::fs::path& path, uint64_t offset, uint64_t length) {
  Status s = Enter("Allocate", "allocate space for", path, true);
  return s.ok() ? real_->Allocate(fd, path, offset, length) : s;
}

Status FaultEnv::Truncate(int fd, const io::fs::path& path, uint64_t size) {
  Status s = Enter("Truncate", "truncate", path, false);
  if (s.ok()) s = real_->Truncate(fd, path, size);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string& synced = synced_[path.string()];
    if (synced.size() > size) synced.resize(size);  // a size change is journaled
  }
  return s;
}

Status FaultEnv::Size(int fd, const io::fs::path& path, uint64_t* size) {
  Status s = Enter("Size", "stat", path, false);
  return s.ok() ? real_->Size(fd, path, size) : s;
}

Status FaultEnv::Map(const io::fs::path& path, uint64_t size, bool writable,
                     std::unique_ptr<io::MappedRegion>* out) {
  Status s = Enter("Map", "map", path, false);
  if (s.ok()) s = real_->Map(path, size, writable, out);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    Track(path);
  }
  return s;
}

Status FaultEnv::SyncMapped(const io::fs::path& path, const io::MappedRegion& region,
                            uint64_t offset, uint64_t length) {
  Status s = Enter("SyncMapped", "msync", path, true);
  if (s.ok()) s = real_->SyncMapped(path, region, offset, length);
  if (s.ok()) MarkSynced(path, offset & ~uint64_t{4095}, length + (offset & 4095));
  return s;
}

Status FaultEnv::OpenLock(const io::fs::path& path, std::unique_ptr<io::LockHandle>* out) {
  Status s = Enter("OpenLock", "open lock", path, false);
  return s.ok() ? real_->OpenLock(path, out) : s;
}

Status FaultEnv::Lock(io::LockHandle& lock, const io::fs::path& path, io::LockOp op,
                      bool* acquired) {
  const bool release = op == io::LockOp::kUnlock || op == io::LockOp::kUnlockShared;
  Status s = Enter("Lock", release ? "unlock" : "lock", path, false);
  return s.ok() ? real_->Lock(lock, path, op, acquired) : s;
}

Status FaultEnv::SyncDir(const io::fs::path& dir) {
  Status s = Enter("SyncDir", "fsync folder", dir, true);
  return s.ok() ? real_->SyncDir(dir) : s;
}

Status FaultEnv::CreateDirs(const io::fs::path& dir) {
  Status s = Enter("CreateDirs", "create folder", dir, !fs::exists(dir));
  return s.ok() ? real_->CreateDirs(dir) : s;
}

Status FaultEnv::ListDir(const io::fs::path& dir, std::vector<std::string>* names) {
  Status s = Enter("ListDir", "list folder", dir, false);
  return s.ok() ? real_->ListDir(dir, names) : s;
}

Status FaultEnv::Rename(const io::fs::path& from, const io::fs::path& to) {
  Status s = Enter("Rename", "rename", from, true);
  if (s.ok()) s = real_->Rename(from, to);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    renamed_[from.string()] = to.string();
    renamed_.erase(to.string());
    auto it = synced_.find(from.string());
    if (it != synced_.end()) {
      synced_[to.string()] = std::move(it->second);
      synced_.erase(from.string());
    } else {
      synced_.erase(to.string());
      Track(to);
    }
  }
  return s;
}

Status FaultEnv::Remove(const io::fs::path& path) {
  Status s = Enter("Remove", "remove", path, false);
  if (s.ok()) s = real_->Remove(path);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    synced_.erase(path.string());
  }
  return s;
}

Status FaultEnv::FileMode(const io::fs::path& path, uint32_t* mode) {
  Status s = Enter("FileMode", "stat", path, false);
  return s.ok() ? real_->FileMode(path, mode) : s;
}

Status FaultEnv::SetFileMode(const io::fs::path& path, uint32_t mode) {
  Status s = Enter("SetFileMode", "chmod", path, false);
  return s.ok() ? real_->SetFileMode(path, mode) : s;
}

Status FaultEnv::CheckLocalFileSystem(const io::fs::path& dir) {
  Status s = Enter("CheckLocalFileSystem", "statfs", dir, false);
  return s.ok() ? real_->CheckLocalFileSystem(dir) : s;
}

Status FaultEnv::Exists(const io::fs::path& path, bool* exists) {
  Status s = Enter("Exists", "stat", path, false);
  return s.ok() ? real_->Exists(path, exists) : s;
}

Status FaultEnv::FileSize(const io::fs::path& path, uint64_t* size) {
  Status s = Enter("FileSize", "stat", path, false);
  return s.ok() ? real_->FileSize(path, size) : s;
}

Status FaultEnv::AbsolutePath(const io::fs::path& path, io::fs::path* out) {
  Status s = Enter("AbsolutePath", "resolve", path, false);
  return s.ok() ? real_->AbsolutePath(path, out) : s;
}

Status FaultEnv::CanonicalPath(const io::fs::path& path, io::fs::path* out) {
  Status s = Enter("CanonicalPath", "resolve", path, false);
  return s.ok() ? real_->CanonicalPath(path, out) : s;
}

Status FaultEnv::Advise(void* addr, size_t length, io::Advice advice) {
  // No file: the message names the range's length instead.
  Status s = Enter("Advise", "madvise", std::to_string(length) + " bytes", false);
  return s.ok() ? real_->Advise(addr, length, advice) : s;
}

std::string FaultEnv::BootId() {
  std::lock_guard<std::mutex> lock(mu_);
  return "fault-env-boot-" + std::to_string(boot_);
}

int64_t FaultEnv::NowNs() { return real_->NowNs(); }

}  // namespace opossum::testing
