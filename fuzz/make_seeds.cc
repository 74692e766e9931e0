// Writes the seed corpora of the fuzz targets into <dir>/<target>/
// (`build/bin/fuzz_make_seeds fuzz/corpus`). The inputs
// are made from the template store of fuzz_util.h, so they are what each
// target's set-up expects: whole files, and the same files torn or flipped.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "format/event_codec.h"
#include "fuzz_util.h"

namespace {

using namespace opossum;
using namespace std::string_literals;
using namespace opossum::fuzz;

fs::path out_dir;

void Put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_dir / target);
  WriteFile(out_dir / target / name, bytes);
}

std::string Flag(uint8_t f, const std::string& rest) {
  std::string s(rest.size() + 1, '\0');
  s[0] = static_cast<char>(f);
  if (!rest.empty()) std::memcpy(s.data() + 1, rest.data(), rest.size());
  return s;
}

// Not inlined: GCC 12 warns (wrongly) about the short-string buffer otherwise.
[[gnu::noinline]] std::string Flip(std::string s, size_t at) {
  if (at < s.size()) s[at] = static_cast<char>(s[at] ^ 0x10);
  return s;
}

void Segment() {
  for (Variant v : {Variant::kClean, Variant::kCrashed}) {
    const uint8_t c = v == Variant::kCrashed ? 1 : 0;
    const std::string seg = Trimmed(Template("seeds", v).at(SegmentName()));
    const std::string pre = c ? "crashed-" : "clean-";
    Put("segment", pre + "whole", Flag(c, seg));
    Put("segment", pre + "no-ledger", Flag(c | 2, seg));
    Put("segment", pre + "no-index", Flag(c | 4, seg));
    Put("segment", pre + "read-only-padded", Flag(c | 8 | 16, seg));
    Put("segment", pre + "torn-tail", Flag(c | 16, seg.substr(0, seg.size() - 40)));
    Put("segment", pre + "flipped-record", Flag(c | 2 | 16, Flip(seg, 200)));
    Put("segment", pre + "flipped-header", Flag(c | 8, Flip(seg, 20)));
  }
}

void Record() {
  size_t n = 0;
  for (const auto& batch : TemplateBatches()) {
    for (const Event& e : batch) {
      format::EncodedEvent enc;
      if (!format::EncodeEvent(e, 1u << 20, 0, &enc).ok()) Fail("seed: encode");
      std::string bytes(reinterpret_cast<const char*>(enc.bytes.data()), enc.bytes.size());
      Put("record", "decode-" + std::to_string(n++), Flag(0, bytes));
    }
  }
  // The encode direction: type, tags, flags, data, metadata (record_fuzz.cc).
  Put("record", "encode-simple",
      Flag(1, ("\x01"
               "A"
               "\x01\x02"
               "\x03x:1"
               "\x00"s)));
  Put("record", "encode-tags",
      Flag(1, ("\x03"
               "Abc"
               "\x05\x02"
               "\x01t"
               "\x00"
               "\x01"
               "\x05"
               "\x29"
               "\x04"
               "data"
               "\x01"
               "k"
               "\x01"
               "v"
               "\x01"
               "k"
               "\x01"
               "w"s)));
  Put("record", "encode-bad-utf8", Flag(1, ("\x02\xc3\x28\x00\x00"s)));
  Put("record", "encode-control",
      Flag(1, ("\x01"
               "A"
               "\x01\x02"
               "\x02"
               "a\n"
               "\x00"s)));
  Put("record", "encode-many-tags",
      Flag(1, ("\x01"
               "A"
               "\x46"s) +
                  std::string(70, '\x01')));
}

void Ledger() {
  for (Variant v : {Variant::kClean, Variant::kCrashed}) {
    const uint8_t c = v == Variant::kCrashed ? 1 : 0;
    const std::string ledger = FullBytes(Template("seeds", v).at("ledger"));
    const std::string pre = c ? "crashed-" : "clean-";
    Put("ledger", pre + "whole", Flag(c, ledger));
    Put("ledger", pre + "read-only", Flag(c | 2, ledger));
    std::string restart = ledger;
    std::memset(restart.data() + 40, 0, 8);
    std::memcpy(restart.data() + 64, "another-boot", 12);
    Put("ledger", pre + "restart", Flag(c, restart));
    std::string failed = ledger;
    uint64_t one = 1, off = 64 + 256;
    std::memcpy(failed.data() + 128, &one, 8);
    std::memcpy(failed.data() + 136, &off, 8);
    Put("ledger", pre + "failed-mark", Flag(c, failed));
    std::string head = ledger;
    uint64_t big = 1000;
    std::memcpy(head.data() + 24, &big, 8);
    Put("ledger", pre + "published-head", Flag(c | 2, head));
    Put("ledger", pre + "bad-slot", Flag(c, Flip(Flip(ledger, 270), 318)));
  }
}

void Index() {
  const char* files[] = {"index/positions", "index/keys", "index/postings"};
  for (Variant v : {Variant::kClean, Variant::kCrashed}) {
    const uint8_t c = v == Variant::kCrashed ? 4 : 0;
    const std::string pre = c ? "crashed-" : "clean-";
    for (uint8_t f = 0; f < 3; ++f) {
      const std::string bytes = Trimmed(Template("seeds", v).at(files[f]));  // zeros follow
      const std::string name = pre + fs::path(files[f]).filename().string();
      Put("index", name, Flag(c | f, bytes));
      Put("index", name + "-read-only", Flag(c | f | 8, bytes));
      Put("index", name + "-short", Flag(c | f | 32, bytes.substr(0, bytes.size() / 2)));
      // Patches: (offset u16, byte) triples; the first points into the
      // header, the others where this file's entries are.
      std::string patch;
      for (uint16_t off : {uint16_t(24), uint16_t(64 + 8 * 3), uint16_t(64 + 32 * 5 + 3)}) {
        patch += static_cast<char>(off & 0xff);
        patch += static_cast<char>(off >> 8);
        patch += '\x5a';
      }
      Put("index", name + "-patched", Flag(c | f | 16, patch));
      Put("index", name + "-patched-read-only", Flag(c | f | 16 | 8, patch.substr(3)));
    }
  }
}

void Json() {
  const char* events[] = {
      R"({"type":"CourseCreated","tags":["course:c1"],"data":{"cap":10}})",
      R"({"type": "T", "tags": [], "data_base64": "AAEC", "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "metadata": {"user": "u1", "x": ""}})",
      R"({"type":"T","data":[1, 2.5e-3, "\u00e9", true, null, {"a":{}}],"timestamp":"2024-01-02T03:04:05.123456789Z"})",
      R"({"type":"T","data":123456789012345678901234567890})",
      R"({"type":"T","tags":["a","a","b"],"data":"x"})",
  };
  size_t n = 0;
  for (const char* e : events) {
    Put("json", "event-" + std::to_string(n), Flag(0, e));
    Put("json", "event-padded-" + std::to_string(n), Flag(1, e));
    ++n;
  }
  Put("json", "event-position",
      Flag(
          2,
          R"({"position": 7, "type": "T", "tags": ["x"], "data": {}, "timestamp": "1970-01-01T00:00:00Z"})"));
  Put("json", "event-deep",
      Flag(0, R"({"type":"T","data":)" + std::string(300, '[') + std::string(300, ']') + "}"));
  Put("json", "query", Flag(3, R"({"items":[{"types":["A","B"],"tags":["x:1"]},{"tags":["y"]}]})"));
  Put("json", "query-empty", Flag(3, "{}"));
  Put("json", "query-escapes", Flag(3, R"({"items":[{"types":["\u0041\n\"\\"]}]})"));
  Put("json", "condition",
      Flag(4, R"({"fail_if_events_match":{"items":[{"tags":["c:1"]}]},"after":12})"));
  Put("json", "condition-big-after",
      Flag(4, R"({"fail_if_events_match":{},"after":18446744073709551615})"));
  Put("json", "compact", Flag(5, " { \"a\" : [ 1 , -0.5E+3 , \"s\\u0000\" ] , \"b\" : null } "));
  Put("json", "compact-deep", Flag(5, std::string(257, '[') + std::string(257, ']')));
  Put("json", "compact-number", Flag(5, "-12345678901234567890.12345678901234567890e-400"));
}

void Ops() {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 8; ++i) {
    std::string s(64 + 80 * i, '\0');
    for (char& ch : s) ch = static_cast<char>(rng());
    Put("ops", "random-" + std::to_string(i), s);
  }
  // Appends then a crash with a torn batch, then reads.
  Put("ops", "append-crash-read",
      ("\x00\x01\x00\x18\x00"
       "\x00\x02\x00\x08\x00"
       "\x07\x01\x00\x0d\x20\x00"
       "\x03\x00\x00"
       "\x05\x01\x01\x01"
       "\x09"s));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds <corpus dir>\n");
    return 2;
  }
  out_dir = argv[1];
  Segment();
  Record();
  Ledger();
  Index();
  Json();
  Ops();
  std::printf("seeds written under %s\n", out_dir.c_str());
  return 0;
}
