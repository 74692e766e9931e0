#include "format/encoded_batch.h"

#include <algorithm>
#include <new>

#include "format/checksum.h"

namespace opossum::format {

EncodedBatch::EncodedBatch(uint32_t max_event_size) : max_event_size_(max_event_size) {}

EncodedBatch::~EncodedBatch() { FreePieces(); }

void EncodedBatch::FreePieces() {
  for (Piece& p : pieces_) FreeBytes(p.data);
  pieces_.clear();
}

EncodedBatch::EncodedBatch(EncodedBatch&& o) noexcept
    : max_event_size_(o.max_event_size_),
      pieces_(std::move(o.pieces_)),
      size_(std::exchange(o.size_, 0)),
      offsets_(std::move(o.offsets_)),
      type_hashes_(std::move(o.type_hashes_)),
      tag_end_(std::move(o.tag_end_)),
      tag_hashes_(std::move(o.tag_hashes_)),
      ids_(std::move(o.ids_)),
      flags_(std::move(o.flags_)),
      with_ids_(std::exchange(o.with_ids_, 0)) {
  o.pieces_.clear();
}

EncodedBatch& EncodedBatch::operator=(EncodedBatch&& o) noexcept {
  if (this != &o) {
    this->~EncodedBatch();
    new (this) EncodedBatch(std::move(o));
  }
  return *this;
}

void EncodedBatch::Reserve(uint64_t bytes) {
  bytes = Align8(std::max<uint64_t>(bytes, kBatchHeaderSize));
  if (pieces_.empty()) pieces_.push_back(Piece{});
  Piece& last = pieces_.back();
  // Room in the last piece for what the batch does not hold yet.
  const uint64_t want = last.size + (bytes > size_ ? bytes - size_ : 0);
  if (want <= last.capacity) return;
  auto* p = static_cast<uint8_t*>(ReallocBytes(last.data, want));
  if (p == nullptr) throw std::bad_alloc();
  last.data = p;
  last.capacity = want;
  if (want >= (uint64_t{4} << 20)) AdviseHugePages(p, want);
}

uint8_t* EncodedBatch::Grow(uint64_t record_bytes) {
  if (size_ == 0) {
    if (pieces_.empty()) pieces_.push_back(Piece{});
    if (pieces_[0].capacity < kBatchHeaderSize + record_bytes) Reserve(4096 + record_bytes);
    Piece& first = pieces_[0];
    std::memset(first.data, 0, kBatchHeaderSize);
    first.begin = 0;
    first.start = 0;
    first.size = kBatchHeaderSize;
    size_ = kBatchHeaderSize;
  }
  Piece& last = pieces_.back();
  if (last.size + record_bytes > last.capacity) {
    Reserve(size_ + std::max(last.capacity, record_bytes));
  }
  uint8_t* at = pieces_.back().data + pieces_.back().size;
  offsets_.push_back(size_);
  pieces_.back().size += record_bytes;
  size_ += record_bytes;
  return at;
}

uint8_t* EncodedBatch::At(uint64_t offset) const {
  // The last piece whose start is at or before `offset`.
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), offset,
                             [](uint64_t off, const Piece& p) { return off < p.start; });
  const Piece& p = *(it - 1);
  return p.data + p.begin + (offset - p.start);
}

namespace {
// Writes a record's header (position, timestamp and checksum come at Seal)
// and its table, then zero padding.
void PutRecord(uint8_t* at, const uint8_t* bytes, size_t n, int64_t timestamp_ns) {
  RecordHeader rh{};
  rh.length = static_cast<uint32_t>(n);
  rh.timestamp_ns = timestamp_ns;
  std::memcpy(at, &rh, sizeof(rh));
  std::memcpy(at + kRecordHeaderSize, bytes, n);
  const uint64_t end = Align8(kRecordHeaderSize + n);
  std::memset(at + kRecordHeaderSize + n, 0, end - kRecordHeaderSize - n);
}
}  // namespace

Status EncodedBatch::Add(const Event& e) {
  const uint8_t* bytes = nullptr;
  size_t n = 0;
  uint64_t type_hash = 0;
  const size_t tags_before = tag_hashes_.size();
  Status s = EncodeEventInPlace(e, max_event_size_, size(), &bytes, &n, &type_hash, &tag_hashes_);
  if (!s.ok()) {
    tag_hashes_.resize(tags_before);
    return s;
  }
  PutRecord(Grow(Align8(kRecordHeaderSize + n)), bytes, n, e.timestamp_ns.value_or(0));
  type_hashes_.push_back(type_hash);
  tag_end_.push_back(static_cast<uint32_t>(tag_hashes_.size()));
  ids_.push_back(e.id.value_or(Uuid{}));
  flags_.push_back(
      static_cast<uint8_t>((e.id ? kHasId : 0) | (e.timestamp_ns ? kHasTimestamp : 0)));
  if (e.id) ++with_ids_;
  return Status::Ok();
}

void EncodedBatch::AddEncoded(const EncodedEvent& e) {
  PutRecord(Grow(Align8(kRecordHeaderSize + e.bytes.size())), e.bytes.data(), e.bytes.size(),
            e.timestamp_ns.value_or(0));
  type_hashes_.push_back(e.type_hash);
  tag_hashes_.insert(tag_hashes_.end(), e.tag_hashes.begin(), e.tag_hashes.end());
  tag_end_.push_back(static_cast<uint32_t>(tag_hashes_.size()));
  ids_.push_back(e.id.value_or(Uuid{}));
  flags_.push_back(
      static_cast<uint8_t>((e.id ? kHasId : 0) | (e.timestamp_ns ? kHasTimestamp : 0)));
  if (e.id) ++with_ids_;
}

void EncodedBatch::Extend(EncodedBatch&& o) {
  if (o.empty()) return;
  const uint32_t limit = std::min(max_event_size_, o.max_event_size_);
  if (empty()) {
    *this = std::move(o);
    max_event_size_ = limit;
    return;
  }
  max_event_size_ = limit;
  // o's pieces follow ours; its batch header is skipped.
  const uint64_t shift = size_ - kBatchHeaderSize;
  o.pieces_[0].begin += kBatchHeaderSize;
  for (Piece& p : o.pieces_) {
    if (p.size == p.begin) {
      FreeBytes(p.data);
      continue;
    }
    p.start = size_;
    size_ += p.size - p.begin;
    pieces_.push_back(p);
  }
  o.pieces_.clear();
  for (uint64_t off : o.offsets_) offsets_.push_back(off + shift);
  const auto tags_before = static_cast<uint32_t>(tag_hashes_.size());
  for (uint32_t end : o.tag_end_) tag_end_.push_back(end + tags_before);
  tag_hashes_.insert(tag_hashes_.end(), o.tag_hashes_.begin(), o.tag_hashes_.end());
  type_hashes_.insert(type_hashes_.end(), o.type_hashes_.begin(), o.type_hashes_.end());
  ids_.insert(ids_.end(), o.ids_.begin(), o.ids_.end());
  flags_.insert(flags_.end(), o.flags_.begin(), o.flags_.end());
  with_ids_ += o.with_ids_;
  o.Clear();
}

void EncodedBatch::Clear() {
  // The first buffer stays for the next events; the others go.
  for (size_t k = 1; k < pieces_.size(); ++k) FreeBytes(pieces_[k].data);
  if (pieces_.size() > 1) pieces_.resize(1);
  if (!pieces_.empty()) pieces_[0].begin = pieces_[0].size = pieces_[0].start = 0;
  size_ = 0;
  offsets_.clear();
  type_hashes_.clear();
  tag_end_.clear();
  tag_hashes_.clear();
  ids_.clear();
  flags_.clear();
  with_ids_ = 0;
}

const void* EncodedBatch::table(size_t i) const {
  return TableFromBytes(At(offsets_[i]) + kRecordHeaderSize);
}

uint64_t EncodedBatch::Seal(uint64_t first_position, int64_t commit_ns, uint64_t prev_checksum) {
  thread_local Vec<uint32_t> sums;
  sums.clear();
  sums.reserve(size());
  size_t piece = 0;
  for (size_t i = 0; i < size(); ++i) {
    // Records are in offset order: walk the pieces along.
    while (piece + 1 < pieces_.size() && pieces_[piece + 1].start <= offsets_[i]) ++piece;
    const Piece& pc = pieces_[piece];
    uint8_t* rec = pc.data + pc.begin + (offsets_[i] - pc.start);
    RecordHeader rh;
    std::memcpy(&rh, rec, sizeof(rh));
    rh.position = first_position + i;
    if ((flags_[i] & kHasTimestamp) == 0) rh.timestamp_ns = commit_ns;
    rh.checksum = 0;
    std::memcpy(rec, &rh, sizeof(rh));
    rh.checksum = RecordChecksum(rec, rh.length);
    std::memcpy(rec + 4, &rh.checksum, 4);
    sums.push_back(rh.checksum);
  }
  BatchHeader bh{};
  bh.magic = kBatchMagic;
  bh.count = static_cast<uint32_t>(size());
  bh.first_position = first_position;
  bh.length = size_;
  uint8_t* header = pieces_[0].data;
  std::memcpy(header, &bh, sizeof(bh));
  bh.checksum = BatchChecksum(header, sums.data(), sums.size(), prev_checksum);
  std::memcpy(header + 24, &bh.checksum, 8);
  return bh.checksum;
}

}  // namespace opossum::format
