// Fuzz target: the fuzzer's bytes are the ledger of an otherwise valid store
// (the template store of fuzz_util.h, closed cleanly or as a killed process
// leaves it: ledger before the last batch, segment after it).
//
// Input: byte 0 chooses the set-up, the rest is the ledger file.
//   bit 0  the crashed template
//   bit 1  open read-only first (a reader takes the page as it finds it,
//          published head included)
// Checks: open gives a Status; every read gives kCorruption or exactly what
// read-all and a brute-force filter of it give, and read-all is a prefix of
// the events the template wrote (the segments are whole: nothing else may
// come out of them); when Verify says the store is whole, no read reported
// damage, and an append and a reopen work.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

namespace {

using namespace opossum;
using namespace opossum::fuzz;

constexpr const char* kTarget = "ledger";

bool ExpectedOpenError(const Status& s) {
  return s.IsCorruption() || s.IsNotSupported() || s.IsIOError() || s.IsBusy();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  const uint8_t flags = data[0];
  StoreImage image = Template(kTarget, (flags & 1) ? Variant::kCrashed : Variant::kClean);
  FileImage& ledger = image["ledger"];
  ledger.bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  ledger.size = ledger.bytes.size();
  const fs::path root = ScratchRoot(kTarget) / "run";
  WriteImage(root / kStoreName, image);
  CheckDamagedStore(root, (flags & 2) != 0, ExpectedOpenError);
  return 0;
}
