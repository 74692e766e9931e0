#include "store/matching.h"

#include <algorithm>
#include <string>

namespace opossum::internal {

Status ValidateQuery(const Query& q, const char* what) {
  for (size_t i = 0; i < q.items.size(); ++i) {
    if (q.items[i].types.empty() && q.items[i].tags.empty()) {
      return Status::InvalidArgument(std::string(what) + " item " + std::to_string(i) +
                                     " names neither types nor tags");
    }
  }
  return Status::Ok();
}

bool TableMatches(const void* table, const Query& q) {
  if (q.items.empty()) return true;
  std::string_view type = format::TableType(table);
  for (const QueryItem& item : q.items) {
    if (!item.types.empty() &&
        std::find(item.types.begin(), item.types.end(), type) == item.types.end()) {
      continue;
    }
    bool all = true;
    for (const std::string& tag : item.tags) {
      if (!format::TableHasTag(table, tag)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace opossum::internal
