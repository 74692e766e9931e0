// Text-level walks over JSON that a parser (simdjson) has already accepted.
// They keep the bytes of numbers and strings exactly as written, which a DOM
// round trip would not (1.50 would come back as 1.5): the .NET layout's
// export re-indents event data with them, and its import cuts the `$type`
// member out of `event.event` and minifies the rest.
//
// Every function here assumes valid JSON; given anything else it returns
// garbage but never reads outside `text`.
#ifndef OPOSSUM_CLI_DOTNET_JSON_TEXT_H_
#define OPOSSUM_CLI_DOTNET_JSON_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace opossum::cli {

// [begin, end) in the text.
struct JsonSpan {
  size_t begin = 0;
  size_t end = 0;
  std::string_view Of(std::string_view text) const { return text.substr(begin, end - begin); }
};

// The first position at or after `pos` that is not JSON whitespace.
size_t SkipJsonSpace(std::string_view text, size_t pos);

// The position just after the value starting at text[pos].
size_t SkipJsonValue(std::string_view text, size_t pos);

struct JsonMember {
  JsonSpan whole;  // from the key's opening quote to the end of the value
  JsonSpan value;
};

// The members, in order, of the object whose '{' is at text[pos].
std::vector<JsonMember> JsonObjectMembers(std::string_view text, size_t pos);

// Appends the JSON value `json` indented by two spaces a level, as if it
// were written at nesting level `level` (its first line continues the
// current line; its last line ends without a newline). A non-empty
// `first_member` (e.g. "\"$type\": \"X\"") is written as the first member
// when `json` is an object.
void AppendIndentedJson(std::string* out, std::string_view json, int level,
                        std::string_view first_member = {});

// Appends `json` with the whitespace between tokens removed.
void AppendMinifiedJson(std::string* out, std::string_view json);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_DOTNET_JSON_TEXT_H_
