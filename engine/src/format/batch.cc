#include "format/batch.h"

#include <cstring>

#include "format/checksum.h"
#include "format/encoded_batch.h"

namespace opossum::format {

uint64_t BatchLength(const Vec<EncodedEvent>& events) {
  uint64_t n = kBatchHeaderSize;
  for (const EncodedEvent& e : events) n += Align8(kRecordHeaderSize + e.bytes.size());
  return n;
}

uint64_t AppendBatch(const Vec<EncodedEvent>& events, uint64_t first_position, int64_t commit_ns,
                     uint64_t prev_checksum, std::vector<uint8_t>* out,
                     std::vector<uint64_t>* record_offsets) {
  EncodedBatch batch;
  batch.Reserve(BatchLength(events));
  for (const EncodedEvent& e : events) batch.AddEncoded(e);
  const uint64_t checksum = batch.Seal(first_position, commit_ns, prev_checksum);
  const uint64_t start = out->size();
  for (size_t k = 0; k < batch.piece_count(); ++k) {
    out->insert(out->end(), batch.piece_data(k), batch.piece_data(k) + batch.piece_size(k));
  }
  if (record_offsets) {
    for (size_t i = 0; i < batch.size(); ++i)
      record_offsets->push_back(start + batch.record_offset(i));
  }
  return checksum;
}

bool CheckRecord(const uint8_t* data, uint64_t limit, uint64_t offset, uint64_t position,
                 const RecordHeader** header, std::string* why) {
  if (offset % kAlign != 0 || offset > limit || limit - offset < kRecordHeaderSize) {
    *why = "record offset out of bounds";
    return false;
  }
  const auto* rh = reinterpret_cast<const RecordHeader*>(data + offset);
  if (rh->length == 0 || rh->length > limit - offset - kRecordHeaderSize) {
    *why = "record length " + std::to_string(rh->length) + " out of bounds";
    return false;
  }
  if (rh->position != position) {
    *why = "record holds position " + std::to_string(rh->position) + ", expected " +
           std::to_string(position);
    return false;
  }
  if (RecordChecksum(data + offset, rh->length) != rh->checksum) {
    *why = "record checksum mismatch";
    return false;
  }
  *header = rh;
  return true;
}

BatchCheck CheckBatch(const uint8_t* data, uint64_t limit, uint64_t offset, uint64_t expected_first,
                      uint64_t prev_checksum, bool deep, BatchInfo* info,
                      std::vector<uint64_t>* record_offsets, std::string* why) {
  if (offset > limit || limit - offset < kBatchHeaderSize) {
    *why = "no room for a batch header";
    return BatchCheck::kEmpty;
  }
  BatchHeader bh;
  std::memcpy(&bh, data + offset, sizeof(bh));
  if (bh.magic == 0 && bh.count == 0 && bh.first_position == 0 && bh.length == 0 &&
      bh.checksum == 0) {
    return BatchCheck::kEmpty;
  }
  if (bh.magic != kBatchMagic) {
    *why = "bad batch magic";
    return BatchCheck::kInvalid;
  }
  if (bh.first_position != expected_first) {
    *why = "batch starts at position " + std::to_string(bh.first_position) + ", expected " +
           std::to_string(expected_first);
    return BatchCheck::kInvalid;
  }
  if (bh.count == 0 || bh.length % kAlign != 0 ||
      bh.length < kBatchHeaderSize + uint64_t{bh.count} * kRecordHeaderSize ||
      bh.length > limit - offset) {
    *why = "batch length " + std::to_string(bh.length) + " or count " + std::to_string(bh.count) +
           " out of bounds";
    return BatchCheck::kInvalid;
  }
  uint64_t off = offset + kBatchHeaderSize;
  const uint64_t end = offset + bh.length;
  size_t first_record = record_offsets ? record_offsets->size() : 0;
  thread_local std::vector<uint32_t> sums;
  sums.clear();
  auto invalid = [&]() {
    if (record_offsets) record_offsets->resize(first_record);
    return BatchCheck::kInvalid;
  };
  for (uint32_t i = 0; i < bh.count; ++i) {
    const RecordHeader* rh;
    if (!CheckRecord(data, end, off, bh.first_position + i, &rh, why)) return invalid();
    if (deep && !VerifyEventBytes(data + off + kRecordHeaderSize, rh->length)) {
      *why = "record at position " + std::to_string(rh->position) +
             " is not a well-formed event table";
      return invalid();
    }
    sums.push_back(rh->checksum);
    if (record_offsets) record_offsets->push_back(off);
    uint64_t next = off + Align8(kRecordHeaderSize + rh->length);
    for (uint64_t pad = off + kRecordHeaderSize + rh->length; pad < next; ++pad) {
      if (pad >= end || data[pad] != 0) {  // every byte of a batch is accounted for
        *why = "non-zero padding after the record at position " + std::to_string(rh->position);
        return invalid();
      }
    }
    off = next;
  }
  if (off != end) {
    *why = "batch records do not fill its length";
    return invalid();
  }
  if (BatchChecksum(data + offset, sums.data(), sums.size(), prev_checksum) != bh.checksum) {
    *why = kChainMismatch;
    return invalid();
  }
  info->count = bh.count;
  info->first_position = bh.first_position;
  info->length = bh.length;
  info->checksum = bh.checksum;
  return BatchCheck::kValid;
}

}  // namespace opossum::format
