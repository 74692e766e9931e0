// Framing batches of events into bytes and checking them back
// (docs/format-segment.md). Pure functions on memory: no I/O.
#ifndef OPOSSUM_FORMAT_BATCH_H_
#define OPOSSUM_FORMAT_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "format/event_codec.h"
#include "format/layout.h"

namespace opossum::format {

// Bytes one batch of these events takes in a segment.
uint64_t BatchLength(const Vec<EncodedEvent>& events);

// Appends the framed batch of these (at least one) events to *out (which
// must be 8-byte aligned in size), framed and sealed by EncodedBatch, and
// returns its checksum (the next batch's chain seed). Record offsets
// (relative to the start of *out) are appended to *record_offsets.
uint64_t AppendBatch(const Vec<EncodedEvent>& events, uint64_t first_position, int64_t commit_ns,
                     uint64_t prev_checksum, std::vector<uint8_t>* out,
                     std::vector<uint64_t>* record_offsets);

struct BatchInfo {
  uint32_t count = 0;
  uint64_t first_position = 0;
  uint64_t length = 0;
  uint64_t checksum = 0;
};

// The `why` of a batch that is whole (every record intact, the expected
// positions) but does not continue the checksum chain.
inline constexpr char kChainMismatch[] = "batch checksum mismatch";

enum class BatchCheck {
  kValid,
  kEmpty,    // zeros: nothing was ever written here
  kInvalid,  // bytes that are not a whole batch continuing the chain
};

// Checks the batch at data[offset] (limit = bytes readable in data): magic,
// expected first position, length in bounds, the chained checksum, and each
// record's header, checksum and position. With `deep`, also verifies each
// record's FlatBuffers table. On kValid fills *info and, if given, the
// record offsets.
BatchCheck CheckBatch(const uint8_t* data, uint64_t limit, uint64_t offset, uint64_t expected_first,
                      uint64_t prev_checksum, bool deep, BatchInfo* info,
                      std::vector<uint64_t>* record_offsets, std::string* why);

// Checks the record at data[offset] for `position`; on success *header
// points at its header, which its FlatBuffers bytes follow. *why says what is
// wrong otherwise.
bool CheckRecord(const uint8_t* data, uint64_t limit, uint64_t offset, uint64_t position,
                 const RecordHeader** header, std::string* why);

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_BATCH_H_
