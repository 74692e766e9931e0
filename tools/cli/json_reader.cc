#include "json_reader.h"

#include <simdjson.h>

#include <array>
#include <utility>

#include "json_text.h"
#include "json_writer.h"

namespace opossum::cli {

namespace dom = simdjson::dom;

namespace {

// Empties an event but keeps its buffers, for the next line.
void ResetEvent(Event* e) {
  e->type.clear();
  e->tags.clear();
  e->data.clear();
  e->data_is_json = false;
  e->id.reset();
  e->metadata.clear();
  e->timestamp_ns.reset();
}

std::string Quoted(std::string_view s) {
  std::string q;
  AppendJsonString(&q, s);
  return q;
}

bool StringArray(dom::element el, std::string_view field, std::vector<std::string>* out,
                 std::string* why) {
  dom::array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) {
    *why = "field \"" + std::string(field) + "\" must be an array of strings";
    return false;
  }
  out->resize(arr.size());
  size_t i = 0;
  for (dom::element item : arr) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) {
      *why =
          "field \"" + std::string(field) + "\": element " + std::to_string(i) + " is not a string";
      return false;
    }
    (*out)[i].assign(s);
    ++i;
  }
  return true;
}

bool QueryFrom(dom::element el, std::string_view what, Query* out, std::string* why) {
  dom::object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) {
    *why = std::string(what) + " must be a JSON object like {\"items\": [...]}";
    return false;
  }
  out->items.clear();
  bool seen_items = false;
  for (auto [key, value] : obj) {
    if (key != "items") {
      *why = std::string(what) + ": unknown field " + Quoted(key) + " (expected \"items\")";
      return false;
    }
    if (seen_items) {
      *why = std::string(what) + ": field \"items\" is given twice";
      return false;
    }
    seen_items = true;
    dom::array items;
    if (value.get_array().get(items) != simdjson::SUCCESS) {
      *why = std::string(what) + ": \"items\" must be an array";
      return false;
    }
    size_t i = 0;
    for (dom::element it : items) {
      const std::string where = std::string(what) + " item " + std::to_string(i);
      dom::object io;
      if (it.get_object().get(io) != simdjson::SUCCESS) {
        *why = where + " must be an object with \"types\" and/or \"tags\"";
        return false;
      }
      QueryItem qi;
      bool seen_types = false, seen_tags = false;
      for (auto [k, v] : io) {
        std::string w;
        if ((k == "types" && std::exchange(seen_types, true)) ||
            (k == "tags" && std::exchange(seen_tags, true))) {
          *why = where + ": field " + Quoted(k) + " is given twice";
          return false;
        }
        if (k == "types") {
          if (!StringArray(v, "types", &qi.types, &w)) {
            *why = where + ": " + w;
            return false;
          }
        } else if (k == "tags") {
          if (!StringArray(v, "tags", &qi.tags, &w)) {
            *why = where + ": " + w;
            return false;
          }
        } else {
          *why = where + ": unknown field " + Quoted(k) + " (expected \"types\" or \"tags\")";
          return false;
        }
      }
      if (qi.types.empty() && qi.tags.empty()) {
        *why = where + " names neither types nor tags";
        return false;
      }
      out->items.push_back(std::move(qi));
      ++i;
    }
  }
  return true;
}

bool ParseDocument(dom::parser& parser, std::string_view json, bool padded, dom::element* out,
                   std::string* why) {
  auto r = parser.parse(json.data(), json.size(), !padded);
  if (r.error() != simdjson::SUCCESS) {
    *why = DescribeJsonError(json, kMaxJsonDepth, simdjson::error_message(r.error()));
    return false;
  }
  *out = r.value_unsafe();
  return true;
}

}  // namespace

struct EventParser::Impl {
  dom::parser dom;
  std::string compact;  // the line compacted, for the data's text
  std::vector<std::pair<size_t, size_t>> member_spans;
  simdjson::ondemand::parser ondemand;
  std::string padded;  // a copy of a line that has no padding after it
  Impl() {
    [[maybe_unused]] auto a = dom.allocate(1 << 16, kMaxJsonDepth + 1);
    [[maybe_unused]] auto b = ondemand.allocate(1 << 16, kMaxJsonDepth + 1);
  }
};

EventParser::EventParser() : impl_(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;

namespace {

namespace od = simdjson::ondemand;

// The rules of the event's fields, shared by both parsers: each finds a
// field's value its own way and hands it here (a string value as nullopt
// when it is not a string). Every setter returns false with *why set.
class EventFields {
 public:
  enum Field { kType, kTags, kData, kDataBase64, kId, kMetadata, kTimestamp, kPosition };

  EventFields(Event* out, uint64_t* position, std::string* why)
      : out_(out), position_(position), why_(why) {
    ResetEvent(out);
    if (position != nullptr) *position = 0;
  }

  // Which field `key` names; unknown and repeated fields are errors.
  bool Begin(std::string_view key, Field* field) {
    static constexpr std::string_view kNames[] = {"type", "tags",     "data",      "data_base64",
                                                  "id",   "metadata", "timestamp", "position"};
    for (int f = 0; f <= kPosition; ++f) {
      if (key != kNames[f] || (f == kPosition && position_ == nullptr)) continue;
      if (seen_ & (1u << f)) return Fail("field " + Quoted(key) + " is given twice");
      seen_ |= 1u << f;
      *field = static_cast<Field>(f);
      return true;
    }
    return Fail("unknown field " + Quoted(key) +
                " (expected type, tags, data, data_base64, id, metadata, timestamp)");
  }
  bool Type(std::optional<std::string_view> s) {
    if (!s) return Fail("field \"type\" must be a string");
    out_->type.assign(*s);
    return true;
  }
  bool TagsNotArray() { return Fail("field \"tags\" must be an array of strings"); }
  bool TagNotString(size_t i) {
    return Fail("field \"tags\": element " + std::to_string(i) + " is not a string");
  }
  // Adds the next element of "tags", as given: repeats too (the engine drops
  // them, so any number of copies of a tag is allowed). The first distinct
  // value beyond kMaxEventTags (the engine's limit) is refused at once, so
  // that a line with a million tags costs no million strings. The first
  // kMaxEventTags tags cannot break the limit and are not compared; each
  // later one is compared with the distinct ones so far (at most
  // kMaxEventTags).
  bool Tag(std::string_view t) {
    std::vector<std::string>& tags = out_->tags;
    if (tags.size() >= kMaxEventTags) {
      if (distinct_count_ == 0) {
        // The first kMaxEventTags tags, counted once.
        for (size_t i = 0; i < tags.size(); ++i) {
          if (!IsDistinctTag(tags[i])) continue;
          distinct_[distinct_count_++] = i;
        }
      }
      if (IsDistinctTag(t)) {
        if (distinct_count_ == kMaxEventTags) {
          return Fail("field \"tags\": more than " + std::to_string(kMaxEventTags) +
                      " distinct tags (the limit is " + std::to_string(kMaxEventTags) +
                      "; element " + std::to_string(tags.size()) + " is the first over it)");
        }
        distinct_[distinct_count_++] = tags.size();
      }
    }
    tags.emplace_back(t);
    return true;
  }
  void Data() { out_->data_is_json = true; }
  bool DataBase64(std::optional<std::string_view> s) {
    if (!s || !DecodeBase64(*s, &out_->data)) {
      return Fail("field \"data_base64\" must be a string of standard base64");
    }
    out_->data_is_json = false;
    return true;
  }
  bool Id(std::optional<std::string_view> s) {
    if (!s || !(out_->id = Uuid::Parse(*s))) {
      return Fail("field \"id\" must be a UUID string like \"0b5e6f1c-...\"");
    }
    return true;
  }
  bool MetadataNotObject() { return Fail("field \"metadata\" must be an object of strings"); }
  bool Metadata(std::string_view key, std::optional<std::string_view> value) {
    if (!value) return Fail("field \"metadata\": the value of " + Quoted(key) + " is not a string");
    out_->metadata.emplace_back(std::string(key), std::string(*value));
    return true;
  }
  bool Timestamp(std::optional<std::string_view> s) {
    if (!s || !(out_->timestamp_ns = ParseTimestamp(*s))) {
      return Fail("field \"timestamp\" must be an RFC 3339 string like \"2026-11-26T14:00:00Z\"");
    }
    return true;
  }
  bool Position(std::optional<uint64_t> p) {
    if (!p || *p == 0) return Fail("field \"position\" must be a positive integer");
    *position_ = *p;
    return true;
  }
  // The rules between fields.
  bool Finish() {
    if ((seen_ & (1u << kType)) == 0) return Fail("field \"type\" is required");
    if ((seen_ & (1u << kData)) && (seen_ & (1u << kDataBase64))) {
      return Fail("give either \"data\" or \"data_base64\", not both");
    }
    return true;
  }
  bool Fail(std::string why) {
    *why_ = std::move(why);
    return false;
  }

 private:
  // `t` is none of the distinct tags counted so far.
  bool IsDistinctTag(std::string_view t) const {
    for (size_t k = 0; k < distinct_count_; ++k) {
      if (out_->tags[distinct_[k]] == t) return false;
    }
    return true;
  }

  Event* out_;
  uint64_t* position_;
  std::string* why_;
  uint32_t seen_ = 0;
  // Once there are more than kMaxEventTags tags: the index in out_->tags of
  // the first copy of each distinct tag.
  std::array<size_t, kMaxEventTags> distinct_;
  size_t distinct_count_ = 0;
};

template <typename Result>
std::optional<std::string_view> StringOf(Result&& r) {
  std::string_view s;
  if (std::forward<Result>(r).get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

// The text of an on-demand value as written (object, array or scalar).
simdjson::error_code RawValue(od::value& v, std::string_view* raw) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type == od::json_type::object) {
    od::object o;
    if (auto e = v.get_object().get(o)) return e;
    return o.raw_json().get(*raw);
  }
  if (type == od::json_type::array) {
    od::array a;
    if (auto e = v.get_array().get(a)) return e;
    return a.raw_json().get(*raw);
  }
  *raw = v.raw_json_token();
  return simdjson::SUCCESS;
}

}  // namespace

bool EventParser::Malformed(std::string_view line, std::string_view parser_message,
                            std::string* why) {
  size_t offset = 0;
  std::string what;
  if (FindJsonError(line, kMaxJsonDepth, &offset, &what)) {
    uint64_t line_no = 0;
    LineAndColumn(line, offset, &line_no, &error_column_);
    *why = "malformed JSON: " + what;
  } else {
    *why = "malformed JSON: " + std::string(parser_message);
  }
  return false;
}

bool EventParser::Parse(std::string_view line, bool padded, Event* out, uint64_t* position,
                        std::string* why) {
  error_column_ = 0;
  auto parsed = impl_->dom.parse(line.data(), line.size(), !padded);
  if (parsed.error() == simdjson::NUMBER_ERROR || parsed.error() == simdjson::NUMBER_OUT_OF_RANGE) {
    // A number beyond what the parser represents (valid JSON all the same):
    // the slower parser that keeps numbers as text.
    // It reads lazily: a value of the wrong type may hide a syntax error
    // behind it, which is the one to report.
    if (ParseKeepingNumbers(line, padded, out, position, why)) return true;
    size_t offset = 0;
    std::string what;
    if (error_column_ == 0 && FindJsonError(line, kMaxJsonDepth, &offset, &what)) {
      return Malformed(line, what, why);
    }
    return false;
  }
  EventFields fields(out, position, why);
  if (parsed.error() != simdjson::SUCCESS) {
    return Malformed(line, simdjson::error_message(parsed.error()), why);
  }
  dom::object obj;
  if (parsed.value_unsafe().get_object().get(obj) != simdjson::SUCCESS) {
    return fields.Fail("an event must be a JSON object");
  }
  impl_->member_spans.clear();
  size_t index = 0;
  for (auto [key, value] : obj) {
    EventFields::Field f;
    if (!fields.Begin(key, &f)) return false;
    bool ok = true;
    switch (f) {
      case EventFields::kType:
        ok = fields.Type(StringOf(value.get_string()));
        break;
      case EventFields::kTags: {
        dom::array arr;
        if (value.get_array().get(arr) != simdjson::SUCCESS) return fields.TagsNotArray();
        size_t i = 0;
        for (dom::element item : arr) {
          auto t = StringOf(item.get_string());
          if (!t) return fields.TagNotString(i);
          if (!fields.Tag(*t)) return false;
          ++i;
        }
        break;
      }
      case EventFields::kData: {
        // The data's own text, compacted: numbers stay exactly as written.
        auto& spans = impl_->member_spans;
        if (spans.empty()) {
          impl_->compact.clear();
          std::string problem;
          if (!CompactJson(line, kMaxJsonDepth, &impl_->compact, &problem, &spans)) {
            return Malformed(line, problem, why);
          }
        }
        if (index >= spans.size()) return fields.Fail("malformed JSON: members not found");
        out->data.assign(impl_->compact, spans[index].first,
                         spans[index].second - spans[index].first);
        fields.Data();
        break;
      }
      case EventFields::kDataBase64:
        ok = fields.DataBase64(StringOf(value.get_string()));
        break;
      case EventFields::kId:
        ok = fields.Id(StringOf(value.get_string()));
        break;
      case EventFields::kMetadata: {
        dom::object md;
        if (value.get_object().get(md) != simdjson::SUCCESS) return fields.MetadataNotObject();
        for (auto [mk, mv] : md) {
          if (!fields.Metadata(mk, StringOf(mv.get_string()))) return false;
        }
        break;
      }
      case EventFields::kTimestamp:
        ok = fields.Timestamp(StringOf(value.get_string()));
        break;
      case EventFields::kPosition: {
        uint64_t p = 0;
        ok = fields.Position(value.get_uint64().get(p) == simdjson::SUCCESS ? std::optional(p)
                                                                            : std::nullopt);
        break;
      }
    }
    if (!ok) return false;
    ++index;
  }
  return fields.Finish();
}

bool EventParser::ParseKeepingNumbers(std::string_view line, bool padded, Event* out,
                                      uint64_t* position, std::string* why) {
  EventFields fields(out, position, why);
  simdjson::padded_string_view view;
  if (padded) {
    view = simdjson::padded_string_view(line.data(), line.size(),
                                        line.size() + simdjson::SIMDJSON_PADDING);
  } else {
    impl_->padded.assign(line);
    impl_->padded.resize(line.size() + simdjson::SIMDJSON_PADDING, ' ');
    view = simdjson::padded_string_view(impl_->padded.data(), line.size(), impl_->padded.size());
  }
  auto malformed = [&](simdjson::error_code e) {
    return Malformed(line, simdjson::error_message(e), why);
  };
  od::document doc;
  if (auto e = impl_->ondemand.iterate(view).get(doc)) return malformed(e);
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    return e == simdjson::INCORRECT_TYPE ? fields.Fail("an event must be a JSON object")
                                         : malformed(e);
  }
  // A value that is not of the expected type is the field's error; any other
  // failure is malformed JSON.
  simdjson::error_code err = simdjson::SUCCESS;
  auto string_of = [&err](od::value& v) -> std::optional<std::string_view> {
    std::string_view s;
    simdjson::error_code e = v.get_string().get(s);
    if (e == simdjson::SUCCESS) return s;
    if (e != simdjson::INCORRECT_TYPE) err = e;
    return std::nullopt;
  };
  for (auto field_result : obj) {
    std::string_view key;
    if (auto e = field_result.error()) return malformed(e);
    od::field field = field_result.value_unsafe();
    if (auto e = field.unescaped_key().get(key)) return malformed(e);
    const std::string key_text(key);  // the parser's buffer is reused below
    od::value value = field.value();
    EventFields::Field f;
    if (!fields.Begin(key_text, &f)) return false;
    bool ok = true;
    switch (f) {
      case EventFields::kType:
        ok = fields.Type(string_of(value));
        break;
      case EventFields::kTags: {
        od::array arr;
        if ((err = value.get_array().get(arr)) == simdjson::INCORRECT_TYPE)
          return fields.TagsNotArray();
        if (err != simdjson::SUCCESS) break;
        size_t i = 0;
        for (auto item : arr) {
          od::value v;
          if ((err = item.get(v)) != simdjson::SUCCESS) break;
          auto t = string_of(v);
          if (!t) {
            if (err != simdjson::SUCCESS) break;
            return fields.TagNotString(i);
          }
          if (!fields.Tag(*t)) return false;
          ++i;
        }
        break;
      }
      case EventFields::kData: {
        std::string_view raw;
        if ((err = RawValue(value, &raw)) != simdjson::SUCCESS) break;
        std::string problem;
        if (!CompactJson(raw, kMaxJsonDepth - 1, &out->data, &problem)) {
          return fields.Fail("field \"data\": " + problem);
        }
        fields.Data();
        break;
      }
      case EventFields::kDataBase64:
        ok = fields.DataBase64(string_of(value));
        break;
      case EventFields::kId:
        ok = fields.Id(string_of(value));
        break;
      case EventFields::kMetadata: {
        od::object md;
        if ((err = value.get_object().get(md)) == simdjson::INCORRECT_TYPE) {
          return fields.MetadataNotObject();
        }
        if (err != simdjson::SUCCESS) break;
        for (auto mf_result : md) {
          std::string_view mk;
          if ((err = mf_result.error()) != simdjson::SUCCESS) break;
          od::field mf = mf_result.value_unsafe();
          if ((err = mf.unescaped_key().get(mk)) != simdjson::SUCCESS) break;
          const std::string k(mk);
          od::value mv = mf.value();
          auto v = string_of(mv);
          if (err != simdjson::SUCCESS) break;
          if (!fields.Metadata(k, v)) return false;
        }
        break;
      }
      case EventFields::kTimestamp:
        ok = fields.Timestamp(string_of(value));
        break;
      case EventFields::kPosition: {
        uint64_t p = 0;
        ok = fields.Position(value.get_uint64().get(p) == simdjson::SUCCESS ? std::optional(p)
                                                                            : std::nullopt);
        break;
      }
    }
    if (err != simdjson::SUCCESS) return malformed(err);
    if (!ok) return false;
  }
  // Nothing but whitespace may follow the object.
  const char* at = nullptr;
  if (doc.current_location().get(at) == simdjson::SUCCESS) {
    return Malformed(line, "text after the event's object", why);
  }
  return fields.Finish();
}

bool ParseQuery(std::string_view json, Query* out, std::string* why) {
  dom::parser parser;
  [[maybe_unused]] auto alloc_err = parser.allocate(json.size() + 64, kMaxJsonDepth + 1);
  dom::element doc;
  if (!ParseDocument(parser, json, false, &doc, why)) {
    *why = "query: " + *why;
    return false;
  }
  return QueryFrom(doc, "query", out, why);
}

bool ParseCondition(std::string_view json, AppendCondition* out, std::string* why) {
  dom::parser parser;
  [[maybe_unused]] auto alloc_err = parser.allocate(json.size() + 64, kMaxJsonDepth + 1);
  dom::element doc;
  if (!ParseDocument(parser, json, false, &doc, why)) {
    *why = "condition: " + *why;
    return false;
  }
  dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    *why = "condition must be a JSON object like {\"fail_if_events_match\": {...}, \"after\": N}";
    return false;
  }
  *out = AppendCondition{};
  bool have_query = false;
  for (auto [key, value] : obj) {
    if ((key == "fail_if_events_match" && have_query) || (key == "after" && out->after)) {
      *why = "condition: field " + Quoted(key) + " is given twice";
      return false;
    }
    if (key == "fail_if_events_match") {
      if (!QueryFrom(value, "condition query", &out->fail_if_events_match, why)) return false;
      have_query = true;
    } else if (key == "after") {
      uint64_t after = 0;
      if (value.get_uint64().get(after) != simdjson::SUCCESS) {
        *why = "condition: \"after\" must be a non-negative integer position";
        return false;
      }
      out->after = after;
    } else {
      *why = "condition: unknown field " + Quoted(key) +
             " (expected \"fail_if_events_match\" and \"after\")";
      return false;
    }
  }
  if (!have_query) {
    *why = "condition: field \"fail_if_events_match\" is required";
    return false;
  }
  return true;
}

}  // namespace opossum::cli
