// format::CheckJson, the check behind Event::data_is_json: fixed cases at
// every rule of the grammar, then random documents and single-byte mutations
// of them, each judged by simdjson's validating parser as well.
#include "format/json_check.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>
#include <vector>

#include "test_util.h"

namespace opossum::format {
namespace {

bool Valid(std::string_view s) { return CheckJson(s); }

TEST(JsonCheck, AcceptsEveryKindOfValue) {
  for (const char* s : {"null",
                        "true",
                        "false",
                        "0",
                        "-0",
                        "12",
                        "-12.5",
                        "1e3",
                        "1E+3",
                        "2.5e-10",
                        "\"\"",
                        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
                        "\"\\u00e9\\u00E9\"",
                        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\x80\"",
                        "[]",
                        "{}",
                        "[1,[2,[3]],{\"a\":{}}]",
                        "{\"a\":1,\"b\":[true,null]}",
                        " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
                        "\"\\ud800\"",
                        "123456789012345678901234567890",
                        "1e400"}) {
    EXPECT_TRUE(Valid(s)) << s;
  }
}

TEST(JsonCheck, RejectsWhatTheGrammarDoesNotAllow) {
  struct Case {
    const char* text;
    const char* what;
    size_t offset;
  };
  for (const Case& c : std::vector<Case>{
           {"", "expected a value, found the end", 0},
           {"   ", "expected a value, found the end", 3},
           {"{", "expected a string as an object's key", 1},
           {"[", "expected a value, found the end", 1},
           {"[1,]", "expected a value (object, array, string, number, true, false or null)", 3},
           {"{\"a\":1,}", "expected a string as an object's key", 7},
           {"{'a':1}", "expected a string as an object's key", 1},
           {"{\"a\" 1}", "expected ':' after an object's key", 5},
           {"[1 2]", "expected ',' or ']' in an array", 3},
           {"{\"a\":1 \"b\":2}", "expected ',' or '}' in an object", 7},
           {"01", "invalid number: leading zero", 0},
           {"-", "invalid number: a digit must follow '-'", 1},
           {"1.", "invalid number: a digit must follow '.'", 2},
           {"1e", "invalid number: the exponent has no digit", 2},
           {"+1", "expected a value (object, array, string, number, true, false or null)", 0},
           {"nan", "expected a value (object, array, string, number, true, false or null)", 0},
           {"tru", "expected a value (object, array, string, number, true, false or null)", 0},
           {"\"abc", "unterminated string", 0},
           {"\"a\\", "unterminated string", 0},
           {"\"a\tb\"", "control character in a string (it must be escaped)", 2},
           {"\"\\x\"", "invalid escape in a string", 1},
           {"\"\\u12g4\"", "\\u must be followed by four hex digits", 1},
           {"{} {}", "more text after the JSON value", 3},
           {"1 2", "more text after the JSON value", 2},
           {"\"\xff\"", "not valid UTF-8", 1},
           {"[\"ok\", \"\xc3\"]", "not valid UTF-8", 8},
       }) {
    JsonProblem problem;
    EXPECT_FALSE(CheckJson(c.text, &problem)) << c.text;
    ASSERT_NE(problem.what, nullptr) << c.text;
    EXPECT_STREQ(problem.what, c.what) << c.text;
    EXPECT_EQ(problem.offset, c.offset) << c.text;
  }
}

TEST(JsonCheck, DeepNestingNeedsNoRecursion) {
  for (size_t depth : {255u, 256u, 257u, 100000u}) {
    std::string arrays = std::string(depth, '[') + std::string(depth, ']');
    EXPECT_TRUE(Valid(arrays)) << depth;
    EXPECT_FALSE(Valid(arrays.substr(0, arrays.size() - 1))) << depth;
    std::string objects;
    for (size_t i = 0; i < depth; ++i) objects += "{\"k\":";
    objects += "0" + std::string(depth, '}');
    EXPECT_TRUE(Valid(objects)) << depth;
    // A closing bracket of the wrong kind, deep inside.
    std::string mixed = std::string(depth, '[') + "{" + std::string(depth, ']') + "}";
    EXPECT_FALSE(Valid(mixed)) << depth;
  }
}

// A random document of small numbers (simdjson refuses numbers beyond a
// double, which the grammar allows) and no \u escapes of surrogates (it
// refuses lone ones, which the grammar allows too).
void RandomValue(std::mt19937_64& rng, int depth, std::string* out) {
  static const char* kScalars[] = {"null",         "true",        "false",  "0",
                                   "-1",           "42",          "3.25",   "-0.5e3",
                                   "1E-2",         "\"\"",        "\"ab\"", "\"\\n\\u00e9\"",
                                   "\"\xc3\xa9\"", "\" q \\\" \""};
  std::uniform_int_distribution<int> pick(0, depth > 4 ? 0 : 3);
  const char* ws[] = {"", " ", "\n", "\t "};
  auto space = [&] { out->append(ws[rng() % 4]); };
  switch (pick(rng)) {
    case 0:
    case 1:
      out->append(kScalars[rng() % std::size(kScalars)]);
      break;
    case 2: {
      out->push_back('[');
      int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out->push_back(',');
        space();
        RandomValue(rng, depth + 1, out);
        space();
      }
      out->push_back(']');
      break;
    }
    default: {
      out->push_back('{');
      int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out->push_back(',');
        space();
        out->append("\"k" + std::to_string(i) + "\"");
        space();
        out->push_back(':');
        space();
        RandomValue(rng, depth + 1, out);
      }
      out->push_back('}');
      break;
    }
  }
}

TEST(JsonCheck, AgreesWithSimdjsonOnRandomDocumentsAndMutations) {
  const uint64_t seed = opossum::testing::TestSeed();
  std::mt19937_64 rng(seed);
  simdjson::dom::parser parser;
  const std::string alphabet = "{}[]:,\"\\ 0123456789.eE+-tfnulrsa\x01\x7f\xc3\xa9";
  int invalid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string doc;
    RandomValue(rng, 0, &doc);
    ASSERT_TRUE(Valid(doc)) << doc;
    // One byte replaced, inserted or removed.
    std::string m = doc;
    size_t at = rng() % (m.size() + 1);
    char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
      case 0:
        if (at < m.size()) m[at] = c;
        break;
      case 1:
        m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        if (at < m.size()) m.erase(at, 1);
        break;
    }
    if (m.find("\\ud") != std::string::npos || m.find("\\uD") != std::string::npos) continue;
    const bool theirs = parser.parse(m.data(), m.size(), true).error() == simdjson::SUCCESS;
    EXPECT_EQ(Valid(m), theirs) << "document: " << m;
    invalid += !theirs;
  }
  // The mutations must have tried the rejecting side too.
  EXPECT_GT(invalid, 2000);
}

}  // namespace
}  // namespace opossum::format
