#include "option_values.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "cli_error.h"

namespace opossum::cli {

namespace {

// The text as the user typed it, quoted (the error line's JSON escapes it).
std::string Got(std::string_view text) { return "got \"" + std::string(text) + "\""; }

// Decimal digits only, no sign or space; false when empty or beyond 64 bits.
bool Digits(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// "64MiB" for a size that is a whole number of MiB, and so on.
std::string SizeText(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  std::string best = std::to_string(bytes) + " bytes";
  uint64_t unit = 1024;
  for (const char* u : kUnits) {
    if (bytes >= unit && bytes % unit == 0) best = std::to_string(bytes / unit) + " " + u;
    if (unit > UINT64_MAX / 1024) break;
    unit *= 1024;
  }
  return best;
}

}  // namespace

uint64_t ParseWholeNumber(std::string_view option, std::string_view text, uint64_t min,
                          uint64_t max) {
  uint64_t v = 0;
  if (!Digits(text, &v) || v < min || v > max) {
    throw CliError::Invalid(std::string(option) + ": expected a whole number from " +
                            std::to_string(min) + " to " + std::to_string(max) + ", " + Got(text));
  }
  return v;
}

double ParseSeconds(std::string_view option, std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  const double v = s.empty() || s[0] == ' ' || s[0] == '+' ? NAN : std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0) {
    throw CliError::Invalid(std::string(option) +
                            ": expected a number of seconds greater than 0 (such as 3 or 0.5), " +
                            Got(text));
  }
  return v;
}

uint64_t ParseByteSize(std::string_view option, std::string_view text, uint64_t min, uint64_t max) {
  const std::string expected = std::string(option) + ": expected a size from " + SizeText(min) +
                               " to " + SizeText(max) +
                               " (a number of bytes, optionally followed by K, M, G or T, "
                               "powers of 1024), ";
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string suffix(text.substr(digits));
  for (char& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = -1;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else if (suffix.size() == 1 || (suffix.size() == 3 && suffix.substr(1) == "ib")) {
    const size_t at = std::string_view("kmgt").find(suffix[0]);
    if (at != std::string_view::npos) shift = 10 * static_cast<int>(at + 1);
  }
  uint64_t n = 0;
  if (shift < 0 || !Digits(text.substr(0, digits), &n))
    throw CliError::Invalid(expected + Got(text));
  if (n > (UINT64_MAX >> shift) || (n << shift) < min || (n << shift) > max) {
    throw CliError::Invalid(expected + Got(text) +
                            (n <= (UINT64_MAX >> shift) && shift > 0
                                 ? " (" + std::to_string(n << shift) + " bytes)"
                                 : ""));
  }
  return n << shift;
}

}  // namespace opossum::cli
