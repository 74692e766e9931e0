// Fuzz target: the command line's JSON readers (tools/cli/json_reader.h,
// json_text.h) and, for what they accept, the writer of the `read` format
// (event_json.h).
//
// Byte 0 % 6 chooses the parser, the rest is its input:
//   0, 1  EventParser::Parse (1: with the padding simdjson may read into),
//   2     EventParser::Parse with the import format's "position"
//   3     ParseQuery       4  ParseCondition       5  CompactJson
// Checks: no input crashes, hangs or grows memory without bound (nesting,
// huge numbers of tags, long strings: errors, with a reason). An event that
// parses and that the store accepts is written as a `read` line, and that
// line parses back to the same event, position and timestamp. A query or
// condition that parses, written back as JSON, parses to the same value.
// CompactJson is idempotent on what it accepts, agrees with the engine's
// data_is_json check (format/json_check.h), and agrees with simdjson:
// text simdjson takes (within the depth limit) it takes too, and valid UTF-8
// text it takes, simdjson takes unless a number is out of its range.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "event_json.h"
#include "format/event_codec.h"
#include "format/json_check.h"
#include "fuzz_util.h"
#include "json_reader.h"
#include "json_text.h"
#include "json_writer.h"
#include "store/event_view_access.h"

namespace {

using namespace opossum;
using namespace opossum::fuzz;
using namespace opossum::cli;

void AppendQuery(std::string* out, const Query& q) {
  out->append("{\"items\": [");
  for (size_t i = 0; i < q.items.size(); ++i) {
    if (i != 0) out->append(", ");
    out->append("{\"types\": [");
    for (size_t j = 0; j < q.items[i].types.size(); ++j) {
      if (j != 0) out->push_back(',');
      AppendJsonString(out, q.items[i].types[j]);
    }
    out->append("], \"tags\": [");
    for (size_t j = 0; j < q.items[i].tags.size(); ++j) {
      if (j != 0) out->push_back(',');
      AppendJsonString(out, q.items[i].tags[j]);
    }
    out->append("]}");
  }
  out->append("]}");
}

bool SameQuery(const Query& a, const Query& b) {
  if (a.items.size() != b.items.size()) return false;
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i].types != b.items[i].types || a.items[i].tags != b.items[i].tags) return false;
  }
  return true;
}

void EventRoundTrip(const Event& e, EventParser* parser) {
  format::EncodedEvent enc;
  if (!format::EncodeEvent(e, 16u << 20, 0, &enc).ok()) return;
  std::vector<uint64_t> aligned((enc.bytes.size() + 7) / 8 + 1);
  std::memcpy(aligned.data(), enc.bytes.data(), enc.bytes.size());
  const int64_t ts = e.timestamp_ns.value_or(1700000000123456789);
  EventView view = internal::EventViewAccess::Make(
      42, ts, format::TableFromBytes(reinterpret_cast<const uint8_t*>(aligned.data())));
  std::string line;
  AppendEventLine(&line, view);
  Event back;
  uint64_t position = 0;
  std::string why;
  Check(parser->Parse(line, false, &back, &position, &why),
        "a written read line does not parse: " + why + "\n" + line);
  ModelEvent want = ModelEvent::From(e);
  if (want.data.empty()) want.data_is_json = false;  // written as binary
  Check(ModelEvent::From(back) == want, "read line parses to another event:\n" + line);
  Check(position == 42, "read line parses to position " + std::to_string(position));
  Check(back.timestamp_ns == ts, "read line parses to another timestamp:\n" + line);
}

void CompactRoundTrip(std::string_view text) {
  std::string out, why;
  bool ok = CompactJson(text, kMaxJsonDepth, &out, &why);
  if (ok) {
    std::string again, why2;
    Check(CompactJson(out, kMaxJsonDepth, &again, &why2) && again == out,
          "CompactJson is not idempotent: " + why2);
  }
  // The engine's check behind data_is_json takes exactly what the command
  // line takes as JSON data (the same grammar; UTF-8 is checked by the
  // engine, by the command line's caller), at any depth.
  const bool engine_ok = format::CheckJson(text);
  if (ok) {
    Check(engine_ok == format::IsValidUtf8(text),
          "CheckJson and CompactJson disagree on UTF-8 text CompactJson takes");
  } else if (why.find("deep") == std::string::npos) {
    Check(!engine_ok, "CheckJson takes text CompactJson refuses: " + why);
  }
  static simdjson::dom::parser parser(1u << 20);
  if (text.size() >= (1u << 20)) return;
  // One level more than the limit for simdjson: the depth limit itself is
  // not compared here (see below), only the grammar.
  if (parser.allocate(1u << 20, kMaxJsonDepth + 1) != simdjson::SUCCESS) return;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  simdjson::error_code err = parser.parse(padded).get(doc);
  // The two count nesting differently by one level; at the limit, either
  // may refuse.
  if (!ok && why.find("deep") != std::string::npos) return;
  if (err == simdjson::SUCCESS) {
    Check(ok, "simdjson takes text CompactJson refuses: " + why);
  } else if (ok && err != simdjson::DEPTH_ERROR &&
             simdjson::validate_utf8(text.data(), text.size())) {
    Check(err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE,
          std::string("CompactJson takes text simdjson refuses: ") + simdjson::error_message(err));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  const int which = data[0] % 6;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  static EventParser parser;
  static EventParser checker;
  std::string why;
  switch (which) {
    case 0:
    case 1:
    case 2: {
      Event e;
      uint64_t position = 0;
      bool ok;
      if (which == 1) {
        std::string padded(text);
        padded.append(64, '\0');
        ok = parser.Parse(std::string_view(padded.data(), text.size()), true, &e, &why);
      } else if (which == 2) {
        ok = parser.Parse(text, false, &e, &position, &why);
      } else {
        ok = parser.Parse(text, false, &e, &why);
      }
      if (!ok) {
        Check(!why.empty(), "an event refused without a reason");
        return 0;
      }
      EventRoundTrip(e, &checker);
      return 0;
    }
    case 3: {
      Query q;
      if (!ParseQuery(text, &q, &why)) {
        Check(!why.empty(), "a query refused without a reason");
        return 0;
      }
      std::string json;
      AppendQuery(&json, q);
      Query back;
      Check(ParseQuery(json, &back, &why) && SameQuery(q, back),
            "a query written back parses to another one: " + why + "\n" + json);
      return 0;
    }
    case 4: {
      AppendCondition c;
      if (!ParseCondition(text, &c, &why)) {
        Check(!why.empty(), "a condition refused without a reason");
        return 0;
      }
      std::string json = "{\"fail_if_events_match\": ";
      AppendQuery(&json, c.fail_if_events_match);
      if (c.after) {
        json.append(", \"after\": ");
        AppendUint(&json, *c.after);
      }
      json.push_back('}');
      AppendCondition back;
      Check(ParseCondition(json, &back, &why) &&
                SameQuery(c.fail_if_events_match, back.fail_if_events_match) &&
                c.after == back.after,
            "a condition written back parses to another one: " + why + "\n" + json);
      return 0;
    }
    default:
      CompactRoundTrip(text);
      return 0;
  }
}
