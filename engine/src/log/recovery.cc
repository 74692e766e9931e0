// The log's side of recovery (docs/architecture.md, "Crash story"): the
// tail a dead writer left after the commit point, segments whose creation
// was cut short, and the walk from the start after a machine restart (see
// log_writer.h).
#include <algorithm>
#include <cstring>

#include "format/batch.h"
#include "format/layout.h"
#include "log/log_walker.h"
#include "log/log_writer.h"

namespace opossum::log {

Status LogWriter::Follow(bool* moved) {
  *moved = false;
  LogState st;
  Status s = ledger_->ReadCommit(&st);
  if (!s.ok() || st.seq == state_.seq) return s;
  // Another process committed since: follow its files.
  state_ = st;
  *moved = true;
  if (ledger_->segment_count() != segments_->count()) {
    if (!(s = segments_->Refresh()).ok()) return s;
  }
  if (const Segment* seg = segments_->Get(state_.segment);
      seg != nullptr && state_.end_offset > seg->mapped()) {
    segments_->Reload(state_.segment);  // grown by the other process
  }
  return Status::Ok();
}

Status LogWriter::ZeroFrom(const Segment* seg, uint64_t offset) {
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
      if (!f.is_open() && !(s = segments_->OpenForWrite(seg->ordinal, &f)).ok()) return s;
      if (!(s = f.PWrite(zeros.data(), n, at)).ok()) return s;
      wrote = true;
    }
    at += n;
  }
  return wrote ? f.DataSync() : Status::Ok();
}

Status LogWriter::AdoptTail(const BatchFn& on_batch, bool* changed) {
  Status s;
  // A group whose write or sync failed was reported to its appenders as
  // failed, so none of its bytes may ever be adopted: the walk stops there.
  uint64_t failed_segment = 0, failed_offset = 0;
  const bool failed_mark = ledger_->FailedWrite(&failed_segment, &failed_offset);
  LogWalker walk(segments_, state_, true);
  LogWalker::Step step;
  bool at_failed_write = false;
  while (true) {
    // The mark is where the log ended when the failed group began; its
    // first batch may sit there or at the start of the next segment.
    const LogState before = walk.state();
    if ((step = walk.Next()) != LogWalker::Step::kBatch) break;
    if (failed_mark && before.segment == failed_segment && before.end_offset == failed_offset) {
      at_failed_write = true;
      break;
    }
    if (!(s = on_batch(walk.info().first_position, walk.batch_segment(), walk.offsets())).ok()) {
      return s;
    }
    state_ = walk.state();
    *changed = true;
  }
  if (step == LogWalker::Step::kMissing) {
    return Status::Corruption("segment " + std::to_string(state_.segment) + " named by " +
                              ledger_->path().string() + " is missing");
  }
  if (!*changed && step == LogWalker::Step::kInvalid && !at_failed_write &&
      walk.why() == format::kChainMismatch) {
    // Right where the commit says the log ends lies a whole batch (every
    // record intact, the next position) that does not continue the commit's
    // checksum chain. A torn or stale tail never looks like that: the commit
    // slot does not belong to this log (a ledger from another store). Cutting
    // here would destroy committed events, so nothing is changed.
    return Status::Corruption("ledger " + ledger_->path().string() + ": its commit slot (offset " +
                              std::to_string(kCommitSlotsOffset) + ") does not match the log at " +
                              walk.Where() + " (a whole batch for position " +
                              std::to_string(state_.head + 1) +
                              " fails the checksum chain from the commit); the ledger may belong "
                              "to another store; nothing was changed");
  }
  // The log ends here: whatever follows (a torn batch, stale bytes, a
  // segment started by a writer that died) is removed so that it can never
  // be taken for a batch later.
  const Segment* seg = segments_->Get(state_.segment);
  if (at_failed_write) {
    // The failed group may start in the next segment; zero it where it is.
    if (const Segment* fseg = segments_->Get(failed_segment)) {
      if (!(s = ZeroFrom(fseg, failed_offset)).ok()) return s;
    }
  }
  if ((at_failed_write || step == LogWalker::Step::kInvalid) &&
      walk.where_segment() == state_.segment) {
    if (!(s = ZeroFrom(seg, state_.end_offset)).ok()) return s;
  }
  if (segments_->count() > state_.segment + 1 || !segments_->torn_path().empty()) {
    if (!(s = segments_->RemoveFrom(state_.segment + 1)).ok()) return s;
    ledger_->SetSegmentCount(segments_->count());
  }
  if (failed_mark) ledger_->ClearFailedWrite();
  return Status::Ok();
}

Status LogWriter::RepairSegments() {
  Status s;
  if (const std::filesystem::path torn = segments_->torn_path(); !torn.empty()) {
    // Only a segment beyond every commit can be one whose creation was cut
    // short (a segment is synced before it is used); any other is damaged.
    LogState commit;
    if (!ledger_->LatestCommit(&commit) || commit.segment >= segments_->count()) {
      return Status::Corruption("segment " + torn.string() +
                                ": damaged header (offset 0) in a segment that holds committed "
                                "events");
    }
    // A segment whose creation was cut short held nothing committed.
    if (!(s = io::RemoveFile(torn)).ok()) return s;
  }
  for (uint64_t i = 0; i < segments_->count(); ++i) {
    if (!(s = segments_->Repair(i)).ok()) return s;
  }
  return Status::Ok();
}

Status LogWriter::StartFromCommit() { return ledger_->ReadCommit(&state_); }

uint64_t LogWriter::CheckpointHead() const {
  LogState cp;
  return ledger_->LatestCheckpoint(&cp) ? cp.head : 0;
}

Status LogWriter::Replay(uint64_t through, const BatchFn& on_batch) {
  Status s = segments_->Refresh();
  if (!s.ok()) return s;
  LogWalker walk(segments_, EmptyLogState(), false);
  while (walk.state().head < through) {
    LogWalker::Step step = walk.Next();
    if (step != LogWalker::Step::kBatch) {
      return Status::Corruption(
          walk.Where() + ": " +
          (walk.why().empty() ? std::string("the log ends early") : walk.why()) + " (position " +
          std::to_string(walk.state().head + 1) + " was checkpointed)");
    }
    if (!(s = on_batch(walk.info().first_position, walk.batch_segment(), walk.offsets())).ok()) {
      return s;
    }
  }
  state_ = walk.state();
  return Status::Ok();
}

Status LogWriter::FinishRecovery() {
  // A buffered writer may have left the bytes since the last checkpoint in
  // the page cache only: make them durable before the checkpoint says so.
  LogState from;
  if (!ledger_->LatestCheckpoint(&from)) from.segment = 0;
  for (uint64_t i = std::min(from.segment, state_.segment); i <= state_.segment; ++i) {
    Status s = segments_->Sync(i);
    if (!s.ok()) return s;
  }
  ledger_->SetSegmentCount(segments_->count());
  ledger_->WriteCommit(&state_);
  ledger_->WriteCheckpoint(state_);
  ledger_->Publish(state_.head);
  return Status::Ok();
}

}  // namespace opossum::log
