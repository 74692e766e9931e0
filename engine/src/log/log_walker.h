// Walks the batches of the log in order from a known state, across segment
// boundaries, checking each (record checksums, positions, the checksum
// chain). The one walk behind recovery, index rebuilds and Verify.
#ifndef OPOSSUM_LOG_LOG_WALKER_H_
#define OPOSSUM_LOG_LOG_WALKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "format/batch.h"
#include "log/ledger.h"
#include "log/segments.h"

namespace opossum::log {

class LogWalker {
 public:
  // From `start` (head, segment, end offset, chain checksum). With `deep`,
  // each record's FlatBuffers table is verified too. It walks the segments
  // `segments` knows: refresh the set first if others may have been created.
  LogWalker(SegmentSet* segments, const LogState& start, bool deep)
      : segments_(segments), state_(start), deep_(deep) {}

  enum class Step {
    kBatch,    // a valid batch: info(), offsets(); state() moved past it
    kEnd,      // zeros (or the end of the last segment): the log ends here
    kInvalid,  // bytes that are not a valid next batch: why(), at Where()
               // (in state()'s segment, or at the start of the next one)
    kMissing,  // the segment of state() does not exist
  };
  // A batch continues in the next segment only when the current one holds
  // nothing more and the next one starts with the next position and a valid
  // batch.
  Step Next();

  const LogState& state() const { return state_; }
  const format::BatchInfo& info() const { return info_; }
  // Record offsets (within the batch's segment) of the last batch.
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  uint64_t batch_segment() const { return batch_segment_; }
  const std::string& why() const { return why_; }
  // "segment <path> offset <n>" where the walk stopped, for messages.
  std::string Where() const;
  // The segment where an invalid batch was found.
  uint64_t where_segment() const { return where_segment_; }
  // The segment state() is in (nullptr after kMissing).
  const Segment* segment() const { return segments_->GetIfKnown(state_.segment); }

 private:
  SegmentSet* segments_;
  LogState state_;
  bool deep_;
  format::BatchInfo info_;
  std::vector<uint64_t> offsets_;
  uint64_t batch_segment_ = 0;
  uint64_t where_segment_ = 0, where_offset_ = 0;
  std::string why_;
};

}  // namespace opossum::log

#endif  // OPOSSUM_LOG_LOG_WALKER_H_
