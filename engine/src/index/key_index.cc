#include "index/key_index.h"

#include <algorithm>
#include <cstring>

#include "format/checksum.h"
#include "format/filenames.h"
#include "index/damage.h"
#include "index/event_keys.h"

namespace opossum::index {

namespace fs = std::filesystem;

namespace {

template <typename T>
std::atomic_ref<T> A(T& v) {
  return std::atomic_ref<T>(v);
}

struct KeysHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t reserved0;
  uint64_t capacity;
  uint64_t count;
  uint64_t generation;
  uint64_t sealed;            // 1: seal_checksum covers the slots (set at a clean close)
  uint64_t seal_checksum;     // XXH3-64 of the slots, seeded with the generation and
                              // sealed_alloc_end (SealSeed)
  uint64_t sealed_alloc_end;  // the postings' alloc_end at the seal
};
static_assert(sizeof(KeysHeader) == kIndexHeaderSize);

struct PostingsHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t reserved0;
  uint64_t alloc_end;  // atomic: end of the allocated blocks
  // atomic: every key of positions <= this is in; the position with
  // Check16(position, kPostingsMagic) in the top 16 bits (MarkWord)
  uint64_t indexed_through;
  uint64_t reserved1[4];
};
static_assert(sizeof(PostingsHeader) == kIndexHeaderSize);

// The indexed-through mark as stored: a damaged mark that claimed more
// than was indexed would make reads skip events silently.
uint64_t MarkWord(uint64_t position) {
  return position | (uint64_t{Check16(position, kPostingsMagic)} << 48);
}

constexpr uint64_t BlockBytes(uint32_t capacity) {
  return sizeof(PostingBlock) + uint64_t{capacity} * 8;
}

const PostingBlock* BlockAt(const uint8_t* base, uint64_t off) {
  return reinterpret_cast<const PostingBlock*>(base + off);
}
const uint64_t* BlockPositions(const PostingBlock* b) {
  return reinterpret_cast<const uint64_t*>(b + 1);
}
uint64_t MakeEntry(uint64_t position, uint64_t key) {
  return position | (uint64_t{Check16(position, key)} << 48);
}
uint64_t SlotMeta(uint64_t count, uint64_t hash, uint64_t first_block, uint8_t kind) {
  uint64_t check = Check16(hash ^ kind, first_block);
  return count | (check << 40) | (uint64_t{kind} << 56);
}
uint32_t BlockCount(const PostingBlock* b) {
  return A(const_cast<uint32_t&>(b->count)).load(std::memory_order_acquire);
}

}  // namespace

struct KeyIndex::Table {
  io::Mapping map;
  uint64_t capacity = 0;
  uint64_t generation = 0;
  KeysHeader* header() const { return reinterpret_cast<KeysHeader*>(map.mutable_data()); }
  KeySlot* slots() const {
    return reinterpret_cast<KeySlot*>(map.mutable_data() + kIndexHeaderSize);
  }
};

KeyIndex::KeyIndex() = default;
KeyIndex::~KeyIndex() = default;

uint64_t KeyIndex::generation() const { return table_.load(std::memory_order_acquire)->generation; }

Status KeyIndex::MapTable(const fs::path& path, bool create, uint64_t capacity, uint64_t generation,
                          std::unique_ptr<Table>* out) {
  Status s;
  if (create) {
    io::File f;
    if (!(s = io::File::Open(path, io::File::Mode::kCreate, &f)).ok()) return s;
    if (!(s = f.Truncate(0)).ok()) return s;
    if (!(s = f.Allocate(0, kIndexHeaderSize + capacity * sizeof(KeySlot))).ok()) return s;
    KeysHeader h{};
    h.magic = kKeysMagic;
    h.version = kIndexVersion;
    h.capacity = capacity;
    h.generation = generation;
    if (!(s = f.PWrite(&h, sizeof(h), 0)).ok()) return s;
  }
  // The header is read through a descriptor and the file mapped by its name:
  // a writer in another process may rename a new table into place in between
  // (Grow). The mapped table would then not be the one whose capacity and
  // generation were read (probed with the wrong mask, keys would look
  // absent), so the header is compared through the map and, when it differs,
  // the new table is read again. A writer replaces the table only when it
  // doubles it, so a retry is rare; the bound is a guard all the same.
  constexpr int kMaxReplacements = 64;
  for (int attempt = 0;; ++attempt) {
    io::File f;
    if (!(s = io::File::Open(path, io::File::Mode::kReadOnly, &f)).ok()) return s;
    KeysHeader h{};
    uint64_t size = 0;
    if (!(s = f.Size(&size)).ok()) return s;
    if (size < sizeof(h)) return Status::Corruption(path.string() + ": no header (offset 0)");
    if (!(s = f.PRead(&h, sizeof(h), 0)).ok()) return s;
    if (h.magic != kKeysMagic || h.version != kIndexVersion || h.capacity == 0 ||
        (h.capacity & (h.capacity - 1)) != 0 ||
        size < kIndexHeaderSize + h.capacity * sizeof(KeySlot)) {
      return Status::Corruption(path.string() + ": bad key table header at offset 0");
    }
    auto t = std::make_unique<Table>();
    t->capacity = h.capacity;
    t->generation = h.generation;
    if (!(s = io::Mapping::Map(path, kIndexHeaderSize + h.capacity * sizeof(KeySlot), writable_,
                               &t->map))
             .ok()) {
      return s;
    }
    const KeysHeader* mapped = t->header();
    if (mapped->magic == h.magic && mapped->capacity == h.capacity &&
        mapped->generation == h.generation) {
      *out = std::move(t);
      return Status::Ok();
    }
    if (attempt == kMaxReplacements) {
      return Status::Busy(path.string() + ": the key table was replaced " +
                          std::to_string(kMaxReplacements) + " times while it was opened");
    }
  }
}

Status KeyIndex::Open(const fs::path& dir, bool writable, uint64_t generation) {
  dir_ = dir;
  writable_ = writable;
  const fs::path ppath = format::PostingsPath(dir);
  bool existed = false;
  Status s = io::Exists(ppath, &existed);
  if (!s.ok()) return s;
  s = postings_.Open(ppath, writable, true, kPostingsInitialSize);
  if (!s.ok()) return s;
  if (postings_.size() < kIndexHeaderSize) {
    return Status::Corruption(ppath.string() + ": too short for its header (offset 0)");
  }
  auto* ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  if (!existed) {
    if (!writable) return Status::Corruption(ppath.string() + ": empty (offset 0)");
    ph->version = kIndexVersion;
    A(ph->alloc_end).store(kIndexHeaderSize);
    A(ph->indexed_through).store(MarkWord(0));
    A(ph->magic).store(kPostingsMagic, std::memory_order_release);
  }
  // alloc_end first, then the size: a writer in another process grows the
  // file before it moves alloc_end past the old end (AllocBlock), so the
  // size read after the load covers it unless the header is damaged. The
  // size read when the file was mapped may be older than that alloc_end.
  const uint64_t alloc_end = A(ph->alloc_end).load(std::memory_order_acquire);
  if (alloc_end > postings_.size() && !(s = postings_.RefreshSize()).ok()) return s;
  if (ph->magic != kPostingsMagic || ph->version != kIndexVersion || alloc_end < kIndexHeaderSize ||
      alloc_end > postings_.size()) {
    return Status::Corruption(ppath.string() + ": bad postings header at offset 0");
  }
  const fs::path kpath = format::KeysPath(dir);
  bool keys_exist = false;
  if (writable && !(s = io::Exists(kpath, &keys_exist)).ok()) return s;
  bool create = writable && !keys_exist;
  std::unique_ptr<Table> t;
  if (!(s = MapTable(kpath, create, kInitialKeyCapacity, generation, &t)).ok()) return s;
  base::MutexLock lock(&refresh_mu_);
  table_.store(t.get(), std::memory_order_release);
  tables_.push_back(std::move(t));
  return Status::Ok();
}

Status KeyIndex::Reset(uint64_t* generation) {
  base::MutexLock lock(&refresh_mu_);
  uint64_t gen = this->generation() + 1;
  std::unique_ptr<Table> t;
  const fs::path tmp = format::KeysTempPath(dir_);
  Status s = MapTable(tmp, true, kInitialKeyCapacity, gen, &t);
  if (!s.ok()) return s;
  if (!(s = io::Rename(tmp, format::KeysPath(dir_))).ok()) return s;
  auto* ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  A(ph->alloc_end).store(kIndexHeaderSize);
  A(ph->indexed_through).store(MarkWord(0));
  A(ph->magic).store(kPostingsMagic, std::memory_order_release);
  ph->version = kIndexVersion;
  table_.store(t.get(), std::memory_order_release);
  tables_.push_back(std::move(t));
  *generation = gen;
  return Status::Ok();
}

Status KeyIndex::Refresh(uint64_t generation) {
  base::MutexLock lock(&refresh_mu_);
  if (this->generation() >= generation) return postings_.RefreshSize();
  std::unique_ptr<Table> t;
  Status s = MapTable(format::KeysPath(dir_), false, 0, 0, &t);
  if (!s.ok()) return s;
  table_.store(t.get(), std::memory_order_release);
  tables_.push_back(std::move(t));
  return postings_.RefreshSize();
}

bool KeyIndex::SlotIntact(const KeySlot* slot) {
  uint64_t meta = std::atomic_ref<const uint64_t>(const_cast<uint64_t&>(slot->meta))
                      .load(std::memory_order_acquire);
  uint8_t kind = static_cast<uint8_t>(meta >> 56);
  return ((meta >> 40) & 0xffff) == Check16(slot->hash ^ kind, slot->first_block) && kind >= 1 &&
         kind <= 3;
}

const KeySlot* KeyIndex::Find(uint64_t hash, bool* damaged) const {
  const Table* t = table_.load(std::memory_order_acquire);
  const uint64_t mask = t->capacity - 1;
  const KeySlot* slots = t->slots();
  for (uint64_t i = hash & mask, probes = 0; probes < t->capacity; i = (i + 1) & mask, ++probes) {
    uint64_t h = A(const_cast<uint64_t&>(slots[i].hash)).load(std::memory_order_acquire);
    if (h == 0) return nullptr;
    // Every slot on the probe path is checked: a damaged one may be the key.
    if (!SlotIntact(&slots[i])) {
      *damaged = true;
      return nullptr;
    }
    if (h == hash) return &slots[i];
  }
  return nullptr;
}

bool KeyIndex::BlockInBounds(uint64_t off, uint64_t key) const {
  auto ok = [&](uint64_t size) {
    if (off < kIndexHeaderSize || off % 8 != 0 || off > size || size - off < sizeof(PostingBlock)) {
      return false;
    }
    const PostingBlock* b = BlockAt(postings_.data(), off);
    uint32_t cap = b->capacity;
    return cap >= kFirstBlockCapacity && cap <= kMaxBlockCapacity && (cap & (cap - 1)) == 0 &&
           size - off >= BlockBytes(cap) && BlockCount(b) <= cap && b->prev < off &&
           b->owner == Check16(key, off);
  };
  if (ok(postings_.size())) return true;
  // Another process may have grown the file since this one looked (it grows
  // the file before it links a block there). A size that cannot be read
  // vouches for nothing.
  if (!const_cast<io::GrowableMap&>(postings_).RefreshSize().ok()) return false;
  return ok(postings_.size());
}

bool KeyIndex::HeaderPlausible(uint64_t head) const {
  auto* ph = reinterpret_cast<const PostingsHeader*>(postings_.data());
  const uint64_t end = A(const_cast<uint64_t&>(ph->alloc_end)).load(std::memory_order_acquire);
  // Another process may have grown the file (then moved alloc_end) since
  // this one looked: the size read after the load covers it (as in Open). A
  // size that cannot be read vouches for nothing.
  if (end > postings_.size() && !const_cast<io::GrowableMap&>(postings_).RefreshSize().ok()) {
    return false;
  }
  return ph->magic == kPostingsMagic && ph->version == kIndexVersion && end >= kIndexHeaderSize &&
         end <= postings_.size() && end % 8 == 0 && MarkIntact() && indexed_through() <= head;
}

bool KeyIndex::MarkIntact() const {
  auto* ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  const uint64_t w = A(ph->indexed_through).load(std::memory_order_acquire);
  return MarkWord(w & kPositionMask) == w;
}

uint64_t KeyIndex::indexed_through() const {
  auto* ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  const uint64_t w = A(ph->indexed_through).load(std::memory_order_acquire);
  // A mark that fails its check vouches for nothing: readers then scan the
  // log (right answers, slower), and a writer alone rebuilds the index.
  return MarkWord(w & kPositionMask) == w ? w & kPositionMask : 0;
}

void KeyIndex::SetIndexedThrough(uint64_t position) {
  auto* ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  A(ph->indexed_through).store(MarkWord(position), std::memory_order_release);
}

Status KeyIndex::AllocBlock(uint32_t capacity, uint64_t prev, uint64_t before, uint64_t key,
                            uint64_t first_position, uint64_t* off) {
  auto* ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  uint64_t at = A(ph->alloc_end).load(std::memory_order_relaxed);
  Status s = postings_.EnsureSize(at + BlockBytes(capacity));
  if (!s.ok()) return s;
  ph = reinterpret_cast<PostingsHeader*>(postings_.data());
  auto* b = reinterpret_cast<PostingBlock*>(postings_.data() + at);
  b->prev = prev;
  b->before = before;
  b->capacity = static_cast<uint16_t>(capacity);
  b->owner = Check16(key, at);
  reinterpret_cast<uint64_t*>(b + 1)[0] = MakeEntry(first_position, key);
  A(b->count).store(1, std::memory_order_release);
  // Allocated before it is linked: a writer that dies in between leaks the
  // block but never hands it out twice.
  A(ph->alloc_end).store(at + BlockBytes(capacity), std::memory_order_release);
  *off = at;
  return Status::Ok();
}

Status KeyIndex::Grow() {
  base::MutexLock lock(&refresh_mu_);
  Table* old = table_.load(std::memory_order_acquire);
  uint64_t cap = old->capacity * 2;
  const fs::path tmp = format::KeysTempPath(dir_);
  std::unique_ptr<Table> t;
  Status s = MapTable(tmp, true, cap, old->generation + 1, &t);
  if (!s.ok()) return s;
  KeySlot* dst = t->slots();
  const KeySlot* src = old->slots();
  uint64_t count = 0;
  for (uint64_t i = 0; i < old->capacity; ++i) {
    if (src[i].hash == 0) continue;
    // A damaged slot must not move: placed by its damaged hash, it would
    // leave its key's probe path, and the key would look absent instead of
    // damaged.
    if (!SlotIntact(&src[i])) {
      return Damaged(format::KeysPath(dir_).string() + " offset " +
                     std::to_string(kIndexHeaderSize + i * sizeof(KeySlot)) +
                     ": the slot fails its check; the key index is damaged");
    }
    uint64_t j = src[i].hash & (cap - 1);
    while (dst[j].hash != 0) j = (j + 1) & (cap - 1);
    dst[j] = src[i];
    ++count;
  }
  t->header()->count = count;
  if (!(s = io::Rename(tmp, format::KeysPath(dir_))).ok()) return s;
  table_.store(t.get(), std::memory_order_release);
  tables_.push_back(std::move(t));
  return Status::Ok();
}

Status KeyIndex::Reserve(uint64_t new_keys, bool* grown) {
  Table* t = table_.load(std::memory_order_acquire);
  while ((t->header()->count + new_keys) * 2 > t->capacity) {
    Status s = Grow();
    if (!s.ok()) return s;
    *grown = true;
    t = table_.load(std::memory_order_acquire);
  }
  return Status::Ok();
}

Status KeyIndex::Insert(uint64_t hash, format::KeyKind kind, uint64_t position, bool* grown) {
  Table* t = table_.load(std::memory_order_acquire);
  uint64_t mask = t->capacity - 1;
  KeySlot* slots = t->slots();
  uint64_t i = hash & mask;
  while (true) {
    uint64_t h = slots[i].hash;
    if (h == hash) break;
    if (h == 0) {
      if ((t->header()->count + 1) * 2 > t->capacity) {
        Status s = Grow();
        if (!s.ok()) return s;
        *grown = true;
        return Insert(hash, kind, position, grown);
      }
      uint64_t off;
      Status s = AllocBlock(kFirstBlockCapacity, 0, 0, hash, position, &off);
      if (!s.ok()) return s;
      KeySlot& slot = slots[i];
      slot.first_block = off;
      A(slot.last_block).store(off, std::memory_order_relaxed);
      A(slot.meta).store(SlotMeta(1, hash, off, static_cast<uint8_t>(kind)),
                         std::memory_order_relaxed);
      A(slot.hash).store(hash, std::memory_order_release);
      t->header()->count++;
      return Status::Ok();
    }
    i = (i + 1) & mask;
  }
  KeySlot& slot = slots[i];
  uint64_t last = slot.last_block;
  if (!SlotIntact(&slot) || !BlockInBounds(last, hash)) {
    return Status::Corruption(format::PostingsPath(dir_).string() +
                              ": the list of a key is damaged");
  }
  auto* b = reinterpret_cast<PostingBlock*>(postings_.data() + last);
  uint32_t n = b->count;
  uint64_t* entries = reinterpret_cast<uint64_t*>(b + 1);
  uint64_t meta = slot.meta;
  if (n > 0 && (entries[n - 1] & kPositionMask) >= position) {
    // Already indexed (a re-index after a crash): repair the count a writer
    // that died between the two stores may have left behind.
    uint64_t count = b->before + n;
    if ((meta & kCountMask) != count) {
      A(slot.meta).store((meta & ~kCountMask) | count, std::memory_order_release);
    }
    return Status::Ok();
  }
  if (n < b->capacity) {
    entries[n] = MakeEntry(position, hash);
    A(b->count).store(n + 1, std::memory_order_release);
  } else {
    uint64_t off;
    uint32_t cap = std::min<uint32_t>(b->capacity * 2u, kMaxBlockCapacity);
    Status s = AllocBlock(cap, last, b->before + n, hash, position, &off);
    if (!s.ok()) return s;
    A(slot.last_block).store(off, std::memory_order_release);
  }
  A(slot.meta).store((meta & ~kCountMask) | ((meta & kCountMask) + 1), std::memory_order_release);
  return Status::Ok();
}

Status KeyIndex::InsertEvent(const EventView& ev, bool* grown) {
  Status s;
  ForEachEventKey(ev, [&](uint64_t hash, format::KeyKind kind) {
    if (s.ok()) s = Insert(hash, kind, ev.position(), grown);
  });
  return s;
}

Status KeyIndex::Verify(std::vector<std::pair<uint64_t, uint64_t>> keys, uint64_t mark) const {
  if (!BlocksBelowAllocEnd()) {
    return Status::Corruption(format::PostingsPath(dir_).string() +
                              ": alloc_end (offset 16) lies below a key's blocks");
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(
      std::remove_if(keys.begin(), keys.end(), [mark](const auto& k) { return k.second > mark; }),
      keys.end());
  uint64_t seen_entries = 0;
  std::string bad;
  ForEachKey([&](uint64_t hash, uint8_t, const KeySlot* slot) {
    if (!bad.empty()) return;
    if (!SlotIntact(slot)) {
      bad = "the slot of key " + std::to_string(hash) + " fails its check";
      return;
    }
    auto it = std::lower_bound(keys.begin(), keys.end(), std::make_pair(hash, uint64_t{0}));
    PostingCursor c(this, slot, 1, mark, false);
    for (uint64_t p = c.Next(); p != 0; p = c.Next(), ++it) {
      if (it == keys.end() || it->first != hash || it->second != p) {
        bad = "key " + std::to_string(hash) + " lists position " + std::to_string(p) + " wrongly";
        return;
      }
      ++seen_entries;
    }
    if (c.failed()) {
      bad = "the list of key " + std::to_string(hash) + " is damaged";
      return;
    }
    if (it != keys.end() && it->first == hash) {
      bad = "key " + std::to_string(hash) + " misses position " + std::to_string(it->second);
    }
  });
  if (!bad.empty()) return Status::Corruption(format::PostingsPath(dir_).string() + ": " + bad);
  if (seen_entries != keys.size()) {
    return Status::Corruption(format::KeysPath(dir_).string() + ": " +
                              std::to_string(keys.size() - seen_entries) +
                              " index entries are missing");
  }
  return Status::Ok();
}

Status KeyIndex::InsertAll(const std::vector<Entry>& entries, bool* grown) {
  constexpr size_t kSlotAhead = 16, kBlockAhead = 8;
  const size_t n = entries.size();
  for (size_t i = 0; i < n; ++i) {
    const Table* t = table_.load(std::memory_order_relaxed);
    const uint64_t mask = t->capacity - 1;
    if (i + kSlotAhead < n) {
      __builtin_prefetch(&t->slots()[entries[i + kSlotAhead].hash & mask], 1);
    }
    if (i + kBlockAhead < n) {
      const KeySlot& slot = t->slots()[entries[i + kBlockAhead].hash & mask];
      if (slot.hash == entries[i + kBlockAhead].hash) {
        const uint8_t* b = postings_.data() + slot.last_block;
        __builtin_prefetch(b, 1);
        __builtin_prefetch(b + 64, 1);
      }
    }
    Status s = Insert(entries[i].hash, entries[i].kind, entries[i].position, grown);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void KeyIndex::ForEachKey(const std::function<void(uint64_t, uint8_t, const KeySlot*)>& fn) const {
  const Table* t = table_.load(std::memory_order_acquire);
  const KeySlot* slots = t->slots();
  for (uint64_t i = 0; i < t->capacity; ++i) {
    uint64_t h = A(const_cast<uint64_t&>(slots[i].hash)).load(std::memory_order_acquire);
    if (h == 0) continue;
    // An atomic load: the writer stores meta (its count) while this runs.
    // The kind byte in it was set before the hash was published.
    const uint64_t meta = A(const_cast<uint64_t&>(slots[i].meta)).load(std::memory_order_relaxed);
    fn(h, static_cast<uint8_t>(meta >> 56), &slots[i]);
  }
}

bool KeyIndex::BlocksBelowAllocEnd() const {
  uint64_t highest = 0;
  ForEachKey([&](uint64_t hash, uint8_t, const KeySlot* slot) {
    // A key's newest block is its highest (each links to a lower one).
    const uint64_t last = A(const_cast<uint64_t&>(slot->last_block)).load();
    if (!SlotIntact(slot) || !BlockInBounds(last, hash)) return;
    highest = std::max(highest, last + BlockBytes(BlockAt(postings_.data(), last)->capacity));
  });
  // Read after the slots: a writer raises alloc_end before it links a new
  // block into a slot, so every block seen above lies below it.
  auto* ph = reinterpret_cast<const PostingsHeader*>(postings_.data());
  return highest <= A(const_cast<uint64_t&>(ph->alloc_end)).load(std::memory_order_acquire);
}

uint64_t KeyIndex::CountKind(format::KeyKind kind) const {
  uint64_t n = 0;
  ForEachKey([&](uint64_t, uint8_t k, const KeySlot*) {
    if (k == static_cast<uint8_t>(kind)) ++n;
  });
  return n;
}

namespace {
uint64_t SealSeed(uint64_t generation, uint64_t alloc_end) {
  return generation ^ (alloc_end * 0x9E3779B97F4A7C15ULL);
}
}  // namespace

void KeyIndex::Seal() {
  Table* t = table_.load(std::memory_order_acquire);
  auto* ph = reinterpret_cast<const PostingsHeader*>(postings_.data());
  const uint64_t alloc_end = A(const_cast<uint64_t&>(ph->alloc_end)).load();
  t->header()->sealed_alloc_end = alloc_end;
  t->header()->seal_checksum =
      format::Hash64(t->slots(), t->capacity * sizeof(KeySlot), SealSeed(t->generation, alloc_end));
  t->header()->sealed = 1;
}

bool KeyIndex::SealCoversAllocEnd() const {
  auto* ph = reinterpret_cast<const PostingsHeader*>(postings_.data());
  return seal_valid_ && A(const_cast<uint64_t&>(ph->alloc_end)).load() == sealed_alloc_end_;
}

Status KeyIndex::CheckSealAndUnseal(bool unseal) {
  Table* t = table_.load(std::memory_order_acquire);
  seal_valid_ = false;
  if (t->header()->sealed == 1) {
    const uint64_t sealed_alloc_end = t->header()->sealed_alloc_end;
    uint64_t sum = format::Hash64(t->slots(), t->capacity * sizeof(KeySlot),
                                  SealSeed(t->generation, sealed_alloc_end));
    // A writer in another process unseals before it changes a slot: a
    // mismatch while it is unsealed is its work in progress, not damage.
    bool still_sealed =
        std::atomic_ref<uint64_t>(t->header()->sealed).load(std::memory_order_seq_cst) == 1;
    if (sum != t->header()->seal_checksum && still_sealed) {
      return Status::Corruption(format::KeysPath(dir_).string() +
                                ": the key table does not match the checksum written when the "
                                "store was closed (offset 48)");
    }
    seal_valid_ = sum == t->header()->seal_checksum;
    sealed_alloc_end_ = sealed_alloc_end;
  } else if (t->header()->sealed != 0) {
    return Status::Corruption(format::KeysPath(dir_).string() + ": bad seal flag at offset 40");
  }
  if (unseal) std::atomic_ref<uint64_t>(t->header()->sealed).store(0, std::memory_order_seq_cst);
  return Status::Ok();
}

Status KeyIndex::Sync() const {
  Status s = postings_.Sync();
  if (!s.ok()) return s;
  const Table* t = table_.load(std::memory_order_acquire);
  return t->map.Sync(0, t->map.size());
}

const PostingBlock* PostingCursor::Block(uint64_t off) {
  if (!index_->BlockInBounds(off, key_)) return nullptr;
  base_ = index_->postings();  // the file may have been mapped again, larger
  return BlockAt(base_, off);
}

bool PostingCursor::Entry(const PostingBlock* b, uint32_t i, uint64_t* position) {
  uint64_t e = BlockPositions(b)[i];
  uint64_t p = e & kPositionMask;
  if (p == 0 || (e >> 48) != Check16(p, key_)) return false;
  *position = p;
  return true;
}

namespace {
// A block that is not the last of its list is full, and the one before it
// accounts for exactly the entries it says come before.
bool ChainStep(const PostingBlock* later, const PostingBlock* earlier) {
  return BlockCount(earlier) == earlier->capacity &&
         earlier->before + earlier->capacity == later->before;
}
}  // namespace

PostingCursor::PostingCursor(const KeyIndex* index, const KeySlot* slot, uint64_t lo, uint64_t hi,
                             bool backwards)
    : index_(index), base_(index->postings()), lo_(lo), hi_(hi), backwards_(backwards) {
  if (lo > hi) return;
  key_ = slot->hash;
  // The count first: the writer raises a block's count before the slot's.
  uint64_t count = KeyIndex::Count(slot);
  uint64_t off = A(const_cast<uint64_t&>(slot->last_block)).load(std::memory_order_acquire);
  const PostingBlock* b = Block(off);
  if (b == nullptr) {
    Fail();
    return;
  }
  // The block can hold more than the count read before it (writes since),
  // never less.
  if (b->before + BlockCount(b) < count) {
    Fail();
    return;
  }
  if (backwards) {
    block_ = off;
    i_ = BlockCount(b);
    last_ = UINT64_MAX;
    return;
  }
  // Forwards: collect the chain back to the block holding `lo`.
  while (true) {
    blocks_.push_back(off);
    uint64_t first = 0;
    if (BlockCount(b) > 0 && !Entry(b, 0, &first)) {
      Fail();
      return;
    }
    if (b->prev == 0 || BlockCount(b) == 0 || first <= lo) break;
    const PostingBlock* later = b;
    off = b->prev;
    if ((b = Block(off)) == nullptr || !ChainStep(later, b)) {
      Fail();
      return;
    }
  }
  // The first block, and only it, has nothing before it and no previous
  // block (a damaged link there is otherwise seen only by backward reads).
  if ((b->prev == 0) != (b->before == 0)) {
    Fail();
    return;
  }
  std::reverse(blocks_.begin(), blocks_.end());
  block_idx_ = 0;
  block_ = blocks_[0];
  b = BlockAt(base_, block_);
  n_ = BlockCount(b);
  // Skip to the first entry >= lo, checking each one skipped: a damaged
  // entry must not hide among them.
  for (i_ = 0; i_ < n_; ++i_) {
    uint64_t p;
    if (!Entry(b, i_, &p) || p <= last_) {
      Fail();
      return;
    }
    if (p >= lo) break;
    last_ = p;
  }
}

uint64_t PostingCursor::Next() {
  if (block_ == 0) return 0;
  if (backwards_) {
    while (true) {
      if (i_ == 0) {
        const PostingBlock* b = BlockAt(base_, block_);
        if (b->prev == 0) {
          if (b->before != 0) return Fail();
          block_ = 0;
          return 0;
        }
        block_ = b->prev;
        const PostingBlock* prev = Block(block_);
        if (prev == nullptr || !ChainStep(b, prev)) return Fail();
        i_ = BlockCount(prev);
        continue;
      }
      uint64_t p;
      if (!Entry(BlockAt(base_, block_), --i_, &p)) return Fail();
      if (p >= last_) return Fail();
      last_ = p;
      if (p > hi_) continue;
      if (p < lo_) {
        block_ = 0;
        return 0;
      }
      return p;
    }
  }
  while (true) {
    if (i_ >= n_) {
      if (++block_idx_ >= blocks_.size()) {
        block_ = 0;
        return 0;
      }
      block_ = blocks_[block_idx_];
      n_ = BlockCount(BlockAt(base_, block_));
      i_ = 0;
      continue;
    }
    uint64_t p;
    if (!Entry(BlockAt(base_, block_), i_++, &p)) return Fail();
    if (p <= last_) return Fail();
    last_ = p;
    if (p > hi_) {
      block_ = 0;
      return 0;
    }
    return p;
  }
}

}  // namespace opossum::index
