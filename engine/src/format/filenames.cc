#include "format/filenames.h"

#include <cinttypes>
#include <cstdio>

namespace opossum::format {

namespace fs = std::filesystem;

namespace {

constexpr char kSegmentSuffix[] = ".seg";
constexpr size_t kSegmentDigits = 20;

}  // namespace

fs::path LedgerPath(const fs::path& store) { return store / "ledger"; }
fs::path OpenLockPath(const fs::path& store) { return store / "open.lock"; }
fs::path WriteLockPath(const fs::path& store) { return store / "write.lock"; }
fs::path SegmentDir(const fs::path& store) { return store / "segments"; }
fs::path IndexDir(const fs::path& store) { return store / "index"; }

fs::path LedgerTempPath(const fs::path& ledger) {
  fs::path tmp = ledger;
  tmp += ".tmp";
  return tmp;
}

std::string SegmentFileName(uint64_t first_position) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 "%s", first_position, kSegmentSuffix);
  return buf;
}

fs::path SegmentPath(const fs::path& segment_dir, uint64_t first_position) {
  return segment_dir / SegmentFileName(first_position);
}

bool ParseSegmentFileName(const std::string& name, uint64_t* first_position) {
  const size_t suffix = sizeof(kSegmentSuffix) - 1;
  if (name.size() != kSegmentDigits + suffix ||
      name.compare(kSegmentDigits, suffix, kSegmentSuffix) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < kSegmentDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *first_position = v;
  return true;
}

fs::path PositionsPath(const fs::path& index_dir) { return index_dir / "positions"; }
fs::path KeysPath(const fs::path& index_dir) { return index_dir / "keys"; }
fs::path KeysTempPath(const fs::path& index_dir) { return index_dir / "keys.new"; }
fs::path PostingsPath(const fs::path& index_dir) { return index_dir / "postings"; }

std::array<fs::path, 3> IndexFiles(const fs::path& index_dir) {
  return {PositionsPath(index_dir), PostingsPath(index_dir), KeysPath(index_dir)};
}

}  // namespace opossum::format
