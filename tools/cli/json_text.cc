#include "json_text.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace opossum::cli {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

class Compactor {
 public:
  Compactor(std::string_view t, size_t max_depth, std::string* out,
            std::vector<std::pair<size_t, size_t>>* spans)
      : t_(t), max_depth_(max_depth), out_(out), spans_(spans) {}

  bool Run(std::string* why) {
    Space();
    if (!Value()) {
      *why = why_ + " at byte " + std::to_string(i_);
      return false;
    }
    Space();
    if (i_ != t_.size()) {
      *why = "unexpected text after the value at byte " + std::to_string(i_);
      return false;
    }
    Flush();
    return true;
  }

 private:
  bool Fail(const char* what) {
    why_ = what;
    return false;
  }
  // Output is the input minus whitespace: bytes are copied in runs, when
  // whitespace ends one (and at the end), not token by token.
  size_t OutPos() const { return out_->size() + (i_ - emit_from_); }
  void Flush() {
    out_->append(t_.data() + emit_from_, i_ - emit_from_);
    emit_from_ = i_;
  }
  void Space() {
    if (i_ < t_.size() && IsSpace(t_[i_])) {
      Flush();
      while (i_ < t_.size() && IsSpace(t_[i_])) ++i_;
      emit_from_ = i_;
    }
  }
  bool Literal(std::string_view word) {
    if (t_.substr(i_, word.size()) != word) return Fail("invalid literal");
    i_ += word.size();
    return true;
  }
  bool String() {
    ++i_;  // the opening quote
    while (true) {
#ifdef __SSE2__
      // Sixteen bytes at a time: skip to the first '"', '\\' or control
      // character (SSE2, in every x86-64; elsewhere the loop below does it).
      while (i_ + 16 <= t_.size()) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t_.data() + i_));
        const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
        const __m128i slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
        // Bytes below 0x20: max(v, 0x1f) == 0x1f exactly for those (unsigned).
        const __m128i ctrl =
            _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), ctrl));
        if (mask != 0) {
          i_ += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
          break;
        }
        i_ += 16;
      }
#endif
      if (i_ >= t_.size()) return Fail("unterminated string");
      const auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') break;
      if (c < 0x20) return Fail("control character in a string");
      if (c == '\\') {
        if (i_ + 1 >= t_.size()) return Fail("unterminated string");
        const char e = t_[i_ + 1];
        if (e == 'u') {
          if (i_ + 6 > t_.size() || !IsHex(t_[i_ + 2]) || !IsHex(t_[i_ + 3]) ||
              !IsHex(t_[i_ + 4]) || !IsHex(t_[i_ + 5])) {
            return Fail("invalid \\u escape");
          }
          i_ += 6;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
            e != 't') {
          return Fail("invalid escape in a string");
        }
        i_ += 2;
        continue;
      }
      ++i_;
    }
    ++i_;
    return true;
  }
  bool Number() {
    if (t_[i_] == '-') ++i_;
    if (i_ >= t_.size() || !IsDigit(t_[i_])) return Fail("invalid number");
    if (t_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < t_.size() && IsDigit(t_[i_])) ++i_;
    }
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (i_ >= t_.size() || !IsDigit(t_[i_])) return Fail("invalid number");
      while (i_ < t_.size() && IsDigit(t_[i_])) ++i_;
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (i_ >= t_.size() || !IsDigit(t_[i_])) return Fail("invalid number");
      while (i_ < t_.size() && IsDigit(t_[i_])) ++i_;
    }
    return true;
  }
  // Iterative over containers (no recursion: the depth is bounded by
  // max_depth_, and the stack lives on the heap).
  bool Value() {
    std::vector<char> stack;  // '{' or '['
    // A member value of the outermost object: record where it lands.
    auto top_member = [&] { return spans_ != nullptr && stack.size() == 1 && stack[0] == '{'; };
    size_t member_start = 0;
    while (true) {
      // A value.
      if (i_ >= t_.size()) return Fail("a value is missing");
      const char c = t_[i_];
      if (top_member()) member_start = OutPos();
      bool opened = false;
      if (c == '{' || c == '[') {
        if (stack.size() >= max_depth_) return Fail("nested too deeply");
        stack.push_back(c);
        ++i_;
        Space();
        const char close = c == '{' ? '}' : ']';
        if (i_ < t_.size() && t_[i_] == close) {
          ++i_;
          stack.pop_back();
          if (top_member()) spans_->emplace_back(member_start, OutPos());
        } else {
          opened = true;
        }
      } else if (c == '"') {
        if (!String()) return false;
      } else if (c == '-' || IsDigit(c)) {
        if (!Number()) return false;
      } else if (c == 't') {
        if (!Literal("true")) return false;
      } else if (c == 'f') {
        if (!Literal("false")) return false;
      } else if (c == 'n') {
        if (!Literal("null")) return false;
      } else {
        return Fail("unexpected character");
      }
      if (!opened && c != '{' && c != '[' && top_member()) {
        spans_->emplace_back(member_start, OutPos());
      }
      if (opened && stack.back() == '{') {
        if (!Key()) return false;
        continue;
      }
      if (opened) continue;  // the first element of an array
      // After a value: a comma and the next, or the end of containers.
      while (true) {
        if (stack.empty()) return true;
        Space();
        if (i_ >= t_.size()) return Fail("unterminated object or array");
        const char d = t_[i_];
        const char close = stack.back() == '{' ? '}' : ']';
        if (d == close) {
          ++i_;
          stack.pop_back();
          if (top_member()) spans_->emplace_back(member_start, OutPos());
          continue;
        }
        if (d != ',') return Fail("expected ',' or the end of an object or array");
        ++i_;
        Space();
        if (stack.back() == '{' && !Key()) return false;
        break;
      }
    }
  }
  // A member's key and colon, then whitespace before its value.
  bool Key() {
    if (i_ >= t_.size() || t_[i_] != '"') return Fail("expected a string key");
    if (!String()) return false;
    Space();
    if (i_ >= t_.size() || t_[i_] != ':') return Fail("expected ':' after a key");
    ++i_;
    Space();
    return true;
  }

  std::string_view t_;
  size_t max_depth_;
  std::string* out_;
  std::vector<std::pair<size_t, size_t>>* spans_;
  size_t i_ = 0;
  size_t emit_from_ = 0;  // input bytes before this are in out_ (or were whitespace)
  std::string why_;
};

// The validator behind FindJsonError: the grammar of Compactor, byte by
// byte, with UTF-8 and surrogate checks, and an offset for every failure.
class Locator {
 public:
  Locator(std::string_view t, size_t max_depth) : t_(t), max_depth_(max_depth) {}

  // True when an error was found.
  bool Run(size_t* offset, std::string* what) {
    Space();
    if (Value()) {
      Space();
      if (i_ == t_.size()) return false;
      Fail("unexpected text after the JSON value");
    }
    *offset = at_;
    *what = what_;
    return true;
  }

 private:
  bool Fail(const char* what, size_t at) {
    what_ = what;
    at_ = at;
    return false;
  }
  bool Fail(const char* what) { return Fail(what, i_); }
  bool End() const { return i_ >= t_.size(); }
  void Space() {
    while (!End() && IsSpace(t_[i_])) ++i_;
  }
  bool Literal(std::string_view word) {
    for (size_t k = 0; k < word.size(); ++k, ++i_) {
      if (End() || t_[i_] != word[k]) {
        return Fail(End() ? "the text ends inside a literal (true, false or null)"
                          : "invalid literal (expected true, false or null)");
      }
    }
    return true;
  }
  // Four hex digits at i_ (after "\u"); false when they are not.
  bool Hex4(uint32_t* v) {
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      if (End() || !IsHex(t_[i_])) return Fail("invalid \\u escape (expected four hex digits)");
      const char c = t_[i_++];
      *v = *v * 16 + static_cast<uint32_t>(IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return true;
  }
  bool Utf8() {
    const auto b = static_cast<unsigned char>(t_[i_]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1, cp = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2, cp = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return Fail("invalid UTF-8 in a string");
    }
    const size_t start = i_++;
    for (size_t k = 0; k < n; ++k, ++i_) {
      if (End() || (static_cast<unsigned char>(t_[i_]) & 0xC0) != 0x80) {
        return Fail("invalid UTF-8 in a string", start);
      }
      cp = (cp << 6) | (static_cast<unsigned char>(t_[i_]) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Fail("invalid UTF-8 in a string", start);
    }
    return true;
  }
  bool String() {
    const size_t open = i_++;
    while (true) {
      if (End()) return Fail("unterminated string (no closing quote)", open);
      const auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') break;
      if (c < 0x20) return Fail("control character in a string (escape it, as \\n or \\u0009)");
      if (c >= 0x80) {
        if (!Utf8()) return false;
        continue;
      }
      if (c != '\\') {
        ++i_;
        continue;
      }
      const size_t escape = i_;
      ++i_;
      if (End()) return Fail("unterminated string (no closing quote)", open);
      const char e = t_[i_++];
      if (e == 'u') {
        uint32_t v = 0;
        if (!Hex4(&v)) return false;
        if (v >= 0xDC00 && v <= 0xDFFF) {
          return Fail("a \\u escape of a low surrogate without a high one before it", escape);
        }
        if (v >= 0xD800 && v <= 0xDBFF) {
          uint32_t low = 0;
          if (t_.substr(i_, 2) != "\\u" || (i_ += 2, !Hex4(&low)) || low < 0xDC00 || low > 0xDFFF) {
            return Fail("a \\u escape of a high surrogate without a low one after it", escape);
          }
        }
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't') {
        return Fail("invalid escape in a string", escape);
      }
    }
    ++i_;
    return true;
  }
  bool Number() {
    if (t_[i_] == '-') ++i_;
    if (End() || !IsDigit(t_[i_])) return Fail("invalid number (a digit must follow '-')");
    if (t_[i_] == '0') {
      ++i_;
      if (!End() && IsDigit(t_[i_])) return Fail("invalid number (no leading zeros)");
    } else {
      while (!End() && IsDigit(t_[i_])) ++i_;
    }
    if (!End() && t_[i_] == '.') {
      ++i_;
      if (End() || !IsDigit(t_[i_])) return Fail("invalid number (a digit must follow '.')");
      while (!End() && IsDigit(t_[i_])) ++i_;
    }
    if (!End() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (!End() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (End() || !IsDigit(t_[i_]))
        return Fail("invalid number (a digit must follow the exponent)");
      while (!End() && IsDigit(t_[i_])) ++i_;
    }
    return true;
  }
  bool Key() {
    if (End()) return Fail("the text ends where a member's key (a string) is expected");
    if (t_[i_] != '"') return Fail("expected a member's key (a string in double quotes)");
    if (!String()) return false;
    Space();
    if (End()) return Fail("the text ends where ':' is expected after a key");
    if (t_[i_] != ':') return Fail("expected ':' after a member's key");
    ++i_;
    Space();
    return true;
  }
  bool Value() {
    std::vector<char> stack;
    while (true) {
      if (End()) return Fail("the text ends where a value is expected");
      const char c = t_[i_];
      if (c == '{' || c == '[') {
        if (stack.size() >= max_depth_) return Fail("nested too deeply");
        stack.push_back(c);
        ++i_;
        Space();
        const char close = c == '{' ? '}' : ']';
        if (!End() && t_[i_] == close) {
          ++i_;
          stack.pop_back();
        } else {
          if (c == '{' && !Key()) return false;
          continue;
        }
      } else if (c == '"') {
        if (!String()) return false;
      } else if (c == '-' || IsDigit(c)) {
        if (!Number()) return false;
      } else if (c == 't') {
        if (!Literal("true")) return false;
      } else if (c == 'f') {
        if (!Literal("false")) return false;
      } else if (c == 'n') {
        if (!Literal("null")) return false;
      } else if (c == '}' || c == ']' || c == ',') {
        return Fail("expected a value");
      } else {
        return Fail("unexpected character (expected a value)");
      }
      while (true) {
        if (stack.empty()) return true;
        Space();
        const bool object = stack.back() == '{';
        if (End()) {
          return Fail(object ? "the text ends inside an object (expected ',' or '}')"
                             : "the text ends inside an array (expected ',' or ']')");
        }
        const char d = t_[i_];
        if (d == (object ? '}' : ']')) {
          ++i_;
          stack.pop_back();
          continue;
        }
        if (d != ',') {
          return Fail(object ? "expected ',' or '}' after an object member"
                             : "expected ',' or ']' after an array element");
        }
        ++i_;
        Space();
        if (object && !Key()) return false;
        break;
      }
    }
  }

  std::string_view t_;
  size_t max_depth_;
  size_t i_ = 0;
  size_t at_ = 0;
  const char* what_ = "";
};

}  // namespace

bool FindJsonError(std::string_view text, size_t max_depth, size_t* offset, std::string* what) {
  return Locator(text, max_depth).Run(offset, what);
}

void LineAndColumn(std::string_view text, size_t offset, uint64_t* line, uint64_t* column) {
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++*line;
      *column = 1;
    } else if ((c & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++*column;
    }
  }
}

std::string DescribeJsonError(std::string_view text, size_t max_depth, std::string_view fallback) {
  size_t offset = 0;
  std::string what;
  if (!FindJsonError(text, max_depth, &offset, &what)) {
    return "malformed JSON: " + std::string(fallback);
  }
  uint64_t line = 0, column = 0;
  LineAndColumn(text, offset, &line, &column);
  std::string out = "malformed JSON at ";
  if (text.find('\n') != std::string_view::npos) out += "line " + std::to_string(line) + ", ";
  return out + "column " + std::to_string(column) + ": " + what;
}

bool CompactJson(std::string_view text, size_t max_depth, std::string* out, std::string* why,
                 std::vector<std::pair<size_t, size_t>>* member_spans) {
  const size_t before = out->size();
  if (member_spans != nullptr) member_spans->clear();
  Compactor c(text, max_depth, out, member_spans);
  if (c.Run(why)) return true;
  out->resize(before);
  return false;
}

}  // namespace opossum::cli
