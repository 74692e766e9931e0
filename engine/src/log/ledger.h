// The ledger: one 4 KiB file, memory-mapped by every process that opens the
// store, holding the commit point (docs/format-ledger.md).
//
// - `published_head` is what readers use: an atomic 8-byte load, no lock.
// - Two commit slots, written alternately by the writer (under the write
//   lock) after each group commit: head, the segment and offset where the
//   log ends, and the checksum of the last batch (the chain seed). The valid
//   slot with the highest sequence number wins, so a writer that dies while
//   writing a slot leaves the other one intact.
// - Two checkpoint slots, the same shape, record a state whose segment bytes
//   are known to be on stable storage; after a machine restart recovery
//   starts there. The ledger page is synced now and then, not per commit.
#ifndef OPOSSUM_LOG_LEDGER_H_
#define OPOSSUM_LOG_LEDGER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "format/layout.h"
#include "io/file.h"
#include "opossum/status.h"

namespace opossum::log {

// ON-DISK FORMAT.
constexpr uint64_t kLedgerMagic = 0x5247444c534f504fULL;  // "OPOSLDGR"
constexpr uint32_t kLedgerVersion = 1;
constexpr uint64_t kLedgerSize = 4096;

struct LogState {
  friend bool operator==(const LogState&, const LogState&) = default;
  uint64_t seq = 0;            // slot sequence number
  uint64_t head = 0;           // last committed position
  uint64_t segment = 0;        // ordinal of the segment the log ends in
  uint64_t end_offset = 0;     // where the next batch goes in that segment
  uint64_t last_checksum = 0;  // checksum of the last batch (chain seed)
};

// The state of a log with no events: the first batch goes into segment 0
// right after its header, and the checksum chain starts at 0.
inline LogState EmptyLogState() { return LogState{0, 0, 0, format::kSegmentHeaderSize, 0}; }

struct LedgerSlot {
  uint64_t seq;
  uint64_t head;
  uint64_t segment;
  uint64_t end_offset;
  uint64_t last_checksum;
  uint64_t checksum;  // XXH3-64 of the five fields above
};

struct LedgerPage {
  uint64_t magic;
  uint32_t version;
  uint32_t reserved0;
  uint64_t segment_size;     // Options::segment_size at creation (a default)
  uint64_t published_head;   // atomic: readers' head
  uint64_t segment_count;    // atomic: segment files created so far
  uint64_t clean;            // 1 after a clean close, 0 while open
  uint64_t keys_generation;  // atomic: current generation of index/keys
  uint64_t header_checksum;  // XXH3-64 of bytes [0, 24): magic, version, segment_size
  char boot_id[64];          // boot id of the machine that last opened it
  // Where a group whose write or sync failed began (segment ordinal + 1, 0:
  // none): bytes from there on must never be adopted, only zeroed.
  uint64_t failed_segment_plus1;  // at 128
  uint64_t failed_offset;         // at 136
  uint8_t reserved2[256 - 144];
  LedgerSlot commit[2];  // at 256
  uint8_t reserved3[128 - 2 * sizeof(LedgerSlot)];
  LedgerSlot checkpoint[2];  // at 384
};
static_assert(sizeof(LedgerPage) <= kLedgerSize);
// Where the commit slots lie, for messages.
constexpr uint64_t kCommitSlotsOffset = 256;
static_assert(offsetof(LedgerPage, commit) == kCommitSlotsOffset);

class Ledger {
 public:
  // Creates a new ledger file (for a new store).
  static Status Create(const std::filesystem::path& path, uint64_t segment_size);
  // Maps an existing ledger and checks its header.
  Status Open(const std::filesystem::path& path, bool writable);

  uint64_t published_head() const;
  void Publish(uint64_t head);
  uint64_t segment_count() const;
  void SetSegmentCount(uint64_t n);
  uint64_t keys_generation() const;
  void SetKeysGeneration(uint64_t g);
  uint64_t segment_size() const { return page()->segment_size; }
  bool clean() const { return page()->clean != 0; }
  void SetClean(bool clean);
  std::string boot_id() const;
  void SetBootId(const std::string& id);

  // The start of a failed group's bytes, if one is marked.
  bool FailedWrite(uint64_t* segment, uint64_t* offset) const;
  void MarkFailedWrite(uint64_t segment, uint64_t offset);
  void ClearFailedWrite();

  // The latest valid commit / checkpoint slot; false when neither is valid.
  bool LatestCommit(LogState* out) const;
  bool LatestCheckpoint(LogState* out) const;
  // LatestCommit, or kCorruption naming the ledger when no slot is valid.
  Status ReadCommit(LogState* out) const;
  // Writes the next commit slot (seq = current + 1) for `state`.
  void WriteCommit(LogState* state);
  void WriteCheckpoint(const LogState& state);
  // msync of the page.
  Status Sync() const;

  const std::filesystem::path& path() const { return path_; }

 private:
  LedgerPage* page() const { return reinterpret_cast<LedgerPage*>(map_.mutable_data()); }
  io::Mapping map_;
  std::filesystem::path path_;
};

}  // namespace opossum::log

#endif  // OPOSSUM_LOG_LEDGER_H_
