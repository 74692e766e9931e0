// LogWriter: the writer of a store's log, and its recovery. It knows where
// the log ends (a LogState: head, segment, offset, chain checksum) and makes
// every change to the segments and to the ledger's commit point:
//
//  - Write: a group of batches, sealed in place and written with one pwritev
//    per segment touched; segments are chosen, grown and rolled here, each
//    segment left behind is synced (and, with write_protect, made read-only),
//    and a group whose write or sync fails is marked in the ledger and
//    zeroed, so that none of its bytes is ever taken for a batch.
//  - Commit / Checkpoint: the ledger's commit slot (and checkpoint slot) for
//    the log as written, and the head published to readers.
//  - Follow / AdoptTail: catching up with the commits of other processes, and
//    adopting (or zeroing and cutting) what a dead writer left after the
//    commit point.
//  - RepairSegments / Replay / FinishRecovery: recovery at open
//    (docs/architecture.md, "Crash story").
//
// The indexes are not the log's: the caller passes a BatchFn that is called
// for each batch adopted or replayed (to fill the position index), and
// indexes what Write reports before it commits. Every method but the
// protection of old segments needs the store's write lock (and its write
// mutex).
#ifndef OPOSSUM_LOG_LOG_WRITER_H_
#define OPOSSUM_LOG_LOG_WRITER_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "format/encoded_batch.h"
#include "io/file.h"
#include "log/ledger.h"
#include "log/segments.h"
#include "opossum/status.h"

namespace opossum::log {

class LogWriter {
 public:
  struct Config {
    uint64_t segment_size = 0;  // Options::segment_size: the largest new segment
    // Durability::kSync: every group's last segment is synced too (any mode
    // syncs the segments a group leaves behind).
    bool sync_each_group = true;
    bool write_protect = false;  // Options::write_protect_segments
  };
  // Called for each whole batch found in the log (adopted or replayed): its
  // first position, the segment it lies in and its records' offsets there.
  using BatchFn = std::function<Status(uint64_t first_position, uint64_t segment,
                                       const std::vector<uint64_t>& record_offsets)>;

  LogWriter(SegmentSet* segments, Ledger* ledger, const Config& config)
      : segments_(segments), ledger_(ledger), config_(config) {}

  // Where the log ends, as this writer knows it.
  const LogState& state() const { return state_; }
  uint64_t head() const { return state_.head; }

  // --- Writing (log_writer.cc) ---

  // Seals `batches` for the positions after head(), in order, and writes
  // them: a batch that does not fit the segment the log ends in starts the
  // next one (a new store's empty first segment grows instead). Appends each
  // event's location (format::PackLocation) to *locations. On success the
  // log ends after the last batch (not yet committed: Commit). On failure
  // nothing of the group can ever be read as a batch, and the log still ends
  // where it did.
  Status Write(std::span<format::EncodedBatch* const> batches, std::vector<uint64_t>* locations);
  // Writes the commit slot for state() (and, with `checkpoint`, the
  // checkpoint slot: its bytes are synced) and publishes the head.
  void Commit(bool checkpoint);
  // Syncs the segment the log ends in (it may hold unsynced bytes of any
  // buffered writer), checkpoints the latest commit and syncs the ledger.
  Status Checkpoint();
  // With write_protect: every segment before the committed one is made
  // read-only (segments written without the option, or left writable by a
  // crash between a segment's sync and its protection). The commit only
  // moves forward, so no writer needs them again.
  Status ProtectOldSegments();

  // --- Following and recovering (recovery.cc) ---

  // Takes the ledger's latest commit when another process committed since
  // this writer's state (*moved), and maps the segments it created or grew.
  Status Follow(bool* moved);
  // Adopts the whole batches a dead writer left after state(), calling
  // on_batch for each (*changed when any). The log then ends at the last of
  // them: what follows (a torn batch, stale bytes, a group marked failed,
  // later segments) is zeroed or removed. A whole batch that fails the
  // checksum chain right at the commit means the ledger belongs to another
  // log: kCorruption, nothing changed.
  Status AdoptTail(const BatchFn& on_batch, bool* changed);

  // At open, alone: removes a segment whose creation was cut short (only
  // one beyond every commit; any other damaged header is kCorruption), and
  // re-extends segments shorter than their headers say.
  Status RepairSegments();
  // Starts from the ledger's latest commit (kCorruption when none is valid).
  Status StartFromCommit();
  // The head of the latest checkpoint (0 when none is valid).
  uint64_t CheckpointHead() const;
  // Walks the log from its start up to `through` (a checkpointed head,
  // whose bytes were synced), calling on_batch for each batch; the log then
  // ends there. A log that ends early, or a batch that fails its checks,
  // below `through` is kCorruption: reported, never cut.
  Status Replay(uint64_t through, const BatchFn& on_batch);
  // The recovered log becomes the commit and the checkpoint: the segments
  // from the last checkpoint's to the one the log ends in are synced first.
  Status FinishRecovery();

 private:
  struct Placement;
  // This writer's descriptor for segment `ordinal` (kept for the next group).
  Status SegmentFile(uint64_t ordinal, io::File** out);
  // Overwrites with zeros whatever is not zero in `seg` from `offset` on,
  // then syncs it.
  Status ZeroFrom(const Segment* seg, uint64_t offset);

  SegmentSet* const segments_;
  Ledger* const ledger_;
  const Config config_;
  LogState state_;
  uint64_t write_ordinal_ = ~uint64_t{0};
  io::File write_file_;
};

}  // namespace opossum::log

#endif  // OPOSSUM_LOG_LOG_WRITER_H_
