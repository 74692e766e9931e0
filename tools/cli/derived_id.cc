#include "derived_id.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

namespace opossum::cli {

namespace {

class Hasher {
 public:
  Hasher() { XXH3_128bits_reset(&state_); }
  void Bytes(const void* p, size_t n) { XXH3_128bits_update(&state_, p, n); }
  void U64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    Bytes(b, sizeof b);
  }
  void U8(uint8_t v) { Bytes(&v, 1); }
  void Text(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  XXH128_canonical_t Digest() {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&state_));
    return c;
  }

 private:
  XXH3_state_t state_;
};

}  // namespace

Uuid DerivedEventId(const Event& e, SourcePosition where) {
  Hasher h;
  static constexpr std::string_view kDomain = "opossum import id v1";
  h.Text(kDomain);
  h.U8(static_cast<uint8_t>(where.kind));
  h.U64(where.value);
  h.Text(e.type);
  thread_local std::vector<std::string_view> tags;
  tags.assign(e.tags.begin(), e.tags.end());
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  h.U64(tags.size());
  for (std::string_view t : tags) h.Text(t);
  h.U8(e.data_is_json ? 1 : 0);
  h.Text(e.data);
  h.U8(e.timestamp_ns ? 1 : 0);
  if (e.timestamp_ns) h.U64(static_cast<uint64_t>(*e.timestamp_ns));
  h.U64(e.metadata.size());
  for (const auto& [key, value] : e.metadata) {
    h.Text(key);
    h.Text(value);
  }
  const XXH128_canonical_t digest = h.Digest();  // big-endian bytes
  Uuid id;
  static_assert(sizeof digest.digest == 16);
  std::memcpy(id.bytes.data(), digest.digest, 16);
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x80);  // version 8
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);  // variant 10
  return id;
}

}  // namespace opossum::cli
