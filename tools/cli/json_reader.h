// Reading the command line's input JSON (docs/cli.md, "Event JSON" and
// "Query and condition JSON"): events, queries and append conditions, with
// simdjson. Every error says which field is wrong and why, and malformed JSON
// where (line and column); unknown fields are errors.
#ifndef OPOSSUM_CLI_JSON_READER_H_
#define OPOSSUM_CLI_JSON_READER_H_

#include <memory>
#include <string>
#include <string_view>

#include "opossum/event.h"
#include "opossum/query.h"

namespace opossum::cli {

// Deepest nesting accepted in any input document (data included).
constexpr size_t kMaxJsonDepth = 256;

// Parses event lines. One parser per thread; it keeps its buffers between
// lines, so parsing a line allocates only what the Event itself holds.
class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses one event object. When `padded` is true, at least 64 readable
  // bytes follow `line` in memory (they are not changed), which saves a copy.
  // On failure returns false and sets *why.
  bool Parse(std::string_view line, bool padded, Event* out, std::string* why) {
    return Parse(line, padded, out, nullptr, why);
  }
  // The same, also accepting the `read` format's "position" field (for
  // import): *position is set to it, or 0 when the line has none.
  bool Parse(std::string_view line, bool padded, Event* out, uint64_t* position, std::string* why);
  // After a failed Parse: the 1-based column (in characters) where the line
  // stops being valid JSON, or 0 when it is valid JSON but not a valid event.
  uint64_t error_column() const { return error_column_; }

 private:
  // For lines with numbers beyond what the fast parser represents.
  bool ParseKeepingNumbers(std::string_view line, bool padded, Event* out, uint64_t* position,
                           std::string* why);
  // Sets *why and error_column_ for a line a parser found malformed (the
  // place found again by a thorough scan: simdjson gives no position);
  // returns false.
  bool Malformed(std::string_view line, std::string_view parser_message, std::string* why);
  uint64_t error_column_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses {"items": [{"types": [...], "tags": [...]}, ...]} (or {}).
bool ParseQuery(std::string_view json, Query* out, std::string* why);
// Parses {"fail_if_events_match": QUERY, "after": N}.
bool ParseCondition(std::string_view json, AppendCondition* out, std::string* why);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_JSON_READER_H_
