// Fuzz target: the event record codec (format/event_codec.*, the record
// framing of format/batch.*).
//
// Byte 0, bit 0 chooses the direction:
//   0  decode: the rest is a record's FlatBuffers bytes (as a damaged
//      segment holds them). VerifyEventBytes must never read out of bounds;
//      when it accepts them, every accessor must stay inside the bytes, and
//      the event they give, if it is within the limits, encodes and decodes
//      back to itself. Framed as a record (header, checksum, padding),
//      CheckRecord must accept it for its position and refuse it for any
//      other position and when the map ends inside it.
//   1  encode: the rest decodes into an Event (type, tags, data, metadata,
//      id). EncodeEvent must accept it exactly when the limits of
//      docs/semantics.md ("Limits"), checked here again with an independent
//      UTF-8 check, allow it, and the bytes must verify and decode to the
//      same event (tags sorted and distinct).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "format/batch.h"
#include "format/checksum.h"
#include "format/event_codec.h"
#include "format/json_check.h"
#include "fuzz_util.h"
#include "store/event_view_access.h"

namespace {

using namespace opossum;
using namespace opossum::fuzz;

constexpr uint32_t kMaxEventSize = 4096;

// Strict UTF-8 (RFC 3629), written independently of the engine's.
bool Utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < n) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

bool WithinLimits(const Event& e) {
  if (e.type.empty() || e.type.size() > 255 || !Utf8(e.type)) return false;
  if (e.data.size() > kMaxEventSize) return false;
  std::set<std::string> tags(e.tags.begin(), e.tags.end());
  if (tags.size() > 64) return false;
  for (const std::string& t : tags) {
    if (t.empty() || t.size() > 255 || !Utf8(t)) return false;
    for (unsigned char c : t) {
      if (c < 0x20 || c == 0x7f) return false;
    }
  }
  for (const auto& [k, v] : e.metadata) {
    if (!Utf8(k) || !Utf8(v)) return false;
  }
  // JSON data must be JSON: the engine's check is the model here (the JSON
  // fuzz target and tests/unit/json_check_test.cc hold it to simdjson and to the
  // command line's parser).
  if (e.data_is_json && !format::CheckJson(e.data)) return false;
  return true;
}

// Encodes, checks the outcome against the limits, and on success decodes.
void RoundTrip(const Event& e, const char* what) {
  format::EncodedEvent enc;
  Status s = format::EncodeEvent(e, kMaxEventSize, 0, &enc);
  const bool valid = WithinLimits(e);
  Check(s.ok() == valid, std::string(what) + ": EncodeEvent says " + s.ToString() +
                             ", the limits say " + (valid ? "valid" : "invalid"));
  if (!s.ok()) {
    Check(s.IsInvalidArgument(), std::string(what) + ": " + s.ToString());
    return;
  }
  std::vector<uint64_t> aligned((enc.bytes.size() + 7) / 8 + 1);
  std::memcpy(aligned.data(), enc.bytes.data(), enc.bytes.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(aligned.data());
  Check(format::VerifyEventBytes(bytes, enc.bytes.size()),
        std::string(what) + ": encoded bytes do not verify");
  EventView view = internal::EventViewAccess::Make(1, 0, format::TableFromBytes(bytes));
  Check(ModelEvent::From(view) == ModelEvent::From(e),
        std::string(what) + ": decoded event differs from the encoded one");
  for (const std::string& t : e.tags) Check(view.HasTag(t), "HasTag misses " + t);
  Check(!view.HasTag(std::string(256, 'x')), "HasTag finds a tag no event can hold");
}

void Decode(const uint8_t* data, size_t size) {
  // Exactly `size` bytes on the heap, 8-aligned as in a segment map: a read
  // past them is an ASan report.
  std::unique_ptr<uint64_t[]> aligned(new uint64_t[(size + 7) / 8 + 1]);
  auto* bytes = reinterpret_cast<uint8_t*>(aligned.get());
  std::memcpy(bytes, data, size);
  if (format::VerifyEventBytes(bytes, size)) {
    EventView view = internal::EventViewAccess::Make(5, 0, format::TableFromBytes(bytes));
    TouchEvent(view);
    Event e = view.ToEvent();
    e.timestamp_ns.reset();
    for (const std::string& t : e.tags) view.HasTag(t);
    if (WithinLimits(e)) RoundTrip(e, "decoded");
  }
  if (size == 0 || size > (1u << 20)) return;
  // Framed as a record at position 7.
  const uint64_t total = format::Align8(format::kRecordHeaderSize + size);
  std::vector<uint64_t> rec(total / 8, 0);
  auto* r = reinterpret_cast<uint8_t*>(rec.data());
  format::RecordHeader rh{static_cast<uint32_t>(size), 0, 7, 123};
  std::memcpy(r, &rh, sizeof rh);
  std::memcpy(r + format::kRecordHeaderSize, data, size);
  rh.checksum = format::RecordChecksum(r, static_cast<uint32_t>(size));
  std::memcpy(r, &rh, sizeof rh);
  const format::RecordHeader* got = nullptr;
  std::string why;
  Check(format::CheckRecord(r, total, 0, 7, &got, &why) && got == reinterpret_cast<void*>(r),
        "CheckRecord refuses a well-framed record: " + why);
  Check(!format::CheckRecord(r, total, 0, 8, &got, &why), "CheckRecord takes the wrong position");
  Check(!format::CheckRecord(r, format::kRecordHeaderSize + size - 1, 0, 7, &got, &why),
        "CheckRecord takes a record the map cuts short");
  r[format::kRecordHeaderSize + (data[0] % size)] ^= 0x20;
  Check(!format::CheckRecord(r, total, 0, 7, &got, &why), "CheckRecord misses a flipped bit");
}

std::string Text(ByteReader& in) {
  size_t n = in.Byte();
  if (n >= 250) n = in.U16() % 700;  // now and then beyond the limits
  return in.Bytes(n);
}

void Encode(ByteReader& in) {
  Event e;
  e.type = Text(in);
  size_t tags = in.Byte();
  if (tags > 80) tags %= 8;
  for (size_t i = 0; i < tags && !in.empty(); ++i) {
    uint8_t how = in.Byte();
    if ((how & 3) == 0 && !e.tags.empty()) {
      e.tags.push_back(e.tags[how % e.tags.size()]);  // a duplicate
    } else if ((how & 3) == 1) {
      e.tags.push_back("k:" + std::to_string(how));  // many distinct ones
    } else {
      e.tags.push_back(Text(in));
    }
  }
  uint8_t flags = in.Byte();
  if (flags & 1) e.data = (flags & 2) ? std::string(in.U16() % 5000, 'd') : Text(in);
  e.data_is_json = (flags & 4) != 0;
  // Mostly real JSON when flagged so (a quoted string of the text), now and
  // then the raw text, which must be refused unless it is JSON itself.
  if (e.data_is_json && (flags & 1) && !(flags & 2)) e.data = "[\"" + e.data + "\"]";
  if (flags & 8) {
    Uuid u;
    for (auto& b : u.bytes) b = in.Byte();
    e.id = u;
  }
  size_t metas = (flags >> 4) % 4;
  for (size_t i = 0; i < metas; ++i) {
    std::string k = Text(in);
    e.metadata.emplace_back(k, Text(in));
  }
  RoundTrip(e, "generated");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    Decode(data + 1, size - 1);
  } else {
    ByteReader in(data + 1, size - 1);
    Encode(in);
  }
  return 0;
}
