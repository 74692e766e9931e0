// The keys of the key index (docs/format-index.md): an event is found by its
// type, each of its tags and its id, each hashed with its kind. The hashes
// are computed where events are encoded (format/event_codec.h), so the
// commit indexes a group without hashing again; index/event_keys.h says which
// keys an event has.
#ifndef OPOSSUM_FORMAT_KEY_HASH_H_
#define OPOSSUM_FORMAT_KEY_HASH_H_

#include <cstdint>
#include <string_view>

#include "opossum/event.h"

namespace opossum::format {

// ON-DISK FORMAT: the kinds are stored in the key table.
enum class KeyKind : uint64_t { kTag = 1, kType = 2, kId = 3 };

// XXH3-64 of `bytes` seeded with the kind; never 0 (0 marks an empty slot in
// the key table).
uint64_t KeyHash(KeyKind kind, std::string_view bytes);

// The key of an id: its 16 bytes.
inline uint64_t IdKeyHash(const Uuid& id) {
  return KeyHash(KeyKind::kId,
                 std::string_view(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()));
}

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_KEY_HASH_H_
