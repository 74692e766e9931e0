// The write path of the log: a group of batches from the store's group
// commit to the segment files (see log_writer.h).
#include "log/log_writer.h"

#include <sys/uio.h>

#include "format/layout.h"

namespace opossum::log {

Status LogWriter::SegmentFile(uint64_t ordinal, io::File** out) {
  if (write_ordinal_ != ordinal || !write_file_.is_open()) {
    Status s = segments_->OpenForWrite(ordinal, &write_file_);
    if (!s.ok()) return s;
    write_ordinal_ = ordinal;
  }
  *out = &write_file_;
  return Status::Ok();
}

// Where one segment's share of a group goes: the batches iov[iov_begin,
// iov_end) (each batch's own sealed buffer, written without a copy), `bytes`
// in all, at `file_offset`.
struct LogWriter::Placement {
  uint64_t ordinal;
  uint64_t file_offset;
  size_t iov_begin;
  size_t iov_end;
  uint64_t bytes;
};

Status LogWriter::Write(std::span<format::EncodedBatch* const> batches,
                        std::vector<uint64_t>* locations) {
  thread_local std::vector<struct iovec> iov;
  iov.clear();
  std::vector<Placement> pieces;
  uint64_t ordinal = state_.segment;
  uint64_t off = state_.end_offset;
  uint64_t chain = state_.last_checksum;
  uint64_t position = state_.head + 1;
  const int64_t now = io::NowNs();
  Status s;
  const Segment* seg = segments_->Get(ordinal);
  if (seg == nullptr)
    return Status::Corruption("segment " + std::to_string(ordinal) + " is missing");
  pieces.push_back({ordinal, off, 0, 0, 0});
  for (format::EncodedBatch* batch : batches) {
    const uint64_t len = batch->length();
    if (off + len > seg->size && off == format::kSegmentHeaderSize) {
      // The segment holds no batch yet (only a new store's first one can be
      // empty): make it large enough, rather than start a second segment at
      // the same first position (the same file name), as large as the next
      // segment would be.
      const uint64_t size = NextSegmentSize(seg->size, config_.segment_size, len);
      if (!(s = segments_->Grow(ordinal, size)).ok()) return s;
      seg = segments_->Get(ordinal);
    } else if (off + len > seg->size) {
      // Start a new segment: the batch goes whole into one segment.
      if (pieces.back().iov_begin == iov.size()) {
        pieces.pop_back();
        // Buffered bytes (of this or another process, in either mode) stay
        // unsynced only in the segment the log ends in: sync the one we leave.
        io::File* f;
        if (!(s = SegmentFile(ordinal, &f)).ok() || !(s = f->DataSync()).ok()) return s;
      } else {
        pieces.back().iov_end = iov.size();
      }
      ++ordinal;
      // A writer that died before using a segment it created may have left
      // the file (even before counting it in the ledger): look, and remove.
      if (!(s = segments_->Refresh()).ok()) return s;
      if (segments_->count() > ordinal || !segments_->torn_path().empty()) {
        if (!(s = segments_->RemoveFrom(ordinal)).ok()) return s;
      }
      // Twice the segment the log leaves, up to segment_size, or what the
      // batch needs: preallocated now, its size never changes again.
      const uint64_t size = NextSegmentSize(seg->size, config_.segment_size, len);
      if (!(s = segments_->Create(ordinal, position, size)).ok()) return s;
      ledger_->SetSegmentCount(segments_->count());
      seg = segments_->Get(ordinal);
      off = format::kSegmentHeaderSize;
      pieces.push_back({ordinal, off, iov.size(), 0, 0});
    }
    chain = batch->Seal(position, now, chain);
    for (size_t i = 0; i < batch->size(); ++i) {
      locations->push_back(format::PackLocation(ordinal, off + batch->record_offset(i)));
    }
    for (size_t k = 0; k < batch->piece_count(); ++k) {
      iov.push_back({const_cast<uint8_t*>(batch->piece_data(k)), batch->piece_size(k)});
    }
    pieces.back().bytes += len;
    off += len;
    position += batch->size();
  }
  pieces.back().iov_end = iov.size();

  // Write, then sync: one pwritev and one fdatasync per segment touched.
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Placement& pc = pieces[i];
    io::File* f;
    if (!(s = SegmentFile(pc.ordinal, &f)).ok()) break;
    if (!(s = f->PWriteV(iov.data() + pc.iov_begin, static_cast<int>(pc.iov_end - pc.iov_begin),
                         pc.file_offset))
             .ok()) {
      break;
    }
    const bool last = i + 1 == pieces.size();
    if (config_.sync_each_group || !last) {
      if (!(s = f->DataSync()).ok()) break;
    }
  }
  const bool protect = s.ok() && config_.write_protect && ordinal != state_.segment;
  if (protect) {
    // Every segment this group left is synced and will never be written
    // again. Before the commit, so that a failed chmod still fails the group.
    for (uint64_t o = state_.segment; s.ok() && o < ordinal; ++o) {
      s = segments_->SetProtected(o, true);
    }
  }
  if (!s.ok()) {
    // The log still ends where the group began: give back the write bits
    // taken above (best effort: OpenForWrite gives them back too).
    for (uint64_t o = state_.segment; protect && o < ordinal; ++o) {
      segments_->SetProtected(o, false).IgnoreError();
    }
    // Nothing of a failed group may ever be taken for a batch (a whole batch
    // left in the page cache would look like one a dead writer left). Mark
    // where it began in the ledger, so that every writer zeroes instead of
    // adopting there, then try to zero it now.
    // The mark is in the shared map: every process sees it at once, and it
    // outlives a crash of this one. If its sync fails too, only a power loss
    // before the next successful ledger sync can take it, and with it the
    // group, which was never synced either; the zeroing below is synced.
    ledger_->MarkFailedWrite(state_.segment, state_.end_offset);
    ledger_->Sync().IgnoreError();
    bool zeroed = true;
    for (const Placement& pc : pieces) {
      io::File* f;
      std::vector<uint8_t> zeros(pc.bytes, 0);
      zeroed = zeroed && SegmentFile(pc.ordinal, &f).ok() &&
               f->PWrite(zeros.data(), zeros.size(), pc.file_offset).ok() && f->DataSync().ok();
    }
    if (zeroed && ordinal == state_.segment) ledger_->ClearFailedWrite();
    return s;
  }
  state_.head = position - 1;
  state_.segment = ordinal;
  state_.end_offset = off;
  state_.last_checksum = chain;
  return Status::Ok();
}

void LogWriter::Commit(bool checkpoint) {
  ledger_->WriteCommit(&state_);
  if (checkpoint) ledger_->WriteCheckpoint(state_);
  ledger_->Publish(state_.head);
}

Status LogWriter::Checkpoint() {
  io::File* f;
  Status s = SegmentFile(state_.segment, &f);
  if (!s.ok() || !(s = f->DataSync()).ok()) return s;
  LogState st;
  if (ledger_->LatestCommit(&st)) ledger_->WriteCheckpoint(st);
  return ledger_->Sync();
}

Status LogWriter::ProtectOldSegments() {
  LogState commit;
  if (!config_.write_protect || !ledger_->LatestCommit(&commit)) return Status::Ok();
  for (uint64_t i = 0; i < commit.segment; ++i) {
    Status s = segments_->SetProtected(i, true);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace opossum::log
