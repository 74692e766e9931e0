// The segment files of a store: append-only, preallocated, named by their
// first position (20 digits, so name order is position order), each mapped
// read-only for zero-copy reads (docs/format-segment.md). The writer adds
// bytes with pwrite on its own descriptor; the shared page cache makes them
// visible through every process's map at once.
//
// Thread safety: Get/count are lock-free and may race with Add/Refresh; a
// Segment object, once published, is never freed before the set.
#ifndef OPOSSUM_LOG_SEGMENTS_H_
#define OPOSSUM_LOG_SEGMENTS_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "format/filenames.h"
#include "format/layout.h"
#include "io/file.h"
#include "opossum/status.h"

namespace opossum::log {

constexpr uint64_t kMaxSegments = 1 << 16;

// Segments start small and double up to Options::segment_size, so that a
// small store takes little disk while a large one still changes segments
// rarely. Each is preallocated at its size when created and keeps it.
//
// A new store's first segment: 1 MiB (the smallest segment_size allowed),
// or segment_size when that is smaller.
constexpr uint64_t kFirstSegmentSize = uint64_t{1} << 20;
constexpr uint64_t FirstSegmentSize(uint64_t segment_size) {
  return std::min(kFirstSegmentSize, segment_size);
}
// The size of the segment that follows one of `previous_size` bytes, or of
// a new store's empty first segment grown in place, for a batch of
// `batch_length` bytes that did not fit: twice the previous size, within
// [FirstSegmentSize, segment_size], and never less than the batch needs
// (header + batch). Only the previous segment's size counts, so the rule
// continues from any store: one whose segments are all segment_size (made
// before segments started small) goes on at segment_size, and a segment_size
// raised since goes on doubling up to the new one.
constexpr uint64_t NextSegmentSize(uint64_t previous_size, uint64_t segment_size,
                                   uint64_t batch_length) {
  const uint64_t step =
      std::clamp(previous_size > segment_size / 2 ? segment_size : 2 * previous_size,
                 FirstSegmentSize(segment_size), segment_size);
  return std::max(step, format::Align8(format::kSegmentHeaderSize + batch_length));
}

struct Segment {
  uint64_t ordinal = 0;
  uint64_t first_position = 0;
  uint64_t size = 0;       // size from the header (the preallocated size)
  uint64_t file_size = 0;  // actual file size when mapped
  std::filesystem::path path;
  io::Mapping map;  // read-only, min(size, file_size) bytes

  const uint8_t* data() const { return map.data(); }
  uint64_t mapped() const { return map.size(); }
};

// The file name of the segment that starts at a position (format/filenames.h).
using format::SegmentFileName;

// Whether the segments folder `dir` holds any batch (false: empty, or a
// store's creation cut short before its ledger was written).
bool SegmentsHoldBatches(const std::filesystem::path& dir);

class SegmentSet {
 public:
  SegmentSet();
  ~SegmentSet();

  // Maps every segment in `dir`. A last segment whose header is unreadable
  // (a creation cut short by a crash) is skipped and reported in torn_path().
  Status Open(const std::filesystem::path& dir);
  // Maps segments created since (by another process).
  Status Refresh();

  uint64_t count() const { return count_.load(std::memory_order_acquire); }
  // nullptr when `ordinal` does not exist (after a Refresh).
  const Segment* Get(uint64_t ordinal);
  const Segment* GetIfKnown(uint64_t ordinal) const {
    return ordinal < count() ? slots_[ordinal].load(std::memory_order_acquire) : nullptr;
  }

  // Creates, preallocates and syncs a new segment file (replacing a
  // leftover file of that name) and maps it.
  Status Create(uint64_t ordinal, uint64_t first_position, uint64_t size);
  // Makes segment `ordinal` (the last, holding no batch yet) `size` bytes
  // long: extends the file, rewrites its header's size, syncs, and maps it
  // again. Other processes see the larger map after Reload.
  Status Grow(uint64_t ordinal, uint64_t size);
  // Maps segment `ordinal` again when its header says it grew since this
  // process mapped it (another process's Grow). True when it did.
  bool Reload(uint64_t ordinal);
  // Deletes the segments with ordinal >= `ordinal` (cutting a torn tail).
  Status RemoveFrom(uint64_t ordinal);
  // Re-extends a segment file that is shorter than its header says (a
  // damaged tail) with zeros, and remaps it. A protected segment gets its
  // mode back afterwards.
  Status Repair(uint64_t ordinal);

  // Options::write_protect_segments. With `on`, clears every write bit of
  // segment `ordinal` (0644 becomes 0444); without, gives its owner the
  // write bit back. Nothing is changed when the bits are already so. Only
  // for a segment the log has moved past (on), or one at or beyond its end.
  Status SetProtected(uint64_t ordinal, bool on);
  // Opens segment `ordinal` for writing. The store writes only at or beyond
  // the end of the log, where a segment is protected only when a crash came
  // between its protection and the commit that moved past it (recovery
  // then removed the next one): its owner's write bit is restored first.
  Status OpenForWrite(uint64_t ordinal, io::File* out);
  // fdatasync of segment `ordinal` (nothing when it does not exist), through
  // a read-only descriptor: a write-protected segment needs no write access.
  Status Sync(uint64_t ordinal);

  const std::filesystem::path& dir() const { return dir_; }
  // A copy, taken under the lock: any thread's Refresh (a reader's Get of a
  // segment it does not know yet) rewrites it.
  std::filesystem::path torn_path() const {
    base::MutexLock lock(&mu_);
    return torn_path_;
  }
  uint64_t bytes_on_disk() const;

 private:
  Status MapFile(const std::filesystem::path& path, uint64_t expected_ordinal,
                 uint64_t first_position, std::unique_ptr<Segment>* out, bool* torn);
  Status RefreshLocked() REQUIRES(mu_);

  std::filesystem::path dir_;
  std::unique_ptr<std::atomic<Segment*>[]> slots_;
  std::atomic<uint64_t> count_{0};
  mutable base::Mutex mu_;  // changes to the set (slots_ and count_ are read without it)
  std::vector<std::unique_ptr<Segment>> owned_ GUARDED_BY(mu_);
  std::filesystem::path torn_path_ GUARDED_BY(mu_);
};

}  // namespace opossum::log

#endif  // OPOSSUM_LOG_SEGMENTS_H_
