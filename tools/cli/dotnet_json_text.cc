#include "dotnet_json_text.h"

namespace opossum::cli {

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The position just after the string whose opening quote is at text[pos].
size_t SkipJsonString(std::string_view text, size_t pos) {
  size_t i = pos + 1;
  while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
  return i < text.size() ? i + 1 : text.size();
}

void AppendNewline(std::string* out, int level) {
  out->push_back('\n');
  out->append(static_cast<size_t>(level) * 2, ' ');
}

}  // namespace

size_t SkipJsonSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && IsJsonSpace(text[pos])) ++pos;
  return pos;
}

size_t SkipJsonValue(std::string_view text, size_t pos) {
  if (pos >= text.size()) return text.size();
  const char c = text[pos];
  if (c == '"') return SkipJsonString(text, pos);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    size_t i = pos;
    while (i < text.size()) {
      const char d = text[i];
      if (d == '"') {
        i = SkipJsonString(text, i);
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return text.size();
  }
  // A number, true, false or null: up to the next delimiter.
  size_t i = pos;
  while (i < text.size() && !IsJsonSpace(text[i]) && text[i] != ',' && text[i] != '}' &&
         text[i] != ']') {
    ++i;
  }
  return i;
}

std::vector<JsonMember> JsonObjectMembers(std::string_view text, size_t pos) {
  std::vector<JsonMember> members;
  if (pos >= text.size() || text[pos] != '{') return members;
  size_t i = SkipJsonSpace(text, pos + 1);
  while (i < text.size() && text[i] == '"') {
    JsonMember m;
    m.whole.begin = i;
    i = SkipJsonSpace(text, SkipJsonString(text, i));
    if (i >= text.size() || text[i] != ':') break;
    i = SkipJsonSpace(text, i + 1);
    m.value.begin = i;
    i = SkipJsonValue(text, i);
    m.value.end = i;
    m.whole.end = i;
    members.push_back(m);
    i = SkipJsonSpace(text, i);
    if (i >= text.size() || text[i] != ',') break;
    i = SkipJsonSpace(text, i + 1);
  }
  return members;
}

void AppendIndentedJson(std::string* out, std::string_view json, int level,
                        std::string_view first_member) {
  size_t i = SkipJsonSpace(json, 0);
  bool at_root = true;
  while (i < json.size()) {
    const char c = json[i];
    if (IsJsonSpace(c)) {
      ++i;
      continue;
    }
    if (c == '"') {
      const size_t end = SkipJsonString(json, i);
      out->append(json.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '{' || c == '[') {
      const bool inject = at_root && c == '{' && !first_member.empty();
      at_root = false;
      const size_t next = SkipJsonSpace(json, i + 1);
      const bool empty = next < json.size() && (json[next] == '}' || json[next] == ']');
      out->push_back(c);
      ++level;
      if (inject) {
        AppendNewline(out, level);
        out->append(first_member);
        if (!empty) out->push_back(',');
      }
      if (empty && !inject) {
        out->push_back(json[next]);
        --level;
        i = next + 1;
        continue;
      }
      if (!empty) AppendNewline(out, level);
      i = empty ? next : i + 1;
      continue;
    }
    at_root = false;
    if (c == '}' || c == ']') {
      --level;
      AppendNewline(out, level);
      out->push_back(c);
      ++i;
      continue;
    }
    if (c == ',') {
      out->push_back(',');
      AppendNewline(out, level);
      ++i;
      continue;
    }
    if (c == ':') {
      out->append(": ");
      ++i;
      continue;
    }
    const size_t end = SkipJsonValue(json, i);
    out->append(json.substr(i, end - i));
    i = end > i ? end : i + 1;
  }
}

void AppendMinifiedJson(std::string* out, std::string_view json) {
  size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      const size_t end = SkipJsonString(json, i);
      out->append(json.substr(i, end - i));
      i = end;
    } else {
      if (!IsJsonSpace(c)) out->push_back(c);
      ++i;
    }
  }
}

}  // namespace opossum::cli
