// The .NET Opossum folder layout (tools/cli/dotnet_layout.h): the text of
// one event file and its parse back, files as the .NET library writes them,
// malformed files, and the incremental export of a real store read back by
// the import. docs/json-layer.md describes the layout.
#include "dotnet_layout.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_error.h"
#include "dotnet_json_text.h"
#include "event_generated.h"
#include "format/event_codec.h"
#include "json_writer.h"
#include "opossum/opossum.h"
#include "store/event_view_access.h"
#include "test_util.h"

namespace opossum::cli {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::ReadFileBytes;
using ::opossum::testing::ReadTree;
using ::opossum::testing::TempDir;
using ::opossum::testing::WriteFileBytes;

constexpr int64_t kTs = 1700000000123456789;  // 2023-11-14T22:13:20.123456789Z

Uuid MustUuid(std::string_view text) {
  std::optional<Uuid> u = Uuid::Parse(text);
  EXPECT_TRUE(u.has_value()) << text;
  return u.value_or(Uuid{});
}

std::vector<std::pair<std::string, std::string>> Sorted(
    std::vector<std::pair<std::string, std::string>> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// `got` (parsed from a file) is the event `want` (read from the store).
void ExpectSameEvent(const Event& got, const EventView& want) {
  SCOPED_TRACE("event " + std::to_string(want.position()) + " " + std::string(want.type()));
  const Event w = want.ToEvent();
  EXPECT_EQ(got.type, w.type);
  EXPECT_EQ(got.tags, w.tags);
  EXPECT_EQ(got.data, w.data);
  EXPECT_EQ(got.data_is_json, w.data_is_json);
  EXPECT_TRUE(got.id == w.id) << "id";
  EXPECT_EQ(got.metadata, w.metadata);  // in order: a round trip keeps it
  ASSERT_TRUE(got.timestamp_ns.has_value());
  EXPECT_EQ(*got.timestamp_ns, want.timestamp_ns());
}

template <typename F>
CliError CatchCliError(F&& f) {
  try {
    f();
  } catch (const CliError& e) {
    return e;
  }
  ADD_FAILURE() << "no CliError thrown";
  return CliError::Io("none");
}

struct ReadEvent {
  uint64_t position;
  Event event;
  std::string file;
};

std::vector<ReadEvent> ReadFolder(const fs::path& in) {
  std::vector<ReadEvent> out;
  ReadDotnetFolder(
      in,
      [&](Event&& e, uint64_t position, const std::string& file) {
        out.push_back(ReadEvent{position, std::move(e), file});
      },
      nullptr);
  return out;
}

// The "Positions" of an index file (empty and a test failure when unreadable).
std::vector<uint64_t> IndexPositions(const fs::path& p) {
  std::vector<uint64_t> out;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string text = ReadFileBytes(p);
  simdjson::dom::array arr;
  if (parser.parse(text).get(root) || root["Positions"].get_array().get(arr)) {
    ADD_FAILURE() << p << " is not an index file: " << text;
    return out;
  }
  for (simdjson::dom::element e : arr) out.push_back(e.get_uint64().value_unsafe());
  return out;
}

std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

Event JsonEvent(std::string type, std::vector<std::string> tags, std::string data) {
  Event e;
  e.type = std::move(type);
  e.tags = std::move(tags);
  e.data = std::move(data);
  e.data_is_json = true;
  return e;
}

Event BinaryEvent(std::string type, std::vector<std::string> tags, std::string data) {
  Event e = JsonEvent(std::move(type), std::move(tags), std::move(data));
  e.data_is_json = false;
  return e;
}

class DotnetTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Open("store"); }

  std::unique_ptr<Store> Open(std::string_view name) {
    std::unique_ptr<Store> s;
    Options o;
    o.durability = Durability::kBuffered;
    o.segment_size = 1 << 20;
    Status st = Store::Open(dir_.path(), name, o, &s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  // Appends `e` (with a fixed timestamp unless it has one) and returns the
  // committed view.
  EventView Append(Event e, Store* store = nullptr) {
    if (store == nullptr) store = store_.get();
    if (!e.timestamp_ns) e.timestamp_ns = kTs + static_cast<int64_t>(store->Head());
    uint64_t last = 0;
    Status s = store->Append({e}, std::nullopt, &last);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return All(*store).back();
  }

  static std::vector<EventView> All(const Store& store) {
    std::vector<EventView> v;
    Status s = store.Read(Query::All(), {}, &v);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }

  // The event's file text parses back to the same event.
  static Event RoundTrip(const EventView& v) {
    const std::string text = DotnetEventJson(v);
    Event e;
    uint64_t position = 0;
    std::string why;
    EXPECT_TRUE(ParseDotnetEvent(text, &e, &position, &why)) << why << "\n" << text;
    EXPECT_EQ(position, v.position());
    return e;
  }

  // Seven events with most of what the layout has to carry.
  void AppendVariety() {
    Event course = JsonEvent("CourseCreated", {"course:c1"}, R"({"capacity":10})");
    course.metadata = {{"correlation_id", "c"}, {"clr_type", "App.CourseCreated, App"}};
    Append(course);
    Append(JsonEvent("Course/Created", {"course:c2", "url:http://x/y"}, "[1]"));
    Append(JsonEvent("a/b", {"k:a/b", "k:a_b"}, "{}"));  // both tags: one file
    Append(JsonEvent("a_b", {"k:a_b"}, "{}"));           // shares a/b's type file
    Event blob = BinaryEvent("Blob", {"flag"}, std::string("\x00\xff", 2));
    blob.id = MustUuid("11111111-2222-4333-8444-555555555555");
    Append(blob);
    Append(JsonEvent("Événement", {"città:Zürich", "course:c1"}, R"({"ü":"✓"})"));
    Append(JsonEvent("..", {"..:.."}, "{}"));
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// ---------------------------------------------------------------------------
// One event file

TEST_F(DotnetTest, JsonEventFileTextAndRoundTrip) {
  Event e = JsonEvent(
      "CourseCreated", {"course:c1", "region:eu:west", "archived"},
      R"({"capacity":10,"ratio":1.50,"name":"A\u00e9","nested":{"list":[1,2],"empty":{}}})");
  e.metadata = {{"correlation_id", "c-1"}, {"causation_id", "c-2"},
                {"operation_id", "o-3"},   {"user_id", "u-4"},
                {"tenant", "t1"},          {"clr_type", "App.CourseCreated, App"}};
  e.id = MustUuid("0b5e0d6a-8c3e-4c6f-9b5d-2f1e3a4b5c6d");
  e.timestamp_ns = kTs;
  const EventView v = Append(e);

  EXPECT_EQ(DotnetEventJson(v), R"({
  "event": {
    "eventType": "CourseCreated",
    "event": {
      "$type": "App.CourseCreated, App",
      "capacity": 10,
      "ratio": 1.50,
      "name": "A\u00e9",
      "nested": {
        "list": [
          1,
          2
        ],
        "empty": {}
      }
    },
    "tags": [
      {
        "key": "archived",
        "value": ""
      },
      {
        "key": "course",
        "value": "c1"
      },
      {
        "key": "region",
        "value": "eu:west"
      }
    ]
  },
  "position": 1,
  "metadata": {
    "timestamp": "2023-11-14T22:13:20.123456789Z",
    "correlationId": "c-1",
    "causationId": "c-2",
    "operationId": "o-3",
    "userId": "u-4",
    "tenant": "t1",
    "eventId": "0b5e0d6a-8c3e-4c6f-9b5d-2f1e3a4b5c6d"
  }
}
)");
  ExpectSameEvent(RoundTrip(v), v);
}

TEST_F(DotnetTest, BinaryDataIsBase64WithEncodingMarker) {
  Event e = BinaryEvent("Blob", {}, std::string("\x00\x01\x02\xff", 4));
  e.id = MustUuid("00000000-0000-4000-8000-000000000001");
  const EventView v = Append(e);
  const std::string text = DotnetEventJson(v);
  EXPECT_NE(text.find("    \"event\": \"AAEC/w==\",\n    \"eventEncoding\": \"base64\",\n"
                      "    \"tags\": []\n"),
            std::string::npos)
      << text;
  ExpectSameEvent(RoundTrip(v), v);

  // Empty binary data, and binary data that happens to be JSON text.
  const EventView empty = Append(BinaryEvent("Empty", {}, ""));
  ExpectSameEvent(RoundTrip(empty), empty);
  const EventView looks_like_json = Append(BinaryEvent("Text", {}, "{\"a\":1}"));
  EXPECT_NE(DotnetEventJson(looks_like_json).find("\"eventEncoding\""), std::string::npos);
  ExpectSameEvent(RoundTrip(looks_like_json), looks_like_json);
}

TEST_F(DotnetTest, DataFlaggedJsonThatIsNotJsonIsWrittenAsBinary) {
  // The store refuses such data now, but a store written before it checked
  // data_is_json may hold it: its export must still be valid JSON. The event
  // is built here as such a store holds it.
  for (const std::string& data : {std::string("{not json"), std::string()}) {
    EXPECT_TRUE(store_->Append({JsonEvent("Odd", {}, data)}).IsInvalidArgument());
    flatbuffers::FlatBufferBuilder fbb;
    auto type = fbb.CreateString("Odd");
    auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    fb::EventBuilder builder(fbb);
    builder.add_type(type);
    builder.add_data(bytes);
    builder.add_data_is_json(true);
    fbb.Finish(builder.Finish());
    const EventView v =
        internal::EventViewAccess::Make(7, kTs, format::TableFromBytes(fbb.GetBufferPointer()));
    ASSERT_TRUE(v.data_is_json());
    const std::string text = DotnetEventJson(v);
    EXPECT_NE(text.find("\"eventEncoding\": \"base64\""), std::string::npos) << text;
    const Event back = RoundTrip(v);
    EXPECT_EQ(back.data, data);
    EXPECT_FALSE(back.data_is_json);  // documented: the flag does not survive
  }
}

TEST_F(DotnetTest, JsonDataKeepsItsBytes) {
  // Compact JSON comes back byte for byte: numbers, escapes, scalars.
  for (const char* data :
       {R"({"n":1.50e+3,"m":-0,"s":"a\"b\\n\u0000","u":"\u00e9","t":true,"z":null})",
        R"([[],{},[{"a":[]}]])", "42", "\"just a string\"", "null", "[1,\"x\",{\"$type\":1}]",
        R"({"a":{"b":{"c":{"d":[1,2,3]}}}})", "{}", "[]"}) {
    SCOPED_TRACE(data);
    const EventView v = Append(JsonEvent("Data", {}, data));
    const Event back = RoundTrip(v);
    EXPECT_EQ(back.data, data);
    EXPECT_TRUE(back.data_is_json);
  }
}

TEST_F(DotnetTest, TagsSplitAtTheFirstColon) {
  const EventView v =
      Append(JsonEvent("Événement/创建",
                       {"k:v", "flag", "url:http://x/y:8080", "città:Zürich", ":empty-key"}, "{}"));
  const std::string text = DotnetEventJson(v);
  for (const char* kv : {R"("key": "k",
        "value": "v")",
                         R"("key": "flag",
        "value": "")",
                         R"("key": "url",
        "value": "http://x/y:8080")",
                         R"("key": "città",
        "value": "Zürich")",
                         R"("key": "",
        "value": "empty-key")"}) {
    EXPECT_NE(text.find(kv), std::string::npos) << kv << "\n" << text;
  }
  EXPECT_NE(text.find(R"("eventType": "Événement/创建")"), std::string::npos) << text;
  ExpectSameEvent(RoundTrip(v), v);
}

TEST_F(DotnetTest, MetadataKeysThatWouldReadBackAsSomethingElseAreEscaped) {
  Event e = JsonEvent("M", {}, "{}");
  e.metadata = {{"timestamp", "not the time"},
                {"correlationId", "camel already"},
                {"EVENTID", "x"},
                {"~tilde", "t"},
                {"user_id", "u"},
                {"plain", "p"}};
  const EventView v = Append(e);
  const std::string text = DotnetEventJson(v);
  for (const char* member :
       {R"("~timestamp": "not the time")", R"("~correlationId": "camel already")",
        R"("~EVENTID": "x")", R"("~~tilde": "t")", R"("userId": "u")", R"("plain": "p")"}) {
    EXPECT_NE(text.find(member), std::string::npos) << member << "\n" << text;
  }
  ExpectSameEvent(RoundTrip(v), v);
}

TEST_F(DotnetTest, ClrTypeStaysInMetadataWhenItCannotGoIntoTheData) {
  // Data that is not an object.
  Event arr = JsonEvent("A", {}, "[1,2]");
  arr.metadata = {{"clr_type", "App.A, App"}};
  const EventView a = Append(arr);
  EXPECT_NE(DotnetEventJson(a).find(R"("clr_type": "App.A, App")"), std::string::npos);
  ExpectSameEvent(RoundTrip(a), a);

  // Data with a $type of its own.
  Event own = JsonEvent("B", {}, R"({"$type":"mine","x":1})");
  own.metadata = {{"clr_type", "App.B, App"}};
  const EventView b = Append(own);
  const std::string text = DotnetEventJson(b);
  EXPECT_NE(text.find(R"("$type": "mine")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("clr_type": "App.B, App")"), std::string::npos) << text;
  ExpectSameEvent(RoundTrip(b), b);

  // Binary data.
  Event bin = BinaryEvent("C", {}, "\x01");
  bin.metadata = {{"clr_type", "App.C, App"}};
  const EventView c = Append(bin);
  ExpectSameEvent(RoundTrip(c), c);

  // An empty object gets the $type alone.
  Event empty = JsonEvent("D", {}, "{}");
  empty.metadata = {{"clr_type", "App.D, App"}};
  const EventView d = Append(empty);
  EXPECT_NE(DotnetEventJson(d).find("    \"event\": {\n      \"$type\": \"App.D, App\"\n    },\n"),
            std::string::npos)
      << DotnetEventJson(d);
  ExpectSameEvent(RoundTrip(d), d);
}

TEST_F(DotnetTest, DataWithItsOwnDollarTypeIsMarkedAndKeepsIt) {
  // No clr_type: the data's own $type stays in the data, and the marker says
  // it is the data's (without it the import would take it for the CLR type).
  const EventView own =
      Append(JsonEvent("OwnDollarType", {}, R"({"$type":"Own.Type, Own","v":1})"));
  std::string text = DotnetEventJson(own);
  EXPECT_NE(text.find("    \"event\": {\n      \"$type\": \"Own.Type, Own\",\n      \"v\": 1\n"
                      "    },\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(",\n    \"dataOwnsType\": true\n  }\n}\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("clr_type"), std::string::npos) << text;
  Event back = RoundTrip(own);
  EXPECT_EQ(back.data, R"({"$type":"Own.Type, Own","v":1})");
  EXPECT_TRUE(back.metadata.empty());
  ExpectSameEvent(back, own);

  // Its own $type and a clr_type: both come back, the clr_type as metadata.
  Event both = JsonEvent("OwnDollarTypeAndClrType", {}, R"({"$type":"Own.Type, Own","v":2})");
  both.metadata = {{"tenant", "t"}, {"clr_type", "Other.Type, Other"}};
  const EventView b = Append(both);
  text = DotnetEventJson(b);
  EXPECT_NE(text.find(R"("$type": "Own.Type, Own")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("clr_type": "Other.Type, Other")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("dataOwnsType": true)"), std::string::npos) << text;
  ExpectSameEvent(RoundTrip(b), b);

  // A $type that is not a string, in the data or nested, or written twice.
  for (const char* data : {R"({"$type":5})", R"({"a":{"$type":"N"},"$type":null})",
                           R"({"$type":"a","$type":"b"})", R"({"x":{"$type":"nested"}})"}) {
    SCOPED_TRACE(data);
    const EventView v = Append(JsonEvent("Odd", {}, data));
    back = RoundTrip(v);
    EXPECT_EQ(back.data, data);
    ExpectSameEvent(back, v);
  }

  // Two clr_type entries and a $type of its own.
  Event two = JsonEvent("Two", {}, R"({"$type":"Own"})");
  two.metadata = {{"clr_type", "A"}, {"clr_type", "B"}};
  const EventView t = Append(two);
  ExpectSameEvent(RoundTrip(t), t);

  // Only a $type at the top of an object is the data's own: no marker for
  // one deeper down, or for data that is not an object.
  for (const char* data : {R"({"x":{"$type":"nested"}})", R"(["$type"])", R"("$type")"}) {
    const EventView v = Append(JsonEvent("NoMarker", {}, data));
    EXPECT_EQ(DotnetEventJson(v).find("dataOwnsType"), std::string::npos) << data;
  }
}

TEST_F(DotnetTest, ClrTypeComesBackWhereItStoodAmongTheMetadata) {
  // Last (where the import puts it): no index written.
  Event last = JsonEvent("Last", {}, R"({"a":1})");
  last.metadata = {{"correlation_id", "c"}, {"tenant", "t"}, {"clr_type", "App.Last, App"}};
  const EventView l = Append(last);
  EXPECT_EQ(DotnetEventJson(l).find("clrTypeIndex"), std::string::npos) << DotnetEventJson(l);
  ExpectSameEvent(RoundTrip(l), l);

  // First and in the middle: the index says where.
  Event first = JsonEvent("First", {}, R"({"a":1})");
  first.metadata = {{"clr_type", "App.First, App"}, {"tenant", "t"}, {"user_id", "u"}};
  const EventView f = Append(first);
  std::string text = DotnetEventJson(f);
  EXPECT_NE(text.find("      \"$type\": \"App.First, App\",\n"), std::string::npos) << text;
  EXPECT_NE(text.find(",\n    \"clrTypeIndex\": 0\n  }\n}\n"), std::string::npos) << text;
  ExpectSameEvent(RoundTrip(f), f);

  Event middle = JsonEvent("Middle", {}, "{}");
  middle.metadata = {{"tenant", "t"}, {"clr_type", "App.Middle, App"}, {"~x", "y"}};
  middle.id = MustUuid("0b5e0d6a-8c3e-4c6f-9b5d-2f1e3a4b5c6d");
  const EventView m = Append(middle);
  text = DotnetEventJson(m);
  EXPECT_NE(text.find(R"("clrTypeIndex": 1)"), std::string::npos) << text;
  ExpectSameEvent(RoundTrip(m), m);
}

TEST_F(DotnetTest, MetadataKeysNamedLikeTheMarkersAreEscaped) {
  Event e = JsonEvent("K", {}, R"({"$type":"Own"})");
  e.metadata = {{"dataOwnsType", "no"}, {"CLRTYPEINDEX", "7"}, {"clr_type", "App.K, App"}};
  const EventView v = Append(e);
  const std::string text = DotnetEventJson(v);
  for (const char* member :
       {R"("~dataOwnsType": "no")", R"("~CLRTYPEINDEX": "7")", R"("dataOwnsType": true)"}) {
    EXPECT_NE(text.find(member), std::string::npos) << member << "\n" << text;
  }
  ExpectSameEvent(RoundTrip(v), v);

  // The same keys with a CLR type that goes into the data, not last.
  Event f = JsonEvent("K", {}, R"({"a":1})");
  f.metadata = {{"clr_type", "App.K, App"}, {"clrTypeIndex", "x"}, {"DataOwnsType", "true"}};
  const EventView w = Append(f);
  ExpectSameEvent(RoundTrip(w), w);
}

// ---------------------------------------------------------------------------
// Files as the .NET library writes them

constexpr char kDotnetIndented[] = R"({
  "event": {
    "eventType": "StudentRegisteredEvent",
    "event": {
      "$type": "Opossum.Samples.StudentRegisteredEvent, Opossum.Samples, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null",
      "studentId": "5f1c2d3e-0000-4000-8000-00000000abcd",
      "name": "Ada",
      "credits": 12.5
    },
    "tags": [
      {
        "key": "studentId",
        "value": "5f1c2d3e-0000-4000-8000-00000000abcd"
      },
      {
        "key": "cohort",
        "value": ""
      }
    ]
  },
  "position": 3,
  "metadata": {
    "timestamp": "2024-01-15T10:30:00.1234567+00:00",
    "correlationId": "9a8b7c6d-1111-4222-8333-444455556666"
  }
})";

void ExpectStudentRegistered(const Event& e) {
  EXPECT_EQ(e.type, "StudentRegisteredEvent");
  EXPECT_EQ(e.data,
            R"({"studentId":"5f1c2d3e-0000-4000-8000-00000000abcd","name":"Ada","credits":12.5})");
  EXPECT_TRUE(e.data_is_json);
  EXPECT_EQ(e.tags,
            (std::vector<std::string>{"studentId:5f1c2d3e-0000-4000-8000-00000000abcd", "cohort"}));
  EXPECT_EQ(Sorted(e.metadata),
            Sorted({{"clr_type",
                     "Opossum.Samples.StudentRegisteredEvent, Opossum.Samples, Version=1.0.0.0, "
                     "Culture=neutral, PublicKeyToken=null"},
                    {"correlation_id", "9a8b7c6d-1111-4222-8333-444455556666"}}));
  EXPECT_FALSE(e.id.has_value());
  ASSERT_TRUE(e.timestamp_ns.has_value());
  EXPECT_EQ(*e.timestamp_ns, int64_t{1705314600} * 1000000000 + 123456700);
}

TEST(DotnetParseTest, ReadsTheShapeTheDotnetLibraryWrites) {
  Event e;
  uint64_t position = 0;
  std::string why;
  ASSERT_TRUE(ParseDotnetEvent(kDotnetIndented, &e, &position, &why)) << why;
  EXPECT_EQ(position, 3u);
  ExpectStudentRegistered(e);

  // The library itself writes it minified, with a byte order mark at times.
  std::string minified;
  AppendMinifiedJson(&minified, kDotnetIndented);
  ASSERT_TRUE(ParseDotnetEvent("\xEF\xBB\xBF" + minified, &e, &position, &why)) << why;
  ExpectStudentRegistered(e);
}

TEST(DotnetParseTest, DollarTypeWithoutTheMarkerIsTheClrType) {
  // What the .NET library writes has no marker: its $type is the CLR type,
  // whatever else metadata holds (a string "dataOwnsType" is a metadata
  // entry, and false is no marker).
  const std::string head =
      R"({"position": 1, "event": {"eventType": "T", "event": {"$type": "App.T, App", "v": 1}},)";
  const struct {
    std::string metadata;
    std::vector<std::pair<std::string, std::string>> want;
  } cases[] = {
      {R"("metadata": {"timestamp": "2024-01-15T10:30:00Z"})", {{"clr_type", "App.T, App"}}},
      {R"("metadata": {"correlationId": "c", "tenant": "t"})",
       {{"correlation_id", "c"}, {"tenant", "t"}, {"clr_type", "App.T, App"}}},
      {R"("metadata": {"dataOwnsType": false})", {{"clr_type", "App.T, App"}}},
      {R"("metadata": {"dataOwnsType": "true"})",
       {{"dataOwnsType", "true"}, {"clr_type", "App.T, App"}}},
      {R"("metadata": {"tenant": "t", "clrTypeIndex": 0})",
       {{"clr_type", "App.T, App"}, {"tenant", "t"}}},
      {R"("metadata": null)", {{"clr_type", "App.T, App"}}},
  };
  for (const auto& c : cases) {
    const std::string text = head + c.metadata + "}";
    Event e;
    uint64_t position = 0;
    std::string why;
    ASSERT_TRUE(ParseDotnetEvent(text, &e, &position, &why)) << why << "\n" << text;
    EXPECT_EQ(e.data, R"({"v":1})") << text;
    EXPECT_EQ(e.metadata, c.want) << text;
  }

  // With the marker the $type is the data's own.
  Event e;
  uint64_t position = 0;
  std::string why;
  ASSERT_TRUE(
      ParseDotnetEvent(head + R"("metadata": {"DataOwnsType": true}})", &e, &position, &why))
      << why;
  EXPECT_EQ(e.data, R"({"$type":"App.T, App","v":1})");
  EXPECT_TRUE(e.metadata.empty());

  // Markers that are neither a string nor what the marker holds.
  for (const char* metadata :
       {R"({"dataOwnsType": 1})", R"({"clrTypeIndex": -1})", R"({"clrTypeIndex": true})",
        R"({"clrTypeIndex": 1.5})", R"({"clrTypeIndex": 1})", R"({"x": "y", "clrTypeIndex": 2})"}) {
    const std::string text = head + R"("metadata": )" + metadata + "}";
    EXPECT_FALSE(ParseDotnetEvent(text, &e, &position, &why)) << text;
    EXPECT_NE(why.find("metadata."), std::string::npos) << text << "\n  said: " << why;
  }
}

TEST(DotnetParseTest, MemberNameCaseIsNotInsisted) {
  const std::string pascal = R"({"Event": {"EventType": "T", "Event": {"a": 1},
      "Tags": [{"Key": "k", "Value": "v"}]}, "Position": 1,
      "Metadata": {"Timestamp": "2024-01-15T10:30:00Z", "CorrelationId": "c", "UserID": "u"}})";
  Event e;
  uint64_t position = 0;
  std::string why;
  ASSERT_TRUE(ParseDotnetEvent(pascal, &e, &position, &why)) << why;
  EXPECT_EQ(e.type, "T");
  EXPECT_EQ(e.data, R"({"a":1})");
  EXPECT_EQ(e.tags, std::vector<std::string>{"k:v"});
  EXPECT_EQ(Sorted(e.metadata), Sorted({{"correlation_id", "c"}, {"user_id", "u"}}));
  EXPECT_EQ(e.timestamp_ns, int64_t{1705314600} * 1000000000);
}

TEST(DotnetParseTest, SaysWhatIsWrong) {
  const std::string head = R"({"position": 1, "event": {"eventType": "T", )";
  const struct {
    std::string text;
    std::string why;
  } cases[] = {
      {"{\"position\": 1", "not valid JSON"},
      {"[1]", "not a JSON object"},
      {R"({"event": {"eventType": "T", "event": 1}})", "\"position\" is missing"},
      {R"({"position": -1, "event": {"eventType": "T", "event": 1}})", "\"position\" is not"},
      {R"({"position": "1", "event": {"eventType": "T", "event": 1}})", "\"position\" is not"},
      {R"({"position": 1})", "\"event\" is missing"},
      {R"({"position": 1, "event": {"event": 1}})", "\"event.eventType\" is missing"},
      {head + R"("event": 1, "tags": {}}})", "\"event.tags\" is not an array"},
      {head + R"("event": 1, "tags": [{"value": "v"}]}})", "has no string \"key\""},
      {head + R"("event": 1, "tags": [{"key": "k", "value": 3}]}})", "\"value\" is not a string"},
      {head + R"("tags": []}})", "\"event.event\" is missing"},
      {head + R"("event": "!!", "eventEncoding": "base64"}})", "not valid base64"},
      {head + R"("event": "AA==", "eventEncoding": "hex"}})", "eventEncoding"},
      {head + R"("event": {"$type": 5}}})", "$type\" is not a string"},
      {head + R"("event": 1}, "metadata": {"timestamp": "yesterday"}})", "metadata.timestamp"},
      {head + R"("event": 1}, "metadata": {"eventId": "nope"}})", "metadata.eventId"},
      {head + R"("event": 1}, "metadata": {"x": 1}})", "\"metadata.x\" is not a string"},
      {head + R"("event": 1}, "metadata": []})", "\"metadata\" is not an object"},
  };
  for (const auto& c : cases) {
    Event e;
    uint64_t position = 0;
    std::string why;
    EXPECT_FALSE(ParseDotnetEvent(c.text, &e, &position, &why)) << c.text;
    EXPECT_NE(why.find(c.why), std::string::npos) << c.text << "\n  said: " << why;
  }
}

TEST(DotnetParseTest, MutatedFilesGiveAnAnswerNotACrash) {
  // Cut, flipped and spliced copies of real files: each is either refused
  // with a reason or parsed to an event with a position and a type.
  const uint64_t seed = ::opossum::testing::TestSeed();
  std::mt19937_64 rng(seed);
  const std::string seeds[] = {
      kDotnetIndented,
      R"({"event": {"eventType": "B", "event": "AAEC", "eventEncoding": "base64", "tags": []},)"
      R"( "position": 2, "metadata": {"timestamp": "2024-01-15T10:30:00Z", "~x": "y"}})",
      R"({"event": {"eventType": "C", "event": {"$type": "T", "a": [1, {"b": "}"}]}}, "position": 3})"};
  const std::string bytes("{}[]\":,\\ 0aZ$~\x01\xff\x00", 17);
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[rng() % std::size(seeds)];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = bytes[rng() % bytes.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.resize(at);
          break;
      }
    }
    Event e;
    uint64_t position = 0;
    std::string why;
    if (ParseDotnetEvent(text, &e, &position, &why)) {
      ASSERT_GT(position, 0u) << text;
      ASSERT_FALSE(e.type.empty()) << text;
    } else {
      ASSERT_FALSE(why.empty()) << text;
    }
  }
}

TEST(DotnetParseTest, DeepJsonIsRefused) {
  std::string deep = R"({"position": 1, "event": {"eventType": "T", "event": )";
  deep += std::string(300, '[') + std::string(300, ']') + "}}";
  Event e;
  uint64_t position = 0;
  std::string why;
  EXPECT_FALSE(ParseDotnetEvent(deep, &e, &position, &why));
  EXPECT_NE(why.find("not valid JSON"), std::string::npos) << why;
}

// ---------------------------------------------------------------------------
// Reading a folder

void WriteEventFile(const fs::path& folder, const std::string& name, uint64_t position,
                    const std::string& type) {
  ASSERT_TRUE(
      WriteFileBytes(folder / "events" / name, R"({"event": {"eventType": ")" + type +
                                                   R"(", "event": {}, "tags": []}, "position": )" +
                                                   std::to_string(position) + "}"));
}

TEST(DotnetFolderTest, ReadsInPositionOrderWhateverTheNameWidth) {
  TempDir dir;
  WriteEventFile(dir.path(), "10000000000.json", 10000000000, "C");
  WriteEventFile(dir.path(), "0000000002.json", 2, "B");
  WriteEventFile(dir.path(), "0000000001.json", 1, "A");
  // Not event files: the .NET library's temporary files, an index elsewhere.
  ASSERT_TRUE(WriteFileBytes(dir.path() / "events" / "0000000003.json.tmp.0f0f", "{"));
  ASSERT_TRUE(WriteFileBytes(dir.path() / "Indices" / "EventType" / "A.json", "junk"));
  const std::vector<ReadEvent> got = ReadFolder(dir.path());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].position, 1u);
  EXPECT_EQ(got[0].event.type, "A");
  EXPECT_EQ(got[1].position, 2u);
  EXPECT_EQ(got[2].position, 10000000000u);
  EXPECT_EQ(got[2].event.type, "C");
  EXPECT_EQ(got[2].file, (dir.path() / "events" / "10000000000.json").string());
  EXPECT_FALSE(got[0].event.timestamp_ns.has_value());  // left to the store
}

TEST(DotnetFolderTest, MalformedFilesStopTheImportNamingTheFile) {
  const struct {
    std::string name;
    std::string text;
    std::string what;
  } cases[] = {
      {"0000000002.json", "this is not JSON", "not valid JSON"},
      {"0000000002.json", R"({"event": {"event": {}}, "position": 2})", "eventType"},
      {"0000000002.json", R"({"event": {"eventType": "T", "event": {}}, "position": 7})",
       "\"position\" is 7 but the file name says 2"},
      {"0000000002.json",
       R"({"event": {"eventType": "T", "event": {}, "tags": "k:v"}, "position": 2})",
       "\"event.tags\" is not an array"},
      {"notes.json", "{}", "not an event file name"},
      {"0000000000.json", "{}", "not an event file name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    TempDir dir;
    WriteEventFile(dir.path(), "0000000001.json", 1, "Fine");
    ASSERT_TRUE(WriteFileBytes(dir.path() / "events" / c.name, c.text));
    const CliError e = CatchCliError([&] { ReadFolder(dir.path()); });
    EXPECT_EQ(e.kind, ErrorKind::kInvalid);
    EXPECT_NE(e.message.find((dir.path() / "events" / c.name).string()), std::string::npos)
        << e.message;
    EXPECT_NE(e.message.find(c.what), std::string::npos) << e.message;
  }
}

TEST(DotnetFolderTest, TwoFilesForOnePositionAreRefused) {
  TempDir dir;
  WriteEventFile(dir.path(), "0000000001.json", 1, "A");
  WriteEventFile(dir.path(), "1.json", 1, "B");
  const CliError e = CatchCliError([&] { ReadFolder(dir.path()); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("two files for position 1"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("1.json"), std::string::npos) << e.message;
}

TEST(DotnetFolderTest, NoEventsFolderIsAnError) {
  TempDir dir;
  CliError e = CatchCliError([&] { ReadFolder(dir.path()); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("no events folder"), std::string::npos) << e.message;
  e = CatchCliError([&] { ReadFolder(dir.path() / "missing"); });
  EXPECT_EQ(e.kind, ErrorKind::kIo);
}

// ---------------------------------------------------------------------------
// Index file names

TEST(DotnetNamesTest, IndexFileNames) {
  EXPECT_EQ(DotnetEventFileName(1), "0000000001.json");
  EXPECT_EQ(DotnetEventFileName(12345678901), "12345678901.json");
  EXPECT_EQ(DotnetTypeIndexFileName("CourseCreated"), "CourseCreated.json");
  EXPECT_EQ(DotnetTypeIndexFileName("Course/Created"), "Course_Created.json");
  EXPECT_EQ(DotnetTypeIndexFileName("a//b"), "a_b.json");  // as the .NET library does
  EXPECT_EQ(DotnetTypeIndexFileName("/x\\"), "x.json");
  EXPECT_EQ(DotnetTypeIndexFileName("<a>:\"b\"|c?*\t"), "a_b_c.json");
  EXPECT_EQ(DotnetTypeIndexFileName("/"), "_.json");
  EXPECT_EQ(DotnetTypeIndexFileName("."), "_..json");
  EXPECT_EQ(DotnetTypeIndexFileName(".."), "_...json");
  EXPECT_EQ(DotnetTypeIndexFileName("../../etc"), ".._.._etc.json");
  EXPECT_EQ(DotnetTypeIndexFileName("Événement"), "Événement.json");
  EXPECT_EQ(DotnetTagIndexFileName("course:c1"), "course_c1.json");
  EXPECT_EQ(DotnetTagIndexFileName("flag"), "flag_.json");
  EXPECT_EQ(DotnetTagIndexFileName("url:http://x/y"), "url_http_x_y.json");
  EXPECT_EQ(DotnetTagIndexFileName("città:Zürich"), "città_Zürich.json");
  EXPECT_EQ(DotnetTagIndexFileName(":"), "_.json");
  // Too long for a file name: cut, with a hash that keeps them apart.
  const std::string long_a = DotnetTypeIndexFileName(std::string(255, 'a'));
  const std::string long_b = DotnetTypeIndexFileName(std::string(254, 'a') + "b");
  EXPECT_LE(long_a.size(), 240u);
  EXPECT_NE(long_a, long_b);
  EXPECT_EQ(long_a.substr(0, 200), std::string(200, 'a'));
  // A cut never splits a UTF-8 character.
  std::string accents = "x";
  for (int i = 0; i < 120; ++i) accents += "é";  // byte 200 is the middle of an é
  const std::string cut = DotnetTypeIndexFileName(accents);
  EXPECT_EQ(cut.substr(0, 199), accents.substr(0, 199));
  EXPECT_EQ(cut[199], '~');
}

TEST(DotnetNamesTest, NoTypeOrTagNamesAFileOutsideItsFolder) {
  const uint64_t seed = ::opossum::testing::TestSeed();
  std::mt19937_64 rng(seed);
  const std::string alphabet = std::string("/\\.:<>\"|?*_ ab\x01\x1f", 16) + "é";
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t n = std::uniform_int_distribution<size_t>(0, 260)(rng);
    for (size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    for (const std::string& name : {DotnetTypeIndexFileName(s), DotnetTagIndexFileName(s)}) {
      SCOPED_TRACE(s);
      ASSERT_GT(name.size(), 5u);
      ASSERT_LE(name.size(), 240u);
      ASSERT_EQ(name.substr(name.size() - 5), ".json");
      const std::string base = name.substr(0, name.size() - 5);
      ASSERT_NE(base, "");
      ASSERT_NE(base, ".");
      ASSERT_NE(base, "..");
      for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        ASSERT_TRUE(u >= 0x20 && std::string_view("/\\<>:\"|?*").find(c) == std::string::npos)
            << "byte " << int(u) << " in " << name;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Export of a real store

// Every type and tag index file an export of `views` must hold.
std::map<std::string, std::vector<uint64_t>> ExpectedIndex(const std::vector<EventView>& views,
                                                           bool tags) {
  std::map<std::string, std::vector<uint64_t>> index;
  for (const EventView& v : views) {
    std::set<std::string> names;
    if (tags) {
      for (std::string_view t : v.tags()) names.insert(DotnetTagIndexFileName(t));
    } else {
      names.insert(DotnetTypeIndexFileName(v.type()));
    }
    for (const std::string& n : names) index[n].push_back(v.position());
  }
  return index;
}

void ExpectIndexFiles(const fs::path& out, const std::vector<EventView>& views) {
  for (bool tags : {false, true}) {
    const fs::path dir = out / "Indices" / (tags ? "Tags" : "EventType");
    const auto expected = ExpectedIndex(views, tags);
    std::set<std::string> expected_names;
    for (const auto& [name, positions] : expected) {
      expected_names.insert(name);
      EXPECT_EQ(IndexPositions(dir / name), positions) << name;
    }
    EXPECT_EQ(FileNames(dir), expected_names);
  }
}

void ExpectFolderMirrors(const fs::path& out, const std::vector<EventView>& views) {
  const std::vector<ReadEvent> got = ReadFolder(out);
  ASSERT_EQ(got.size(), views.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].position, views[i].position());
    ExpectSameEvent(got[i].event, views[i]);
  }
  std::set<std::string> names;
  for (const EventView& v : views) names.insert(DotnetEventFileName(v.position()));
  EXPECT_EQ(FileNames(out / "events"), names);
  ExpectIndexFiles(out, views);
}

TEST_F(DotnetTest, ExportThenImportGivesTheSameEvents) {
  AppendVariety();
  const fs::path out = dir_.path() / "mirror";

  const DotnetExportResult r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 7u);
  EXPECT_EQ(r.last_position, 7u);
  const std::vector<EventView> views = All(*store_);
  ExpectFolderMirrors(out, views);
  EXPECT_EQ(IndexPositions(out / "Indices" / "EventType" / "a_b.json"),
            (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(IndexPositions(out / "Indices" / "Tags" / "k_a_b.json"), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(IndexPositions(out / "Indices" / "Tags" / "course_c1.json"),
            (std::vector<uint64_t>{1, 6}));
  EXPECT_EQ(IndexPositions(out / "Indices" / "EventType" / "Course_Created.json"),
            (std::vector<uint64_t>{2}));
  EXPECT_EQ(ReadFileBytes(out / ".ledger"),
            "{\n  \"LastSequencePosition\": 7,\n  \"EventCount\": 7\n}\n");
  EXPECT_TRUE(fs::exists(out / ".opossum-export.json"));
  // Nothing but the layout and the checkpoint; no temporary files left.
  EXPECT_EQ(FileNames(out),
            (std::set<std::string>{".ledger", ".opossum-export.json", "Indices", "events"}));

  // Into a second store: the same events at the same positions.
  std::unique_ptr<Store> copy = Open("copy");
  std::vector<Event> batch;
  ReadDotnetFolder(
      out, [&](Event&& e, uint64_t, const std::string&) { batch.push_back(std::move(e)); },
      nullptr);
  ASSERT_TRUE(copy->Append(batch).ok());
  const std::vector<EventView> copied = All(*copy);
  ASSERT_EQ(copied.size(), views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    EXPECT_EQ(copied[i].position(), views[i].position());
    ExpectSameEvent(copied[i].ToEvent(), views[i]);
  }
}

TEST_F(DotnetTest, ExportThenImportKeepsDollarTypesAndMetadataOrder) {
  Event own = JsonEvent("OwnDollarType", {}, R"({"$type":"Own.Type, Own","v":1})");
  Event both = JsonEvent("OwnDollarTypeAndClrType", {}, R"({"$type":"Own.Type, Own","v":2})");
  both.metadata = {{"clr_type", "Other.Type, Other"}};
  Event list = JsonEvent("NotAnObject", {}, R"(["$type"])");
  list.metadata = {{"clr_type", "App.List, App"}};
  Event first = JsonEvent("ClrTypeFirst", {"k:v"}, R"({"a":1})");
  first.metadata = {{"clr_type", "App.First, App"}, {"tenant", "t"}};
  for (Event* e : {&own, &both, &list, &first}) Append(*e);
  const std::vector<EventView> views = All(*store_);

  const fs::path out = dir_.path() / "mirror";
  ASSERT_EQ(ExportDotnet(store_->NewReader(), out, 1, false, nullptr).written, views.size());
  std::vector<Event> batch;
  ReadDotnetFolder(
      out, [&](Event&& e, uint64_t, const std::string&) { batch.push_back(std::move(e)); },
      nullptr);
  std::unique_ptr<Store> copy = Open("copy");
  ASSERT_TRUE(copy->Append(batch).ok());
  const std::vector<EventView> copied = All(*copy);
  ASSERT_EQ(copied.size(), views.size());
  for (size_t i = 0; i < views.size(); ++i) ExpectSameEvent(copied[i].ToEvent(), views[i]);
}

TEST_F(DotnetTest, ExportIsIncremental) {
  AppendVariety();
  const fs::path out = dir_.path() / "mirror";
  ASSERT_EQ(ExportDotnet(store_->NewReader(), out, 1, false, nullptr).written, 7u);

  // A mark in an old event file shows whether the next run rewrites it.
  const fs::path first = out / "events" / "0000000001.json";
  const std::string first_text = ReadFileBytes(first);
  ASSERT_TRUE(WriteFileBytes(first, "untouched"));

  // Nothing new: nothing written at all.
  std::map<std::string, std::string> before = ReadTree(out);
  DotnetExportResult r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 0u);
  EXPECT_EQ(r.last_position, 7u);
  EXPECT_EQ(ReadTree(out), before);

  Append(JsonEvent("CourseCreated", {"course:c3"}, "{}"));
  Append(JsonEvent("NewType", {"course:c1", "fresh:1"}, "{}"));
  Append(BinaryEvent("Blob", {}, "x"));
  r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 3u);
  EXPECT_EQ(r.last_position, 10u);
  EXPECT_EQ(ReadFileBytes(first), "untouched");

  // Every other file is as a full export writes it.
  ASSERT_TRUE(WriteFileBytes(first, first_text));
  const std::vector<EventView> views = All(*store_);
  ExpectFolderMirrors(out, views);
  EXPECT_EQ(IndexPositions(out / "Indices" / "Tags" / "course_c1.json"),
            (std::vector<uint64_t>{1, 6, 9}));
  EXPECT_EQ(IndexPositions(out / "Indices" / "EventType" / "Blob.json"),
            (std::vector<uint64_t>{5, 10}));
  EXPECT_EQ(ReadFileBytes(out / ".ledger"),
            "{\n  \"LastSequencePosition\": 10,\n  \"EventCount\": 10\n}\n");

  TempDir full;
  ExportDotnet(store_->NewReader(), full.path(), 1, false, nullptr);
  EXPECT_EQ(ReadTree(out), ReadTree(full.path()));
}

TEST_F(DotnetTest, AnInterruptedExportIsRedoneByTheNextRun) {
  for (int i = 0; i < 4; ++i) Append(JsonEvent("T", {"n:" + std::to_string(i % 2)}, "{}"));
  const fs::path out = dir_.path() / "mirror";
  ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  const std::string checkpoint_at_4 = ReadFileBytes(out / ".opossum-export.json");

  for (int i = 4; i < 9; ++i) Append(JsonEvent("T", {"n:" + std::to_string(i % 2)}, "{}"));
  ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  // As if that run had stopped just before its checkpoint.
  ASSERT_TRUE(WriteFileBytes(out / ".opossum-export.json", checkpoint_at_4));
  const DotnetExportResult r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 5u);
  EXPECT_EQ(r.last_position, 9u);
  ExpectFolderMirrors(out, All(*store_));  // no position twice in an index
}

mode_t ModeOf(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST_F(DotnetTest, WriteProtectLeavesEveryFileReadOnlyAndStillIncrements) {
  for (int i = 0; i < 3; ++i) Append(JsonEvent("T", {"k:v"}, "{}"));
  const fs::path out = dir_.path() / "mirror";
  ExportDotnet(store_->NewReader(), out, 1, true, nullptr);
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (!e.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(ModeOf(e.path()), 0444u) << e.path();
  }
  EXPECT_EQ(files, 3u + 2u + 2u);  // events, two indexes, .ledger and the checkpoint

  Append(JsonEvent("T", {"k:v"}, "{}"));
  Append(JsonEvent("U", {}, "{}"));
  DotnetExportResult r = ExportDotnet(store_->NewReader(), out, 1, true, nullptr);
  EXPECT_EQ(r.written, 2u);
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (e.is_regular_file()) {
      EXPECT_EQ(ModeOf(e.path()), 0444u) << e.path();
    }
  }
  EXPECT_EQ(IndexPositions(out / "Indices" / "Tags" / "k_v.json"),
            (std::vector<uint64_t>{1, 2, 3, 4}));

  // A run without protection still updates the protected files.
  Append(JsonEvent("T", {"k:v"}, "{}"));
  r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 1u);
  EXPECT_EQ(ModeOf(out / "events" / "0000000006.json") & 0200, 0200u);
  ExpectFolderMirrors(out, All(*store_));
}

TEST_F(DotnetTest, ExportingAnotherStoreIntoTheFolderIsRefused) {
  for (int i = 0; i < 3; ++i) Append(JsonEvent("T", {}, "{}"));
  const fs::path out = dir_.path() / "mirror";
  ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  const std::map<std::string, std::string> before = ReadTree(out);

  // Same types, other times.
  std::unique_ptr<Store> other = Open("other");
  for (int i = 0; i < 5; ++i) {
    Event e = JsonEvent("T", {}, "{}");
    e.timestamp_ns = kTs + 1000 + i;
    Append(e, other.get());
  }
  CliError e = CatchCliError([&] { ExportDotnet(other->NewReader(), out, 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("mirrors another store"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(out.string()), std::string::npos) << e.message;

  // A store that agrees on the first event but not on the last exported.
  std::unique_ptr<Store> fork = Open("fork");
  Append(All(*store_)[0].ToEvent(), fork.get());
  for (int i = 0; i < 4; ++i) Append(JsonEvent("Other", {}, "{}"), fork.get());
  e = CatchCliError([&] { ExportDotnet(fork->NewReader(), out, 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("event 3"), std::string::npos) << e.message;

  // A store shorter than the mirror.
  std::unique_ptr<Store> shorter = Open("shorter");
  Append(All(*store_)[0].ToEvent(), shorter.get());
  e = CatchCliError([&] { ExportDotnet(shorter->NewReader(), out, 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_EQ(ReadTree(out), before);  // nothing touched
}

TEST_F(DotnetTest, AFolderWithAForeignStoreIsRefused) {
  Append(JsonEvent("T", {}, "{}"));
  TempDir foreign;
  WriteEventFile(foreign.path(), "0000000001.json", 1, "TheirOwn");
  const CliError e =
      CatchCliError([&] { ExportDotnet(store_->NewReader(), foreign.path(), 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("did not write"), std::string::npos) << e.message;
  EXPECT_EQ(ReadFolder(foreign.path()).at(0).event.type, "TheirOwn");
}

TEST_F(DotnetTest, ExportFromAPositionStartsTheMirrorThere) {
  for (int i = 0; i < 5; ++i) Append(JsonEvent(i % 2 ? "Odd" : "Even", {}, "{}"));
  const fs::path out = dir_.path() / "mirror";
  DotnetExportResult r = ExportDotnet(store_->NewReader(), out, 3, false, nullptr);
  EXPECT_EQ(r.written, 3u);
  EXPECT_EQ(r.last_position, 5u);
  std::vector<EventView> views = All(*store_);
  views.erase(views.begin(), views.begin() + 2);
  ExpectFolderMirrors(out, views);
  EXPECT_EQ(ReadFileBytes(out / ".ledger"),
            "{\n  \"LastSequencePosition\": 5,\n  \"EventCount\": 3\n}\n");

  Append(JsonEvent("Odd", {}, "{}"));
  r = ExportDotnet(store_->NewReader(), out, 3, false, nullptr);  // `from` is no longer news
  EXPECT_EQ(r.written, 1u);
  EXPECT_EQ(IndexPositions(out / "Indices" / "EventType" / "Odd.json"),
            (std::vector<uint64_t>{4, 6}));

  // Past the mirror's end would leave a gap.
  for (int i = 0; i < 3; ++i) Append(JsonEvent("Odd", {}, "{}"));
  const CliError e =
      CatchCliError([&] { ExportDotnet(store_->NewReader(), out, 9, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("gap"), std::string::npos) << e.message;
}

TEST_F(DotnetTest, AnEmptyStoreExportsAnEmptyMirrorThatLaterFills) {
  const fs::path out = dir_.path() / "mirror";
  DotnetExportResult r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 0u);
  EXPECT_EQ(r.last_position, 0u);
  EXPECT_EQ(ReadFileBytes(out / ".ledger"),
            "{\n  \"LastSequencePosition\": 0,\n  \"EventCount\": 0\n}\n");
  EXPECT_TRUE(ReadFolder(out).empty());

  Append(JsonEvent("T", {}, "{}"));
  r = ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  EXPECT_EQ(r.written, 1u);
  ExpectFolderMirrors(out, All(*store_));
}

TEST_F(DotnetTest, OneExportIntoAFolderAtATime) {
  Append(JsonEvent("T", {}, "{}"));
  const fs::path out = dir_.path() / "mirror";
  fs::create_directories(out);
  const int fd = ::open(out.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another export holds the folder
  const CliError e =
      CatchCliError([&] { ExportDotnet(store_->NewReader(), out, 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kBusy);
  ::close(fd);
  EXPECT_EQ(ExportDotnet(store_->NewReader(), out, 1, false, nullptr).written, 1u);
}

TEST_F(DotnetTest, ADamagedCheckpointOrIndexIsReported) {
  Append(JsonEvent("T", {"k:v"}, "{}"));
  const fs::path out = dir_.path() / "mirror";
  ExportDotnet(store_->NewReader(), out, 1, false, nullptr);
  Append(JsonEvent("T", {"k:v"}, "{}"));

  ASSERT_TRUE(WriteFileBytes(out / "Indices" / "Tags" / "k_v.json", "{\"Positions\": [\"x\"]}"));
  CliError e = CatchCliError([&] { ExportDotnet(store_->NewReader(), out, 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find("k_v.json"), std::string::npos) << e.message;

  ASSERT_TRUE(WriteFileBytes(out / ".opossum-export.json", "{\"format\": 1}"));
  e = CatchCliError([&] { ExportDotnet(store_->NewReader(), out, 1, false, nullptr); });
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_NE(e.message.find(".opossum-export.json"), std::string::npos) << e.message;
}

// ---------------------------------------------------------------------------
// The text helpers

TEST(DotnetJsonTextTest, MembersAndIndent) {
  const std::string text = R"( { "a" : 1 , "b":{"c":[1, "x,]}"]},"d":"}" } )";
  const std::vector<JsonMember> m = JsonObjectMembers(text, SkipJsonSpace(text, 0));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].whole.Of(text), "\"a\" : 1");
  EXPECT_EQ(m[0].value.Of(text), "1");
  EXPECT_EQ(m[1].value.Of(text), R"({"c":[1, "x,]}"]})");
  EXPECT_EQ(m[2].value.Of(text), "\"}\"");

  std::string out;
  AppendIndentedJson(&out, text, 0);
  EXPECT_EQ(out,
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      1,\n      \"x,]}\"\n    ]\n"
            "  },\n  \"d\": \"}\"\n}");
  out.clear();
  AppendMinifiedJson(&out, text);
  EXPECT_EQ(out, R"({"a":1,"b":{"c":[1,"x,]}"]},"d":"}"})");
  out.clear();
  AppendIndentedJson(&out, " [ ] ", 3);
  EXPECT_EQ(out, "[]");
  out.clear();
  AppendIndentedJson(&out, "7", 1, "\"$type\": \"T\"");  // not an object: no member
  EXPECT_EQ(out, "7");
}

}  // namespace
}  // namespace opossum::cli
