#include "store/matching.h"

#include <algorithm>
#include <string>

#include "format/event_codec.h"

namespace opossum::internal {

Status ValidateQuery(const Query& q, const char* what) {
  for (size_t i = 0; i < q.items.size(); ++i) {
    const QueryItem& item = q.items[i];
    auto invalid = [&](const std::string& why) {
      return Status::InvalidArgument(std::string(what) + " item " + std::to_string(i) + ": " + why);
    };
    if (item.types.empty() && item.tags.empty()) return invalid("names neither types nor tags");
    for (const std::string& type : item.types) {
      std::string why = format::TypeProblem(type);
      if (!why.empty()) return invalid(why);
    }
    for (const std::string& tag : item.tags) {
      std::string why = format::TagProblem(tag);
      if (!why.empty()) return invalid(why);
    }
  }
  return Status::Ok();
}

}  // namespace opossum::internal

namespace opossum {

Status Query::Check() const { return internal::ValidateQuery(*this, "query"); }
Status AppendCondition::Check() const {
  return internal::ValidateQuery(fail_if_events_match, "condition query");
}

}  // namespace opossum

namespace opossum::internal {

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
