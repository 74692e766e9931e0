// Fuzz target: arbitrary bytes handed to the batch and record checks that
// recovery, Verify and reads run on segment bytes. They must never crash,
// read out of bounds or accept bytes that are not a valid batch.
//
// Built two ways: with clang's libFuzzer (-DOPOSSUM_FUZZ=ON, then
// `build-fuzz/bin/batch_fuzz fuzz/corpus/batch`), and always as a replay
// driver (fuzz_replay_batch) that ctest runs over the committed corpus.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "format/batch.h"
#include "format/event_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace opossum::format;
  // The input is laid out like a segment tail: the bytes start at offset 0,
  // copied to 8-byte aligned memory as the map would be.
  std::vector<uint64_t> aligned((size + 7) / 8 + 1, 0);
  std::memcpy(aligned.data(), data, size);
  const auto* bytes = reinterpret_cast<const uint8_t*>(aligned.data());
  uint64_t first = 1, prev = 0;
  if (size >= 16) {
    std::memcpy(&first, data + 8, 8);  // let the fuzzer reach "expected" positions
  }
  BatchInfo info;
  std::vector<uint64_t> offsets;
  std::string why;
  for (bool deep : {false, true}) {
    offsets.clear();
    BatchCheck c = CheckBatch(bytes, size, 0, first, prev, deep, &info, &offsets, &why);
    if (c == BatchCheck::kValid) {
      // A valid batch must lie within the input, with records inside it.
      if (info.length > size || offsets.size() != info.count) __builtin_trap();
      for (size_t i = 0; i < offsets.size(); ++i) {
        const RecordHeader* rh;
        std::string w;
        if (offsets[i] >= info.length ||
            !CheckRecord(bytes, info.length, offsets[i], first + i, &rh, &w)) {
          __builtin_trap();
        }
      }
    }
  }
  const RecordHeader* rh;
  CheckRecord(bytes, size, 0, first, &rh, &why);
  VerifyEventBytes(bytes, size);
  return 0;
}
