#include "log/segments.h"

#include <algorithm>
#include <cstring>

#include "format/checksum.h"
#include "format/filenames.h"
#include "format/layout.h"

namespace opossum::log {

namespace fs = std::filesystem;
using format::SegmentHeader;

namespace {

uint64_t HeaderChecksum(const SegmentHeader& h) { return format::Hash64(&h, 56); }

constexpr uint32_t kWriteBits = 0222, kOwnerWrite = 0200;

// Opens `path` for writing, first giving its owner the write bit when it
// lacks it (a protected segment); *mode is the mode it had.
Status OpenWritable(const fs::path& path, io::File* out, uint32_t* mode) {
  Status s = io::FileMode(path, mode);
  if (!s.ok()) return s;
  if ((*mode & kOwnerWrite) == 0 && !(s = io::SetFileMode(path, *mode | kOwnerWrite)).ok()) {
    return s;
  }
  return io::File::Open(path, io::File::Mode::kReadWrite, out);
}

}  // namespace

SegmentSet::SegmentSet() : slots_(new std::atomic<Segment*>[kMaxSegments]) {
  for (uint64_t i = 0; i < kMaxSegments; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
}
SegmentSet::~SegmentSet() = default;

Status SegmentSet::MapFile(const fs::path& path, uint64_t expected_ordinal, uint64_t first_position,
                           std::unique_ptr<Segment>* out, bool* torn) {
  io::File f;
  Status s = io::File::Open(path, io::File::Mode::kReadOnly, &f);
  if (!s.ok()) return s;
  uint64_t file_size = 0;
  if (!(s = f.Size(&file_size)).ok()) return s;
  SegmentHeader h{};
  // Torn: the header itself is unreadable (not a whole header in the wrong
  // place, which is damage, not an interrupted creation; and not a read
  // that failed, which is an I/O error).
  if (torn != nullptr) *torn = false;
  if (file_size < sizeof(h)) {
    if (torn != nullptr) *torn = true;
    return Status::Corruption("segment " + path.string() + ": file of " +
                              std::to_string(file_size) + " bytes has no header (offset 0)");
  }
  if (!(s = f.PRead(&h, sizeof(h), 0)).ok()) return s;
  if (h.magic != format::kSegmentMagic || h.checksum != HeaderChecksum(h)) {
    if (torn != nullptr) *torn = true;
    return Status::Corruption("segment " + path.string() +
                              ": bad header (magic or checksum) at offset 0");
  }
  if (h.version != format::kSegmentVersion) {
    return Status::NotSupported("segment " + path.string() + ": format version " +
                                std::to_string(h.version) + " is not supported");
  }
  if (h.ordinal != expected_ordinal || h.first_position != first_position ||
      h.size < format::kSegmentHeaderSize) {
    return Status::Corruption("segment " + path.string() +
                              ": header does not match the file's name or place (offset 0)");
  }
  auto seg = std::make_unique<Segment>();
  seg->ordinal = h.ordinal;
  seg->first_position = h.first_position;
  seg->size = h.size;
  seg->file_size = file_size;
  seg->path = path;
  if (!(s = io::Mapping::Map(path, std::min(h.size, file_size), false, &seg->map)).ok()) {
    return s;
  }
  *out = std::move(seg);
  return Status::Ok();
}

Status SegmentSet::Open(const fs::path& dir) {
  dir_ = dir;
  base::MutexLock lock(&mu_);
  return RefreshLocked();
}

Status SegmentSet::Refresh() {
  base::MutexLock lock(&mu_);
  return RefreshLocked();
}

Status SegmentSet::RefreshLocked() {
  std::vector<std::string> names;
  Status s = io::ListDir(dir_, &names);
  if (!s.ok()) return s;
  std::vector<std::pair<uint64_t, std::string>> found;
  for (const std::string& n : names) {
    uint64_t first;
    if (format::ParseSegmentFileName(n, &first)) found.emplace_back(first, n);
  }
  std::sort(found.begin(), found.end());
  uint64_t have = count();
  torn_path_.clear();
  for (uint64_t i = have; i < found.size(); ++i) {
    if (i >= kMaxSegments) return Status::NotSupported("more than 65536 segments");
    std::unique_ptr<Segment> seg;
    bool torn = false;
    s = MapFile(dir_ / found[i].second, i, found[i].first, &seg, &torn);
    if (!s.ok()) {
      if (torn && i + 1 == found.size()) {
        // A creation cut short by a crash: the store decides what to do.
        torn_path_ = dir_ / found[i].second;
        return Status::Ok();
      }
      return s;
    }
    slots_[i].store(seg.get(), std::memory_order_release);
    owned_.push_back(std::move(seg));
    count_.store(i + 1, std::memory_order_release);
  }
  return Status::Ok();
}

const Segment* SegmentSet::Get(uint64_t ordinal) {
  if (const Segment* s = GetIfKnown(ordinal)) return s;
  if (ordinal >= kMaxSegments) return nullptr;
  if (!Refresh().ok()) return nullptr;
  return GetIfKnown(ordinal);
}

Status SegmentSet::Create(uint64_t ordinal, uint64_t first_position, uint64_t size) {
  base::MutexLock lock(&mu_);
  if (ordinal != count()) {
    return Status::Corruption("segment " + std::to_string(ordinal) + " created out of order in " +
                              dir_.string());
  }
  if (ordinal >= kMaxSegments) return Status::NotSupported("more than 65536 segments");
  fs::path path = format::SegmentPath(dir_, first_position);
  io::File f;
  Status s = io::File::Open(path, io::File::Mode::kCreate, &f);
  if (!s.ok()) return s;
  if (!(s = f.Truncate(0)).ok()) return s;
  if (!(s = f.Allocate(0, size)).ok()) return s;
  SegmentHeader h{};
  h.magic = format::kSegmentMagic;
  h.version = format::kSegmentVersion;
  h.first_position = first_position;
  h.size = size;
  h.ordinal = ordinal;
  h.checksum = HeaderChecksum(h);
  if (!(s = f.PWrite(&h, sizeof(h), 0)).ok()) return s;
  if (!(s = f.Sync()).ok()) return s;
  if (!(s = io::SyncDir(dir_)).ok()) return s;
  std::unique_ptr<Segment> seg;
  if (!(s = MapFile(path, ordinal, first_position, &seg, nullptr)).ok()) return s;
  slots_[ordinal].store(seg.get(), std::memory_order_release);
  owned_.push_back(std::move(seg));
  count_.store(ordinal + 1, std::memory_order_release);
  torn_path_.clear();
  return Status::Ok();
}

Status SegmentSet::Grow(uint64_t ordinal, uint64_t size) {
  base::MutexLock lock(&mu_);
  Segment* old = ordinal < count() ? slots_[ordinal].load(std::memory_order_acquire) : nullptr;
  if (old == nullptr || ordinal + 1 != count()) {
    return Status::Corruption("segment " + std::to_string(ordinal) + " to grow is not the last");
  }
  if (size <= old->size) return Status::Ok();
  io::File f;
  Status s = io::File::Open(old->path, io::File::Mode::kReadWrite, &f);
  if (!s.ok()) return s;
  // Space first (a full disk fails here, with nothing changed), then the
  // header that claims it. A crash in between leaves the old header: the
  // store maps and uses the old size, and the next append grows again.
  if (!(s = f.Allocate(0, size)).ok()) return s;
  SegmentHeader h{};
  if (!(s = f.PRead(&h, sizeof(h), 0)).ok()) return s;
  h.size = size;
  h.checksum = HeaderChecksum(h);
  if (!(s = f.PWrite(&h, sizeof(h), 0)).ok()) return s;
  if (!(s = f.Sync()).ok()) return s;
  std::unique_ptr<Segment> seg;
  if (!(s = MapFile(old->path, ordinal, old->first_position, &seg, nullptr)).ok()) return s;
  // The old object stays owned (readers may hold it) until the set goes.
  slots_[ordinal].store(seg.get(), std::memory_order_release);
  owned_.push_back(std::move(seg));
  return Status::Ok();
}

bool SegmentSet::Reload(uint64_t ordinal) {
  base::MutexLock lock(&mu_);
  Segment* old = ordinal < count() ? slots_[ordinal].load(std::memory_order_acquire) : nullptr;
  if (old == nullptr) return false;
  std::unique_ptr<Segment> seg;
  if (!MapFile(old->path, ordinal, old->first_position, &seg, nullptr).ok() ||
      seg->mapped() <= old->mapped()) {
    return false;
  }
  slots_[ordinal].store(seg.get(), std::memory_order_release);
  owned_.push_back(std::move(seg));
  return true;
}

Status SegmentSet::RemoveFrom(uint64_t ordinal) {
  base::MutexLock lock(&mu_);
  uint64_t n = count();
  for (uint64_t i = ordinal; i < n; ++i) {
    Segment* seg = slots_[i].load(std::memory_order_acquire);
    Status s = io::RemoveFile(seg->path);
    if (!s.ok()) return s;
    slots_[i].store(nullptr, std::memory_order_release);
  }
  if (!torn_path_.empty()) {
    Status s = io::RemoveFile(torn_path_);
    if (!s.ok()) return s;
    torn_path_.clear();
  }
  if (ordinal < n) count_.store(ordinal, std::memory_order_release);
  return io::SyncDir(dir_);
}

Status SegmentSet::Repair(uint64_t ordinal) {
  base::MutexLock lock(&mu_);
  Segment* seg = slots_[ordinal].load(std::memory_order_acquire);
  if (seg == nullptr || seg->file_size >= seg->size) return Status::Ok();
  io::File f;
  uint32_t mode = 0;
  Status s = OpenWritable(seg->path, &f, &mode);
  if (!s.ok()) return s;
  if (!(s = f.Allocate(0, seg->size)).ok()) return s;
  if (!(s = f.Sync()).ok()) return s;
  if ((mode & kOwnerWrite) == 0 && !(s = io::SetFileMode(seg->path, mode)).ok()) return s;
  std::unique_ptr<Segment> fresh;
  if (!(s = MapFile(seg->path, seg->ordinal, seg->first_position, &fresh, nullptr)).ok()) return s;
  slots_[ordinal].store(fresh.get(), std::memory_order_release);
  owned_.push_back(std::move(fresh));  // the old map stays valid for readers
  return Status::Ok();
}

Status SegmentSet::SetProtected(uint64_t ordinal, bool on) {
  const Segment* seg = Get(ordinal);
  if (seg == nullptr) {
    return Status::Corruption("segment " + std::to_string(ordinal) + " is missing in " +
                              dir_.string());
  }
  uint32_t mode = 0;
  Status s = io::FileMode(seg->path, &mode);
  if (!s.ok()) return s;
  const uint32_t want = on ? mode & ~kWriteBits : mode | kOwnerWrite;
  return want == mode ? Status::Ok() : io::SetFileMode(seg->path, want);
}

Status SegmentSet::OpenForWrite(uint64_t ordinal, io::File* out) {
  const Segment* seg = Get(ordinal);
  if (seg == nullptr) {
    return Status::Corruption("segment " + std::to_string(ordinal) + " is missing");
  }
  uint32_t mode = 0;
  return OpenWritable(seg->path, out, &mode);
}

Status SegmentSet::Sync(uint64_t ordinal) {
  const Segment* seg = Get(ordinal);
  if (seg == nullptr) return Status::Ok();
  io::File f;
  Status s = io::File::Open(seg->path, io::File::Mode::kReadOnly, &f);
  return s.ok() ? f.DataSync() : s;
}

bool SegmentsHoldBatches(const fs::path& dir) {
  // The ledger is created last: a creation cut short leaves at most the
  // first segment with nothing after its header.
  std::vector<std::string> names;
  if (!io::ListDir(dir, &names).ok()) return false;
  if (names.empty()) return false;
  if (names.size() > 1 || names[0] != format::SegmentFileName(1)) return true;
  io::File f;
  uint64_t size = 0;
  uint32_t magic = 0;
  if (!io::File::Open(dir / names[0], io::File::Mode::kReadOnly, &f).ok() || !f.Size(&size).ok() ||
      size < format::kSegmentHeaderSize + sizeof(magic)) {
    return false;
  }
  // Unreadable: say so rather than take it for empty.
  if (!f.PRead(&magic, sizeof(magic), format::kSegmentHeaderSize).ok()) return true;
  return magic != 0;
}

uint64_t SegmentSet::bytes_on_disk() const {
  uint64_t total = 0;
  for (uint64_t i = 0; i < count(); ++i) {
    // RemoveFrom clears a slot before it lowers the count.
    if (const Segment* seg = slots_[i].load(std::memory_order_acquire)) total += seg->file_size;
  }
  return total;
}

}  // namespace opossum::log
