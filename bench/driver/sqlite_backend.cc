// SQLite as a benchmark backend: the event store a competent SQLite user
// builds for Dynamic Consistency Boundaries, through the C API of the
// system's libsqlite3.
//
// Files: `dir/events.sqlite` (and its -wal and -shm files while open).
//
// Schema:
//   events(position INTEGER PRIMARY KEY, type TEXT, tags TEXT, data BLOB)
//     the log; position is the rowid, so a read by position is one b-tree
//     search. The event's tags are kept in the row too (sorted, deduplicated
//     and joined by the byte 0x1f, which no tag contains), so that a read
//     needs no join.
//   event_tags(tag, position) WITHOUT ROWID, primary key (tag, position)
//     the tag index: the positions of a tag, in order, in one b-tree range.
//   events_type ON events(type, position)
//     the type index: the positions of a type, in order.
//
// Settings: WAL mode; synchronous=FULL for Durability::kSync (the WAL is
// fsynced at every commit) and NORMAL for kBuffered (a commit is in the page
// cache, the WAL is synced at checkpoints: survives a crash of the process,
// not of the machine). Per connection: cache_size=-65536 (up to 64 MiB of
// page cache, allocated as used), mmap_size=1 GiB (pages of the database file
// are read through the map instead of being copied into the cache),
// temp_store=MEMORY and busy_timeout=10 s (for other processes: writers of
// this process never wait in SQLite's busy handler, see below).
//
// Queries: each query is translated to SQL that reads only the indexes it
// needs, and delivers positions in order without sorting:
//  - an item with tags reads the first tag's range of event_tags from the
//    bound on, joins each further tag by (tag, position) and, when the item
//    names types, the events row to check its type;
//  - an item with only types reads one range of events_type per type;
//  - these "arms" are combined with UNION ... ORDER BY position, which SQLite
//    runs as a merge of the already ordered arms (EXPLAIN QUERY PLAN: MERGE
//    (UNION), no temporary b-tree), so a read streams and may stop early;
//  - ReadLast and conditions use the same SQL with ORDER BY position DESC
//    LIMIT 1: each arm is walked backwards and stops at its newest match;
//  - Query::All() reads the events table from the bound on.
// The SQL depends only on the query's shape (how many items, types and tags);
// the values are bound. Each connection keeps its prepared statements, the
// fixed ones and one per query shape, keyed by the SQL text.
//
// Appends: BEGIN IMMEDIATE; when there is a condition, its query for the
// newest match above `after` (a hit: ROLLBACK, report it); then the head as
// SELECT max(position), each event inserted at head+1.. with its tags; COMMIT.
//
// Threads: SQLite connections are opened with SQLITE_OPEN_NOMUTEX and used by
// one thread at a time: each call takes a connection (with its statements)
// from a free list, or opens one, and gives it back, so there are as many
// connections as calls ever ran at once. Readers run concurrently (WAL).
// Writers of this process are serialised by a mutex held from BEGIN
// IMMEDIATE to COMMIT, so that they queue on the mutex instead of spinning in
// SQLite's busy handler.
//
// Close finalizes every statement, checkpoints the WAL into the database
// (TRUNCATE) and closes every connection.
//
// The event's id, metadata, timestamp and data_is_json are not kept: the
// workloads use type, tags and data only.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend.h"

namespace opossum::bench {
namespace {

constexpr char kTagSeparator = '\x1f';
constexpr int kBusyTimeoutMs = 10000;
// Most prepared query shapes a connection keeps before it starts afresh.
constexpr size_t kMaxCachedQueries = 512;

[[noreturn]] void Fail(sqlite3* db, std::string_view what) {
  throw BenchError("sqlite: " + std::string(what) + ": " +
                   (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

int64_t ToInt64(uint64_t v) {
  return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
}

std::string_view ColumnText(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return {p, static_cast<size_t>(sqlite3_column_bytes(s, col))};
}

std::string_view ColumnBlob(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  return {p, static_cast<size_t>(sqlite3_column_bytes(s, col))};
}

// One use of a prepared statement: binds, steps, and resets it at the end
// of the scope (also when a callback throws).
class Use {
 public:
  Use(sqlite3_stmt* s, std::string_view what) : s_(s), what_(what) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  void Bind(int i, int64_t v) { Check(sqlite3_bind_int64(s_, i, v)); }
  void BindText(int i, std::string_view v) {
    Check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void BindBlob(int i, std::string_view v) {
    if (v.empty()) {
      Check(sqlite3_bind_zeroblob(s_, i, 0));  // an empty blob, not NULL
    } else {
      Check(sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    }
  }
  // True for a row, false when done.
  bool Step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Fail(sqlite3_db_handle(s_), what_);
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) Fail(sqlite3_db_handle(s_), what_);
  }

  sqlite3_stmt* s_;
  std::string_view what_;
};

// One connection and its prepared statements; used by one thread at a time.
class Connection {
 public:
  Connection(const std::string& file, Durability durability, bool create_schema) {
    const int rc =
        sqlite3_open_v2(file.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw BenchError("sqlite: open " + file + ": " + msg);
    }
    try {
      if (sqlite3_busy_timeout(db_, kBusyTimeoutMs) != SQLITE_OK) Fail(db_, "busy_timeout");
      Exec(durability == Durability::kSync ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL");
      Exec("PRAGMA cache_size=-65536");
      Exec("PRAGMA temp_store=MEMORY");
      Exec("PRAGMA mmap_size=1073741824");
      if (create_schema) {
        if (Text("PRAGMA journal_mode=WAL") != "wal") {
          throw BenchError("sqlite: journal_mode=WAL refused for " + file);
        }
        Exec(
            "BEGIN IMMEDIATE;"
            "CREATE TABLE IF NOT EXISTS events(position INTEGER PRIMARY KEY, "
            "type TEXT NOT NULL, tags TEXT NOT NULL, data BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS event_tags(tag TEXT NOT NULL, "
            "position INTEGER NOT NULL, PRIMARY KEY(tag, position)) WITHOUT ROWID;"
            "CREATE INDEX IF NOT EXISTS events_type ON events(type, position);"
            "COMMIT");
      }
      begin_ = PrepareFixed("BEGIN IMMEDIATE");
      commit_ = PrepareFixed("COMMIT");
      rollback_ = PrepareFixed("ROLLBACK");
      head_ = PrepareFixed("SELECT max(position) FROM events");
      insert_event_ =
          PrepareFixed("INSERT INTO events(position, type, tags, data) VALUES (?1, ?2, ?3, ?4)");
      insert_tag_ = PrepareFixed("INSERT INTO event_tags(tag, position) VALUES (?1, ?2)");
    } catch (...) {
      Finalize();
      sqlite3_close(db_);
      throw;
    }
  }

  // Best effort (for a failed Open or an unclean destruction); Close reports.
  ~Connection() {
    if (db_ != nullptr) {
      Finalize();
      sqlite3_close(db_);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Checkpoints the whole WAL into the database and empties it.
  void Checkpoint() {
    if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) !=
        SQLITE_OK) {
      Fail(db_, "checkpoint");
    }
  }

  void Close() {
    Finalize();
    if (sqlite3_close(db_) != SQLITE_OK) Fail(db_, "close");
    db_ = nullptr;
  }

  // The prepared statement for a query's SQL, prepared on first use.
  sqlite3_stmt* Prepare(const std::string& sql) {
    auto it = queries_.find(sql);
    if (it != queries_.end()) return it->second;
    if (queries_.size() >= kMaxCachedQueries) {
      for (auto& [text, s] : queries_) sqlite3_finalize(s);
      queries_.clear();
    }
    sqlite3_stmt* s = PrepareOne(sql, SQLITE_PREPARE_PERSISTENT);
    queries_.emplace(sql, s);
    return s;
  }

  sqlite3_stmt* begin() const { return begin_; }
  sqlite3_stmt* commit() const { return commit_; }
  sqlite3_stmt* rollback() const { return rollback_; }
  sqlite3_stmt* head() const { return head_; }
  sqlite3_stmt* insert_event() const { return insert_event_; }
  sqlite3_stmt* insert_tag() const { return insert_tag_; }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Fail(db_, sql);
  }

  // The first column of the first row of `sql`, as text.
  std::string Text(const char* sql) {
    sqlite3_stmt* s = PrepareOne(sql, 0);
    std::string out;
    {
      Use use(s, sql);
      if (use.Step()) out = ColumnText(s, 0);
    }
    sqlite3_finalize(s);
    return out;
  }

  sqlite3_stmt* PrepareOne(std::string_view sql, unsigned flags) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &s, nullptr) !=
        SQLITE_OK) {
      Fail(db_, "prepare " + std::string(sql));
    }
    return s;
  }

  sqlite3_stmt* PrepareFixed(const char* sql) {
    sqlite3_stmt* s = PrepareOne(sql, SQLITE_PREPARE_PERSISTENT);
    fixed_.push_back(s);
    return s;
  }

  void Finalize() {
    for (auto& [text, s] : queries_) sqlite3_finalize(s);
    queries_.clear();
    for (sqlite3_stmt* s : fixed_) sqlite3_finalize(s);
    fixed_.clear();
  }

  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> fixed_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* head_ = nullptr;
  sqlite3_stmt* insert_event_ = nullptr;
  sqlite3_stmt* insert_tag_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> queries_;
};

// What a query's SQL is for.
enum class Purpose {
  kRead,       // rows with position >= ?1, oldest first
  kLast,       // the newest row with position > ?1
  kCondition,  // the newest position > ?1
};

// A query as SQL: ?1 is the bound; `params` are the values of ?2, ?3, ...
struct QuerySql {
  std::string sql;
  std::vector<const std::string*> params;
};

template <typename T>
std::vector<const T*> Distinct(const std::vector<T>& values) {
  std::vector<const T*> out;
  for (const T& v : values) {
    if (std::none_of(out.begin(), out.end(), [&](const T* o) { return *o == v; })) {
      out.push_back(&v);
    }
  }
  return out;
}

QuerySql BuildQuerySql(const Query& query, Purpose purpose) {
  QuerySql q;
  const bool rows = purpose != Purpose::kCondition;
  const char* cmp = purpose == Purpose::kRead ? " >= ?1" : " > ?1";
  auto param = [&](const std::string& value) {
    q.params.push_back(&value);
    return "?" + std::to_string(q.params.size() + 1);
  };
  std::vector<std::string> arms;
  if (query.items.empty()) {
    arms.push_back(std::string("SELECT e.position") + (rows ? ", e.type, e.tags, e.data" : "") +
                   " FROM events e WHERE e.position" + cmp);
  }
  for (const QueryItem& item : query.items) {
    const std::vector<const std::string*> types = Distinct(item.types);
    const std::vector<const std::string*> tags = Distinct(item.tags);
    if (tags.empty()) {
      if (types.empty()) throw BenchError("sqlite: a query item names neither types nor tags");
      for (const std::string* type : types) {  // one ordered range of events_type each
        arms.push_back(std::string("SELECT e.position") + (rows ? ", e.type, e.tags, e.data" : "") +
                       " FROM events e WHERE e.type = " + param(*type) + " AND e.position" + cmp);
      }
      continue;
    }
    // The first tag's range of event_tags drives; the other tags and the type
    // are looked up by position.
    std::string arm = std::string("SELECT t0.position") + (rows ? ", e.type, e.tags, e.data" : "") +
                      " FROM event_tags t0";
    for (size_t i = 1; i < tags.size(); ++i) {
      const std::string t = "t" + std::to_string(i);
      arm += " JOIN event_tags " + t + " ON " + t + ".tag = " + param(*tags[i]) + " AND " + t +
             ".position = t0.position";
    }
    if (rows || !types.empty()) arm += " JOIN events e ON e.position = t0.position";
    arm += " WHERE t0.tag = " + param(*tags[0]) + " AND t0.position" + cmp;
    if (!types.empty()) {
      arm += " AND e.type IN (";
      for (size_t i = 0; i < types.size(); ++i) arm += (i ? ", " : "") + param(*types[i]);
      arm += ")";
    }
    arms.push_back(std::move(arm));
  }
  for (size_t i = 0; i < arms.size(); ++i) q.sql += (i ? " UNION " : "") + arms[i];
  q.sql += purpose == Purpose::kRead ? " ORDER BY 1" : " ORDER BY 1 DESC LIMIT 1";
  return q;
}

class SqliteBackend final : public Backend {
 public:
  ~SqliteBackend() override {
    try {
      Close();
    } catch (const BenchError&) {
      // Destruction without Close: nothing to report to.
    }
  }

  std::string_view name() const override { return "sqlite"; }

  std::string Describe(Durability durability) const override {
    return std::string("SQLite ") + sqlite3_libversion() + ", WAL, " +
           (durability == Durability::kSync ? "synchronous=FULL (WAL fsync per commit)"
                                            : "synchronous=NORMAL (WAL synced at checkpoints)") +
           ", per connection cache_size=64 MiB, mmap_size=1 GiB, temp_store=MEMORY; "
           "a connection per concurrent caller, appends serialised by a mutex around "
           "BEGIN IMMEDIATE..COMMIT; tag table (tag, position) and index events(type, position)";
  }

  void Open(const std::filesystem::path& dir, Durability durability) override {
    Close();
    if (sqlite3_threadsafe() == 0) throw BenchError("sqlite: the library is not thread-safe");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw BenchError("sqlite: create " + dir.string() + ": " + ec.message());
    std::string file = (dir / "events.sqlite").string();
    auto first = std::make_unique<Connection>(file, durability, /*create_schema=*/true);
    std::lock_guard lock(pool_mu_);
    file_ = std::move(file);
    durability_ = durability;
    idle_.push_back(std::move(first));
  }

  void Close() override {
    std::vector<std::unique_ptr<Connection>> all;
    {
      std::lock_guard lock(pool_mu_);
      all.swap(idle_);
      file_.clear();
    }
    if (all.empty()) return;
    // Every statement is reset (no call is running), so no reader holds the
    // WAL: the checkpoint copies all of it and truncates it.
    all.front()->Checkpoint();
    for (auto& c : all) c->Close();
  }

  AppendResult Append(std::span<const Event> events, const AppendCondition* condition) override {
    if (events.empty()) throw BenchError("sqlite: append of no events");
    Lease conn(this);
    std::lock_guard write(write_mu_);
    Transaction tx(*conn);
    AppendResult result;
    if (condition != nullptr) {
      const uint64_t conflict =
          NewestMatch(*conn, condition->fail_if_events_match, condition->after.value_or(0));
      if (conflict != 0) {
        tx.Rollback();
        result.ok = false;
        result.conflict_position = conflict;
        return result;
      }
    }
    uint64_t position = HeadOn(*conn);
    std::vector<std::string_view> tags;
    std::string joined;
    for (const Event& e : events) {
      ++position;
      tags.assign(e.tags.begin(), e.tags.end());
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      joined.clear();
      for (size_t i = 0; i < tags.size(); ++i) {
        if (i > 0) joined.push_back(kTagSeparator);
        joined.append(tags[i]);
      }
      {
        Use insert(conn->insert_event(), "insert event");
        insert.Bind(1, ToInt64(position));
        insert.BindText(2, e.type);
        insert.BindText(3, joined);
        insert.BindBlob(4, e.data);
        insert.Step();
      }
      for (std::string_view tag : tags) {
        Use insert(conn->insert_tag(), "insert tag");
        insert.BindText(1, tag);
        insert.Bind(2, ToInt64(position));
        insert.Step();
      }
    }
    tx.Commit();
    result.last_position = position;
    return result;
  }

  void Read(const Query& query, uint64_t from, const ReadFn& fn) override {
    Lease conn(this);
    const QuerySql q = BuildQuerySql(query, Purpose::kRead);
    sqlite3_stmt* s = conn->Prepare(q.sql);
    Use read(s, "read");
    BindQuery(read, q, ToInt64(std::max<uint64_t>(from, 1)));
    while (read.Step()) {
      if (!Deliver(s, fn)) break;
    }
  }

  bool ReadLast(const Query& query, const ReadFn& fn) override {
    Lease conn(this);
    const QuerySql q = BuildQuerySql(query, Purpose::kLast);
    sqlite3_stmt* s = conn->Prepare(q.sql);
    Use read(s, "read last");
    BindQuery(read, q, 0);
    if (!read.Step()) return false;
    Deliver(s, fn);
    return true;
  }

  uint64_t Head() override {
    Lease conn(this);
    return HeadOn(*conn);
  }

 private:
  // A connection taken from the free list (or opened) for one call.
  class Lease {
   public:
    explicit Lease(SqliteBackend* b) : b_(b) {
      {
        std::lock_guard lock(b_->pool_mu_);
        if (b_->file_.empty()) throw BenchError("sqlite: not open");
        if (!b_->idle_.empty()) {
          c_ = std::move(b_->idle_.back());
          b_->idle_.pop_back();
          return;
        }
      }
      c_ = std::make_unique<Connection>(b_->file_, b_->durability_, /*create_schema=*/false);
    }
    ~Lease() {
      std::lock_guard lock(b_->pool_mu_);
      b_->idle_.push_back(std::move(c_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() const { return c_.get(); }
    Connection& operator*() const { return *c_; }

   private:
    SqliteBackend* b_;
    std::unique_ptr<Connection> c_;
  };

  // BEGIN IMMEDIATE .. COMMIT; rolls back when left without Commit.
  class Transaction {
   public:
    explicit Transaction(Connection& c) : c_(c) { Use(c_.begin(), "begin").Step(); }
    ~Transaction() {
      if (c_.in_transaction()) {
        sqlite3_step(c_.rollback());
        sqlite3_reset(c_.rollback());
      }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void Commit() { Use(c_.commit(), "commit").Step(); }
    void Rollback() { Use(c_.rollback(), "rollback").Step(); }

   private:
    Connection& c_;
  };

  static void BindQuery(Use& use, const QuerySql& q, int64_t bound) {
    use.Bind(1, bound);
    for (size_t i = 0; i < q.params.size(); ++i) {
      use.BindText(static_cast<int>(i + 2), *q.params[i]);
    }
  }

  static uint64_t HeadOn(Connection& c) {
    Use head(c.head(), "head");
    head.Step();
    return static_cast<uint64_t>(sqlite3_column_int64(c.head(), 0));  // NULL (empty) reads as 0
  }

  // The newest position above `after` matching `query`, 0 when none.
  static uint64_t NewestMatch(Connection& c, const Query& query, uint64_t after) {
    const QuerySql q = BuildQuerySql(query, Purpose::kCondition);
    sqlite3_stmt* s = c.Prepare(q.sql);
    Use use(s, "condition");
    BindQuery(use, q, ToInt64(after));
    return use.Step() ? static_cast<uint64_t>(sqlite3_column_int64(s, 0)) : 0;
  }

  // Hands the current row (position, type, tags, data) to `fn`.
  static bool Deliver(sqlite3_stmt* s, const ReadFn& fn) {
    const auto position = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    const std::string_view type = ColumnText(s, 1);
    const std::string_view joined = ColumnText(s, 2);
    const std::string_view data = ColumnBlob(s, 3);
    TagViews tags;
    if (!joined.empty()) {
      size_t start = 0;
      for (size_t end; (end = joined.find(kTagSeparator, start)) != std::string_view::npos;
           start = end + 1) {
        tags.push_back(joined.substr(start, end - start));
      }
      tags.push_back(joined.substr(start));
    }
    return fn(ReadEvent{position, type, tags.span(), data});
  }

  std::string file_;  // empty while closed
  Durability durability_ = Durability::kSync;
  std::mutex pool_mu_;                             // guards file_ changes and idle_
  std::vector<std::unique_ptr<Connection>> idle_;  // connections no call is using
  std::mutex write_mu_;                            // held from BEGIN IMMEDIATE to COMMIT
};

}  // namespace

std::unique_ptr<Backend> NewSqliteBackend() { return std::make_unique<SqliteBackend>(); }

}  // namespace opossum::bench
