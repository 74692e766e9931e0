// Events: what an appender hands to the store (Event) and what a reader gets
// back (EventView, a zero-copy view of a sequenced event).
//
// Contract (docs/semantics.md):
//  - type: 1..255 bytes of UTF-8, required.
//  - tags: 0..64 distinct strings (kMaxEventTags) of 1..255 bytes of UTF-8
//    without control characters. Duplicates are dropped (any number of copies
//    of a tag is allowed); the store keeps them sorted bytewise, and reads
//    return them in that order. `Tag("course", "c1")` builds "course:c1".
//  - data: opaque bytes (0..Options::max_event_size); `data_is_json` says
//    whether they are JSON text, so JSON tools can print them back as JSON.
//  - id: optional 128-bit id; a batch whose events all carry ids is
//    idempotent (see Store::Append).
//  - metadata: optional string pairs, kept and returned as given.
//  - timestamp: nanoseconds since the Unix epoch (UTC); set by the store when
//    the batch commits unless the caller supplies one.
//
// Thread safety: Event is a plain value. An EventView is immutable and may be
// read from any thread; it points into the store's memory-mapped segment
// files and stays valid until the Store it came from is closed.
#ifndef OPOSSUM_EVENT_H_
#define OPOSSUM_EVENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opossum {

// A 128-bit id, usually a UUID, in its 16 bytes of big-endian order.
struct Uuid {
  std::array<uint8_t, 16> bytes{};

  // Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex, either case).
  static std::optional<Uuid> Parse(std::string_view text);
  // A random (version 4) UUID.
  static Uuid Random();
  // Lower-case canonical text form.
  std::string ToString() const;

  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// "key:value": the usual shape of a tag. The store never interprets it.
inline std::string Tag(std::string_view key, std::string_view value) {
  std::string t;
  t.reserve(key.size() + 1 + value.size());
  t.append(key).push_back(':');
  t.append(value);
  return t;
}

// A tag's two halves, split at its first ':' (the inverse of Tag):
// "course:c1" gives {"course", "c1"}, "a:b:c" gives {"a", "b:c"}. A tag
// without ':' gives {tag, ""}. The views point into `tag`.
struct TagParts {
  std::string_view key{};
  std::string_view value{};
};
inline TagParts SplitTag(std::string_view tag) {
  size_t colon = tag.find(':');
  if (colon == std::string_view::npos) return TagParts{tag, {}};
  return TagParts{tag.substr(0, colon), tag.substr(colon + 1)};
}
inline TagParts SplitTag(const char* tag) { return SplitTag(std::string_view(tag)); }
// Refused at compile time: the parts of a temporary string (SplitTag(Tag(k,
// v))) would point into freed memory. Keep the string in a variable.
TagParts SplitTag(std::string&& tag) = delete;

// The most distinct tags an event may carry (repeats count once); Append
// refuses an event with more (kInvalidArgument).
inline constexpr size_t kMaxEventTags = 64;

// An event to append.
// Every field has a default, so designated initializers may name any subset.
struct Event {
  std::string type{};
  std::vector<std::string> tags{};
  std::string data{};  // bytes; JSON text when data_is_json
  // The data is JSON text (checked: invalid JSON is rejected), so that JSON
  // tools print it back as JSON. False: opaque bytes.
  bool data_is_json = false;
  std::optional<Uuid> id{};
  std::vector<std::pair<std::string, std::string>> metadata{};
  std::optional<int64_t> timestamp_ns{};  // default: the batch's commit time
};

namespace internal {
struct EventViewAccess;
}  // namespace internal

// A committed event, read in place from the mapped segment (zero copies).
class EventView {
 public:
  EventView() = default;

  uint64_t position() const { return position_; }
  int64_t timestamp_ns() const { return timestamp_ns_; }
  std::string_view type() const;
  size_t tag_count() const;
  std::string_view tag(size_t i) const;  // sorted bytewise
  std::vector<std::string_view> tags() const;
  bool HasTag(std::string_view tag) const;
  // The value of the first tag "key:value" with this key (in the sorted
  // order, so the bytewise smallest value when several share the key), or
  // none: for "course:c1", TagValue("course") is "c1".
  std::optional<std::string_view> TagValue(std::string_view key) const;
  std::string_view data() const;
  bool data_is_json() const;
  std::optional<Uuid> id() const;
  size_t metadata_count() const;
  std::pair<std::string_view, std::string_view> metadata(size_t i) const;

  // An owning copy (for keeping the event after the store closes).
  Event ToEvent() const;

 private:
  // Built by the store from a verified record (internal::EventViewAccess).
  friend struct internal::EventViewAccess;
  EventView(uint64_t position, int64_t timestamp_ns, const void* table)
      : position_(position), timestamp_ns_(timestamp_ns), table_(table) {}

  uint64_t position_ = 0;
  int64_t timestamp_ns_ = 0;
  const void* table_ = nullptr;  // the event's FlatBuffers table in the map
};

}  // namespace opossum

#endif  // OPOSSUM_EVENT_H_
