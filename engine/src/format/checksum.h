// Checksums and hashes (XXH3) used by every file format.
#ifndef OPOSSUM_FORMAT_CHECKSUM_H_
#define OPOSSUM_FORMAT_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace opossum::format {

uint64_t Hash64(const void* data, size_t size, uint64_t seed = 0);

// CRC-32C (Castagnoli) of `size` bytes.
uint32_t Crc32c(const void* data, size_t size);
// The same value from the byte-at-a-time table (what Crc32c uses without
// SSE 4.2); for tests.
uint32_t Crc32cPortable(const void* data, size_t size);

// Checksum of a record: CRC-32C of bytes [8, 24 + length) of the record.
uint32_t RecordChecksum(const uint8_t* record, uint32_t fb_length);

// Checksum of a batch (see BatchHeader::checksum): over the first 24 bytes
// of its header, its records' checksums and the previous batch's checksum.
uint64_t BatchChecksum(const uint8_t* header, const uint32_t* record_checksums, size_t count,
                       uint64_t prev_checksum);

// Index keys: the kinds are persistent (on-disk format).
enum class KeyKind : uint64_t { kTag = 1, kType = 2, kId = 3 };
// Never 0 (0 marks an empty slot in the key table).
uint64_t KeyHash(KeyKind kind, std::string_view bytes);

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_CHECKSUM_H_
