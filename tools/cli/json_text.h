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
#include <utility>
#include <vector>

namespace opossum::cli {

// Appends `text` (one JSON value, with optional surrounding whitespace)
// without its insignificant whitespace. Returns false, with *why, when it is
// not exactly one valid JSON value or nests deeper than `max_depth`.
// Strings are checked for escapes and control characters; their UTF-8 is
// the caller's to check.
// With `member_spans`, when the value is an object, the [begin, end) of each
// of its member values in *out (offsets into it), in order.
bool CompactJson(std::string_view text, size_t max_depth, std::string* out, std::string* why,
                 std::vector<std::pair<size_t, size_t>>* member_spans = nullptr);

// Where `text` stops being exactly one JSON value (RFC 8259; strings must be
// UTF-8, \u escapes of surrogates must pair; nesting deeper than
// `max_depth` is an error): sets *offset to the byte at fault and *what to
// what is wrong there, and returns true. Returns false when the text is
// valid. Slow and thorough: for reporting an error another parser found.
bool FindJsonError(std::string_view text, size_t max_depth, size_t* offset, std::string* what);

// The 1-based line and column of byte `offset` of `text`: lines end at
// '\n', and columns count characters (UTF-8 sequences), not bytes.
void LineAndColumn(std::string_view text, size_t offset, uint64_t* line, uint64_t* column);

// "malformed JSON at line L, column C: WHAT" for a document that may span
// lines (an option's value), or "... at column C: ..." when it is one line;
// "malformed JSON: FALLBACK" when FindJsonError finds nothing to blame.
std::string DescribeJsonError(std::string_view text, size_t max_depth, std::string_view fallback);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_JSON_TEXT_H_
