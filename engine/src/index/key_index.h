// The key index: for every tag, type and event id, the positions of the
// events that carry it, in ascending order (docs/format-index.md).
//
// index/keys     an open-addressing hash table from a 64-bit key hash
//                (format::KeyHash) to its posting list; replaced by a table
//                twice the size (a new file, renamed into place, its
//                generation published in the ledger) when half full.
// index/postings the posting lists: chains of blocks of ascending positions,
//                blocks doubling in size up to 1024 entries; the last block of
//                a list is one step from its table slot, so "the newest
//                positions of a key" costs O(1).
//
// Hash collisions are possible: callers check the event itself.
// Derived data: rebuilt from the segments when damaged or untrusted.
//
// Thread safety: one writer (holding the store's write lock) inserts;
// any number of readers in any process read without a lock. Everything a
// reader needs is published with release stores before the ledger's head, and
// readers ignore positions above their snapshot's head. Replaced table maps
// stay mapped until the index is closed.
#ifndef OPOSSUM_INDEX_KEY_INDEX_H_
#define OPOSSUM_INDEX_KEY_INDEX_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "format/key_hash.h"
#include "io/growable_map.h"
#include "opossum/event.h"
#include "opossum/status.h"

namespace opossum::index {

// ON-DISK FORMAT.
constexpr uint64_t kKeysMagic = 0x5359454b534f504fULL;      // "OPOSKEYS"
constexpr uint64_t kPostingsMagic = 0x54534f50534f504fULL;  // "OPOSPOST"
// 2: check bits in slots, blocks and entries; 3: and in the indexed-through
// mark; 4: the postings' alloc_end sealed in the key table's header
constexpr uint32_t kIndexVersion = 4;
constexpr uint64_t kIndexHeaderSize = 64;
constexpr uint64_t kInitialKeyCapacity = 1024;
// A new postings file's size; it grows when needed (GrowableMap::EnsureSize).
constexpr uint64_t kPostingsInitialSize = 64 << 10;
constexpr uint32_t kFirstBlockCapacity = 4;
constexpr uint32_t kMaxBlockCapacity = 1024;

// Check bits: 16 bits mixed from the values they guard, so that a flipped
// byte anywhere in a slot, a block header or an entry is found when read
// (except with odds of 1 in 65,536), and a damaged index is reported, never
// answered from.
inline uint16_t Check16(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
  x ^= x >> 29;
  return static_cast<uint16_t>((x * 0xBF58476D1CE4E5B9ULL) >> 48);
}

struct KeySlot {
  uint64_t hash;  // 0: empty slot
  uint64_t first_block;
  uint64_t last_block;  // offset in index/postings
  // count (low 40 bits) | check of (hash, first_block, kind) (16) | kind (8)
  uint64_t meta;
};

struct PostingBlock {
  uint64_t prev;      // offset of the previous block, 0 for the first
  uint64_t before;    // entries in the blocks before this one
  uint32_t count;     // published with a release store
  uint16_t capacity;  // 4, 8, ..., 1024
  uint16_t owner;     // Check16(key hash, this block's offset)
  // uint64_t entries[capacity] follow: position | Check16(position, key) << 48
};
static_assert(sizeof(PostingBlock) == 24);

constexpr uint64_t kPositionMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t kCountMask = (uint64_t{1} << 40) - 1;

class KeyIndex;

// Iterates one key's positions within [lo, hi] forwards or backwards,
// checking every block and entry on the way.
class PostingCursor {
 public:
  PostingCursor() = default;
  PostingCursor(const KeyIndex* index, const KeySlot* slot, uint64_t lo, uint64_t hi,
                bool backwards);
  // Next position, or 0 when done (or when the list is damaged: failed()).
  uint64_t Next();
  // The list broke its invariants: the index is damaged.
  bool failed() const { return failed_; }

 private:
  const PostingBlock* Block(uint64_t off);
  bool Entry(const PostingBlock* b, uint32_t i, uint64_t* position);
  uint64_t Fail() {
    failed_ = true;
    block_ = 0;
    i_ = 0;
    blocks_.clear();
    return 0;
  }

  const KeyIndex* index_ = nullptr;
  const uint8_t* base_ = nullptr;
  uint64_t key_ = 0;
  uint64_t last_ = 0;  // the last position returned
  bool failed_ = false;
  uint64_t lo_ = 0, hi_ = 0;
  bool backwards_ = false;
  std::vector<uint64_t> blocks_;  // forwards: chain in ascending order
  size_t block_idx_ = 0;
  uint64_t block_ = 0;
  uint32_t i_ = 0, n_ = 0;
};

class KeyIndex {
 public:
  KeyIndex();
  ~KeyIndex();

  // Opens index/keys and index/postings in `dir`, creating them when
  // writable and missing. A damaged header gives kCorruption.
  Status Open(const std::filesystem::path& dir, bool writable, uint64_t generation);
  // Empties both files (for a rebuild); returns the new generation.
  Status Reset(uint64_t* generation);
  // Follows a table replaced by another process (call when the ledger's
  // generation differs from generation()).
  Status Refresh(uint64_t generation);
  uint64_t generation() const;

  // The slot of `hash`, or nullptr. *damaged is set when a slot on the way
  // fails its check (the key index is damaged).
  const KeySlot* Find(uint64_t hash, bool* damaged) const;
  static uint64_t Count(const KeySlot* slot) {
    return std::atomic_ref<const uint64_t>(const_cast<uint64_t&>(slot->meta))
               .load(std::memory_order_acquire) &
           kCountMask;
  }
  static bool SlotIntact(const KeySlot* slot);

  // Adds `position` to the key's list (writer only). Idempotent: a position
  // not above the list's newest is skipped (a re-index after a crash).
  // Sets *grown when the table was replaced (the store publishes the new
  // generation).
  Status Insert(uint64_t hash, format::KeyKind kind, uint64_t position, bool* grown);
  struct Entry {
    uint64_t hash;
    format::KeyKind kind;
    uint64_t position;
  };
  // Insert for many entries (in ascending position order per key), with the
  // table slots and posting blocks prefetched ahead: a group's keys are
  // spread over the whole table, so this hides most cache misses.
  Status InsertAll(const std::vector<Entry>& entries, bool* grown);
  // Insert for every key of a committed event (index/event_keys.h).
  Status InsertEvent(const EventView& ev, bool* grown);

  // Grows the table, before a group's bytes are written, so that `new_keys`
  // more keys fit. (A posting block that cannot be allocated later only
  // leaves the index behind the head; readers scan that tail.)
  Status Reserve(uint64_t new_keys, bool* grown);

  uint64_t indexed_through() const;
  void SetIndexedThrough(uint64_t position);

  // Verify's check of the key index: alloc_end lies above every block (or
  // the next new list would be written over one), every slot passes its
  // check, and the list of each key hash holds exactly the positions up to
  // `mark` (the indexed-through mark, at most the head) of `keys`: (key
  // hash, position) of every event up to the head (index/event_keys.h).
  Status Verify(std::vector<std::pair<uint64_t, uint64_t>> keys, uint64_t mark) const;

  // Calls fn(hash, kind, slot) for every key.
  void ForEachKey(const std::function<void(uint64_t, uint8_t, const KeySlot*)>& fn) const;
  uint64_t CountKind(format::KeyKind kind) const;

  Status Sync() const;
  // At a clean close: a checksum of the whole table and of the postings'
  // alloc_end, checked by the next open (CheckSealAndUnseal), so damage to
  // the table at rest is found before it can hide a key. A writer unseals it
  // as it opens.
  void Seal();
  Status CheckSealAndUnseal(bool unseal);
  // The last CheckSealAndUnseal found a valid seal, and the postings'
  // alloc_end is still the one sealed with it: every block then lies below
  // it as at the close (a clean close keeps that invariant), so an exclusive
  // open need not read every slot (BlocksBelowAllocEnd) to know it.
  bool SealCoversAllocEnd() const;
  const uint8_t* postings() const { return postings_.data(); }
  // The block at `off` lies within the postings file, is well-formed and
  // belongs to `key`.
  bool BlockInBounds(uint64_t off, uint64_t key) const;
  // The header fields are plausible for a store whose head is `head`.
  bool HeaderPlausible(uint64_t head) const;
  // The indexed-through mark passes its check.
  bool MarkIntact() const;
  // Every key's blocks lie below alloc_end (else new blocks would be
  // allocated over them). Reads every slot: for opens that may rebuild, and
  // Verify.
  bool BlocksBelowAllocEnd() const;
  Status RefreshPostingsSize() { return postings_.RefreshSize(); }

 private:
  struct Table;
  Status MapTable(const std::filesystem::path& path, bool create_capacity, uint64_t capacity,
                  uint64_t generation, std::unique_ptr<Table>* out);
  Status Grow();
  Status AllocBlock(uint32_t capacity, uint64_t prev, uint64_t before, uint64_t key,
                    uint64_t first_position, uint64_t* off);
  uint64_t& PostingsWord(size_t i) const {
    return reinterpret_cast<uint64_t*>(postings_.data())[i];
  }

  std::filesystem::path dir_;
  bool writable_ = false;
  // From the last CheckSealAndUnseal: the seal was valid, and its alloc_end.
  bool seal_valid_ = false;
  uint64_t sealed_alloc_end_ = 0;
  io::GrowableMap postings_;
  std::atomic<Table*> table_{nullptr};
  // Replacing the table (Reset, Refresh, Grow); readers load table_ without it.
  base::Mutex refresh_mu_;
  std::vector<std::unique_ptr<Table>> tables_ GUARDED_BY(refresh_mu_);  // current and replaced
};

}  // namespace opossum::index

#endif  // OPOSSUM_INDEX_KEY_INDEX_H_
