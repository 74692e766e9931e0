// Opening, recovering and closing a store (docs/architecture.md, "Crash
// story"). The first process to open a store (it gets the open lock
// exclusively) recovers it:
//  - after a clean close: nothing to do;
//  - after a process crash (same boot id): the ledger's commit slot is
//    exact (the page cache survived); a batch a dead writer left after it is
//    adopted when whole, zeroed when torn; the key index catches up;
//  - after a machine restart: the segments are walked from the start, the
//    log is cut at the first batch that is not whole (or does not continue
//    the checksum chain) after the last checkpoint, and the indexes are
//    rebuilt.
#include "store/store_core.h"

#include <cstring>

#include "format/batch.h"
#include "format/layout.h"
#include "log/log_walker.h"

namespace opossum::internal {

namespace fs = std::filesystem;

StoreCore::StoreCore(fs::path path, const Options& options)
    : path_(std::move(path)), options_(options), writable_(!options.read_only) {}

Status StoreCore::Open(const fs::path& path, const Options& options,
                       std::unique_ptr<StoreCore>* out) {
  if (options.segment_size < (1u << 20) || options.segment_size > (uint64_t{1} << 40)) {
    return Status::InvalidArgument("segment_size must be between 1 MiB and 1 TiB");
  }
  if (options.max_event_size == 0 || options.max_event_size > format::kMaxEventSizeLimit) {
    return Status::InvalidArgument("max_event_size must be between 1 byte and 256 MiB");
  }
  std::unique_ptr<StoreCore> core(new StoreCore(path, options));
  Status s = core->OpenFiles();
  if (!s.ok()) return s;
  *out = std::move(core);
  return Status::Ok();
}

Status StoreCore::CreateStoreFiles() {
  Status s;
  if (!(s = io::CreateDirs(path_ / "segments")).ok()) return s;
  if (!(s = io::CreateDirs(path_ / "index")).ok()) return s;
  if (!(s = segments_.Open(path_ / "segments")).ok()) return s;
  if (segments_.count() == 0) {
    if (!(s = segments_.Create(0, 1, log::FirstSegmentSize(options_.segment_size))).ok()) return s;
  }
  if (!(s = log::Ledger::Create(path_ / "ledger", options_.segment_size)).ok()) return s;
  return io::SyncDir(path_);
}

bool StoreCore::SegmentsHoldBatches() const {
  // The ledger is created last: a creation cut short leaves at most the
  // first segment with nothing after its header.
  std::vector<std::string> names;
  if (!io::ListDir(path_ / "segments", &names).ok()) return false;
  if (names.empty()) return false;
  if (names.size() > 1 || names[0] != log::SegmentFileName(1)) return true;
  io::File f;
  uint64_t size = 0;
  uint32_t magic = 0;
  if (!io::File::Open(path_ / "segments" / names[0], io::File::Mode::kReadOnly, &f).ok() ||
      !f.Size(&size).ok() || size < format::kSegmentHeaderSize + sizeof(magic)) {
    return false;
  }
  // Unreadable: say so rather than take it for empty.
  if (!f.PRead(&magic, sizeof(magic), format::kSegmentHeaderSize).ok()) return true;
  return magic != 0;
}

Status StoreCore::OpenFiles() {
  Status s;
  bool exists = fs::exists(path_ / "ledger");
  if (!exists && (!writable_ || !options_.create_if_missing)) {
    if (!fs::exists(path_)) return Status::NotFound("no store at " + path_.string());
  }
  if (writable_) {
    if (!options_.create_if_missing && !fs::exists(path_)) {
      return Status::NotFound("no store at " + path_.string());
    }
    if (!(s = io::CreateDirs(path_)).ok()) return s;
  }
  if (!(s = io::CheckLocalFileSystem(path_)).ok()) return s;

  // The open lock tells whether this process is the store's only user, which
  // alone may create or recover it.
  // A reader only ever shares it: it must not keep writers from opening.
  bool alone = false;
  s = io::FileLock::Open(path_ / "open.lock", writable_, &open_lock_);
  const bool have_open_lock = s.ok();
  have_open_lock_ = have_open_lock;
  if (writable_ && !have_open_lock) return s;
  if (have_open_lock) {
    if (writable_ && !(s = open_lock_.TryLock(&alone)).ok()) return s;
    if (!alone && !(s = open_lock_.LockShared()).ok()) return s;
  }
  auto fail = [&](Status st) {
    if (have_open_lock) {
      if (alone) {
        open_lock_.Unlock();
      } else {
        open_lock_.UnlockShared();
      }
    }
    return st;
  };

  if (!fs::exists(path_ / "ledger")) {
    if (!options_.create_if_missing && SegmentsHoldBatches()) {
      return fail(Status::Corruption("ledger " + (path_ / "ledger").string() +
                                     " is missing but segments exist (open with "
                                     "create_if_missing to recover the events from them)"));
    }
    if (!writable_ || !alone) return fail(Status::NotFound("no store at " + path_.string()));
    if (!options_.create_if_missing) return fail(Status::NotFound("no store at " + path_.string()));
    if (!(s = CreateStoreFiles()).ok()) return fail(s);
  }
  if (!(s = ledger_.Open(path_ / "ledger", writable_)).ok()) return fail(s);
  if (segments_.dir().empty() && !(s = segments_.Open(path_ / "segments")).ok()) return fail(s);
  if (writable_) {
    if (!(s = io::FileLock::Open(path_ / "write.lock", true, &write_lock_)).ok()) return fail(s);
    if (!(s = io::CreateDirs(path_ / "index")).ok()) return fail(s);
  }

  // The indexes are derived data: missing, damaged or stale ones are rebuilt.
  // While other processes have the store open, a writer among them moves the
  // files on: it grows the position index and renames a new key table into
  // place before it publishes them in the ledger, and indexes a group just
  // before it commits it. So the ledger is read first, and files opened after
  // that read are at least as far along as it says.
  const bool exclusive = writable_ && alone;
  uint64_t head = 0;
  {
    log::LogState commit;
    head = ledger_.LatestCommit(&commit) ? commit.head : 0;
    head = std::max(head, ledger_.published_head());
  }
  const uint64_t keys_generation = ledger_.keys_generation();
  const fs::path index_dir = path_ / "index";
  bool index_ok = fs::exists(index_dir / "positions") && fs::exists(index_dir / "keys") &&
                  fs::exists(index_dir / "postings");
  keys_ = std::make_unique<index::KeyIndex>();
  positions_ = std::make_unique<index::PositionIndex>();
  index_ok = index_ok && positions_->Open(index_dir / "positions", writable_).ok();
  index_ok = index_ok && keys_->Open(index_dir, writable_, keys_generation).ok();
  index_ok = index_ok && keys_->generation() >= keys_generation;
  index_ok = index_ok && keys_->CheckSealAndUnseal(writable_).ok();
  if (index_ok) {
    // Alone, nothing may be indexed past the commit: a writer that died
    // between indexing its group and committing it leaves entries for
    // positions that recovery may give to other events. With others, the
    // live writer's group may be indexed and not yet committed; its room in
    // the position index was made before (read the mark, then the size).
    const uint64_t indexed = keys_->indexed_through();
    index_ok = keys_->HeaderPlausible(exclusive ? head : UINT64_MAX) &&
               (!exclusive || keys_->SealCoversAllocEnd() || keys_->BlocksBelowAllocEnd()) &&
               positions_->RefreshSize().ok() &&
               positions_->Covers(exclusive ? head : std::max(head, indexed));
  }
  if (!index_ok && !exclusive) {
    return fail(Status::Corruption("the indexes in " + (path_ / "index").string() +
                                   " are damaged; open the store for writing while no other "
                                   "process uses it to rebuild them"));
  }

  if (exclusive) {
    if (!(s = write_lock_.Lock(options_.lock_timeout)).ok()) return fail(s);
    // Without a boot id to compare, assume the machine restarted (the
    // slower, safe recovery).
    bool restarted =
        !ledger_.clean() && (io::BootId().empty() || ledger_.boot_id() != io::BootId());
    if (!index_ok) {
      // Recreate the damaged files from scratch.
      for (const char* name : {"positions", "postings", "keys"}) {
        if (!(s = io::RemoveFile(path_ / "index" / name)).ok()) return fail(s);
      }
      positions_ = std::make_unique<index::PositionIndex>();
      keys_ = std::make_unique<index::KeyIndex>();
      if (!(s = positions_->Open(path_ / "index" / "positions", true)).ok()) return fail(s);
      if (!(s = keys_->Open(path_ / "index", true, ledger_.keys_generation())).ok()) return fail(s);
    }
    s = Recover(restarted || !index_ok);
    if (s.ok()) {
      ledger_.SetClean(false);
      ledger_.SetBootId(io::BootId());
      s = ledger_.Sync();
    }
    write_lock_.Unlock();
    if (!s.ok()) return fail(s);
    if (!(s = open_lock_.LockShared()).ok()) return fail(s);  // converts, atomically
  } else if (writable_ && !ledger_.clean() &&
             (io::BootId().empty() || ledger_.boot_id() != io::BootId())) {
    // Not cleanly closed before a machine restart, and others (readers) have
    // it open: only a writer alone may recover it.
    return fail(Status::Busy("the store " + path_.string() +
                             " needs recovery after a machine restart, which needs it to be "
                             "opened for writing while no other process has it open"));
  } else if (writable_ && ledger_.clean()) {
    // Not alone (readers have it open): still mark it in use by a writer, so
    // that a machine restart before a clean close is recovered as one.
    ledger_.SetClean(false);
    ledger_.SetBootId(io::BootId());
    if (!(s = ledger_.Sync()).ok()) return fail(s);
  }
  if (writable_ && options_.write_protect_segments) {
    // Segments written without the option, or left writable by a crash
    // between a segment's sync and its chmod. The commit (recovered above
    // when alone) only moves forward, so no writer needs these again.
    log::LogState commit;
    if (ledger_.LatestCommit(&commit)) {
      for (uint64_t i = 0; i < commit.segment; ++i) {
        if (!(s = segments_.SetProtected(i, true)).ok()) return fail(s);
      }
    }
  }
  opened_ = true;
  return Status::Ok();
}

Status StoreCore::Recover(bool full) {
  Status s;
  if (const fs::path torn = segments_.torn_path(); !torn.empty()) {
    // Only a segment beyond every commit can be one whose creation was cut
    // short (a segment is synced before it is used); any other is damaged.
    log::LogState commit;
    if (!ledger_.LatestCommit(&commit) || commit.segment >= segments_.count()) {
      return Status::Corruption("segment " + torn.string() +
                                ": damaged header (offset 0) in a segment that holds committed "
                                "events");
    }
    // A segment whose creation was cut short held nothing committed.
    if (!(s = io::RemoveFile(torn)).ok()) return s;
  }
  for (uint64_t i = 0; i < segments_.count(); ++i) {
    if (!(s = segments_.Repair(i)).ok()) return s;
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  if (full) {
    // Everything up to the last checkpoint was synced: index it from the
    // segments (reporting, never cutting, damage there), then adopt what
    // follows while it is whole.
    log::LogState cp;
    if (!ledger_.LatestCheckpoint(&cp)) {
      cp = log::EmptyLogState();
    }
    if (!(s = RebuildIndexesLocked(cp.head)).ok()) return s;
  } else {
    if (!ledger_.LatestCommit(&state_)) {
      return Status::Corruption("ledger " + ledger_.path().string() +
                                ": no valid commit slot (offset 256)");
    }
  }
  log::LogState from;
  if (!ledger_.LatestCheckpoint(&from)) from.segment = 0;
  bool changed = false;
  if (!(s = AdoptTailLocked(&changed)).ok()) return s;
  if (!(s = IndexCatchUpLocked()).ok()) {
    // Damage the checks at open cannot see (a list whose blocks were lost,
    // found only as the catch-up extends it) must not keep the only writer
    // out: the indexes are derived data, rebuilt here from the segments. The
    // walk checks the log up to the recovered head again, so damage in the
    // segments is still reported (and never cut).
    if (full || !s.IsCorruption()) return s;
    if (!(s = RebuildIndexesLocked(state_.head)).ok()) return s;
    if (!(s = IndexCatchUpLocked()).ok()) return s;
  }
  // The recovered log becomes the new checkpoint: make its bytes durable
  // first (a buffered writer may have left them in the page cache only).
  for (uint64_t i = std::min(from.segment, state_.segment); i <= state_.segment; ++i) {
    const log::Segment* seg = segments_.Get(i);
    io::File f;
    if (seg == nullptr) continue;
    // Read-only: fdatasync needs no write access, and the earlier of these
    // segments may be write-protected.
    if (!(s = io::File::Open(seg->path, io::File::Mode::kReadOnly, &f)).ok()) return s;
    if (!(s = f.DataSync()).ok()) return s;
  }
  ledger_.SetSegmentCount(segments_.count());
  ledger_.WriteCommit(&state_);
  ledger_.WriteCheckpoint(state_);
  ledger_.Publish(state_.head);
  return Status::Ok();
}

Status StoreCore::RebuildIndexesLocked(uint64_t through) {
  uint64_t gen = 0;
  Status s = keys_->Reset(&gen);
  if (!s.ok()) return s;
  ledger_.SetKeysGeneration(gen);
  if (!(s = positions_->Reset()).ok()) return s;
  if (!(s = segments_.Refresh()).ok()) return s;
  log::LogWalker walk(&segments_, log::EmptyLogState(), false);
  while (walk.state().head < through) {
    log::LogWalker::Step step = walk.Next();
    if (step != log::LogWalker::Step::kBatch) {
      return Status::Corruption(
          walk.Where() + ": " +
          (walk.why().empty() ? std::string("the log ends early") : walk.why()) + " (position " +
          std::to_string(walk.state().head + 1) + " was checkpointed)");
    }
    const format::BatchInfo& info = walk.info();
    if (!(s = positions_->Reserve(info.first_position + info.count - 1)).ok()) return s;
    for (uint32_t i = 0; i < info.count; ++i) {
      positions_->Set(info.first_position + i,
                      format::PackLocation(walk.batch_segment(), walk.offsets()[i]));
    }
  }
  state_ = walk.state();
  return Status::Ok();
}

Status StoreCore::ZeroFrom(const log::Segment* seg, uint64_t offset) {
  // Opened for writing only when there is something to zero.
  io::File f;
  Status s;
  static const std::vector<uint8_t> zeros(1 << 16, 0);
  const uint8_t* d = seg->data();
  uint64_t end = seg->mapped();
  uint64_t at = offset;
  bool wrote = false;
  while (at < end) {
    uint64_t n = std::min<uint64_t>(zeros.size(), end - at);
    if (std::memcmp(d + at, zeros.data(), n) != 0) {
      if (!f.is_open() && !(s = segments_.OpenForWrite(seg->ordinal, &f)).ok()) return s;
      if (!(s = f.PWrite(zeros.data(), n, at)).ok()) return s;
      wrote = true;
    }
    at += n;
  }
  return wrote ? f.DataSync() : Status::Ok();
}

Status StoreCore::AdoptTailLocked(bool* changed) {
  Status s;
  // A group whose write or sync failed was reported to its appenders as
  // failed, so none of its bytes may ever be adopted: the walk stops there.
  uint64_t failed_segment = 0, failed_offset = 0;
  const bool failed_mark = ledger_.FailedWrite(&failed_segment, &failed_offset);
  log::LogWalker walk(&segments_, state_, true);
  log::LogWalker::Step step;
  bool at_failed_write = false;
  while (true) {
    // The mark is where the log ended when the failed group began; its
    // first batch may sit there or at the start of the next segment.
    const log::LogState before = walk.state();
    if ((step = walk.Next()) != log::LogWalker::Step::kBatch) break;
    const format::BatchInfo& info = walk.info();
    if (failed_mark && before.segment == failed_segment && before.end_offset == failed_offset) {
      at_failed_write = true;
      break;
    }
    if (!(s = positions_->Reserve(info.first_position + info.count - 1)).ok()) return s;
    for (uint32_t i = 0; i < info.count; ++i) {
      positions_->Set(info.first_position + i,
                      format::PackLocation(walk.batch_segment(), walk.offsets()[i]));
    }
    state_ = walk.state();
    *changed = true;
  }
  if (step == log::LogWalker::Step::kMissing) {
    return Status::Corruption("segment " + std::to_string(state_.segment) + " named by " +
                              ledger_.path().string() + " is missing");
  }
  if (!*changed && step == log::LogWalker::Step::kInvalid && !at_failed_write &&
      walk.why() == format::kChainMismatch) {
    // Right where the commit says the log ends lies a whole batch (every
    // record intact, the next position) that does not continue the commit's
    // checksum chain. A torn or stale tail never looks like that: the commit
    // slot does not belong to this log (a ledger from another store). Cutting
    // here would destroy committed events, so nothing is changed.
    return Status::Corruption("ledger " + ledger_.path().string() +
                              ": its commit slot (offset 256) does not match the log at " +
                              walk.Where() + " (a whole batch for position " +
                              std::to_string(state_.head + 1) +
                              " fails the checksum chain from the commit); the ledger may belong "
                              "to another store; nothing was changed");
  }
  {
    const log::Segment* seg = segments_.Get(state_.segment);
    // The log ends here: whatever follows (a torn batch, stale bytes, a
    // segment started by a writer that died) is removed so that it can never
    // be taken for a batch later.
    if (at_failed_write) {
      // The failed group may start in the next segment; zero it where it is.
      if (const log::Segment* fseg = segments_.Get(failed_segment)) {
        if (!(s = ZeroFrom(fseg, failed_offset)).ok()) return s;
      }
    }
    if ((at_failed_write || step == log::LogWalker::Step::kInvalid) &&
        walk.where_segment() == state_.segment) {
      if (!(s = ZeroFrom(seg, state_.end_offset)).ok()) return s;
    }
    if (segments_.count() > state_.segment + 1 || !segments_.torn_path().empty()) {
      if (!(s = segments_.RemoveFrom(state_.segment + 1)).ok()) return s;
      ledger_.SetSegmentCount(segments_.count());
    }
    if (failed_mark) ledger_.ClearFailedWrite();
    return Status::Ok();
  }
}

StoreCore::~StoreCore() {
  if (!opened_) return;
  if (!writable_) {
    if (have_open_lock_) open_lock_.UnlockShared();
    return;
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  bool alone = false;
  if (open_lock_.TryLock(&alone).ok() && alone) {
    // The last user: make everything durable and mark the store clean, so
    // the next open needs no recovery.
    if (write_lock_.Lock(options_.lock_timeout).ok()) {
      log::LogState st;
      bool ok = ledger_.LatestCommit(&st);
      if (ok) {
        const log::Segment* seg = segments_.Get(st.segment);
        if (seg != nullptr) {
          io::File f;
          ok = io::File::Open(seg->path, io::File::Mode::kReadOnly, &f).ok() && f.DataSync().ok();
        }
      }
      ok = ok && keys_->indexed_through() >= st.head;
      if (ok) keys_->Seal();
      ok = ok && positions_->Sync().ok() && keys_->Sync().ok();
      if (ok) {
        ledger_.WriteCheckpoint(st);
        ledger_.SetClean(true);
        ledger_.Sync();
      }
      write_lock_.Unlock();
    }
    open_lock_.Unlock();
  } else {
    open_lock_.UnlockShared();
  }
}

}  // namespace opossum::internal
