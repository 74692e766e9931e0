// The `opossum` command line as a user meets it (docs/cli.md): the
// built binary run as a child process, fed standard input, with its standard
// output, standard error and exit code checked for every command and every
// exit code. The expected output is worked out here,
// from the input, by a JSON reader of the test's own (not the tool's), so the
// tool is never checked against itself.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cli_process.h"
#include "opossum/opossum.h"
#include "test_util.h"

#ifndef OPOSSUM_CLI_PATH
#error "OPOSSUM_CLI_PATH must name the built opossum binary (tests/CMakeLists.txt)"
#endif

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::ProcessOptions;
using ::opossum::testing::ProcessResult;
using ::opossum::testing::ReadFileBytes;
using ::opossum::testing::TempDir;
using ::opossum::testing::WriteFileBytes;

// ---------------------------------------------------------------------------
// A small, strict JSON reader: members keep the order they were written in
// (docs/cli.md, "Event JSON", fixes the order of `read`'s fields), and two
// values compare equal as JSON values (object member order and number
// spelling aside).

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // a string's value, or a number's text
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  bool is_object() const { return kind == Kind::kObject; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_array() const { return kind == Kind::kArray; }

  const Json* Find(std::string_view key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // The member `key`, or a null value when there is none.
  const Json& operator[](std::string_view key) const {
    static const Json kNullValue;
    const Json* v = Find(key);
    return v != nullptr ? *v : kNullValue;
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& m : members) keys.push_back(m.first);
    return keys;
  }
  // A number's value as an unsigned integer (~0 when it is not one).
  uint64_t AsUint() const {
    if (kind != Kind::kNumber || text.empty() ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      return ~uint64_t{0};
    }
    return std::strtoull(text.c_str(), nullptr, 10);
  }
  std::vector<std::string> StringItems() const {
    std::vector<std::string> out;
    for (const Json& j : items) out.push_back(j.text);
    return out;
  }
};

bool IsIntegerText(const std::string& t) {
  size_t i = t.size() > 0 && t[0] == '-' ? 1 : 0;
  return i < t.size() && t.find_first_not_of("0123456789", i) == std::string::npos;
}

bool operator==(const Json& a, const Json& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Json::Kind::kNull:
      return true;
    case Json::Kind::kBool:
      return a.boolean == b.boolean;
    case Json::Kind::kString:
      return a.text == b.text;
    case Json::Kind::kNumber:
      if (IsIntegerText(a.text) && IsIntegerText(b.text)) {
        auto norm = [](const std::string& t) { return t == "-0" ? std::string("0") : t; };
        return norm(a.text) == norm(b.text);
      }
      return std::strtod(a.text.c_str(), nullptr) == std::strtod(b.text.c_str(), nullptr);
    case Json::Kind::kArray:
      return a.items == b.items;
    case Json::Kind::kObject: {
      if (a.members.size() != b.members.size()) return false;
      for (const auto& [k, v] : a.members) {
        const Json* other = b.Find(k);
        if (other == nullptr || !(*other == v)) return false;
      }
      return true;
    }
  }
  return false;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  bool Document(Json* out) {
    SkipSpace();
    if (!Value(out, 0)) return false;
    SkipSpace();
    return i_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool Value(Json* out, int depth) {
    if (depth > 512 || i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') return Object(out, depth);
    if (c == '[') return Array(out, depth);
    if (c == '"') {
      out->kind = Json::Kind::kString;
      return String(&out->text);
    }
    if (c == 't' || c == 'f') {
      out->kind = Json::Kind::kBool;
      out->boolean = c == 't';
      return Literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      out->kind = Json::Kind::kNull;
      return Literal("null");
    }
    out->kind = Json::Kind::kNumber;
    return Number(&out->text);
  }
  bool Digits() {
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool Number(std::string* text) {
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!Digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!Digits()) return false;
    }
    *text = std::string(s_.substr(start, i_ - start));
    return true;
  }
  bool Hex4(uint32_t* v) {
    if (i_ + 4 > s_.size()) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      *v <<= 4;
      if (h >= '0' && h <= '9') {
        *v |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        *v |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        *v |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool String(std::string* out) {
    ++i_;  // the opening quote
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (!Literal("\\u") || !Hex4(&low) || low < 0xDC00 || low >= 0xE000) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return false;
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool Array(Json* out, int depth) {
    out->kind = Json::Kind::kArray;
    ++i_;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      SkipSpace();
      Json item;
      if (!Value(&item, depth + 1)) return false;
      out->items.push_back(std::move(item));
      SkipSpace();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == ']') {
        ++i_;
        return true;
      }
      if (s_[i_++] != ',') return false;
    }
  }
  bool Object(Json* out, int depth) {
    out->kind = Json::Kind::kObject;
    ++i_;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '"') return false;
      std::string key;
      if (!String(&key)) return false;
      SkipSpace();
      if (i_ >= s_.size() || s_[i_++] != ':') return false;
      SkipSpace();
      Json value;
      if (!Value(&value, depth + 1)) return false;
      out->members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == '}') {
        ++i_;
        return true;
      }
      if (s_[i_++] != ',') return false;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

std::optional<Json> TryParseJson(std::string_view text) {
  Json j;
  if (!JsonParser(text).Document(&j)) return std::nullopt;
  return j;
}

// The JSON value of `text`; a test failure (and null) when it is not JSON.
Json ParseJson(std::string_view text) {
  std::optional<Json> j = TryParseJson(text);
  if (!j) {
    ADD_FAILURE() << "not valid JSON: " << text;
    return Json();
  }
  return *j;
}

// ---------------------------------------------------------------------------
// Base64 and timestamps, worked out independently of the tool.

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kBase64Alphabet[(v >> (6 * k)) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// The bytes of standard, padded base64; nullopt when it is not that.
std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      v <<= 6;
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;
      const size_t at = kBase64Alphabet.find(c);
      if (at == std::string_view::npos) return std::nullopt;
      v |= static_cast<uint32_t>(at);
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS[.fraction]Z" as nanoseconds since the epoch.
std::optional<int64_t> ParseTimestamp(std::string_view t) {
  auto num = [&](size_t at, size_t n, int64_t* v) {
    if (at + n > t.size()) return false;
    *v = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (t[k] < '0' || t[k] > '9') return false;
      *v = *v * 10 + (t[k] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h, mi, s;
  if (!num(0, 4, &y) || t.size() < 20 || t[4] != '-' || !num(5, 2, &mo) || t[7] != '-' ||
      !num(8, 2, &d) || t[10] != 'T' || !num(11, 2, &h) || t[13] != ':' || !num(14, 2, &mi) ||
      t[16] != ':' || !num(17, 2, &s)) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t frac = 0;
  if (t[at] == '.') {
    ++at;
    int digits = 0;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (t[at] - '0');
        ++digits;
      }
      ++at;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) frac *= 10;
  }
  if (at + 1 != t.size() || t[at] != 'Z') return std::nullopt;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60 * 1000000000 + s * 1000000000 + frac;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The lines of `text`, each of which must end in '\n'.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    if (nl == std::string::npos) {
      ADD_FAILURE() << "output does not end in a newline: " << text.substr(at);
      lines.push_back(text.substr(at));
      break;
    }
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) +
         "\n  stdout: " + (r.out.size() > 2000 ? r.out.substr(0, 2000) + "..." : r.out) +
         "\n  stderr: " + r.err;
}

// Exit 0 and nothing on standard error (progress goes to terminals only,
// docs/cli.md, "Commands"; these runs have files as standard error).
::testing::AssertionResult Succeeded(const ProcessResult& r) {
  if (r.exit_code == 0 && r.err.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected exit 0 and a quiet standard error, got " << Describe(r);
}

// Exit `code`, and standard error exactly one line of JSON:
// {"error": kind, "message": non-empty text, ...}.
::testing::AssertionResult FailedWith(const ProcessResult& r, int code, std::string_view kind) {
  auto fail = [&](std::string_view why) {
    return ::testing::AssertionFailure() << why << " (expected exit " << code << ", error \""
                                         << kind << "\"); got " << Describe(r);
  };
  if (r.exit_code != code) return fail("wrong exit code");
  if (r.err.empty() || r.err.back() != '\n' || std::count(r.err.begin(), r.err.end(), '\n') != 1) {
    return fail("standard error is not exactly one line");
  }
  std::optional<Json> j = TryParseJson(std::string_view(r.err).substr(0, r.err.size() - 1));
  if (!j || !j->is_object()) return fail("standard error is not a JSON object");
  if (!(*j)["error"].is_string() || (*j)["error"].text != kind) return fail("wrong error kind");
  if (!(*j)["message"].is_string() || (*j)["message"].text.empty()) return fail("no message");
  return ::testing::AssertionSuccess();
}

// The JSON object on standard error.
Json ErrorOf(const ProcessResult& r) { return TryParseJson(r.err).value_or(Json()); }

// ---------------------------------------------------------------------------
// What `read` must print for an input event.

// The field order of docs/cli.md ("Event JSON") for an event read back from
// `in`.
std::vector<std::string> ExpectedKeys(const Json& in) {
  std::vector<std::string> keys = {"position", "type", "tags"};
  keys.push_back(in.Has("data") ? "data" : "data_base64");
  keys.push_back("timestamp");
  if (in.Has("id")) keys.push_back("id");
  if (in.Has("metadata") && !in["metadata"].members.empty()) keys.push_back("metadata");
  return keys;
}

std::vector<std::string> SortedUniqueTags(const Json& in) {
  std::vector<std::string> tags = in["tags"].StringItems();
  std::sort(tags.begin(), tags.end());  // std::string compares bytewise (unsigned)
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

// Checks one line of `read` output against the event it was appended from.
// Without a timestamp in the input, the store's must lie in [not_before,
// not_after] (the wall clock around the append, with a second of slack).
void ExpectEvent(const std::string& line, const std::string& input_line, uint64_t position,
                 int64_t not_before = 0, int64_t not_after = INT64_MAX) {
  SCOPED_TRACE("read line: " + line + "\n  appended as: " + input_line);
  const Json out = ParseJson(line);
  const Json in = ParseJson(input_line);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out.Keys(), ExpectedKeys(in));
  EXPECT_EQ(out["position"].AsUint(), position);
  EXPECT_TRUE(out["type"].is_string());
  EXPECT_EQ(out["type"].text, in["type"].text);
  EXPECT_TRUE(out["tags"].is_array());
  EXPECT_EQ(out["tags"].StringItems(), SortedUniqueTags(in));
  if (in.Has("data")) {
    EXPECT_TRUE(out["data"] == in["data"]) << "data differs";
  } else {
    ASSERT_TRUE(out["data_base64"].is_string());
    const std::optional<std::string> got = DecodeBase64(out["data_base64"].text);
    ASSERT_TRUE(got) << "data_base64 is not standard base64";
    const std::optional<std::string> want =
        in.Has("data_base64") ? DecodeBase64(in["data_base64"].text) : std::string();
    ASSERT_TRUE(want);
    EXPECT_EQ(*got, *want) << "binary data differs";
  }
  ASSERT_TRUE(out["timestamp"].is_string());
  const std::optional<int64_t> ts = ParseTimestamp(out["timestamp"].text);
  ASSERT_TRUE(ts) << "timestamp is not RFC 3339 UTC: " << out["timestamp"].text;
  if (in.Has("timestamp")) {
    EXPECT_EQ(*ts, ParseTimestamp(in["timestamp"].text).value_or(-1));
  } else {
    EXPECT_GE(*ts, not_before - 1000000000);
    EXPECT_LE(*ts, not_after == INT64_MAX ? not_after : not_after + 1000000000);
  }
  if (in.Has("id")) {
    ASSERT_TRUE(out["id"].is_string());
    EXPECT_EQ(Lower(out["id"].text), Lower(in["id"].text));
  }
  if (in.Has("metadata") && !in["metadata"].members.empty()) {
    // Kept and returned as given: the same pairs in the same order.
    const Json& meta = out["metadata"];
    ASSERT_TRUE(meta.is_object());
    ASSERT_EQ(meta.members.size(), in["metadata"].members.size());
    for (size_t i = 0; i < meta.members.size(); ++i) {
      EXPECT_EQ(meta.members[i].first, in["metadata"].members[i].first);
      EXPECT_EQ(meta.members[i].second.text, in["metadata"].members[i].second.text);
    }
  }
}

// ---------------------------------------------------------------------------
// The fixture: a temporary folder, the stores under DIR/root.

class CliTest : public ::testing::Test {
 protected:
  const fs::path& dir() const { return dir_.path(); }
  fs::path root() const { return dir_.path() / "root"; }
  fs::path store_dir(const std::string& store = "s") const { return root() / store; }

  // `opossum ARGS...` exactly as given (standard input from `options`).
  static ProcessResult RunRaw(std::vector<std::string> args, const ProcessOptions& options = {}) {
    args.insert(args.begin(), OPOSSUM_CLI_PATH);
    return ::opossum::testing::RunProcess(args, options);
  }
  // `opossum --root ROOT --store STORE ARGS...` with `input` as standard input.
  ProcessResult Run(const std::vector<std::string>& args, const std::string& input = "",
                    const std::string& store = "s") const {
    std::vector<std::string> all = {"--root", root().string(), "--store", store};
    all.insert(all.end(), args.begin(), args.end());
    ProcessOptions o;
    o.input = input;
    return RunRaw(all, o);
  }

  // Appends `input` (must succeed); returns the printed last_position.
  uint64_t Append(const std::string& input, const std::string& store = "s") const {
    const ProcessResult r = Run({"append"}, input, store);
    EXPECT_TRUE(Succeeded(r)) << "input:\n" << input;
    const Json j = ParseJson(r.out);
    return j["last_position"].AsUint();
  }
  // The head position `opossum head` prints (must succeed).
  uint64_t Head(const std::string& store = "s") const {
    const ProcessResult r = Run({"head"}, "", store);
    EXPECT_TRUE(Succeeded(r));
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  // Everything `opossum read` prints (must succeed).
  std::string ReadAll(const std::string& store = "s") const {
    const ProcessResult r = Run({"read"}, "", store);
    EXPECT_TRUE(Succeeded(r));
    return r.out;
  }
  // The positions of the lines `read ARGS` prints (must succeed).
  std::vector<uint64_t> ReadPositions(const std::vector<std::string>& args) const {
    std::vector<std::string> all = {"read"};
    all.insert(all.end(), args.begin(), args.end());
    const ProcessResult r = Run(all);
    EXPECT_TRUE(Succeeded(r));
    std::vector<uint64_t> positions;
    for (const std::string& line : Lines(r.out))
      positions.push_back(ParseJson(line)["position"].AsUint());
    return positions;
  }

 private:
  TempDir dir_;
};

// One suite per part of docs/cli.md; each uses the same fixture.
class CliUsage : public CliTest {};
class CliStoreName : public CliTest {};
class CliMissingStore : public CliTest {};
class CliAppend : public CliTest {};
class CliInvalidInput : public CliTest {};
class CliRead : public CliTest {};
class CliLast : public CliTest {};
class CliHead : public CliTest {};
class CliStats : public CliTest {};
class CliVerify : public CliTest {};
class CliRoot : public CliTest {};
class CliCondition : public CliTest {};
class CliIdempotency : public CliTest {};
class CliCorruption : public CliTest {};
class CliBusy : public CliTest {};
class CliConcurrentAppends : public CliTest {};
class CliExportImport : public CliTest {};
class CliLargeInput : public CliTest {};
class CliImportAgain : public CliTest {};

// Ten events: position i has type "A" (odd i) or "B" (even i) and the tags
// "n:i" and "odd"/"even".
std::string TenEvents() {
  std::string s;
  for (int i = 1; i <= 10; ++i) {
    s += R"({"type": ")" + std::string(i % 2 == 1 ? "A" : "B") + R"(", "tags": ["n:)" +
         std::to_string(i) + R"(", ")" + (i % 2 == 1 ? "odd" : "even") + R"("], "data": {"i": )" +
         std::to_string(i) + "}}\n";
  }
  return s;
}

// ---------------------------------------------------------------------------
// Usage: --help, and every kind of usage error.

TEST_F(CliUsage, HelpExitsZeroAndNamesEveryCommand) {
  ProcessOptions in_dir;
  in_dir.cwd = dir();
  const ProcessResult r = RunRaw({"--help"}, in_dir);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* cmd :
       {"append", "read", "last", "head", "export", "import", "verify", "stats"}) {
    EXPECT_NE(r.out.find(cmd), std::string::npos) << "--help does not mention " << cmd;
    const ProcessResult sub = RunRaw({cmd, "--help"}, in_dir);
    EXPECT_EQ(sub.exit_code, 0) << cmd << " --help: " << Describe(sub);
    EXPECT_FALSE(sub.out.empty()) << cmd << " --help prints nothing";
  }
  EXPECT_FALSE(fs::exists(dir() / "opossum-data")) << "--help created the default root";
}

TEST_F(CliUsage, UsageErrorsExitTwoAndChangeNothing) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const std::string before = ReadAll();
  const std::string out = (dir() / "out.jsonl").string();
  const std::vector<std::vector<std::string>> cases = {
      {"frobnicate"},
      {},
      {"read", "--bogus"},
      {"read", "--limit", "-1"},
      {"read", "--limit", "x"},
      {"read", "--from", "-3"},
      {"read", "--from"},
      {"head", "extra-argument"},
      {"append", "--durability", "maybe"},
      {"append", "--condition"},
      {"export"},
      {"export", "--out", out, "--format", "xml"},
      {"import", "--in", out, "--format", "csv"},
      {"import"},
  };
  for (const auto& args : cases) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    SCOPED_TRACE("opossum ... " + shown);
    const ProcessResult r = Run(args, TenEvents());
    EXPECT_TRUE(FailedWith(r, 2, "invalid"));
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(ReadAll(), before);
  EXPECT_FALSE(fs::exists(out));
}

// No command, or an unknown one: exit 2 with the one JSON line, which names
// the commands in its message and maps each to its one-line description in
// "commands"; when standard error is a terminal, a readable list follows it.
TEST_F(CliUsage, MissingOrUnknownCommandListsTheCommands) {
  const std::vector<std::string> commands = {"append", "read",   "last",  "head", "export",
                                             "import", "verify", "stats", "bench"};
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{}, "no command given"},
      {{"--store", "x"}, "no command given"},
      {{"frobnicate"}, "unknown command \"frobnicate\""},
      {{"--store", "x", "apend", "--condition", "{}"}, "unknown command \"apend\""},
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const auto& a : c.args) shown += a + " ";
    SCOPED_TRACE("opossum " + shown);
    for (bool terminal : {false, true}) {
      SCOPED_TRACE(terminal ? "standard error is a terminal" : "standard error is a file");
      ProcessOptions o;
      o.cwd = dir();
      o.stderr_terminal = terminal;
      const ProcessResult r = RunRaw(c.args, o);
      std::string json_line = r.err.substr(0, r.err.find('\n') + 1);
      ProcessResult first_line = r;
      first_line.err = json_line;
      ASSERT_TRUE(FailedWith(first_line, 2, "invalid"));
      EXPECT_TRUE(r.out.empty()) << r.out;
      const Json e = ErrorOf(first_line);
      const std::string& message = e["message"].text;
      EXPECT_EQ(message.rfind(c.says, 0), 0u) << message;
      ASSERT_TRUE(e["commands"].is_object()) << r.err;
      EXPECT_EQ(e["commands"].Keys(), commands);
      std::string list;  // what a person sees after the JSON line
      for (const std::string& name : commands) {
        EXPECT_NE(message.find(name), std::string::npos) << "the message does not name " << name;
        const std::string description = e["commands"][name].text;
        EXPECT_FALSE(description.empty()) << name;
        EXPECT_EQ(description.find('\n'), std::string::npos) << name << ": " << description;
        EXPECT_LE(description.size(), 100u) << name << ": " << description;
        list += name + " " + description + "\n";
      }
      const std::string rest = r.err.substr(json_line.size());
      if (!terminal) {
        EXPECT_EQ(rest, "") << "more than the JSON line on standard error";
        continue;
      }
      // One line per command, its name and then its description.
      for (const std::string& name : commands) {
        const std::string want = "  " + name + " ";
        const size_t at = rest.find("\n" + want);
        ASSERT_NE(at, std::string::npos) << "no line for " << name << " in:\n" << rest;
        const size_t end = rest.find('\n', at + 1);
        std::string line = rest.substr(at + 1, end - at - 1);
        line.erase(0, line.find_first_not_of(' '));
        const std::string description = e["commands"][name].text;
        EXPECT_EQ(line.substr(0, name.size()), name);
        EXPECT_EQ(line.substr(line.size() - description.size()), description) << line;
      }
    }
  }
  EXPECT_FALSE(fs::exists(dir() / "opossum-data"));
}

// Numeric options: a value that is not a number the option takes gives a
// short message naming the option, what it expects and what it got; exit 2,
// and nothing runs.
TEST_F(CliUsage, BadNumbersNameTheOptionAndWhatItExpects) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const std::string before = ReadAll();
  const std::string out = (dir() / "out.jsonl").string();
  const std::string in = (dir() / "in.jsonl").string();
  ASSERT_TRUE(WriteFileBytes(in, TenEvents()));
  const std::string whole = "expected a whole number from ";
  struct Case {
    std::vector<std::string> args;
    std::string option;   // the message starts with "OPTION: "
    std::string expects;  // and says this
    std::string got;      // and ends with: got "GOT" (and perhaps a remark)
  };
  const std::string max = "18446744073709551615";
  const std::vector<Case> cases = {
      {{"read", "--from", "-1"}, "--from", whole + "0 to " + max, "-1"},
      {{"read", "--from", "1e3"}, "--from", whole + "0 to " + max, "1e3"},
      {{"read", "--limit", "abc"}, "--limit", whole + "0 to " + max, "abc"},
      {{"read", "--limit", "18446744073709551616"},
       "--limit",
       whole + "0 to " + max,
       "18446744073709551616"},
      {{"read", "--limit", " 5"}, "--limit", whole + "0 to " + max, " 5"},
      {{"read", "--limit", ""}, "--limit", whole + "0 to " + max, ""},
      {{"export", "--out", out, "--from", "0"}, "--from", whole + "1 to " + max, "0"},
      {{"export", "--out", out, "--from", "-2"}, "--from", whole + "1 to " + max, "-2"},
      {{"import", "--in", in, "--batch-size", "1.5"}, "--batch-size", whole + "0 to " + max, "1.5"},
      {{"import", "--in", in, "--batch-size", "-1"}, "--batch-size", whole + "0 to " + max, "-1"},
      {{"bench", "--seconds", "0"},
       "--seconds",
       "expected a number of seconds greater than 0",
       "0"},
      {{"bench", "--seconds", "soon"},
       "--seconds",
       "expected a number of seconds greater than 0",
       "soon"},
      {{"bench", "--threads", "0"}, "--threads", whole + "1 to 1024", "0"},
      {{"bench", "--threads", "1025"}, "--threads", whole + "1 to 1024", "1025"},
      {{"bench", "--read-store", "many"}, "--read-store", whole + "20 to " + max, "many"},
      {{"bench", "--read-store", "25"},
       "--read-store",
       "expected a multiple of 10, at least 20",
       "25"},
      {{"bench", "--scale", "100,x"}, "--scale", whole + "20 to " + max, "x"},
  };
  // A build without the workload driver has a `bench` that only says so.
  const bool with_bench = RunRaw({"bench", "--help"}).out.find("--seconds") != std::string::npos;
  for (const Case& c : cases) {
    std::string shown;
    for (const auto& a : c.args) shown += a + " ";
    SCOPED_TRACE("opossum ... " + shown);
    std::vector<std::string> args = c.args;
    if (args[0] == "bench" && !with_bench) continue;
    if (args[0] == "bench") args.insert(args.end(), {"--dir", (dir() / "bench").string()});
    const ProcessResult r = Run(args, TenEvents());
    ASSERT_TRUE(FailedWith(r, 2, "invalid"));
    const std::string message = ErrorOf(r)["message"].text;
    EXPECT_EQ(message.rfind(c.option + ": " + c.expects, 0), 0u) << message;
    EXPECT_NE(message.find("got \"" + c.got + "\""), std::string::npos) << message;
    EXPECT_LT(message.size(), 160u) << "not a short message: " << message;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(ReadAll(), before);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(dir() / "bench")) << "a refused bench ran";
  // The largest values are taken.
  EXPECT_EQ(ReadPositions({"--from", "0", "--limit", max}).size(), 10u);
  EXPECT_EQ(ReadPositions({"--from", max, "--backwards", "--limit", "2"}),
            (std::vector<uint64_t>{10, 9}));
}

// --segment-size: the size of the segment files the command creates, with
// the suffixes K, M, G, T (powers of 1024); below the store's smallest
// segment (1 MiB) or above its largest (1 TiB) it is refused, exit 2, and
// nothing is created.
TEST_F(CliUsage, SegmentSizeSetsTheSizeOfNewSegments) {
  auto segment_sizes = [&](const std::string& store) {
    std::vector<uintmax_t> sizes;
    for (const auto& e : fs::directory_iterator(store_dir(store) / "segments")) {
      sizes.push_back(fs::file_size(e.path()));
    }
    std::sort(sizes.begin(), sizes.end());
    return sizes;
  };
  // The option a store was created with: the ledger's segment_size field
  // (docs/format-ledger.md: 8 bytes, little-endian, at offset 16).
  auto created_with = [&](const std::string& store) {
    const std::string ledger = ReadFileBytes(store_dir(store) / "ledger");
    uint64_t v = 0;
    for (int i = 7; i >= 0 && ledger.size() >= 24; --i) {
      v = (v << 8) | static_cast<unsigned char>(ledger[16 + i]);
    }
    return v;
  };
  const std::string one = R"({"type": "A"})"
                          "\n";
  ProcessResult r = Run({"append", "--segment-size", "2M"}, one, "two");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(created_with("two"), 2u << 20);
  // Every store starts with a 1 MiB segment; segments double up to the size.
  EXPECT_EQ(segment_sizes("two"), (std::vector<uintmax_t>{1u << 20}));
  const std::string big = R"({"type": "Big", "data": ")" + std::string(300000, 'x') + "\"}\n";
  // The option holds for the segments each command creates (a store does not
  // remember it): these appends give it again.
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(Succeeded(Run({"append", "--segment-size", "2M"}, big, "two")));
  }
  const std::vector<uintmax_t> grown = segment_sizes("two");
  ASSERT_GE(grown.size(), 3u);
  EXPECT_EQ(grown.front(), 1u << 20);
  EXPECT_EQ(grown.back(), 2u << 20) << "segments stop doubling at --segment-size";
  r = Run({"append", "--segment-size", "1048576"}, one, "bytes");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(created_with("bytes"), 1u << 20);
  EXPECT_EQ(segment_sizes("bytes"), (std::vector<uintmax_t>{1u << 20}));
  r = Run({"append", "--segment-size", "3mib"}, one, "mib");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(created_with("mib"), 3u << 20);
  r = Run({"append"}, one, "default");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(created_with("default"), 64u << 20);
  EXPECT_EQ(segment_sizes("default"), (std::vector<uintmax_t>{1u << 20}));
  const fs::path in = dir() / "in.jsonl";
  ASSERT_TRUE(WriteFileBytes(in, TenEvents()));
  r = Run({"import", "--in", in.string(), "--segment-size", "1024K"}, "", "imported");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(created_with("imported"), 1u << 20);
  EXPECT_EQ(Head("imported"), 10u);

  for (const std::string bad :
       {"512K", "1048575", "0", "1MB", "2T", "abc", "-1M", "1.5M", "", "99999999999999999999T"}) {
    for (const std::string command : {"append", "import"}) {
      SCOPED_TRACE(command + " --segment-size \"" + bad + "\"");
      std::vector<std::string> args = {command, "--segment-size", bad};
      if (command == "import") args.insert(args.end(), {"--in", in.string()});
      r = Run(args, one, "refused");
      ASSERT_TRUE(FailedWith(r, 2, "invalid"));
      const std::string message = ErrorOf(r)["message"].text;
      EXPECT_EQ(message.rfind("--segment-size: expected a size from 1 MiB to 1 TiB", 0), 0u)
          << message;
      EXPECT_NE(message.find("got \"" + bad + "\""), std::string::npos) << message;
      EXPECT_FALSE(fs::exists(store_dir("refused")));
    }
  }
}

// ---------------------------------------------------------------------------
// Store names.

TEST_F(CliStoreName, BadNamesAreRejectedAndCreateNothing) {
  const std::string event = R"({"type": "A"})"
                            "\n";
  for (const std::string& name :
       {std::string(".x"), std::string("a/b"), std::string(""), std::string("a b"),
        std::string(65, 'n'), std::string(".."), std::string("."), std::string("caf\xc3\xa9"),
        std::string("x\\y"), std::string("../escape")}) {
    SCOPED_TRACE("--store \"" + name + "\"");
    EXPECT_TRUE(FailedWith(Run({"append"}, event, name), 2, "invalid"));
    EXPECT_TRUE(FailedWith(Run({"read"}, "", name), 2, "invalid"));
    EXPECT_TRUE(FailedWith(Run({"head"}, "", name), 2, "invalid"));
    EXPECT_FALSE(fs::exists(root())) << "a rejected store name created " << root();
    EXPECT_FALSE(fs::exists(dir() / "escape"));
  }
  for (const std::string& name :
       {std::string(64, 'n'), std::string("Az-09_x.y"), std::string("z")}) {
    SCOPED_TRACE("--store \"" + name + "\"");
    EXPECT_EQ(Append(event, name), 1u);
    EXPECT_TRUE(fs::is_directory(root() / name));
    EXPECT_EQ(Head(name), 1u);
  }
}

// ---------------------------------------------------------------------------
// Commands that only read, on a store that is not there: exit 1 with the
// kind not_found (so that a script can tell it from an I/O failure), naming
// the store's folder; nothing made.

TEST_F(CliMissingStore, ReadOnlyCommandsExitOneAndCreateNothing) {
  const fs::path out = dir() / "export.jsonl";
  const fs::path out_folder = dir() / "export-folder";
  const std::vector<std::vector<std::string>> cases = {
      {"read"},
      {"read", "--backwards"},
      {"last"},
      {"last", "--query", R"({"items": [{"types": ["A"]}]})"},
      {"head"},
      {"stats"},
      {"verify"},
      {"export", "--out", out.string()},
      {"export", "--out", out_folder.string(), "--format", "opossum"},
  };
  for (bool root_exists : {false, true}) {
    if (root_exists) {
      ASSERT_EQ(Append(R"({"type": "A"})"
                       "\n",
                       "other"),
                1u);
    }
    for (const auto& args : cases) {
      SCOPED_TRACE(args[0] + (root_exists ? " (the root exists)" : " (no root)"));
      const ProcessResult r = Run(args);
      EXPECT_TRUE(FailedWith(r, 1, "not_found"));
      EXPECT_NE(ErrorOf(r)["message"].text.find(store_dir().string()), std::string::npos)
          << "the message does not name the store: " << r.err;
      EXPECT_TRUE(r.out.empty()) << r.out;
      EXPECT_FALSE(fs::exists(out_folder)) << args[0] << " created the export folder";
      if (root_exists) {
        EXPECT_FALSE(fs::exists(store_dir())) << args[0] << " created the store folder";
      } else {
        EXPECT_FALSE(fs::exists(root())) << args[0] << " created the root folder";
      }
      EXPECT_FALSE(fs::exists(out)) << args[0] << " created the export file";
    }
  }
}

// ---------------------------------------------------------------------------
// append's output, and read's: fields, order, tags, data, ids, metadata.

TEST_F(CliAppend, PrintsLastPositionAndCount) {
  ProcessResult r = Run({"append"}, R"({"type": "A"}
{"type": "B"}
{"type": "C"}
)");
  ASSERT_TRUE(Succeeded(r));
  Json j = ParseJson(r.out);
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  EXPECT_EQ(j.Keys(), (std::vector<std::string>{"last_position", "count"}));
  EXPECT_EQ(j["last_position"].AsUint(), 3u);
  EXPECT_EQ(j["count"].AsUint(), 3u);
  r = Run({"append"}, R"({"type": "D"}
{"type": "E"}
)");
  ASSERT_TRUE(Succeeded(r));
  j = ParseJson(r.out);
  EXPECT_EQ(j["last_position"].AsUint(), 5u);
  EXPECT_EQ(j["count"].AsUint(), 2u);
  EXPECT_EQ(Head(), 5u);
  // Both durability modes append.
  for (const char* mode : {"sync", "buffered"}) {
    r = Run({"append", "--durability", mode}, R"({"type": "F"})"
                                              "\n");
    ASSERT_TRUE(Succeeded(r)) << mode;
  }
  EXPECT_EQ(Head(), 7u);
}

TEST_F(CliRead, OutputHasTheContractsFieldsInOrder) {
  const std::vector<std::string> events = {
      // Tags out of order and repeated, unicode in tags, type and data, escapes.
      R"({"type": "CourseCreated", "tags": ["course:c1", "b", "\u00fc:1", "Z", "a", "course:c1"], "data": {"capacity": 10, "name": "Ünïcode ✓ 🦘", "nested": {"list": [1, 2.5, -300, true, false, null], "empty": {}, "none": []}, "esc": "quote\" backslash\\ tab\t nl\n ctrl\u0001 slash\/ \ud83e\udd98"}})",
      R"({"type": "Blob", "tags": [], "data_base64": "AAEC/w==", "id": "0b5e6f1c-1234-4abc-8def-0123456789ab", "metadata": {"correlation_id": "x", "user": "ü", "empty": ""}})",
      R"({"type": "Empty"})",
      R"({"type": "Stamped", "data": "just a string", "timestamp": "2026-11-26T14:00:00.123456789Z"})",
      R"({"type": "Scalar", "data": 42})",
      R"({"type": "Null", "data": null})",
      R"({"type": "Array", "data": [1, "two", {"three": 3}], "tags": ["x"]})",
      R"({"id": "ffffffff-ffff-4fff-bfff-ffffffffffff", "metadata": {"b": "2", "a": "1"}, "data": {"k": "v"}, "tags": ["t"], "type": "Reordered", "timestamp": "2020-02-29T23:59:59Z"})",
      R"({"type": "Ελληνικά/Типы:種類", "data_base64": "", "tags": ["ключ:значение"]})",
      R"({"type": "False", "data": false, "timestamp": "1970-01-01T00:00:00.000000001Z"})",
  };
  std::string input;
  for (const auto& e : events) input += e + "\n";
  const int64_t before = NowNs();
  const ProcessResult r = Run({"append"}, input);
  const int64_t after = NowNs();
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), events.size());

  const ProcessResult read = Run({"read"});
  ASSERT_TRUE(Succeeded(read));
  const std::vector<std::string> lines = Lines(read.out);
  ASSERT_EQ(lines.size(), events.size());
  for (size_t i = 0; i < lines.size(); ++i) ExpectEvent(lines[i], events[i], i + 1, before, after);
}

TEST_F(CliRead, BinaryDataRoundTripsThroughBase64) {
  std::mt19937_64 rng(::opossum::testing::TestSeed());
  std::vector<std::string> payloads = {"", std::string(1, '\0'), "ab", "abc", "\xff\xfe\xfd\xfc"};
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  payloads.push_back(all);
  for (size_t n : {1u, 5u, 1000u, 70000u}) {
    std::string p;
    for (size_t i = 0; i < n; ++i) p.push_back(static_cast<char>(rng()));
    payloads.push_back(p);
  }
  std::string input;
  for (const auto& p : payloads)
    input += R"({"type": "Bin", "data_base64": ")" + Base64(p) + "\"}\n";
  ASSERT_EQ(Append(input), payloads.size());
  const std::vector<std::string> lines = Lines(ReadAll());
  ASSERT_EQ(lines.size(), payloads.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const Json j = ParseJson(lines[i]);
    EXPECT_FALSE(j.Has("data")) << "binary data came back as JSON: " << lines[i].substr(0, 200);
    ASSERT_TRUE(j["data_base64"].is_string()) << lines[i].substr(0, 200);
    EXPECT_EQ(DecodeBase64(j["data_base64"].text).value_or("<not base64>"), payloads[i])
        << "payload " << i << " of " << payloads[i].size() << " bytes";
  }
}

// The number tokens of a JSON text, in order.
void NumberTexts(const Json& j, std::vector<std::string>* out) {
  if (j.is_number()) out->push_back(j.text);
  for (const Json& item : j.items) NumberTexts(item, out);
  for (const auto& m : j.members) NumberTexts(m.second, out);
}

// "data: any JSON value (stored as compact JSON text)": a number is kept as
// written, also one that no 64-bit integer or double holds exactly (money
// amounts, 128-bit ids); it is neither refused nor rounded.
TEST_F(CliAppend, JsonNumbersAreKeptAsWritten) {
  const std::vector<std::string> numbers = {
      "12345678901234567890.12",           // more digits than a double holds
      "3.141592653589793238462643383279",  // likewise
      "123456789012345678901234567890",    // beyond 64 bits
      "18446744073709551616",              // 2^64
      "-9223372036854775809",              // below INT64_MIN
      "1e400",                             // beyond a double's range
      "1e-400",                            // below a double's smallest
  };
  for (const std::string& n : numbers) {
    SCOPED_TRACE("data " + n);
    const std::string event =
        R"({"type": "N", "data": {"n": )" + n + R"(, "list": [)" + n + "]}}\n";
    const ProcessResult r = Run({"append"}, event, "n");
    EXPECT_TRUE(Succeeded(r));
    if (r.exit_code != 0) continue;
    const uint64_t position = ParseJson(r.out)["last_position"].AsUint();
    const ProcessResult read =
        Run({"read", "--from", std::to_string(position), "--limit", "1"}, "", "n");
    EXPECT_TRUE(Succeeded(read));
    std::vector<std::string> texts;
    NumberTexts(ParseJson(read.out)["data"], &texts);
    EXPECT_EQ(texts, (std::vector<std::string>{n, n})) << read.out;
  }
}

TEST_F(CliRead, FromBackwardsLimitAndQueries) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  using P = std::vector<uint64_t>;
  const std::string type_a = R"({"items": [{"types": ["A"]}]})";
  EXPECT_EQ(ReadPositions({}), (P{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(ReadPositions({"--from", "4"}), (P{4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(ReadPositions({"--from", "10"}), (P{10}));
  EXPECT_EQ(ReadPositions({"--from", "11"}), P{});
  EXPECT_EQ(ReadPositions({"--backwards"}), (P{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(ReadPositions({"--backwards", "--from", "4"}), (P{4, 3, 2, 1}));
  EXPECT_EQ(ReadPositions({"--backwards", "--from", "99"}), (P{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(ReadPositions({"--limit", "3"}), (P{1, 2, 3}));
  EXPECT_EQ(ReadPositions({"--limit", "99"}).size(), 10u);
  EXPECT_EQ(ReadPositions({"--backwards", "--limit", "3"}), (P{10, 9, 8}));
  EXPECT_EQ(ReadPositions({"--from", "4", "--limit", "2"}), (P{4, 5}));
  EXPECT_EQ(ReadPositions({"--backwards", "--from", "7", "--limit", "2"}), (P{7, 6}));
  EXPECT_EQ(ReadPositions({"--limit", "0"}), P{});
  EXPECT_EQ(ReadPositions({"--backwards", "--limit", "0"}), P{});
  EXPECT_EQ(ReadPositions({"--query", type_a}), (P{1, 3, 5, 7, 9}));
  EXPECT_EQ(ReadPositions({"--query", type_a, "--backwards", "--limit", "2"}), (P{9, 7}));
  EXPECT_EQ(ReadPositions({"--query", type_a, "--from", "4", "--limit", "2"}), (P{5, 7}));
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"types": ["A", "B"]}]})"}).size(), 10u);
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"tags": ["even"]}]})"}), (P{2, 4, 6, 8, 10}));
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"tags": ["even", "n:4"]}]})"}), (P{4}));
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"tags": ["odd", "n:4"]}]})"}), P{});
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"types": ["B"], "tags": ["n:3"]}]})"}), P{});
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"types": ["B"], "tags": ["n:6"]}]})"}),
            (P{6}));
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"tags": ["n:8"]}, {"tags": ["n:3"]}]})"}),
            (P{3, 8}));
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"types": ["A"]}, {"tags": ["n:8"]}]})"}),
            (P{1, 3, 5, 7, 8, 9}));
  EXPECT_EQ(ReadPositions({"--query", R"({"items": [{"types": ["Nope"]}]})"}), P{});
  EXPECT_EQ(ReadPositions({"--query", R"({"items": []})"}).size(), 10u);
  EXPECT_EQ(ReadPositions({"--query", "{}"}).size(), 10u);
  // The lines themselves: as appended.
  const std::vector<std::string> lines = Lines(ReadAll());
  const std::vector<std::string> inputs = Lines(TenEvents());
  ASSERT_EQ(lines.size(), 10u);
  for (size_t i = 0; i < 10; ++i) ExpectEvent(lines[i], inputs[i], i + 1);
}

TEST_F(CliRead, InvalidQueriesExitTwo) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  for (const std::string& q : {
           std::string(R"({"items": [{}]})"),
           std::string(R"({"items": [{"types": ["A"]}, {}]})"),
           std::string(R"({"items": [{"types": [], "tags": []}]})"),
           std::string("nope"),
           std::string(R"({"items": [{"types": ["A"]})"),
           std::string(R"({"items": {}})"),
           std::string(R"({"items": [{"types": "A"}]})"),
           std::string(R"({"items": [{"tags": [1]}]})"),
           std::string(R"({"items": [{"types": ["A"], "colour": "red"}]})"),
           std::string(R"({"colour": 1})"),
           std::string(R"([])"),
       }) {
    SCOPED_TRACE("--query " + q);
    EXPECT_TRUE(FailedWith(Run({"read", "--query", q}), 2, "invalid"));
    EXPECT_TRUE(FailedWith(Run({"last", "--query", q}), 2, "invalid"));
  }
}

// ---------------------------------------------------------------------------
// last, head, stats, verify.

TEST_F(CliLast, PrintsTheNewestMatchOrNothing) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const std::vector<std::string> lines = Lines(ReadAll());
  ASSERT_EQ(lines.size(), 10u);
  ProcessResult r = Run({"last"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, lines[9] + "\n");
  r = Run({"last", "--query", R"({"items": [{"types": ["A"]}]})"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, lines[8] + "\n");
  r = Run({"last", "--query", R"({"items": [{"tags": ["n:3"]}, {"tags": ["n:5"]}]})"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, lines[4] + "\n");
  r = Run({"last", "--query", R"({"items": [{"tags": ["n:11"]}]})"});
  EXPECT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "");
  r = Run({"last", "--query", R"({"items": [{"types": ["A"], "tags": ["even"]}]})"});
  EXPECT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "");
}

TEST_F(CliHead, BareNumberZeroForAnEmptyStore) {
  {
    // A store created empty by a program using the library.
    std::unique_ptr<Store> store;
    Options o;
    ASSERT_TRUE(Store::Open(root(), "s", o, &store).ok());
  }
  ProcessResult r = Run({"head"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "0\n");
  r = Run({"read"});
  EXPECT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "");
  r = Run({"last"});
  EXPECT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(Append(TenEvents()), 10u);
  r = Run({"head"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "10\n");
}

TEST_F(CliStats, PrintsCountsAsOneJsonObject) {
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(root(), "s", Options(), &store).ok());
  }
  ProcessResult r = Run({"stats"});
  ASSERT_TRUE(Succeeded(r));
  Json j = ParseJson(r.out);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  EXPECT_EQ(j["events"].AsUint(), 0u);
  EXPECT_EQ(j["head"].AsUint(), 0u);
  EXPECT_EQ(j["distinct_types"].AsUint(), 0u);
  EXPECT_EQ(j["distinct_tags"].AsUint(), 0u);

  ASSERT_EQ(Append(TenEvents()), 10u);
  ASSERT_EQ(Append(R"({"type": "C", "tags": ["odd", "extra"]})"
                   "\n"),
            11u);
  r = Run({"stats"});
  ASSERT_TRUE(Succeeded(r));
  j = ParseJson(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  for (const char* key :
       {"events", "head", "segments", "bytes_on_disk", "distinct_types", "distinct_tags"}) {
    EXPECT_TRUE(j[key].is_number()) << key << " missing or not a number in " << r.out;
  }
  EXPECT_EQ(j["events"].AsUint(), 11u);
  EXPECT_EQ(j["head"].AsUint(), 11u);
  EXPECT_GE(j["segments"].AsUint(), 1u);
  EXPECT_LT(j["segments"].AsUint(), 100u);
  EXPECT_GT(j["bytes_on_disk"].AsUint(), 0u);
  EXPECT_LT(j["bytes_on_disk"].AsUint(), ~uint64_t{0});
  EXPECT_EQ(j["distinct_types"].AsUint(), 3u);  // A, B, C
  EXPECT_EQ(j["distinct_tags"].AsUint(), 13u);  // n:1..n:10, odd, even, extra
}

TEST_F(CliVerify, GoodStoreIsOk) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const ProcessResult r = Run({"verify"});
  ASSERT_TRUE(Succeeded(r));
  const Json j = ParseJson(r.out);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  ASSERT_EQ(j["ok"].kind, Json::Kind::kBool) << r.out;
  EXPECT_TRUE(j["ok"].boolean);
  EXPECT_EQ(j["events"].AsUint(), 10u);
}

// ---------------------------------------------------------------------------
// Where the store is: --root, $OPOSSUM_ROOT, ./opossum-data; --store.

TEST_F(CliRoot, RootOptionEnvironmentAndDefault) {
  const std::string event = R"({"type": "A"})"
                            "\n";
  const fs::path env_root = dir() / "env-root";
  const fs::path cwd = dir() / "cwd";
  fs::create_directories(cwd);
  auto run = [&](std::vector<std::string> args, std::optional<std::string> env,
                 const std::string& input = "") {
    ProcessOptions o;
    o.input = input;
    o.cwd = cwd;
    o.env["OPOSSUM_ROOT"] = env;
    return RunRaw(std::move(args), o);
  };

  // The default: ./opossum-data/default, relative to the working directory.
  ProcessResult r = run({"append"}, std::nullopt, event + event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_TRUE(fs::is_directory(cwd / "opossum-data" / "default"));
  r = run({"head"}, std::nullopt);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "2\n");

  // $OPOSSUM_ROOT.
  r = run({"append"}, env_root.string(), event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_TRUE(fs::is_directory(env_root / "default"));
  r = run({"head"}, env_root.string());
  EXPECT_EQ(r.out, "1\n");
  r = run({"--store", "named", "append"}, env_root.string(), event + event + event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_TRUE(fs::is_directory(env_root / "named"));
  r = run({"--store", "named", "head"}, env_root.string());
  EXPECT_EQ(r.out, "3\n");

  // --root wins over $OPOSSUM_ROOT, before or after the command.
  r = run({"--root", root().string(), "append"}, env_root.string(), event + event + event + event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_TRUE(fs::is_directory(root() / "default"));
  r = run({"--root", root().string(), "head"}, env_root.string());
  EXPECT_EQ(r.out, "4\n");
  r = run({"head", "--root", root().string()}, env_root.string());
  EXPECT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "4\n");
  r = run({"head", "--root", root().string(), "--store", "default"}, std::nullopt);
  EXPECT_TRUE(Succeeded(r));
  EXPECT_EQ(r.out, "4\n");
  // A relative --root is relative to the working directory.
  r = run({"--root", "rel", "append"}, env_root.string(), event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_TRUE(fs::is_directory(cwd / "rel" / "default"));

  // Each store kept its own events.
  r = run({"head"}, std::nullopt);
  EXPECT_EQ(r.out, "2\n");
  r = run({"head"}, env_root.string());
  EXPECT_EQ(r.out, "1\n");
}

// ---------------------------------------------------------------------------
// Invalid input lines: exit 2, the line, nothing appended, nothing created.

struct BadLine {
  const char* what;
  std::string line;
};

std::vector<BadLine> BadLines() {
  return {
      {"malformed JSON", R"({"type": "A", "data": {)"},
      {"trailing garbage", R"({"type": "A"} x)"},
      {"not an object", R"([1, 2])"},
      {"a bare string", R"("A")"},
      {"unknown field", R"({"type": "A", "colour": "red"})"},
      {"a position in append input", R"({"type": "A", "position": 3})"},
      {"both data and data_base64", R"({"type": "A", "data": {}, "data_base64": "AA=="})"},
      {"bad UUID", R"({"type": "A", "id": "not-a-uuid"})"},
      {"short UUID", R"({"type": "A", "id": "0b5e6f1c-1234-4abc-8def-0123456789a"})"},
      {"UUID not a string", R"({"type": "A", "id": 12})"},
      {"bad timestamp", R"({"type": "A", "timestamp": "yesterday"})"},
      {"timestamp hour 25", R"({"type": "A", "timestamp": "2026-11-26T25:00:00Z"})"},
      {"timestamp not a string", R"({"type": "A", "timestamp": 1700000000})"},
      {"missing type", R"({"tags": ["a"]})"},
      {"type not a string", R"({"type": 5})"},
      {"empty type", R"({"type": ""})"},
      {"type of 256 bytes", R"({"type": ")" + std::string(256, 't') + "\"}"},
      {"tags not an array", R"({"type": "A", "tags": "a"})"},
      {"tag not a string", R"({"type": "A", "tags": [1]})"},
      {"empty tag", R"({"type": "A", "tags": [""]})"},
      {"control character in a tag", R"({"type": "A", "tags": ["a\u0001b"]})"},
      {"65 tags",
       [] {
         std::string s = R"({"type": "A", "tags": [)";
         for (int i = 0; i < 65; ++i) s += (i ? ", \"t" : "\"t") + std::to_string(i) + "\"";
         return s + "]}";
       }()},
      {"metadata not an object", R"({"type": "A", "metadata": ["a"]})"},
      {"metadata value not a string", R"({"type": "A", "metadata": {"a": 1}})"},
      {"bad base64", R"({"type": "A", "data_base64": "!!!!"})"},
      {"data_base64 not a string", R"({"type": "A", "data_base64": 5})"},
      {"type given twice", R"({"type": "A", "type": "B"})"},
  };
}

std::string FiveLinesBadThird(const std::string& bad) {
  return R"({"type": "Good", "data": {"n": 1}})"
         "\n"
         R"({"type": "Good", "data": {"n": 2}})"
         "\n" +
         bad +
         "\n"
         R"({"type": "Good", "data": {"n": 4}})"
         "\n"
         R"({"type": "Good", "data": {"n": 5}})"
         "\n";
}

void ExpectLineThreeRejected(const ProcessResult& r) {
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  const Json e = ErrorOf(r);
  EXPECT_EQ(e["line"].AsUint(), 3u) << r.err;
  EXPECT_NE(e["message"].text.find("line 3"), std::string::npos)
      << "the message does not name line 3: " << e["message"].text;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliInvalidInput, BadLineThreeOfFiveOnANewStoreCreatesNothing) {
  for (const BadLine& b : BadLines()) {
    SCOPED_TRACE(std::string(b.what) + ": " + b.line.substr(0, 120));
    ExpectLineThreeRejected(Run({"append"}, FiveLinesBadThird(b.line)));
    EXPECT_FALSE(fs::exists(store_dir())) << "invalid input created the store folder";
    std::error_code ec;
    fs::remove_all(store_dir(), ec);
  }
}

TEST_F(CliInvalidInput, BadLineThreeOfFiveAppendsNothing) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const std::string before = ReadAll();
  for (const BadLine& b : BadLines()) {
    SCOPED_TRACE(std::string(b.what) + ": " + b.line.substr(0, 120));
    ExpectLineThreeRejected(Run({"append"}, FiveLinesBadThird(b.line)));
    // With a condition that holds, too.
    ExpectLineThreeRejected(Run(
        {"append", "--condition", R"({"fail_if_events_match": {"items": [{"types": ["Nope"]}]}})"},
        FiveLinesBadThird(b.line)));
  }
  EXPECT_EQ(Head(), 10u);
  EXPECT_EQ(ReadAll(), before);
}

TEST_F(CliInvalidInput, LineNumbersCountEveryLine) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  // The bad line as the first, and as the last without a final newline, and
  // after blank lines (which still count as lines).
  ProcessResult r = Run({"append"}, "{\"type\": \n" + TenEvents());
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(ErrorOf(r)["line"].AsUint(), 1u) << r.err;
  r = Run({"append"}, TenEvents() + "{\"type\": ");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(ErrorOf(r)["line"].AsUint(), 11u) << r.err;
  r = Run({"append"}, "{\"type\": \"A\"}\n\n\n{\"type\": 1}\n");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(ErrorOf(r)["line"].AsUint(), 4u) << r.err;
  EXPECT_EQ(Head(), 10u);
}

// Malformed JSON on an input line: the error gives the line and the column
// (1-based, in characters) where the line stops being JSON, in the message
// and as "line" and "column", and says what is wrong there. A line that is
// JSON but not a valid event has a line and no column.
TEST_F(CliInvalidInput, MalformedJsonGivesLineAndColumn) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  struct Case {
    std::string line;
    std::string at;    // the error is at the first character of this text in the line
    std::string what;  // the message says this
  };
  const std::string big = "123456789012345678901234567890";  // beyond 64 bits
  const std::vector<Case> cases = {
      {R"({"type": "A", "tags": ["x" "y"]})", R"("y"])", "expected ',' or ']'"},
      {R"({"type": "A", "data": {"a": 1,}})", "}}", "key"},
      {"{\"type\": \"\xc3\x9c"
       "n\xc3\xaf"
       "c\xc3\xb6"
       "de\", \"data\": tru}",
       "}", "literal"},
      {R"({"type": "A", "data": [1, 2})", "}", "expected ',' or ']'"},
      {"{\"type\": \"A\x01\"}", "\x01", "control character"},
      {"{\"type\": \"A\xff\"}", "\xff", "UTF-8"},
      {R"({"type": "A"} x)", "x", "after the JSON value"},
      {R"({"type": "A", "data": )" + big + R"(, "tags": [})", "}", "expected a value"},
      {R"({"type": "A", "data": )" + big + R"(, "tags": ["a")", "", "ends inside an array"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    // Its column: the characters before the fault, plus one.
    const size_t at = c.at.empty() ? c.line.size() : c.line.find(c.at);
    ASSERT_NE(at, std::string::npos);
    uint64_t column = 1;
    for (size_t i = 0; i < at; ++i) {
      if ((static_cast<unsigned char>(c.line[i]) & 0xC0) != 0x80) ++column;
    }
    const std::string input = TenEvents() + "\n" + c.line + "\n" + TenEvents();
    const fs::path file = dir() / "bad.jsonl";
    ASSERT_TRUE(WriteFileBytes(file, input));
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"append"}, {"import", "--in", "-"}, {"import", "--in", file.string()}}) {
      SCOPED_TRACE(args.back());
      const ProcessResult r = Run(args, input);
      ASSERT_TRUE(FailedWith(r, 2, "invalid"));
      const Json e = ErrorOf(r);
      EXPECT_EQ(e["line"].AsUint(), 12u) << r.err;
      EXPECT_EQ(e["column"].AsUint(), column) << r.err;
      EXPECT_EQ(e.Keys(), (std::vector<std::string>{"error", "message", "line", "column"}));
      const std::string& m = e["message"].text;
      EXPECT_NE(m.find("line 12, column " + std::to_string(column) + ": malformed JSON: "),
                std::string::npos)
          << m;
      EXPECT_NE(m.find(c.what), std::string::npos) << m;
    }
  }
  // Valid JSON that is not a valid event: the line, no column.
  const ProcessResult r = Run({"append"}, "{\"type\": \"A\"}\n{\"type\": 1}\n");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(ErrorOf(r)["line"].AsUint(), 2u);
  EXPECT_FALSE(ErrorOf(r).Has("column")) << r.err;
  EXPECT_EQ(Head(), 10u);
}

// Malformed JSON in --query or --condition: the message gives the column
// (and the line, when the value spans lines) and what is wrong there.
TEST_F(CliInvalidInput, MalformedQueryAndConditionGiveTheColumn) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  struct Case {
    std::vector<std::string> args;
    std::string where;
    std::string what;
  };
  const std::vector<Case> cases = {
      {{"read", "--query", R"({"items": [}])"}, "column 12", "expected a value"},
      {{"last", "--query", R"({"items": [{"tags": ["a" "b"]}]})"},
       "column 26",
       "expected ',' or ']'"},
      {{"read", "--query", "{\n  \"items\": [\n    {\"types\": [\"A\"]},\n  }\n"},
       "line 4, column 3",
       "expected a value"},
      {{"append", "--condition", R"({"fail_if_events_match": {"items": []}, "after": })"},
       "column 50",
       "expected a value"},
      {{"append", "--condition", R"({"fail_if_events_match": {"items": []})"},
       "column 39",
       "ends inside an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[2]);
    const ProcessResult r = Run(c.args, TenEvents());
    ASSERT_TRUE(FailedWith(r, 2, "invalid"));
    const std::string m = ErrorOf(r)["message"].text;
    EXPECT_EQ(m.rfind(c.args[1] + ": ", 0), 0u) << m;
    EXPECT_NE(m.find("malformed JSON at " + c.where + ": "), std::string::npos) << m;
    EXPECT_NE(m.find(c.what), std::string::npos) << m;
  }
  EXPECT_EQ(Head(), 10u);
}

// A malformed event file of the .NET layout: the file, line and column.
TEST_F(CliExportImport, MalformedOpossumEventFileGivesLineAndColumn) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path folder = dir() / "mirror";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", folder.string(), "--format", "opossum"})));
  const fs::path broken = folder / "events" / "0000000004.json";
  ASSERT_TRUE(WriteFileBytes(broken, "{\n  \"event\": {\n    \"eventType\": \"A\",,\n"));
  const ProcessResult r =
      Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "new");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  const std::string m = ErrorOf(r)["message"].text;
  EXPECT_NE(m.find("0000000004.json: not valid JSON at line 3, column 22: "), std::string::npos)
      << m;
  EXPECT_NE(m.find("key"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(store_dir("new")));
}

TEST_F(CliInvalidInput, NoEventsIsInvalid) {
  for (const std::string& input : {std::string(""), std::string("\n\n")}) {
    SCOPED_TRACE("input of " + std::to_string(input.size()) + " bytes");
    EXPECT_TRUE(FailedWith(Run({"append"}, input), 2, "invalid"));
    EXPECT_FALSE(fs::exists(store_dir()));
  }
}

// ---------------------------------------------------------------------------
// Append conditions: exit 3 with the conflicting position; bad ones exit 2.

TEST_F(CliCondition, FailedConditionExitsThreeWithTheConflict) {
  ASSERT_EQ(Append(R"({"type": "CourseCreated", "tags": ["course:c1"]})"
                   "\n"
                   R"({"type": "CourseCreated", "tags": ["course:c2"]})"
                   "\n"),
            2u);
  const std::string event = R"({"type": "StudentSubscribed", "tags": ["course:c1", "student:s1"]})"
                            "\n";
  const std::string c1 = R"({"items": [{"tags": ["course:c1"]}]})";
  const std::string c2 = R"({"items": [{"tags": ["course:c2"]}]})";

  ProcessResult r =
      Run({"append", "--condition", R"({"fail_if_events_match": )" + c1 + "}"}, event);
  ASSERT_TRUE(FailedWith(r, 3, "condition_failed"));
  EXPECT_EQ(ErrorOf(r)["conflicting_position"].AsUint(), 1u) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(Head(), 2u);

  // An event exactly at `after` does not make it fail.
  r = Run({"append", "--condition", R"({"fail_if_events_match": )" + c1 + R"(, "after": 1})"},
          event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), 3u);

  // Event 3 matches c1 now; after 2 it conflicts.
  r = Run({"append", "--condition", R"({"fail_if_events_match": )" + c1 + R"(, "after": 2})"},
          event);
  ASSERT_TRUE(FailedWith(r, 3, "condition_failed"));
  EXPECT_EQ(ErrorOf(r)["conflicting_position"].AsUint(), 3u) << r.err;

  r = Run({"append", "--condition", R"({"fail_if_events_match": )" + c2 + R"(, "after": 1})"},
          event);
  ASSERT_TRUE(FailedWith(r, 3, "condition_failed"));
  EXPECT_EQ(ErrorOf(r)["conflicting_position"].AsUint(), 2u) << r.err;

  // "after" beyond every match, and a query nothing matches: no conflict.
  r = Run({"append", "--condition", R"({"fail_if_events_match": )" + c2 + R"(, "after": 99})"},
          event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), 4u);
  r = Run(
      {"append", "--condition", R"({"fail_if_events_match": {"items": [{"types": ["Nope"]}]}})"},
      event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), 5u);
  r = Run(
      {"append", "--condition",
       R"({"fail_if_events_match": {"items": [{"types": ["CourseCreated"], "tags": ["student:s1"]}]}})"},
      event);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), 6u);

  // The query that matches everything, after 4: the conflict lies above 4.
  for (const std::string& all : {std::string("{}"), std::string(R"({"items": []})")}) {
    r = Run({"append", "--condition", R"({"fail_if_events_match": )" + all + R"(, "after": 4})"},
            event);
    ASSERT_TRUE(FailedWith(r, 3, "condition_failed"));
    const uint64_t conflict = ErrorOf(r)["conflicting_position"].AsUint();
    EXPECT_GT(conflict, 4u) << r.err;
    EXPECT_LE(conflict, 6u) << r.err;
  }
  // A batch of several events fails whole.
  r = Run({"append", "--condition", R"({"fail_if_events_match": )" + c1 + "}"},
          event + event + event);
  ASSERT_TRUE(FailedWith(r, 3, "condition_failed"));
  EXPECT_EQ(Head(), 6u);
}

TEST_F(CliCondition, InvalidConditionsExitTwo) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const std::string event = R"({"type": "A"})"
                            "\n";
  for (const std::string& c : {
           std::string("nope"),
           std::string("{"),
           std::string(R"({"after": 1})"),
           std::string(R"({"fail_if_events_match": {"items": [{}]}})"),
           std::string(R"({"fail_if_events_match": {"items": [{"types": ["A"], "colour": 1}]}})"),
           std::string(R"({"fail_if_events_match": {}, "after": -1})"),
           std::string(R"({"fail_if_events_match": {}, "after": "1"})"),
           std::string(R"({"fail_if_events_match": {}, "after": 1.5})"),
           std::string(R"({"fail_if_events_match": {}, "colour": 1})"),
           std::string(R"({"fail_if_events_match": []})"),
           std::string(R"([])"),
       }) {
    SCOPED_TRACE("--condition " + c);
    EXPECT_TRUE(FailedWith(Run({"append", "--condition", c}, event), 2, "invalid"));
  }
  EXPECT_EQ(Head(), 10u);
}

// A query item the store's rules refuse (an empty, oversized or
// control-character tag, an empty or oversized type): exit 2, kind invalid,
// with the store's own message, word for word (naming the item and the
// value), and nothing appended.
TEST_F(CliCondition, QueryItemsTheStoreRefusesExitTwoWithItsMessage) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const std::string before = ReadAll();
  const std::string long_tag(300, 't');
  const std::string long_type(300, 'T');
  struct Case {
    std::string item;      // the JSON of the item
    QueryItem parsed;      // the same item
    std::string mentions;  // the message names the value so
  };
  const std::vector<Case> cases = {
      {R"({"tags": [""]})", {{}, {""}}, "empty"},
      {R"({"tags": ["k:1", ")" + long_tag + R"("]})", {{}, {"k:1", long_tag}}, "300 bytes"},
      {R"({"tags": ["a\tb"]})", {{}, {"a\tb"}}, "control character"},
      {R"({"types": ["A"], "tags": ["x\u0001"]})", {{"A"}, {"x\x01"}}, "control character"},
      {R"({"types": [""]})", {{""}, {}}, "empty"},
      {R"({"types": [")" + long_type + R"("]})", {{long_type}, {}}, "300 bytes"},
  };
  // The store's messages, from the library itself.
  std::unique_ptr<Store> scratch;
  ASSERT_TRUE(Store::Open(dir() / "scratch", "s", {}, &scratch).ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.item);
    // The bad item second, after a good one: the message names item 1.
    const std::string query = R"({"items": [{"types": ["A"]}, )" + c.item + "]}";
    Query q;
    q.items = {QueryItem{{"A"}, {}}, c.parsed};
    std::vector<EventView> unused;
    const Status read_status = scratch->Read(q, {}, &unused);
    ASSERT_TRUE(read_status.IsInvalidArgument()) << read_status.ToString();
    EXPECT_NE(read_status.message().find("item 1"), std::string::npos) << read_status.message();
    EXPECT_NE(read_status.message().find(c.mentions), std::string::npos) << read_status.message();
    std::optional<EventView> none;
    const Status last_status = scratch->ReadLast(q, &none);
    ASSERT_TRUE(last_status.IsInvalidArgument()) << last_status.ToString();
    const Status append_status =
        scratch->Append({Event{.type = "B"}}, AppendCondition{.fail_if_events_match = q});
    ASSERT_TRUE(append_status.IsInvalidArgument()) << append_status.ToString();
    EXPECT_EQ(scratch->Head(), 0u);

    ProcessResult r = Run({"read", "--query", query});
    ASSERT_TRUE(FailedWith(r, 2, "invalid"));
    EXPECT_EQ(ErrorOf(r)["message"].text, read_status.message());
    EXPECT_TRUE(r.out.empty()) << r.out;
    r = Run({"last", "--query", query});
    ASSERT_TRUE(FailedWith(r, 2, "invalid"));
    EXPECT_EQ(ErrorOf(r)["message"].text, last_status.message());
    EXPECT_TRUE(r.out.empty()) << r.out;
    r = Run({"append", "--condition", R"({"fail_if_events_match": )" + query + "}"},
            R"({"type": "B"})"
            "\n");
    ASSERT_TRUE(FailedWith(r, 2, "invalid"));
    EXPECT_EQ(ErrorOf(r)["message"].text, append_status.message());
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // The simplest case: the one item, an empty tag.
  const ProcessResult r =
      Run({"append", "--condition", R"({"fail_if_events_match":{"items":[{"tags":[""]}]}})"},
          R"({"type": "B"})"
          "\n");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_NE(ErrorOf(r)["message"].text.find("condition query item 0"), std::string::npos) << r.err;
  EXPECT_EQ(ReadAll(), before);
  // On a store that does not exist: refused as invalid, and nothing created.
  const ProcessResult fresh =
      Run({"append", "--condition", R"({"fail_if_events_match":{"items":[{"tags":[""]}]}})"},
          R"({"type": "B"})"
          "\n",
          "fresh");
  ASSERT_TRUE(FailedWith(fresh, 2, "invalid"));
  EXPECT_FALSE(fs::exists(store_dir("fresh")));
  const ProcessResult read = Run({"read", "--query", R"({"items":[{"tags":[""]}]})"}, "", "fresh");
  ASSERT_TRUE(FailedWith(read, 2, "invalid"));
  EXPECT_FALSE(fs::exists(store_dir("fresh")));
}

// ---------------------------------------------------------------------------
// Idempotent appends.

TEST_F(CliIdempotency, SameIdsTwiceAppendOnce) {
  const std::string batch = R"({"type": "A", "id": "11111111-1111-4111-8111-111111111111"})"
                            "\n"
                            R"({"type": "B", "id": "22222222-2222-4222-8222-222222222222"})"
                            "\n";
  ASSERT_EQ(Append(batch), 2u);
  ASSERT_EQ(Append(R"({"type": "C"})"
                   "\n"),
            3u);
  const std::string before = ReadAll();
  ProcessResult r = Run({"append"}, batch);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), 2u) << r.out;
  // Whatever its condition says.
  r = Run({"append", "--condition", R"({"fail_if_events_match": {}})"}, batch);
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["last_position"].AsUint(), 2u) << r.out;
  EXPECT_EQ(Head(), 3u);
  EXPECT_EQ(ReadAll(), before);
  // Ids that only partly match an earlier batch: invalid.
  r = Run({"append"}, R"({"type": "A", "id": "11111111-1111-4111-8111-111111111111"})"
                      "\n"
                      R"({"type": "B", "id": "33333333-3333-4333-8333-333333333333"})"
                      "\n");
  EXPECT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(Head(), 3u);
}

// ---------------------------------------------------------------------------
// Corruption: exit 4.

TEST_F(CliCorruption, DamagedRecordIsReportedByVerifyAndRead) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  ProcessResult r = Run({"verify"});
  ASSERT_TRUE(Succeeded(r));
  // docs/format-segment.md: a 64-byte segment header, a 32-byte batch header,
  // then the first record: a 24-byte header (its length first) and its event
  // bytes, which the record's CRC-32C covers.
  const fs::path seg = store_dir() / "segments" / "00000000000000000001.seg";
  ASSERT_TRUE(fs::exists(seg));
  const int fd = ::open(seg.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  uint32_t length = 0;
  ASSERT_EQ(::pread(fd, &length, 4, 96), 4);
  ASSERT_GT(length, 0u);
  ASSERT_LT(length, 4096u);
  const off_t at = 120 + static_cast<off_t>(length / 2);
  unsigned char byte = 0;
  ASSERT_EQ(::pread(fd, &byte, 1, at), 1);
  byte ^= 0x5A;
  ASSERT_EQ(::pwrite(fd, &byte, 1, at), 1);
  ::close(fd);

  r = Run({"verify"});
  EXPECT_TRUE(FailedWith(r, 4, "corruption"));
  const Json v = ParseJson(r.out);
  EXPECT_EQ(v["ok"].kind, Json::Kind::kBool) << r.out;
  EXPECT_FALSE(v["ok"].boolean) << r.out;
  r = Run({"read"});
  EXPECT_TRUE(FailedWith(r, 4, "corruption"));
  r = Run({"read", "--query", R"({"items": [{"tags": ["n:1"]}]})"});
  EXPECT_TRUE(FailedWith(r, 4, "corruption"));
  r = Run({"last", "--query", R"({"items": [{"tags": ["n:1"]}]})"});
  EXPECT_TRUE(FailedWith(r, 4, "corruption"));
  r = Run({"export", "--out", (dir() / "x.jsonl").string()});
  EXPECT_TRUE(FailedWith(r, 4, "corruption"));
}

// ---------------------------------------------------------------------------
// Busy: the write lock held by another process for longer than the tool's
// lock timeout (10 s; the tool has no option to shorten it).

TEST_F(CliBusy, HeldWriteLockExitsFive) {
  ASSERT_EQ(Append(R"({"type": "A"})"
                   "\n"),
            1u);
  // engine/src/store/store_core.cc: the write lock is an fcntl write lock on
  // the whole of STORE/write.lock (Boost.Interprocess file_lock). fcntl locks
  // belong to a process, so a forked child takes it.
  const fs::path lock_path = store_dir() / "write.lock";
  ASSERT_TRUE(fs::exists(lock_path));
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    const int fd = ::open(lock_path.c_str(), O_RDWR);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
    if (::write(ready[1], &ok, 1) != 1) ::_exit(1);
    char c;
    while (::read(release[0], &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ::close(ready[0]);
  auto release_child = [&] {
    ::close(release[1]);
    int status = 0;
    ::waitpid(child, &status, 0);
  };
  if (ok != 'y') {
    release_child();
    FAIL() << "the child could not lock " << lock_path;
  }

  const ProcessResult r = Run({"append"}, R"({"type": "B"})"
                                          "\n");
  // Readers take no lock and never wait for a writer.
  const ProcessResult head = Run({"head"});
  const ProcessResult read = Run({"read"});
  release_child();
  EXPECT_TRUE(FailedWith(r, 5, "busy"));
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(Succeeded(head));
  EXPECT_EQ(head.out, "1\n");
  EXPECT_TRUE(Succeeded(read));
  EXPECT_EQ(Lines(read.out).size(), 1u);
  // Once the lock is free, appends go through again.
  EXPECT_EQ(Append(R"({"type": "C"})"
                   "\n"),
            2u);
}

// ---------------------------------------------------------------------------
// Many `opossum append` processes at once, each deciding on what `last`
// showed it: gapless positions, and every accepted append's condition held.

TEST_F(CliConcurrentAppends, ConditionsHoldAcrossProcesses) {
  constexpr int kWorkers = 16;
  constexpr int kRounds = 3;
  constexpr int kKeys = 3;
  ASSERT_EQ(Append(R"({"type": "Start"})"
                   "\n"),
            1u);

  struct Attempt {
    int worker = 0;
    int round = 0;
    int key = 0;
    std::optional<uint64_t> after;  // what `last` showed; none: no condition bound
    ProcessResult result;
  };
  std::mutex mu;
  std::vector<Attempt> attempts;
  std::vector<std::string> worker_errors;
  std::barrier start(kWorkers);
  auto query_of = [](int key) {
    return R"({"items": [{"tags": ["key:)" + std::to_string(key) + R"("]}]})";
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        start.arrive_and_wait();  // every worker starts its round together
        Attempt a;
        a.worker = w;
        a.round = round;
        a.key = (w + round) % kKeys;
        const std::string q = query_of(a.key);
        const ProcessResult last = Run({"last", "--query", q});
        if (last.exit_code != 0 || !last.err.empty()) {
          std::lock_guard<std::mutex> lock(mu);
          worker_errors.push_back("last: " + Describe(last));
          continue;
        }
        if (!last.out.empty()) {
          std::optional<Json> j = TryParseJson(last.out);
          a.after = j ? (*j)["position"].AsUint() : ~uint64_t{0};
        }
        std::string condition = R"({"fail_if_events_match": )" + q;
        if (a.after) condition += R"(, "after": )" + std::to_string(*a.after);
        condition += "}";
        const std::string event = R"({"type": "Decided", "tags": ["key:)" + std::to_string(a.key) +
                                  R"(", "worker:)" + std::to_string(w) + R"(", "round:)" +
                                  std::to_string(round) + R"("], "data": {"after": )" +
                                  (a.after ? std::to_string(*a.after) : "null") + "}}\n";
        a.result = Run({"append", "--condition", condition}, event);
        std::lock_guard<std::mutex> lock(mu);
        attempts.push_back(std::move(a));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : worker_errors) ADD_FAILURE() << e;

  // The log: positions gapless from 1 to the head.
  const uint64_t head = Head();
  const std::vector<std::string> lines = Lines(ReadAll());
  ASSERT_EQ(lines.size(), head);
  std::vector<Json> events;
  for (size_t i = 0; i < lines.size(); ++i) {
    events.push_back(ParseJson(lines[i]));
    ASSERT_EQ(events.back()["position"].AsUint(), i + 1) << lines[i];
  }
  auto has_tag = [](const Json& ev, const std::string& tag) {
    const auto tags = ev["tags"].StringItems();
    return std::find(tags.begin(), tags.end(), tag) != tags.end();
  };

  size_t accepted = 0, rejected = 0, errors = 0;
  for (const Attempt& a : attempts) {
    SCOPED_TRACE("worker " + std::to_string(a.worker) + " round " + std::to_string(a.round) +
                 " key " + std::to_string(a.key) + " after " +
                 (a.after ? std::to_string(*a.after) : "(none)"));
    const std::string key_tag = "key:" + std::to_string(a.key);
    const uint64_t bound = a.after.value_or(0);
    if (a.result.exit_code == 0) {
      ++accepted;
      ASSERT_TRUE(Succeeded(a.result));
      const Json out = ParseJson(a.result.out);
      const uint64_t pos = out["last_position"].AsUint();
      EXPECT_EQ(out["count"].AsUint(), 1u);
      ASSERT_GE(pos, 1u);
      ASSERT_LE(pos, head);
      // Its own event sits at the position it was told.
      const Json& mine = events[pos - 1];
      EXPECT_TRUE(has_tag(mine, "worker:" + std::to_string(a.worker)) &&
                  has_tag(mine, "round:" + std::to_string(a.round)))
          << "position " << pos << " holds " << lines[pos - 1];
      // Its condition held: no event of its key in (after, its own position).
      for (uint64_t p = bound + 1; p < pos; ++p) {
        EXPECT_FALSE(has_tag(events[p - 1], key_tag))
            << "accepted at " << pos << " although " << lines[p - 1] << " matched after " << bound;
      }
    } else if (a.result.exit_code == 3) {
      ++rejected;
      ASSERT_TRUE(FailedWith(a.result, 3, "condition_failed"));
      const uint64_t conflict = ErrorOf(a.result)["conflicting_position"].AsUint();
      ASSERT_GT(conflict, bound) << a.result.err;
      ASSERT_LE(conflict, head) << a.result.err;
      EXPECT_TRUE(has_tag(events[conflict - 1], key_tag))
          << "conflicting position " << conflict << " holds " << lines[conflict - 1];
    } else {
      // Neither accepted nor a failed condition: nothing else is a right
      // answer for a valid append while other processes append.
      ++errors;
      ADD_FAILURE() << "an append failed with neither exit 0 nor exit 3: " << Describe(a.result);
    }
  }
  EXPECT_EQ(attempts.size(), static_cast<size_t>(kWorkers * kRounds));
  // Every event but the first came from exactly one accepted append.
  EXPECT_EQ(head, 1 + accepted);
  std::set<std::pair<int, int>> seen;
  for (size_t i = 1; i < events.size(); ++i) {
    std::string w, r;
    for (const auto& t : events[i]["tags"].StringItems()) {
      if (t.rfind("worker:", 0) == 0) w = t;
      if (t.rfind("round:", 0) == 0) r = t;
    }
    EXPECT_TRUE(seen.emplace(std::atoi(w.c_str() + 7), std::atoi(r.c_str() + 6)).second)
        << "appended twice: " << lines[i];
  }
  std::fprintf(stderr,
               "[ info     ] %zu appends accepted, %zu failed their condition, %zu errors\n",
               accepted, rejected, errors);
  EXPECT_TRUE(Succeeded(Run({"verify"})));
}

// ---------------------------------------------------------------------------
// Export and import through the command line.

// Events that exercise the readable layer: binary data, unicode, types and
// tags with characters no file name may hold, ids, metadata, timestamps.
std::vector<std::string> RichEvents() {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  return {
      R"({"type": "CourseCreated", "tags": ["course:c1", "flag"], "data": {"capacity": 10, "title": "Ünïcode ✓"}})",
      R"({"type": "Blob", "data_base64": ")" + Base64(all_bytes) + R"("})",
      R"({"type": "Course/Created:v2", "tags": ["url:http://x/y?z=1", "a:b:c"], "data": [1, 2, 3]})",
      R"({"type": "x*y?z<w>|\"q\"\\", "tags": ["path:C:\\dir\\file", "<>:|?*"], "data": "text"})",
      R"({"type": "Ελληνικά/Типы:種類 🦘", "tags": ["ключ:значение", "🦘:🦘", "emoji:😀"], "data": {"k": "ü"}})",
      R"({"type": "..", "tags": ["..:.."], "data": null})",
      R"({"type": ".", "data_base64": ""})",
      R"({"type": "WithId", "id": "0b5e6f1c-1234-4abc-8def-0123456789ab", "data": {"n": 1}, "timestamp": "2024-01-15T10:30:00.123456789Z"})",
      R"({"type": "WithMeta", "data": {"n": 2}, "metadata": {"correlation_id": "c-1", "causation_id": "c-0", "operation_id": "op-1", "user_id": "u-1", "tenant": "t1"}})",
      R"({"type": "ClrTyped", "data": {"amount": 5}, "metadata": {"clr_type": "App.Paid, App"}})",
      R"({"type": "Numbers", "data": {"a": 1.10, "b": 1E5, "c": -0.5, "d": 12345678901234567890}})",
      R"({"type": "Escapes \"q\" \\ \u00e9", "tags": ["quote\"back\\slash", "k:\u00e9"], "data": {"s": "a\u0001b\\c\"d\te\n"}})",
      R"({"type": "Old", "data": {}, "timestamp": "1999-12-31T23:59:59Z"})",
      R"({"type": "CourseCreated", "tags": ["course:c2"], "data_base64": "AAEC", "id": "ffffffff-ffff-4fff-bfff-ffffffffffff", "metadata": {"tenant": "t2", "correlation_id": "c-2"}})",
  };
}

std::string JoinEvents(const std::vector<std::string>& events) {
  std::string s;
  for (const auto& e : events) s += e + "\n";
  return s;
}

// The permission bits of `p`.
unsigned Mode(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Whether `text` is an RFC 9562 version-8 UUID (what import derives).
bool IsVersion8Uuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-'
             : std::string_view("0123456789abcdef").find(text[i]) == std::string_view::npos) {
      return false;
    }
  }
  return text[14] == '8' && std::string_view("89ab").find(text[19]) != std::string_view::npos;
}

// `dst` is what `read` prints for a store imported from an export of the
// store that printed `src`: the same lines, but each event that had no id
// now has the one import derived for it (an "id" member right after
// "timestamp", as `read` orders them: a version-8 UUID, no two alike).
// Returns the derived ids, in order.
std::vector<std::string> ExpectSameButDerivedIds(const std::string& src, const std::string& dst) {
  const std::vector<std::string> a = Lines(src), b = Lines(dst);
  EXPECT_EQ(a.size(), b.size());
  std::vector<std::string> ids;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    SCOPED_TRACE("position " + std::to_string(i + 1));
    const Json in = ParseJson(a[i]), out = ParseJson(b[i]);
    if (in.Has("id")) {
      EXPECT_EQ(b[i], a[i]) << "an event's own id must be kept";
      continue;
    }
    if (!out["id"].is_string()) {
      ADD_FAILURE() << "no id derived: " << b[i];
      continue;
    }
    const std::string id = out["id"].text;
    EXPECT_TRUE(IsVersion8Uuid(id)) << id;
    const std::string ts = "\"timestamp\": \"" + in["timestamp"].text + "\"";
    std::string want = a[i];
    const size_t at = want.find(ts);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no timestamp in " << a[i];
      continue;
    }
    want.insert(at + ts.size(), ", \"id\": \"" + id + "\"");
    EXPECT_EQ(b[i], want);
    ids.push_back(id);
  }
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "ids repeat";
  return ids;
}

TEST_F(CliExportImport, JsonlRoundTrip) {
  const std::vector<std::string> events = RichEvents();
  ASSERT_EQ(Append(JoinEvents(events), "src"), events.size());
  const std::string src = ReadAll("src");
  {
    const std::vector<std::string> lines = Lines(src);
    ASSERT_EQ(lines.size(), events.size());
    for (size_t i = 0; i < lines.size(); ++i) ExpectEvent(lines[i], events[i], i + 1);
  }
  const fs::path file = dir() / "export.jsonl";
  ProcessResult r = Run({"export", "--out", file.string(), "--format", "jsonl"}, "", "src");
  ASSERT_TRUE(Succeeded(r));
  Json j = ParseJson(r.out);
  EXPECT_EQ(j["written"].AsUint(), events.size()) << r.out;
  EXPECT_EQ(j["last_position"].AsUint(), events.size()) << r.out;
  // The file is the read format, in position order.
  EXPECT_EQ(ReadFileBytes(file), src);

  r = Run({"import", "--in", file.string(), "--format", "jsonl"}, "", "dst");
  ASSERT_TRUE(Succeeded(r));
  j = ParseJson(r.out);
  EXPECT_EQ(j.Keys(),
            (std::vector<std::string>{"imported", "skipped", "first_position", "last_position"}));
  EXPECT_EQ(j["imported"].AsUint(), events.size()) << r.out;
  EXPECT_EQ(j["skipped"].AsUint(), 0u) << r.out;
  EXPECT_EQ(j["first_position"].AsUint(), 1u) << r.out;
  EXPECT_EQ(j["last_position"].AsUint(), events.size()) << r.out;
  // The events as they were, each without an id now with a derived one.
  const std::string dst = ReadAll("dst");
  EXPECT_EQ(ExpectSameButDerivedIds(src, dst).size(), events.size() - 2);

  // The default format is jsonl; standard input works as --in -; batches.
  const fs::path file2 = dir() / "default-format.jsonl";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file2.string()}, "", "src")));
  EXPECT_EQ(ReadFileBytes(file2), src);
  // The derived ids depend on the events and their positions only: the
  // same, whichever way the export comes in.
  r = Run({"import", "--in", "-"}, src, "from-stdin");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ReadAll("from-stdin"), dst);
  r = Run({"import", "--in", file.string(), "--batch-size", "4", "--durability", "buffered"}, "",
          "batched");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["imported"].AsUint(), events.size());
  EXPECT_EQ(ReadAll("batched"), dst);
  EXPECT_TRUE(Succeeded(Run({"verify"}, "", "dst")));
}

TEST_F(CliExportImport, OpossumFolderRoundTrip) {
  const std::vector<std::string> events = RichEvents();
  ASSERT_EQ(Append(JoinEvents(events), "src"), events.size());
  const std::string src = ReadAll("src");
  const fs::path folder = dir() / "mirror";
  ProcessResult r = Run({"export", "--out", folder.string(), "--format", "opossum"}, "", "src");
  ASSERT_TRUE(Succeeded(r));
  Json j = ParseJson(r.out);
  EXPECT_EQ(j["written"].AsUint(), events.size()) << r.out;
  EXPECT_EQ(j["last_position"].AsUint(), events.size()) << r.out;

  // The .NET layout: one file per event, the index files, the ledger.
  for (size_t p = 1; p <= events.size(); ++p) {
    char name[32];
    std::snprintf(name, sizeof name, "%010zu.json", p);
    const fs::path f = folder / "events" / name;
    ASSERT_TRUE(fs::is_regular_file(f)) << f;
    const Json ev = ParseJson(ReadFileBytes(f));
    EXPECT_EQ(ev["position"].AsUint(), p) << f;
    EXPECT_EQ(ev["event"]["eventType"].text, ParseJson(events[p - 1])["type"].text) << f;
  }
  const Json ledger = ParseJson(ReadFileBytes(folder / ".ledger"));
  EXPECT_EQ(ledger["LastSequencePosition"].AsUint(), events.size());
  EXPECT_EQ(ledger["EventCount"].AsUint(), events.size());
  for (const char* index : {"EventType", "Tags"}) {
    const fs::path d = folder / "Indices" / index;
    ASSERT_TRUE(fs::is_directory(d)) << d;
    std::set<uint64_t> covered;
    for (const auto& e : fs::directory_iterator(d)) {
      const std::string name = e.path().filename().string();
      SCOPED_TRACE(e.path().string());
      EXPECT_EQ(name.find_first_of("\\<>:\"|?*"), std::string::npos);
      for (char c : name) EXPECT_GE(static_cast<unsigned char>(c), 0x20u);
      EXPECT_NE(name, "..json");
      EXPECT_EQ(e.path().extension(), ".json");
      const Json idx = ParseJson(ReadFileBytes(e.path()));
      ASSERT_TRUE(idx["Positions"].is_array());
      uint64_t prev = 0;
      for (const Json& p : idx["Positions"].items) {
        EXPECT_GT(p.AsUint(), prev);
        EXPECT_LE(p.AsUint(), events.size());
        prev = p.AsUint();
        covered.insert(p.AsUint());
      }
    }
    if (std::string(index) == "EventType") {
      // Every event has a type, so the type files together name every position.
      EXPECT_EQ(covered.size(), events.size());
    }
  }

  r = Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "dst");
  ASSERT_TRUE(Succeeded(r));
  j = ParseJson(r.out);
  EXPECT_EQ(j["imported"].AsUint(), events.size()) << r.out;
  EXPECT_EQ(j["first_position"].AsUint(), 1u);
  EXPECT_EQ(j["last_position"].AsUint(), events.size());
  // Line by line: the same events, each without an id now with a derived
  // one; and the same ids a JSON Lines export gives.
  const std::string dst = ReadAll("dst");
  EXPECT_EQ(ExpectSameButDerivedIds(src, dst).size(), events.size() - 2);
  const fs::path file = dir() / "export.jsonl";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file.string()}, "", "src")));
  ASSERT_TRUE(Succeeded(Run({"import", "--in", file.string()}, "", "from-jsonl")));
  EXPECT_EQ(ReadAll("from-jsonl"), dst);
  // The import wrote nothing into the folder.
  const auto tree = ::opossum::testing::ReadTree(folder);
  r = Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "dst2");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(::opossum::testing::ReadTree(folder), tree);
}

// JSON data that has a "$type" member of its own (as .NET serializers write
// it), stored without any clr_type metadata: the folder round trip must give
// back the same data and no metadata.
TEST_F(CliExportImport, OpossumRoundTripKeepsDataWithItsOwnDollarType) {
  const std::vector<std::string> events = {
      R"({"type": "OwnDollarType", "data": {"$type": "Own.Type, Own", "v": 1}})",
      R"({"type": "OwnDollarTypeAndClrType", "data": {"$type": "Own.Type, Own", "v": 2}, "metadata": {"clr_type": "Other.Type, Other"}})",
      R"({"type": "NotAnObject", "data": ["$type"], "metadata": {"clr_type": "App.List, App"}})",
  };
  ASSERT_EQ(Append(JoinEvents(events), "src"), events.size());
  const std::string src = ReadAll("src");
  const fs::path folder = dir() / "mirror";
  ASSERT_TRUE(
      Succeeded(Run({"export", "--out", folder.string(), "--format", "opossum"}, "", "src")));
  ASSERT_TRUE(
      Succeeded(Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "dst")));
  ExpectSameButDerivedIds(src, ReadAll("dst"));
}

TEST_F(CliExportImport, IncrementalJsonlExportWritesOnlyNewEvents) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path file = dir() / "nightly.jsonl";
  ProcessResult r = Run({"export", "--out", file.string()});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), 10u);
  const std::vector<std::string> more = RichEvents();
  ASSERT_EQ(Append(JoinEvents(more)), 10 + more.size());
  r = Run({"export", "--out", file.string()});
  ASSERT_TRUE(Succeeded(r));
  Json j = ParseJson(r.out);
  EXPECT_EQ(j["written"].AsUint(), more.size()) << r.out;
  EXPECT_EQ(j["last_position"].AsUint(), 10 + more.size()) << r.out;
  // The same file a full export gives.
  const fs::path full = dir() / "full.jsonl";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", full.string()})));
  EXPECT_EQ(ReadFileBytes(file), ReadFileBytes(full));
  EXPECT_EQ(ReadFileBytes(file), ReadAll());
  // Nothing new: nothing written.
  r = Run({"export", "--out", file.string()});
  ASSERT_TRUE(Succeeded(r));
  j = ParseJson(r.out);
  EXPECT_EQ(j["written"].AsUint(), 0u) << r.out;
  EXPECT_EQ(j["last_position"].AsUint(), 10 + more.size()) << r.out;
  EXPECT_EQ(ReadFileBytes(file), ReadFileBytes(full));
  // --from on a new file starts there.
  const fs::path tail = dir() / "tail.jsonl";
  r = Run({"export", "--out", tail.string(), "--from", "8"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), 3 + more.size()) << r.out;
  const std::vector<std::string> all = Lines(ReadAll());
  EXPECT_EQ(ReadFileBytes(tail), JoinLines(std::vector<std::string>(all.begin() + 7, all.end())));
}

TEST_F(CliExportImport, IncrementalOpossumExportWritesOnlyNewEvents) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path folder = dir() / "mirror";
  ProcessResult r = Run({"export", "--out", folder.string(), "--format", "opossum"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), 10u);
  const std::vector<std::string> more = RichEvents();
  ASSERT_EQ(Append(JoinEvents(more)), 10 + more.size());
  r = Run({"export", "--out", folder.string(), "--format", "opossum"});
  ASSERT_TRUE(Succeeded(r));
  Json j = ParseJson(r.out);
  EXPECT_EQ(j["written"].AsUint(), more.size()) << r.out;
  EXPECT_EQ(j["last_position"].AsUint(), 10 + more.size()) << r.out;
  // The same folder a full export gives.
  const fs::path full = dir() / "full";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", full.string(), "--format", "opossum"})));
  auto tree = ::opossum::testing::ReadTree(folder);
  auto full_tree = ::opossum::testing::ReadTree(full);
  // The checkpoint names the same events either way; compare the rest.
  EXPECT_EQ(tree.size(), full_tree.size());
  for (const auto& [name, bytes] : full_tree) {
    EXPECT_EQ(tree[name], bytes) << name << " differs from a full export's";
  }
  r = Run({"export", "--out", folder.string(), "--format", "opossum"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), 0u) << r.out;
  EXPECT_EQ(::opossum::testing::ReadTree(folder), tree);
  ASSERT_TRUE(
      Succeeded(Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "dst")));
  ExpectSameButDerivedIds(ReadAll(), ReadAll("dst"));
}

TEST_F(CliExportImport, WriteProtectedJsonlExportStillGrows) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path file = dir() / "protected.jsonl";
  ProcessResult r = Run({"export", "--out", file.string(), "--write-protect"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(Mode(file), 0444u);
  ASSERT_EQ(Append(TenEvents()), 20u);
  r = Run({"export", "--out", file.string(), "--write-protect"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), 10u) << r.out;
  EXPECT_EQ(Mode(file), 0444u);
  EXPECT_EQ(ReadFileBytes(file), ReadAll());
}

TEST_F(CliExportImport, WriteProtectedOpossumExportStillGrows) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path folder = dir() / "protected";
  auto expect_all_protected = [&] {
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(folder)) {
      if (!e.is_regular_file()) continue;
      ++files;
      EXPECT_EQ(Mode(e.path()), 0444u) << e.path();
    }
    EXPECT_GE(files, 10u);
  };
  ProcessResult r =
      Run({"export", "--out", folder.string(), "--format", "opossum", "--write-protect"});
  ASSERT_TRUE(Succeeded(r));
  expect_all_protected();
  ASSERT_EQ(Append(RichEvents()[0] + "\n" + RichEvents()[1] + "\n"), 12u);
  r = Run({"export", "--out", folder.string(), "--format", "opossum", "--write-protect"});
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), 2u) << r.out;
  expect_all_protected();
  EXPECT_TRUE(fs::exists(folder / "events" / "0000000012.json"));
  ASSERT_TRUE(
      Succeeded(Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "dst")));
  ExpectSameButDerivedIds(ReadAll(), ReadAll("dst"));
}

TEST_F(CliExportImport, MalformedJsonlLineThreeImportsNothing) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path file = dir() / "good.jsonl";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file.string()})));
  std::vector<std::string> lines = Lines(ReadFileBytes(file));
  lines.resize(5);
  lines[2] = lines[2].substr(0, lines[2].size() / 2);  // cut in the middle
  const fs::path bad = dir() / "bad.jsonl";
  ASSERT_TRUE(WriteFileBytes(bad, JoinLines(lines)));
  for (const std::string store : {"new", "s"}) {
    SCOPED_TRACE("into store " + store);
    const ProcessResult r = Run({"import", "--in", bad.string()}, "", store);
    ASSERT_TRUE(FailedWith(r, 2, "invalid"));
    const Json e = ErrorOf(r);
    EXPECT_EQ(e["line"].AsUint(), 3u) << r.err;
    EXPECT_NE(e["message"].text.find(bad.string()), std::string::npos) << "no file name: " << r.err;
    EXPECT_NE(e["message"].text.find("line 3"), std::string::npos) << "no line: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(fs::exists(store_dir("new")));
  EXPECT_EQ(Head(), 10u);
  // A missing file: an I/O error, and nothing created.
  const ProcessResult r = Run({"import", "--in", (dir() / "missing.jsonl").string()}, "", "new");
  EXPECT_TRUE(FailedWith(r, 1, "io"));
  EXPECT_FALSE(fs::exists(store_dir("new")));
}

TEST_F(CliExportImport, MalformedOpossumEventFileImportsNothing) {
  ASSERT_EQ(Append(TenEvents()), 10u);
  const fs::path folder = dir() / "mirror";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", folder.string(), "--format", "opossum"})));
  const fs::path broken = folder / "events" / "0000000003.json";
  ASSERT_TRUE(WriteFileBytes(broken, "{\"event\": {\"eventType\": "));
  const ProcessResult r =
      Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "new");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_NE(ErrorOf(r)["message"].text.find("0000000003.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(store_dir("new")));
}

TEST_F(CliExportImport, ExportIntoAnotherStoresMirrorIsRefused) {
  ASSERT_EQ(Append(TenEvents(), "a"), 10u);
  ASSERT_EQ(Append(JoinEvents(RichEvents()), "b"), RichEvents().size());
  const fs::path file = dir() / "a.jsonl";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file.string()}, "", "a")));
  const std::string before = ReadFileBytes(file);
  ProcessResult r = Run({"export", "--out", file.string()}, "", "b");
  EXPECT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(ReadFileBytes(file), before);

  const fs::path folder = dir() / "a-mirror";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", folder.string(), "--format", "opossum"}, "", "a")));
  const auto tree = ::opossum::testing::ReadTree(folder);
  r = Run({"export", "--out", folder.string(), "--format", "opossum"}, "", "b");
  EXPECT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(::opossum::testing::ReadTree(folder), tree);
}

// ---------------------------------------------------------------------------
// Importing again: every event has an id (its own, or one derived from its
// position in the export and its content), and one the store already holds
// is skipped, so a repeated or resumed import appends nothing twice.

// The import summary, checked for its shape.
struct ImportSummary {
  uint64_t imported = 0, skipped = 0, first = 0, last = 0;
};
ImportSummary Summary(const ProcessResult& r) {
  const Json j = ParseJson(r.out);
  EXPECT_EQ(j.Keys(),
            (std::vector<std::string>{"imported", "skipped", "first_position", "last_position"}))
      << r.out;
  return {j["imported"].AsUint(), j["skipped"].AsUint(), j["first_position"].AsUint(),
          j["last_position"].AsUint()};
}

TEST_F(CliImportAgain, ImportingTwiceAppendsNothingTheSecondTime) {
  const std::vector<std::string> events = RichEvents();
  ASSERT_EQ(Append(JoinEvents(events) + TenEvents(), "src"), events.size() + 10);
  const uint64_t n = events.size() + 10;
  const fs::path file = dir() / "export.jsonl";
  const fs::path folder = dir() / "mirror";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file.string()}, "", "src")));
  ASSERT_TRUE(
      Succeeded(Run({"export", "--out", folder.string(), "--format", "opossum"}, "", "src")));
  const std::vector<std::vector<std::string>> ways = {
      {"import", "--in", file.string()},
      {"import", "--in", "-"},
      {"import", "--in", file.string(), "--batch-size", "3"},
      {"import", "--in", folder.string(), "--format", "opossum"},
      {"import", "--in", folder.string(), "--format", "opossum", "--batch-size", "1"},
  };
  for (const auto& first : ways) {
    for (const auto& second : ways) {
      const std::string store = "dst" + std::to_string(&first - ways.data()) + "-" +
                                std::to_string(&second - ways.data());
      SCOPED_TRACE("first " + first[2] + (first.size() > 3 ? " " + first[3] : "") + ", then " +
                   second[2] + (second.size() > 3 ? " " + second[3] : ""));
      ProcessResult r = Run(first, ReadFileBytes(file), store);
      ASSERT_TRUE(Succeeded(r));
      ImportSummary sum = Summary(r);
      EXPECT_EQ(sum.imported, n);
      EXPECT_EQ(sum.skipped, 0u);
      const std::string after_first = ReadAll(store);
      r = Run(second, ReadFileBytes(file), store);
      ASSERT_TRUE(Succeeded(r));
      sum = Summary(r);
      EXPECT_EQ(sum.imported, 0u) << r.out;
      EXPECT_EQ(sum.skipped, n) << r.out;
      EXPECT_EQ(sum.first, 0u) << r.out;
      EXPECT_EQ(sum.last, 0u) << r.out;
      EXPECT_EQ(Head(store), n);
      EXPECT_EQ(ReadAll(store), after_first);
    }
  }
}

// An export that grew (export run again as events were appended, or
// export --follow) imports only its new events.
TEST_F(CliImportAgain, GrownExportImportsOnlyTheNewEvents) {
  for (const std::string format : {"jsonl", "opossum"}) {
    SCOPED_TRACE(format);
    const std::string src = "src-" + format, dst = "dst-" + format;
    ASSERT_EQ(Append(TenEvents(), src), 10u);
    const fs::path out = dir() / ("export-" + format);
    const std::vector<std::string> export_args = {"export", "--out", out.string(), "--format",
                                                  format};
    const std::vector<std::string> import_args = {"import", "--in", out.string(), "--format",
                                                  format};
    ASSERT_TRUE(Succeeded(Run(export_args, "", src)));
    ProcessResult r = Run(import_args, "", dst);
    ASSERT_TRUE(Succeeded(r));
    EXPECT_EQ(Summary(r).imported, 10u);
    const std::vector<std::string> more = RichEvents();
    ASSERT_EQ(Append(JoinEvents(more), src), 10 + more.size());
    r = Run(export_args, "", src);
    ASSERT_TRUE(Succeeded(r));
    EXPECT_EQ(ParseJson(r.out)["written"].AsUint(), more.size()) << "the export did not grow";
    r = Run(import_args, "", dst);
    ASSERT_TRUE(Succeeded(r));
    const ImportSummary sum = Summary(r);
    EXPECT_EQ(sum.imported, more.size());
    EXPECT_EQ(sum.skipped, 10u);
    EXPECT_EQ(sum.first, 11u);
    EXPECT_EQ(sum.last, 10 + more.size());
    ExpectSameButDerivedIds(ReadAll(src), ReadAll(dst));
  }
}

// An import with --batch-size that stopped part way (here at a malformed
// line, after two batches were in) is run again once the file is mended:
// it skips what is in and appends the rest, each event once.
TEST_F(CliImportAgain, ResumedBatchedImportCompletesWithoutDuplicates) {
  ASSERT_EQ(Append(TenEvents() + TenEvents() + JoinEvents(RichEvents()), "src"),
            20 + RichEvents().size());
  const uint64_t n = 20 + RichEvents().size();
  const fs::path file = dir() / "export.jsonl";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file.string()}, "", "src")));
  const std::string good = ReadFileBytes(file);
  std::vector<std::string> lines = Lines(good);
  const std::string line13 = lines[12];
  lines[12] = line13.substr(0, line13.size() / 2);  // cut off, as by a crash
  ASSERT_TRUE(WriteFileBytes(file, JoinLines(lines)));
  ProcessResult r = Run({"import", "--in", file.string(), "--batch-size", "5"}, "", "dst");
  ASSERT_TRUE(FailedWith(r, 2, "invalid"));
  EXPECT_EQ(ErrorOf(r)["line"].AsUint(), 13u);
  EXPECT_NE(ErrorOf(r)["message"].text.find("10 events were imported before this"),
            std::string::npos)
      << r.err;
  ASSERT_EQ(Head("dst"), 10u);

  ASSERT_TRUE(WriteFileBytes(file, good));
  r = Run({"import", "--in", file.string(), "--batch-size", "5"}, "", "dst");
  ASSERT_TRUE(Succeeded(r));
  ImportSummary sum = Summary(r);
  EXPECT_EQ(sum.skipped, 10u);
  EXPECT_EQ(sum.imported, n - 10);
  EXPECT_EQ(sum.first, 11u);
  EXPECT_EQ(sum.last, n);
  ExpectSameButDerivedIds(ReadAll("src"), ReadAll("dst"));
  // The same when the store holds the first batches from an import of a
  // shorter file (the start of the export), whatever the batch size now.
  lines = Lines(good);
  lines.resize(7);
  const fs::path start = dir() / "start.jsonl";
  ASSERT_TRUE(WriteFileBytes(start, JoinLines(lines)));
  r = Run({"import", "--in", start.string(), "--batch-size", "2"}, "", "dst2");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(Summary(r).imported, 7u);
  r = Run({"import", "--in", file.string(), "--batch-size", "4"}, "", "dst2");
  ASSERT_TRUE(Succeeded(r));
  sum = Summary(r);
  EXPECT_EQ(sum.skipped, 7u);
  EXPECT_EQ(sum.imported, n - 7);
  EXPECT_EQ(ReadAll("dst2"), ReadAll("dst"));
  EXPECT_TRUE(Succeeded(Run({"verify"}, "", "dst2")));
}

// Two different sources whose events share positions but not content are
// different events: both are imported. Events alike in all but their place
// in the source are different events too.
TEST_F(CliImportAgain, SamePositionsDifferentContentAreBothImported) {
  std::string other;
  for (int i = 1; i <= 10; ++i) {
    other += R"({"type": "A", "tags": ["n:)" + std::to_string(i) + R"("], "data": {"i": )" +
             std::to_string(100 + i) + "}, \"timestamp\": \"2024-01-01T00:00:00Z\"}\n";
  }
  ASSERT_EQ(Append(TenEvents(), "one"), 10u);
  ASSERT_EQ(Append(other, "two"), 10u);
  for (const std::string format : {"jsonl", "opossum"}) {
    SCOPED_TRACE(format);
    const std::string dst = "dst-" + format;
    for (const std::string src : {"one", "two"}) {
      const fs::path out = dir() / (src + "." + format);
      ASSERT_TRUE(Succeeded(Run({"export", "--out", out.string(), "--format", format}, "", src)));
      const ProcessResult r = Run({"import", "--in", out.string(), "--format", format}, "", dst);
      ASSERT_TRUE(Succeeded(r));
      EXPECT_EQ(Summary(r).imported, 10u) << src;
      EXPECT_EQ(Summary(r).skipped, 0u) << src;
    }
    EXPECT_EQ(Head(dst), 20u);
  }
  // Lines without positions: their place is their ordinal in the input.
  const std::string same = R"({"type": "Same", "data": {}, "timestamp": "2024-01-01T00:00:00Z"})"
                           "\n";
  ProcessResult r = Run({"import", "--in", "-"}, same + same + same, "ordinals");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(Summary(r).imported, 3u);
  r = Run({"import", "--in", "-"}, same + same + same + same, "ordinals");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(Summary(r).imported, 1u);
  EXPECT_EQ(Summary(r).skipped, 3u);
  std::set<std::string> ids;
  for (const std::string& line : Lines(ReadAll("ordinals"))) ids.insert(ParseJson(line)["id"].text);
  EXPECT_EQ(ids.size(), 4u);
}

// The JSON Lines and the .NET folder export of one store give the same
// derived ids: importing one after the other appends nothing the second
// time. An id the events carry is theirs in either.
TEST_F(CliImportAgain, BothFormatsOfOneStoreGiveTheSameIds) {
  ASSERT_EQ(Append(JoinEvents(RichEvents()), "src"), RichEvents().size());
  const fs::path file = dir() / "export.jsonl";
  const fs::path folder = dir() / "mirror";
  ASSERT_TRUE(Succeeded(Run({"export", "--out", file.string()}, "", "src")));
  ASSERT_TRUE(
      Succeeded(Run({"export", "--out", folder.string(), "--format", "opossum"}, "", "src")));
  ProcessResult r = Run({"import", "--in", folder.string(), "--format", "opossum"}, "", "dst");
  ASSERT_TRUE(Succeeded(r));
  r = Run({"import", "--in", file.string()}, "", "dst");
  ASSERT_TRUE(Succeeded(r));
  EXPECT_EQ(Summary(r).imported, 0u);
  EXPECT_EQ(Summary(r).skipped, RichEvents().size());
  const std::string dst = ReadAll("dst");
  ExpectSameButDerivedIds(ReadAll("src"), dst);
  EXPECT_NE(dst.find("\"id\": \"0b5e6f1c-1234-4abc-8def-0123456789ab\""), std::string::npos);
  EXPECT_NE(dst.find("\"id\": \"ffffffff-ffff-4fff-bfff-ffffffffffff\""), std::string::npos);
}

// ---------------------------------------------------------------------------
// A large batch.

TEST_F(CliLargeInput, HundredThousandLinesInOneBatch) {
  constexpr int kEvents = 100000;
  std::string input;
  input.reserve(kEvents * 64);
  for (int i = 0; i < kEvents; ++i) {
    input += R"({"type": "T)" + std::to_string(i % 7) + R"(", "tags": ["k:)" +
             std::to_string(i % 100) + R"("], "data": {"i": )" + std::to_string(i) + "}}\n";
  }
  // From a file, as with `opossum append < file`.
  const fs::path file = dir() / "large.jsonl";
  ASSERT_TRUE(WriteFileBytes(file, input));
  ProcessOptions o;
  o.input_file = file;
  const ProcessResult r =
      RunRaw({"--root", root().string(), "--store", "s", "append", "--durability", "buffered"}, o);
  ASSERT_TRUE(Succeeded(r));
  const Json j = ParseJson(r.out);
  EXPECT_EQ(j["last_position"].AsUint(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(j["count"].AsUint(), static_cast<uint64_t>(kEvents));

  const ProcessResult read = Run({"read"});
  ASSERT_TRUE(Succeeded(read));
  const std::vector<std::string> lines = Lines(read.out);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    const Json ev = ParseJson(lines[i]);
    ASSERT_EQ(ev["position"].AsUint(), static_cast<uint64_t>(i + 1)) << lines[i];
    ASSERT_EQ(ev["data"]["i"].AsUint(), static_cast<uint64_t>(i)) << lines[i];
    ASSERT_EQ(ev["type"].text, "T" + std::to_string(i % 7)) << lines[i];
  }
  // Through a pipe, as with `generate | opossum append`: the same events.
  ProcessOptions piped;
  piped.input = input;
  piped.input_via_pipe = true;
  const ProcessResult p = RunRaw({"--root", root().string(), "--store", "piped", "append"}, piped);
  ASSERT_TRUE(Succeeded(p));
  EXPECT_EQ(ParseJson(p.out)["count"].AsUint(), static_cast<uint64_t>(kEvents));
  const ProcessResult piped_read = Run({"read"}, "", "piped");
  ASSERT_TRUE(Succeeded(piped_read));
  EXPECT_EQ(Lines(piped_read.out).size(), static_cast<size_t>(kEvents));
  // Positions, types, tags and data as from the file (timestamps differ).
  const std::vector<std::string> piped_lines = Lines(piped_read.out);
  for (int i = 0; i < kEvents && i < static_cast<int>(piped_lines.size()); i += 997) {
    const Json a = ParseJson(lines[i]), b = ParseJson(piped_lines[i]);
    EXPECT_EQ(a["position"].AsUint(), b["position"].AsUint());
    EXPECT_TRUE(a["data"] == b["data"]) << piped_lines[i];
    EXPECT_EQ(a["tags"].StringItems(), b["tags"].StringItems());
  }

  const ProcessResult some = Run({"read", "--query", R"({"items": [{"tags": ["k:7"]}]})"});
  ASSERT_TRUE(Succeeded(some));
  EXPECT_EQ(Lines(some.out).size(), static_cast<size_t>(kEvents / 100));
  EXPECT_EQ(Head(), static_cast<uint64_t>(kEvents));
  // A bad last line of the large batch: nothing of it appended.
  const ProcessResult bad = Run({"append"}, input + "{\"type\": \n");
  ASSERT_TRUE(FailedWith(bad, 2, "invalid"));
  EXPECT_EQ(ErrorOf(bad)["line"].AsUint(), static_cast<uint64_t>(kEvents + 1));
  EXPECT_EQ(Head(), static_cast<uint64_t>(kEvents));
}

}  // namespace
}  // namespace opossum
