// A batch being built: each event is checked, encoded and framed as it is
// added, straight into memory laid out as the batch will lie in a segment
// (docs/format-segment.md). Committing it fills in positions, commit
// timestamps and checksums in place (Seal) and writes the bytes as they are:
// the event bytes are copied once, from the encoder into the batch. The
// bytes are a list of pieces (one while events are added one by one; Extend
// appends another batch's pieces without copying them), written with one
// pwritev. Pure memory: no I/O.
#ifndef OPOSSUM_FORMAT_ENCODED_BATCH_H_
#define OPOSSUM_FORMAT_ENCODED_BATCH_H_

#include <cstdint>
#include <span>

#include "base/alloc.h"
#include "format/event_codec.h"
#include "format/layout.h"
#include "opossum/event.h"
#include "opossum/status.h"

namespace opossum::format {

class EncodedBatch {
 public:
  explicit EncodedBatch(uint32_t max_event_size = kMaxEventSizeLimit);
  ~EncodedBatch();
  EncodedBatch(EncodedBatch&& o) noexcept;
  EncodedBatch& operator=(EncodedBatch&& o) noexcept;
  EncodedBatch(const EncodedBatch&) = delete;
  EncodedBatch& operator=(const EncodedBatch&) = delete;

  // Room for `bytes` of framed events without growing (a hint).
  void Reserve(uint64_t bytes);
  // Checks `e` and appends it; on an invalid event (named by its index in
  // the batch) nothing is added.
  Status Add(const Event& e);
  // Appends an event encoded earlier.
  void AddEncoded(const EncodedEvent& e);
  // Moves the events of `other` to the end of this batch: its pieces join
  // this batch's, nothing is copied or encoded again. `other` is left empty.
  void Extend(EncodedBatch&& other);
  void Clear();

  size_t size() const { return offsets_.size(); }
  uint32_t max_event_size() const { return max_event_size_; }
  bool empty() const { return offsets_.empty(); }
  // Bytes the batch takes in a segment (header and records).
  uint64_t length() const { return size_; }
  bool all_ids() const { return !empty() && with_ids_ == size(); }
  bool any_ids() const { return with_ids_ != 0; }
  // Tags of all events (distinct within each event).
  size_t tag_count() const { return tag_hashes_.size(); }

  bool has_id(size_t i) const { return (flags_[i] & kHasId) != 0; }
  const Uuid& id(size_t i) const { return ids_[i]; }
  uint64_t type_hash(size_t i) const { return type_hashes_[i]; }
  std::span<const uint64_t> tag_hashes(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : tag_end_[i - 1];
    return {tag_hashes_.data() + begin, tag_end_[i] - begin};
  }
  // Offset of record i's header from the start of the batch.
  uint64_t record_offset(size_t i) const { return offsets_[i]; }
  // Record i's FlatBuffers Event table.
  const void* table(size_t i) const;

  // Fills in each record's position (from `first_position`), the commit
  // time of records without their own timestamp, every record checksum and
  // the batch header, chained to `prev_checksum`; returns the batch checksum.
  uint64_t Seal(uint64_t first_position, int64_t commit_ns, uint64_t prev_checksum);
  // The framed bytes (whole after Seal), in order: piece k is
  // piece_data(k)[0, piece_size(k)).
  size_t piece_count() const { return pieces_.size(); }
  const uint8_t* piece_data(size_t k) const { return pieces_[k].data + pieces_[k].begin; }
  uint64_t piece_size(size_t k) const { return pieces_[k].size - pieces_[k].begin; }

 private:
  static constexpr uint8_t kHasId = 1, kHasTimestamp = 2;
  // An owned buffer (mimalloc, 8-byte aligned) whose bytes [begin, size)
  // are the batch's bytes [start, start + size - begin). The first piece
  // starts with the batch header.
  struct Piece {
    uint8_t* data = nullptr;
    uint64_t begin = 0;
    uint64_t size = 0;
    uint64_t capacity = 0;
    uint64_t start = 0;
  };
  uint8_t* Grow(uint64_t record_bytes);  // room for one more record
  uint8_t* At(uint64_t offset) const;    // the batch's byte at `offset`
  void FreePieces();

  uint32_t max_event_size_;
  Vec<Piece> pieces_;
  uint64_t size_ = 0;  // the batch's length so far
  Vec<uint64_t> offsets_;
  Vec<uint64_t> type_hashes_;
  Vec<uint32_t> tag_end_;  // tag_hashes_ of event i end here
  Vec<uint64_t> tag_hashes_;
  Vec<Uuid> ids_;
  Vec<uint8_t> flags_;
  size_t with_ids_ = 0;
};

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_ENCODED_BATCH_H_
