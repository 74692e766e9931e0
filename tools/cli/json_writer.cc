#include "json_writer.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>

namespace opossum::cli {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

constexpr char kHex[] = "0123456789abcdef";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n != 0) {
        i += n;
        continue;
      }
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out->append(esc, sizeof(esc));
        } else {
          out->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not UTF-8
        }
    }
    ++i;
    run = i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendUint(std::string* out, uint64_t v) {
  char buf[20];
  char* p = buf + sizeof(buf);
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out->append(p, static_cast<size_t>(buf + sizeof(buf) - p));
}

void AppendBase64(std::string* out, std::string_view bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  const size_t start = out->size();
  out->resize(start + (n + 2) / 3 * 4);
  char* o = out->data() + start;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    *o++ = kB64[v >> 18];
    *o++ = kB64[(v >> 12) & 63];
    *o++ = kB64[(v >> 6) & 63];
    *o++ = kB64[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t{b[i]} << 16;
    if (i + 1 < n) v |= uint32_t{b[i + 1]} << 8;
    *o++ = kB64[v >> 18];
    *o++ = kB64[(v >> 12) & 63];
    *o++ = i + 1 < n ? kB64[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

bool DecodeBase64(std::string_view text, std::string* out) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = static_cast<int8_t>(i);
    return t;
  }();
  out->clear();
  if (text.size() % 4 != 0) return false;
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad != 0) return false;  // data after '='
      v[k] = table[c];
      if (v[k] < 0) return false;
    }
    const uint32_t w =
        (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out->push_back(static_cast<char>(w >> 16));
    if (pad < 2) out->push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

void AppendTimestamp(std::string* out, int64_t ns) {
  using namespace std::chrono;
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const sys_days day = floor<days>(sys_seconds{seconds{secs}});
  const year_month_day ymd{day};
  const int64_t sod = secs - duration_cast<seconds>(day.time_since_epoch()).count();
  const int y = int(ymd.year());
  if (y < 0 || y > 9999) {  // outside RFC 3339: still valid JSON, plainly out of range
    char buf[64];
    int n = std::snprintf(buf, sizeof(buf), "%+d-%02u-%02uT%02d:%02d:%02d.%09dZ", y,
                          unsigned(ymd.month()), unsigned(ymd.day()), int(sod / 3600),
                          int(sod / 60 % 60), int(sod % 60), int(frac));
    out->append(buf, static_cast<size_t>(n));
    return;
  }
  char b[30];
  auto put = [&b](int at, int64_t v, int width) {
    for (int k = width - 1; k >= 0; --k) {
      b[at + k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, y, 4);
  b[4] = '-';
  put(5, unsigned(ymd.month()), 2);
  b[7] = '-';
  put(8, unsigned(ymd.day()), 2);
  b[10] = 'T';
  put(11, sod / 3600, 2);
  b[13] = ':';
  put(14, sod / 60 % 60, 2);
  b[16] = ':';
  put(17, sod % 60, 2);
  b[19] = '.';
  put(20, frac, 9);
  b[29] = 'Z';
  out->append(b, sizeof(b));
}

std::optional<int64_t> ParseTimestamp(std::string_view t) {
  using namespace std::chrono;
  auto digits = [&](size_t at, size_t count, int* v) {
    if (at + count > t.size()) return false;
    int r = 0;
    for (size_t k = 0; k < count; ++k) {
      const char c = t[at + k];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    *v = r;
    return true;
  };
  int Y, M, D, h, m, s;
  if (!digits(0, 4, &Y) || t.size() < 19 || t[4] != '-' || !digits(5, 2, &M) || t[7] != '-' ||
      !digits(8, 2, &D) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, &h) ||
      t[13] != ':' || !digits(14, 2, &m) || t[16] != ':' || !digits(17, 2, &s)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{Y}, month{unsigned(M)}, day{unsigned(D)}};
  if (!ymd.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  if (s == 60) s = 59;  // a leap second: the clock the store keeps has none
  size_t i = 19;
  int64_t frac = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t nd = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (nd < 9) {
        frac = frac * 10 + (t[i] - '0');
        ++nd;
      }
      ++i;
    }
    if (nd == 0) return std::nullopt;
    for (; nd < 9; ++nd) frac *= 10;
  }
  int64_t offset_s = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int oh, om;
    if (!digits(i + 1, 2, &oh) || i + 3 >= t.size() || t[i + 3] != ':' || !digits(i + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (t[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  const int64_t days_since = sys_days{ymd}.time_since_epoch().count();
  const int64_t secs = days_since * 86400 + h * 3600 + m * 60 + s - offset_s;
  // Within int64 nanoseconds (1677-09-21T00:12:43.145224192Z to
  // 2262-04-11T23:47:16.854775807Z).
  constexpr int64_t kMaxSecs = std::numeric_limits<int64_t>::max() / 1'000'000'000;      // ...036
  constexpr int64_t kMinSecs = std::numeric_limits<int64_t>::min() / 1'000'000'000 - 1;  // ...037
  if (secs > kMaxSecs || secs < kMinSecs) return std::nullopt;
  if (secs == kMaxSecs && frac > std::numeric_limits<int64_t>::max() % 1'000'000'000) {
    return std::nullopt;
  }
  if (secs == kMinSecs &&
      frac < 1'000'000'000 + std::numeric_limits<int64_t>::min() % 1'000'000'000) {
    return std::nullopt;
  }
  // Negative seconds in two steps, so that the product never leaves int64.
  return secs < 0 ? (secs + 1) * 1'000'000'000 + (frac - 1'000'000'000)
                  : secs * 1'000'000'000 + frac;
}

}  // namespace opossum::cli
