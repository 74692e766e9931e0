#include "json_text.h"

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
  Compactor(std::string_view t, size_t max_depth, std::string* out)
      : t_(t), max_depth_(max_depth), out_(out) {}

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
    return true;
  }

 private:
  bool Fail(const char* what) {
    why_ = what;
    return false;
  }
  void Space() {
    while (i_ < t_.size() && IsSpace(t_[i_])) ++i_;
  }
  bool Literal(std::string_view word) {
    if (t_.substr(i_, word.size()) != word) return Fail("invalid literal");
    out_->append(word);
    i_ += word.size();
    return true;
  }
  bool String() {
    const size_t start = i_++;  // the opening quote
    while (true) {
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
    out_->append(t_.substr(start, i_ - start));
    return true;
  }
  bool Number() {
    const size_t start = i_;
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
    out_->append(t_.substr(start, i_ - start));
    return true;
  }
  // Iterative over containers (no recursion: the depth is bounded by
  // max_depth_, and the stack lives on the heap).
  bool Value() {
    std::vector<char> stack;  // '{' or '['
    while (true) {
      // A value.
      if (i_ >= t_.size()) return Fail("a value is missing");
      const char c = t_[i_];
      bool opened = false;
      if (c == '{' || c == '[') {
        if (stack.size() >= max_depth_) return Fail("nested too deeply");
        stack.push_back(c);
        out_->push_back(c);
        ++i_;
        Space();
        const char close = c == '{' ? '}' : ']';
        if (i_ < t_.size() && t_[i_] == close) {
          out_->push_back(close);
          ++i_;
          stack.pop_back();
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
          out_->push_back(close);
          ++i_;
          stack.pop_back();
          continue;
        }
        if (d != ',') return Fail("expected ',' or the end of an object or array");
        out_->push_back(',');
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
    out_->push_back(':');
    ++i_;
    Space();
    return true;
  }

  std::string_view t_;
  size_t max_depth_;
  std::string* out_;
  size_t i_ = 0;
  std::string why_;
};

}  // namespace

namespace {
// Past the string whose opening quote is at t[i].
size_t SkipString(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;
    } else if (t[i] == '"') {
      return i + 1;
    }
  }
  return t.size();
}
size_t SkipSpace(std::string_view t, size_t i) {
  while (i < t.size() && IsSpace(t[i])) ++i;
  return i;
}
// Past the (valid) value starting at t[i].
size_t SkipValue(std::string_view t, size_t i) {
  if (i >= t.size()) return i;
  if (t[i] == '"') return SkipString(t, i);
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    for (; i < t.size(); ++i) {
      const char c = t[i];
      if (c == '"') {
        i = SkipString(t, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return t.size();
  }
  while (i < t.size() && !IsSpace(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i;
}
}  // namespace

void ObjectMemberValues(std::string_view t, std::vector<std::string_view>* values) {
  values->clear();
  size_t i = SkipSpace(t, 0);
  if (i >= t.size() || t[i] != '{') return;
  i = SkipSpace(t, i + 1);
  while (i < t.size() && t[i] == '"') {
    i = SkipSpace(t, SkipString(t, i));
    if (i >= t.size() || t[i] != ':') return;
    const size_t begin = SkipSpace(t, i + 1);
    const size_t end = SkipValue(t, begin);
    values->push_back(t.substr(begin, end - begin));
    i = SkipSpace(t, end);
    if (i < t.size() && t[i] == ',') i = SkipSpace(t, i + 1);
  }
}

bool CompactJson(std::string_view text, size_t max_depth, std::string* out, std::string* why) {
  const size_t before = out->size();
  Compactor c(text, max_depth, out);
  if (c.Run(why)) return true;
  out->resize(before);
  return false;
}

}  // namespace opossum::cli
