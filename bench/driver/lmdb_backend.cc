// LMDB as a benchmark backend, through its C API (Debian's liblmdb), set up
// the way a competent LMDB user would for an event store.
//
// Layout: one environment in the store's folder (data.mdb, lock.mdb) with a
// 64 GiB map (room for the benchmark's 10 million events; only the pages in
// use take disk space) and three named databases:
//  - `events`: key = position (MDB_INTEGERKEY, native uint64), value = the
//    event in a compact record: type length (1 byte), tag count (1 byte), one
//    length byte per tag, then the type, the tags and the data bytes.
//    Records are decoded in place in the map: reads copy nothing.
//  - `tags` and `types` (MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP): key =
//    the tag or type string, duplicates = the uint64 positions of its events,
//    kept sorted by LMDB, so each is a position list that cursors walk in
//    either direction.
//
// Appends: one write transaction per Append; LMDB serialises writers itself
// (there is no group commit: concurrent appenders queue on LMDB's writer
// lock and each commit syncs on its own). Inside it the condition is
// evaluated (the newest matching event above `after` fails the append, and
// nothing is written), the head is the last key of `events`, the events are
// put with MDB_APPEND | MDB_RESERVE (positions only grow; the record is
// encoded straight into the page) and their index entries with
// MDB_APPENDDUP.
//
// Queries: for each item the index with the fewest entries drives it (the
// item's rarest tag, or the union of its types' lists when those are
// shorter; mdb_cursor_count is O(1)); the drivers' position lists are merged
// in order without duplicates, starting with MDB_GET_BOTH_RANGE at `from`,
// so reads stream and never collect. A candidate is checked against the
// query on its record unless its driver alone decides the match (an item of
// one tag, or of types only). Query::All() walks `events` directly.
// ReadLast and conditions walk the same lists backwards (MDB_LAST_DUP,
// MDB_PREV_DUP) and stop at the first match, or, for a condition, as soon as
// the candidates fall to `after`.
//
// Environment flags: MDB_NOTLS (read transactions are used from many threads;
// reset ones are kept in a pool and renewed, so a read does not claim a
// reader slot each time), at most 1024 readers.
//  - Durability::kSync: LMDB's default: each commit fdatasyncs the data file
//    and writes the meta page through an O_DSYNC descriptor (two syncs per
//    commit). Plus MDB_NOMEMINIT (the unused part of a page LMDB builds in
//    memory is not zeroed before it is written).
//  - Durability::kBuffered: MDB_NOSYNC | MDB_WRITEMAP: a commit leaves its
//    pages in the OS cache (they survive a crash of the process, not of the
//    machine); mdb_env_sync at Close.
// MDB_WRITEMAP (transactions write straight into a shared writable map
// instead of building pages in memory and pwrite-ing them) only for
// kBuffered, because that is where it measured faster: on the test machine
// (ext4, 2 cores) 3.8 ms instead of 10-12 ms per 1000-event batch, 208k
// instead of 81-95k single-event appends a second, and the same reads. With
// synced commits it measured slower (about 2x per single-event append,
// 1.3-1.7x per 1000-event batch, interleaved runs), so kSync keeps the
// default. Still correct: a transaction only writes pages no committed meta
// page refers to, and a process crash keeps the map's dirty pages (checked
// by killing a writer without Close). Its costs: no protection of the map
// against wild pointer writes, and LMDB sizes data.mdb to the whole map, a
// sparse 64 GiB file: count the store's allocated blocks (du), not its size.
#include <lmdb.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backend.h"
#include "match.h"

namespace opossum::bench {
namespace {

constexpr size_t kMapSize = size_t{64} << 30;
constexpr unsigned kMaxReaders = 1024;
constexpr size_t kMaxTags = 64;   // per event, as in the engine
constexpr size_t kMaxName = 255;  // bytes of a type or a tag (one length byte)

[[noreturn]] void Fail(const std::string& what, int rc) {
  throw BenchError("lmdb: " + what + ": " + mdb_strerror(rc));
}

void Check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) Fail(what, rc);
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
MDB_val Val(uint64_t* p) { return MDB_val{sizeof(*p), p}; }

uint64_t U64(const MDB_val& v) {
  if (v.mv_size != sizeof(uint64_t)) throw BenchError("lmdb: corrupt position");
  uint64_t x;
  std::memcpy(&x, v.mv_data, sizeof(x));  // values in pages need not be 8-aligned
  return x;
}

// A cursor, closed when it goes out of scope. In a write transaction it must
// go out of scope before the transaction ends.
class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi) { Check(mdb_cursor_open(txn, dbi, &c_), "open cursor"); }
  Cursor(Cursor&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor() {
    if (c_ != nullptr) mdb_cursor_close(c_);
  }

  // False at MDB_NOTFOUND; throws on any other failure.
  bool Get(MDB_val* key, MDB_val* data, MDB_cursor_op op) {
    const int rc = mdb_cursor_get(c_, key, data, op);
    if (rc == MDB_NOTFOUND) return false;
    Check(rc, "cursor get");
    return true;
  }
  size_t Count() {
    size_t n = 0;
    Check(mdb_cursor_count(c_, &n), "cursor count");
    return n;
  }
  void Put(MDB_val* key, MDB_val* data, unsigned flags, const char* what) {
    Check(mdb_cursor_put(c_, key, data, flags), what);
  }

 private:
  MDB_cursor* c_ = nullptr;
};

// The record of one event, decoded in place.
struct Record {
  std::string_view type;
  std::array<std::string_view, kMaxTags> tags;
  size_t tag_count = 0;
  std::string_view data;

  std::span<const std::string_view> tag_span() const { return {tags.data(), tag_count}; }

  // False when `v` is not a well-formed record.
  bool Decode(const MDB_val& v) {
    const auto* b = static_cast<const unsigned char*>(v.mv_data);
    const char* c = static_cast<const char*>(v.mv_data);
    const size_t n = v.mv_size;
    if (n < 2) return false;
    const size_t type_len = b[0];
    tag_count = b[1];
    if (tag_count > kMaxTags || n < 2 + tag_count) return false;
    size_t off = 2 + tag_count;
    if (n - off < type_len) return false;
    type = {c + off, type_len};
    off += type_len;
    for (size_t i = 0; i < tag_count; ++i) {
      const size_t len = b[2 + i];
      if (n - off < len) return false;
      tags[i] = {c + off, len};
      off += len;
    }
    data = {c + off, n - off};
    return true;
  }
};

// An event ready to write: its tags sorted bytewise without duplicates (as
// the engine keeps them) and the size of its record.
struct Prepared {
  const Event* event;
  size_t tag_begin;  // into the batch's flat tag list
  size_t tag_count;
  size_t record_size;
};

void Encode(const Event& e, std::span<const std::string_view> tags, char* out) {
  auto* b = reinterpret_cast<unsigned char*>(out);
  b[0] = static_cast<unsigned char>(e.type.size());
  b[1] = static_cast<unsigned char>(tags.size());
  for (size_t i = 0; i < tags.size(); ++i) b[2 + i] = static_cast<unsigned char>(tags[i].size());
  char* p = out + 2 + tags.size();
  std::memcpy(p, e.type.data(), e.type.size());
  p += e.type.size();
  for (std::string_view t : tags) {
    std::memcpy(p, t.data(), t.size());
    p += t.size();
  }
  if (!e.data.empty()) std::memcpy(p, e.data.data(), e.data.size());
}

struct Dbis {
  MDB_dbi events = 0, tags = 0, types = 0;
};

// The events matching a query, in position order (forwards from a position,
// or backwards from the newest), found through the indexes.
class Matcher {
 public:
  // Forwards: positions >= bound. Backwards: positions > bound, newest first.
  Matcher(MDB_txn* txn, const Dbis& dbis, const Query& query, bool forward, uint64_t bound)
      : query_(query), forward_(forward), bound_(bound), events_(txn, dbis.events) {
    all_ = query.items.empty();
    if (all_) return;
    for (const QueryItem& item : query.items) AddItem(txn, dbis, item);
  }

  // Moves to the next matching event; false when there is none. With
  // `need_record` (or when the index alone does not decide) the event's
  // record is decoded, for event().
  bool Next(bool need_record) {
    for (;;) {
      bool exact = false;
      if (!NextCandidate(&exact)) return false;
      if (exact && !need_record) return true;
      Load();
      if (exact || QueryMatches(query_, record_.type, record_.tag_span())) return true;
    }
  }

  uint64_t position() const { return position_; }
  ReadEvent event() const {
    return ReadEvent{position_, record_.type, record_.tag_span(), record_.data};
  }

 private:
  // One position list (a tag's or a type's duplicates) driving an item.
  struct Leaf {
    Cursor cursor;
    std::string_view key;
    bool exact;  // a position in this list matches its item without a look at the record
    bool valid = false;
    uint64_t position = 0;
  };

  // Picks the item's shortest index list(s) and positions them at `bound_`.
  void AddItem(MDB_txn* txn, const Dbis& dbis, const QueryItem& item) {
    if (item.types.empty() && item.tags.empty()) {
      throw BenchError("lmdb: a query item names neither types nor tags");
    }
    std::vector<std::string_view> tags(item.tags.begin(), item.tags.end());
    std::vector<std::string_view> types(item.types.begin(), item.types.end());
    for (auto* v : {&tags, &types}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    // The rarest tag: an item with a tag no event has matches nothing.
    std::vector<Leaf> by_tag;
    size_t tag_count = SIZE_MAX;
    for (std::string_view tag : tags) {
      Cursor c(txn, dbis.tags);
      MDB_val k = Val(tag), d{};
      if (!c.Get(&k, &d, MDB_SET)) return;
      const size_t n = c.Count();
      if (n < tag_count) {
        tag_count = n;
        by_tag.clear();
        by_tag.push_back(Leaf{std::move(c), tag, tags.size() == 1 && types.empty()});
      }
    }
    // The types' lists together: an item whose types no event has matches nothing.
    std::vector<Leaf> by_type;
    size_t type_count = 0;
    for (std::string_view type : types) {
      Cursor c(txn, dbis.types);
      MDB_val k = Val(type), d{};
      if (!c.Get(&k, &d, MDB_SET)) continue;
      type_count += c.Count();
      by_type.push_back(Leaf{std::move(c), type, tags.empty()});
    }
    if (!types.empty() && by_type.empty()) return;
    std::vector<Leaf>& chosen = !types.empty() && type_count < tag_count ? by_type : by_tag;
    for (Leaf& leaf : chosen) {
      MDB_val k = Val(leaf.key), d{};
      uint64_t start = bound_;
      if (forward_) {
        d = Val(&start);
        leaf.valid = leaf.cursor.Get(&k, &d, MDB_GET_BOTH_RANGE);
      } else {
        leaf.valid = leaf.cursor.Get(&k, &d, MDB_LAST_DUP);  // the cursor is on the key
      }
      if (!leaf.valid) continue;
      leaf.position = U64(d);
      leaves_.push_back(std::move(leaf));
    }
  }

  void Advance(Leaf& leaf) {
    MDB_val k{}, d{};
    leaf.valid = leaf.cursor.Get(&k, &d, forward_ ? MDB_NEXT_DUP : MDB_PREV_DUP);
    if (leaf.valid) leaf.position = U64(d);
  }

  // The next position that may match; `exact` when it surely does.
  bool NextCandidate(bool* exact) {
    if (all_) {
      MDB_val k{}, d{};
      MDB_cursor_op op = forward_ ? MDB_NEXT : MDB_PREV;
      uint64_t start = bound_;
      if (!started_) {
        op = forward_ ? MDB_SET_RANGE : MDB_LAST;
        k = Val(&start);
        started_ = true;
      }
      if (!events_.Get(&k, &d, op)) return false;
      position_ = U64(k);
      if (!forward_ && position_ <= bound_) return false;
      value_ = d;
      have_value_ = true;
      *exact = true;
      return true;
    }
    bool found = false;
    uint64_t best = 0;
    for (const Leaf& leaf : leaves_) {
      if (!leaf.valid) continue;
      if (!found || (forward_ ? leaf.position < best : leaf.position > best)) best = leaf.position;
      found = true;
    }
    if (!found || (!forward_ && best <= bound_)) return false;
    *exact = false;
    for (Leaf& leaf : leaves_) {
      if (leaf.valid && leaf.position == best) {
        *exact = *exact || leaf.exact;
        Advance(leaf);
      }
    }
    position_ = best;
    have_value_ = false;
    return true;
  }

  void Load() {
    if (!have_value_) {
      uint64_t key = position_;
      MDB_val k = Val(&key);
      if (!events_.Get(&k, &value_, MDB_SET)) {
        throw BenchError("lmdb: an index names the missing event " + std::to_string(position_));
      }
    }
    if (!record_.Decode(value_)) {
      throw BenchError("lmdb: corrupt record at position " + std::to_string(position_));
    }
  }

  const Query& query_;
  const bool forward_;
  const uint64_t bound_;
  Cursor events_;
  bool all_ = false;
  bool started_ = false;
  std::vector<Leaf> leaves_;
  uint64_t position_ = 0;
  MDB_val value_{};
  bool have_value_ = false;
  Record record_;
};

class LmdbBackend final : public Backend {
 public:
  ~LmdbBackend() override {
    try {
      Close();
    } catch (const BenchError&) {
      // A destructor cannot report it; Close() does for callers who care.
    }
  }

  std::string_view name() const override { return "lmdb"; }

  std::string Describe(Durability durability) const override {
    int major = 0, minor = 0, patch = 0;
    mdb_version(&major, &minor, &patch);
    std::string s = "LMDB " + std::to_string(major) + "." + std::to_string(minor) + "." +
                    std::to_string(patch) +
                    " (C API), one write txn per append, events by position + tag/type "
                    "dup-sorted indexes, 64 GiB map, MDB_NOTLS; ";
    return s + (durability == Durability::kSync
                    ? "Durability::kSync (default sync: fdatasync + O_DSYNC meta write per "
                      "commit; MDB_NOMEMINIT)"
                    : "Durability::kBuffered (MDB_NOSYNC|MDB_WRITEMAP: OS cache, sparse 64 GiB "
                      "data.mdb; mdb_env_sync at close)");
  }

  void Open(const std::filesystem::path& dir, Durability durability) override {
    if (env_ != nullptr) throw BenchError("lmdb: open: already open");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw BenchError("lmdb: create " + dir.string() + ": " + ec.message());

    MDB_env* env = nullptr;
    Check(mdb_env_create(&env), "env create");
    try {
      Check(mdb_env_set_mapsize(env, kMapSize), "set map size");
      Check(mdb_env_set_maxdbs(env, 3), "set max dbs");
      Check(mdb_env_set_maxreaders(env, kMaxReaders), "set max readers");
      unsigned flags = MDB_NOTLS;
      flags |= durability == Durability::kSync ? MDB_NOMEMINIT : MDB_NOSYNC | MDB_WRITEMAP;
      Check(mdb_env_open(env, dir.c_str(), flags, 0644), "env open");

      MDB_txn* txn = nullptr;
      Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin txn");
      constexpr unsigned kIndex = MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP;
      int rc = mdb_dbi_open(txn, "events", MDB_CREATE | MDB_INTEGERKEY, &dbis_.events);
      if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, "tags", kIndex, &dbis_.tags);
      if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, "types", kIndex, &dbis_.types);
      if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        Fail("open databases", rc);
      }
      Check(mdb_txn_commit(txn), "commit");
    } catch (...) {
      mdb_env_close(env);
      throw;
    }
    env_ = env;
  }

  void Close() override {
    if (env_ == nullptr) return;
    for (MDB_txn* txn : idle_readers_) mdb_txn_abort(txn);
    idle_readers_.clear();
    const int rc = mdb_env_sync(env_, 1);  // a no-op but for MDB_NOSYNC's unsynced commits
    mdb_env_close(env_);
    env_ = nullptr;
    Check(rc, "sync at close");
  }

  AppendResult Append(std::span<const Event> events, const AppendCondition* condition) override {
    if (events.empty()) throw BenchError("lmdb: append: empty batch");
    // Validate and sort the tags before taking LMDB's writer lock.
    std::vector<Prepared> batch;
    batch.reserve(events.size());
    std::vector<std::string_view> tags;
    for (const Event& e : events) {
      if (e.type.empty() || e.type.size() > kMaxName) {
        throw BenchError("lmdb: append: an event type must have 1 to 255 bytes");
      }
      const size_t begin = tags.size();
      tags.insert(tags.end(), e.tags.begin(), e.tags.end());
      std::sort(tags.begin() + begin, tags.end());
      tags.erase(std::unique(tags.begin() + begin, tags.end()), tags.end());
      const size_t count = tags.size() - begin;
      if (count > kMaxTags) throw BenchError("lmdb: append: more than 64 tags");
      size_t size = 2 + count + e.type.size() + e.data.size();
      for (size_t i = begin; i < tags.size(); ++i) {
        if (tags[i].empty() || tags[i].size() > kMaxName) {
          throw BenchError("lmdb: append: a tag must have 1 to 255 bytes");
        }
        size += tags[i].size();
      }
      batch.push_back(Prepared{&e, begin, count, size});
    }

    WriteTxn txn(env_);
    AppendResult r;
    {
      Cursor events_cursor(txn.get(), dbis_.events);
      MDB_val k{}, d{};
      const uint64_t head = events_cursor.Get(&k, &d, MDB_LAST) ? U64(k) : 0;
      if (condition != nullptr) {
        const uint64_t after = condition->after.value_or(0);
        if (after < head) {
          Matcher m(txn.get(), dbis_, condition->fail_if_events_match, /*forward=*/false, after);
          if (m.Next(/*need_record=*/false)) {
            r.ok = false;
            r.conflict_position = m.position();
            return r;  // the transaction aborts: nothing is written
          }
        }
      }
      Cursor tags_cursor(txn.get(), dbis_.tags);
      Cursor types_cursor(txn.get(), dbis_.types);
      uint64_t position = head;
      for (const Prepared& p : batch) {
        ++position;
        const std::span<const std::string_view> event_tags(tags.data() + p.tag_begin, p.tag_count);
        MDB_val key = Val(&position);
        MDB_val value{p.record_size, nullptr};
        events_cursor.Put(&key, &value, MDB_APPEND | MDB_RESERVE, "put event");
        Encode(*p.event, event_tags, static_cast<char*>(value.mv_data));
        MDB_val type_key = Val(p.event->type), pos = Val(&position);
        types_cursor.Put(&type_key, &pos, MDB_APPENDDUP, "put type index");
        for (std::string_view tag : event_tags) {
          MDB_val tag_key = Val(tag);
          pos = Val(&position);
          tags_cursor.Put(&tag_key, &pos, MDB_APPENDDUP, "put tag index");
        }
      }
      r.last_position = position;
    }
    txn.Commit();
    return r;
  }

  void Read(const Query& query, uint64_t from, const ReadFn& fn) override {
    ReadTxn txn(*this);
    Matcher m(txn.get(), dbis_, query, /*forward=*/true, std::max<uint64_t>(from, 1));
    while (m.Next(/*need_record=*/true)) {
      if (!fn(m.event())) break;
    }
  }

  bool ReadLast(const Query& query, const ReadFn& fn) override {
    ReadTxn txn(*this);
    Matcher m(txn.get(), dbis_, query, /*forward=*/false, 0);
    if (!m.Next(/*need_record=*/true)) return false;
    fn(m.event());
    return true;
  }

  uint64_t Head() override {
    ReadTxn txn(*this);
    Cursor c(txn.get(), dbis_.events);
    MDB_val k{}, d{};
    return c.Get(&k, &d, MDB_LAST) ? U64(k) : 0;
  }

 private:
  // A write transaction, aborted unless committed.
  class WriteTxn {
   public:
    explicit WriteTxn(MDB_env* env) { Check(mdb_txn_begin(env, nullptr, 0, &txn_), "begin txn"); }
    WriteTxn(const WriteTxn&) = delete;
    WriteTxn& operator=(const WriteTxn&) = delete;
    ~WriteTxn() {
      if (txn_ != nullptr) mdb_txn_abort(txn_);
    }
    MDB_txn* get() const { return txn_; }
    void Commit() {
      const int rc = mdb_txn_commit(txn_);  // frees the transaction even when it fails
      txn_ = nullptr;
      Check(rc, "commit");
    }

   private:
    MDB_txn* txn_ = nullptr;
  };

  // A read-only transaction from the pool (renewed), returned to it reset.
  class ReadTxn {
   public:
    explicit ReadTxn(LmdbBackend& b) : b_(b), txn_(b.AcquireReader()) {}
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
    ~ReadTxn() { b_.ReleaseReader(txn_); }
    MDB_txn* get() const { return txn_; }

   private:
    LmdbBackend& b_;
    MDB_txn* txn_;
  };

  MDB_txn* AcquireReader() {
    MDB_txn* txn = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_readers_.empty()) {
        txn = idle_readers_.back();
        idle_readers_.pop_back();
      }
    }
    if (txn == nullptr) {
      Check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "begin read txn");
      return txn;
    }
    const int rc = mdb_txn_renew(txn);
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      Fail("renew read txn", rc);
    }
    return txn;
  }

  void ReleaseReader(MDB_txn* txn) {
    mdb_txn_reset(txn);
    std::lock_guard<std::mutex> lock(mu_);
    idle_readers_.push_back(txn);
  }

  MDB_env* env_ = nullptr;
  Dbis dbis_;
  std::mutex mu_;                       // guards idle_readers_
  std::vector<MDB_txn*> idle_readers_;  // reset read transactions, each holding a reader slot
};

}  // namespace

std::unique_ptr<Backend> NewLmdbBackend() { return std::make_unique<LmdbBackend>(); }

}  // namespace opossum::bench
