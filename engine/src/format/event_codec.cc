#include "format/event_codec.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "event_generated.h"
#include "format/checksum.h"
#include "format/json_check.h"

namespace opossum::format {
namespace {

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

const fb::Event* AsEvent(const void* table) { return static_cast<const fb::Event*>(table); }

Status Invalid(size_t index, const std::string& what) {
  return Status::InvalidArgument("event " + std::to_string(index) + ": " + what);
}

bool HasControlChar(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// `v` in quotes for a message: control characters as \xNN, cut after 40
// bytes (the length is named separately).
std::string Quoted(std::string_view v) {
  std::string out = "\"";
  const size_t n = std::min<size_t>(v.size(), 40);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (n < v.size()) out += "...";
  out.push_back('"');
  return out;
}

}  // namespace

std::string TypeProblem(std::string_view type) {
  if (type.empty()) return "type is empty (it must be 1..255 bytes)";
  if (type.size() > kMaxTypeBytes) {
    return "type " + Quoted(type) + " is " + std::to_string(type.size()) +
           " bytes (the limit is 255)";
  }
  if (!IsValidUtf8(type)) return "type " + Quoted(type) + " is not valid UTF-8";
  return {};
}

std::string TagProblem(std::string_view tag) {
  if (tag.empty()) return "a tag is empty (tags must be 1..255 bytes)";
  if (tag.size() > kMaxTagBytes) {
    return "tag " + Quoted(tag) + " is " + std::to_string(tag.size()) + " bytes (the limit is 255)";
  }
  if (!IsValidUtf8(tag)) return "tag " + Quoted(tag) + " is not valid UTF-8";
  if (HasControlChar(tag)) return "tag " + Quoted(tag) + " contains a control character";
  return {};
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Fast path: eight ASCII bytes at a time.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

Status EncodeEvent(const Event& e, uint32_t max_event_size, size_t index, EncodedEvent* out) {
  const uint8_t* bytes = nullptr;
  size_t size = 0;
  out->tag_hashes.clear();
  Status s = EncodeEventInPlace(e, max_event_size, index, &bytes, &size, &out->type_hash,
                                &out->tag_hashes);
  if (!s.ok()) return s;
  out->bytes.Assign(bytes, size);
  out->timestamp_ns = e.timestamp_ns;
  out->id = e.id;
  return Status::Ok();
}

Status EncodeEventInPlace(const Event& e, uint32_t max_event_size, size_t index,
                          const uint8_t** bytes, size_t* size, uint64_t* type_hash,
                          Vec<uint64_t>* tag_hashes) {
  if (e.type.empty() || e.type.size() > kMaxTypeBytes || !IsValidUtf8(e.type)) {
    return Invalid(index, TypeProblem(e.type));
  }
  if (e.data.size() > max_event_size) {
    return Invalid(index, "data is " + std::to_string(e.data.size()) +
                              " bytes (the store's max_event_size is " +
                              std::to_string(max_event_size) + ")");
  }
  if (e.data_is_json) {
    JsonProblem problem;
    if (!CheckJson(e.data, &problem)) {
      return Invalid(index, std::string("data is not JSON, though data_is_json is set: ") +
                                problem.what + " at byte " + std::to_string(problem.offset));
    }
  }
  thread_local std::vector<std::string_view> tags;
  tags.assign(e.tags.begin(), e.tags.end());
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  if (tags.size() > kMaxTags) {
    return Invalid(index, "has " + std::to_string(tags.size()) + " distinct tags (the limit is " +
                              std::to_string(kMaxTags) + ")");
  }
  for (std::string_view t : tags) {
    if (t.empty() || t.size() > kMaxTagBytes || !IsValidUtf8(t) || HasControlChar(t)) {
      return Invalid(index, TagProblem(t));
    }
  }
  for (const auto& [k, v] : e.metadata) {
    if (!IsValidUtf8(k) || !IsValidUtf8(v)) {
      return Invalid(index, "metadata key or value is not valid UTF-8");
    }
  }

  thread_local flatbuffers::FlatBufferBuilder builder(1024);
  builder.Clear();
  auto type_off = builder.CreateString(e.type);
  thread_local std::vector<flatbuffers::Offset<flatbuffers::String>> tag_offs;
  tag_offs.clear();
  for (std::string_view t : tags) tag_offs.push_back(builder.CreateString(t.data(), t.size()));
  auto tags_off = builder.CreateVector(tag_offs);
  auto data_off =
      builder.CreateVector(reinterpret_cast<const uint8_t*>(e.data.data()), e.data.size());
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Meta>>> meta_off;
  if (!e.metadata.empty()) {
    std::vector<flatbuffers::Offset<fb::Meta>> metas;
    metas.reserve(e.metadata.size());
    for (const auto& [k, v] : e.metadata) {
      // In sequence: as arguments of one call their order would be the
      // compiler's (GCC builds the value first, clang the key), and the same
      // event would get other bytes from another build.
      auto key = builder.CreateString(k);
      auto value = builder.CreateString(v);
      metas.push_back(fb::CreateMeta(builder, key, value));
    }
    meta_off = builder.CreateVector(metas);
  }
  fb::Id128 id_struct;
  if (e.id) {
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = (hi << 8) | e.id->bytes[i];
    for (int i = 8; i < 16; ++i) lo = (lo << 8) | e.id->bytes[i];
    id_struct = fb::Id128(hi, lo);
  }
  fb::EventBuilder eb(builder);
  eb.add_type(type_off);
  eb.add_tags(tags_off);
  eb.add_data(data_off);
  if (e.data_is_json) eb.add_data_is_json(true);
  if (e.id) eb.add_id(&id_struct);
  if (!e.metadata.empty()) eb.add_metadata(meta_off);
  builder.Finish(eb.Finish());

  // The data limit is checked above; this bounds what tags and metadata add.
  if (builder.GetSize() > size_t{max_event_size} + (size_t{1} << 20)) {
    return Invalid(index, "encodes to " + std::to_string(builder.GetSize()) +
                              " bytes (the store's max_event_size is " +
                              std::to_string(max_event_size) + ")");
  }
  *bytes = builder.GetBufferPointer();
  *size = builder.GetSize();
  *type_hash = KeyHash(KeyKind::kType, e.type);
  for (std::string_view t : tags) tag_hashes->push_back(KeyHash(KeyKind::kTag, t));
  return Status::Ok();
}

bool VerifyEventBytes(const uint8_t* bytes, size_t size) {
  flatbuffers::Verifier verifier(bytes, size, /*max_depth=*/16, /*max_tables=*/100000);
  return verifier.VerifyBuffer<fb::Event>(nullptr);
}

const void* TableFromBytes(const uint8_t* bytes) { return fb::GetEvent(bytes); }

std::string_view TableType(const void* table) { return View(AsEvent(table)->type()); }

size_t TableTagCount(const void* table) {
  auto* tags = AsEvent(table)->tags();
  return tags == nullptr ? 0 : tags->size();
}

std::string_view TableTag(const void* table, size_t i) {
  return View(AsEvent(table)->tags()->Get(static_cast<flatbuffers::uoffset_t>(i)));
}

bool TableHasTag(const void* table, std::string_view tag) {
  auto* tags = AsEvent(table)->tags();
  if (tags == nullptr) return false;
  // Tags are stored sorted bytewise: binary search.
  size_t lo = 0, hi = tags->size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    std::string_view t = View(tags->Get(static_cast<flatbuffers::uoffset_t>(mid)));
    if (t == tag) return true;
    if (t < tag) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

}  // namespace opossum::format

// ---- The public EventView and Uuid, implemented on the table accessors. ----
namespace opossum {

using format::AsEvent;  // NOLINT

std::string_view EventView::type() const { return format::TableType(table_); }
size_t EventView::tag_count() const { return format::TableTagCount(table_); }
std::string_view EventView::tag(size_t i) const { return format::TableTag(table_, i); }
std::vector<std::string_view> EventView::tags() const {
  std::vector<std::string_view> out;
  size_t n = tag_count();
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(tag(i));
  return out;
}
bool EventView::HasTag(std::string_view t) const { return format::TableHasTag(table_, t); }
std::optional<std::string_view> EventView::TagValue(std::string_view key) const {
  // Tags are sorted bytewise, so those starting "key:" are adjacent and the
  // first of them is the first tag not below "key:".
  std::string prefix;
  prefix.reserve(key.size() + 1);
  prefix.append(key).push_back(':');
  size_t lo = 0, hi = tag_count();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (tag(mid) < prefix) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == tag_count()) return std::nullopt;
  std::string_view t = tag(lo);
  if (!t.starts_with(prefix)) return std::nullopt;
  return t.substr(prefix.size());
}
std::string_view EventView::data() const {
  auto* d = AsEvent(table_)->data();
  if (d == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(d->data()), d->size());
}
bool EventView::data_is_json() const { return AsEvent(table_)->data_is_json(); }
std::optional<Uuid> EventView::id() const {
  const fb::Id128* id = AsEvent(table_)->id();
  if (id == nullptr) return std::nullopt;
  Uuid u;
  uint64_t hi = id->hi(), lo = id->lo();
  for (int i = 7; i >= 0; --i, hi >>= 8) u.bytes[i] = static_cast<uint8_t>(hi & 0xff);
  for (int i = 15; i >= 8; --i, lo >>= 8) u.bytes[i] = static_cast<uint8_t>(lo & 0xff);
  return u;
}
size_t EventView::metadata_count() const {
  auto* m = AsEvent(table_)->metadata();
  return m == nullptr ? 0 : m->size();
}
std::pair<std::string_view, std::string_view> EventView::metadata(size_t i) const {
  const fb::Meta* m = AsEvent(table_)->metadata()->Get(static_cast<flatbuffers::uoffset_t>(i));
  return {format::View(m->key()), format::View(m->value())};
}
Event EventView::ToEvent() const {
  Event e;
  e.type = std::string(type());
  for (size_t i = 0; i < tag_count(); ++i) e.tags.emplace_back(tag(i));
  e.data = std::string(data());
  e.data_is_json = data_is_json();
  e.id = id();
  for (size_t i = 0; i < metadata_count(); ++i) {
    auto [k, v] = metadata(i);
    e.metadata.emplace_back(std::string(k), std::string(v));
  }
  e.timestamp_ns = timestamp_ns_;
  return e;
}

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid u;
  size_t bi = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int h = hex(text[i]), l = hex(text[i + 1]);
    if (h < 0 || l < 0) return std::nullopt;
    u.bytes[bi++] = static_cast<uint8_t>(h * 16 + l);
    i += 2;
  }
  return u;
}

Uuid Uuid::Random() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   (uint64_t{std::random_device{}()} << 32));
  Uuid u;
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i) u.bytes[i] = static_cast<uint8_t>(a >> (8 * i));
  for (int i = 0; i < 8; ++i) u.bytes[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0f) | 0x40);
  u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3f) | 0x80);
  return u;
}

std::string Uuid::ToString() const {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[bytes[i] >> 4]);
    s.push_back(kHex[bytes[i] & 0xf]);
  }
  return s;
}

}  // namespace opossum
