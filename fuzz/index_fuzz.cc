// Fuzz target: the fuzzer's bytes replace one of the index files
// (index/positions, index/keys, index/postings) of the template store of
// fuzz_util.h, closed cleanly (key table sealed) or as a killed process
// leaves it (not sealed).
//
// Input: byte 0 chooses the set-up, the rest is the file or patches to it.
//   bits 0-1  the file: 0 positions, 1 keys, 2 postings, 3 keys
//   bit 2     the crashed template
//   bit 3     open read-only first (readers on an index nobody rebuilt)
//   bit 4     patch mode: the rest is (offset u16, byte) triples written
//             over the template's file, else it is the whole file
//   bit 5     (whole file) exactly these bytes; else zeros follow them up
//             to the template file's size (the files are preallocated)
// Checks (docs/format-index.md, "How readers find damage"): a damaged index
// is reported, never answered from. Every read by tag and type gives
// kCorruption or exactly the brute-force filter of read-all, which goes
// through the positions file and must give the template's events. The one
// documented exception: in a table that is not sealed, a slot whose hash
// was zeroed hides its key (Known limits), so there a read may miss events
// but never return one that does not match. When Verify says the store is
// whole, every read is exact, and an append and a reopen work.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

namespace {

using namespace opossum;
using namespace opossum::fuzz;

constexpr const char* kTarget = "index";

bool ExpectedOpenError(const Status& s) {
  return s.IsCorruption() || s.IsNotSupported() || s.IsIOError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  const uint8_t flags = data[0];
  static const char* const kFiles[] = {"index/positions", "index/keys", "index/postings",
                                       "index/keys"};
  const std::string file = kFiles[flags & 3];
  const bool crashed = (flags & 4) != 0;
  StoreImage image = Template(kTarget, crashed ? Variant::kCrashed : Variant::kClean);
  FileImage& f = image[file];
  if (flags & 16) {
    std::string bytes = FullBytes(f);
    for (size_t i = 1; i + 3 <= size; i += 3) {
      size_t off = data[i] | (size_t{data[i + 1]} << 8);
      if (off < bytes.size()) bytes[off] = static_cast<char>(data[i + 2]);
    }
    f.bytes = bytes;
    f.size = bytes.size();
  } else {
    f.bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    f.size = (flags & 32) ? f.bytes.size() : std::max<uint64_t>(f.size, f.bytes.size());
  }
  const fs::path root = ScratchRoot(kTarget) / "run";
  WriteImage(root / kStoreName, image);
  const std::vector<ModelEvent> written = TemplateEvents();
  // Only a key table that is not sealed may hide keys (see above).
  const bool may_miss = crashed && file != "index/positions";

  std::unique_ptr<Store> store;
  if (flags & 8) {
    Status s = Store::Open(root, kStoreName, FuzzOptions(/*read_only=*/true), &store);
    if (s.ok()) {
      // The crashed template's ledger is from before its last batch.
      bool whole = CheckReads(store.get(), &written, /*prefix_ok=*/crashed, may_miss);
      Status v = store->Verify();
      Check(v.ok() || v.IsCorruption(), "read-only Verify: " + v.ToString());
      if (v.ok()) {
        Check(whole, "Verify found the store whole, but a read reported damage");
        CheckReads(store.get(), &written, crashed, /*subset_ok=*/false);
      }
      store.reset();
    } else {
      Check(ExpectedOpenError(s), "read-only open: " + s.ToString());
    }
  }
  Status s = Store::Open(root, kStoreName, FuzzOptions(), &store);
  // The segments and the ledger are whole: a writer alone rebuilds any
  // damaged index, so the open must work.
  Check(s.ok(), "open with a damaged " + file + ": " + s.ToString());
  bool whole = CheckReads(store.get(), &written, /*prefix_ok=*/false, may_miss);
  Status v = store->Verify();
  if (v.ok()) {
    Check(whole, "Verify found the store whole, but a read reported damage");
    Check(CheckReads(store.get(), &written, false, /*subset_ok=*/false),
          "a read reported damage after Verify found the store whole");
    CheckAppendAndReopen(&store, root);
  } else {
    Check(v.IsCorruption(), "Verify: " + v.ToString());
  }
  return 0;
}
