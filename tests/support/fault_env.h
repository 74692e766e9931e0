// FaultEnv: an io::Env for tests that wraps the real one and
//  - fails a chosen call: the Nth counted call (once, or it and every later
//    one) with a chosen errno (EIO, ENOSPC, ...), reported the way the real
//    call would report it;
//  - fails every call of one Env method (FailCall), to show that each kind
//    of call reaches the Env and that its failure is reported;
//  - records how many times each Env method was called (seen);
//  - simulates a power loss: it keeps, for every file, the bytes as they
//    were at its last sync (fdatasync, fsync, msync) apart from what was
//    written since; at a crash each page written since is kept, dropped
//    (back to its synced bytes) or torn (only some of its 512-byte sectors
//    written), and the machine gets a new boot id.
//
// Modelled: file contents page by page. Not modelled: folder entries (a
// create, rename or remove is taken to be on disk at once; the engine syncs
// the folder after each anyway) and file sizes (kept as they are).
#ifndef OPOSSUM_TESTS_FAULT_ENV_H_
#define OPOSSUM_TESTS_FAULT_ENV_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "io/env.h"

namespace opossum::testing {

class FaultEnv final : public io::Env {
 public:
  // Which calls count (and can fail).
  enum Kinds : uint32_t {
    kAnyCall = ~0u,
    // Calls that take space: a full disk fails these.
    kSpaceCalls = 1u << 0,
  };
  // What happens to each page written since its file's last sync.
  enum class CrashPolicy { kKeepAll, kDropAll, kRandomPages };

  FaultEnv();

  // Fails the `n`th counted call from now (1-based; 0: none) with `error`,
  // and with `repeat` every counted call after it too. With kSpaceCalls only
  // calls that take space count.
  void FailAt(uint64_t n, bool repeat, int error, Kinds kinds = kAnyCall);
  // Fails every call of the Env method named `call` ("Exists", "FileSize",
  // "PWrite", ...) with `error`, until ClearFaults; apart from FailAt's count.
  void FailCall(std::string call, int error);
  // Clears FailAt's and FailCall's faults.
  void ClearFaults();
  // How many times each Env method was called since construction (or
  // ClearSeen), failed calls included, by name: {"Exists": 12, ...}.
  std::map<std::string, uint64_t> seen() const;
  void ClearSeen();
  // Counted calls since the last FailAt (or construction).
  uint64_t calls() const { return calls_.load(); }
  // How many calls were failed, and the first one ("write /path").
  uint64_t failures() const { return failures_.load(); }
  std::string first_failure() const;

  // Power loss. Tracking starts at construction. CrashAt(n): at the `n`th
  // counted call from now the machine "loses power": what the files hold
  // then is taken as the crash state, and that call and every later one
  // fail with EIO (so nothing more reaches the files from the engine).
  void CrashAt(uint64_t n);
  bool crashed() const { return frozen_.load(); }
  // The call the power went at ("fdatasync /path").
  std::string crash_point() const;
  // After every store of the crashed machine is closed: writes the files as
  // the disk holds them after the power loss (pages chosen by `policy`,
  // random choices from `seed`), clears the crash and faults, and gives the
  // machine a new boot id. Returns how many pages were dropped or torn.
  uint64_t ApplyCrash(CrashPolicy policy, uint64_t seed);

  // io::Env
  Status Open(const io::fs::path& path, io::OpenMode mode, int* fd) override;
  void Close(int fd, const io::fs::path& path) override;
  Status PWrite(int fd, const io::fs::path& path, const void* data, size_t size,
                uint64_t offset) override;
  Status PWriteV(int fd, const io::fs::path& path, const struct iovec* iov, int count,
                 uint64_t offset) override;
  Status PRead(int fd, const io::fs::path& path, void* data, size_t size, uint64_t offset) override;
  Status DataSync(int fd, const io::fs::path& path) override;
  Status Sync(int fd, const io::fs::path& path) override;
  Status Allocate(int fd, const io::fs::path& path, uint64_t offset, uint64_t length) override;
  Status Truncate(int fd, const io::fs::path& path, uint64_t size) override;
  Status Size(int fd, const io::fs::path& path, uint64_t* size) override;
  Status Map(const io::fs::path& path, uint64_t size, bool writable,
             std::unique_ptr<io::MappedRegion>* out) override;
  Status SyncMapped(const io::fs::path& path, const io::MappedRegion& region, uint64_t offset,
                    uint64_t length) override;
  Status OpenLock(const io::fs::path& path, std::unique_ptr<io::LockHandle>* out) override;
  Status Lock(io::LockHandle& lock, const io::fs::path& path, io::LockOp op,
              bool* acquired) override;
  Status SyncDir(const io::fs::path& dir) override;
  Status CreateDirs(const io::fs::path& dir) override;
  Status ListDir(const io::fs::path& dir, std::vector<std::string>* names) override;
  Status Rename(const io::fs::path& from, const io::fs::path& to) override;
  Status Remove(const io::fs::path& path) override;
  Status FileMode(const io::fs::path& path, uint32_t* mode) override;
  Status SetFileMode(const io::fs::path& path, uint32_t mode) override;
  Status CheckLocalFileSystem(const io::fs::path& dir) override;
  Status Exists(const io::fs::path& path, bool* exists) override;
  Status FileSize(const io::fs::path& path, uint64_t* size) override;
  Status AbsolutePath(const io::fs::path& path, io::fs::path* out) override;
  Status CanonicalPath(const io::fs::path& path, io::fs::path* out) override;
  Status Advise(void* addr, size_t length, io::Advice advice) override;
  std::string BootId() override;
  int64_t NowNs() override;

 private:
  // Records and counts a call of the Env method `call`; a non-OK status when
  // it is to fail ("what path: msg").
  Status Enter(const char* call, const char* what, const io::fs::path& path, bool takes_space);
  // The file's bytes now (read through the real Env).
  static std::string ReadWhole(const io::fs::path& path);
  // First sight of a file: what it holds is on disk already.
  void Track(const io::fs::path& path);
  void MarkSynced(const io::fs::path& path, uint64_t offset, uint64_t length);

  io::Env* real_;
  std::atomic<uint64_t> calls_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<bool> frozen_{false};
  mutable std::mutex mu_;
  uint64_t fail_at_ = 0;
  bool repeat_ = false;
  int error_ = 0;
  Kinds kinds_ = kAnyCall;
  uint64_t crash_at_ = 0;
  std::string first_failure_;
  std::string fail_call_;
  int fail_call_error_ = 0;
  std::map<std::string, uint64_t> seen_;
  std::string crash_point_;
  uint64_t boot_ = 0;
  // Power loss: each file's bytes as of its last sync, and its bytes when
  // the power went.
  std::map<std::string, std::string> synced_;
  std::map<std::string, std::string> at_crash_;
  // Names renamed away, and where to (maps still name the old file).
  std::map<std::string, std::string> renamed_;
};

}  // namespace opossum::testing

#endif  // OPOSSUM_TESTS_FAULT_ENV_H_
