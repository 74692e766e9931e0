// Opening, recovering and closing a store (docs/architecture.md, "Crash
// story"). The first process to open a store (it gets the open lock
// exclusively) recovers it, the log's part through the log writer
// (log/recovery.cc) and the indexes here:
//  - after a clean close: nothing to do;
//  - after a process crash (same boot id): the ledger's commit slot is
//    exact (the page cache survived); a batch a dead writer left after it is
//    adopted when whole, zeroed when torn; the key index catches up;
//  - after a machine restart: the segments are walked from the start, the
//    log is cut at the first batch that is not whole (or does not continue
//    the checksum chain) after the last checkpoint, and the indexes are
//    rebuilt.
#include "store/store_core.h"

#include "format/filenames.h"
#include "format/layout.h"
#include "index/indexes.h"

namespace opossum::internal {

namespace fs = std::filesystem;

StoreCore::StoreCore(fs::path path, const Options& options)
    : path_(std::move(path)),
      options_(options),
      writable_(!options.read_only),
      log_(&segments_, &ledger_,
           {options.segment_size, options.durability == Durability::kSync,
            options.write_protect_segments}) {}

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
  if (!(s = io::CreateDirs(format::SegmentDir(path_))).ok()) return s;
  if (!(s = io::CreateDirs(format::IndexDir(path_))).ok()) return s;
  if (!(s = segments_.Open(format::SegmentDir(path_))).ok()) return s;
  if (segments_.count() == 0) {
    if (!(s = segments_.Create(0, 1, log::FirstSegmentSize(options_.segment_size))).ok()) return s;
  }
  // The ledger last: without it, the folder is no store yet.
  if (!(s = log::Ledger::Create(format::LedgerPath(path_), options_.segment_size)).ok()) return s;
  return io::SyncDir(path_);
}

Status StoreCore::OpenFiles() {
  Status s;
  const fs::path ledger_path = format::LedgerPath(path_);
  const fs::path index_dir = format::IndexDir(path_);
  bool exists = false, dir_exists = false;
  if (!(s = io::Exists(ledger_path, &exists)).ok()) return s;
  if (!exists && (!writable_ || !options_.create_if_missing)) {
    if (!(s = io::Exists(path_, &dir_exists)).ok()) return s;
    if (!dir_exists) return Status::NotFound("no store at " + path_.string());
  }
  if (writable_) {
    if (!options_.create_if_missing) {
      if (!(s = io::Exists(path_, &dir_exists)).ok()) return s;
      if (!dir_exists) return Status::NotFound("no store at " + path_.string());
    }
    if (!(s = io::CreateDirs(path_)).ok()) return s;
  }
  if (!(s = io::CheckLocalFileSystem(path_)).ok()) return s;

  // The open lock tells whether this process is the store's only user, which
  // alone may create or recover it.
  // A reader only ever shares it: it must not keep writers from opening.
  bool alone = false;
  s = io::FileLock::Open(format::OpenLockPath(path_), writable_, &open_lock_);
  const bool have_open_lock = s.ok();
  have_open_lock_ = have_open_lock;
  if (writable_ && !have_open_lock) return s;
  if (have_open_lock) {
    if (writable_ && !(s = open_lock_.TryLock(&alone)).ok()) return s;
    if (!alone && !(s = open_lock_.LockShared()).ok()) return s;
  }
  auto fail = [&](Status st) {
    if (have_open_lock) {
      // See FileLock::Unlock.
      if (alone) {
        open_lock_.Unlock().IgnoreError();
      } else {
        open_lock_.UnlockShared().IgnoreError();
      }
    }
    return st;
  };

  bool have_ledger = false;  // another process may have created it meanwhile
  if (!(s = io::Exists(ledger_path, &have_ledger)).ok()) return fail(s);
  if (!have_ledger) {
    if (!options_.create_if_missing && log::SegmentsHoldBatches(format::SegmentDir(path_))) {
      return fail(Status::Corruption("ledger " + ledger_path.string() +
                                     " is missing but segments exist (open with "
                                     "create_if_missing to recover the events from them)"));
    }
    if (!writable_ || !alone) return fail(Status::NotFound("no store at " + path_.string()));
    if (!options_.create_if_missing) return fail(Status::NotFound("no store at " + path_.string()));
    if (!(s = CreateStoreFiles()).ok()) return fail(s);
  }
  if (!(s = ledger_.Open(ledger_path, writable_)).ok()) return fail(s);
  if (segments_.dir().empty() && !(s = segments_.Open(format::SegmentDir(path_))).ok()) {
    return fail(s);
  }
  if (writable_) {
    if (!(s = io::FileLock::Open(format::WriteLockPath(path_), true, &write_lock_)).ok()) {
      return fail(s);
    }
    if (!(s = io::CreateDirs(index_dir)).ok()) return fail(s);
  }

  // The indexes are derived data: missing, damaged or stale ones are rebuilt.
  // While other processes have the store open, a writer among them moves the
  // files on before it publishes them in the ledger: the ledger is read
  // first (index::OpenTrusted).
  const bool exclusive = writable_ && alone;
  uint64_t head = 0;
  {
    log::LogState commit;
    head = ledger_.LatestCommit(&commit) ? commit.head : 0;
    head = std::max(head, ledger_.published_head());
  }
  const bool index_ok = index::OpenTrusted(index_dir, writable_, ledger_.keys_generation(), head,
                                           exclusive, &positions_, &keys_);
  if (!index_ok && !exclusive) {
    return fail(Status::Corruption("the indexes in " + index_dir.string() +
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
      s = index::Recreate(index_dir, ledger_.keys_generation(), &positions_, &keys_);
      if (!s.ok()) return fail(s);
    }
    s = Recover(restarted || !index_ok);
    if (s.ok()) {
      ledger_.SetClean(false);
      ledger_.SetBootId(io::BootId());
      s = ledger_.Sync();
    }
    write_lock_.Unlock().IgnoreError();  // see FileLock::Unlock
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
  // With write_protect_segments: the segments the commit (recovered above
  // when alone) has left behind.
  if (writable_ && !(s = log_.ProtectOldSegments()).ok()) return fail(s);
  opened_ = true;
  return Status::Ok();
}

Status StoreCore::Recover(bool full) {
  Status s = log_.RepairSegments();
  if (!s.ok()) return s;
  base::MutexLock lock(&write_mu_);
  if (full) {
    // Everything up to the last checkpoint was synced: index it from the
    // segments (reporting, never cutting, damage there), then adopt what
    // follows while it is whole.
    if (!(s = RebuildIndexesLocked(log_.CheckpointHead())).ok()) return s;
  } else if (!(s = log_.StartFromCommit()).ok()) {
    return s;
  }
  bool changed = false;
  if (!(s = log_.AdoptTail(FillPositions(), &changed)).ok()) return s;
  if (!(s = IndexCatchUpLocked()).ok()) {
    // Damage the checks at open cannot see (a list whose blocks were lost,
    // found only as the catch-up extends it) must not keep the only writer
    // out: the indexes are derived data, rebuilt here from the segments. The
    // walk checks the log up to the recovered head again, so damage in the
    // segments is still reported (and never cut).
    if (full || !s.IsCorruption()) return s;
    if (!(s = RebuildIndexesLocked(log_.head())).ok()) return s;
    if (!(s = IndexCatchUpLocked()).ok()) return s;
  }
  // The recovered log becomes the new checkpoint.
  return log_.FinishRecovery();
}

log::LogWriter::BatchFn StoreCore::FillPositions() {
  // positions_ is read at each call: a rebuild replaces it.
  return [this](uint64_t first_position, uint64_t segment, const std::vector<uint64_t>& offsets) {
    return positions_->Fill(first_position, segment, offsets);
  };
}

Status StoreCore::RebuildIndexesLocked(uint64_t through) {
  uint64_t gen = 0;
  Status s = keys_->Reset(&gen);
  if (!s.ok()) return s;
  ledger_.SetKeysGeneration(gen);
  if (!(s = positions_->Reset()).ok()) return s;
  // The key index follows from the positions (IndexCatchUpLocked).
  return log_.Replay(through, FillPositions());
}

Status StoreCore::IndexCatchUpLocked() {
  uint64_t from = keys_->indexed_through();
  if (from >= log_.head()) return Status::Ok();
  bool grown = false;
  Status s;
  for (uint64_t p = from + 1; p <= log_.head(); ++p) {
    EventView ev;
    if (!(s = EventAt(p, &ev)).ok()) break;
    if (!(s = keys_->InsertEvent(ev, &grown)).ok()) break;
    keys_->SetIndexedThrough(p);
  }
  if (grown) ledger_.SetKeysGeneration(keys_->generation());
  return s;
}

StoreCore::~StoreCore() {
  if (!opened_) return;
  if (!writable_) {
    if (have_open_lock_) open_lock_.UnlockShared().IgnoreError();  // see FileLock::Unlock
    return;
  }
  base::MutexLock lock(&write_mu_);
  bool alone = false;
  if (open_lock_.TryLock(&alone).ok() && alone) {
    // The last user: make everything durable and mark the store clean, so
    // the next open needs no recovery.
    if (write_lock_.Lock(options_.lock_timeout).ok()) {
      log::LogState st;
      bool ok = ledger_.LatestCommit(&st) && segments_.Sync(st.segment).ok();
      ok = ok && keys_->indexed_through() >= st.head;
      if (ok) keys_->Seal();
      ok = ok && positions_->Sync().ok() && keys_->Sync().ok();
      if (ok) {
        // Everything the clean mark vouches for is on stable storage
        // already. If the ledger's own sync fails, the mark may be lost,
        // and the next open recovers as after a crash: nothing to undo.
        ledger_.WriteCheckpoint(st);
        ledger_.SetClean(true);
        ledger_.Sync().IgnoreError();
      }
      // See FileLock::Unlock.
      write_lock_.Unlock().IgnoreError();
    }
    open_lock_.Unlock().IgnoreError();
  } else {
    open_lock_.UnlockShared().IgnoreError();
  }
}

}  // namespace opossum::internal
