// Query matching for the peer backends that filter events themselves (the
// DCB rules of query.h): any item; within an item one of its types and all of
// its tags.
#ifndef OPOSSUM_BENCH_DRIVER_MATCH_H_
#define OPOSSUM_BENCH_DRIVER_MATCH_H_

#include <algorithm>
#include <span>
#include <string_view>

#include "opossum/query.h"

namespace opossum::bench {

inline bool ItemMatches(const QueryItem& item, std::string_view type,
                        std::span<const std::string_view> tags) {
  if (!item.types.empty() &&
      std::find(item.types.begin(), item.types.end(), type) == item.types.end()) {
    return false;
  }
  for (const std::string& t : item.tags) {
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) return false;
  }
  return true;
}

inline bool QueryMatches(const Query& query, std::string_view type,
                         std::span<const std::string_view> tags) {
  if (query.items.empty()) return true;
  for (const QueryItem& item : query.items) {
    if (ItemMatches(item, type, tags)) return true;
  }
  return false;
}

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_MATCH_H_
