#include "format/key_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace opossum::format {

uint64_t KeyHash(KeyKind kind, std::string_view bytes) {
  uint64_t h = XXH3_64bits_withSeed(bytes.data(), bytes.size(), static_cast<uint64_t>(kind));
  return h == 0 ? 1 : h;
}

}  // namespace opossum::format
