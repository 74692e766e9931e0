#include "format/json_check.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "format/event_codec.h"

namespace opossum::format {
namespace {

// Byte classes inside a string: 0 ordinary, 1 ends the fast scan ('"', '\\'
// or a control character, which JSON strings may not hold raw).
struct StringTable {
  uint8_t stop[256] = {};
  constexpr StringTable() {
    for (int c = 0; c < 0x20; ++c) stop[c] = 1;
    stop[static_cast<uint8_t>('"')] = 1;
    stop[static_cast<uint8_t>('\\')] = 1;
  }
};
constexpr StringTable kString;

inline bool IsWs(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool IsDigit(uint8_t c) { return static_cast<uint8_t>(c - '0') < 10; }
inline bool IsHex(uint8_t c) { return IsDigit(c) || static_cast<uint8_t>((c | 0x20) - 'a') < 6; }

class Checker {
 public:
  Checker(const uint8_t* begin, const uint8_t* end) : begin_(begin), end_(end) {}

  bool Run();
  const char* what() const { return what_; }
  // Whether a string may hold bytes of 0x80 and up (outside strings the
  // grammar admits none).
  bool maybe_non_ascii() const { return (high_ & 0x8080808080808080ULL) != 0; }
  size_t offset() const { return static_cast<size_t>(at_ - begin_); }

 private:
  bool Fail(const char* what, const uint8_t* at) {
    what_ = what;
    at_ = at;
    return false;
  }
  void SkipWs(const uint8_t*& p) const {
    while (p < end_ && IsWs(*p)) ++p;
  }
  bool String(const uint8_t*& p);  // at the opening quote; ends past the closing one
  bool Number(const uint8_t*& p);
  bool Literal(const uint8_t*& p, const char* word, size_t n);

  // Open containers, innermost last: '[' or '{'.
  bool Push(uint8_t c) {
    if (depth_ < sizeof(inline_stack_)) {
      inline_stack_[depth_++] = c;
    } else {
      deep_stack_.push_back(c);
      ++depth_;
    }
    return true;
  }
  uint8_t Top() const {
    return depth_ <= sizeof(inline_stack_) ? inline_stack_[depth_ - 1] : deep_stack_.back();
  }
  void Pop() {
    if (depth_ > sizeof(inline_stack_)) deep_stack_.pop_back();
    --depth_;
  }

  const uint8_t* const begin_;
  const uint8_t* const end_;
  const char* what_ = nullptr;
  const uint8_t* at_ = nullptr;
  size_t depth_ = 0;
  uint64_t high_ = 0;  // bytes of strings OR-ed: bit 7 of a byte means non-ASCII
  uint8_t inline_stack_[256];
  std::vector<uint8_t> deep_stack_;
};

// The bytes of `w` that are '"', '\\' or below 0x20, as their high bits.
// Bytes above the lowest such byte may be flagged falsely (a borrow), never
// the lowest itself: its index is exact.
// (The lowest byte is the first in memory: a little-endian machine.)
static_assert(std::endian::native == std::endian::little);
inline uint64_t StopMask(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  return has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) |
         ((w - kOnes * 0x20) & ~w & kHighs);
}

bool Checker::String(const uint8_t*& p) {
  const uint8_t* q = p + 1;
  for (;;) {
    // Eight bytes at a time to the first stop; the last few byte by byte.
    // Bytes from 0x80 up are noted: only then is the UTF-8 checked.
    bool stopped = false;
    while (end_ - q >= 8) {
      uint64_t w;
      std::memcpy(&w, q, 8);
      high_ |= w;
      const uint64_t m = StopMask(w);
      if (m != 0) {
        q += std::countr_zero(m) >> 3;
        stopped = true;
        break;
      }
      q += 8;
    }
    if (!stopped) {
      while (q < end_ && !kString.stop[*q]) high_ |= *q++;
    }
    if (q == end_) return Fail("unterminated string", p);
    if (*q == '"') {
      p = q + 1;
      return true;
    }
    if (*q != '\\') return Fail("control character in a string (it must be escaped)", q);
    if (q + 1 == end_) return Fail("unterminated string", p);
    switch (q[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        q += 2;
        break;
      case 'u':
        if (end_ - q < 6 || !IsHex(q[2]) || !IsHex(q[3]) || !IsHex(q[4]) || !IsHex(q[5])) {
          return Fail("\\u must be followed by four hex digits", q);
        }
        q += 6;
        break;
      default:
        return Fail("invalid escape in a string", q);
    }
  }
}

bool Checker::Number(const uint8_t*& p) {
  const uint8_t* q = p;
  if (*q == '-') ++q;
  if (q == end_ || !IsDigit(*q)) return Fail("invalid number: a digit must follow '-'", q);
  if (*q == '0') {
    ++q;
    if (q < end_ && IsDigit(*q)) return Fail("invalid number: leading zero", p);
  } else {
    while (q < end_ && IsDigit(*q)) ++q;
  }
  if (q < end_ && *q == '.') {
    ++q;
    if (q == end_ || !IsDigit(*q)) return Fail("invalid number: a digit must follow '.'", q);
    while (q < end_ && IsDigit(*q)) ++q;
  }
  if (q < end_ && (*q == 'e' || *q == 'E')) {
    ++q;
    if (q < end_ && (*q == '+' || *q == '-')) ++q;
    if (q == end_ || !IsDigit(*q)) return Fail("invalid number: the exponent has no digit", q);
    while (q < end_ && IsDigit(*q)) ++q;
  }
  p = q;
  return true;
}

bool Checker::Literal(const uint8_t*& p, const char* word, size_t n) {
  if (static_cast<size_t>(end_ - p) < n || std::memcmp(p, word, n) != 0) {
    return Fail("expected a value (object, array, string, number, true, false or null)", p);
  }
  p += n;
  return true;
}

bool Checker::Run() {
  const uint8_t* p = begin_;
  SkipWs(p);
  for (;;) {
    // A value starts at p.
    if (p == end_) return Fail("expected a value, found the end", p);
    bool scalar = true;
    switch (*p) {
      case '{':
      case '[': {
        const uint8_t open = *p++;
        SkipWs(p);
        if (p < end_ && *p == (open == '{' ? '}' : ']')) {
          ++p;
          break;
        }
        Push(open);
        scalar = false;
        break;
      }
      case '"':
        if (!String(p)) return false;
        break;
      case 't':
        if (!Literal(p, "true", 4)) return false;
        break;
      case 'f':
        if (!Literal(p, "false", 5)) return false;
        break;
      case 'n':
        if (!Literal(p, "null", 4)) return false;
        break;
      default:
        if (*p != '-' && !IsDigit(*p)) {
          return Fail("expected a value (object, array, string, number, true, false or null)", p);
        }
        if (!Number(p)) return false;
        break;
    }
    if (!scalar) {
      if (Top() == '[') continue;  // the first element
    } else {
      // After a complete value: close containers or move to the next member.
      for (;;) {
        SkipWs(p);
        if (depth_ == 0) {
          if (p != end_) return Fail("more text after the JSON value", p);
          return true;
        }
        const uint8_t open = Top();
        const uint8_t close = open == '[' ? ']' : '}';
        if (p < end_ && *p == close) {
          ++p;
          Pop();
          continue;
        }
        if (p == end_ || *p != ',') {
          return Fail(
              open == '[' ? "expected ',' or ']' in an array" : "expected ',' or '}' in an object",
              p);
        }
        ++p;
        SkipWs(p);
        break;
      }
      if (Top() == '[') continue;  // the next element
    }
    // A member of an object: "key" : value.
    if (p == end_ || *p != '"') return Fail("expected a string as an object's key", p);
    if (!String(p)) return false;
    SkipWs(p);
    if (p == end_ || *p != ':') return Fail("expected ':' after an object's key", p);
    ++p;
    SkipWs(p);
  }
}

// Where the first byte sequence that is not UTF-8 starts (the error path).
size_t Utf8ErrorOffset(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (i + n > text.size() || !IsValidUtf8(text.substr(i, n))) return i;
    i += n;
  }
  return i;
}

}  // namespace

bool CheckJson(std::string_view text, JsonProblem* problem) {
  const auto* begin = reinterpret_cast<const uint8_t*>(text.data());
  Checker checker(begin, begin + text.size());
  if (checker.Run()) {
    // Outside strings the grammar admits only ASCII; inside them any byte
    // from 0x20 up passed, so the UTF-8 is checked once, over the whole
    // text, when a string held such a byte.
    if (!checker.maybe_non_ascii() || IsValidUtf8(text)) return true;
    if (problem != nullptr) *problem = JsonProblem{"not valid UTF-8", Utf8ErrorOffset(text)};
    return false;
  }
  if (problem != nullptr) *problem = JsonProblem{checker.what(), checker.offset()};
  return false;
}

}  // namespace opossum::format
