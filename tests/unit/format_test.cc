// Unit tests of engine/src/format: the checks every event passes before it is
// encoded (EncodeEvent, IsValidUtf8), the framing of batches and records
// (AppendBatch, CheckBatch, CheckRecord) and the FlatBuffers verifier glue
// (VerifyEventBytes).
//
// In the manner of LevelDB's log_test, the batch tests walk every edge of the
// record format: a batch cut at every byte, every single bit flipped, the
// checksum chain, each header field given bad values (with checksums
// recomputed, so that the structural check itself is what is tested), and
// random garbage through the verifier.
//
// Randomized tests print their seed; OPOSSUM_SEED=<seed> repeats a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/batch.h"
#include "format/checksum.h"
#include "format/event_codec.h"
#include "format/layout.h"
#include "opossum/event.h"
#include "opossum/status.h"
#include "store/event_view_access.h"
#include "test_util.h"

namespace opossum::format {
namespace {

using opossum::testing::TestSeed;
using ::testing::HasSubstr;

constexpr uint32_t kMaxSize = 1 << 20;

Event MakeEvent(std::string type, std::vector<std::string> tags = {}, std::string data = {}) {
  Event e;
  e.type = std::move(type);
  e.tags = std::move(tags);
  e.data = std::move(data);
  return e;
}

Status Encode(const Event& e, EncodedEvent* out, uint32_t max_size = kMaxSize, size_t index = 0) {
  return EncodeEvent(e, max_size, index, out);
}

EncodedEvent MustEncode(const Event& e) {
  EncodedEvent out;
  Status s = EncodeEvent(e, kMaxSize, 0, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Events of varied sizes, so that record padding takes every value.
Vec<EncodedEvent> SomeEvents(size_t n, uint64_t salt = 0) {
  Vec<EncodedEvent> out;
  for (size_t i = 0; i < n; ++i) {
    Event e = MakeEvent("type" + std::string(i % 7, 't'), {"k:" + std::to_string(i + salt)},
                        std::string((i * 5 + salt) % 23, static_cast<char>('a' + i % 26)));
    if (i % 3 == 1) e.timestamp_ns = 1000 + static_cast<int64_t>(i);
    out.push_back(MustEncode(e));
  }
  return out;
}

// The batch header at `off`, read and written as plain bytes.
BatchHeader HeaderAt(const std::vector<uint8_t>& buf, uint64_t off) {
  return LoadUnaligned<BatchHeader>(buf.data() + off);
}
void PutHeader(std::vector<uint8_t>* buf, uint64_t off, const BatchHeader& h) {
  std::memcpy(buf->data() + off, &h, sizeof(h));
}
// Recomputes the checksum of the batch at `off` after a deliberate change,
// from the records' checksums at `record_offsets`.
void ResealBatch(std::vector<uint8_t>* buf, uint64_t off, uint64_t prev,
                 const std::vector<uint64_t>& record_offsets) {
  std::vector<uint32_t> sums;
  for (uint64_t r : record_offsets) sums.push_back(LoadUnaligned<uint32_t>(buf->data() + r + 4));
  uint64_t c = BatchChecksum(buf->data() + off, sums.data(), sums.size(), prev);
  std::memcpy(buf->data() + off + 24, &c, 8);
}
// Recomputes the checksum of the record at `off`.
void ResealRecord(std::vector<uint8_t>* buf, uint64_t off) {
  RecordHeader rh = LoadUnaligned<RecordHeader>(buf->data() + off);
  uint32_t c = RecordChecksum(buf->data() + off, rh.length);
  std::memcpy(buf->data() + off + 4, &c, 4);
}

BatchCheck Check(const std::vector<uint8_t>& buf, uint64_t limit, uint64_t offset,
                 uint64_t expected_first, uint64_t prev, bool deep = true,
                 std::string* why = nullptr, BatchInfo* info = nullptr,
                 std::vector<uint64_t>* offsets = nullptr) {
  BatchInfo local_info;
  std::string local_why;
  return CheckBatch(buf.data(), limit, offset, expected_first, prev, deep,
                    info ? info : &local_info, offsets, why ? why : &local_why);
}

const char* Name(BatchCheck c) {
  switch (c) {
    case BatchCheck::kValid:
      return "kValid";
    case BatchCheck::kEmpty:
      return "kEmpty";
    case BatchCheck::kInvalid:
      return "kInvalid";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// EncodeEvent: the limits of docs/semantics.md ("Limits") and the messages
// that name them.

TEST(FormatEncodeTest, TypeLengthLimits) {
  EncodedEvent out;
  Status s = Encode(MakeEvent(""), &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("type is empty"));

  EXPECT_TRUE(Encode(MakeEvent("x"), &out).ok());
  EXPECT_TRUE(Encode(MakeEvent(std::string(255, 'x')), &out).ok());

  s = Encode(MakeEvent(std::string(256, 'x')), &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("256 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("255"));

  // 255 bytes of a multi-byte character sequence still count in bytes.
  std::string euro;
  for (int i = 0; i < 85; ++i) euro += "\xe2\x82\xac";  // 255 bytes
  EXPECT_TRUE(Encode(MakeEvent(euro), &out).ok());
  EXPECT_TRUE(Encode(MakeEvent(euro + "a"), &out).IsInvalidArgument());
}

TEST(FormatEncodeTest, MessagesNameTheEventIndex) {
  EncodedEvent out;
  Status s = Encode(MakeEvent(""), &out, kMaxSize, 7);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("event 7"));
  s = Encode(MakeEvent("t", {""}), &out, kMaxSize, 12);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("event 12"));
}

TEST(FormatEncodeTest, TypeMustBeValidUtf8) {
  const char* bad[] = {
      "\xff",              // never valid
      "\x80",              // lone continuation byte
      "\xc0\xaf",          // overlong '/'
      "\xc1\xbf",          // overlong
      "\xe0\x80\xaf",      // overlong, 3 bytes
      "\xf0\x80\x80\xaf",  // overlong, 4 bytes
      "\xed\xa0\x80",      // surrogate U+D800
      "\xed\xbf\xbf",      // surrogate U+DFFF
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xe2\x82",          // truncated
      "ok\xe2",            // truncated at the end
  };
  for (const char* t : bad) {
    EncodedEvent out;
    Status s = Encode(MakeEvent(t), &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << "type \"" << t << "\": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("UTF-8"));
  }
  EncodedEvent out;
  EXPECT_TRUE(Encode(MakeEvent("caf\xc3\xa9 \xf0\x9f\x90\xbe"), &out).ok());
}

TEST(FormatEncodeTest, TagCountLimitCountsDistinctTags) {
  std::vector<std::string> tags;
  for (int i = 0; i < 64; ++i) tags.push_back("tag" + std::to_string(i));
  EncodedEvent out;
  EXPECT_TRUE(Encode(MakeEvent("t", tags), &out).ok());
  EXPECT_EQ(out.tag_hashes.size(), 64u);

  // 65 given, one a duplicate: 64 distinct, fine.
  auto with_dup = tags;
  with_dup.push_back("tag0");
  EXPECT_TRUE(Encode(MakeEvent("t", with_dup), &out).ok());
  EXPECT_EQ(out.tag_hashes.size(), 64u);

  auto too_many = tags;
  too_many.push_back("tag64");
  Status s = Encode(MakeEvent("t", too_many), &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("65 distinct tags"));
  EXPECT_THAT(s.message(), HasSubstr("64"));
}

TEST(FormatEncodeTest, DuplicateTagsDroppedAndSorted) {
  EncodedEvent out;
  ASSERT_TRUE(Encode(MakeEvent("t", {"b", "a", "c", "a", "b", "B", "\xc3\xa9"}), &out).ok());
  const std::vector<std::string> want = {"B", "a", "b", "c", "\xc3\xa9"};  // bytewise
  ASSERT_TRUE(VerifyEventBytes(out.bytes.data(), out.bytes.size()));
  const void* table = TableFromBytes(out.bytes.data());
  ASSERT_EQ(TableTagCount(table), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(TableTag(table, i), want[i]) << i;
  ASSERT_EQ(out.tag_hashes.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(out.tag_hashes[i], KeyHash(KeyKind::kTag, want[i])) << i;
  }
  for (const auto& t : want) EXPECT_TRUE(TableHasTag(table, t)) << t;
  EXPECT_FALSE(TableHasTag(table, "d"));
  EXPECT_FALSE(TableHasTag(table, ""));
}

TEST(FormatEncodeTest, TagLimits) {
  EncodedEvent out;
  EXPECT_TRUE(Encode(MakeEvent("t", {std::string(255, 'x')}), &out).ok());
  Status s = Encode(MakeEvent("t", {std::string(256, 'x')}), &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("256 bytes"));

  s = Encode(MakeEvent("t", {"ok", ""}), &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("empty"));

  for (const char* t : {"\xc0\xaf", "\xed\xa0\x80", "a\xff"}) {
    s = Encode(MakeEvent("t", {t}), &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("UTF-8"));
  }
}

TEST(FormatEncodeTest, TagControlCharacters) {
  std::vector<std::string> bad = {"a\nb", "\t", "x\x1f", "del\x7f", std::string("nul\0x", 5), "\r"};
  for (const std::string& t : bad) {
    EncodedEvent out;
    Status s = Encode(MakeEvent("t", {t}), &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("control character"));
  }
  // Space, non-ASCII and punctuation are fine; so are control characters in
  // the type (only tags forbid them) and in data.
  EncodedEvent out;
  EXPECT_TRUE(Encode(MakeEvent("t", {" ", "a b", "\xc2\x80", "~!:"}), &out).ok());
  EXPECT_TRUE(Encode(MakeEvent("t\n", {}, std::string("\0\x01\xff", 3)), &out).ok());
}

TEST(FormatEncodeTest, MetadataMustBeValidUtf8) {
  Event e = MakeEvent("t");
  e.metadata = {{"k", "\xed\xa0\x80"}};
  EncodedEvent out;
  Status s = Encode(e, &out);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("metadata"));
  e.metadata = {{"\xc0\x80", "v"}};
  EXPECT_TRUE(Encode(e, &out).IsInvalidArgument());
  e.metadata = {{"k", "v"}, {"", ""}};
  EXPECT_TRUE(Encode(e, &out).ok());
}

TEST(FormatEncodeTest, DataSizeLimit) {
  EncodedEvent out;
  EXPECT_TRUE(Encode(MakeEvent("t", {}, std::string(1000, 'd')), &out, 1000).ok());
  Status s = Encode(MakeEvent("t", {}, std::string(1001, 'd')), &out, 1000);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("1001 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("1000"));
  // Zero bytes of data is fine, even with max_event_size 0.
  EXPECT_TRUE(Encode(MakeEvent("t"), &out, 0).ok());
  EXPECT_TRUE(Encode(MakeEvent("t", {}, "x"), &out, 0).IsInvalidArgument());
}

TEST(FormatEncodeTest, EncodedSizeBoundsMetadata) {
  // Data within the limit, but metadata makes the table far larger.
  Event e = MakeEvent("t", {}, "small");
  e.metadata = {{"big", std::string((1 << 20) + 100, 'm')}};
  EncodedEvent out;
  Status s = Encode(e, &out, 100);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("encodes to"));
}

TEST(FormatEncodeTest, BinaryDataKeepsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  Event e = MakeEvent("blob", {}, bytes);
  EncodedEvent out;
  ASSERT_TRUE(Encode(e, &out).ok());
  EventView v = internal::EventViewAccess::Make(1, 1, TableFromBytes(out.bytes.data()));
  EXPECT_EQ(v.data(), bytes);
  EXPECT_FALSE(v.data_is_json());
}

TEST(FormatEncodeTest, RoundTripsEveryField) {
  // JSON data (checked as JSON) with an escaped NUL: the bytes round-trip
  // as they are. Raw NULs in binary data: FormatEncodeTest.BinaryDataKeepsEveryByte.
  Event e = MakeEvent("order-placed", {"z:1", "a:2"}, "{\"x\":\"\\u0000\"}");
  e.data_is_json = true;
  e.id = Uuid::Parse("01234567-89ab-cdef-0011-223344556677");
  ASSERT_TRUE(e.id.has_value());
  e.metadata = {{"b", "2"}, {"a", "1"}};
  e.timestamp_ns = 123456789;
  EncodedEvent out;
  ASSERT_TRUE(Encode(e, &out).ok());
  EXPECT_EQ(out.type_hash, KeyHash(KeyKind::kType, "order-placed"));
  EXPECT_EQ(out.timestamp_ns, std::optional<int64_t>(123456789));
  EXPECT_EQ(out.id, e.id);
  ASSERT_TRUE(VerifyEventBytes(out.bytes.data(), out.bytes.size()));

  EventView v = internal::EventViewAccess::Make(5, 77, TableFromBytes(out.bytes.data()));
  Event back = v.ToEvent();
  EXPECT_EQ(back.type, e.type);
  EXPECT_EQ(back.tags, (std::vector<std::string>{"a:2", "z:1"}));
  EXPECT_EQ(back.data, e.data);
  EXPECT_TRUE(back.data_is_json);
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.metadata, e.metadata);  // kept in the order given
  EXPECT_EQ(back.timestamp_ns, std::optional<int64_t>(77));

  // Without an id, data or tags.
  Event bare = MakeEvent("bare");
  ASSERT_TRUE(Encode(bare, &out).ok());
  EXPECT_FALSE(out.id.has_value());
  EXPECT_FALSE(out.timestamp_ns.has_value());
  EventView bv = internal::EventViewAccess::Make(1, 0, TableFromBytes(out.bytes.data()));
  EXPECT_EQ(bv.type(), "bare");
  EXPECT_EQ(bv.tag_count(), 0u);
  EXPECT_EQ(bv.data(), "");
  EXPECT_FALSE(bv.id().has_value());
  EXPECT_FALSE(bv.data_is_json());
  EXPECT_EQ(bv.metadata_count(), 0u);
}

// ---------------------------------------------------------------------------
// IsValidUtf8.

struct Utf8Case {
  const char* name;
  std::string bytes;
  bool valid;
};

TEST(FormatUtf8Test, Table) {
  const Utf8Case cases[] = {
      {"empty", "", true},
      {"ascii", "hello, world", true},
      {"embedded NUL", std::string("a\0b", 3), true},
      {"DEL", "\x7f", true},
      {"U+0080", "\xc2\x80", true},
      {"U+07FF", "\xdf\xbf", true},
      {"U+0800", "\xe0\xa0\x80", true},
      {"U+D7FF", "\xed\x9f\xbf", true},
      {"U+E000", "\xee\x80\x80", true},
      {"U+FFFD", "\xef\xbf\xbd", true},
      {"U+FFFF", "\xef\xbf\xbf", true},
      {"U+10000", "\xf0\x90\x80\x80", true},
      {"U+10FFFF", "\xf4\x8f\xbf\xbf", true},
      {"mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", true},
      {"lone continuation 80", "\x80", false},
      {"lone continuation BF", "\xbf", false},
      {"overlong NUL C0 80", std::string("\xc0\x80", 2), false},
      {"overlong C1 BF", "\xc1\xbf", false},
      {"overlong 3-byte E0 80 80", "\xe0\x80\x80", false},
      {"overlong 3-byte E0 9F BF", "\xe0\x9f\xbf", false},
      {"overlong 4-byte F0 80 80 80", "\xf0\x80\x80\x80", false},
      {"overlong 4-byte F0 8F BF BF", "\xf0\x8f\xbf\xbf", false},
      {"surrogate D800", "\xed\xa0\x80", false},
      {"surrogate DBFF", "\xed\xaf\xbf", false},
      {"surrogate DC00", "\xed\xb0\x80", false},
      {"surrogate DFFF", "\xed\xbf\xbf", false},
      {"surrogate pair as CESU-8", "\xed\xa0\xbd\xed\xb8\x80", false},
      {"above U+10FFFF F4 90", "\xf4\x90\x80\x80", false},
      {"F5 lead", "\xf5\x80\x80\x80", false},
      {"F7 lead", "\xf7\xbf\xbf\xbf", false},
      {"5-byte form", "\xf8\x88\x80\x80\x80", false},
      {"6-byte form", "\xfc\x84\x80\x80\x80\x80", false},
      {"FE", "\xfe", false},
      {"FF", "\xff", false},
      {"truncated 2-byte", "\xc2", false},
      {"truncated 3-byte", "\xe2\x82", false},
      {"truncated 4-byte", "\xf0\x9f\x98", false},
      {"truncated at end", "abc\xe2\x82", false},
      {"bad continuation ASCII", "\xc2\x41", false},
      {"bad continuation lead", "\xe2\xc2\x80", false},
      {"continuation after complete char", "\xc3\xa9\x80", false},
      {"8 ASCII then valid", "abcdefgh\xc3\xa9", true},
      {"16 ASCII then valid 4-byte", "abcdefghijklmnop\xf0\x9f\x98\x80", true},
      {"long ASCII", std::string(1000, 'a'), true},
      {"8 ASCII then lone continuation", "abcdefgh\x80", false},
      {"16 ASCII then overlong", "abcdefghijklmnop\xc0\xaf", false},
      {"8 ASCII then truncated", "12345678\xe2\x82", false},
      {"invalid between ASCII runs",
       "abcdefgh\xff"
       "abcdefgh",
       false},
      {"surrogate after 9 ASCII", "123456789\xed\xa0\x80", false},
      {"invalid in the 8th byte", "abcdefg\xff", false},
      {"valid then 8 ASCII then invalid",
       "\xc3\xa9"
       "abcdefgh\xc0",
       false},
  };
  for (const Utf8Case& c : cases) {
    EXPECT_EQ(IsValidUtf8(c.bytes), c.valid) << c.name;
  }
}

// A second formulation of UTF-8, straight from Table 3-7 of the Unicode
// standard (well-formed byte sequences).
bool ReferenceUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  auto in = [&](size_t k, unsigned lo, unsigned hi) {
    return i + k < n && p[i + k] >= lo && p[i + k] <= hi;
  };
  while (i < n) {
    unsigned c = p[i];
    if (c <= 0x7f) {
      i += 1;
    } else if (c >= 0xc2 && c <= 0xdf && in(1, 0x80, 0xbf)) {
      i += 2;
    } else if (c == 0xe0 && in(1, 0xa0, 0xbf) && in(2, 0x80, 0xbf)) {
      i += 3;
    } else if (((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) && in(1, 0x80, 0xbf) &&
               in(2, 0x80, 0xbf)) {
      i += 3;
    } else if (c == 0xed && in(1, 0x80, 0x9f) && in(2, 0x80, 0xbf)) {
      i += 3;
    } else if (c == 0xf0 && in(1, 0x90, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf)) {
      i += 4;
    } else if (c >= 0xf1 && c <= 0xf3 && in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) &&
               in(3, 0x80, 0xbf)) {
      i += 4;
    } else if (c == 0xf4 && in(1, 0x80, 0x8f) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

TEST(FormatUtf8Test, AgreesWithReferenceOnRandomBytes) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  // Bytes drawn mostly from the interesting boundaries.
  const uint8_t pool[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                          0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
                          0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff};
  int valid = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    // Short strings, and longer ones with ASCII runs (the eight-at-a-time
    // fast path) around the interesting bytes.
    const bool longer = iter % 2 == 1;
    std::string s(rng() % (longer ? 40 : 7), '\0');
    for (char& ch : s) {
      if (longer && rng() % 8 != 0) {
        ch = static_cast<char>(0x20 + rng() % 0x5f);
      } else {
        ch = static_cast<char>(rng() % 4 == 0 ? static_cast<uint8_t>(rng())
                                              : pool[rng() % sizeof(pool)]);
      }
    }
    bool want = ReferenceUtf8(s);
    valid += want;
    ASSERT_EQ(IsValidUtf8(s), want) << "seed " << seed << ", bytes " << ::testing::PrintToString(s);
  }
  EXPECT_GT(valid, 1000);  // the generator reaches both answers
}

TEST(FormatUtf8Test, EveryCodePointEncodesValidly) {
  // Every scalar value, encoded by hand, is valid; every surrogate is not.
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(IsValidUtf8(s), !surrogate) << "U+" << std::hex << cp;
  }
}

// ---------------------------------------------------------------------------
// AppendBatch + CheckBatch.

TEST(FormatBatchTest, RoundTripOneEvent) {
  Vec<EncodedEvent> events;
  events.push_back(MustEncode(MakeEvent("one", {"a"}, "payload")));
  std::vector<uint8_t> buf;
  std::vector<uint64_t> offsets;
  uint64_t sum = AppendBatch(events, 1, 4242, 0, &buf, &offsets);
  ASSERT_EQ(buf.size(), BatchLength(events));
  EXPECT_EQ(buf.size() % kAlign, 0u);
  EXPECT_EQ(buf.size(), kBatchHeaderSize + Align8(kRecordHeaderSize + events[0].bytes.size()));
  ASSERT_EQ(offsets, std::vector<uint64_t>{kBatchHeaderSize});

  BatchHeader h = HeaderAt(buf, 0);
  EXPECT_EQ(h.magic, kBatchMagic);
  EXPECT_EQ(h.count, 1u);
  EXPECT_EQ(h.first_position, 1u);
  EXPECT_EQ(h.length, buf.size());
  EXPECT_EQ(h.checksum, sum);

  BatchInfo info;
  std::vector<uint64_t> got;
  std::string why;
  ASSERT_EQ(Check(buf, buf.size(), 0, 1, 0, true, &why, &info, &got), BatchCheck::kValid) << why;
  EXPECT_EQ(info.count, 1u);
  EXPECT_EQ(info.first_position, 1u);
  EXPECT_EQ(info.length, buf.size());
  EXPECT_EQ(info.checksum, sum);
  EXPECT_EQ(got, offsets);

  const RecordHeader* rh = nullptr;
  ASSERT_TRUE(CheckRecord(buf.data(), buf.size(), offsets[0], 1, &rh, &why)) << why;
  EXPECT_EQ(rh->position, 1u);
  EXPECT_EQ(rh->timestamp_ns, 4242);  // the commit time: the event had none
  ASSERT_EQ(rh->length, events[0].bytes.size());
  EXPECT_EQ(0, std::memcmp(buf.data() + offsets[0] + kRecordHeaderSize, events[0].bytes.data(),
                           rh->length));
  EXPECT_EQ(TableType(TableFromBytes(buf.data() + offsets[0] + kRecordHeaderSize)), "one");
}

TEST(FormatBatchTest, RoundTripManyEventsAfterAPrefix) {
  // A batch appended after other bytes (as after a segment header): offsets
  // are relative to the start of the buffer, timestamps are the event's own
  // when it has one, padding is zero.
  Vec<EncodedEvent> events = SomeEvents(40);
  std::vector<uint8_t> buf(kSegmentHeaderSize, 0xAB);
  std::vector<uint64_t> offsets;
  uint64_t sum = AppendBatch(events, 100, -5, 77, &buf, &offsets);
  ASSERT_EQ(buf.size(), kSegmentHeaderSize + BatchLength(events));
  ASSERT_EQ(offsets.size(), events.size());

  uint64_t expect_off = kSegmentHeaderSize + kBatchHeaderSize;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(offsets[i], expect_off) << i;
    EXPECT_EQ(offsets[i] % kAlign, 0u);
    const RecordHeader* rh = nullptr;
    std::string why;
    ASSERT_TRUE(CheckRecord(buf.data(), buf.size(), offsets[i], 100 + i, &rh, &why)) << why;
    EXPECT_EQ(rh->timestamp_ns, events[i].timestamp_ns ? *events[i].timestamp_ns : -5) << i;
    ASSERT_EQ(rh->length, events[i].bytes.size());
    const uint8_t* fb = buf.data() + offsets[i] + kRecordHeaderSize;
    EXPECT_EQ(0, std::memcmp(fb, events[i].bytes.data(), rh->length)) << i;
    EXPECT_TRUE(VerifyEventBytes(fb, rh->length)) << i;
    uint64_t rec_end = offsets[i] + kRecordHeaderSize + rh->length;
    uint64_t padded = offsets[i] + Align8(kRecordHeaderSize + rh->length);
    for (uint64_t b = rec_end; b < padded; ++b) EXPECT_EQ(buf[b], 0) << "padding at " << b;
    expect_off = padded;
  }
  EXPECT_EQ(expect_off, buf.size());

  BatchInfo info;
  std::vector<uint64_t> got = {999};  // CheckBatch appends
  std::string why;
  ASSERT_EQ(Check(buf, buf.size(), kSegmentHeaderSize, 100, 77, true, &why, &info, &got),
            BatchCheck::kValid)
      << why;
  EXPECT_EQ(info.count, 40u);
  EXPECT_EQ(info.first_position, 100u);
  EXPECT_EQ(info.length, BatchLength(events));
  EXPECT_EQ(info.checksum, sum);
  ASSERT_EQ(got.size(), 41u);
  EXPECT_EQ(got[0], 999u);
  EXPECT_EQ(std::vector<uint64_t>(got.begin() + 1, got.end()), offsets);
  // Without record offsets wanted.
  EXPECT_EQ(Check(buf, buf.size(), kSegmentHeaderSize, 100, 77, false), BatchCheck::kValid);
}

// Scans a buffer as recovery does: batch after batch until an empty one.
TEST(FormatBatchTest, ChainOfBatchesScansToEmpty) {
  std::vector<uint8_t> buf(kSegmentHeaderSize, 0);
  uint64_t prev = 0, pos = 1;
  std::vector<uint64_t> all_offsets;
  std::vector<uint64_t> sums;
  for (size_t n : {1, 3, 2, 17, 1}) {
    auto events = SomeEvents(n, pos);
    prev = AppendBatch(events, pos, 1, prev, &buf, &all_offsets);
    sums.push_back(prev);
    pos += n;
  }
  const uint64_t used = buf.size();
  buf.resize(used + 4096, 0);  // the preallocated, never-written rest

  uint64_t off = kSegmentHeaderSize, expect = 1, chain = 0;
  std::vector<uint64_t> offsets;
  size_t batches = 0;
  while (true) {
    BatchInfo info;
    std::string why;
    BatchCheck c = Check(buf, buf.size(), off, expect, chain, true, &why, &info, &offsets);
    if (c == BatchCheck::kEmpty) break;
    ASSERT_EQ(c, BatchCheck::kValid) << why << " at " << off;
    ASSERT_LT(batches, sums.size());
    EXPECT_EQ(info.checksum, sums[batches]);
    ++batches;
    off += info.length;
    expect += info.count;
    chain = info.checksum;
  }
  EXPECT_EQ(batches, 5u);
  EXPECT_EQ(off, used);
  EXPECT_EQ(expect, pos);
  EXPECT_EQ(offsets, all_offsets);
  // Less room than a header at the very end: empty, not invalid.
  for (uint64_t k = 0; k < kBatchHeaderSize; k += 8) {
    EXPECT_EQ(Check(buf, buf.size(), buf.size() - k, expect, chain), BatchCheck::kEmpty) << k;
  }
}

TEST(FormatBatchTest, AllZeroBytesAreEmpty) {
  std::vector<uint8_t> zeros(4096, 0);
  for (uint64_t off : {uint64_t{0}, uint64_t{64}, uint64_t{4096 - 32}}) {
    EXPECT_EQ(Check(zeros, zeros.size(), off, 1, 0), BatchCheck::kEmpty) << off;
    EXPECT_EQ(Check(zeros, zeros.size(), off, 12345, 999), BatchCheck::kEmpty) << off;
  }
  // Any non-zero header byte makes it not empty.
  for (uint64_t i = 0; i < kBatchHeaderSize; ++i) {
    std::vector<uint8_t> z = zeros;
    z[i] = 1;
    EXPECT_EQ(Check(z, z.size(), 0, 1, 0), BatchCheck::kInvalid) << "byte " << i;
  }
}

TEST(FormatBatchTest, TruncatedAtEveryByteIsNeverValid) {
  for (size_t n : {1, 5}) {
    std::vector<uint8_t> buf(kSegmentHeaderSize, 0);
    AppendBatch(SomeEvents(n), 1, 1, 0, &buf, nullptr);
    const uint64_t start = kSegmentHeaderSize;
    ASSERT_EQ(Check(buf, buf.size(), start, 1, 0), BatchCheck::kValid);
    for (uint64_t limit = start; limit < buf.size(); ++limit) {
      for (bool deep : {false, true}) {
        BatchCheck c = Check(buf, limit, start, 1, 0, deep);
        EXPECT_NE(c, BatchCheck::kValid) << "limit " << limit << " of " << buf.size();
        if (limit < start + kBatchHeaderSize) {
          EXPECT_EQ(c, BatchCheck::kEmpty) << "limit " << limit;
        } else {
          EXPECT_EQ(c, BatchCheck::kInvalid) << "limit " << limit;
        }
      }
    }
  }
}

TEST(FormatBatchTest, TornWriteAtEveryByteIsNeverValid) {
  // A write cut short: the bytes from k on were never written (zeros).
  for (size_t n : {1, 4}) {
    std::vector<uint8_t> good;
    AppendBatch(SomeEvents(n, 3), 9, 1, 55, &good, nullptr);
    good.resize(good.size() + 256, 0);
    uint64_t last_nonzero = 0;
    for (uint64_t i = 0; i < good.size(); ++i) {
      if (good[i] != 0) last_nonzero = i;
    }
    for (uint64_t k = 0; k <= last_nonzero; ++k) {
      std::vector<uint8_t> torn = good;
      std::fill(torn.begin() + static_cast<std::ptrdiff_t>(k), torn.end(), 0);
      BatchCheck c = Check(torn, torn.size(), 0, 9, 55);
      EXPECT_EQ(c, k == 0 ? BatchCheck::kEmpty : BatchCheck::kInvalid)
          << "torn at " << k << ": " << Name(c);
    }
  }
}

TEST(FormatBatchTest, EverySingleBitFlipIsInvalid) {
  for (size_t n : {1, 3}) {
    std::vector<uint8_t> buf(kSegmentHeaderSize, 0);
    uint64_t prev = AppendBatch(SomeEvents(2), 1, 1, 0, &buf, nullptr);
    const uint64_t start = buf.size();
    AppendBatch(SomeEvents(n, 11), 3, 1, prev, &buf, nullptr);  // the batch under test
    buf.resize(buf.size() + 64, 0);
    ASSERT_EQ(Check(buf, buf.size(), start, 3, prev), BatchCheck::kValid);
    const uint64_t length = HeaderAt(buf, start).length;
    for (uint64_t i = start; i < start + length; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        buf[i] ^= static_cast<uint8_t>(1u << bit);
        for (bool deep : {false, true}) {
          std::string why;
          BatchCheck c = Check(buf, buf.size(), start, 3, prev, deep, &why);
          EXPECT_EQ(c, BatchCheck::kInvalid)
              << "byte " << i - start << " bit " << bit << ": " << Name(c);
          EXPECT_FALSE(why.empty());
        }
        buf[i] ^= static_cast<uint8_t>(1u << bit);
      }
    }
    ASSERT_EQ(Check(buf, buf.size(), start, 3, prev), BatchCheck::kValid);
  }
}

TEST(FormatBatchTest, WrongExpectedFirstPosition) {
  std::vector<uint8_t> buf;
  AppendBatch(SomeEvents(3), 50, 1, 0, &buf, nullptr);
  for (uint64_t expect :
       {uint64_t{0}, uint64_t{1}, uint64_t{49}, uint64_t{51}, uint64_t{52}, UINT64_MAX}) {
    std::string why;
    EXPECT_EQ(Check(buf, buf.size(), 0, expect, 0, true, &why), BatchCheck::kInvalid) << expect;
    EXPECT_THAT(why, HasSubstr("expected " + std::to_string(expect)));
  }
  EXPECT_EQ(Check(buf, buf.size(), 0, 50, 0), BatchCheck::kValid);
}

TEST(FormatBatchTest, WrongPrevChecksumBreaksTheChain) {
  std::vector<uint8_t> buf;
  uint64_t first = AppendBatch(SomeEvents(2), 1, 1, 0, &buf, nullptr);
  const uint64_t second_off = buf.size();
  AppendBatch(SomeEvents(2, 5), 3, 1, first, &buf, nullptr);
  EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0), BatchCheck::kValid);
  EXPECT_EQ(Check(buf, buf.size(), second_off, 3, first), BatchCheck::kValid);
  for (uint64_t prev : {uint64_t{0}, first ^ 1, first ^ (uint64_t{1} << 63), ~first}) {
    std::string why;
    EXPECT_EQ(Check(buf, buf.size(), second_off, 3, prev, true, &why), BatchCheck::kInvalid)
        << prev;
    EXPECT_THAT(why, HasSubstr("checksum"));
  }
  // The first batch of a store is seeded with 0, not anything else.
  EXPECT_EQ(Check(buf, buf.size(), 0, 1, 1), BatchCheck::kInvalid);

  // The same events at the same place in an earlier life of the file (a
  // different chain) are not valid now.
  std::vector<uint8_t> stale;
  uint64_t other = AppendBatch(SomeEvents(2, 99), 1, 1, 0, &stale, nullptr);
  AppendBatch(SomeEvents(2, 5), 3, 1, other, &stale, nullptr);
  EXPECT_EQ(Check(stale, stale.size(), second_off, 3, first), BatchCheck::kInvalid);
}

TEST(FormatBatchTest, BadLengthValues) {
  std::vector<uint8_t> good;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(3), 1, 1, 0, &good, &offs);
  const uint64_t real = good.size();
  good.resize(real + 4096, 0);  // room past the batch, so "beyond limit" is not the reason
  const uint64_t lengths[] = {0,
                              8,
                              kBatchHeaderSize,
                              kBatchHeaderSize + kRecordHeaderSize,  // < 3 records
                              real + 1,
                              real + 4,
                              real - 4,
                              good.size() + 8,
                              uint64_t{1} << 40,
                              UINT64_MAX - 7,
                              UINT64_MAX};
  for (uint64_t len : lengths) {
    std::vector<uint8_t> buf = good;
    BatchHeader h = HeaderAt(buf, 0);
    h.length = len;
    PutHeader(&buf, 0, h);
    std::string why;
    EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0, true, &why), BatchCheck::kInvalid) << len;
    EXPECT_FALSE(why.empty());
  }
  // A length in bounds and resealed, but not what the records fill.
  for (uint64_t len : {real - 8, real + 8, real + 64}) {
    std::vector<uint8_t> buf = good;
    BatchHeader h = HeaderAt(buf, 0);
    h.length = len;
    PutHeader(&buf, 0, h);
    ResealBatch(&buf, 0, 0, offs);
    std::string why;
    EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0, false, &why), BatchCheck::kInvalid) << len;
    EXPECT_FALSE(why.empty()) << len;
  }
}

TEST(FormatBatchTest, BadCountValues) {
  std::vector<uint8_t> good;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(3), 1, 1, 0, &good, &offs);
  for (uint32_t count : {0u, 1u, 2u, 4u, 1000u, UINT32_MAX}) {
    for (bool reseal : {false, true}) {
      std::vector<uint8_t> buf = good;
      BatchHeader h = HeaderAt(buf, 0);
      h.count = count;
      PutHeader(&buf, 0, h);
      if (reseal) {
        std::vector<uint64_t> first(offs.begin(), offs.begin() + std::min<uint32_t>(count, 3));
        ResealBatch(&buf, 0, 0, first);
      }
      std::string why;
      EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0, false, &why), BatchCheck::kInvalid)
          << "count " << count << (reseal ? " resealed" : "");
      EXPECT_FALSE(why.empty());
    }
  }
}

TEST(FormatBatchTest, ForgedRecordsAreCaughtByStructure) {
  // Damage that keeps every checksum right (a bug, not bit rot): the
  // structural checks alone must catch it.
  std::vector<uint8_t> good;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(3), 10, 1, 0, &good, &offs);
  const uint64_t len = good.size();
  auto forge = [&](const std::function<void(RecordHeader*)>& change, size_t which) {
    std::vector<uint8_t> buf = good;
    RecordHeader rh = LoadUnaligned<RecordHeader>(buf.data() + offs[which]);
    change(&rh);
    std::memcpy(buf.data() + offs[which], &rh, sizeof(rh));
    if (offs[which] + kRecordHeaderSize + rh.length <= len) ResealRecord(&buf, offs[which]);
    ResealBatch(&buf, 0, 0, offs);
    return buf;
  };
  for (size_t which = 0; which < 3; ++which) {
    std::string why;
    auto buf = forge([](RecordHeader* r) { r->position += 1; }, which);
    EXPECT_EQ(Check(buf, buf.size(), 0, 10, 0, false, &why), BatchCheck::kInvalid) << which;
    EXPECT_THAT(why, HasSubstr("position"));

    buf = forge([](RecordHeader* r) { r->length = 0; }, which);
    EXPECT_EQ(Check(buf, buf.size(), 0, 10, 0, false, &why), BatchCheck::kInvalid) << which;

    buf = forge([](RecordHeader* r) { r->length += 8; }, which);
    EXPECT_EQ(Check(buf, buf.size(), 0, 10, 0, false, &why), BatchCheck::kInvalid) << which;

    buf = forge([&](RecordHeader* r) { r->length = static_cast<uint32_t>(len); }, which);
    EXPECT_EQ(Check(buf, buf.size(), 0, 10, 0, false, &why), BatchCheck::kInvalid) << which;

    buf = forge([](RecordHeader* r) { r->length = UINT32_MAX; }, which);
    EXPECT_EQ(Check(buf, buf.size(), 0, 10, 0, false, &why), BatchCheck::kInvalid) << which;
  }
  // On failure no record offsets are reported.
  auto buf = forge([](RecordHeader* r) { r->position = 0; }, 2);
  std::vector<uint64_t> got = {7};
  EXPECT_EQ(Check(buf, buf.size(), 0, 10, 0, false, nullptr, nullptr, &got), BatchCheck::kInvalid);
  EXPECT_EQ(got, std::vector<uint64_t>{7});
}

TEST(FormatBatchTest, NonZeroPaddingIsInvalid) {
  // Padding is covered by neither checksum: every padding byte must be zero.
  std::vector<uint8_t> good;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(8), 1, 1, 0, &good, &offs);
  int padded_records = 0;
  for (size_t r = 0; r < offs.size(); ++r) {
    uint32_t len = LoadUnaligned<RecordHeader>(good.data() + offs[r]).length;
    uint64_t from = offs[r] + kRecordHeaderSize + len,
             to = offs[r] + Align8(kRecordHeaderSize + len);
    if (from < to) ++padded_records;
    for (uint64_t i = from; i < to; ++i) {
      std::vector<uint8_t> buf = good;
      buf[i] = 0x01;
      ResealBatch(&buf, 0, 0, offs);
      std::string why;
      EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0, false, &why), BatchCheck::kInvalid)
          << "record " << r << " padding byte " << i - from;
      EXPECT_THAT(why, HasSubstr("padding"));
    }
  }
  EXPECT_GT(padded_records, 0);  // the events chosen do leave padding
}

TEST(FormatBatchTest, DeepCheckCatchesAMalformedTableWithGoodChecksums) {
  std::vector<uint8_t> buf;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(2), 1, 1, 0, &buf, &offs);
  // Make the second record's FlatBuffers root offset point past its bytes,
  // then reseal both checksums.
  const uint32_t bad_root = 0x7ffffff0;
  std::memcpy(buf.data() + offs[1] + kRecordHeaderSize, &bad_root, 4);
  ResealRecord(&buf, offs[1]);
  ResealBatch(&buf, 0, 0, offs);
  std::string why;
  std::vector<uint64_t> got;
  EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0, false, &why), BatchCheck::kValid) << why;
  EXPECT_EQ(Check(buf, buf.size(), 0, 1, 0, true, &why, nullptr, &got), BatchCheck::kInvalid);
  EXPECT_THAT(why, HasSubstr("position 2"));
  EXPECT_TRUE(got.empty());
}

// ---------------------------------------------------------------------------
// CheckRecord.

TEST(FormatRecordTest, WrongPosition) {
  std::vector<uint8_t> buf;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(2), 7, 1, 0, &buf, &offs);
  const RecordHeader* rh = nullptr;
  std::string why;
  EXPECT_TRUE(CheckRecord(buf.data(), buf.size(), offs[0], 7, &rh, &why)) << why;
  EXPECT_TRUE(CheckRecord(buf.data(), buf.size(), offs[1], 8, &rh, &why)) << why;
  for (uint64_t p : {uint64_t{0}, uint64_t{6}, uint64_t{8}, UINT64_MAX}) {
    rh = nullptr;
    EXPECT_FALSE(CheckRecord(buf.data(), buf.size(), offs[0], p, &rh, &why)) << p;
    EXPECT_THAT(why, HasSubstr("position 7"));
    EXPECT_THAT(why, HasSubstr("expected " + std::to_string(p)));
    EXPECT_EQ(rh, nullptr);
  }
}

TEST(FormatRecordTest, OutOfBoundsOffsetAndLength) {
  std::vector<uint8_t> buf;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(2), 1, 1, 0, &buf, &offs);
  const uint64_t size = buf.size();
  const RecordHeader* rh = nullptr;
  std::string why;
  // Offsets that are not 8-aligned, or leave no room for a header.
  for (uint64_t off : {offs[0] + 1, offs[0] + 4, offs[0] - 3, size - 16, size - 8, size, size + 8,
                       uint64_t{1} << 32, (uint64_t{1} << 40) - 8}) {
    EXPECT_FALSE(CheckRecord(buf.data(), size, off, 1, &rh, &why)) << off;
    EXPECT_FALSE(why.empty());
  }
  // A limit that cuts the record's FlatBuffers bytes.
  uint32_t len1 = LoadUnaligned<RecordHeader>(buf.data() + offs[1]).length;
  const uint64_t end1 = offs[1] + kRecordHeaderSize + len1;
  for (uint64_t limit = offs[1] + kRecordHeaderSize; limit < end1; ++limit) {
    EXPECT_FALSE(CheckRecord(buf.data(), limit, offs[1], 2, &rh, &why)) << limit;
    EXPECT_THAT(why, HasSubstr("out of bounds"));
  }
  for (uint64_t limit = offs[1]; limit < offs[1] + kRecordHeaderSize; ++limit) {
    EXPECT_FALSE(CheckRecord(buf.data(), limit, offs[1], 2, &rh, &why)) << limit;
  }
  EXPECT_TRUE(CheckRecord(buf.data(), end1, offs[1], 2, &rh, &why)) << why;
  // A length field beyond the limit, or zero.
  for (uint32_t len : {0u, static_cast<uint32_t>(size), UINT32_MAX}) {
    std::vector<uint8_t> b = buf;
    std::memcpy(b.data() + offs[0], &len, 4);
    EXPECT_FALSE(CheckRecord(b.data(), b.size(), offs[0], 1, &rh, &why)) << len;
    EXPECT_THAT(why, HasSubstr("length"));
  }
}

TEST(FormatRecordTest, EveryFlippedBitIsCaught) {
  std::vector<uint8_t> buf;
  std::vector<uint64_t> offs;
  AppendBatch(SomeEvents(3), 1, 1, 0, &buf, &offs);
  for (size_t r = 0; r < offs.size(); ++r) {
    uint32_t len = LoadUnaligned<RecordHeader>(buf.data() + offs[r]).length;
    // Every bit of the header and the FlatBuffers bytes (padding is covered
    // by the batch checksum, not the record's).
    for (uint64_t i = offs[r]; i < offs[r] + kRecordHeaderSize + len; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        buf[i] ^= static_cast<uint8_t>(1u << bit);
        const RecordHeader* rh = nullptr;
        std::string why;
        EXPECT_FALSE(CheckRecord(buf.data(), buf.size(), offs[r], 1 + r, &rh, &why))
            << "record " << r << " byte " << i - offs[r] << " bit " << bit;
        buf[i] ^= static_cast<uint8_t>(1u << bit);
      }
    }
  }
}

// Bytes placed right after an inaccessible page, so that a read before the
// start of the buffer faults instead of silently reading a neighbour.
class GuardedBytes {
 public:
  explicit GuardedBytes(const std::vector<uint8_t>& bytes) {
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    total_ = page_ + ((bytes.size() + page_ - 1) / page_ + 1) * page_;
    void* p = ::mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<uint8_t*>(p);
    ::mprotect(base_, page_, PROT_NONE);
    std::memcpy(base_ + page_, bytes.data(), bytes.size());
  }
  ~GuardedBytes() { ::munmap(base_, total_); }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;
  const uint8_t* data() const { return base_ + page_; }

 private:
  uint8_t* base_ = nullptr;
  size_t page_ = 0, total_ = 0;
};

// Offsets near 2^64 must not wrap around the bounds checks (offset + header
// size overflows to a small number, and data + offset points just before
// the buffer). Run in a child so that a wild read shows up as a failure
// instead of ending the test run.
TEST(FormatBoundsDeathTest, HugeOffsetsDoNotWrapTheBoundsCheck) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<uint8_t> bytes;
  AppendBatch(SomeEvents(1), 1, 1, 0, &bytes, nullptr);
  GuardedBytes buf(bytes);
  const uint64_t size = bytes.size();
  for (uint64_t off : {UINT64_MAX - 7, UINT64_MAX - 15, UINT64_MAX - 23}) {
    EXPECT_EXIT(
        {
          const RecordHeader* rh = nullptr;
          std::string why;
          bool ok = CheckRecord(buf.data(), size, off, 1, &rh, &why);
          std::exit(ok ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "")
        << "CheckRecord(limit " << size << ", offset " << off << ")";
    EXPECT_EXIT(
        {
          BatchInfo info;
          std::string why;
          BatchCheck c = CheckBatch(buf.data(), size, off, 1, 0, true, &info, nullptr, &why);
          std::exit(c == BatchCheck::kValid ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "")
        << "CheckBatch(limit " << size << ", offset " << off << ")";
  }
}

// ---------------------------------------------------------------------------
// VerifyEventBytes.

// Reads everything the accessors expose, so that a table the verifier
// accepted is walked completely (a sanitizer build catches a wild read).
size_t Walk(const uint8_t* bytes) {
  EventView v = internal::EventViewAccess::Make(1, 0, TableFromBytes(bytes));
  size_t n = v.type().size() + v.data().size() + v.data_is_json();
  for (size_t i = 0; i < v.tag_count(); ++i) n += v.tag(i).size();
  for (size_t i = 0; i < v.metadata_count(); ++i) {
    auto [k, val] = v.metadata(i);
    n += k.size() + val.size();
  }
  n += v.id().has_value();
  return n;
}

TEST(FormatVerifyTest, AcceptsEncodedEvents) {
  Event e = MakeEvent("t", {"a", "b"}, "data");
  e.id = Uuid::Random();
  e.metadata = {{"k", "v"}};
  for (const Event& ev : {MakeEvent("x"), e}) {
    EncodedEvent out = MustEncode(ev);
    EXPECT_TRUE(VerifyEventBytes(out.bytes.data(), out.bytes.size()));
    Walk(out.bytes.data());
  }
}

TEST(FormatVerifyTest, RejectsTooShortBuffers) {
  const uint8_t zeros[16] = {};
  for (size_t n = 0; n <= sizeof(zeros); ++n) {
    EXPECT_FALSE(VerifyEventBytes(zeros, n)) << n;
  }
}

TEST(FormatVerifyTest, RandomGarbageNeverCrashes) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  int accepted = 0;
  // Pure garbage, in an 8-aligned buffer (as records are).
  for (int iter = 0; iter < 20000; ++iter) {
    size_t n = rng() % 300;
    std::vector<uint64_t> words(n / 8 + 1);
    for (auto& w : words) w = rng();
    const auto* bytes = reinterpret_cast<const uint8_t*>(words.data());
    if (VerifyEventBytes(bytes, n)) {
      ++accepted;
      Walk(bytes);
    }
  }
  // Valid events with a few bytes changed, or cut short.
  Vec<EncodedEvent> events = SomeEvents(20);
  for (int iter = 0; iter < 20000; ++iter) {
    const EncodedEvent& e = events[rng() % events.size()];
    std::vector<uint64_t> words(e.bytes.size() / 8 + 1);
    auto* bytes = reinterpret_cast<uint8_t*>(words.data());
    std::memcpy(bytes, e.bytes.data(), e.bytes.size());
    size_t n = e.bytes.size();
    int changes = 1 + static_cast<int>(rng() % 4);
    for (int c = 0; c < changes; ++c) {
      switch (rng() % 3) {
        case 0:
          bytes[rng() % n] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          bytes[rng() % n] = static_cast<uint8_t>(rng());
          break;
        case 2:
          n = std::max<size_t>(1, rng() % n);
          break;
      }
    }
    if (VerifyEventBytes(bytes, n)) {
      ++accepted;
      Walk(bytes);
    }
  }
  RecordProperty("accepted", accepted);
}

}  // namespace
}  // namespace opossum::format

namespace opossum::format {
namespace {

// CRC-32C check values: the standard one, and the same result from the
// hardware path and the table path on lengths that exercise both loops.
TEST(FormatCrc32cTest, KnownAnswers) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720, 32 zero bytes
  std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);  // RFC 3720, 32 0xFF bytes
}

TEST(FormatCrc32cTest, FastPathEqualsTheTableAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(3720);
  std::vector<uint8_t> bytes(5000);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  for (size_t n = 0; n <= 1200; ++n) {
    for (size_t at : {size_t{0}, size_t{1}, size_t{3}, size_t{7}}) {
      ASSERT_EQ(Crc32c(bytes.data() + at, n), Crc32cPortable(bytes.data() + at, n))
          << "length " << n << " at " << at;
    }
  }
  EXPECT_EQ(Crc32c(bytes.data(), bytes.size()), Crc32cPortable(bytes.data(), bytes.size()));
}

TEST(FormatCrc32cTest, EveryLengthDiffersFromItsNeighbours) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(i * 7 + 3));
  for (size_t n = 1; n < bytes.size(); ++n) {
    EXPECT_NE(Crc32c(bytes.data(), n), Crc32c(bytes.data(), n - 1)) << n;
    std::string flipped = bytes.substr(0, n);
    flipped[n / 2] ^= 0x10;
    EXPECT_NE(Crc32c(flipped.data(), n), Crc32c(bytes.data(), n)) << n;
  }
}

}  // namespace
}  // namespace opossum::format
