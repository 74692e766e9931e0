#include "index/position_index.h"

#include <cstring>

#include "io/file.h"

namespace opossum::index {

Status PositionIndex::Open(const std::filesystem::path& path, bool writable) {
  writable_ = writable;
  bool existed = false;
  Status s = io::Exists(path, &existed);
  if (!s.ok()) return s;
  s = map_.Open(path, writable, /*create=*/true, kPositionsInitialSize);
  if (!s.ok()) return s;
  if (map_.size() < kPositionsHeaderSize) {
    return Status::Corruption(path.string() + ": too short for its header (offset 0)");
  }
  uint64_t magic;
  std::memcpy(&magic, map_.data(), 8);
  if (existed && magic == 0) {
    return Status::Corruption(path.string() + ": bad position index header at offset 0");
  }
  if (!existed) {
    if (!writable) return Status::Corruption(path.string() + ": empty position index (offset 0)");
    magic = kPositionsMagic;
    std::memcpy(map_.data(), &magic, 8);
    return Status::Ok();
  }
  if (map_.size() < kPositionsHeaderSize || magic != kPositionsMagic) {
    return Status::Corruption(path.string() + ": bad position index header at offset 0");
  }
  return Status::Ok();
}

Status PositionIndex::Reset() {
  // Entries beyond the head are never read, so only the header matters.
  uint64_t magic = kPositionsMagic;
  std::memcpy(map_.data(), &magic, 8);
  return Status::Ok();
}

Status PositionIndex::Fill(uint64_t first_position, uint64_t segment,
                           const std::vector<uint64_t>& record_offsets) {
  if (record_offsets.empty()) return Status::Ok();
  Status s = Reserve(first_position + record_offsets.size() - 1);
  if (!s.ok()) return s;
  for (size_t i = 0; i < record_offsets.size(); ++i) {
    Set(first_position + i, format::PackLocation(segment, record_offsets[i]));
  }
  return Status::Ok();
}

std::string PositionIndex::EntryWhere(uint64_t position) const {
  return path().string() + " offset " + std::to_string(EntryOffset(position));
}

}  // namespace opossum::index
