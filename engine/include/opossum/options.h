// Options for opening a store, each with its default and its trade-off.
//
// Thread safety: plain values, read once by Store::Open.
#ifndef OPOSSUM_OPTIONS_H_
#define OPOSSUM_OPTIONS_H_

#include <chrono>
#include <cstdint>

namespace opossum {

enum class Durability : uint8_t {
  // Default. Append returns once the batch is on stable storage (fdatasync).
  // Survives a process crash and a power loss. Concurrent appenders in one
  // process share one sync (group commit), so the cost per event falls as
  // the number of appending threads grows.
  kSync = 0,
  // Append returns once the batch is in the operating system's page cache.
  // Survives a process crash; a power loss may drop the last moments of
  // appends, but never part of a batch and never a batch before a later one
  // that survived. Much faster for one thread; the data is synced at
  // segment changes, at Sync() and at a clean close.
  kBuffered = 1,
};

struct Options {
  // Default kSync; see Durability.
  Durability durability = Durability::kSync;

  // Create the store's folder when it does not exist (default true). When
  // false, opening a missing store gives kNotFound.
  bool create_if_missing = true;

  // Open for reading only (default false): no file is created or changed,
  // Append gives kNotSupported. Reads see other processes' appends.
  bool read_only = false;

  // Largest size of a preallocated segment file (default 64 MiB, 1 MiB to
  // 1 TiB). Segments start small and double: a new store's first segment is
  // 1 MiB, each next one twice the previous, up to this size (1, 2, 4, ...,
  // 64, 64, ... MiB), so a small store takes about 1 MiB of disk. Larger
  // segments mean fewer files and fewer segment changes (each costs a file
  // creation and a directory sync). A batch larger than the next size gets a
  // segment of its own size. A store made with all segments at this size
  // (by earlier versions) goes on at this size.
  uint64_t segment_size = 64ull << 20;

  // Largest event (type, tags, data and metadata encoded), default 16 MiB,
  // at most 256 MiB. Larger events are rejected as invalid.
  uint32_t max_event_size = 16u << 20;

  // How long Append waits for the write lock held by another process
  // before it gives kBusy (default 10 s).
  std::chrono::milliseconds lock_timeout{10000};

  // Most bytes one group commit writes (default 8 MiB): bounds the latency
  // a leader adds for the appenders queued behind it.
  uint64_t max_group_bytes = 8ull << 20;

  // Write-protect full segments (default false). Once the log has moved past
  // a segment and the segment is synced, its write bits are cleared (0644
  // becomes 0444; other bits are kept), so that no tool or user edits
  // history by accident: the store only ever writes the segment the log ends
  // in. A writable open with the option also protects every earlier segment
  // still writable (written without it, or left so by a crash). Reads,
  // read-only opens and later opens without the option work as before and
  // change no modes. This guards against accidents, not against root, whom
  // mode bits do not stop. Costs a stat and a chmod per segment change, and
  // a stat per segment at a writable open. The process must own the files:
  // a chmod that fails fails, with kIOError, the append that leaves the
  // segment (nothing of it is committed) or the open.
  bool write_protect_segments = false;
};

}  // namespace opossum

#endif  // OPOSSUM_OPTIONS_H_
