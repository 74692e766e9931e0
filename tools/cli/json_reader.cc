#include "json_reader.h"

#include <simdjson.h>

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
  // Reuses the strings already there (an event object is reused per line).
  out->resize(arr.size());
  size_t i = 0;
  for (dom::element item : arr) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) {
      *why = "field \"" + std::string(field) + "\": element " + std::to_string(i) +
             " is not a string";
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
  for (auto [key, value] : obj) {
    if (key != "items") {
      *why = std::string(what) + ": unknown field " + Quoted(key) + " (expected \"items\")";
      return false;
    }
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
      for (auto [k, v] : io) {
        std::string w;
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
    *why = std::string("malformed JSON: ") + simdjson::error_message(r.error());
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
  simdjson::ondemand::parser parser;
  std::string padded;  // a copy of a line that has no padding after it
  std::string text;    // scratch
  Impl() {
    [[maybe_unused]] auto a = dom.allocate(1 << 16, kMaxJsonDepth);
    [[maybe_unused]] auto b = parser.allocate(1 << 16, kMaxJsonDepth);
  }
};

EventParser::EventParser() : impl_(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;

namespace {

namespace od = simdjson::ondemand;

std::string Malformed(simdjson::error_code e) {
  return std::string("malformed JSON: ") + simdjson::error_message(e);
}

// The text of a value as written (object, array or scalar), and the value
// consumed.
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

bool StringArrayOd(od::value& v, std::string_view field, std::vector<std::string>* out,
                   std::string* why) {
  od::array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) {
    *why = "field \"" + std::string(field) + "\" must be an array of strings";
    return false;
  }
  out->clear();
  size_t i = 0;
  for (auto item : arr) {
    std::string_view s;
    if (auto e = item.get_string().get(s)) {
      *why = e == simdjson::INCORRECT_TYPE
                 ? "field \"" + std::string(field) + "\": element " + std::to_string(i) +
                       " is not a string"
                 : Malformed(e);
      return false;
    }
    out->emplace_back(s);
    ++i;
  }
  return true;
}

}  // namespace

bool EventParser::ParseKeepingNumbers(std::string_view line, bool padded, Event* out,
                                      uint64_t* position, std::string* why) {
  simdjson::padded_string_view view;
  if (padded) {
    view = simdjson::padded_string_view(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING);
  } else {
    impl_->padded.assign(line);
    impl_->padded.resize(line.size() + simdjson::SIMDJSON_PADDING, ' ');
    view = simdjson::padded_string_view(impl_->padded.data(), line.size(), impl_->padded.size());
  }
  od::document doc;
  if (auto e = impl_->parser.iterate(view).get(doc)) {
    *why = Malformed(e);
    return false;
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    *why = e == simdjson::INCORRECT_TYPE ? "an event must be a JSON object" : Malformed(e);
    return false;
  }
  ResetEvent(out);
  bool have_type = false, have_data = false, have_b64 = false;
  uint32_t seen = 0;
  for (auto field_result : obj) {
    std::string_view key;
    if (auto e = field_result.error()) {
      *why = Malformed(e);
      return false;
    }
    od::field field = field_result.value_unsafe();
    if (auto e = field.unescaped_key().get(key)) {
      *why = Malformed(e);
      return false;
    }
    const std::string key_text(key);  // the parser's buffer is reused below
    od::value value = field.value();
    uint32_t bit = 0;
    std::string_view s;
    simdjson::error_code err = simdjson::SUCCESS;
    if (key_text == "type") {
      bit = 1;
      if ((err = value.get_string().get(s)) == simdjson::SUCCESS) {
        out->type.assign(s);
        have_type = true;
      } else if (err == simdjson::INCORRECT_TYPE) {
        *why = "field \"type\" must be a string";
        return false;
      }
    } else if (key_text == "tags") {
      bit = 2;
      if (!StringArrayOd(value, "tags", &out->tags, why)) return false;
    } else if (key_text == "data") {
      bit = 4;
      std::string_view raw;
      if ((err = RawValue(value, &raw)) == simdjson::SUCCESS) {
        std::string problem;
        if (!CompactJson(raw, kMaxJsonDepth - 1, &out->data, &problem)) {
          *why = "field \"data\": " + problem;
          return false;
        }
        out->data_is_json = true;
        have_data = true;
      }
    } else if (key_text == "data_base64") {
      bit = 8;
      if ((err = value.get_string().get(s)) == simdjson::SUCCESS || err == simdjson::INCORRECT_TYPE) {
        if (err != simdjson::SUCCESS || !DecodeBase64(s, &out->data)) {
          *why = "field \"data_base64\" must be a string of standard base64";
          return false;
        }
        out->data_is_json = false;
        have_b64 = true;
      }
    } else if (key_text == "id") {
      bit = 16;
      if ((err = value.get_string().get(s)) == simdjson::SUCCESS || err == simdjson::INCORRECT_TYPE) {
        std::optional<Uuid> id;
        if (err != simdjson::SUCCESS || !(id = Uuid::Parse(s))) {
          *why = "field \"id\" must be a UUID string like \"0b5e6f1c-...\"";
          return false;
        }
        out->id = id;
      }
    } else if (key_text == "metadata") {
      bit = 32;
      od::object md;
      if ((err = value.get_object().get(md)) == simdjson::INCORRECT_TYPE) {
        *why = "field \"metadata\" must be an object of strings";
        return false;
      }
      if (err == simdjson::SUCCESS) {
        for (auto mf_result : md) {
          std::string_view mk;
          if ((err = mf_result.error())) break;
          od::field mf = mf_result.value_unsafe();
          if ((err = mf.unescaped_key().get(mk))) break;
          std::string k(mk);
          if ((err = mf.value().get_string().get(s)) != simdjson::SUCCESS) {
            if (err == simdjson::INCORRECT_TYPE) {
              *why = "field \"metadata\": the value of " + Quoted(k) + " is not a string";
              return false;
            }
            break;
          }
          out->metadata.emplace_back(std::move(k), std::string(s));
        }
      }
    } else if (key_text == "timestamp") {
      bit = 64;
      if ((err = value.get_string().get(s)) == simdjson::SUCCESS || err == simdjson::INCORRECT_TYPE) {
        std::optional<int64_t> ts;
        if (err != simdjson::SUCCESS || !(ts = ParseTimestamp(s))) {
          *why = "field \"timestamp\" must be an RFC 3339 string like \"2026-11-26T14:00:00Z\"";
          return false;
        }
        out->timestamp_ns = ts;
      }
    } else if (key_text == "position" && position != nullptr) {
      bit = 128;
      if ((err = value.get_uint64().get(*position)) != simdjson::SUCCESS || *position == 0) {
        *why = "field \"position\" must be a positive integer";
        return false;
      }
    } else {
      *why = "unknown field " + Quoted(key_text) +
             " (expected type, tags, data, data_base64, id, metadata, timestamp)";
      return false;
    }
    if (err != simdjson::SUCCESS) {
      *why = Malformed(err);
      return false;
    }
    if (seen & bit) {
      *why = "field " + Quoted(key_text) + " is given twice";
      return false;
    }
    seen |= bit;
  }
  // Nothing but whitespace may follow the object.
  const char* at = nullptr;
  if (doc.current_location().get(at) == simdjson::SUCCESS) {
    *why = "malformed JSON: text after the event's object";
    return false;
  }
  if (!have_type) {
    *why = "field \"type\" is required";
    return false;
  }
  if (have_data && have_b64) {
    *why = "give either \"data\" or \"data_base64\", not both";
    return false;
  }
  return true;
}

bool EventParser::Parse(std::string_view line, bool padded, Event* out, uint64_t* position,
                        std::string* why) {
  if (position != nullptr) *position = 0;
  auto parsed = impl_->dom.parse(line.data(), line.size(), !padded);
  if (parsed.error() == simdjson::NUMBER_ERROR || parsed.error() == simdjson::NUMBER_OUT_OF_RANGE) {
    // A number beyond what the parser represents (valid JSON all the same):
    // the slower parser that keeps numbers as text.
    return ParseKeepingNumbers(line, padded, out, position, why);
  }
  if (parsed.error() != simdjson::SUCCESS) {
    *why = Malformed(parsed.error());
    return false;
  }
  dom::element doc = parsed.value_unsafe();
  impl_->member_spans.clear();
  size_t field_index = 0;
  dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    *why = "an event must be a JSON object";
    return false;
  }
  ResetEvent(out);
  bool have_type = false, have_data = false, have_b64 = false;
  uint32_t seen = 0;
  for (auto [key, value] : obj) {
    const size_t index = field_index++;
    uint32_t bit = 0;
    if (key == "type") {
      bit = 1;
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) {
        *why = "field \"type\" must be a string";
        return false;
      }
      out->type.assign(s);
      have_type = true;
    } else if (key == "tags") {
      bit = 2;
      if (!StringArray(value, "tags", &out->tags, why)) return false;
    } else if (key == "data") {
      bit = 4;
      // The data's own text, compacted: numbers stay exactly as written.
      std::string& compact = impl_->compact;
      auto& spans = impl_->member_spans;
      if (spans.empty()) {
        compact.clear();
        std::string problem;
        if (!CompactJson(line, kMaxJsonDepth, &compact, &problem, &spans)) {
          *why = "malformed JSON: " + problem;
          return false;
        }
      }
      if (index >= spans.size()) {
        *why = "malformed JSON: the members of the event could not be told apart";
        return false;
      }
      out->data.assign(compact, spans[index].first, spans[index].second - spans[index].first);
      out->data_is_json = true;
      have_data = true;
    } else if (key == "data_base64") {
      bit = 8;
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS || !DecodeBase64(s, &out->data)) {
        *why = "field \"data_base64\" must be a string of standard base64";
        return false;
      }
      out->data_is_json = false;
      have_b64 = true;
    } else if (key == "id") {
      bit = 16;
      std::string_view s;
      std::optional<Uuid> id;
      if (value.get_string().get(s) != simdjson::SUCCESS || !(id = Uuid::Parse(s))) {
        *why = "field \"id\" must be a UUID string like \"0b5e6f1c-...\"";
        return false;
      }
      out->id = id;
    } else if (key == "metadata") {
      bit = 32;
      dom::object md;
      if (value.get_object().get(md) != simdjson::SUCCESS) {
        *why = "field \"metadata\" must be an object of strings";
        return false;
      }
      for (auto [mk, mv] : md) {
        std::string_view s;
        if (mv.get_string().get(s) != simdjson::SUCCESS) {
          *why = "field \"metadata\": the value of " + Quoted(mk) + " is not a string";
          return false;
        }
        out->metadata.emplace_back(std::string(mk), std::string(s));
      }
    } else if (key == "timestamp") {
      bit = 64;
      std::string_view s;
      std::optional<int64_t> ts;
      if (value.get_string().get(s) != simdjson::SUCCESS || !(ts = ParseTimestamp(s))) {
        *why = "field \"timestamp\" must be an RFC 3339 string like \"2026-11-26T14:00:00Z\"";
        return false;
      }
      out->timestamp_ns = ts;
    } else if (key == "position" && position != nullptr) {
      bit = 128;
      if (value.get_uint64().get(*position) != simdjson::SUCCESS || *position == 0) {
        *why = "field \"position\" must be a positive integer";
        return false;
      }
    } else {
      *why = "unknown field " + Quoted(key) +
             " (expected type, tags, data, data_base64, id, metadata, timestamp)";
      return false;
    }
    if (seen & bit) {
      *why = "field " + Quoted(key) + " is given twice";
      return false;
    }
    seen |= bit;
  }
  if (!have_type) {
    *why = "field \"type\" is required";
    return false;
  }
  if (have_data && have_b64) {
    *why = "give either \"data\" or \"data_base64\", not both";
    return false;
  }
  return true;
}

bool ParseQuery(std::string_view json, Query* out, std::string* why) {
  dom::parser parser;
  [[maybe_unused]] auto alloc_err = parser.allocate(json.size() + 64, kMaxJsonDepth);
  dom::element doc;
  if (!ParseDocument(parser, json, false, &doc, why)) {
    *why = "query: " + *why;
    return false;
  }
  return QueryFrom(doc, "query", out, why);
}

bool ParseCondition(std::string_view json, AppendCondition* out, std::string* why) {
  dom::parser parser;
  [[maybe_unused]] auto alloc_err = parser.allocate(json.size() + 64, kMaxJsonDepth);
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
