#include "dotnet_layout.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cli_error.h"
#include "dotnet_json_text.h"
#include "json_text.h"
#include "json_writer.h"

namespace opossum::cli {

namespace fs = std::filesystem;

namespace {

// Deeper JSON is refused by the import (and written as binary by the export).
constexpr size_t kMaxJsonDepth = 256;

constexpr std::string_view kEventsFolder = "events";
constexpr std::string_view kLedgerName = ".ledger";
// The export's own checkpoint (see docs/json-layer.md).
constexpr std::string_view kCheckpointName = ".opossum-export.json";
constexpr uint64_t kCheckpointFormat = 1;

// Binary data: `event.event` holds base64 and `event.eventEncoding` says so.
constexpr std::string_view kEncodingMember = "eventEncoding";
constexpr std::string_view kBase64Encoding = "base64";

constexpr std::string_view kTimestampMember = "timestamp";
constexpr std::string_view kEventIdMember = "eventId";
constexpr std::string_view kClrTypeKey = "clr_type";
constexpr std::string_view kClrTypeMember = "$type";
// This tool's markers in `metadata` (never strings, so never a store key's
// value; the .NET library ignores members it does not know):
//  - "dataOwnsType": true  the `$type` member of `event.event` is the data's
//    own: the import keeps it in the data;
//  - "clrTypeIndex": N     the `$type` taken out of `event.event` goes back as
//    the store's metadata entry N (0-based), not after the others.
constexpr std::string_view kDataOwnsTypeMember = "dataOwnsType";
constexpr std::string_view kClrTypeIndexMember = "clrTypeIndex";
// A metadata key that would read back as something else gets this in front.
constexpr char kEscapeMark = '~';

struct MappedMetadata {
  std::string_view member;  // in the file (the .NET library's Metadata)
  std::string_view key;     // in the store
};
constexpr MappedMetadata kMappedMetadata[] = {
    {"correlationId", "correlation_id"},
    {"causationId", "causation_id"},
    {"operationId", "operation_id"},
    {"userId", "user_id"},
};

// Index file names longer than this are cut to kCutIndexName bytes plus a
// hash: with ".json" and the writer's ".tmp" they stay under NAME_MAX (255).
constexpr size_t kMaxIndexName = 235;
constexpr size_t kCutIndexName = 200;

// The largest event file an import reads (the largest line the JSON Lines
// import reads): a bigger one is refused before it is read.
constexpr uint64_t kMaxEventFileBytes = uint64_t{1} << 30;

// Index positions gathered in memory before the export writes the index
// files, the ledger and the checkpoint (which bounds the export's memory).
constexpr size_t kMaxPendingIndexEntries = size_t{1} << 22;

// ---------------------------------------------------------------------------
// JSON reading

// "not valid JSON at line L, column C: WHAT" for a file the parser refused
// (the place found by a thorough scan of the text: simdjson gives none).
std::string NotValidJson(std::string_view text, simdjson::error_code err) {
  size_t offset = 0;
  std::string what;
  if (!FindJsonError(text, kMaxJsonDepth, &offset, &what)) {
    return std::string("not valid JSON: ") + simdjson::error_message(err);
  }
  uint64_t line = 0, column = 0;
  LineAndColumn(text, offset, &line, &column);
  return "not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
         ": " + what;
}

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // A failure here shows again at the first parse.
    [[maybe_unused]] const simdjson::error_code err = p.allocate(1 << 16, kMaxJsonDepth);
    return p;
  }();
  return parser;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

struct FoundMember {
  size_t index;  // among the object's members, in document order
  simdjson::dom::element value;
};

// The first member named `name`, ignoring ASCII case (the .NET library
// writes camelCase, but its reader does not insist on it).
std::optional<FoundMember> FindMember(const simdjson::dom::object& obj, std::string_view name) {
  size_t i = 0;
  for (const simdjson::dom::key_value_pair& kv : obj) {
    if (EqualsIgnoreAsciiCase(kv.key, name)) return FoundMember{i, kv.value};
    ++i;
  }
  return std::nullopt;
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

// ---------------------------------------------------------------------------
// Names

bool IsForbiddenInFileName(unsigned char c) {
  return c < 0x20 || c == '/' || c == '\\' || c == '<' || c == '>' || c == ':' || c == '"' ||
         c == '|' || c == '?' || c == '*';
}

// The .NET library's GetSafeFileName: split at forbidden characters, drop
// the empty pieces, join with '_'.
std::string SafeNamePart(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsForbiddenInFileName(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < s.size() && !IsForbiddenInFileName(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) {
      if (!out.empty()) out.push_back('_');
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string IndexFileName(std::string base, std::string_view original) {
  if (base.size() > kMaxIndexName) {
    size_t cut = kCutIndexName;
    while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80) --cut;
    base.resize(cut);
    char hash[20];
    std::snprintf(hash, sizeof(hash), "~%016llx",
                  static_cast<unsigned long long>(Fnv1a64(original)));
    base += hash;
  }
  base += ".json";
  return base;
}

// The member name a store metadata key is written under. The import reads
// the members it maps (and this tool's markers) in any case, so a key that
// equals one of them in any case is escaped: no member name is written twice.
std::string MetadataMemberName(std::string_view key) {
  for (const MappedMetadata& m : kMappedMetadata) {
    if (key == m.key) return std::string(m.member);
  }
  bool escape =
      EqualsIgnoreAsciiCase(key, kTimestampMember) || EqualsIgnoreAsciiCase(key, kEventIdMember) ||
      EqualsIgnoreAsciiCase(key, kDataOwnsTypeMember) ||
      EqualsIgnoreAsciiCase(key, kClrTypeIndexMember) || (!key.empty() && key[0] == kEscapeMark);
  for (const MappedMetadata& m : kMappedMetadata) {
    escape = escape || EqualsIgnoreAsciiCase(key, m.member);
  }
  std::string name;
  if (escape) name.push_back(kEscapeMark);
  name.append(key);
  return name;
}

// ---------------------------------------------------------------------------
// Files

[[noreturn]] void ThrowIo(std::string_view what, const fs::path& p, int err) {
  throw CliError::Io(std::string(what) + " " + p.string() + ": " + std::strerror(err));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error a deferred write may give.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Reads the whole file; false when it does not exist. Only a regular file
// is read: a symbolic link is refused, not followed (it could lead out of the
// folder), and so is anything else (a FIFO would block the reader forever).
// A file larger than `max_bytes` is refused before it is read.
bool ReadFileIfExists(const fs::path& p, std::string* out, uint64_t max_bytes = UINT64_MAX) {
  out->clear();
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return false;
    if (errno == ELOOP) {
      throw CliError::Invalid(p.string() +
                              ": is a symbolic link (files in an Opossum folder are read and "
                              "written only as regular files, links are not followed)");
    }
    ThrowIo("opening", p, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) ThrowIo("reading", p, errno);
  if (S_ISDIR(st.st_mode)) throw CliError::Invalid(p.string() + ": is a folder, not a file");
  if (!S_ISREG(st.st_mode)) throw CliError::Invalid(p.string() + ": is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    throw CliError::Invalid(p.string() + ": is " + std::to_string(st.st_size) +
                            " bytes, more than the " + std::to_string(max_bytes) +
                            " an event file may have");
  }
  out->reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowIo("reading", p, errno);
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

void ReadFileOrThrow(const fs::path& p, std::string* out, uint64_t max_bytes) {
  if (!ReadFileIfExists(p, out, max_bytes)) ThrowIo("opening", p, ENOENT);
}

// Writes `bytes` to a temporary file beside `p` and renames it over `p`, so
// that a reader (or a crash) sees the old file or the new one, never a part.
// `read_only` leaves it mode 0444 (the rename works over a 0444 target: it
// needs write permission on the folder only). `sync` makes the new file's
// data durable before the rename.
void WriteFileAtomic(const fs::path& p, std::string_view bytes, bool read_only, bool sync) {
  fs::path tmp = p;
  tmp += ".tmp";
  // A temporary file left by a crash may be 0444: remove it, then create.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) ThrowIo("removing", tmp, errno);
  // 0644 whatever the umask: nobody else may write an exported file.
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) ThrowIo("creating", tmp, errno);
  auto fail = [&](std::string_view what, int err) {
    ::unlink(tmp.c_str());
    ThrowIo(what, tmp, err);
  };
  auto fail_rename = [&](int err) {
    ::unlink(tmp.c_str());
    throw CliError::Io("renaming " + tmp.string() + " to " + p.string() + ": " +
                       std::strerror(err));
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("writing", errno);
    }
    done += static_cast<size_t>(n);
  }
  // Read-only takes the write bits away and adds nothing the umask took
  // (077 leaves 0600, which becomes 0400).
  struct stat st;
  if (read_only && (::fstat(fd.get(), &st) != 0 || ::fchmod(fd.get(), st.st_mode & 0444) != 0)) {
    fail("protecting", errno);
  }
  if (sync && ::fdatasync(fd.get()) != 0) fail("syncing", errno);
  if (fd.Close() != 0) fail("writing", errno);
  if (::rename(tmp.c_str(), p.c_str()) != 0) fail_rename(errno);
}

// Creates the folder `p` and its missing parents, each with mode 0755 (less
// what the umask takes): never writable by others, whatever the umask.
void CreateFolders(const fs::path& p) {
  fs::path at;
  for (const fs::path& part : p) {
    at /= part;
    if (::mkdir(at.c_str(), 0755) == 0) continue;
    const int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(at.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    ThrowIo("creating folder", at, err == EEXIST ? ENOTDIR : err);
  }
}

// A folder inside the export folder `out` (`rel`, one or more levels): each
// level is there already as a real folder, or is created (0755). A symbolic
// link is refused: an export writes only inside its folder.
void CreateInnerFolder(const fs::path& out, const fs::path& rel) {
  fs::path at = out;
  for (const fs::path& part : rel) {
    at /= part;
    for (int attempt = 0;; ++attempt) {
      struct stat st;
      if (::lstat(at.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
          throw CliError::Invalid(at.string() +
                                  ": is a symbolic link (an export writes only into real "
                                  "folders inside --out); remove it or export into a new folder");
        }
        if (!S_ISDIR(st.st_mode)) ThrowIo("creating folder", at, ENOTDIR);
        break;
      }
      if (errno != ENOENT) ThrowIo("looking at", at, errno);
      if (::mkdir(at.c_str(), 0755) == 0) break;
      if (errno != EEXIST || attempt > 0) ThrowIo("creating folder", at, errno);
    }
  }
}

// The export folder, opened and locked for one export: two exports into one
// folder at once would interleave their index updates.
class ExportFolderLock {
 public:
  explicit ExportFolderLock(const fs::path& dir)
      : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_.get() < 0) ThrowIo("opening folder", dir, errno);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        throw CliError{ErrorKind::kBusy,
                       dir.string() + ": another export into this folder is running", std::nullopt,
                       std::nullopt};
      }
      ThrowIo("locking folder", dir, errno);
    }
  }
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
};

// ---------------------------------------------------------------------------
// Index files and the ledger

std::string PositionsJson(const std::vector<uint64_t>& positions) {
  std::string out = "{\n  \"Positions\": [";
  for (size_t i = 0; i < positions.size(); ++i) {
    out.append(i == 0 ? "\n    " : ",\n    ");
    AppendUint(&out, positions[i]);
  }
  out.append(positions.empty() ? "]\n}\n" : "\n  ]\n}\n");
  return out;
}

bool ParsePositions(std::string_view text, std::vector<uint64_t>* out, std::string* why) {
  simdjson::dom::element root;
  if (auto err = ThreadParser().parse(text.data(), text.size()).get(root)) {
    *why = NotValidJson(text, err);
    return false;
  }
  simdjson::dom::object obj;
  std::optional<FoundMember> m;
  simdjson::dom::array arr;
  if (root.get_object().get(obj) || !(m = FindMember(obj, "Positions")) ||
      m->value.get_array().get(arr)) {
    *why = "expected {\"Positions\": [..]}";
    return false;
  }
  for (simdjson::dom::element e : arr) {
    uint64_t p;
    if (e.get_uint64().get(p)) {
      *why = "\"Positions\" holds something other than a position";
      return false;
    }
    out->push_back(p);
  }
  return true;
}

// Adds `added` (ascending, no duplicates) to the index file at `p`.
void MergeIndexFile(const fs::path& p, const std::vector<uint64_t>& added, bool read_only) {
  std::string text;
  std::vector<uint64_t> merged;
  if (ReadFileIfExists(p, &text)) {
    std::vector<uint64_t> existing;
    std::string why;
    if (!ParsePositions(text, &existing, &why)) {
      throw CliError::Invalid(p.string() + ": not an index file (" + why +
                              "); remove it or export into a new folder");
    }
    std::sort(existing.begin(), existing.end());
    merged.reserve(existing.size() + added.size());
    std::set_union(existing.begin(), existing.end(), added.begin(), added.end(),
                   std::back_inserter(merged));
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  } else {
    merged = added;
  }
  WriteFileAtomic(p, PositionsJson(merged), read_only, false);
}

using PendingIndex = std::unordered_map<std::string, std::vector<uint64_t>>;

void AddPosition(PendingIndex* index, std::string name, uint64_t position) {
  std::vector<uint64_t>& v = (*index)[std::move(name)];
  // Two tags of one event may share a file name.
  if (v.empty() || v.back() != position) v.push_back(position);
}

// ---------------------------------------------------------------------------
// The export checkpoint

// What identifies the store a folder mirrors: an event's type, timestamp
// and id. Two stores that agree on the first and the last exported event
// are taken to be one.
struct EventIdentity {
  std::string type;
  int64_t timestamp_ns = 0;
  std::optional<Uuid> id;
  friend bool operator==(const EventIdentity&, const EventIdentity&) = default;
};

EventIdentity IdentityOf(const EventView& ev) {
  return EventIdentity{std::string(ev.type()), ev.timestamp_ns(), ev.id()};
}

std::string Describe(uint64_t position, const EventIdentity& id) {
  std::string s = "event " + std::to_string(position) + " (type " + Quoted(id.type) + ", time ";
  AppendTimestamp(&s, id.timestamp_ns);
  if (id.id) s += ", id " + id.id->ToString();
  s += ")";
  return s;
}

struct ExportCheckpoint {
  uint64_t first = 1;  // the first position the folder mirrors
  uint64_t last = 0;   // the last position exported completely (first - 1: none)
  std::optional<EventIdentity> first_event;  // the store's event at `first`
  std::optional<EventIdentity> last_event;   // the store's event at `last`
};

void AppendIdentity(std::string* out, const EventIdentity& id) {
  out->append("{\"type\": ");
  AppendJsonString(out, id.type);
  out->append(", \"timestamp\": \"");
  AppendTimestamp(out, id.timestamp_ns);
  out->push_back('"');
  if (id.id) out->append(", \"id\": \"" + id.id->ToString() + "\"");
  out->push_back('}');
}

std::string CheckpointJson(const ExportCheckpoint& cp) {
  std::string out = "{\n  \"format\": ";
  AppendUint(&out, kCheckpointFormat);
  out.append(",\n  \"first_position\": ");
  AppendUint(&out, cp.first);
  out.append(",\n  \"last_position\": ");
  AppendUint(&out, cp.last);
  if (cp.first_event) {
    out.append(",\n  \"first_event\": ");
    AppendIdentity(&out, *cp.first_event);
  }
  if (cp.last_event) {
    out.append(",\n  \"last_event\": ");
    AppendIdentity(&out, *cp.last_event);
  }
  out.append("\n}\n");
  return out;
}

bool ParseIdentity(const simdjson::dom::element& e, EventIdentity* out) {
  simdjson::dom::object obj;
  std::string_view type;
  std::string_view ts;
  if (e.get_object().get(obj) || obj["type"].get_string().get(type) ||
      obj["timestamp"].get_string().get(ts)) {
    return false;
  }
  std::optional<int64_t> ns = ParseTimestamp(ts);
  if (!ns) return false;
  out->type = std::string(type);
  out->timestamp_ns = *ns;
  simdjson::dom::element id;
  if (!obj["id"].get(id)) {
    std::string_view text;
    if (id.get_string().get(text)) return false;
    out->id = Uuid::Parse(text);
    if (!out->id) return false;
  }
  return true;
}

std::optional<ExportCheckpoint> ReadCheckpoint(const fs::path& p) {
  std::string text;
  if (!ReadFileIfExists(p, &text)) return std::nullopt;
  auto bad = [&](std::string_view why) {
    return CliError::Invalid(p.string() + ": not a readable export checkpoint (" +
                             std::string(why) + "); export into a new folder");
  };
  simdjson::dom::element root;
  if (auto err = ThreadParser().parse(text.data(), text.size()).get(root)) {
    throw bad(NotValidJson(text, err));
  }
  simdjson::dom::object obj;
  uint64_t format = 0;
  ExportCheckpoint cp;
  if (root.get_object().get(obj) || obj["format"].get_uint64().get(format)) {
    throw bad("no \"format\"");
  }
  if (format != kCheckpointFormat) {
    throw bad("format " + std::to_string(format) + ", this tool writes " +
              std::to_string(kCheckpointFormat));
  }
  if (obj["first_position"].get_uint64().get(cp.first) ||
      obj["last_position"].get_uint64().get(cp.last) || cp.first == 0 || cp.last + 1 < cp.first) {
    throw bad("bad \"first_position\" or \"last_position\"");
  }
  simdjson::dom::element e;
  if (!obj["first_event"].get(e)) {
    if (!ParseIdentity(e, &cp.first_event.emplace())) throw bad("bad \"first_event\"");
  }
  if (!obj["last_event"].get(e)) {
    if (!ParseIdentity(e, &cp.last_event.emplace())) throw bad("bad \"last_event\"");
  }
  if (cp.last >= cp.first && (!cp.first_event || !cp.last_event)) {
    throw bad("events exported but no \"first_event\" or \"last_event\"");
  }
  return cp;
}

// The checkpoint goes last: durable after everything it covers.
void WriteCheckpoint(const ExportFolderLock& folder, const fs::path& out,
                     const ExportCheckpoint& cp, bool read_only) {
  WriteFileAtomic(out / kCheckpointName, CheckpointJson(cp), read_only, true);
  if (::fsync(folder.fd()) != 0) ThrowIo("syncing folder", out, errno);
}

std::optional<EventView> EventAt(const Reader& reader, uint64_t position) {
  if (position == 0 || position > reader.head()) return std::nullopt;
  ReadOptions ro;
  ro.from = position;
  ro.limit = 1;
  std::vector<EventView> v;
  Status s = reader.Read(Query::All(), ro, &v);
  if (!s.ok()) throw CliError::FromStatus(s);
  if (v.empty() || v[0].position() != position) return std::nullopt;
  return v[0];
}

void CheckSameStore(const Reader& reader, const fs::path& out, uint64_t position,
                    const EventIdentity& recorded) {
  std::optional<EventView> ev = EventAt(reader, position);
  if (ev && IdentityOf(*ev) == recorded) return;
  std::string msg = out.string() + ": this folder mirrors another store: its " +
                    std::string(kCheckpointName) + " records " + Describe(position, recorded) +
                    ", but this store ";
  if (ev) {
    msg += "has " + Describe(position, IdentityOf(*ev));
  } else {
    msg += "ends at position " + std::to_string(reader.head());
  }
  msg += "; export into a new folder";
  throw CliError::Invalid(msg);
}

// Without a checkpoint, the folder must not hold an event store already
// (the .NET library's own, say): the export would overwrite its files.
void RefuseForeignFolder(const fs::path& out) {
  std::error_code ec;
  bool foreign = fs::exists(out / kLedgerName, ec);
  for (auto it = fs::directory_iterator(out / kEventsFolder, ec);
       !foreign && !ec && it != fs::directory_iterator(); it.increment(ec)) {
    foreign = it->path().extension() == ".json";
  }
  if (foreign) {
    throw CliError::Invalid(out.string() +
                            ": the folder holds events this export did not write (no " +
                            std::string(kCheckpointName) + "); export into a new or empty folder");
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Names

std::string DotnetEventFileName(uint64_t position) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%010llu.json", static_cast<unsigned long long>(position));
  return buf;
}

std::string DotnetTypeIndexFileName(std::string_view type) {
  std::string base = SafeNamePart(type);
  if (base.empty() || base == "." || base == "..") base.insert(0, "_");
  return IndexFileName(std::move(base), type);
}

std::string DotnetTagIndexFileName(std::string_view tag) {
  const size_t colon = tag.find(':');
  std::string base = SafeNamePart(tag.substr(0, colon));
  base.push_back('_');
  if (colon != std::string_view::npos) base += SafeNamePart(tag.substr(colon + 1));
  return IndexFileName(std::move(base), tag);
}

// ---------------------------------------------------------------------------
// One event file

std::string DotnetEventJson(const EventView& ev) {
  const std::string_view data = ev.data();
  const size_t metadata_count = ev.metadata_count();
  // The CLR type moves into the data only when there is exactly one: the
  // import moves `$type` back only when metadata has no `clr_type` member.
  constexpr size_t kNone = SIZE_MAX;
  size_t clr_type = kNone;
  size_t clr_types = 0;
  for (size_t i = 0; i < metadata_count; ++i) {
    if (ev.metadata(i).first == kClrTypeKey && clr_types++ == 0) clr_type = i;
  }
  if (clr_types > 1) clr_type = kNone;

  // JSON data goes in as JSON when it is JSON (the flag alone does not make
  // it so). An object with a `$type` of its own is marked "dataOwnsType", so
  // that the import leaves that `$type` in the data; otherwise the CLR type
  // goes into an object as `$type`.
  bool as_json = false;
  bool own_type = false;
  bool inject_type = false;
  if (ev.data_is_json() && !data.empty()) {
    simdjson::dom::element root;
    if (!ThreadParser().parse(data.data(), data.size()).get(root)) {
      as_json = true;
      simdjson::dom::object obj;
      if (!root.get_object().get(obj)) {
        for (const simdjson::dom::key_value_pair& kv : obj) {
          if (kv.key == kClrTypeMember) own_type = true;
        }
        inject_type = clr_type != kNone && !own_type;
      }
    }
  }

  std::string out;
  out.reserve(512 + data.size() * 2);
  out.append("{\n  \"event\": {\n    \"eventType\": ");
  AppendJsonString(&out, ev.type());
  out.append(",\n    \"event\": ");
  if (as_json) {
    std::string type_member;
    if (inject_type) {
      AppendJsonString(&type_member, kClrTypeMember);
      type_member.append(": ");
      AppendJsonString(&type_member, ev.metadata(clr_type).second);
    }
    AppendIndentedJson(&out, data, 2, type_member);
  } else {
    out.push_back('"');
    AppendBase64(&out, data);
    out.append("\",\n    ");
    AppendJsonString(&out, kEncodingMember);
    out.append(": ");
    AppendJsonString(&out, kBase64Encoding);
  }
  out.append(",\n    \"tags\": [");
  const size_t tag_count = ev.tag_count();
  for (size_t i = 0; i < tag_count; ++i) {
    const std::string_view tag = ev.tag(i);
    const size_t colon = tag.find(':');
    out.append(i == 0 ? "\n      {\n        \"key\": " : ",\n      {\n        \"key\": ");
    AppendJsonString(&out, tag.substr(0, colon));
    out.append(",\n        \"value\": ");
    AppendJsonString(&out,
                     colon == std::string_view::npos ? std::string_view() : tag.substr(colon + 1));
    out.append("\n      }");
  }
  out.append(tag_count == 0 ? "]" : "\n    ]");
  out.append("\n  },\n  \"position\": ");
  AppendUint(&out, ev.position());
  out.append(",\n  \"metadata\": {\n    \"timestamp\": \"");
  AppendTimestamp(&out, ev.timestamp_ns());
  out.push_back('"');
  for (size_t i = 0; i < metadata_count; ++i) {
    if (inject_type && i == clr_type) continue;
    const auto [key, value] = ev.metadata(i);
    out.append(",\n    ");
    AppendJsonString(&out, MetadataMemberName(key));
    out.append(": ");
    AppendJsonString(&out, value);
  }
  if (std::optional<Uuid> id = ev.id()) {
    out.append(",\n    ");
    AppendJsonString(&out, kEventIdMember);
    out.append(": ");
    AppendJsonString(&out, id->ToString());
  }
  if (own_type) {
    out.append(",\n    ");
    AppendJsonString(&out, kDataOwnsTypeMember);
    out.append(": true");
  }
  // The import puts the CLR type after the other metadata entries; one that
  // stood elsewhere says where.
  if (inject_type && clr_type + 1 != metadata_count) {
    out.append(",\n    ");
    AppendJsonString(&out, kClrTypeIndexMember);
    out.append(": ");
    AppendUint(&out, clr_type);
  }
  out.append("\n  }\n}\n");
  return out;
}

bool ParseDotnetEvent(std::string_view json, Event* out, uint64_t* position, std::string* why) {
  auto fail = [why](std::string msg) {
    *why = std::move(msg);
    return false;
  };
  if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);  // a UTF-8 byte order mark

  simdjson::dom::element root;
  if (auto err = ThreadParser().parse(json.data(), json.size()).get(root)) {
    return fail(NotValidJson(json, err));
  }
  simdjson::dom::object root_obj;
  if (root.get_object().get(root_obj)) return fail("not a JSON object");

  std::optional<FoundMember> m = FindMember(root_obj, "position");
  uint64_t pos = 0;
  if (!m) return fail("\"position\" is missing");
  if (m->value.get_uint64().get(pos) || pos == 0) {
    return fail("\"position\" is not a positive integer");
  }

  const std::optional<FoundMember> event_member = FindMember(root_obj, "event");
  simdjson::dom::object event_obj;
  if (!event_member) return fail("\"event\" is missing");
  if (event_member->value.get_object().get(event_obj)) return fail("\"event\" is not an object");

  Event e;
  std::string_view text;
  m = FindMember(event_obj, "eventType");
  if (!m) return fail("\"event.eventType\" is missing");
  if (m->value.get_string().get(text) || text.empty()) {
    return fail("\"event.eventType\" is not a non-empty string");
  }
  e.type = std::string(text);

  m = FindMember(event_obj, "tags");
  if (m && !m->value.is_null()) {
    simdjson::dom::array tags;
    if (m->value.get_array().get(tags)) return fail("\"event.tags\" is not an array");
    size_t i = 0;
    for (simdjson::dom::element t : tags) {
      const std::string where = "\"event.tags\"[" + std::to_string(i++) + "]";
      simdjson::dom::object tag_obj;
      if (t.get_object().get(tag_obj)) return fail(where + " is not an object");
      std::optional<FoundMember> key = FindMember(tag_obj, "key");
      std::optional<FoundMember> value = FindMember(tag_obj, "value");
      std::string_view k;
      std::string_view v;
      if (!key || key->value.get_string().get(k)) return fail(where + " has no string \"key\"");
      if (value && !value->value.is_null() && value->value.get_string().get(v)) {
        return fail(where + ": \"value\" is not a string");
      }
      // "k" for key k and no value; the tag ":" (empty key and value) as is.
      e.tags.push_back(v.empty() && !k.empty() ? std::string(k) : Tag(k, v));
    }
  }

  bool binary = false;
  m = FindMember(event_obj, kEncodingMember);
  if (m && !m->value.is_null()) {
    if (m->value.get_string().get(text) || text != kBase64Encoding) {
      return fail("\"event.eventEncoding\" is not \"base64\" (the only encoding there is)");
    }
    binary = true;
  }

  bool has_clr_type_member = false;
  bool data_owns_type = false;             // the marker "dataOwnsType": true
  std::optional<uint64_t> clr_type_index;  // the marker "clrTypeIndex": N
  m = FindMember(root_obj, "metadata");
  if (m && !m->value.is_null()) {
    simdjson::dom::object md;
    if (m->value.get_object().get(md)) return fail("\"metadata\" is not an object");
    for (const simdjson::dom::key_value_pair& kv : md) {
      const std::string_view name = kv.key;
      if (kv.value.is_null()) continue;  // the .NET library leaves these out; others may not
      // This tool's markers: never strings (a string is a store key's value).
      if (EqualsIgnoreAsciiCase(name, kDataOwnsTypeMember) && kv.value.is_bool()) {
        data_owns_type = kv.value.get_bool().value_unsafe();
        continue;
      }
      if (EqualsIgnoreAsciiCase(name, kClrTypeIndexMember) && !kv.value.is_string()) {
        uint64_t index = 0;
        if (kv.value.get_uint64().get(index)) {
          return fail("\"metadata." + std::string(name) +
                      "\" is neither a string nor a metadata entry's index");
        }
        clr_type_index = index;
        continue;
      }
      std::string_view value;
      if (kv.value.get_string().get(value)) {
        return fail("\"metadata." + std::string(name) + "\" is not a string");
      }
      if (EqualsIgnoreAsciiCase(name, kTimestampMember)) {
        e.timestamp_ns = ParseTimestamp(value);
        if (!e.timestamp_ns) return fail("\"metadata.timestamp\" is not an RFC 3339 time");
        continue;
      }
      if (EqualsIgnoreAsciiCase(name, kEventIdMember)) {
        e.id = Uuid::Parse(value);
        if (!e.id) return fail("\"metadata.eventId\" is not a UUID");
        continue;
      }
      std::string key;
      for (const MappedMetadata& mapped : kMappedMetadata) {
        if (EqualsIgnoreAsciiCase(name, mapped.member)) key = mapped.key;
      }
      if (key.empty()) {
        key = name;
        if (!key.empty() && key[0] == kEscapeMark) key.erase(0, 1);
        if (name == kClrTypeKey) has_clr_type_member = true;
      }
      e.metadata.emplace_back(std::move(key), std::string(value));
    }
  }

  const std::optional<FoundMember> data = FindMember(event_obj, "event");
  if (!data) return fail("\"event.event\" is missing");
  if (binary) {
    if (data->value.get_string().get(text)) {
      return fail("\"event.event\" is not a string (\"eventEncoding\": \"base64\")");
    }
    if (!DecodeBase64(text, &e.data)) return fail("\"event.event\" is not valid base64");
    e.data_is_json = false;
  } else {
    // The data's own text, cut out of the file: the parser has checked it,
    // and keeping its bytes keeps its numbers exactly as written.
    const std::vector<JsonMember> root_members = JsonObjectMembers(json, SkipJsonSpace(json, 0));
    if (event_member->index >= root_members.size()) return fail("internal: members out of step");
    const std::vector<JsonMember> event_members =
        JsonObjectMembers(json, root_members[event_member->index].value.begin);
    if (data->index >= event_members.size()) return fail("internal: members out of step");
    const JsonSpan span = event_members[data->index].value;

    // A `$type` in the data is the CLR type the .NET serializer wrote,
    // unless this tool's export marked it as the data's own, or metadata
    // names the CLR type itself.
    std::optional<size_t> type_index;
    simdjson::dom::object data_obj;
    if (!has_clr_type_member && !data_owns_type && !data->value.get_object().get(data_obj)) {
      size_t i = 0;
      for (const simdjson::dom::key_value_pair& kv : data_obj) {
        if (kv.key == kClrTypeMember) {
          if (kv.value.get_string().get(text)) {
            return fail("\"event.event.$type\" is not a string");
          }
          type_index = i;
          const uint64_t at = clr_type_index.value_or(e.metadata.size());
          if (at > e.metadata.size()) {
            return fail("\"metadata.clrTypeIndex\" is " + std::to_string(at) + ", but there are " +
                        std::to_string(e.metadata.size()) + " other metadata entries");
          }
          e.metadata.emplace(e.metadata.begin() + static_cast<std::ptrdiff_t>(at),
                             std::string(kClrTypeKey), std::string(text));
          break;
        }
        ++i;
      }
    }
    if (type_index) {
      const std::vector<JsonMember> members = JsonObjectMembers(json, span.begin);
      if (*type_index >= members.size()) return fail("internal: members out of step");
      e.data.push_back('{');
      bool first = true;
      for (size_t i = 0; i < members.size(); ++i) {
        if (i == *type_index) continue;
        if (!first) e.data.push_back(',');
        first = false;
        AppendMinifiedJson(&e.data, members[i].whole.Of(json));
      }
      e.data.push_back('}');
    } else {
      AppendMinifiedJson(&e.data, span.Of(json));
    }
    e.data_is_json = true;
  }

  *out = std::move(e);
  *position = pos;
  return true;
}

// ---------------------------------------------------------------------------
// Export

DotnetExportResult ExportDotnet(const Reader& reader, const fs::path& out, uint64_t from,
                                bool write_protect, Progress* progress) {
  if (from == 0) from = 1;
  CreateFolders(out);
  const ExportFolderLock folder(out);

  ExportCheckpoint cp;
  bool write_checkpoint = false;
  if (std::optional<ExportCheckpoint> existing = ReadCheckpoint(out / kCheckpointName)) {
    cp = *existing;
    if (from > cp.last + 1) {
      throw CliError::Invalid(out.string() + ": the folder mirrors positions from " +
                              std::to_string(cp.first) + " to " + std::to_string(cp.last) +
                              "; exporting from " + std::to_string(from) +
                              " would leave a gap (export into a new folder)");
    }
    if (cp.first_event) CheckSameStore(reader, out, cp.first, *cp.first_event);
    if (cp.last >= cp.first) CheckSameStore(reader, out, cp.last, *cp.last_event);
  } else {
    RefuseForeignFolder(out);
    cp.first = from;
    cp.last = from - 1;
    write_checkpoint = true;
  }
  if (!cp.first_event) {
    if (std::optional<EventView> first = EventAt(reader, cp.first)) {
      cp.first_event = IdentityOf(*first);
      write_checkpoint = true;
    }
  }

  const fs::path events_dir = out / kEventsFolder;
  const fs::path type_dir = out / "Indices" / "EventType";
  const fs::path tag_dir = out / "Indices" / "Tags";
  CreateInnerFolder(out, kEventsFolder);
  CreateInnerFolder(out, fs::path("Indices") / "EventType");
  CreateInnerFolder(out, fs::path("Indices") / "Tags");
  // Before any event file: a later run recognises the store even if this one
  // is interrupted, and redoes its work.
  if (write_checkpoint) WriteCheckpoint(folder, out, cp, write_protect);

  PendingIndex types;
  PendingIndex tags;
  size_t pending = 0;
  uint64_t written = 0;
  uint64_t last = cp.last;
  EventView last_view;  // the event at `last` once this run wrote one

  // Index files, then the ledger, then (once all of it is on disk) the
  // checkpoint: an interrupted export leaves the checkpoint behind the
  // files, and the next run rewrites them.
  auto flush = [&] {
    for (const auto& [name, positions] : types) {
      MergeIndexFile(type_dir / name, positions, write_protect);
    }
    for (const auto& [name, positions] : tags) {
      MergeIndexFile(tag_dir / name, positions, write_protect);
    }
    types.clear();
    tags.clear();
    pending = 0;
    std::string ledger = "{\n  \"LastSequencePosition\": ";
    AppendUint(&ledger, last);
    ledger.append(",\n  \"EventCount\": ");
    AppendUint(&ledger, last >= cp.first ? last - cp.first + 1 : 0);
    ledger.append("\n}\n");
    WriteFileAtomic(out / kLedgerName, ledger, write_protect, false);
    if (::syncfs(folder.fd()) != 0) ThrowIo("syncing", out, errno);
    cp.last = last;
    if (written > 0) cp.last_event = IdentityOf(last_view);
    WriteCheckpoint(folder, out, cp, write_protect);
  };

  if (cp.last + 1 <= reader.head()) {
    ReadOptions ro;
    ro.from = cp.last + 1;
    std::exception_ptr error;
    Status s = reader.ForEach(Query::All(), ro, [&](const EventView& ev) {
      try {
        const uint64_t p = ev.position();
        WriteFileAtomic(events_dir / DotnetEventFileName(p), DotnetEventJson(ev), write_protect,
                        false);
        AddPosition(&types, DotnetTypeIndexFileName(ev.type()), p);
        const size_t n = ev.tag_count();
        for (size_t i = 0; i < n; ++i) AddPosition(&tags, DotnetTagIndexFileName(ev.tag(i)), p);
        pending += 1 + n;
        last = p;
        last_view = ev;
        ++written;
        if (progress != nullptr) progress->Update(written);
        if (pending >= kMaxPendingIndexEntries) flush();
        return true;
      } catch (...) {
        // Not through the store's code: stop the walk and rethrow after it.
        error = std::current_exception();
        return false;
      }
    });
    if (error) std::rethrow_exception(error);
    if (!s.ok()) throw CliError::FromStatus(s);
  }
  if (written > 0 || write_checkpoint) flush();
  return DotnetExportResult{written, cp.last};
}

// ---------------------------------------------------------------------------
// Import

void ReadDotnetFolder(
    const fs::path& in,
    const std::function<void(Event&& event, uint64_t position, const std::string& file)>& fn,
    Progress* progress) {
  std::error_code ec;
  if (!fs::exists(in, ec)) ThrowIo("reading", in, ENOENT);
  if (!fs::is_directory(in, ec)) throw CliError::Invalid(in.string() + ": not a folder");
  const fs::path events_dir = in / kEventsFolder;
  // --in itself may be a link (the user names it); nothing below it is
  // followed (the event files are opened with O_NOFOLLOW).
  if (fs::is_symlink(fs::symlink_status(events_dir, ec))) {
    throw CliError::Invalid(events_dir.string() +
                            ": is a symbolic link (the import follows no link inside --in)");
  }
  if (!fs::is_directory(events_dir, ec)) {
    throw CliError::Invalid(in.string() +
                            ": no events folder (an Opossum folder holds "
                            "events/0000000001.json, events/0000000002.json, ...)");
  }

  struct EventFile {
    uint64_t position;
    std::string name;
  };
  std::vector<EventFile> files;
  for (auto it = fs::directory_iterator(events_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    // Only *.json: the .NET library's temporary files end in .tmp.<guid>.
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
    uint64_t position = 0;
    bool ok = true;
    for (size_t i = 0; i + 5 < name.size() && ok; ++i) {
      const char c = name[i];
      ok = c >= '0' && c <= '9' && position <= (UINT64_MAX - 9) / 10;
      position = position * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok || position == 0) {
      throw CliError::Invalid((events_dir / name).string() +
                              ": not an event file name (the event's position, e.g. "
                              "0000000001.json)");
    }
    files.push_back(EventFile{position, std::move(name)});
  }
  if (ec) throw CliError::Io("reading folder " + events_dir.string() + ": " + ec.message());

  std::sort(files.begin(), files.end(), [](const EventFile& a, const EventFile& b) {
    return a.position != b.position ? a.position < b.position : a.name < b.name;
  });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].position == files[i - 1].position) {
      throw CliError::Invalid((events_dir / files[i - 1].name).string() + " and " +
                              (events_dir / files[i].name).string() + ": two files for position " +
                              std::to_string(files[i].position));
    }
  }

  std::string text;
  std::string why;
  uint64_t done = 0;
  for (const EventFile& f : files) {
    const fs::path p = events_dir / f.name;
    ReadFileOrThrow(p, &text, kMaxEventFileBytes);
    Event e;
    uint64_t position = 0;
    if (!ParseDotnetEvent(text, &e, &position, &why)) {
      throw CliError::Invalid(p.string() + ": " + why);
    }
    if (position != f.position) {
      throw CliError::Invalid(p.string() + ": \"position\" is " + std::to_string(position) +
                              " but the file name says " + std::to_string(f.position));
    }
    fn(std::move(e), position, p.string());
    ++done;
    if (progress != nullptr) progress->Update(done);
  }
}

}  // namespace opossum::cli
