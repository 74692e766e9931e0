// The id `opossum import` gives an event that has none, so that importing
// the same events again (a repeated or resumed import) is recognised and
// appends nothing twice.
#ifndef OPOSSUM_CLI_DERIVED_ID_H_
#define OPOSSUM_CLI_DERIVED_ID_H_

#include <cstdint>

#include "opossum/event.h"

namespace opossum::cli {

// Where an event sits in its source: the position the export gives it (the
// `position` field of a JSON Lines export, the position of a .NET layout's
// event file), or, when the source gives none, its 1-based ordinal among the
// source's events. The two kinds never give the same id.
struct SourcePosition {
  enum class Kind : uint8_t { kPosition = 1, kOrdinal = 2 };
  Kind kind = Kind::kPosition;
  uint64_t value = 0;
};

// An RFC 9562 version-8 UUID whose other 122 bits are XXH3-128 of the source
// position and the event's content: its type, its tags (sorted, duplicates
// dropped, as the store keeps them), its data and whether the data is JSON,
// its timestamp when it has one, and its metadata in order; each field
// length-prefixed, so no two different events hash the same bytes. The
// event's own id, if it has one, plays no part.
Uuid DerivedEventId(const Event& e, SourcePosition where);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_DERIVED_ID_H_
