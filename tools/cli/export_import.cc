// `opossum export` and `opossum import`: the store's events as files a person
// can read (JSON Lines, or the .NET Opossum folder layout), and back.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "batch_input.h"
#include "block_parser.h"
#include "commands.h"
#include "derived_id.h"
#include "dotnet_layout.h"
#include "event_json.h"
#include "json_reader.h"
#include "line_reader.h"
#include "output.h"
#include "progress.h"

namespace opossum::cli {

namespace {

void CheckFormat(const std::string& format) {
  if (format != "jsonl" && format != "opossum") {
    throw CliError::Invalid("--format must be \"jsonl\" or \"opossum\", not \"" + format + "\"");
  }
}

[[noreturn]] void ThrowErrno(const std::string& what, const std::filesystem::path& path) {
  throw CliError::Io(what + " " + path.string() + ": " + std::strerror(errno));
}

// The position of the last complete line of an export file, after cutting
// off a partial line an interrupted export left. 0 for an empty file.
uint64_t ResumeJsonl(int fd, const std::filesystem::path& path, std::string* last_line) {
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno("stat", path);
  const auto size = static_cast<uint64_t>(st.st_size);
  // Find the last '\n', reading backwards in blocks.
  std::string tail;
  uint64_t end = size;  // the bytes [0, end) still to look at
  uint64_t cut = 0;     // length of the complete lines
  std::vector<char> block(1 << 16);
  bool found = false;
  while (end > 0 && !found) {
    const uint64_t n = std::min<uint64_t>(end, block.size());
    if (pread(fd, block.data(), n, static_cast<off_t>(end - n)) != static_cast<ssize_t>(n)) {
      ThrowErrno("reading", path);
    }
    for (uint64_t i = n; i > 0; --i) {
      if (block[i - 1] == '\n') {
        cut = end - n + i;
        found = true;
        break;
      }
    }
    end -= n;
  }
  if (cut != size && ftruncate(fd, static_cast<off_t>(cut)) != 0) ThrowErrno("truncating", path);
  if (cut == 0) return 0;
  // The last complete line: [start, cut - 1).
  uint64_t start = cut - 1;
  std::string line;
  while (start > 0) {
    const uint64_t n = std::min<uint64_t>(start, block.size());
    if (pread(fd, block.data(), n, static_cast<off_t>(start - n)) != static_cast<ssize_t>(n)) {
      ThrowErrno("reading", path);
    }
    uint64_t i = n;
    while (i > 0 && block[i - 1] != '\n') --i;
    start -= n - i;
    if (i > 0) break;
  }
  last_line->resize(cut - 1 - start);
  if (pread(fd, last_line->data(), last_line->size(), static_cast<off_t>(start)) !=
      static_cast<ssize_t>(last_line->size())) {
    ThrowErrno("reading", path);
  }
  EventParser parser;
  Event e;
  uint64_t position = 0;
  std::string why;
  if (!parser.Parse(*last_line, false, &e, &position, &why) || position == 0) {
    throw CliError::Invalid(path.string() +
                            ": its last line is not an exported event, so the export cannot "
                            "continue it (" +
                            (why.empty() ? "no position" : why) + ")");
  }
  return position;
}

void ExportJsonl(const Store& store, const ExportArgs& args) {
  const std::filesystem::path& path = args.out;
  const Reader reader = store.NewReader();
  struct stat st;
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    throw CliError::Invalid("--out " + path.string() + " exists and is not a file");
  }
  // A write-protected export grows again: the owner's write bit back, and
  // nothing the file did not have.
  if (exists && (st.st_mode & S_IWUSR) == 0 &&
      ::chmod(path.c_str(), (st.st_mode & 0777) | S_IWUSR) != 0) {
    ThrowErrno("making writable", path);
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) ThrowErrno("opening", path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  uint64_t start = args.from;
  if (exists) {
    std::string last_line;
    const uint64_t last = ResumeJsonl(fd, path, &last_line);
    if (last != 0) {
      // The file must mirror this store: its last event is this store's.
      std::vector<EventView> one;
      ReadOptions ro;
      ro.from = last;
      ro.limit = 1;
      Status s = reader.Read(Query::All(), ro, &one);
      if (!s.ok()) throw CliError::FromStatus(s);
      std::string mine;
      if (!one.empty() && one[0].position() == last) AppendEventLine(&mine, one[0]);
      if (mine != last_line) {
        throw CliError::Invalid(
            path.string() + " does not mirror this store: its event at position " +
            std::to_string(last) + " differs from the store's; export into a new file");
      }
      start = std::max(start, last + 1);
    }
  }
  if (::lseek(fd, 0, SEEK_END) < 0) ThrowErrno("seeking", path);
  Progress progress("export");
  uint64_t written = 0;
  uint64_t last_written = 0;
  {
    Output out(fd, path.string());
    std::string* buf = out.buf();
    ReadOptions ro;
    ro.from = start;
    Status s = reader.ForEach(Query::All(), ro, [&](const EventView& ev) {
      AppendEventLine(buf, ev);
      buf->push_back('\n');
      out.MaybeFlush();
      last_written = ev.position();
      progress.Update(++written);
      return true;
    });
    if (!s.ok()) throw CliError::FromStatus(s);
  }
  progress.Finish(written);
  if (::fdatasync(fd) != 0) ThrowErrno("syncing", path);
  // Read-only: the write bits go, nothing is added (a 0600 file becomes 0400).
  if (args.write_protect && (fstat(fd, &st) != 0 || ::fchmod(fd, st.st_mode & 0444) != 0)) {
    ThrowErrno("write-protecting", path);
  }
  std::string line = "{\"written\": " + std::to_string(written) +
                     ", \"last_position\": " + std::to_string(std::max(last_written, start - 1)) +
                     "}\n";
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
}

// An import in progress. Every event gets an id (its own, or one derived
// from its source position and content); an event whose id the store
// already holds was imported before and is skipped; the rest go into
// batches.
class ImportState {
 public:
  ImportState(const StoreRef& ref, WriteOptions write, std::string source)
      : ref_(ref), write_(write), batch_(std::move(source)) {
    // The store as it is, for the ids already there: opened read-only, so
    // that bad input still creates nothing. A missing store holds none.
    Options o;
    o.read_only = true;
    o.create_if_missing = false;
    Status s = Store::Open(ref.root, ref.name, o, &store_);
    if (s.IsNotFound()) return;
    if (!s.ok()) throw CliError::FromStatus(s);
    reader_.emplace(store_->NewReader());
  }

  // Adds the event found at `where` of the source (line `line`, or in
  // `file`), unless the store holds its id. Flushes every `per_batch`.
  template <typename Origin>
  void Add(Event& e, SourcePosition where, const Origin& origin, uint64_t per_batch) {
    if (!e.id) e.id = DerivedEventId(e, where);
    if (reader_) {
      std::optional<EventView> found;
      Status s = reader_->ReadById(*e.id, &found);
      if (!s.ok()) throw CliError::FromStatus(s);
      if (found) {
        ++skipped_;
        return;
      }
    }
    batch_.Add(e, origin);
    if (batch_.size() >= per_batch) Flush();
  }

  // Appends the batch (opening the store for writing at the first one).
  void Flush() {
    if (batch_.empty()) return;
    if (!writable_) {
      reader_.reset();  // the read-only handle goes before the writable opens
      store_.reset();
      store_ = OpenForWrite(ref_, write_);
      writable_ = true;
    }
    const size_t n = batch_.size();
    last_ = batch_.Append(store_.get(), std::nullopt);
    if (first_ == 0) first_ = last_ - n + 1;
    imported_ += n;
    reader_.emplace(store_->NewReader());  // it sees this batch
  }

  uint64_t imported() const { return imported_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t seen() const { return imported_ + skipped_ + batch_.size(); }
  uint64_t first() const { return first_; }
  uint64_t last() const { return last_; }

 private:
  const StoreRef& ref_;
  WriteOptions write_;
  BatchInput batch_;
  std::unique_ptr<Store> store_;
  bool writable_ = false;
  std::optional<Reader> reader_;  // none: the store does not exist
  uint64_t imported_ = 0;
  uint64_t skipped_ = 0;
  uint64_t first_ = 0;
  uint64_t last_ = 0;
};

}  // namespace

void RunExport(const StoreRef& ref, const ExportArgs& args) {
  CheckFormat(args.format);
  if (args.from == 0) throw CliError::Invalid("--from must be a position, 1 or more");
  auto store = OpenForRead(ref);
  if (args.format == "jsonl") return ExportJsonl(*store, args);
  Progress progress("export");
  const DotnetExportResult r =
      ExportDotnet(store->NewReader(), args.out, args.from, args.write_protect, &progress);
  progress.Finish(r.written);
  std::string line = "{\"written\": " + std::to_string(r.written) +
                     ", \"last_position\": " + std::to_string(r.last_position) + "}\n";
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
}

void RunImport(const StoreRef& ref, const ImportArgs& args) {
  CheckFormat(args.format);
  const bool from_stdin = args.format == "jsonl" && args.in == "-";
  const std::string source = from_stdin ? "standard input" : args.in.string();
  ImportState st(ref, args.write, source);
  Progress progress("import");
  const uint64_t per_batch = args.batch_size == 0 ? UINT64_MAX : args.batch_size;
  try {
    if (args.format == "jsonl") {
      int fd = STDIN_FILENO;
      if (!from_stdin && (fd = ::open(args.in.c_str(), O_RDONLY | O_CLOEXEC)) < 0) {
        ThrowErrno("opening", args.in);
      }
      struct Closer {
        int fd;
        bool own;
        ~Closer() {
          if (own) ::close(fd);
        }
      } closer{fd, !from_stdin};
      LineReader lines(fd, source);
      BlockParser parser(true, source);
      std::string_view block;
      uint64_t first_line = 0, previous = 0, ordinal = 0;
      while (lines.NextBlock(&block, &first_line)) {
        parser.Parse(block, first_line, [&](Event&& e, uint64_t line_no, uint64_t position) {
          ++ordinal;
          if (position != 0) {
            if (position <= previous) {
              throw CliError::Invalid(source + " line " + std::to_string(line_no) + ": position " +
                                          std::to_string(position) + " does not follow " +
                                          std::to_string(previous) +
                                          " (events must be in position order)",
                                      line_no);
            }
            previous = position;
          }
          const SourcePosition where =
              position != 0 ? SourcePosition{SourcePosition::Kind::kPosition, position}
                            : SourcePosition{SourcePosition::Kind::kOrdinal, ordinal};
          st.Add(e, where, line_no, per_batch);
          progress.Update(st.seen());
        });
      }
      st.Flush();
    } else {
      ReadDotnetFolder(
          args.in,
          [&](Event&& e, uint64_t position, const std::string& file) {
            st.Add(e, SourcePosition{SourcePosition::Kind::kPosition, position}, file, per_batch);
            progress.Update(st.seen());
          },
          nullptr);
      st.Flush();
    }
  } catch (CliError& e) {
    // With --batch-size, earlier batches are in: say how far the import got.
    if (st.imported() != 0) {
      e.message += " (" + std::to_string(st.imported()) +
                   " events were imported before this, at positions " + std::to_string(st.first()) +
                   ".." + std::to_string(st.last()) + ")";
    }
    throw;
  }
  progress.Finish(st.seen());
  std::string out = "{\"imported\": " + std::to_string(st.imported()) +
                    ", \"skipped\": " + std::to_string(st.skipped()) +
                    ", \"first_position\": " + std::to_string(st.first()) +
                    ", \"last_position\": " + std::to_string(st.last()) + "}\n";
  WriteAll(STDOUT_FILENO, out.data(), out.size(), "standard output");
}

}  // namespace opossum::cli
