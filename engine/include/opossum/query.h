// Queries and append conditions (the Dynamic Consistency Boundary model).
//
// Contract (docs/semantics.md, "Queries" and "Append conditions"):
//  - A Query is a list of items; an event matches the query if it matches
//    ANY item. The query with no items (Query::All()) matches every event.
//  - An item has types and tags. An event matches an item if its type is one
//    of the item's types (when it names types) AND its tags include ALL of the
//    item's tags (when it names tags). An item naming neither is invalid and
//    is rejected by every call that takes it.
//  - Every type and tag an item names obeys the rules of an event's (see
//    event.h): a type is 1..255 bytes of UTF-8; a tag is 1..255 bytes of
//    UTF-8 without control characters. An item naming anything else (an empty
//    tag from an unset variable, say) could never match, so a condition built
//    on it would never fail: every call rejects it with kInvalidArgument
//    naming the item and the value.
//  - An AppendCondition fails the append if an event matching
//    `fail_if_events_match` exists with a position greater than `after`
//    (any position when `after` is not given). `after` may exceed the head.
//
// Thread safety: plain values.
#ifndef OPOSSUM_QUERY_H_
#define OPOSSUM_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "opossum/status.h"

namespace opossum {

struct QueryItem {
  std::vector<std::string> types{};  // one of these (when non-empty)
  std::vector<std::string> tags{};   // all of these (when non-empty)
};

struct Query {
  std::vector<QueryItem> items{};  // any of these; none = every event

  static Query All() { return Query{}; }
  static Query ForTags(std::vector<std::string> tags) {
    return Query{{QueryItem{{}, std::move(tags)}}};
  }
  static Query ForTypes(std::vector<std::string> types) {
    return Query{{QueryItem{std::move(types), {}}}};
  }
  static Query Of(std::vector<std::string> types, std::vector<std::string> tags) {
    return Query{{QueryItem{std::move(types), std::move(tags)}}};
  }
  // Adds an item (a further alternative) and returns *this.
  Query& Or(QueryItem item) {
    items.push_back(std::move(item));
    return *this;
  }
  bool MatchesAll() const { return items.empty(); }
  // The check every call that takes a query makes: kInvalidArgument naming
  // the first item and value that break the rules above, else OK. Lets a
  // program refuse a query built from input before it opens anything.
  Status Check() const;
};

struct AppendCondition {
  Query fail_if_events_match{};
  std::optional<uint64_t> after{};  // none: any matching event fails the append
  // Query::Check of the condition's query, as Append makes it (the message
  // says "condition query item N: ...").
  Status Check() const;
};

struct ReadOptions {
  // Inclusive: forwards the lowest position returned, backwards the highest.
  // None: forwards from 1, backwards from the reader's head.
  std::optional<uint64_t> from{};
  bool backwards = false;
  // At most this many events (after ordering). None: no limit. 0: nothing.
  std::optional<uint64_t> limit{};
};

}  // namespace opossum

#endif  // OPOSSUM_QUERY_H_
