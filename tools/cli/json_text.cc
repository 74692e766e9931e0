#include "json_text.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <vector>

namespace opossum::cli {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

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
        const __m128i ctrl = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
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
          if (i_ + 6 > t_.size() || !IsHex(t_[i_ + 2]) || !IsHex(t_[i_ + 3]) || !IsHex(t_[i_ + 4]) ||
              !IsHex(t_[i_ + 5])) {
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

}  // namespace

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
