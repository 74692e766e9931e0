// Unit tests of opening the indexes (index::OpenTrusted) while a writer works
// on them, driven through every interleaving the opener's system calls
// allow: an io::Env that, at the opener's Nth call (for every N), lets a
// writer commit a whole group first (grow the position index, grow and
// replace the key table, fill the postings past the file's size, move the
// indexed-through mark), as a writer in another process may do at any time.
// Such an open must succeed and see a consistent index; real damage must
// still be reported.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "format/filenames.h"
#include "index/indexes.h"
#include "index/key_index.h"
#include "index/position_index.h"
#include "io/env.h"
#include "io/file.h"
#include "test_util.h"

namespace opossum::index {
namespace {

namespace fs = std::filesystem;
using opossum::testing::TempDir;

// The real Env, except that while counting, right after the Nth call it
// runs a hook (once; the hook's own calls are not counted).
class InterleavingEnv final : public io::Env {
 public:
  InterleavingEnv() : real_(io::PosixEnv()) {}

  void Arm(uint64_t n, std::function<void()> hook) {
    calls_ = 0;
    at_ = n;
    hook_ = std::move(hook);
    counting_ = true;
  }
  // Stops counting; whether the hook ran.
  bool Disarm() {
    counting_ = false;
    return at_ == 0;
  }
  // The call the hook ran after ("size postings": the call, the file's name).
  const std::string& hooked_call() const { return hooked_call_; }

  Status Open(const fs::path& path, io::OpenMode mode, int* fd) override {
    return After("open", path, real_->Open(path, mode, fd));
  }
  void Close(int fd, const fs::path& path) override {
    real_->Close(fd, path);
    After("close", path, Status::Ok()).IgnoreError();  // a close has no outcome to pass on
  }
  Status PWrite(int fd, const fs::path& path, const void* data, size_t size,
                uint64_t offset) override {
    return After("pwrite", path, real_->PWrite(fd, path, data, size, offset));
  }
  Status PWriteV(int fd, const fs::path& path, const struct iovec* iov, int count,
                 uint64_t offset) override {
    return After("pwritev", path, real_->PWriteV(fd, path, iov, count, offset));
  }
  Status PRead(int fd, const fs::path& path, void* data, size_t size, uint64_t offset) override {
    return After("pread", path, real_->PRead(fd, path, data, size, offset));
  }
  Status DataSync(int fd, const fs::path& path) override {
    return After("fdatasync", path, real_->DataSync(fd, path));
  }
  Status Sync(int fd, const fs::path& path) override {
    return After("fsync", path, real_->Sync(fd, path));
  }
  Status Allocate(int fd, const fs::path& path, uint64_t offset, uint64_t length) override {
    return After("fallocate", path, real_->Allocate(fd, path, offset, length));
  }
  Status Truncate(int fd, const fs::path& path, uint64_t size) override {
    return After("ftruncate", path, real_->Truncate(fd, path, size));
  }
  Status Size(int fd, const fs::path& path, uint64_t* size) override {
    return After("size", path, real_->Size(fd, path, size));
  }
  Status Map(const fs::path& path, uint64_t size, bool writable,
             std::unique_ptr<io::MappedRegion>* out) override {
    return After("map", path, real_->Map(path, size, writable, out));
  }
  Status SyncMapped(const fs::path& path, const io::MappedRegion& region, uint64_t offset,
                    uint64_t length) override {
    return After("msync", path, real_->SyncMapped(path, region, offset, length));
  }
  Status OpenLock(const fs::path& path, std::unique_ptr<io::LockHandle>* out) override {
    return After("open lock", path, real_->OpenLock(path, out));
  }
  Status Lock(io::LockHandle& lock, const fs::path& path, io::LockOp op, bool* acquired) override {
    return After("lock", path, real_->Lock(lock, path, op, acquired));
  }
  Status SyncDir(const fs::path& dir) override {
    return After("sync dir", dir, real_->SyncDir(dir));
  }
  Status CreateDirs(const fs::path& dir) override {
    return After("mkdir", dir, real_->CreateDirs(dir));
  }
  Status ListDir(const fs::path& dir, std::vector<std::string>* names) override {
    return After("list", dir, real_->ListDir(dir, names));
  }
  Status Rename(const fs::path& from, const fs::path& to) override {
    return After("rename", from, real_->Rename(from, to));
  }
  Status Remove(const fs::path& path) override {
    return After("remove", path, real_->Remove(path));
  }
  Status FileMode(const fs::path& path, uint32_t* mode) override {
    return After("stat", path, real_->FileMode(path, mode));
  }
  Status SetFileMode(const fs::path& path, uint32_t mode) override {
    return After("chmod", path, real_->SetFileMode(path, mode));
  }
  Status CheckLocalFileSystem(const fs::path& dir) override {
    return After("statfs", dir, real_->CheckLocalFileSystem(dir));
  }
  Status Exists(const fs::path& path, bool* exists) override {
    return After("exists", path, real_->Exists(path, exists));
  }
  Status FileSize(const fs::path& path, uint64_t* size) override {
    return After("file size", path, real_->FileSize(path, size));
  }
  Status AbsolutePath(const fs::path& path, fs::path* out) override {
    return After("absolute", path, real_->AbsolutePath(path, out));
  }
  Status CanonicalPath(const fs::path& path, fs::path* out) override {
    return After("canonical", path, real_->CanonicalPath(path, out));
  }
  Status Advise(void* addr, size_t length, io::Advice advice) override {
    return real_->Advise(addr, length, advice);
  }
  std::string BootId() override { return real_->BootId(); }
  int64_t NowNs() override { return real_->NowNs(); }

 private:
  Status After(const char* what, const fs::path& path, Status s) {
    if (counting_ && at_ != 0 && ++calls_ == at_) {
      at_ = 0;
      hooked_call_ = std::string(what) + " " + path.filename().string();
      counting_ = false;  // the hook's calls are the writer's
      hook_();
      counting_ = true;
    }
    return s;
  }

  io::Env* real_;
  bool counting_ = false;
  uint64_t calls_ = 0;
  uint64_t at_ = 0;
  std::function<void()> hook_;
  std::string hooked_call_;
};

// A key of its own for every position, and one that every position has.
uint64_t OwnKey(uint64_t position) { return position * 0x9E3779B97F4A7C15ULL | 1; }
constexpr uint64_t kSharedKey = 0x5EED;

// A writer's index files, written the way a group commit writes them
// (store/append.cc): room in the position index and the key table first,
// then the entries, then the mark.
struct Writer {
  PositionIndex positions;
  KeyIndex keys;
  uint64_t indexed = 0;

  Status Open(const fs::path& dir) {
    Status s = positions.Open(format::PositionsPath(dir), true);
    if (!s.ok()) return s;
    return keys.Open(dir, true, 1);
  }
  Status Commit(uint64_t events) {
    const uint64_t last = indexed + events;
    Status s = positions.Reserve(last);
    if (!s.ok()) return s;
    bool grown = false;
    if (!(s = keys.Reserve(events + 1, &grown)).ok()) return s;
    std::vector<KeyIndex::Entry> entries;
    for (uint64_t p = indexed + 1; p <= last; ++p) {
      positions.Set(p, format::PackLocation(0, p * 64));
      entries.push_back({OwnKey(p), format::KeyKind::kTag, p});
      entries.push_back({kSharedKey, format::KeyKind::kType, p});
    }
    if (!(s = keys.InsertAll(entries, &grown)).ok()) return s;
    keys.SetIndexedThrough(last);
    indexed = last;
    return Status::Ok();
  }
};

// More events than a new position index holds, and more new keys than a new
// postings file and key table hold: the group grows all three files.
constexpr uint64_t kGroup = (kPositionsInitialSize - kPositionsHeaderSize) / 8 + 1000;
static_assert(kGroup * 56 > kPostingsInitialSize);
static_assert(kGroup > kInitialKeyCapacity);

// Opens the indexes in a folder whose writer has published `published`
// events (the head and the key table generation read from the ledger before
// the open), with the writer committing a whole group after the opener's Nth
// system call, for every N; each open must trust the files and see every
// published event's keys.
void OpenAtEveryStep(bool writable) {
  InterleavingEnv env;
  io::ScopedEnv scoped(&env);
  constexpr uint64_t kPublished = 300;  // below the first table's growth
  std::set<std::string> steps;
  for (uint64_t n = 1;; ++n) {
    SCOPED_TRACE("the writer commits after the opener's call " + std::to_string(n));
    TempDir dir;
    Writer w;
    ASSERT_TRUE(w.Open(dir.path()).ok());
    ASSERT_TRUE(w.Commit(kPublished).ok());
    const uint64_t generation = w.keys.generation();
    std::unique_ptr<PositionIndex> positions;
    std::unique_ptr<KeyIndex> keys;
    Status commit;
    env.Arm(n, [&] { commit = w.Commit(kGroup); });
    const bool trusted = OpenTrusted(dir.path(), writable, generation, kPublished,
                                     /*alone=*/false, &positions, &keys);
    const bool hooked = env.Disarm();
    if (!hooked) {
      // The open made fewer than n calls: every step was tried.
      break;
    }
    SCOPED_TRACE("after " + env.hooked_call());
    steps.insert(env.hooked_call());
    ASSERT_TRUE(commit.ok()) << commit.ToString();
    ASSERT_TRUE(trusted) << "an open while the writer commits found the indexes damaged";
    ASSERT_GE(keys->generation(), generation);
    // Every published event, through the table the open mapped.
    EXPECT_TRUE(positions->Covers(kPublished));
    for (uint64_t p = 1; p <= kPublished; ++p) {
      ASSERT_EQ(positions->Get(p), format::PackLocation(0, p * 64)) << "position " << p;
      bool damaged = false;
      const KeySlot* slot = keys->Find(OwnKey(p), &damaged);
      ASSERT_FALSE(damaged) << "position " << p;
      ASSERT_NE(slot, nullptr) << "the key of position " << p << " is missing";
      PostingCursor c(keys.get(), slot, 1, kPublished, false);
      EXPECT_EQ(c.Next(), p);
      EXPECT_EQ(c.Next(), 0u);
      EXPECT_FALSE(c.failed());
    }
    // And the group, once followed (its generation from the ledger).
    ASSERT_TRUE(keys->Refresh(w.keys.generation()).ok());
    ASSERT_TRUE(positions->RefreshSize().ok());
    EXPECT_TRUE(positions->Covers(w.indexed));
    bool damaged = false;
    const KeySlot* shared = keys->Find(kSharedKey, &damaged);
    ASSERT_NE(shared, nullptr);
    EXPECT_EQ(KeyIndex::Count(shared), w.indexed);
    EXPECT_FALSE(damaged);
  }
  // The steps that matter were among those tried: the writer commits after
  // the opener read a file's size and before it read what the size must
  // cover, and between reading the key table's header and mapping it.
  for (const char* step : {"size positions", "size postings", "pread keys"}) {
    EXPECT_EQ(steps.count(step), 1u) << step;
  }
}

TEST(IndexOpenRace, AReaderOpensWhileTheWriterCommitsAtEveryStep) { OpenAtEveryStep(false); }

TEST(IndexOpenRace, AWritableOpenWhileTheWriterCommitsAtEveryStep) { OpenAtEveryStep(true); }

// The tolerance for a writer's growth must not hide damage: alloc_end beyond
// the file's real end is reported, by the open and by a later check.
TEST(IndexOpenRace, AllocEndBeyondTheFileIsStillDamage) {
  TempDir dir;
  {
    Writer w;
    ASSERT_TRUE(w.Open(dir.path()).ok());
    ASSERT_TRUE(w.Commit(10).ok());
  }
  const uint64_t size = fs::file_size(format::PostingsPath(dir.path()));
  for (uint64_t alloc_end : {size + 8, size + 4096, size * 3}) {
    SCOPED_TRACE("alloc_end " + std::to_string(alloc_end));
    {
      std::unique_ptr<io::Mapping> m = std::make_unique<io::Mapping>();
      ASSERT_TRUE(io::Mapping::Map(format::PostingsPath(dir.path()), 64, true, m.get()).ok());
      std::memcpy(m->mutable_data() + 16, &alloc_end, 8);  // PostingsHeader::alloc_end
    }
    for (bool writable : {false, true}) {
      KeyIndex k;
      Status s = k.Open(dir.path(), writable, 1);
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      std::unique_ptr<PositionIndex> positions;
      std::unique_ptr<KeyIndex> keys;
      EXPECT_FALSE(OpenTrusted(dir.path(), writable, 1, 10, /*alone=*/false, &positions, &keys));
    }
  }
}

}  // namespace
}  // namespace opossum::index
