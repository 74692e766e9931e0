// Checking and compacting JSON as text: strict RFC 8259 grammar, numbers of
// any size and precision kept exactly as written (a parser's DOM would round
// 3.141592653589793238 and refuse 123456789012345678901234567890), only the
// whitespace between tokens removed. Event data goes through this, so that
// "stored as compact JSON text" means the caller's text.
#ifndef OPOSSUM_CLI_JSON_TEXT_H_
#define OPOSSUM_CLI_JSON_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace opossum::cli {

// Appends `text` (one JSON value, with optional surrounding whitespace)
// without its insignificant whitespace. Returns false, with *why, when it is
// not exactly one valid JSON value or nests deeper than `max_depth`.
// Strings are checked for escapes and control characters; their UTF-8 is
// the caller's to check.
bool CompactJson(std::string_view text, size_t max_depth, std::string* out, std::string* why);

// The text of each member value of the JSON object `text` (which must be
// valid JSON: a parser has accepted it), in order.
void ObjectMemberValues(std::string_view text, std::vector<std::string_view>* values);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_JSON_TEXT_H_
