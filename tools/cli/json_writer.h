// Small, fast pieces for writing JSON text and the encodings the command
// line's JSON uses: string escaping, base64, RFC 3339 timestamps.
#ifndef OPOSSUM_CLI_JSON_WRITER_H_
#define OPOSSUM_CLI_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opossum::cli {

// Appends `s` as a quoted JSON string. Control characters, '"' and '\\' are
// escaped; bytes that are not valid UTF-8 become U+FFFD (the output is
// always valid JSON).
void AppendJsonString(std::string* out, std::string_view s);

// Appends the decimal digits of v.
void AppendUint(std::string* out, uint64_t v);

// Standard base64 (RFC 4648, with padding).
void AppendBase64(std::string* out, std::string_view bytes);
// Decodes standard base64 (padding required when the length is not a
// multiple of 4; no whitespace). Returns false on any other character.
bool DecodeBase64(std::string_view text, std::string* out);

// Nanoseconds since the epoch as "2026-11-26T14:00:00.123456789Z" (UTC,
// always nine fraction digits).
void AppendTimestamp(std::string* out, int64_t ns);
// Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)"
// (fractions beyond nanoseconds are cut off; 't', 'z' and ' ' for 'T' are
// accepted). Returns nanoseconds since the epoch in UTC, or nothing.
std::optional<int64_t> ParseTimestamp(std::string_view text);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_JSON_WRITER_H_
