#include "log/ledger.h"

#include <atomic>
#include <cstring>

#include "format/checksum.h"
#include "format/filenames.h"
#include "format/layout.h"

namespace opossum::log {
namespace {

std::atomic_ref<uint64_t> Atomic(uint64_t& v) { return std::atomic_ref<uint64_t>(v); }

uint64_t SlotChecksum(const LedgerSlot& s) { return format::Hash64(&s, 5 * sizeof(uint64_t)); }

// A slot is read and written word by word through std::atomic_ref: other
// processes (and, at open, this one) read the mapped slots without the write
// lock while a writer may be rewriting one. The checksum, not the order of
// the loads, decides whether what was read is one whole slot.
constexpr uint64_t LedgerSlot::*kSlotWords[] = {&LedgerSlot::head, &LedgerSlot::segment,
                                                &LedgerSlot::end_offset, &LedgerSlot::last_checksum,
                                                &LedgerSlot::checksum};

bool ReadSlot(const LedgerSlot& raw, LogState* out) {
  LedgerSlot& shared = const_cast<LedgerSlot&>(raw);  // only loaded from
  LedgerSlot s;
  s.seq = Atomic(shared.seq).load(std::memory_order_acquire);
  for (auto w : kSlotWords) s.*w = Atomic(shared.*w).load(std::memory_order_relaxed);
  if (s.seq == 0 || s.checksum != SlotChecksum(s)) return false;
  *out = LogState{s.seq, s.head, s.segment, s.end_offset, s.last_checksum};
  return true;
}

bool Latest(const LedgerSlot* slots, LogState* out) {
  LogState a, b;
  bool va = ReadSlot(slots[0], &a), vb = ReadSlot(slots[1], &b);
  if (va && (!vb || a.seq > b.seq)) {
    *out = a;
    return true;
  }
  if (vb) {
    *out = b;
    return true;
  }
  return false;
}

void WriteSlot(LedgerSlot* slot, const LogState& st) {
  LedgerSlot s{st.seq, st.head, st.segment, st.end_offset, st.last_checksum, 0};
  s.checksum = SlotChecksum(s);
  // Invalidate first, so that a torn slot write is never read as valid: seq
  // = 0, then the other five words (each a release store, so none of them
  // comes before the invalidation), then the real seq last (release: whoever
  // reads it with acquire sees the whole slot).
  Atomic(slot->seq).store(0, std::memory_order_relaxed);
  for (auto w : kSlotWords) Atomic(slot->*w).store(s.*w, std::memory_order_release);
  Atomic(slot->seq).store(s.seq, std::memory_order_release);
}

}  // namespace

Status Ledger::Create(const std::filesystem::path& path, uint64_t segment_size) {
  const std::filesystem::path tmp = format::LedgerTempPath(path);
  io::File f;
  Status s = io::File::Open(tmp, io::File::Mode::kCreate, &f);
  if (!s.ok()) return s;
  std::string buf(kLedgerSize, '\0');
  LedgerPage page{};
  page.magic = kLedgerMagic;
  page.version = kLedgerVersion;
  page.segment_size = segment_size;
  page.clean = 1;
  page.header_checksum = format::Hash64(&page, 24);
  std::memcpy(buf.data(), &page, sizeof(page));
  // The empty store's state: head 0, the log starts in segment 0 after its
  // header (the store creates segment 0 before the ledger).
  page.segment_count = 1;
  std::memcpy(buf.data(), &page, sizeof(page));
  LedgerSlot* slots = reinterpret_cast<LedgerSlot*>(buf.data() + offsetof(LedgerPage, commit));
  // Sequence 1 lives in slot 1 (seq & 1), so the next write (sequence 2)
  // goes to the other slot and never overwrites the only valid one.
  LogState empty = EmptyLogState();
  empty.seq = 1;
  WriteSlot(&slots[1], empty);
  slots = reinterpret_cast<LedgerSlot*>(buf.data() + offsetof(LedgerPage, checkpoint));
  WriteSlot(&slots[1], empty);
  if (!(s = f.PWrite(buf.data(), buf.size(), 0)).ok()) return s;
  if (!(s = f.Sync()).ok()) return s;
  f.Close();
  if (!(s = io::Rename(tmp, path)).ok()) return s;
  return io::SyncDir(path.parent_path());
}

Status Ledger::Open(const std::filesystem::path& path, bool writable) {
  path_ = path;
  io::File f;
  Status s =
      io::File::Open(path, writable ? io::File::Mode::kReadWrite : io::File::Mode::kReadOnly, &f);
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (!(s = f.Size(&size)).ok()) return s;
  if (size < kLedgerSize) {
    return Status::Corruption("ledger " + path.string() + " is " + std::to_string(size) +
                              " bytes, expected " + std::to_string(kLedgerSize) + " (offset 0)");
  }
  f.Close();
  if (!(s = io::Mapping::Map(path, kLedgerSize, writable, &map_)).ok()) return s;
  if (page()->magic != kLedgerMagic) {
    return Status::Corruption("ledger " + path.string() + ": bad magic number at offset 0");
  }
  if (page()->header_checksum != format::Hash64(page(), 24)) {
    return Status::Corruption("ledger " + path.string() +
                              ": header checksum mismatch (bytes 0..24, checksum at offset 56)");
  }
  if (page()->version != kLedgerVersion) {
    return Status::NotSupported("ledger " + path.string() + ": format version " +
                                std::to_string(page()->version) + " is not supported");
  }
  if (page()->segment_size < (1u << 20) || page()->segment_size > (uint64_t{1} << 40)) {
    return Status::Corruption("ledger " + path.string() +
                              ": implausible segment size at offset 16");
  }
  return Status::Ok();
}

uint64_t Ledger::published_head() const {
  return Atomic(page()->published_head).load(std::memory_order_acquire);
}
void Ledger::Publish(uint64_t head) {
  Atomic(page()->published_head).store(head, std::memory_order_release);
}
uint64_t Ledger::segment_count() const {
  return Atomic(page()->segment_count).load(std::memory_order_acquire);
}
void Ledger::SetSegmentCount(uint64_t n) {
  Atomic(page()->segment_count).store(n, std::memory_order_release);
}
uint64_t Ledger::keys_generation() const {
  return Atomic(page()->keys_generation).load(std::memory_order_acquire);
}
void Ledger::SetKeysGeneration(uint64_t g) {
  Atomic(page()->keys_generation).store(g, std::memory_order_release);
}
void Ledger::SetClean(bool clean) {
  Atomic(page()->clean).store(clean ? 1 : 0, std::memory_order_release);
}
std::string Ledger::boot_id() const {
  const char* b = page()->boot_id;
  return std::string(b, strnlen(b, sizeof(page()->boot_id)));
}
void Ledger::SetBootId(const std::string& id) {
  std::memset(page()->boot_id, 0, sizeof(page()->boot_id));
  std::memcpy(page()->boot_id, id.data(), std::min(id.size(), sizeof(page()->boot_id) - 1));
}

bool Ledger::FailedWrite(uint64_t* segment, uint64_t* offset) const {
  uint64_t s = Atomic(page()->failed_segment_plus1).load(std::memory_order_acquire);
  if (s == 0) return false;
  *segment = s - 1;
  *offset = page()->failed_offset;
  return true;
}
void Ledger::MarkFailedWrite(uint64_t segment, uint64_t offset) {
  page()->failed_offset = offset;
  Atomic(page()->failed_segment_plus1).store(segment + 1, std::memory_order_release);
}
void Ledger::ClearFailedWrite() {
  Atomic(page()->failed_segment_plus1).store(0, std::memory_order_release);
}

bool Ledger::LatestCommit(LogState* out) const { return Latest(page()->commit, out); }
Status Ledger::ReadCommit(LogState* out) const {
  if (LatestCommit(out)) return Status::Ok();
  return Status::Corruption("ledger " + path_.string() + ": no valid commit slot (offset " +
                            std::to_string(kCommitSlotsOffset) + ")");
}
bool Ledger::LatestCheckpoint(LogState* out) const { return Latest(page()->checkpoint, out); }

void Ledger::WriteCommit(LogState* state) {
  LogState cur;
  uint64_t seq = LatestCommit(&cur) ? cur.seq + 1 : 1;
  state->seq = seq;
  WriteSlot(&page()->commit[seq & 1], *state);
}

void Ledger::WriteCheckpoint(const LogState& state) {
  LogState cur;
  uint64_t seq = LatestCheckpoint(&cur) ? cur.seq + 1 : 1;
  LogState st = state;
  st.seq = seq;
  WriteSlot(&page()->checkpoint[seq & 1], st);
}

Status Ledger::Sync() const {
  Status s = map_.Sync(0, kLedgerSize);
  if (!s.ok()) return Status::IOError("sync ledger " + path_.string() + ": " + s.message());
  return s;
}

}  // namespace opossum::log
