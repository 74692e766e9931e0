// StoreCore: the engine behind the public Store and Reader handles. One per
// store folder per process (see the registry in store.cc), shared by all handles.
//
// The path of an append (append.cc, then log/log_writer.cc): Append() checks
// and encodes the events outside any lock, queues them, and one of the
// waiting appenders (the leader) commits the whole queue as a group: it takes
// the OS write lock, catches up with what other processes wrote, checks each
// batch's id and condition in order (against the store and the batches
// accepted before it in the group), has the log writer write the accepted
// batches (one pwritev per segment, synced), updates the position and key
// indexes, has the log writer commit (the ledger's commit slot, the new head
// published), then wakes the appenders with their results.
//
// The path of a read: a Reader fixes the published head; a query's
// candidates come from the key index (or every position for Query::All),
// each candidate record is located through the position index, checked
// (checksum, position) and matched against the query in place.
#ifndef OPOSSUM_STORE_STORE_CORE_H_
#define OPOSSUM_STORE_STORE_CORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "format/encoded_batch.h"
#include "index/key_index.h"
#include "index/position_index.h"
#include "io/file.h"
#include "log/ledger.h"
#include "log/log_writer.h"
#include "log/segments.h"
#include "opossum/event.h"
#include "opossum/options.h"
#include "opossum/query.h"
#include "opossum/status.h"

namespace opossum {
struct StoreStats;  // opossum/store.h
}

namespace opossum::internal {

class StoreCore {
 public:
  static Status Open(const std::filesystem::path& path, const Options& options,
                     std::unique_ptr<StoreCore>* out);
  ~StoreCore();

  Status Append(format::EncodedBatch&& batch, const std::optional<AppendCondition>& condition,
                uint64_t* last_position);
  Status Append(std::span<const Event> events, const std::optional<AppendCondition>& condition,
                uint64_t* last_position);
  uint64_t Head() const { return ledger_.published_head(); }

  Status ForEach(uint64_t head, const Query& query, const ReadOptions& options,
                 const std::function<bool(const EventView&)>& fn);
  // The committed event (<= head) carrying `id`, or none.
  Status ReadById(uint64_t head, const Uuid& id, std::optional<EventView>* out);
  Status Sync();
  Status Verify(const std::function<void(uint64_t, uint64_t)>& progress);
  Status GetStats(StoreStats* out);
  const std::filesystem::path& path() const { return path_; }
  const Options& options() const { return options_; }

  // The committed event at `position` (<= a published head), checked.
  Status EventAt(uint64_t position, EventView* out);
  void PrefetchRecord(uint64_t position) const;

 private:
  // One Append call waiting in the group commit queue.
  struct Pending {
    format::EncodedBatch batch;
    const AppendCondition* condition = nullptr;
    bool all_ids = false;
    uint64_t bytes = 0;
    uint64_t first_position = 0;
    Status status;
    uint64_t last_position = 0;
    // kWaiting until the leader sets kDone (the result is in) or kLead (this
    // appender leads the next group); appenders sleep on wake_epoch_.
    std::atomic<uint32_t> state{0};
  };
  static constexpr uint32_t kWaiting = 0, kDone = 1, kLead = 2;

  StoreCore(std::filesystem::path path, const Options& options);
  Status OpenFiles();
  Status CreateStoreFiles();
  // Alone, under the write lock: the log's tail, then the indexes; with
  // `full` (after a machine restart, or damaged indexes), the indexes are
  // rebuilt from the segments up to the last checkpoint first.
  Status Recover(bool full);

  // Writer side (write_mu_ and the OS write lock held).
  Status CatchUpLocked() REQUIRES(write_mu_);
  // What the log writer calls for each batch it adopts or replays.
  log::LogWriter::BatchFn FillPositions();
  Status IndexCatchUpLocked() REQUIRES(write_mu_);
  Status RebuildIndexesLocked(uint64_t through) REQUIRES(write_mu_);
  void CommitGroup(std::vector<Pending*>& group) EXCLUDES(write_mu_, queue_mu_);
  // Called with queue_mu_ held and leader_busy_ set; returns with it released.
  void LeadGroups(int rounds) RELEASE(queue_mu_);
  static constexpr int kLeaderRounds = 4;  // groups one leader commits in a row at most
  Status CheckIdempotency(const Pending& p, const std::vector<Pending*>& accepted,
                          uint64_t* duplicate_last) REQUIRES(write_mu_);
  // The position of the committed event (<= head) carrying `id`, or 0. The
  // key index must be current (the writer's, or refreshed by a reader).
  Status FindId(const Uuid& id, uint64_t head, uint64_t* position);
  uint64_t CheckCondition(const AppendCondition& c, const std::vector<Pending*>& accepted,
                          Status* error) REQUIRES(write_mu_);

  // Reader side.
  Status RefreshReaderView();
  Status DamagedIndex() const;
  Status CorruptRecord(uint64_t position, const log::Segment* seg, uint64_t offset,
                       const std::string& why) const;

  const std::filesystem::path path_;
  const Options options_;
  bool writable_;
  bool have_open_lock_ = false;
  bool opened_ = false;  // OpenFiles succeeded: the destructor closes

  io::FileLock open_lock_;   // shared while open; exclusive to recover/close alone
  io::FileLock write_lock_;  // held around each group commit
  log::Ledger ledger_;
  log::SegmentSet segments_;
  log::LogWriter log_;  // where the log ends; every write to it (write_mu_ held)
  std::unique_ptr<index::PositionIndex> positions_;
  std::unique_ptr<index::KeyIndex> keys_;  // replaced whole when rebuilt

  // Writer state: one group commit (or Sync, or the close) at a time.
  base::Mutex write_mu_ ACQUIRED_AFTER(queue_mu_);
  int64_t last_ledger_sync_ns_ GUARDED_BY(write_mu_) = 0;

  // Group commit queue.
  base::Mutex queue_mu_;
  std::deque<std::shared_ptr<Pending>> queue_ GUARDED_BY(queue_mu_);
  bool leader_busy_ GUARDED_BY(queue_mu_) = false;
  std::atomic<uint64_t> wake_epoch_{0};  // bumped (and notified) after each group
};

}  // namespace opossum::internal

#endif  // OPOSSUM_STORE_STORE_CORE_H_
