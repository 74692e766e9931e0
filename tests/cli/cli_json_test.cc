// The command line's JSON building blocks, each against what its header
// promises: json_writer.h (string escaping, integers, base64, RFC 3339
// timestamps), json_text.h (CompactJson: strict RFC 8259 grammar, text kept
// byte for byte, member spans; FindJsonError and LineAndColumn: where JSON
// goes wrong), derived_id.h (the ids import derives), json_reader.h
// (EventParser, ParseQuery, ParseCondition) and block_parser.h (BlockParser on
// several threads).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "block_parser.h"
#include "cli_error.h"
#include "derived_id.h"
#include "json_reader.h"
#include "json_text.h"
#include "json_writer.h"
#include "line_reader.h"
#include "opossum/opossum.h"
#include "test_util.h"

namespace opossum::cli {
namespace {

using opossum::testing::TempDir;
using opossum::testing::TestSeed;

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Bytes as readable text for failure messages.
std::string Show(std::string_view s) {
  std::string r;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      r.push_back(static_cast<char>(c));
    } else {
      char b[8];
      std::snprintf(b, sizeof(b), "\\x%02x", c);
      r += b;
    }
  }
  return r;
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string Base64(std::string_view bytes) {
  std::string out;
  AppendBase64(&out, bytes);
  return out;
}

std::string Timestamp(int64_t ns) {
  std::string out;
  AppendTimestamp(&out, ns);
  return out;
}

// Every field of an event, for comparing two of them with a readable diff.
std::string Describe(const Event& e) {
  std::string s = "type=" + Show(e.type) + " tags=[";
  for (const auto& t : e.tags) s += Show(t) + ",";
  s += "] data=" + Show(e.data) + (e.data_is_json ? " (json)" : " (binary)");
  s += " id=" + (e.id ? e.id->ToString() : std::string("none"));
  s += " metadata={";
  for (const auto& [k, v] : e.metadata) s += Show(k) + ":" + Show(v) + ",";
  s += "} ts=" + (e.timestamp_ns ? std::to_string(*e.timestamp_ns) : std::string("none"));
  return s;
}

// A copy of `text` that ends exactly at the end of a readable page, followed
// by an inaccessible page: reading one byte past the text crashes. For the
// paths that promise not to read past their input.
class GuardedCopy {
 public:
  explicit GuardedCopy(std::string_view text) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (text.size() + page_ - 1) / page_ + 1;
    length_ = (data_pages + 1) * page_;
    void* p = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + data_pages * page_, page_, PROT_NONE) != 0) std::abort();
    char* at = base_ + data_pages * page_ - text.size();
    std::memcpy(at, text.data(), text.size());
    view_ = std::string_view(at, text.size());
  }
  ~GuardedCopy() { munmap(base_, length_); }
  GuardedCopy(const GuardedCopy&) = delete;
  GuardedCopy& operator=(const GuardedCopy&) = delete;
  std::string_view view() const { return view_; }

 private:
  size_t page_ = 0;
  size_t length_ = 0;
  char* base_ = nullptr;
  std::string_view view_;
};

// ---------------------------------------------------------------------------
// json_writer.h: AppendJsonString
// ---------------------------------------------------------------------------

TEST(JsonWriterTest, StringEscapesQuoteBackslashAndShortFormControls) {
  EXPECT_EQ(JsonString(""), "\"\"");
  EXPECT_EQ(JsonString("plain text / slash"), "\"plain text / slash\"");
  EXPECT_EQ(JsonString("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(JsonString("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(JsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonString("\"\\\""), "\"\\\"\\\\\\\"\"");
  // DEL is not a control character in JSON's sense: kept.
  EXPECT_EQ(JsonString("\x7f"), "\"\x7f\"");
}

TEST(JsonWriterTest, StringEscapesEveryControlCharacter) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string in = std::string("x") + static_cast<char>(c) + "y";
    std::string escape;
    switch (c) {
      case '\n':
        escape = "\\n";
        break;
      case '\r':
        escape = "\\r";
        break;
      case '\t':
        escape = "\\t";
        break;
      case '\b':
        escape = "\\b";
        break;
      case '\f':
        escape = "\\f";
        break;
      default: {
        char b[8];
        std::snprintf(b, sizeof(b), "\\u%04x", c);
        escape = b;
      }
    }
    const std::string got = JsonString(in);
    EXPECT_EQ(got, "\"x" + escape + "y\"") << "control character " << c;
    // Whatever the spelling, the output is one valid JSON string.
    std::string compact, why;
    EXPECT_TRUE(CompactJson(got, 1, &compact, &why)) << c << ": " << why;
  }
  // NUL in the middle of a longer string (string_view, not C string).
  EXPECT_EQ(JsonString(std::string_view("ab\0cd", 5)), "\"ab\\u0000cd\"");
}

TEST(JsonWriterTest, StringAppendsToWhatIsThere) {
  std::string out = "prefix:";
  AppendJsonString(&out, "v");
  EXPECT_EQ(out, "prefix:\"v\"");
}

TEST(JsonWriterTest, StringKeepsValidUtf8AtEveryBoundary) {
  const std::vector<std::string> valid = {
      "\xc2\x80",          // U+0080
      "\xc3\xa9",          // é
      "\xdf\xbf",          // U+07FF
      "\xe0\xa0\x80",      // U+0800
      "\xe2\x82\xac",      // €
      "\xed\x9f\xbf",      // U+D7FF (just below the surrogates)
      "\xee\x80\x80",      // U+E000 (just above them)
      "\xef\xbf\xbd",      // U+FFFD itself
      "\xef\xbf\xbf",      // U+FFFF
      "\xf0\x90\x80\x80",  // U+10000
      "\xf0\x9f\x98\x80",  // 😀
      "\xf4\x8f\xbf\xbf",  // U+10FFFF
  };
  for (const std::string& s : valid) {
    EXPECT_EQ(JsonString(s), "\"" + s + "\"") << Show(s);
    EXPECT_EQ(JsonString("a" + s + "b"), "\"a" + s + "b\"") << Show(s);
  }
}

TEST(JsonWriterTest, StringReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string fffd = "\xef\xbf\xbd";
  // A single byte that can never be UTF-8 becomes exactly one U+FFFD.
  EXPECT_EQ(JsonString("\xff"), "\"" + fffd + "\"");
  EXPECT_EQ(JsonString("\xfe"), "\"" + fffd + "\"");
  EXPECT_EQ(JsonString("a\x80z"), "\"a" + fffd + "z\"");  // lone continuation byte
  EXPECT_EQ(JsonString("a\xc0z"), "\"a" + fffd + "z\"");  // never a lead byte
  EXPECT_EQ(JsonString("a\xc3"), "\"a" + fffd + "\"");    // lead byte cut off at the end
  EXPECT_EQ(JsonString("\xc3\xa9\xff\xc3\xa9"), "\"\xc3\xa9" + fffd + "\xc3\xa9\"");

  // Malformed sequences: the output is valid UTF-8 with U+FFFD in their
  // place, and the ASCII around them is kept.
  const std::vector<std::string> bad = {
      "\xc0\xaf",          // overlong '/'
      "\xc1\xbf",          // overlong
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xe0\x9f\xbf",      // overlong 3-byte (just below U+0800)
      "\xed\xa0\x80",      // surrogate U+D800
      "\xed\xbf\xbf",      // surrogate U+DFFF
      "\xf0\x80\x80\xaf",  // overlong 4-byte
      "\xf0\x8f\xbf\xbf",  // overlong 4-byte (just below U+10000)
      "\xf4\x90\x80\x80",  // U+110000
      "\xf5\x80\x80\x80",  // lead byte beyond U+10FFFF
      "\xe2\x82",          // truncated 3-byte
      "\xf0\x9f\x98",      // truncated 4-byte
      "\xe2\x28\xa1",      // bad continuation
      "\x80\x80\x80",      // continuation bytes only
  };
  for (const std::string& b : bad) {
    const std::string got = JsonString("<" + b + ">");
    EXPECT_TRUE(ValidUtf8(got)) << Show(b) << " -> " << Show(got);
    EXPECT_NE(got.find(fffd), std::string::npos) << Show(b) << " -> " << Show(got);
    EXPECT_EQ(got.front(), '"');
    EXPECT_EQ(got.back(), '"');
    // Take out every U+FFFD: what is left is the ASCII around the bad bytes
    // (and, for "\xe2\x28\xa1", the '(' that is ASCII itself).
    std::string rest = got;
    for (size_t at; (at = rest.find(fffd)) != std::string::npos;) rest.erase(at, fffd.size());
    EXPECT_EQ(rest.substr(0, 2), "\"<") << Show(b);
    EXPECT_EQ(rest.substr(rest.size() - 2), ">\"") << Show(b);
    for (unsigned char c : rest) EXPECT_LT(c, 0x80) << Show(b) << " -> " << Show(got);
  }
}

TEST(JsonWriterTest, StringOfRandomBytesIsAlwaysValidJson) {
  std::mt19937_64 rng(TestSeed());
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 80, '\0');
    for (char& c : in) {
      // Mostly high bytes and controls, the interesting ones.
      const uint64_t r = rng() % 4;
      c = static_cast<char>(r == 0   ? rng() % 0x20
                            : r == 1 ? 0x20 + rng() % 0x60
                                     : 0x80 + rng() % 0x80);
    }
    const std::string got = JsonString(in);
    ASSERT_TRUE(ValidUtf8(got)) << Show(in) << " -> " << Show(got);
    for (unsigned char c : got) ASSERT_GE(c, 0x20) << Show(in) << " -> " << Show(got);
    std::string compact, why;
    ASSERT_TRUE(CompactJson(got, 1, &compact, &why)) << Show(in) << ": " << why;
    ASSERT_EQ(compact, got);
  }
}

// ---------------------------------------------------------------------------
// json_writer.h: AppendUint
// ---------------------------------------------------------------------------

TEST(JsonWriterTest, UintWritesDecimalDigits) {
  auto u = [](uint64_t v) {
    std::string s;
    AppendUint(&s, v);
    return s;
  };
  EXPECT_EQ(u(0), "0");
  EXPECT_EQ(u(7), "7");
  EXPECT_EQ(u(10), "10");
  EXPECT_EQ(u(99), "99");
  EXPECT_EQ(u(100), "100");
  EXPECT_EQ(u(1234567890), "1234567890");
  EXPECT_EQ(u(10000000000000000000ULL), "10000000000000000000");
  EXPECT_EQ(u(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  std::string s = "n=";
  AppendUint(&s, 42);
  AppendUint(&s, 0);
  EXPECT_EQ(s, "n=420");
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    EXPECT_EQ(u(v), std::to_string(v));
  }
}

// ---------------------------------------------------------------------------
// json_writer.h: AppendBase64 / DecodeBase64
// ---------------------------------------------------------------------------

TEST(JsonWriterTest, Base64Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\x00\x01\x02", 3), "AAEC"},
      {"\xfb\xff", "+/8="},  // the two characters beyond letters and digits
      {"\xff\xff\xff", "////"},
      {std::string("\x00", 1), "AA=="},
  };
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(Base64(bytes), text) << Show(bytes);
    std::string decoded;
    EXPECT_TRUE(DecodeBase64(text, &decoded)) << text;
    EXPECT_EQ(decoded, bytes) << text;
  }
  std::string out = "x";
  AppendBase64(&out, "foo");
  EXPECT_EQ(out, "xZm9v");
}

TEST(JsonWriterTest, Base64RoundTripsEveryByteAndLength) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::mt19937_64 rng(TestSeed());
  for (size_t len = 0; len <= 300; ++len) {
    std::string bytes = all.substr(0, std::min<size_t>(len, 256));
    while (bytes.size() < len) bytes.push_back(static_cast<char>(rng()));
    std::shuffle(bytes.begin(), bytes.end(), rng);
    const std::string text = Base64(bytes);
    ASSERT_EQ(text.size(), (len + 2) / 3 * 4) << len;
    for (char c : text) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')
          << text;
    }
    std::string decoded = "stale";
    ASSERT_TRUE(DecodeBase64(text, &decoded)) << text;
    ASSERT_EQ(decoded, bytes) << len;
  }
}

TEST(JsonWriterTest, Base64DecodeRejectsBadLengthsPaddingAndCharacters) {
  const std::vector<std::string> bad = {
      "Z",        "Zg",         "Zg=",      "Zm9",            // padding required
      "Zm9vY",    "Zm9vYg",     "Zm9vYg=",  "Zm9v=",          // length not a multiple of 4
      "Z===",     "====",       "=Zg=",     "Zm=v",           // '=' where it cannot be
      "Zg==Zg==", "Zg==Zm9v",   "Zm8=Zm9v",                   // padding before the end
      "Zm9v\n",   "Zm9v\nZm9v", " Zm9v",    "Zm9v ", "Zm 9",  // no whitespace
      "Zm-v",     "Zm_v",                                     // URL-safe alphabet is not standard
      "Zm9!",     "Zm9\"",      "Zm.v",     "Zm9*",  std::string("Zm9\0", 4),
      "Zm9\xff",  "\xc3\xa9Zm",
  };
  for (const std::string& text : bad) {
    std::string out;
    EXPECT_FALSE(DecodeBase64(text, &out)) << "accepted " << Show(text) << " as " << Show(out);
  }
}

// ---------------------------------------------------------------------------
// json_writer.h: AppendTimestamp / ParseTimestamp
// ---------------------------------------------------------------------------

TEST(JsonWriterTest, TimestampWritesUtcWithNineFractionDigits) {
  EXPECT_EQ(Timestamp(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(Timestamp(1), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(Timestamp(999'999'999), "1970-01-01T00:00:00.999999999Z");
  EXPECT_EQ(Timestamp(1795701600 * kNs + 123456789), "2026-11-26T14:00:00.123456789Z");
  EXPECT_EQ(Timestamp(951827696 * kNs), "2000-02-29T12:34:56.000000000Z");
  EXPECT_EQ(Timestamp(1483228799 * kNs + 500'000'000), "2016-12-31T23:59:59.500000000Z");
  // Before 1970: the fraction still counts forwards within its second.
  EXPECT_EQ(Timestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(Timestamp(-kNs), "1969-12-31T23:59:59.000000000Z");
  EXPECT_EQ(Timestamp(-kNs - 1), "1969-12-31T23:59:58.999999999Z");
  EXPECT_EQ(Timestamp(-500'000'000), "1969-12-31T23:59:59.500000000Z");
  EXPECT_EQ(Timestamp(-14182940 * kNs), "1969-07-20T20:17:40.000000000Z");
  EXPECT_EQ(Timestamp(-2208988800 * kNs), "1900-01-01T00:00:00.000000000Z");
  // The ends of int64 nanoseconds.
  EXPECT_EQ(Timestamp(kInt64Max), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(Timestamp(kInt64Min), "1677-09-21T00:12:43.145224192Z");
  std::string out = "t=";
  AppendTimestamp(&out, 0);
  EXPECT_EQ(out, "t=1970-01-01T00:00:00.000000000Z");
}

TEST(JsonWriterTest, TimestampParsesRfc3339Forms) {
  const int64_t base = 1795701600 * kNs;  // 2026-11-26T14:00:00Z
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00Z"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26t14:00:00z"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26 14:00:00Z"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00.123456789Z"), base + 123456789);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00.5Z"), base + 500'000'000);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00.000000001Z"), base + 1);
  // Seven digits, as .NET writes them, with its "+00:00".
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00.1234567+00:00"), base + 123456700);
  // Twelve digits: cut off at nanoseconds (not rounded).
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00.123456789999Z"), base + 123456789);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00.999999999999Z"), base + 999999999);
  // Offsets: local time minus the offset.
  EXPECT_EQ(ParseTimestamp("2026-11-26T19:30:00+05:30"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26T19:30:00.25+05:30"), base + 250'000'000);
  EXPECT_EQ(ParseTimestamp("2026-11-26T06:00:00-08:00"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00-00:00"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26T14:00:00+00:00"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-27T13:59:00+23:59"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-25T14:01:00-23:59"), base);
  // An offset that crosses a day, a month and a year.
  EXPECT_EQ(ParseTimestamp("2026-02-28T23:00:00-05:00"), 1772337600 * kNs);  // 2026-03-01T04:00Z
  EXPECT_EQ(ParseTimestamp("2025-12-31T20:00:00-04:00"), 1767225600 * kNs);  // 2026-01-01T00:00Z
  EXPECT_EQ(ParseTimestamp("2026-01-01T05:30:00+05:30"), 1767225600 * kNs);
  // Leap days.
  EXPECT_EQ(ParseTimestamp("2000-02-29T12:34:56Z"), 951827696 * kNs);
  EXPECT_TRUE(ParseTimestamp("2024-02-29T00:00:00Z").has_value());
}

TEST(JsonWriterTest, TimestampBeforeNineteenSeventyIsNegative) {
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), -kNs);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.5Z"), -500'000'000);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(ParseTimestamp("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:59:59.75+01:00"), -250'000'000);
  EXPECT_EQ(ParseTimestamp("1969-07-20T20:17:40Z"), -14182940 * kNs);
  EXPECT_EQ(ParseTimestamp("1900-01-01T00:00:00Z"), -2208988800 * kNs);
  EXPECT_EQ(ParseTimestamp("1677-09-21T00:12:44Z"), -9223372036 * kNs);
}

TEST(JsonWriterTest, TimestampLeapSecondIsAccepted) {
  const int64_t before = 1483228799 * kNs;  // 2016-12-31T23:59:59Z
  const int64_t after = before + kNs;       // 2017-01-01T00:00:00Z
  const auto leap = ParseTimestamp("2016-12-31T23:59:60Z");
  ASSERT_TRUE(leap.has_value());
  EXPECT_GE(*leap, before);
  EXPECT_LE(*leap, after);
  const auto leap_frac = ParseTimestamp("2016-12-31T23:59:60.5Z");
  ASSERT_TRUE(leap_frac.has_value());
  EXPECT_GE(*leap_frac, before);
  EXPECT_LE(*leap_frac, after);
  // The same leap second written in another zone.
  EXPECT_EQ(ParseTimestamp("2017-01-01T05:29:60+05:30"), leap);
  EXPECT_FALSE(ParseTimestamp("2016-12-31T23:59:61Z").has_value());
}

TEST(JsonWriterTest, TimestampRejectsInvalidDatesAndTimes) {
  const std::vector<std::string> bad = {
      "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z",  // not a leap year
      "1900-02-29T00:00:00Z",                          // century, not a leap year
      "2026-04-31T00:00:00Z", "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z",
      "2026-11-31T00:00:00Z", "2026-01-32T00:00:00Z", "2026-00-10T00:00:00Z",
      "2026-13-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
      "2026-01-01T23:60:00Z", "2026-01-01T23:59:99Z",
  };
  for (const std::string& t : bad) EXPECT_FALSE(ParseTimestamp(t).has_value()) << t;
}

TEST(JsonWriterTest, TimestampRejectsMalformedText) {
  const std::vector<std::string> bad = {
      "",
      "2026",
      "2026-11-26",               // a date alone
      "2026-11-26T14:00Z",        // no seconds
      "2026-11-26T14:00:00",      // no zone
      "2026-11-26T14:00:00.Z",    // '.' without digits
      "2026-11-26T14:00:00.123",  // no zone after the fraction
      "2026-11-26T14:00:00,5Z",   // ',' is not RFC 3339
      "2026-11-26X14:00:00Z",
      "2026-11-26T14:00:00ZZ",  // trailing text
      "2026-11-26T14:00:00Z ",
      " 2026-11-26T14:00:00Z",
      "26-11-26T14:00:00Z",
      "2026-1-26T14:00:00Z",
      "2026-11-26T4:00:00Z",
      "2026/11/26T14:00:00Z",
      "2026-11-26T14-00-00Z",
      "+2026-11-26T14:00:00Z",
      "2026-11-26T14:00:00+0530",  // offset without ':'
      "2026-11-26T14:00:00+05",
      "2026-11-26T14:00:00+05:3",
      "2026-11-26T14:00:00+5:30",
      "2026-11-26T14:00:00+24:00",  // offset hour out of range
      "2026-11-26T14:00:00+05:60",  // offset minute out of range
      "2026-11-26T14:00:00+05:30Z",
      "2026-11-26T14:00:00UTC",
      "2026-11-26T14:00:00GMT",
      "yesterday",
      "2026-11-26T14:00:00.1e3Z",
  };
  for (const std::string& t : bad) EXPECT_FALSE(ParseTimestamp(t).has_value()) << "'" << t << "'";
}

TEST(JsonWriterTest, TimestampOutsideInt64NanosecondsIsRejected) {
  const std::vector<std::string> bad = {
      "2262-04-11T23:47:17Z",  // one second past the largest int64
      "2262-04-12T00:00:00Z",      "2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
      "1677-09-21T00:12:43Z",  // before the smallest int64 (...:43.145224192Z)
      "1677-09-20T00:00:00Z",      "1600-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
      "2262-04-11T23:47:15-01:00",  // in range as written, out of range in UTC
  };
  for (const std::string& t : bad) EXPECT_FALSE(ParseTimestamp(t).has_value()) << t;
  // Just inside.
  EXPECT_EQ(ParseTimestamp("2262-04-11T23:47:15Z"), 9223372035 * kNs);
  EXPECT_EQ(ParseTimestamp("2262-04-11T22:47:15-01:00"), 9223372035 * kNs);
  EXPECT_EQ(ParseTimestamp("2262-01-01T00:00:00Z"), 9214646400 * kNs);
}

// Every value AppendTimestamp writes, ParseTimestamp reads back as itself.
TEST(JsonWriterTest, TimestampRoundTripsRandomValues) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_int_distribution<int64_t> any(-9'200'000'000LL * kNs, 9'200'000'000LL * kNs);
  std::uniform_int_distribution<int64_t> near(-10 * kNs, 10 * kNs);
  for (int i = 0; i < 20000; ++i) {
    const int64_t ns = i % 2 == 0 ? any(rng) : near(rng);
    const std::string text = Timestamp(ns);
    ASSERT_EQ(text.size(), 30u) << text;
    ASSERT_EQ(ParseTimestamp(text), ns) << text;
  }
}

// The two ends of int64 nanoseconds (2262-04-11T23:47:16.854775807Z and
// 1677-09-21T00:12:43.145224192Z) are written by AppendTimestamp; the header
// promises ParseTimestamp returns "nanoseconds since the epoch", and both are
// such values.
TEST(JsonWriterTest, TimestampRoundTripsTheInt64Extremes) {
  for (int64_t ns : {kInt64Max, kInt64Max - 1, kInt64Max - 854775807, kInt64Min, kInt64Min + 1,
                     kInt64Min + 854775808}) {
    const std::string text = Timestamp(ns);
    EXPECT_EQ(ParseTimestamp(text), std::optional<int64_t>(ns)) << text;
  }
}

// ---------------------------------------------------------------------------
// json_text.h: CompactJson
// ---------------------------------------------------------------------------

std::optional<std::string> Compact(std::string_view text, size_t max_depth = 256,
                                   std::string* why_out = nullptr) {
  std::string out, why;
  if (!CompactJson(text, max_depth, &out, &why)) {
    EXPECT_FALSE(why.empty()) << "no reason given for " << Show(text);
    EXPECT_TRUE(out.empty()) << "output left behind for " << Show(text);
    if (why_out != nullptr) *why_out = why;
    return std::nullopt;
  }
  return out;
}

std::string Nest(size_t depth, std::string_view inner = "1", bool objects = false) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += objects ? (i % 2 == 0 ? "{\"k\":" : "{\"k\" : ") : "[";
  s += inner;
  for (size_t i = 0; i < depth; ++i) s += objects ? "}" : "]";
  return s;
}

TEST(JsonTextTest, ValidNumbersAreKeptByteForByte) {
  const std::vector<std::string> numbers = {
      "0",
      "-0",
      "1",
      "-1",
      "9",
      "10",
      "1234567890",
      "0.5",
      "-0.5",
      "0.0",
      "-0.0",
      "1.50",
      "1.0000000000",
      "1e5",
      "1E5",
      "1e+5",
      "1E+2",
      "1e-5",
      "1E-05",
      "0e0",
      "0E+0",
      "-0e-0",
      "1.5e10",
      "1.5E-10",
      "-1.25e+300",
      "1e999999",
      "1e-999999",
      "123456789012345678901234567890",
      "-123456789012345678901234567890.000000000000000001e-7",
      "3.141592653589793238462643383279502884197",
      "18446744073709551616",
      "-9223372036854775809",
      "0.1e1",
      "100e00",
  };
  for (const std::string& n : numbers) {
    EXPECT_EQ(Compact(n), n) << n;
    EXPECT_EQ(Compact("[" + n + "]"), "[" + n + "]") << n;
    EXPECT_EQ(Compact("{\"n\": " + n + " }"), "{\"n\":" + n + "}") << n;
    EXPECT_EQ(Compact(" [ " + n + " , " + n + " ] "), "[" + n + "," + n + "]") << n;
  }
  // A number of ten thousand digits.
  std::string huge = "-";
  for (int i = 0; i < 10000; ++i)
    huge.push_back(static_cast<char>('0' + (i * 7 + 3) % 10 + (i == 0)));
  huge += ".";
  huge += std::string(5000, '9');
  huge += "E+123456789";
  EXPECT_EQ(Compact(huge), huge);
  EXPECT_EQ(Compact("{\"big\": [" + huge + ", " + huge + "]}"),
            "{\"big\":[" + huge + "," + huge + "]}");
}

TEST(JsonTextTest, InvalidNumbersAreRejected) {
  const std::vector<std::string> bad = {
      "01",    "00",    "-01",  "-00",  "007",   "0123.5", "-",        "--1",
      "- 1",   "+1",    "+0",   "1.",   "-1.",   "1.e5",   ".5",       "-.5",
      ".",     "1e",    "1E",   "1e+",  "1e-",   "1E+",    "1e+-1",    "1ee5",
      "1e5.5", "1.5.2", "0x10", "0X1F", "1_000", "1,000",  "Infinity", "-Infinity",
      "NaN",   "nan",   "inf",  "1f",   "1d",    "0.5e",   "1.5E+",    "e5",
      "-e5",   "1 2",   "1-2",  "1+2",  "0-",    "1e5e5",  "０",       "1\xc2\xa0",
  };
  for (const std::string& n : bad) {
    EXPECT_FALSE(Compact(n).has_value()) << "accepted " << Show(n);
    EXPECT_FALSE(Compact("[" + n + "]").has_value()) << "accepted [" << Show(n) << "]";
    EXPECT_FALSE(Compact("{\"n\":" + n + "}").has_value()) << "accepted {n:" << Show(n) << "}";
  }
}

TEST(JsonTextTest, LiteralsAreExact) {
  for (const std::string lit : {"true", "false", "null"}) {
    EXPECT_EQ(Compact(lit), lit);
    EXPECT_EQ(Compact("[ " + lit + " ]"), "[" + lit + "]");
  }
  const std::vector<std::string> bad = {
      "t",    "tru",  "True",      "TRUE",    "trUe",  "truex",       "true1",
      "f",    "fals", "False",     "falsey",  "n",     "nul",         "nulll",
      "Null", "None", "undefined", "[truex]", "[nul]", "{\"a\":tru}", "[true false]"};
  for (const std::string& b : bad) EXPECT_FALSE(Compact(b).has_value()) << "accepted " << b;
}

TEST(JsonTextTest, StringsKeepEveryEscapeAsWritten) {
  const std::vector<std::string> strings = {
      R"("")",
      R"("plain")",
      R"("\"")",
      R"("\\")",
      R"("\/")",
      R"("\b\f\n\r\t")",
      R"("\u0000\u001f\u0020\u00e9\u00E9\uABCD\uabcd\uFFFF")",
      R"("\uD83D\uDE00")",  // a surrogate pair, kept as written
      R"("\uD800")",        // a lone surrogate escape: grammatically fine
      R"("all: \" \\ \/ \b \f \n \r \t \u12aF")",
      R"("a\\\"b")",
      R"("\\\\\\\\")",
      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",  // raw UTF-8
      "\"\x7f\"",                                       // DEL is not a control character
      "\"  spaces   and\\ttabs  \"",
      "\"{[,:]}\"",
  };
  for (const std::string& s : strings) {
    EXPECT_EQ(Compact(s), s) << s;
    EXPECT_EQ(Compact(" { " + s + " : [ " + s + " ] } "), "{" + s + ":[" + s + "]}") << s;
  }
  // Long strings (the vectorised scan) with an escape at every offset.
  for (size_t at = 0; at < 40; ++at) {
    for (const std::string esc : {"\\\"", "\\\\", "\\n", "\\u00e9", "\\/"}) {
      const std::string s = "\"" + std::string(at, 'a') + esc + std::string(37, 'b') + "\"";
      EXPECT_EQ(Compact(s), s) << s;
    }
  }
}

TEST(JsonTextTest, StringsLeaveUtf8ToTheCaller) {
  // The header: "their UTF-8 is the caller's to check".
  const std::string s = "\"\xff\xfe\x80\"";
  EXPECT_EQ(Compact(s), s);
}

TEST(JsonTextTest, BadEscapesAreRejected) {
  const std::vector<std::string> bad = {
      R"("\a")",  R"("\x41")", R"("\'")",    R"("\0")",     R"("\U0041")", R"("\u")",
      R"("\u1")", R"("\u12")", R"("\u123")", R"("\u12G4")", R"("\uGGGG")", R"("\u-123")",
      R"("\ ")",  R"("\v")",   R"("\e")",    R"("\N")",     "\"\\\"",      "\"abc\\",
      "\"\\u00",  "\"\\\n\"",  R"("\\\")",
  };
  for (const std::string& b : bad) {
    EXPECT_FALSE(Compact(b).has_value()) << "accepted " << Show(b);
    EXPECT_FALSE(Compact("[" + b + "]").has_value()) << "accepted [" << Show(b) << "]";
    // The same escape after a long run (the vectorised scan).
    const std::string longer = "\"" + std::string(33, 'x') + b.substr(1);
    EXPECT_FALSE(Compact(longer).has_value()) << "accepted " << Show(longer);
  }
}

TEST(JsonTextTest, UnterminatedStringsAreRejected) {
  const std::vector<std::string> bad = {
      "\"", "\"abc", "[\"abc]", "{\"a\":\"b}", "{\"a", "\"abc\\\"", "\"" + std::string(100, 'x')};
  for (const std::string& b : bad) {
    EXPECT_FALSE(Compact(b).has_value()) << "accepted " << Show(b);
  }
}

TEST(JsonTextTest, RawControlCharactersInStringsAreRejected) {
  for (int c = 0; c < 0x20; ++c) {
    // At every offset, so both the byte loop and the 16-byte scan see it.
    for (size_t at = 0; at < 40; at += 1) {
      std::string s = "\"" + std::string(at, 'a');
      s.push_back(static_cast<char>(c));
      s += std::string(20, 'b') + "\"";
      EXPECT_FALSE(Compact(s).has_value()) << "accepted control character " << c << " at " << at;
    }
    // In a key too.
    std::string key = "{\"k";
    key.push_back(static_cast<char>(c));
    key += "\":1}";
    EXPECT_FALSE(Compact(key).has_value()) << "accepted control character " << c << " in a key";
  }
}

TEST(JsonTextTest, ContainersFollowTheGrammar) {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"{}", "{}"},
      {"[]", "[]"},
      {"{ }", "{}"},
      {"[ ]", "[]"},
      {"{\"a\":1}", "{\"a\":1}"},
      {"{\"\":1}", "{\"\":1}"},
      {"[1,\"a\",true,false,null,{},[],-0.5e1]", "[1,\"a\",true,false,null,{},[],-0.5e1]"},
      {"{\"a\":{\"b\":[{\"c\":[]}]},\"d\":[[[]]]}", "{\"a\":{\"b\":[{\"c\":[]}]},\"d\":[[[]]]}"},
      {"{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}"},  // duplicate keys are the caller's business
      {"[[],[],{}]", "[[],[],{}]"},
  };
  for (const auto& [in, want] : good) EXPECT_EQ(Compact(in), want) << in;

  const std::vector<std::string> bad = {
      "{",
      "[",
      "}",
      "]",
      "{]",
      "[}",
      "[1,]",
      "[,1]",
      "[,]",
      "[1 2]",
      "[1,,2]",
      "[1]]",
      "[[1]",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\" 1}",
      "{a:1}",
      "{'a':1}",
      "{\"a\":1,}",
      "{,}",
      "{,\"a\":1}",
      "{\"a\":1}}",
      "{1:2}",
      "{null:1}",
      "[\"a\":1]",
      "{\"a\":1 \"b\":2}",
      "{\"a\",1}",
      "{\"a\"::1}",
      "{\"a\":1;\"b\":2}",
      "{\"a\":1,,\"b\":2}",
      "[1;2]",
      "{{}}",
      "{[]}",
      "{\"a\":[}",
      "[{]}",
      "{\"a\":{\"b\":1}",
      "(1)",
      "<1>",
      "'a'",
  };
  for (const std::string& b : bad) EXPECT_FALSE(Compact(b).has_value()) << "accepted " << b;
}

TEST(JsonTextTest, ExactlyOneValueIsAccepted) {
  const std::vector<std::string> bad = {
      "",      " ",          "\n\t\r ",    "1 2", "{} {}", "[]x",     "[] []",
      "null,", "\"a\"\"b\"", "true false", "{}]", "1 //",  "1 /* */", "{}\n{}",
  };
  for (const std::string& b : bad) EXPECT_FALSE(Compact(b).has_value()) << "accepted " << Show(b);
  std::string why;
  EXPECT_FALSE(Compact("{\"a\":1} x", 256, &why).has_value());
  EXPECT_NE(why.find("after"), std::string::npos) << why;
  EXPECT_FALSE(Compact(std::string_view("1\0", 2)).has_value());
}

TEST(JsonTextTest, WhitespaceIsRemovedOnlyOutsideStrings) {
  EXPECT_EQ(Compact(" \t\r\n1\n\r\t "), "1");
  EXPECT_EQ(Compact("\n{\n\"a b\"\n:\n[\n1\n,\n\" x  y \"\n]\n,\r\n\"c\"\t:\ttrue\n}\n"),
            "{\"a b\":[1,\" x  y \"],\"c\":true}");
  EXPECT_EQ(Compact("[ \" \" , \"\\t\" , \"  \\n  \" ]"), "[\" \",\"\\t\",\"  \\n  \"]");
  EXPECT_EQ(Compact("{ \"k\" : { \"k\" : [ ] , \"e\" : { } } }"), "{\"k\":{\"k\":[],\"e\":{}}}");
  // Only the four JSON whitespace characters count as whitespace.
  for (const std::string b : {"\f1", "1\f", "[1,\v2]",
                              "\xc2\xa0"
                              "1",
                              "[1\xc2\xa0]",
                              "\x0b"
                              "1"}) {
    EXPECT_FALSE(Compact(b).has_value()) << "accepted " << Show(b);
  }
}

TEST(JsonTextTest, AppendsToOutputAndRestoresItOnFailure) {
  std::string out = "prefix";
  std::string why;
  ASSERT_TRUE(CompactJson(" [ 1 , 2 ] ", 8, &out, &why)) << why;
  EXPECT_EQ(out, "prefix[1,2]");
  EXPECT_FALSE(CompactJson("[1, 2, oops]", 8, &out, &why));
  EXPECT_EQ(out, "prefix[1,2]");
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(CompactJson(std::string(100, '[') + std::string(100, ']'), 8, &out, &why));
  EXPECT_EQ(out, "prefix[1,2]");
}

TEST(JsonTextTest, DepthLimitIsEnforcedExactlyAtMaxDepth) {
  for (size_t depth : {1, 2, 3, 10, 64, 255, 256, 257, 1000}) {
    for (bool objects : {false, true}) {
      const std::string text = Nest(depth, "1", objects);
      EXPECT_TRUE(Compact(text, depth).has_value()) << depth << (objects ? " objects" : " arrays");
      EXPECT_TRUE(Compact(text, depth + 1).has_value()) << depth;
      std::string why;
      EXPECT_FALSE(Compact(text, depth - 1, &why).has_value())
          << depth << (objects ? " objects" : " arrays") << " accepted with max_depth "
          << depth - 1;
      EXPECT_NE(why.find("deep"), std::string::npos) << why;
      // Empty innermost container: it counts as a level too.
      const std::string empty_inner = Nest(depth - 1, objects ? "{}" : "[]", objects);
      EXPECT_TRUE(Compact(empty_inner, depth).has_value()) << depth;
      EXPECT_FALSE(Compact(empty_inner, depth - 1).has_value()) << depth;
    }
  }
  // Mixed nesting, and siblings do not add up.
  EXPECT_TRUE(Compact("[{\"a\":[{}]}]", 4).has_value());
  EXPECT_FALSE(Compact("[{\"a\":[{}]}]", 3).has_value());
  EXPECT_TRUE(Compact("[[[]],[[]],{\"x\":[]},[[1,2],[3]]]", 3).has_value());
  EXPECT_FALSE(Compact("[[[]],[[]],{\"x\":[[]]},[[1,2],[3]]]", 3).has_value());
  // max_depth 0: scalars only.
  EXPECT_EQ(Compact("42", 0), "42");
  EXPECT_EQ(Compact("\"[{\"", 0), "\"[{\"");
  EXPECT_FALSE(Compact("[]", 0).has_value());
  EXPECT_FALSE(Compact("{}", 0).has_value());
  // Very deep input is refused without exhausting the stack.
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  EXPECT_FALSE(Compact(deep, 256).has_value());
  EXPECT_TRUE(Compact(deep, 1'000'000).has_value());
}

// ---------------------------------------------------------------------------
// json_text.h: member spans
// ---------------------------------------------------------------------------

std::vector<std::string> MemberValues(std::string_view text, std::string* compact_out = nullptr,
                                      const std::string& prefix = "") {
  std::string out = prefix, why;
  std::vector<std::pair<size_t, size_t>> spans = {{99, 100}};  // stale, to be replaced
  EXPECT_TRUE(CompactJson(text, 256, &out, &why, &spans)) << Show(text) << ": " << why;
  std::vector<std::string> values;
  for (const auto& [b, e] : spans) {
    EXPECT_LE(b, e);
    EXPECT_LE(e, out.size());
    EXPECT_GE(b, prefix.size());
    if (b <= e && e <= out.size()) values.push_back(out.substr(b, e - b));
  }
  if (compact_out != nullptr) *compact_out = out;
  return values;
}

TEST(JsonTextTest, MemberSpansGiveEachTopLevelValueInOrder) {
  const std::string text =
      " {  \"a\" : 1 , \"b\" :{ \"c\" : [ 1 , 2 , { \"d\" : \"}\" } ] } ,\n"
      "\t\"s\" : \"x\\\"}y{\" , \"e\" : [ ] , \"f\" : { } , \"g\" : true ,\r\n"
      " \"h\" : null , \"i\" : -1.5e3 , \"j\" : false , \"k\" : \"\" ,"
      " \"l\" : [ [ ] , { } ] , \"m\" : 123456789012345678901234567890 } ";
  std::string compact;
  const auto values = MemberValues(text, &compact);
  const std::vector<std::string> want = {"1",
                                         "{\"c\":[1,2,{\"d\":\"}\"}]}",
                                         "\"x\\\"}y{\"",
                                         "[]",
                                         "{}",
                                         "true",
                                         "null",
                                         "-1.5e3",
                                         "false",
                                         "\"\"",
                                         "[[],{}]",
                                         "123456789012345678901234567890"};
  EXPECT_EQ(values, want);
  EXPECT_EQ(compact.front(), '{');
  EXPECT_EQ(compact.back(), '}');
}

TEST(JsonTextTest, MemberSpansWithBracesQuotesAndEscapesInStrings) {
  EXPECT_EQ(MemberValues(R"({"k":"{\"}"})"), std::vector<std::string>{R"("{\"}")"});
  EXPECT_EQ(MemberValues(R"({"}{":"][","x\\":"\\","q\"":{"\"":"\\\""}})"),
            (std::vector<std::string>{R"("][")", R"("\\")", R"({"\"":"\\\""})"}));
  EXPECT_EQ(MemberValues(R"({ "a" : "," , "b" : ":" , "c" : "}" , "d" : "{\"e\":1}" })"),
            (std::vector<std::string>{R"(",")", R"(":")", R"("}")", R"("{\"e\":1}")"}));
  // Duplicate keys: each value, in order.
  EXPECT_EQ(MemberValues(R"({"a":1,"a":[2],"a":{"a":3}})"),
            (std::vector<std::string>{"1", "[2]", R"({"a":3})"}));
}

TEST(JsonTextTest, MemberSpansAreOffsetsIntoTheWholeOutput) {
  std::string compact;
  const auto values = MemberValues("{ \"a\" : [ 1 ] , \"b\" : \"x\" }", &compact, "PREFIX");
  EXPECT_EQ(compact, "PREFIX{\"a\":[1],\"b\":\"x\"}");
  EXPECT_EQ(values, (std::vector<std::string>{"[1]", "\"x\""}));
}

TEST(JsonTextTest, MemberSpansOnlyForAnObject) {
  EXPECT_TRUE(MemberValues("{}").empty());
  EXPECT_TRUE(MemberValues(" { } ").empty());
  EXPECT_TRUE(MemberValues("[{\"a\":1},{\"b\":2}]").empty());
  EXPECT_TRUE(MemberValues("[1,2]").empty());
  EXPECT_TRUE(MemberValues("\"{\\\"a\\\":1}\"").empty());
  EXPECT_TRUE(MemberValues("42").empty());
}

// FindJsonError: where a document stops being JSON, and what is wrong there.
struct FoundError {
  bool found = false;
  size_t offset = 0;
  std::string what;
};
FoundError Find(std::string_view text, size_t depth = 256) {
  FoundError f;
  f.found = FindJsonError(text, depth, &f.offset, &f.what);
  return f;
}

TEST(JsonTextTest, FindJsonErrorFindsNothingInValidJson) {
  for (const std::string text :
       {"{}", " [ ] ", "0", "-0.5e+10", "\"a\\u00e9\\ud83e\\udd98\\n\"", "{\"a\":[1,{\"b\":null}]}",
        "true", "\"\xc3\xa9\xe2\x9c\x93\xf0\x9f\xa6\x98\"", "123456789012345678901234567890",
        "{\n  \"multi\": \"line\"\n}\n"}) {
    const FoundError f = Find(text);
    EXPECT_FALSE(f.found) << Show(text) << ": " << f.what << " at " << f.offset;
  }
}

TEST(JsonTextTest, FindJsonErrorGivesTheOffsetAndWhatIsWrong) {
  struct Case {
    std::string text;
    size_t offset;
    std::string what;  // a part of the description
  };
  const std::vector<Case> cases = {
      {"", 0, "ends where a value is expected"},
      {"{\"a\": 1,}", 8, "key"},
      {"{\"a\" 1}", 5, "':'"},
      {"{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}'"},
      {"[1 2]", 3, "expected ',' or ']'"},
      {"[1,]", 3, "expected a value"},
      {"{\"a\": tru}", 9, "literal"},
      {"{\"a\": nul", 9, "ends inside a literal"},
      {"{\"a\": 01}", 7, "leading zero"},
      {"{\"a\": 1.}", 8, "'.'"},
      {"{\"a\": 1e}", 8, "exponent"},
      {"{\"a\": -}", 7, "'-'"},
      {"{\"a\": +1}", 6, "unexpected character"},
      {"{\"a\": \"x", 6, "unterminated string"},
      {"{\"a\": \"x\ty\"}", 8, "control character"},
      {"{\"a\": \"\\x\"}", 7, "invalid escape"},
      {"{\"a\": \"\\u12g4\"}", 11, "four hex digits"},
      {"{\"a\": \"\\ud800\"}", 7, "high surrogate"},
      {"{\"a\": \"\\ud800\\u0041\"}", 7, "high surrogate"},
      {"{\"a\": \"\\udc00\"}", 7, "low surrogate"},
      {"{\"a\": \"\xff\"}", 7, "UTF-8"},
      {"{\"a\": \"\xc0\xaf\"}", 7, "UTF-8"},          // overlong '/'
      {"{\"a\": \"\xed\xa0\x80\"}", 7, "UTF-8"},      // an encoded surrogate
      {"{\"a\": \"\xf4\x90\x80\x80\"}", 7, "UTF-8"},  // beyond U+10FFFF
      {"{\"a\": \"\xe2\x9c\"}", 7, "UTF-8"},          // cut short
      {"{\"\xe2\x9c\x93\": 1", 9, "ends inside an object"},
      {"{\"a\": [1, 2}", 11, "expected ',' or ']'"},
      {"{\"a\": 1} x", 9, "after the JSON value"},
      {"{\"a\": 1}}", 8, "after the JSON value"},
      {"\xc3\xa9", 0, "unexpected character"},
  };
  for (const Case& c : cases) {
    const FoundError f = Find(c.text);
    ASSERT_TRUE(f.found) << Show(c.text);
    EXPECT_EQ(f.offset, c.offset) << Show(c.text) << ": " << f.what;
    EXPECT_NE(f.what.find(c.what), std::string::npos) << Show(c.text) << ": " << f.what;
  }
}

TEST(JsonTextTest, FindJsonErrorDepthLimit) {
  const std::string ok = std::string(8, '[') + std::string(8, ']');
  EXPECT_FALSE(Find(ok, 8).found);
  const std::string deep = std::string(9, '[') + std::string(9, ']');
  const FoundError f = Find(deep, 8);
  ASSERT_TRUE(f.found);
  EXPECT_EQ(f.offset, 8u);
  EXPECT_NE(f.what.find("deep"), std::string::npos) << f.what;
}

TEST(JsonTextTest, LineAndColumnCountLinesAndCharacters) {
  uint64_t line = 0, column = 0;
  LineAndColumn("abc", 0, &line, &column);
  EXPECT_EQ(line, 1u);
  EXPECT_EQ(column, 1u);
  LineAndColumn("abc", 2, &line, &column);
  EXPECT_EQ(column, 3u);
  // Each UTF-8 character is one column, whatever its bytes.
  const std::string text = "\"\xc3\xa9\xe2\x9c\x93\xf0\x9f\xa6\x98\"x";  // "é✓🦘"x
  LineAndColumn(text, text.find('x'), &line, &column);
  EXPECT_EQ(line, 1u);
  EXPECT_EQ(column, 6u);
  LineAndColumn("{\n  \"a\":\n\t1 x}", 12, &line, &column);  // the 'x'

  EXPECT_EQ(line, 3u);
  EXPECT_EQ(column, 4u);
}

// FindJsonError is the place for what simdjson refuses: on documents
// mutated at random, it finds an error exactly when simdjson does (numbers
// simdjson cannot hold aside, which are valid JSON), so that every malformed
// line gets a column.
TEST(JsonTextTest, FindJsonErrorAgreesWithSimdjsonOnMutatedDocuments) {
  const std::vector<std::string> seeds = {
      R"({"type":"A","tags":["k:v","x"],"data":{"a":[1,2.5,-3e4,true,false,null],"s":"\u00e9\n"}})",
      "{\"type\": \"\xc3\xa9\xe2\x9c\x93\", \"data\": [\"\\ud83e\\udd98\", {}, []], \"id\": \"x\"}",
  };
  const std::string alphabet =
      "{}[],:\"\\ \tu0123456789.eE+-tfnlrsa\x01\x7f\xc3\xa9\xe2\x80\xed\xa0\xf0\xff";
  std::mt19937_64 rng(TestSeed());
  simdjson::dom::parser parser;
  size_t errors = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[round % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
          break;
      }
    }
    const auto parsed = parser.parse(text);
    const auto e = parsed.error();
    if (e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE) {
      continue;
    }
    const FoundError f = Find(text);
    ASSERT_EQ(f.found, e != simdjson::SUCCESS)
        << Show(text) << "\n simdjson: " << simdjson::error_message(e) << "\n found: " << f.what
        << " at " << f.offset;
    if (f.found) {
      ++errors;
      EXPECT_LE(f.offset, text.size());
      EXPECT_FALSE(f.what.empty());
    }
  }
  EXPECT_GT(errors, 1000u);
}

// ---------------------------------------------------------------------------
// derived_id.h: the id import gives an event without one
// ---------------------------------------------------------------------------

// The documented layout, built here byte by byte and hashed in one go: the
// derivation must not change (ids derived by an earlier version must match,
// or a later import would append the events again).
Uuid ReferenceDerivedId(const Event& e, uint8_t kind, uint64_t position) {
  std::string b;
  auto u64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>(v >> (8 * i)));
  };
  auto text = [&](std::string_view t) {
    u64(t.size());
    b.append(t);
  };
  text("opossum import id v1");
  b.push_back(static_cast<char>(kind));
  u64(position);
  text(e.type);
  std::vector<std::string> tags = e.tags;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  u64(tags.size());
  for (const auto& t : tags) text(t);
  b.push_back(e.data_is_json ? 1 : 0);
  text(e.data);
  b.push_back(e.timestamp_ns ? 1 : 0);
  if (e.timestamp_ns) u64(static_cast<uint64_t>(*e.timestamp_ns));
  u64(e.metadata.size());
  for (const auto& [k, v] : e.metadata) {
    text(k);
    text(v);
  }
  const XXH128_hash_t h = XXH3_128bits(b.data(), b.size());
  Uuid id;
  for (int i = 0; i < 8; ++i) {
    id.bytes[i] = static_cast<uint8_t>(h.high64 >> (56 - 8 * i));
    id.bytes[8 + i] = static_cast<uint8_t>(h.low64 >> (56 - 8 * i));
  }
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x80);
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);
  return id;
}

Event SampleEvent() {
  Event e;
  e.type = "CourseCreated";
  e.tags = {"course:c1", "b", "course:c1"};
  e.data = R"({"capacity":10})";
  e.data_is_json = true;
  e.metadata = {{"correlation_id", "x"}, {"a", "b"}};
  e.timestamp_ns = 1795701600 * kNs + 123456789;
  return e;
}

TEST(DerivedIdTest, IsTheDocumentedHashAsAVersion8Uuid) {
  const SourcePosition at7{SourcePosition::Kind::kPosition, 7};
  Event e = SampleEvent();
  const Uuid id = DerivedEventId(e, at7);
  EXPECT_EQ(id, ReferenceDerivedId(e, 1, 7));
  const std::string text = id.ToString();
  EXPECT_EQ(text[14], '8') << text;                                       // version 8
  EXPECT_NE(std::string_view("89ab").find(text[19]), std::string::npos);  // variant 10
  // Without a timestamp, binary data, no tags or metadata, an ordinal.
  Event bare;
  bare.type = "X";
  bare.data = std::string("\0\xff", 2);
  EXPECT_EQ(DerivedEventId(bare, {SourcePosition::Kind::kOrdinal, 3}),
            ReferenceDerivedId(bare, 2, 3));
}

TEST(DerivedIdTest, EveryPartOfTheEventAndItsPlaceCounts) {
  const SourcePosition at7{SourcePosition::Kind::kPosition, 7};
  const Event base = SampleEvent();
  const Uuid id = DerivedEventId(base, at7);
  EXPECT_EQ(DerivedEventId(base, at7), id) << "not deterministic";
  std::vector<std::pair<std::string, Event>> changed;
  auto with = [&](std::string what, auto change) {
    Event e = base;
    change(e);
    changed.emplace_back(std::move(what), std::move(e));
  };
  with("type", [](Event& e) { e.type = "CourseCreatedV2"; });
  with("a tag", [](Event& e) { e.tags.push_back("course:c2"); });
  with("data", [](Event& e) { e.data = R"({"capacity":11})"; });
  with("the JSON flag", [](Event& e) { e.data_is_json = false; });
  with("timestamp", [](Event& e) { e.timestamp_ns = *e.timestamp_ns + 1; });
  with("no timestamp", [](Event& e) { e.timestamp_ns.reset(); });
  with("metadata value", [](Event& e) { e.metadata[1].second = "c"; });
  with("metadata order", [](Event& e) { std::swap(e.metadata[0], e.metadata[1]); });
  with("type/tag boundary", [](Event& e) {
    e.type = "CourseCreatedb";
    e.tags = {"course:c1"};
  });
  for (const auto& [what, e] : changed) EXPECT_NE(DerivedEventId(e, at7), id) << what;
  EXPECT_NE(DerivedEventId(base, {SourcePosition::Kind::kPosition, 8}), id) << "position";
  EXPECT_NE(DerivedEventId(base, {SourcePosition::Kind::kOrdinal, 7}), id) << "ordinal 7";
  // What the store does not keep does not count: tag order and repeats, an
  // id of the event's own.
  Event same = base;
  same.tags = {"b", "course:c1"};
  same.id = Uuid::Random();
  EXPECT_EQ(DerivedEventId(same, at7), id);
}

// ---------------------------------------------------------------------------
// json_reader.h: EventParser
// ---------------------------------------------------------------------------

struct Parsed {
  bool ok = false;
  std::string why;
  Event event;
  uint64_t position = 0;
};

// Bytes that follow a padded line: other JSON, so that a parser that looked
// at them would notice.
std::string Padding() {
  std::string p = "\n{\"type\":\"Other\",\"data\":[1,2,3]}\n\"}]}, \"x\": 1e999\n\t\r";
  while (p.size() < 80) p.push_back(static_cast<char>('!' + p.size() % 90));
  return p;
}

class EventParserTest : public ::testing::Test {
 protected:
  Parsed ParseWith(EventParser& p, std::string_view line, bool padded, bool with_position) {
    Parsed r;
    r.position = 12345;  // to see that it is set
    if (padded) {
      const std::string buffer = std::string(line) + Padding();
      const std::string before = buffer;
      r.ok = p.Parse(std::string_view(buffer.data(), line.size()), true, &r.event,
                     with_position ? &r.position : nullptr, &r.why);
      EXPECT_EQ(buffer, before) << "the padding was changed";
    } else {
      GuardedCopy copy(line);
      r.ok = p.Parse(copy.view(), false, &r.event, with_position ? &r.position : nullptr, &r.why);
    }
    if (!with_position) r.position = 0;
    return r;
  }

  // Parses `line` padded and unpadded (with two parsers, one of them reused
  // across the test) and checks that both give the same; returns that.
  Parsed P(std::string_view line, bool with_position = false) {
    Parsed a = ParseWith(reused_, line, true, with_position);
    Parsed b = ParseWith(fresh_, line, false, with_position);
    EXPECT_EQ(a.ok, b.ok) << Show(line) << "\n padded: " << a.why << "\n unpadded: " << b.why;
    EXPECT_EQ(a.why, b.why) << Show(line);
    if (a.ok && b.ok) {
      EXPECT_EQ(Describe(a.event), Describe(b.event)) << Show(line);
      EXPECT_EQ(a.position, b.position) << Show(line);
    }
    if (!a.ok) {
      EXPECT_FALSE(a.why.empty()) << Show(line);
    }
    return a;
  }

  // Expects `line` to be refused with a reason containing `why_part`.
  void Refused(std::string_view line, std::string_view why_part, bool with_position = false) {
    const Parsed r = P(line, with_position);
    EXPECT_FALSE(r.ok) << "accepted " << Show(line) << " as " << Describe(r.event);
    EXPECT_NE(r.why.find(why_part), std::string::npos)
        << Show(line) << "\n why: " << r.why << "\n expected it to mention: " << why_part;
  }

  EventParser reused_;
  EventParser fresh_;
};

const char kUuid[] = "0b5e6f1c-1234-4abc-8def-0123456789ab";

TEST_F(EventParserTest, EveryField) {
  const std::string line =
      R"({"type":"CourseCreated","tags":["course:c1","b","course:c1"],)"
      R"("data":{"capacity": 10, "n":[1, 2.50, "x"]},"id":"0B5E6F1C-1234-4ABC-8DEF-0123456789AB",)"
      R"("metadata":{"correlation_id":"x","a":"b"},"timestamp":"2026-11-26T14:00:00.123456789Z"})";
  const Parsed r = P(line);
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.type, "CourseCreated");
  EXPECT_EQ(r.event.tags, (std::vector<std::string>{"course:c1", "b", "course:c1"}));
  EXPECT_EQ(r.event.data, R"({"capacity":10,"n":[1,2.50,"x"]})");
  EXPECT_TRUE(r.event.data_is_json);
  ASSERT_TRUE(r.event.id.has_value());
  EXPECT_EQ(r.event.id->ToString(), kUuid);
  EXPECT_EQ(r.event.metadata, (std::vector<std::pair<std::string, std::string>>{
                                  {"correlation_id", "x"}, {"a", "b"}}));
  EXPECT_EQ(r.event.timestamp_ns, 1795701600 * kNs + 123456789);
}

TEST_F(EventParserTest, OnlyTypeIsRequired) {
  const Parsed r = P(R"({"type":"A"})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.type, "A");
  EXPECT_TRUE(r.event.tags.empty());
  EXPECT_TRUE(r.event.data.empty());
  EXPECT_FALSE(r.event.id.has_value());
  EXPECT_TRUE(r.event.metadata.empty());
  EXPECT_FALSE(r.event.timestamp_ns.has_value());
  Refused("{}", "\"type\" is required");
  Refused(R"({"tags":["a"],"data":{}})", "\"type\" is required");
}

TEST_F(EventParserTest, FieldOrderDoesNotMatter) {
  const Parsed a = P(R"({"type":"T","tags":["x"],"data":[1],"id":")" + std::string(kUuid) +
                     R"(","metadata":{"k":"v"},"timestamp":"2026-11-26T14:00:00Z"})");
  const Parsed b = P(R"({"timestamp":"2026-11-26T14:00:00Z","metadata":{"k":"v"},"id":")" +
                     std::string(kUuid) + R"(","data":[1],"tags":["x"],"type":"T"})");
  ASSERT_TRUE(a.ok) << a.why;
  ASSERT_TRUE(b.ok) << b.why;
  EXPECT_EQ(Describe(a.event), Describe(b.event));
}

TEST_F(EventParserTest, WhitespaceEverywhere) {
  const std::string line =
      " \t{ \"type\" : \"T\" ,\t\"tags\" : [ \"a\" , \"b c\" ] , \"data\" : { \"k\" : [ 1 , { } ] ,"
      " \"s\" : \" keep  these \" } , \"metadata\" : { \"m\" : \" v \" } }  \t";
  const Parsed r = P(line);
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.tags, (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(r.event.data, R"({"k":[1,{}],"s":" keep  these "})");
  EXPECT_EQ(r.event.metadata, (std::vector<std::pair<std::string, std::string>>{{"m", " v "}}));
}

TEST_F(EventParserTest, DataOfEveryKindIsKeptAsWritten) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1.50", "1.50"},
      {"1E+2", "1E+2"},
      {"-0", "-0"},
      {"0.1e-7", "0.1e-7"},
      {"\"str\"", "\"str\""},
      {"\"\\u00e9\\n\\\"\"", "\"\\u00e9\\n\\\"\""},
      {"null", "null"},
      {"true", "true"},
      {"false", "false"},
      {"[ ]", "[]"},
      {"{ }", "{}"},
      {"[1, [2, [3]], {\"a\": null}]", "[1,[2,[3]],{\"a\":null}]"},
      {"{\"pi\": 3.14159265358979323846264338327950288}",
       "{\"pi\":3.14159265358979323846264338327950288}"},
      {"{\"n\": 1.0, \"m\": 1e0, \"o\": 10E-1}", "{\"n\":1.0,\"m\":1e0,\"o\":10E-1}"},
  };
  for (const auto& [data, want] : cases) {
    const Parsed r = P(R"({"type":"A","data":)" + data + "}");
    ASSERT_TRUE(r.ok) << data << ": " << r.why;
    EXPECT_EQ(r.event.data, want) << data;
    EXPECT_TRUE(r.event.data_is_json) << data;
  }
}

TEST_F(EventParserTest, NumbersBeyondSixtyFourBitsAreKeptAsWritten) {
  const std::vector<std::string> numbers = {
      "123456789012345678901234567890",
      "-123456789012345678901234567890",
      "18446744073709551616",
      "-9223372036854775809",
      "1e400",
      "-1e400",
      "1e-400",
      "123456789012345678901234567890.123456789012345678901234567890e-5",
  };
  for (const std::string& n : numbers) {
    for (const std::string& data :
         {n, "{\"n\": " + n + ", \"s\": \"x\"}", "[1, " + n + ", 1.50]"}) {
      std::string want;
      ASSERT_TRUE(CompactJson(data, 256, &want, &want));
      const Parsed r = P(R"({"type":"Big","data":)" + data + R"(,"tags":["t"]})");
      ASSERT_TRUE(r.ok) << data << ": " << r.why;
      EXPECT_EQ(r.event.data, want) << data;
      EXPECT_TRUE(r.event.data_is_json);
      EXPECT_EQ(r.event.type, "Big");
      EXPECT_EQ(r.event.tags, std::vector<std::string>{"t"});
    }
  }
}

// The slower parser (lines with numbers beyond 64 bits) reads every other
// field as the fast one does.
TEST_F(EventParserTest, BigNumberLinesReadEveryFieldTheSame) {
  const std::string rest =
      R"("type":"T","tags":["a","b"],"id":")" + std::string(kUuid) +
      R"(","metadata":{"z":"1","a":"2","m":"3"},"timestamp":"2026-11-26T19:30:00.5+05:30"})";
  const Parsed fast = P(R"({"data":{"n":12345},)" + rest);
  const Parsed slow = P(R"({"data":{"n":123456789012345678901234567890},)" + rest);
  ASSERT_TRUE(fast.ok) << fast.why;
  ASSERT_TRUE(slow.ok) << slow.why;
  EXPECT_EQ(slow.event.data, R"({"n":123456789012345678901234567890})");
  Event f = fast.event, s = slow.event;
  f.data.clear();
  s.data.clear();
  EXPECT_EQ(Describe(f), Describe(s));
  EXPECT_EQ(s.metadata,
            (std::vector<std::pair<std::string, std::string>>{{"z", "1"}, {"a", "2"}, {"m", "3"}}));
  EXPECT_EQ(s.timestamp_ns, 1795701600 * kNs + 500'000'000);
  // A big-number line with the position field.
  const Parsed pos = P(R"({"position":7,"type":"T","data":[1e400]})", true);
  ASSERT_TRUE(pos.ok) << pos.why;
  EXPECT_EQ(pos.position, 7u);
  EXPECT_EQ(pos.event.data, "[1e400]");
}

TEST_F(EventParserTest, DataBase64) {
  Parsed r = P(R"({"type":"Blob","data_base64":"AAEC"})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.data, std::string("\x00\x01\x02", 3));
  EXPECT_FALSE(r.event.data_is_json);
  r = P(R"({"type":"Blob","data_base64":""})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_TRUE(r.event.data.empty());
  EXPECT_FALSE(r.event.data_is_json);
  r = P(R"({"type":"Blob","data_base64":"+/8="})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.data, "\xfb\xff");
  for (const std::string bad : {"\"Zg\"", "\"Zm9v!\"", "\"Zm 9v\"", "\"Zm-v\"", "123", "null",
                                "[\"AAEC\"]", "{}", "true"}) {
    Refused(R"({"type":"Blob","data_base64":)" + bad + "}", "data_base64");
  }
  // Binary and JSON data together are refused, in either order.
  Refused(R"({"type":"A","data":{},"data_base64":"AAEC"})", "not both");
  Refused(R"({"type":"A","data_base64":"AAEC","data":{}})", "not both");
  Refused(R"({"type":"A","data_base64":"","data":null})", "not both");
  Refused(R"({"type":"A","data":1e400,"data_base64":"AAEC"})", "not both");
}

TEST_F(EventParserTest, UnknownFieldsAreRefused) {
  for (const std::string field :
       {"colour", "Type", "TYPE", "data64", "tag", "meta", "position", "", "type ", "ids"}) {
    const std::string key = JsonString(field);
    Refused(R"({"type":"A",)" + key + ":1}", "unknown field " + key);
    Refused(R"({"type":"A",)" + key + ":1,\"data\":1e400}", "unknown field " + key);
  }
  // An escaped key is the field it spells.
  const Parsed r = P(R"({"t\u0079pe":"A"})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.type, "A");
}

TEST_F(EventParserTest, DuplicateFieldsAreRefused) {
  const std::vector<std::string> fields = {
      R"("type":"A")",
      R"("tags":["x"])",
      R"("data":{"a":1})",
      R"("data_base64":"AAEC")",
      std::string(R"("id":")") + kUuid + "\"",
      R"("metadata":{"k":"v"})",
      R"("timestamp":"2026-11-26T14:00:00Z")",
  };
  for (const std::string& f : fields) {
    const std::string name = f.substr(0, f.find(':'));
    const std::string base = f.rfind("\"type\"", 0) == 0 ? "" : R"("type":"A",)";
    Refused("{" + base + f + "," + f + "}", "field " + name + " is given twice");
    // The same in a line that takes the slower parser.
    if (f.rfind("\"data", 0) != 0) {
      Refused("{" + base + f + "," + f + ",\"data\":1e400}", "field " + name + " is given twice");
    }
  }
  Refused(R"({"type":"A","data":[1e400],"data":[1]})", "\"data\" is given twice");
  Refused(R"({"type":"A","position":1,"position":2})", "\"position\" is given twice", true);
}

TEST_F(EventParserTest, MetadataOrderIsKept) {
  const Parsed r = P(
      R"({"type":"A","metadata":{"z":"1","a":"2","m":"3","b":"","k\"ey":"v\nal\u00e9","c":"x"}})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(
      r.event.metadata,
      (std::vector<std::pair<std::string, std::string>>{
          {"z", "1"}, {"a", "2"}, {"m", "3"}, {"b", ""}, {"k\"ey", "v\nal\xc3\xa9"}, {"c", "x"}}));
  const Parsed empty = P(R"({"type":"A","metadata":{}})");
  ASSERT_TRUE(empty.ok) << empty.why;
  EXPECT_TRUE(empty.event.metadata.empty());
  for (const std::string bad : {"[]", "\"x\"", "1", "null", "{\"k\":1}", "{\"k\":null}",
                                "{\"k\":[\"v\"]}", "{\"k\":{}}", "{\"a\":\"b\",\"k\":true}"}) {
    Refused(R"({"type":"A","metadata":)" + bad + "}", "metadata");
    Refused(R"({"type":"A","data":1e400,"metadata":)" + bad + "}", "metadata");
  }
}

TEST_F(EventParserTest, TagsMustBeAnArrayOfStrings) {
  Parsed r = P(R"({"type":"A","tags":[]})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_TRUE(r.event.tags.empty());
  r = P(R"({"type":"A","tags":["a:1","","\u0041"]})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.tags, (std::vector<std::string>{"a:1", "", "A"}));
  for (const std::string bad :
       {"\"a\"", "{}", "1", "null", "[1]", "[\"a\",null]", "[[\"a\"]]", "[\"a\",{}]"}) {
    Refused(R"({"type":"A","tags":)" + bad + "}", "tags");
    Refused(R"({"type":"A","data":1e400,"tags":)" + bad + "}", "tags");
  }
}

// An event carries at most kMaxEventTags distinct tags; repeats count once
// and are kept as given (the engine drops them). The reader refuses the
// first distinct tag over the limit as it reads it, on both parsers, naming
// the limit and the element; nothing after it is looked at.
TEST_F(EventParserTest, TagsBeyondTheDistinctLimitAreRefusedWhereTheyStart) {
  ASSERT_EQ(kMaxEventTags, 64u);
  std::string limit;  // "t0","t1",...: the limit's worth of distinct tags
  for (size_t i = 0; i < kMaxEventTags; ++i)
    limit += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  for (const std::string data : {"", R"(,"data":1e400)"}) {
    SCOPED_TRACE(data.empty() ? "fast parser" : "parser keeping numbers");
    const Parsed r =
        P(R"({"type":"A","tags":[)" + limit + "," + limit + "," + limit + "]" + data + "}");
    ASSERT_TRUE(r.ok) << r.why;
    ASSERT_EQ(r.event.tags.size(), 3 * kMaxEventTags);
    EXPECT_EQ(r.event.tags[kMaxEventTags], "t0");
    EXPECT_EQ(r.event.tags.back(), "t63");
    Refused(R"({"type":"A","tags":[)" + limit + "," + limit + R"(,"new"])" + data + "}",
            "\"tags\": more than 64 distinct tags (the limit is 64; element 128 is the first "
            "over it)");
    Refused(R"({"type":"A","tags":["new",)" + limit + "]" + data + "}",
            "more than 64 distinct tags (the limit is 64; element 64 is the first over it)");
    // What follows the 65th distinct tag is not read: not the element that
    // is not a string.
    Refused(R"({"type":"A","tags":[)" + limit + R"(,"new",1])" + data + "}",
            "element 64 is the first over it");
  }
}

TEST_F(EventParserTest, TypeMustBeAString) {
  for (const std::string bad : {"1", "null", "[\"A\"]", "{}", "true"}) {
    Refused(R"({"type":)" + bad + "}", "\"type\"");
    Refused(R"({"data":1e400,"type":)" + bad + "}", "\"type\"");
  }
}

TEST_F(EventParserTest, BadUuidIsRefused) {
  for (const std::string bad :
       {"\"not-a-uuid\"", "\"0b5e6f1c12344abc8def0123456789ab\"",
        "\"0b5e6f1c-1234-4abc-8def-0123456789a\"", "\"0b5e6f1c-1234-4abc-8def-0123456789abc\"",
        "\"0b5e6f1g-1234-4abc-8def-0123456789ab\"", "\"{0b5e6f1c-1234-4abc-8def-0123456789ab}\"",
        "\" 0b5e6f1c-1234-4abc-8def-0123456789ab\"", "\"0b5e6f1c-1234-4abc-8def_0123456789ab\"",
        "\"\"", "123", "null", "[]", "{}"}) {
    Refused(R"({"type":"A","id":)" + bad + "}", "field \"id\"");
    Refused(R"({"type":"A","data":1e400,"id":)" + bad + "}", "field \"id\"");
  }
  const Parsed r = P(R"({"type":"A","id":"00000000-0000-0000-0000-000000000000"})");
  ASSERT_TRUE(r.ok) << r.why;
  ASSERT_TRUE(r.event.id.has_value());
  EXPECT_EQ(r.event.id->ToString(), "00000000-0000-0000-0000-000000000000");
}

TEST_F(EventParserTest, BadTimestampIsRefused) {
  for (const std::string bad :
       {"\"2026-02-30T00:00:00Z\"", "\"yesterday\"", "\"2026-11-26\"", "\"2026-11-26T14:00:00\"",
        "\"2026-11-26T14:00:00+24:00\"", "\"3000-01-01T00:00:00Z\"", "1795701600", "null", "[]"}) {
    Refused(R"({"type":"A","timestamp":)" + bad + "}", "field \"timestamp\"");
    Refused(R"({"type":"A","data":1e400,"timestamp":)" + bad + "}", "field \"timestamp\"");
  }
  const Parsed r = P(R"({"type":"A","timestamp":"1969-12-31T23:59:59.5Z"})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.timestamp_ns, -500'000'000);
}

TEST_F(EventParserTest, PositionOnlyWhenAsked) {
  Parsed r = P(R"({"type":"A","position":42})", true);
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.position, 42u);
  r = P(R"({"type":"A","position":18446744073709551615})", true);
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.position, std::numeric_limits<uint64_t>::max());
  r = P(R"({"type":"A"})", true);
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.position, 0u);  // set to 0 when the line has none
  for (const std::string bad : {"0", "-1", "1.5", "1.0", "\"1\"", "null", "[1]", "1e2"}) {
    Refused(R"({"type":"A","position":)" + bad + "}", "position", true);
  }
  Refused(R"({"type":"A","position":1})", "unknown field \"position\"", false);
}

TEST_F(EventParserTest, NotOneEventObjectIsRefused) {
  for (const std::string bad : {"",
                                " ",
                                "[]",
                                "[{\"type\":\"A\"}]",
                                "1",
                                "\"x\"",
                                "null",
                                "{",
                                "{\"type\":\"A\"",
                                "{\"type\":\"A\",}",
                                "{\"type\":A}",
                                "{'type':'A'}",
                                "{\"type\":\"A\"} x",
                                "{\"type\":\"A\"}{}",
                                "{\"type\":\"A\"},",
                                "{\"type\":\"A\",\"data\":01}",
                                "{\"type\":\"A\",\"data\":[1,]}",
                                "{\"type\":\"A\",\"data\":\"\\x\"}",
                                "{\"type\":\"A\",\"data\":1e400} x",
                                "{\"type\":\"A\",\"data\":1e400}}"}) {
    const Parsed r = P(bad);
    EXPECT_FALSE(r.ok) << "accepted " << Show(bad) << " as " << Describe(r.event);
  }
  // A raw control character in a string, and bytes that are not UTF-8.
  EXPECT_FALSE(P("{\"type\":\"A\tB\"}").ok);
  EXPECT_FALSE(P("{\"type\":\"A\",\"data\":\"a\nb\"}").ok);
  EXPECT_FALSE(P("{\"type\":\"A\xff\"}").ok);
  EXPECT_FALSE(P("{\"type\":\"A\",\"data\":\"\xc0\xaf\"}").ok);
  EXPECT_FALSE(P("{\"type\":\"A\",\"data\":[1e400,\"\xed\xa0\x80\"]}").ok);
  EXPECT_FALSE(P("{\"type\":\"A\",\"metadata\":{\"k\":\"\xff\"}}").ok);
  // Whitespace after the object is fine.
  EXPECT_TRUE(P("{\"type\":\"A\"}  \t ").ok);
  EXPECT_TRUE(P("{\"type\":\"A\",\"data\":1e400}  \t ").ok);
}

TEST_F(EventParserTest, DataFieldAmongLookalikeStrings) {
  // Other members hold braces, quotes and the word "data": the data is the
  // value of the member named data, whatever comes before it.
  const Parsed r =
      P(R"({"type":"data","tags":["\"data\":{","}"],"metadata":{"data":"{\"x\":[","}":"]"},)"
        R"("data":[1, "]", {"data": "}"}],"id":")" +
        std::string(kUuid) + R"("})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.type, "data");
  EXPECT_EQ(r.event.data, R"([1,"]",{"data":"}"}])");
  EXPECT_EQ(r.event.tags, (std::vector<std::string>{"\"data\":{", "}"}));
  EXPECT_EQ(r.event.metadata,
            (std::vector<std::pair<std::string, std::string>>{{"data", "{\"x\":["}, {"}", "]"}}));
}

// kMaxJsonDepth: "Deepest nesting accepted in any input document (data
// included)": the event object is one level, so data may nest 255 deep.
TEST_F(EventParserTest, NestingLimitCountsTheEventObject) {
  ASSERT_EQ(kMaxJsonDepth, 256u);
  for (std::string_view inner : {"1", "123456789012345678901234567890"}) {
    const std::string ok_data = Nest(kMaxJsonDepth - 1, inner);
    const Parsed ok = P(R"({"type":"Deep","data":)" + ok_data + "}");
    EXPECT_TRUE(ok.ok) << inner << ": " << ok.why;
    EXPECT_EQ(ok.event.data, ok_data);
    const Parsed too_deep = P(R"({"type":"Deep","data":)" + Nest(kMaxJsonDepth, inner) + "}");
    EXPECT_FALSE(too_deep.ok) << inner << ": data nested " << kMaxJsonDepth << " deep accepted";
    const std::string ok_objects = Nest(kMaxJsonDepth - 1, inner, true);
    const Parsed ok2 = P(R"({"type":"Deep","data":)" + ok_objects + "}");
    EXPECT_TRUE(ok2.ok) << inner << ": " << ok2.why;
    std::string want;
    ASSERT_TRUE(CompactJson(ok_objects, 1000, &want, &want));
    EXPECT_EQ(ok2.event.data, want);
    EXPECT_FALSE(P(R"({"type":"Deep","data":)" + Nest(kMaxJsonDepth, inner, true) + "}").ok)
        << inner;
  }
}

// One Event object reused for many lines: nothing of an earlier line stays.
TEST_F(EventParserTest, ReusedEventKeepsNothingOfTheLineBefore) {
  EventParser parser;
  Event e;
  std::string why;
  const std::string full = R"({"type":"Full","tags":["a","b","c"],"data":{"x":1},"id":")" +
                           std::string(kUuid) +
                           R"(","metadata":{"k":"v"},"timestamp":"2026-11-26T14:00:00Z"})";
  ASSERT_TRUE(parser.Parse(full, false, &e, &why)) << why;
  ASSERT_TRUE(parser.Parse(R"({"type":"Bare"})", false, &e, &why)) << why;
  EXPECT_EQ(Describe(e), Describe(Event{.type = "Bare"}));
  ASSERT_TRUE(parser.Parse(full, false, &e, &why)) << why;
  ASSERT_TRUE(parser.Parse(R"({"type":"Bin","tags":["z"],"data_base64":"AA=="})", false, &e, &why))
      << why;
  EXPECT_EQ(Describe(e),
            Describe(Event{.type = "Bin", .tags = {"z"}, .data = std::string(1, '\0')}));
  // The same through the slower parser.
  ASSERT_TRUE(parser.Parse(full, false, &e, &why)) << why;
  ASSERT_TRUE(parser.Parse(R"({"type":"Big","data":1e400})", false, &e, &why)) << why;
  EXPECT_EQ(Describe(e), Describe(Event{.type = "Big", .data = "1e400", .data_is_json = true}));
  ASSERT_TRUE(parser.Parse(full, false, &e, &why)) << why;
  ASSERT_TRUE(parser.Parse(R"({"type":"Big2","tags":["q"]})", false, &e, &why)) << why;
  EXPECT_EQ(Describe(e), Describe(Event{.type = "Big2", .tags = {"q"}}));
  // After a refused line the parser goes on.
  EXPECT_FALSE(parser.Parse(R"({"type":"A","bogus":1})", false, &e, &why));
  ASSERT_TRUE(parser.Parse(full, false, &e, &why)) << why;
  EXPECT_EQ(e.type, "Full");
  EXPECT_EQ(e.data, R"({"x":1})");
}

// Long lines (beyond the parser's first allocation), both ways.
TEST_F(EventParserTest, LongLines) {
  std::string big_string(300'000, 'x');
  for (size_t i = 0; i < big_string.size(); i += 1000) big_string[i] = ' ';
  std::string data = "{\"s\": \"" + big_string + "\", \"a\": [";
  for (int i = 0; i < 20000; ++i) data += (i ? ", " : "") + std::to_string(i) + ".50";
  data += "]}";
  std::string want;
  ASSERT_TRUE(CompactJson(data, 256, &want, &want));
  const Parsed r = P(R"({"type":"Long","data":)" + data + "}");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.event.data, want);
  const Parsed big =
      P(R"({"type":"Long","data":)" + data + ",\"tags\":[\"t\"],\"metadata\":{\"n\":\"" +
            big_string + "\"},\"position\":3}",
        true);
  ASSERT_TRUE(big.ok) << big.why;
  EXPECT_EQ(big.event.metadata.at(0).second, big_string);
  EXPECT_EQ(big.position, 3u);
}

// ---------------------------------------------------------------------------
// json_reader.h: ParseQuery / ParseCondition
// ---------------------------------------------------------------------------

std::string DescribeQuery(const Query& q) {
  std::string s = "[";
  for (const QueryItem& item : q.items) {
    s += "{types:";
    for (const auto& t : item.types) s += JsonString(t) + ",";
    s += " tags:";
    for (const auto& t : item.tags) s += JsonString(t) + ",";
    s += "}";
  }
  return s + "]";
}

TEST(CliJsonQueryTest, ParsesItems) {
  Query q = Query::ForTags({"stale"});
  std::string why;
  ASSERT_TRUE(ParseQuery(
      R"({"items": [{"types": ["A", "B"], "tags": ["k:v", "x:y"]}, {"tags": ["z:1"]}, {"types": ["C"]}]})",
      &q, &why))
      << why;
  Query want = Query::Of({"A", "B"}, {"k:v", "x:y"});
  want.Or(QueryItem{{}, {"z:1"}}).Or(QueryItem{{"C"}, {}});
  EXPECT_EQ(DescribeQuery(q), DescribeQuery(want));
  // Order within an item and of the items is kept; escapes are decoded.
  ASSERT_TRUE(ParseQuery(
      R"( { "items" : [ { "tags" : [ "b" , "a\u0041" ] , "types" : [ "T\"" ] } ] } )", &q, &why))
      << why;
  EXPECT_EQ(DescribeQuery(q), DescribeQuery(Query::Of({"T\""}, {"b", "aA"})));
}

TEST(CliJsonQueryTest, AllForms) {
  for (const std::string all : {"{}", "{\"items\": []}", " { \"items\" : [ ] } "}) {
    Query q = Query::ForTypes({"stale"});
    std::string why;
    ASSERT_TRUE(ParseQuery(all, &q, &why)) << all << ": " << why;
    EXPECT_TRUE(q.MatchesAll()) << all;
  }
}

TEST(CliJsonQueryTest, ItemNamingNeitherTypesNorTagsIsRefused) {
  for (const std::string bad :
       {R"({"items": [{}]})", R"({"items": [{"types": []}]})", R"({"items": [{"tags": []}]})",
        R"({"items": [{"types": [], "tags": []}]})", R"({"items": [{"tags": ["a"]}, {}]})"}) {
    Query q;
    std::string why;
    EXPECT_FALSE(ParseQuery(bad, &q, &why)) << bad;
    EXPECT_NE(why.find("neither types nor tags"), std::string::npos) << bad << ": " << why;
  }
  Query q;
  std::string why;
  EXPECT_FALSE(ParseQuery(R"({"items": [{"tags": ["a"]}, {"types": []}]})", &q, &why));
  EXPECT_NE(why.find("item 1"), std::string::npos) << why;
}

TEST(CliJsonQueryTest, UnknownFieldsAndWrongShapesAreRefused) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"item": []})", "unknown field \"item\""},
      {R"({"items": [], "limit": 1})", "unknown field \"limit\""},
      {R"({"items": [{"types": ["A"], "kinds": ["B"]}]})", "unknown field \"kinds\""},
      {R"({"items": [{"Types": ["A"]}]})", "unknown field \"Types\""},
      {R"({"items": {}})", "\"items\""},
      {R"({"items": "A"})", "\"items\""},
      {R"({"items": null})", "\"items\""},
      {R"({"items": [1]})", "item 0"},
      {R"({"items": [["A"]]})", "item 0"},
      {R"({"items": [{"types": "A"}]})", "types"},
      {R"({"items": [{"types": [1]}]})", "types"},
      {R"({"items": [{"tags": [null]}]})", "tags"},
      {R"({"items": [{"tags": ["a", ["b"]]}]})", "tags"},
      {"[]", "query"},
      {"null", "query"},
      {"\"items\"", "query"},
      {"", "query"},
      {"{", "query"},
      {"{} x", "query"},
      {"{\"items\": [],}", "query"},
  };
  for (const auto& [json, why_part] : bad) {
    Query q;
    std::string why;
    EXPECT_FALSE(ParseQuery(json, &q, &why)) << json;
    EXPECT_NE(why.find(why_part), std::string::npos) << json << ": " << why;
  }
}

TEST(CliJsonConditionTest, ParsesQueryAndAfter) {
  AppendCondition c;
  std::string why;
  ASSERT_TRUE(ParseCondition(
      R"({"fail_if_events_match": {"items": [{"tags": ["course:c1"]}]}, "after": 5})", &c, &why))
      << why;
  EXPECT_EQ(DescribeQuery(c.fail_if_events_match), DescribeQuery(Query::ForTags({"course:c1"})));
  EXPECT_EQ(c.after, std::optional<uint64_t>(5));
  // Either order; "after" 0 and the largest position.
  ASSERT_TRUE(ParseCondition(R"({"after": 0, "fail_if_events_match": {}})", &c, &why)) << why;
  EXPECT_EQ(c.after, std::optional<uint64_t>(0));
  EXPECT_TRUE(c.fail_if_events_match.MatchesAll());
  ASSERT_TRUE(ParseCondition(
      R"({"fail_if_events_match": {"items": []}, "after": 18446744073709551615})", &c, &why))
      << why;
  EXPECT_EQ(c.after, std::optional<uint64_t>(std::numeric_limits<uint64_t>::max()));
}

TEST(CliJsonConditionTest, AfterIsOptionalAndNothingStaysFromBefore) {
  AppendCondition c{Query::ForTypes({"stale"}), 99};
  std::string why;
  ASSERT_TRUE(
      ParseCondition(R"({"fail_if_events_match": {"items": [{"types": ["X"]}]}})", &c, &why))
      << why;
  EXPECT_FALSE(c.after.has_value());
  EXPECT_EQ(DescribeQuery(c.fail_if_events_match), DescribeQuery(Query::ForTypes({"X"})));
}

TEST(CliJsonConditionTest, AfterMustBeANonNegativeInteger) {
  for (const std::string bad : {"-1", "-0.5", "1.5", "1.0", "1e3", "\"5\"", "null", "true", "[5]",
                                "{}", "18446744073709551616", "-9223372036854775808"}) {
    AppendCondition c;
    std::string why;
    EXPECT_FALSE(ParseCondition(R"({"fail_if_events_match": {}, "after": )" + bad + "}", &c, &why))
        << bad << " accepted as " << (c.after ? std::to_string(*c.after) : "none");
    EXPECT_FALSE(why.empty());
  }
}

TEST(CliJsonConditionTest, RefusesRepeatedFields) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"fail_if_events_match": {}, "fail_if_events_match": {}})", "given twice"},
      {R"({"fail_if_events_match": {}, "after": 1, "after": 2})", "given twice"},
      {R"({"fail_if_events_match": {"items": [], "items": []}})", "given twice"},
      {R"({"fail_if_events_match": {"items": [{"tags": ["a"], "tags": ["b"]}]}})", "given twice"},
      {R"({"fail_if_events_match": {"items": [{"types": ["A"], "types": ["B"]}]}})", "given twice"},
  };
  for (const auto& [json, why_part] : bad) {
    AppendCondition c;
    std::string why;
    EXPECT_FALSE(ParseCondition(json, &c, &why)) << json;
    EXPECT_NE(why.find(why_part), std::string::npos) << json << ": " << why;
  }
  Query q;
  std::string why;
  EXPECT_FALSE(ParseQuery(R"({"items": [{"tags": ["a"]}], "items": [{"tags": ["b"]}]})", &q, &why));
  EXPECT_NE(why.find("given twice"), std::string::npos) << why;
}

TEST(CliJsonConditionTest, RefusesUnknownFieldsMissingQueryAndBadQuery) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"fail_if_events_match": {}, "after": 1, "before": 2})", "unknown field \"before\""},
      {R"({"fail_if_events_match": {}, "After": 1})", "unknown field \"After\""},
      {R"({"query": {}})", "unknown field \"query\""},
      {R"({"after": 1})", "fail_if_events_match"},
      {R"({})", "fail_if_events_match"},
      {R"({"fail_if_events_match": {"items": [{}]}})", "neither types nor tags"},
      {R"({"fail_if_events_match": {"items": [{"tags": ["a"], "x": 1}]}})", "unknown field \"x\""},
      {R"({"fail_if_events_match": []})", "condition query"},
      {R"({"fail_if_events_match": null})", "condition query"},
      {"[]", "condition"},
      {"", "condition"},
      {"{\"fail_if_events_match\": {}", "condition"},
      {"{\"fail_if_events_match\": {}} {}", "condition"},
  };
  for (const auto& [json, why_part] : bad) {
    AppendCondition c;
    std::string why;
    EXPECT_FALSE(ParseCondition(json, &c, &why)) << json;
    EXPECT_NE(why.find(why_part), std::string::npos) << json << ": " << why;
  }
}

// ---------------------------------------------------------------------------
// block_parser.h: BlockParser
// ---------------------------------------------------------------------------

// A line of the test block: varied events (some through the slower parser,
// some binary, with ids, metadata, offsets), blank lines and CRLF endings.
std::string BlockLine(size_t i, std::mt19937_64& rng, bool with_position) {
  if (i % 97 == 5) return "";
  if (i % 101 == 7) return " \t ";
  if (i % 103 == 9) return "\r";
  std::string l = "{";
  if (with_position) l += "\"position\": " + std::to_string(i + 1) + ", ";
  l += "\"type\": \"T" + std::to_string(i % 13) + "\"";
  if (i % 3 != 0) {
    l += ", \"tags\": [";
    for (uint64_t t = 0, n = rng() % 4; t < n; ++t) {
      l += (t ? "," : "") + std::string("\"k") + std::to_string(t) + ":" +
           std::to_string(rng() % 50) + "\"";
    }
    l += "]";
  }
  if (i % 5 == 0) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    l += ", \"data_base64\": \"" + Base64(bytes) + "\"";
  } else if (i % 7 == 0) {
    l += ", \"data\": {\"big\": 123456789012345678901234567890" + std::to_string(i) +
         ", \"f\": 1.50}";
  } else {
    l += ", \"data\": {\"i\": " + std::to_string(i) + ", \"s\": \"line " + std::to_string(i) +
         " {\\\"}\", \"a\": [1, 2.50, null]}";
  }
  if (i % 11 == 0) {
    char id[40];
    std::snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012llx", static_cast<unsigned>(i),
                  static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
    l += ", \"id\": \"" + std::string(id) + "\"";
  }
  if (i % 4 == 1) l += ", \"metadata\": {\"z\": \"" + std::to_string(i) + "\", \"a\": \"x\"}";
  l +=
      ", \"timestamp\": \"" + Timestamp(static_cast<int64_t>(1'700'000'000 + i) * kNs + 123) + "\"";
  l += "}";
  if (i % 89 == 3) l += "\r";  // CRLF
  return l;
}

struct Block {
  std::string storage;  // the block followed by LineReader's padding
  size_t size = 0;
  std::vector<std::string> lines;  // without '\n'
  std::vector<size_t> offsets;     // of each line in the block
  std::string_view view() const { return std::string_view(storage.data(), size); }
  void Finish(bool final_newline = true) {
    storage.clear();
    offsets.clear();
    for (size_t i = 0; i < lines.size(); ++i) {
      offsets.push_back(storage.size());
      storage += lines[i];
      if (i + 1 < lines.size() || final_newline) storage.push_back('\n');
    }
    size = storage.size();
    storage += std::string(kLinePadding, 'P');
  }
};

Block MakeBlock(size_t count, bool with_position, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Block b;
  for (size_t i = 0; i < count; ++i) b.lines.push_back(BlockLine(i, rng, with_position));
  b.Finish();
  return b;
}

struct Expected {
  std::vector<std::string> events;  // Describe()
  std::vector<Event> raw;
  std::vector<uint64_t> line_nos;
  std::vector<uint64_t> positions;
};

// What parsing line by line gives: the events of the non-blank lines before
// `stop_line` (a line number), with their numbers.
Expected LineByLine(const Block& b, uint64_t first_line_no, bool with_position,
                    uint64_t stop_line = UINT64_MAX) {
  Expected x;
  EventParser parser;
  for (size_t i = 0; i < b.lines.size(); ++i) {
    const uint64_t line_no = first_line_no + i;
    if (line_no >= stop_line) break;
    std::string_view l = b.lines[i];
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Event e;
    uint64_t position = 0;
    std::string why;
    EXPECT_TRUE(parser.Parse(l, false, &e, with_position ? &position : nullptr, &why))
        << "line " << line_no << ": " << why << "\n"
        << Show(l);
    x.events.push_back(Describe(e));
    x.raw.push_back(e);
    x.line_nos.push_back(line_no);
    x.positions.push_back(position);
  }
  return x;
}

unsigned ParserThreads() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

struct Sunk {
  std::vector<std::string> events;
  std::vector<uint64_t> line_nos;
  std::vector<uint64_t> positions;
};

BlockParser::Sink Collect(Sunk* s) {
  return [s](Event&& e, uint64_t line_no, uint64_t position) {
    s->events.push_back(Describe(e));
    s->line_nos.push_back(line_no);
    s->positions.push_back(position);
  };
}

// The events of a store as text, all fields.
std::vector<std::string> StoreEvents(const Store& store) {
  std::vector<EventView> views;
  EXPECT_TRUE(store.Read(Query::All(), {}, &views).ok());
  std::vector<std::string> out;
  for (const EventView& v : views) {
    Event e = v.ToEvent();
    out.push_back(std::to_string(v.position()) + " " + Describe(e));
  }
  return out;
}

TEST(BlockParserTest, ParseGivesTheEventsOfLineByLineParsingInOrder) {
  for (bool with_position : {false, true}) {
    const Block b = MakeBlock(10'000, with_position, 42 + with_position);
    ASSERT_GT(b.size, size_t{64} << 10) << "the block must be large enough for several threads";
    for (uint64_t first : {uint64_t{1}, uint64_t{1'000'001}}) {
      const Expected want = LineByLine(b, first, with_position);
      ASSERT_GT(want.events.size(), 9'000u);
      BlockParser parser(with_position, "input");
      Sunk got;
      parser.Parse(b.view(), first, Collect(&got));
      ASSERT_EQ(got.events.size(), want.events.size());
      for (size_t i = 0; i < want.events.size(); ++i) {
        ASSERT_EQ(got.events[i], want.events[i]) << "event " << i;
        ASSERT_EQ(got.line_nos[i], want.line_nos[i]) << "event " << i;
        ASSERT_EQ(got.positions[i], want.positions[i]) << "event " << i;
      }
      if (with_position) {
        // Each line carried its own 1-based index as its position.
        for (size_t i = 0; i < got.positions.size(); ++i) {
          EXPECT_EQ(got.positions[i], got.line_nos[i] - first + 1);
        }
      }
      // The same parser, again, on the same block: the same result.
      Sunk again;
      parser.Parse(b.view(), first, Collect(&again));
      EXPECT_EQ(again.events, got.events);
      EXPECT_EQ(again.line_nos, got.line_nos);
    }
  }
}

TEST(BlockParserTest, ParseIntoGivesTheSameEventsAsLineByLine) {
  const Block b = MakeBlock(10'000, false, 7);
  const Expected want = LineByLine(b, 1, false);
  BlockParser parser(false, "input");
  Batch got;
  parser.ParseInto(b.view(), 1, &got);
  Batch expected;
  for (const Event& e : want.raw) ASSERT_TRUE(expected.Add(e).ok());
  EXPECT_EQ(got.size(), want.raw.size());
  EXPECT_EQ(got.bytes(), expected.bytes());
  // What the store makes of the two batches is the same.
  TempDir d1, d2;
  std::unique_ptr<Store> s1, s2;
  ASSERT_TRUE(Store::Open(d1.path(), "s", {}, &s1).ok());
  ASSERT_TRUE(Store::Open(d2.path(), "s", {}, &s2).ok());
  uint64_t last1 = 0, last2 = 0;
  ASSERT_TRUE(s1->Append(std::move(got), std::nullopt, &last1).ok());
  ASSERT_TRUE(s2->Append(std::move(expected), std::nullopt, &last2).ok());
  EXPECT_EQ(last1, want.raw.size());
  EXPECT_EQ(last1, last2);
  const auto e1 = StoreEvents(*s1);
  const auto e2 = StoreEvents(*s2);
  ASSERT_EQ(e1.size(), e2.size());
  for (size_t i = 0; i < e1.size(); ++i) ASSERT_EQ(e1[i], e2[i]) << i;

  // ParseInto adds to what the batch holds: a second block after the first.
  BlockParser again(false, "input");
  Batch two;
  again.ParseInto(b.view(), 1, &two);
  again.ParseInto(b.view(), 10'001, &two);
  EXPECT_EQ(two.size(), 2 * want.raw.size());
}

// Where the block is cut for the threads is not a promise of block_parser.h;
// a line at 1.5/n of the block is in the second of n roughly equal parts.
size_t LineInSecondPart(const Block& b) {
  const unsigned n = ParserThreads();
  const size_t target = n == 1 ? b.size / 2 : b.size * 3 / (2 * n);
  size_t i = 0;
  while (i + 1 < b.offsets.size() && b.offsets[i] < target) ++i;
  return i;
}

TEST(BlockParserTest, FirstMalformedLineInTheSecondPartIsReported) {
  Block b = MakeBlock(10'000, false, 3);
  ::testing::Test::RecordProperty("parser_threads", static_cast<int>(ParserThreads()));
  const size_t bad = LineInSecondPart(b);
  ASSERT_GT(bad, 100u);
  b.lines[bad] = R"({"type": "Broken", "data": [1, 2,]})";
  b.lines[bad + 50] = R"({"type": "AlsoBroken", "colour": 1})";  // later: not the one reported
  b.lines[b.lines.size() - 3] = "{oops";                         // in the last part
  b.Finish();
  const uint64_t first = 501;
  const uint64_t bad_no = first + bad;
  const Expected before = LineByLine(b, first, false, bad_no);
  BlockParser parser(false, "events.jsonl");
  Sunk got;
  try {
    parser.Parse(b.view(), first, Collect(&got));
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kInvalid);
    EXPECT_EQ(e.line, std::optional<uint64_t>(bad_no)) << e.message;
    EXPECT_NE(e.message.find("events.jsonl"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("line " + std::to_string(bad_no)), std::string::npos) << e.message;
  }
  // Every event before the bad line was handed over, in order, and no other.
  EXPECT_EQ(got.events, before.events);
  EXPECT_EQ(got.line_nos, before.line_nos);

  // ParseInto reports the same line.
  BlockParser into(false, "events.jsonl");
  Batch batch;
  try {
    into.ParseInto(b.view(), first, &batch);
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kInvalid);
    EXPECT_EQ(e.line, std::optional<uint64_t>(bad_no)) << e.message;
  }
}

TEST(BlockParserTest, MalformedLineInTheFirstPartWinsOverLaterOnes) {
  Block b = MakeBlock(10'000, false, 4);
  const size_t second = LineInSecondPart(b);
  b.lines[10] = R"({"type": "X", "data": 01})";
  b.lines[second] = "not json";
  b.Finish();
  BlockParser parser(false, "in");
  Sunk got;
  try {
    parser.Parse(b.view(), 1, Collect(&got));
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.line, std::optional<uint64_t>(11)) << e.message;
  }
  EXPECT_EQ(got.events, LineByLine(b, 1, false, 11).events);
}

TEST(BlockParserTest, EventTheStoreRefusesIsReportedLikeAMalformedLine) {
  Block b = MakeBlock(10'000, false, 5);
  const size_t bad = LineInSecondPart(b);
  b.lines[bad] = R"({"type": ")" + std::string(300, 'T') + R"("})";  // type over 255 bytes
  b.Finish();
  BlockParser parser(false, "stdin");
  Batch batch;
  try {
    parser.ParseInto(b.view(), 1, &batch);
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kInvalid);
    EXPECT_EQ(e.line, std::optional<uint64_t>(bad + 1)) << e.message;
    EXPECT_NE(e.message.find("stdin line " + std::to_string(bad + 1)), std::string::npos)
        << e.message;
  }
  // A tag with a control character, in the first part.
  b.lines[bad] = R"({"type": "T"})";
  b.lines[20] = R"({"type": "T", "tags": ["a\u0001b"]})";
  b.Finish();
  BlockParser p2(false, "stdin");
  Batch batch2;
  try {
    p2.ParseInto(b.view(), 1, &batch2);
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.line, std::optional<uint64_t>(21)) << e.message;
  }
}

TEST(BlockParserTest, BlankLinesAreSkippedButCounted) {
  Block b;
  b.lines = {"",
             "   ",
             R"({"type":"A"})",
             "\t",
             "\r",
             R"({"type":"B"})"
             "\r",
             "",
             " \t\r",
             R"(  {"type":"C"}  )",
             "",
             R"({"type":"D"})"};
  for (bool final_newline : {true, false}) {
    b.Finish(final_newline);
    BlockParser parser(false, "in");
    Sunk got;
    parser.Parse(b.view(), 10, Collect(&got));
    ASSERT_EQ(got.events.size(), 4u);
    EXPECT_EQ(got.line_nos, (std::vector<uint64_t>{12, 15, 18, 20}));
    EXPECT_EQ(got.events[0], Describe(Event{.type = "A"}));
    EXPECT_EQ(got.events[1], Describe(Event{.type = "B"}));
    EXPECT_EQ(got.events[2], Describe(Event{.type = "C"}));
    EXPECT_EQ(got.events[3], Describe(Event{.type = "D"}));
    Batch batch;
    BlockParser into(false, "in");
    into.ParseInto(b.view(), 10, &batch);
    EXPECT_EQ(batch.size(), 4u);
  }
  // A malformed line after blank ones: its number counts them.
  b.lines = {"", "", "  ", R"({"type":"A"})", "", "{bad"};
  b.Finish();
  BlockParser parser(false, "in");
  Sunk got;
  try {
    parser.Parse(b.view(), 1, Collect(&got));
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.line, std::optional<uint64_t>(6)) << e.message;
  }
  EXPECT_EQ(got.line_nos, std::vector<uint64_t>{4});
  // Only blank lines, and nothing at all.
  b.lines = {"", " ", "\r", "\t\t"};
  b.Finish();
  Sunk none;
  parser.Parse(b.view(), 1, Collect(&none));
  EXPECT_TRUE(none.events.empty());
  parser.Parse(std::string_view(b.storage.data(), 0), 1, Collect(&none));
  EXPECT_TRUE(none.events.empty());
}

// Blank lines in a large block spread over the threads' parts: the numbers
// of the events after them are still right.
TEST(BlockParserTest, BlankLinesCountedAcrossParts) {
  Block b = MakeBlock(10'000, false, 9);
  for (size_t i = 0; i < b.lines.size(); i += 3) b.lines[i] = i % 2 ? "" : "  \r";
  b.Finish();
  const Expected want = LineByLine(b, 1, false);
  BlockParser parser(false, "in");
  Sunk got;
  parser.Parse(b.view(), 1, Collect(&got));
  EXPECT_EQ(got.line_nos, want.line_nos);
  EXPECT_EQ(got.events, want.events);
  for (uint64_t n : got.line_nos) EXPECT_NE((n - 1) % 3, 0u) << n;
}

// A BlockParser that threw goes on: the next block gives exactly its events.
TEST(BlockParserTest, UsableAgainAfterAMalformedBlock) {
  Block bad = MakeBlock(10'000, false, 11);
  bad.lines[20] = "{";  // in the first part: the other parts' work is not used
  bad.Finish();
  const Block good = MakeBlock(10'000, false, 12);
  const Expected want = LineByLine(good, 1, false);

  BlockParser parser(false, "in");
  Sunk ignored;
  EXPECT_THROW(parser.Parse(bad.view(), 1, Collect(&ignored)), CliError);
  Sunk got;
  parser.Parse(good.view(), 1, Collect(&got));
  EXPECT_EQ(got.events, want.events);
  EXPECT_EQ(got.line_nos, want.line_nos);

  BlockParser into(false, "in");
  Batch first;
  EXPECT_THROW(into.ParseInto(bad.view(), 1, &first), CliError);
  Batch second;
  into.ParseInto(good.view(), 1, &second);
  EXPECT_EQ(second.size(), want.raw.size())
      << "events of the failed block were added to the next one";
}

}  // namespace
}  // namespace opossum::cli
