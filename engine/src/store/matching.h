// The matching rules of docs/semantics.md ("Queries") in one place: an
// event matches a query if it matches any item; an item if the type is one
// of its types (when named) and the tags include all of its tags (when
// named).
#ifndef OPOSSUM_STORE_MATCHING_H_
#define OPOSSUM_STORE_MATCHING_H_

#include "format/encoded_batch.h"
#include "opossum/event.h"
#include "opossum/query.h"
#include "opossum/status.h"
#include "store/event_view_access.h"

namespace opossum::internal {

// kInvalidArgument for an item naming neither types nor tags, or a type or
// tag that no event could carry (the event rules: format::TypeProblem,
// TagProblem); `what` names the query in the message ("query", "condition
// query"), the item by its index.
Status ValidateQuery(const Query& q, const char* what);

// On a FlatBuffers Event table (committed or still encoded).
bool TableMatches(const void* table, const Query& q);

inline bool Matches(const EventView& ev, const Query& q) {
  return q.items.empty() || TableMatches(EventViewAccess::Table(ev), q);
}
// Event i of a batch not yet committed.
inline bool EncodedMatches(const format::EncodedBatch& b, size_t i, const Query& q) {
  return q.items.empty() || TableMatches(b.table(i), q);
}

}  // namespace opossum::internal

#endif  // OPOSSUM_STORE_MATCHING_H_
