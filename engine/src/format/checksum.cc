#include "format/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <array>
#include <cstring>

#include "format/layout.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace opossum::format {

namespace {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI, ext4
// and Kafka: one instruction per 8 bytes where SSE 4.2 exists, a table
// otherwise. Same value either way.
constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t Crc32cPortable(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
// The raw CRC register after feeding kLane zero bytes, from any register
// value: linear in that value, so four tables of its bytes' images.
constexpr size_t kLane = 64;
struct LaneShift {
  std::array<std::array<uint32_t, 256>, 4> t{};
  uint32_t operator()(uint32_t c) const {
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
  }
};
// Built by the compiler, so that no process pays for it at start-up.
constexpr LaneShift MakeLaneShift() {
  LaneShift s;
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b << (8 * k);
      for (size_t i = 0; i < kLane; ++i) c = kCrcTable[c & 0xff] ^ (c >> 8);
      s.t[k][b] = c;
    }
  }
  return s;
}
constexpr LaneShift kShift = MakeLaneShift();

// One crc32 instruction per 8 bytes. The instruction's latency is three
// times its throughput, so 192-byte chunks run as three independent 64-byte
// lanes, joined by the identity crc(c, A B) = shift(crc(c, A), |B|) ^
// crc(0, B): a record of 248 bytes costs about half the serial loop.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  for (; n >= 3 * kLane; n -= 3 * kLane, p += 3 * kLane) {
    uint64_t a = c, b = 0, d = 0;
    for (size_t i = 0; i < kLane; i += 8) {
      uint64_t va, vb, vd;
      std::memcpy(&va, p + i, 8);
      std::memcpy(&vb, p + kLane + i, 8);
      std::memcpy(&vd, p + 2 * kLane + i, 8);
      a = _mm_crc32_u64(a, va);
      b = _mm_crc32_u64(b, vb);
      d = _mm_crc32_u64(d, vd);
    }
    c = kShift(kShift(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^
        static_cast<uint32_t>(d);
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t Crc32c(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (kHaveSse42) return ~Crc32cSse42(~0u, p, size);
#endif
  return ~Crc32cPortable(~0u, p, size);
}

uint32_t Crc32cPortable(const void* data, size_t size) {
  return ~Crc32cPortable(~0u, static_cast<const uint8_t*>(data), size);
}

uint64_t Hash64(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

uint32_t RecordChecksum(const uint8_t* record, uint32_t fb_length) {
  return Crc32c(record + 8, kRecordHeaderSize - 8 + static_cast<size_t>(fb_length));
}

uint64_t BatchChecksum(const uint8_t* header, const uint32_t* record_checksums, size_t count,
                       uint64_t prev_checksum) {
  uint64_t seed = XXH3_64bits(header, 24) ^ prev_checksum;
  return XXH3_64bits_withSeed(record_checksums, count * sizeof(uint32_t), seed);
}

}  // namespace opossum::format
