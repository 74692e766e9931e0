#include "format/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "format/layout.h"

namespace opossum::format {

uint64_t Hash64(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

uint32_t RecordChecksum(const uint8_t* record, uint32_t fb_length) {
  return static_cast<uint32_t>(
      XXH3_64bits(record + 8, kRecordHeaderSize - 8 + static_cast<size_t>(fb_length)));
}

uint64_t BatchChecksum(const uint8_t* header, const uint32_t* record_checksums, size_t count,
                       uint64_t prev_checksum) {
  uint64_t seed = XXH3_64bits(header, 24) ^ prev_checksum;
  return XXH3_64bits_withSeed(record_checksums, count * sizeof(uint32_t), seed);
}

uint64_t KeyHash(KeyKind kind, std::string_view bytes) {
  uint64_t h = XXH3_64bits_withSeed(bytes.data(), bytes.size(), static_cast<uint64_t>(kind));
  return h == 0 ? 1 : h;
}

}  // namespace opossum::format
