// The check behind Event::data_is_json: the data must be exactly one JSON
// value (RFC 8259: strict grammar, optional whitespace around it, UTF-8), so
// that every export of the store is JSON that any JSON tool reads.
//
// Hand-written rather than a parser library's: it runs for every JSON event
// an append encodes, and a validating DOM parser (simdjson's) spends about
// 275 ns on a 100-byte document, a quarter of a bulk append's budget per
// event, building a tape nobody reads. This one only walks the bytes, with
// no allocation below 256 levels of nesting, and no recursion at any depth.
// tests/unit/json_check_test.cc checks it against simdjson on random documents.
#ifndef OPOSSUM_FORMAT_JSON_CHECK_H_
#define OPOSSUM_FORMAT_JSON_CHECK_H_

#include <cstddef>
#include <string_view>

namespace opossum::format {

struct JsonProblem {
  const char* what = nullptr;  // "unterminated string", ...
  size_t offset = 0;           // of the first byte that breaks the grammar
};

// True when `text` is one valid JSON value. Otherwise false, and *problem
// (when given) says what is wrong and where. Lone surrogate escapes
// ("\ud800") are accepted, as RFC 8259's grammar accepts them.
bool CheckJson(std::string_view text, JsonProblem* problem = nullptr);

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_JSON_CHECK_H_
