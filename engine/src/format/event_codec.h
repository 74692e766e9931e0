// Events to and from their FlatBuffers bytes, and the checks every event
// passes before it is encoded (the limits of docs/semantics.md, "Limits").
#ifndef OPOSSUM_FORMAT_EVENT_CODEC_H_
#define OPOSSUM_FORMAT_EVENT_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/alloc.h"
#include "format/key_hash.h"
#include "opossum/event.h"
#include "opossum/status.h"

namespace opossum::format {

constexpr size_t kMaxTypeBytes = 255;
constexpr size_t kMaxTags = kMaxEventTags;  // the public limit (opossum/event.h)
constexpr size_t kMaxTagBytes = 255;
constexpr uint32_t kMaxEventSizeLimit = 256u << 20;

// An event checked and encoded, ready to be framed into a batch.
struct EncodedEvent {
  Buffer bytes;  // a finished FlatBuffers opossum.fb.Event
  std::optional<int64_t> timestamp_ns;
  uint64_t type_hash = 0;
  Vec<uint64_t> tag_hashes;  // of the sorted, distinct tags
  std::optional<Uuid> id;
};

bool IsValidUtf8(std::string_view s);

// Why `type` or `tag` breaks the rules of an event's type or tag (their
// length, UTF-8, and for a tag control characters), naming the value; empty
// when it obeys them. Events and query items are held to the same rules.
std::string TypeProblem(std::string_view type);
std::string TagProblem(std::string_view tag);

// Checks `e` against the limits and encodes it. `index` (0-based position in
// the batch) is named in error messages.
Status EncodeEvent(const Event& e, uint32_t max_event_size, size_t index, EncodedEvent* out);

// The same without a copy: *bytes points at the encoded table in the calling
// thread's builder (valid until its next encode); the type's key hash goes to
// *type_hash and those of the sorted, distinct tags are appended to
// *tag_hashes.
Status EncodeEventInPlace(const Event& e, uint32_t max_event_size, size_t index,
                          const uint8_t** bytes, size_t* size, uint64_t* type_hash,
                          Vec<uint64_t>* tag_hashes);

// Checks that `bytes` hold a well-formed Event table (bounds, offsets,
// required fields): used by Verify and when adopting bytes after a crash.
bool VerifyEventBytes(const uint8_t* bytes, size_t size);

// Accessors on a verified table (the `table` of an EventView).
std::string_view TableType(const void* table);
size_t TableTagCount(const void* table);
std::string_view TableTag(const void* table, size_t i);
bool TableHasTag(const void* table, std::string_view tag);
const void* TableFromBytes(const uint8_t* bytes);

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_EVENT_CODEC_H_
