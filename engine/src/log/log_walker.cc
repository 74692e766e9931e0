#include "log/log_walker.h"

namespace opossum::log {

LogWalker::Step LogWalker::Next() {
  where_segment_ = state_.segment;
  where_offset_ = state_.end_offset;
  // Only the segments already known: the caller refreshes the set when the
  // ledger counts more (a folder listing per commit would cost more than
  // the commit).
  const Segment* seg = segments_->GetIfKnown(state_.segment);
  if (seg == nullptr) return Step::kMissing;
  offsets_.clear();
  why_.clear();
  format::BatchCheck c =
      format::CheckBatch(seg->data(), seg->mapped(), state_.end_offset, state_.head + 1,
                         state_.last_checksum, deep_, &info_, &offsets_, &why_);
  uint64_t ordinal = state_.segment;
  if (c == format::BatchCheck::kEmpty) {
    const Segment* next = segments_->GetIfKnown(state_.segment + 1);
    if (next == nullptr || next->first_position != state_.head + 1) return Step::kEnd;
    c = format::CheckBatch(next->data(), next->mapped(), format::kSegmentHeaderSize,
                           state_.head + 1, state_.last_checksum, deep_, &info_, &offsets_, &why_);
    if (c != format::BatchCheck::kValid) {
      where_segment_ = state_.segment + 1;
      where_offset_ = format::kSegmentHeaderSize;
      return c == format::BatchCheck::kEmpty ? Step::kEnd : Step::kInvalid;
    }
    ordinal = state_.segment + 1;
    state_.segment = ordinal;
    state_.end_offset = format::kSegmentHeaderSize;
  } else if (c == format::BatchCheck::kInvalid) {
    return Step::kInvalid;
  }
  batch_segment_ = ordinal;
  state_.head += info_.count;
  state_.end_offset += info_.length;
  state_.last_checksum = info_.checksum;
  return Step::kBatch;
}

std::string LogWalker::Where() const {
  const Segment* seg = segments_->GetIfKnown(where_segment_);
  return "segment " + (seg ? seg->path.string() : std::to_string(where_segment_)) + " offset " +
         std::to_string(where_offset_);
}

}  // namespace opossum::log
