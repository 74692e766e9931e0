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
                            "continue it (" + (why.empty() ? "no position" : why) + ")");
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
        throw CliError::Invalid(path.string() + " does not mirror this store: its event at position " +
                                std::to_string(last) +
                                " differs from the store's; export into a new file");
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
                     ", \"last_position\": " + std::to_string(std::max(last_written, start - 1)) + "}\n";
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
}

struct ImportState {
  Store* store = nullptr;
  std::unique_ptr<Store> owned;
  const StoreRef* ref = nullptr;
  WriteOptions write;
  BatchInput batch;
  uint64_t imported = 0;
  uint64_t first = 0;
  uint64_t last = 0;

  explicit ImportState(std::string source) : batch(std::move(source)) {}

  void Flush() {
    if (batch.empty()) return;
    if (store == nullptr) {  // opened at the first batch: bad input creates nothing
      owned = OpenForWrite(*ref, write);
      store = owned.get();
    }
    const size_t n = batch.size();
    last = batch.Append(store, std::nullopt);
    if (first == 0) first = last - n + 1;
    imported += n;
  }
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
  ImportState st(source);
  st.ref = &ref;
  st.write = args.write;
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
      uint64_t first_line = 0, previous = 0;
      while (lines.NextBlock(&block, &first_line)) {
        parser.Parse(block, first_line, [&](Event&& e, uint64_t line_no, uint64_t position) {
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
          st.batch.Add(e, line_no);
          if (st.batch.size() >= per_batch) st.Flush();
          progress.Update(st.imported + st.batch.size());
        });
      }
      st.Flush();
    } else {
      ReadDotnetFolder(
          args.in,
          [&](Event&& e, uint64_t, const std::string& file) {
            st.batch.Add(e, file);
            if (st.batch.size() >= per_batch) st.Flush();
            progress.Update(st.imported + st.batch.size());
          },
          nullptr);
      st.Flush();
    }
  } catch (CliError& e) {
    // With --batch-size, earlier batches are in: say how far the import got.
    if (st.imported != 0) {
      e.message += " (" + std::to_string(st.imported) + " events were imported before this, at positions " +
                   std::to_string(st.first) + ".." + std::to_string(st.last) + ")";
    }
    throw;
  }
  progress.Finish(st.imported);
  std::string out = "{\"imported\": " + std::to_string(st.imported) +
                    ", \"first_position\": " + std::to_string(st.first) +
                    ", \"last_position\": " + std::to_string(st.last) + "}\n";
  WriteAll(STDOUT_FILENO, out.data(), out.size(), "standard output");
}

}  // namespace opossum::cli
