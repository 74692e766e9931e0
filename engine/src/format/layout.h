// The bytes on disk of segments and records (docs/format-segment.md).
// ON-DISK FORMAT: every constant and field offset here is persistent; change
// them only together with the version number and a migration.
#ifndef OPOSSUM_FORMAT_LAYOUT_H_
#define OPOSSUM_FORMAT_LAYOUT_H_

#include <cstdint>
#include <cstring>

namespace opossum::format {

constexpr uint64_t kSegmentMagic = 0x314745534d53504fULL;  // "OPSMSEG1" little-endian
constexpr uint32_t kSegmentVersion = 2;                    // 2: CRC-32C record checksums
constexpr uint64_t kSegmentHeaderSize = 64;

constexpr uint32_t kBatchMagic = 0x5442504fU;  // "OPBT"
constexpr uint64_t kBatchHeaderSize = 32;
constexpr uint64_t kRecordHeaderSize = 24;
constexpr uint64_t kAlign = 8;

inline constexpr uint64_t Align8(uint64_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

// Segment header, at offset 0 of every segment file.
struct SegmentHeader {
  uint64_t magic;    // kSegmentMagic
  uint32_t version;  // kSegmentVersion
  uint32_t reserved0;
  uint64_t first_position;  // position of the segment's first event
  uint64_t size;            // file size chosen at creation (preallocated)
  uint64_t ordinal;         // 0 for the first segment, then 1, 2, ...
  uint64_t reserved1[2];
  uint64_t checksum;  // XXH3-64 of bytes [0, 56)
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);

// Batch header: one per appended batch, 8-byte aligned in a segment.
struct BatchHeader {
  uint32_t magic;           // kBatchMagic
  uint32_t count;           // events in the batch (>= 1)
  uint64_t first_position;  // position of its first event
  uint64_t length;          // bytes of header + records, a multiple of 8
  // XXH3-64 of the records' checksums (an array of little-endian uint32,
  // in record order), seeded with XXH3-64(bytes [0,24)) XOR the previous
  // batch's checksum (0 before the first batch of the store). Each record's
  // own checksum covers its bytes; the chain makes stale bytes from an
  // earlier life of a file never valid.
  uint64_t checksum;
};
static_assert(sizeof(BatchHeader) == kBatchHeaderSize);

// Record header: one per event, followed by `length` bytes of a FlatBuffers
// `opossum.fb.Event` table, then zero padding to 8 bytes.
struct RecordHeader {
  uint32_t length;    // FlatBuffers bytes
  uint32_t checksum;  // CRC-32C of bytes [8, 24 + length)
  uint64_t position;
  int64_t timestamp_ns;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);

// Position index entry: which segment (its ordinal) and the offset of the
// record header within it.
constexpr int kOffsetBits = 40;
inline constexpr uint64_t PackLocation(uint64_t ordinal, uint64_t offset) {
  return (ordinal << kOffsetBits) | offset;
}
inline constexpr uint64_t LocationOrdinal(uint64_t loc) { return loc >> kOffsetBits; }
inline constexpr uint64_t LocationOffset(uint64_t loc) {
  return loc & ((uint64_t{1} << kOffsetBits) - 1);
}

template <typename T>
inline T LoadUnaligned(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_LAYOUT_H_
