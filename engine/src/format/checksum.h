// The checksums of the file formats: CRC-32C for each record, XXH3-64 for
// headers, ledger slots and the chain of batch checksums (the key index's
// hashes are in format/key_hash.h).
#ifndef OPOSSUM_FORMAT_CHECKSUM_H_
#define OPOSSUM_FORMAT_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

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

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_CHECKSUM_H_
