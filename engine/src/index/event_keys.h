// Which keys of the key index an event has: its type, each of its (sorted,
// distinct) tags, and its id when it has one. The one place that says so:
// the commit indexes a batch still encoded (with the hashes computed as its
// events were encoded), the catch-up and the rebuild index committed events,
// and Verify derives every key again to compare.
#ifndef OPOSSUM_INDEX_EVENT_KEYS_H_
#define OPOSSUM_INDEX_EVENT_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "format/encoded_batch.h"
#include "format/key_hash.h"
#include "opossum/event.h"

namespace opossum::index {

// Calls fn(hash, kind) for each key of an event whose type hashes to
// `type_hash`, whose i-th tag hashes to tag_hash(i), and whose id is `id`
// (nullptr: none).
template <typename TagHash, typename Fn>
void ForEachEventKey(uint64_t type_hash, size_t tag_count, TagHash&& tag_hash, const Uuid* id,
                     Fn&& fn) {
  fn(type_hash, format::KeyKind::kType);
  for (size_t i = 0; i < tag_count; ++i) fn(tag_hash(i), format::KeyKind::kTag);
  if (id != nullptr) fn(format::IdKeyHash(*id), format::KeyKind::kId);
}

// The keys of a committed event.
template <typename Fn>
void ForEachEventKey(const EventView& ev, Fn&& fn) {
  const std::optional<Uuid> id = ev.id();
  ForEachEventKey(
      format::KeyHash(format::KeyKind::kType, ev.type()), ev.tag_count(),
      [&ev](size_t i) { return format::KeyHash(format::KeyKind::kTag, ev.tag(i)); },
      id ? &*id : nullptr, fn);
}

// The keys of event i of a batch not yet committed.
template <typename Fn>
void ForEachEventKey(const format::EncodedBatch& batch, size_t i, Fn&& fn) {
  const std::span<const uint64_t> tags = batch.tag_hashes(i);
  ForEachEventKey(
      batch.type_hash(i), tags.size(), [&tags](size_t t) { return tags[t]; },
      batch.has_id(i) ? &batch.id(i) : nullptr, fn);
}

}  // namespace opossum::index

#endif  // OPOSSUM_INDEX_EVENT_KEYS_H_
