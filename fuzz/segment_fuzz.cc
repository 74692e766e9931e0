// Fuzz target: the fuzzer's bytes are the first segment file of a store
// (the template store of fuzz_util.h, or its files as a killed process
// leaves them), handed to recovery. Open, read and Verify must never crash,
// hang or read out of bounds; damage must come back as a Status.
//
// Input: byte 0 chooses the set-up, the rest is segments/...0001.seg.
//   bit 0  the crashed template (recovery adopts the last batch)
//   bit 1  no ledger: a new one is made and the whole log adopted from
//          segment 0 (create_if_missing)
//   bit 2  no index folder: the indexes are rebuilt from the segment
//   bit 3  open read-only first (readers on damage nobody recovered)
//   bit 4  extend the file to the template segment's size
// Checks: every read gives kCorruption or exactly what read-all and a
// brute-force filter of it give; what is read is a prefix of the events the
// template wrote (no batch can be forged: the chain and the checksums); when
// Verify says the store is whole, no read reported damage, and an append and
// a reopen work.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

namespace {

using namespace opossum;
using namespace opossum::fuzz;

constexpr const char* kTarget = "segment";

// Without a ledger, a segments folder that holds no batch is no store (a
// creation cut short): kNotFound is then right too.
bool ExpectedOpenError(const Status& s, bool ledger_removed) {
  return s.IsCorruption() || s.IsNotSupported() || s.IsIOError() ||
         (ledger_removed && s.IsNotFound());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (2u << 20)) return 0;
  const uint8_t flags = data[0];
  const Variant variant = (flags & 1) ? Variant::kCrashed : Variant::kClean;
  StoreImage image = Template(kTarget, variant);
  const uint64_t template_size = image[SegmentName()].size;
  FileImage& seg = image[SegmentName()];
  seg.bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  seg.size = (flags & 16) ? std::max<uint64_t>(template_size, seg.bytes.size()) : seg.bytes.size();
  if (flags & 2) image.erase("ledger");
  if (flags & 4) {
    for (auto it = image.begin(); it != image.end();) {
      it = it->first.starts_with("index/") ? image.erase(it) : std::next(it);
    }
  }
  const fs::path root = ScratchRoot(kTarget) / "run";
  WriteImage(root / kStoreName, image);
  const bool ledger_removed = (flags & 2) != 0;
  CheckDamagedStore(root, (flags & 8) != 0,
                    [&](const Status& s) { return ExpectedOpenError(s, ledger_removed); });
  return 0;
}
