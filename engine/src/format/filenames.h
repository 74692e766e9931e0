// The names of a store's files and folders, in one place (the layout of a
// store folder, docs/architecture.md "On disk"):
//
//   <store>/ledger                     the commit point (log/ledger.h)
//   <store>/open.lock, write.lock      the OS locks (store/store_core.h)
//   <store>/segments/<20 digits>.seg   the log, named by first position
//   <store>/index/positions            the position index
//   <store>/index/keys, postings       the key index
//
// Each module takes the folder it owns (the segment set its segments folder,
// the key index its index folder) and names its files through these
// functions; nothing else in the engine spells a file name.
#ifndef OPOSSUM_FORMAT_FILENAMES_H_
#define OPOSSUM_FORMAT_FILENAMES_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace opossum::format {

// In the store's folder.
std::filesystem::path LedgerPath(const std::filesystem::path& store);
std::filesystem::path OpenLockPath(const std::filesystem::path& store);
std::filesystem::path WriteLockPath(const std::filesystem::path& store);
std::filesystem::path SegmentDir(const std::filesystem::path& store);
std::filesystem::path IndexDir(const std::filesystem::path& store);

// A new ledger is written here, synced and renamed into place.
std::filesystem::path LedgerTempPath(const std::filesystem::path& ledger);

// In the segments folder: the segment whose first event is at
// `first_position`, 20 decimal digits so that name order is position order.
std::string SegmentFileName(uint64_t first_position);
std::filesystem::path SegmentPath(const std::filesystem::path& segment_dir,
                                  uint64_t first_position);
// Whether `name` is a segment's file name, and its first position.
bool ParseSegmentFileName(const std::string& name, uint64_t* first_position);

// In the index folder.
std::filesystem::path PositionsPath(const std::filesystem::path& index_dir);
std::filesystem::path KeysPath(const std::filesystem::path& index_dir);
// A replacement key table is built here and renamed over KeysPath.
std::filesystem::path KeysTempPath(const std::filesystem::path& index_dir);
std::filesystem::path PostingsPath(const std::filesystem::path& index_dir);
// Every file of the indexes (derived data: removed to rebuild them).
std::array<std::filesystem::path, 3> IndexFiles(const std::filesystem::path& index_dir);

}  // namespace opossum::format

#endif  // OPOSSUM_FORMAT_FILENAMES_H_
