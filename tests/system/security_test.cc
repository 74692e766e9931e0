// Security properties (docs/reliability.md, "Security"):
//  1. A store name, an event's type or tags, or an import folder can never
//     make the engine or the command line write outside the store's or the
//     export's folder, nor overwrite another file there.
//  2. Files and folders are created without write access for the group or
//     others (data files 0644 at most), also when the process umask is 0.
//  3. Parsers bound their work: deeply nested JSON, huge numbers of tags,
//     oversized strings and huge queries give a clear error (exit 2 and a
//     message) or are served, in bounded memory and time, never a crash.
// The command line is run as a child process (tests/support/cli_process.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli_process.h"
#include "opossum/opossum.h"
#include "test_util.h"

#ifndef OPOSSUM_CLI_PATH
#error "OPOSSUM_CLI_PATH must name the built opossum binary (tests/CMakeLists.txt)"
#endif

namespace opossum {
namespace {

namespace fs = std::filesystem;
using ::opossum::testing::ProcessOptions;
using ::opossum::testing::ProcessResult;
using ::opossum::testing::ReadFileBytes;
using ::opossum::testing::TempDir;
using ::opossum::testing::WriteFileBytes;

ProcessResult Cli(std::vector<std::string> args, const ProcessOptions& options = {}) {
  args.insert(args.begin(), OPOSSUM_CLI_PATH);
  return ::opossum::testing::RunProcess(args, options);
}

ProcessResult CliWithInput(std::vector<std::string> args, std::string input) {
  ProcessOptions o;
  o.input = std::move(input);
  o.timeout = std::chrono::seconds(60);
  return Cli(std::move(args), o);
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
         "\nstdout: " + r.out.substr(0, 400) + "\nstderr: " + r.err.substr(0, 400);
}

// Every entry under `dir` (not following links), relative path -> lstat mode.
std::map<std::string, mode_t> Tree(const fs::path& dir) {
  std::map<std::string, mode_t> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0) {
      out[fs::relative(it->path(), dir).string()] = st.st_mode;
    }
  }
  return out;
}

// The bytes of every regular file under `dir`, for "nothing changed here".
std::map<std::string, std::string> Contents(const fs::path& dir) {
  return ::opossum::testing::ReadTree(dir);
}

// ---------------------------------------------------------------------------
// 1. Names.

// Store::Open refuses every name that is not a plain file name of the
// allowed characters; none of them creates anything, inside the root or
// beside it.
TEST(SecurityStoreName, NamesThatCouldLeaveTheRootAreRefused) {
  TempDir dir;
  const fs::path root = dir.path() / "a" / "root";
  const std::vector<std::string> bad = {"",
                                        ".",
                                        "..",
                                        "../x",
                                        "../../escape",
                                        "a/b",
                                        "/abs",
                                        "/tmp/x",
                                        "a\\b",
                                        "..\\x",
                                        ".hidden",
                                        std::string("a\0b", 3),
                                        "x/../..",
                                        "x/../../y",
                                        "a b",
                                        "a\nb",
                                        "caf\xc3\xa9",
                                        std::string(65, 'n'),
                                        "./x",
                                        std::string("\0", 1)};
  for (const std::string& name : bad) {
    SCOPED_TRACE("name \"" + name + "\" (" + std::to_string(name.size()) + " bytes)");
    std::unique_ptr<Store> store;
    Status s = Store::Open(root, name, Options{}, &store);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(store, nullptr);
    Options ro;
    ro.read_only = true;
    s = Store::Open(root, name, ro, &store);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  }
  EXPECT_TRUE(Tree(dir.path()).empty()) << "a refused name created files";

  // Names with dots inside are plain names: the store is root/name, exactly.
  for (const std::string& name : {std::string("a..b"), std::string("x."), std::string("v1.2")}) {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(root, name, Options{}, &store).ok()) << name;
    EXPECT_EQ(store->path(), fs::absolute(root / name).lexically_normal());
  }
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename());
  EXPECT_EQ(top, std::set<std::string>{"a"});
  std::set<std::string> stores;
  for (const auto& e : fs::directory_iterator(root)) stores.insert(e.path().filename());
  EXPECT_EQ(stores, (std::set<std::string>{"a..b", "x.", "v1.2"}));
}

// A store folder that is a symbolic link is followed (documented: an
// operator may place a store on another disk that way); the store's files go
// where it points, and nowhere else.
TEST(SecurityStoreName, SymlinkedStoreFolderIsFollowed) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path elsewhere = dir.path() / "disk2" / "s";
  fs::create_directories(root);
  fs::create_directories(elsewhere);
  fs::create_directory_symlink(elsewhere, root / "s");
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(root, "s", Options{}, &store).ok());
    ASSERT_TRUE(store->Append({Event{.type = "A"}}).ok());
  }
  EXPECT_TRUE(fs::is_symlink(root / "s"));
  EXPECT_TRUE(fs::exists(elsewhere / "ledger"));
  EXPECT_EQ(Tree(root).size(), 1u);  // the link alone
}

// Types and tags that look like paths, dots, separators, NUL, names that
// collide once made safe, and names longer than a file name may be: the
// export writes every file inside its folder, one event file per event, and
// index files that lose no position (colliding names share a file whose
// positions are the union).
TEST(SecurityExport, HostileTypesAndTagsStayInsideTheExportFolder) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path out = dir.path() / "deep" / "out";
  // Files an escaping name could reach.
  ASSERT_TRUE(WriteFileBytes(dir.path() / "deep" / "sentinel.json", "keep"));
  ASSERT_TRUE(WriteFileBytes(dir.path() / "escape.json", "keep"));
  ASSERT_TRUE(WriteFileBytes(dir.path() / "deep" / "Indices.json", "keep"));

  const std::string long_a(240, 'a');
  const std::string long_b = std::string(200, 'a') + std::string(40, 'b');
  const std::vector<std::string> types = {"../../escape",
                                          "../sentinel",
                                          "/etc/passwd",
                                          "..",
                                          ".",
                                          "a/b",
                                          "a_b",
                                          std::string("n\0ul", 4),
                                          "\\..\\..\\escape",
                                          "<>:\"|?*",
                                          long_a,
                                          long_b,
                                          ".ledger",
                                          ".opossum-export.json",
                                          "events",
                                          std::string(255, '/'),
                                          "x.json.tmp",
                                          "ok"};
  const std::vector<std::vector<std::string>> tags = {
      {"../..:../..", "..:.."},
      {".:.", ":"},
      {"a:b_c", "a_b:c", "a_b_c"},
      {"k:/etc/passwd", "../../../../escape:x"},
      {std::string(255, 't')},
      {"x:" + std::string(253, '/')},
      {"u:" + std::string(200, 'u') + "1", "u:" + std::string(200, 'u') + "2"},
      {},
  };
  std::string input;
  std::map<uint64_t, std::pair<std::string, std::vector<std::string>>> expected;
  uint64_t position = 0;
  for (size_t i = 0; i < types.size(); ++i) {
    std::string type_json;
    for (char c : types[i]) {
      if (c == '\0') {
        type_json += "\\u0000";
      } else if (c == '"' || c == '\\') {
        type_json.push_back('\\');
        type_json.push_back(c);
      } else {
        type_json.push_back(c);
      }
    }
    const std::vector<std::string>& t = tags[i % tags.size()];
    input += "{\"type\": \"" + type_json + "\", \"tags\": [";
    for (size_t j = 0; j < t.size(); ++j) input += (j ? ", \"" : "\"") + t[j] + "\"";
    input += "], \"data\": {\"i\": " + std::to_string(i) + "}}\n";
    expected[++position] = {types[i], t};
  }
  ProcessResult r = CliWithInput({"--root", root.string(), "append"}, input);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  const auto outside_before = Contents(dir.path() / "deep");
  r = Cli({"--root", root.string(), "export", "--format", "opossum", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  // Nothing outside `out` changed or appeared (the store's root aside).
  std::map<std::string, std::string> outside_after;
  for (const auto& [rel, bytes] : Contents(dir.path() / "deep")) {
    if (rel.rfind("out/", 0) != 0) outside_after[rel] = bytes;
  }
  std::map<std::string, std::string> outside_expected;
  for (const auto& [rel, bytes] : outside_before) {
    if (rel.rfind("out/", 0) != 0) outside_expected[rel] = bytes;
  }
  EXPECT_EQ(outside_after, outside_expected);
  EXPECT_EQ(ReadFileBytes(dir.path() / "escape.json"), "keep");
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename());
  EXPECT_EQ(top, (std::set<std::string>{"deep", "escape.json", "root"}));

  // Inside: regular files and folders only, names within NAME_MAX, only
  // where the layout puts them.
  const auto tree = Tree(out);
  std::set<std::string> type_files, tag_files;
  size_t event_files = 0;
  for (const auto& [rel, mode] : tree) {
    SCOPED_TRACE(rel);
    EXPECT_TRUE(S_ISREG(mode) || S_ISDIR(mode));
    const fs::path p(rel);
    EXPECT_LE(p.filename().string().size(), 255u);
    const std::string parent = p.parent_path().string();
    if (S_ISDIR(mode)) {
      EXPECT_TRUE(rel == "events" || rel == "Indices" || rel == "Indices/EventType" ||
                  rel == "Indices/Tags");
    } else if (parent == "events") {
      ++event_files;
    } else if (parent == "Indices/EventType") {
      type_files.insert(p.filename());
    } else if (parent == "Indices/Tags") {
      tag_files.insert(p.filename());
    } else {
      EXPECT_TRUE(rel == ".ledger" || rel == ".opossum-export.json") << "unexpected file";
    }
  }
  EXPECT_EQ(event_files, types.size());

  // Every event's position is in exactly one type file; the tag files hold
  // every (event, tag) pair at least once (colliding tags share a file).
  auto positions_of = [](const fs::path& file) {
    std::vector<uint64_t> v;
    const std::string text = ReadFileBytes(file);
    size_t i = text.find('[');
    while (i != std::string::npos && i < text.size()) {
      while (i < text.size() && (text[i] < '0' || text[i] > '9') && text[i] != ']') ++i;
      if (i >= text.size() || text[i] == ']') break;
      uint64_t n = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') n = n * 10 + (text[i++] - '0');
      v.push_back(n);
    }
    return v;
  };
  std::multiset<uint64_t> in_type_files;
  for (const std::string& f : type_files) {
    for (uint64_t p : positions_of(out / "Indices" / "EventType" / f)) in_type_files.insert(p);
  }
  std::multiset<uint64_t> all_positions;
  for (const auto& [p, e] : expected) all_positions.insert(p);
  EXPECT_EQ(in_type_files, all_positions);
  // Distinct types make distinct files except where the safe names collide:
  // "a/b" and "a_b"; "../../escape" and "\\..\\..\\escape"; "<>:\"|?*" and
  // 255 slashes (both "_"). The two 240-byte names are told apart by a hash.
  EXPECT_EQ(type_files.size(), types.size() - 3);
  EXPECT_TRUE(type_files.count("a_b.json"));
  EXPECT_TRUE(type_files.count(".._.._escape.json"));
  EXPECT_TRUE(type_files.count("_.json"));
  EXPECT_TRUE(type_files.count("_..json"));
  EXPECT_TRUE(type_files.count("_...json"));
  std::map<uint64_t, size_t> tag_entries;
  for (const std::string& f : tag_files) {
    for (uint64_t p : positions_of(out / "Indices" / "Tags" / f)) ++tag_entries[p];
  }
  for (const auto& [p, e] : expected) {
    if (e.second.empty()) {
      EXPECT_EQ(tag_entries.count(p), 0u) << p;
    } else {
      EXPECT_GE(tag_entries[p], 1u) << p;
    }
  }
  // "a:b_c" and "a_b:c" share one file: it holds their events, each once.
  std::vector<uint64_t> want_shared;
  for (const auto& [p, e] : expected) {
    for (const std::string& t : e.second) {
      if (t == "a:b_c") want_shared.push_back(p);
    }
  }
  ASSERT_EQ(want_shared.size(), 2u);
  EXPECT_EQ(positions_of(out / "Indices" / "Tags" / "a_b_c.json"), want_shared);

  // The folder imports back into the same types and tags.
  r = Cli({"--root", root.string(), "--store", "copy", "import", "--format", "opossum", "--in",
           out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::unique_ptr<Store> a, b;
  Options ro;
  ro.read_only = true;
  ASSERT_TRUE(Store::Open(root, "default", ro, &a).ok());
  ASSERT_TRUE(Store::Open(root, "copy", ro, &b).ok());
  std::vector<EventView> va, vb;
  ASSERT_TRUE(a->Read(Query::All(), {}, &va).ok());
  ASSERT_TRUE(b->Read(Query::All(), {}, &vb).ok());
  ASSERT_EQ(va.size(), vb.size());
  for (size_t i = 0; i < va.size(); ++i) {
    EXPECT_EQ(va[i].type(), vb[i].type()) << i;
    EXPECT_EQ(va[i].tags(), vb[i].tags()) << i;
    EXPECT_EQ(va[i].data(), vb[i].data()) << i;
  }
}

// Sub-folders of the export folder that are symbolic links (planted by
// someone who could write there) are refused, not written through.
TEST(SecurityExport, SymlinkedSubfoldersAreRefused) {
  for (const std::string sub : {"events", "Indices", "Indices/Tags", "Indices/EventType"}) {
    SCOPED_TRACE(sub);
    TempDir dir;
    const fs::path root = dir.path() / "root";
    const fs::path out = dir.path() / "out";
    const fs::path victim = dir.path() / "victim";
    fs::create_directories(victim);
    fs::create_directories((out / sub).parent_path());
    fs::create_directory_symlink(victim, out / sub);
    ProcessResult r = CliWithInput({"--root", root.string(), "append"},
                                   "{\"type\": \"T\", \"tags\": [\"k:v\"]}\n");
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    r = Cli({"--root", root.string(), "export", "--format", "opossum", "--out", out.string()});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
    EXPECT_TRUE(Tree(victim).empty()) << "the export wrote through the link";
  }
}

// A file of the export folder replaced by a symbolic link to a file outside:
// the next export neither reads nor writes through it.
TEST(SecurityExport, SymlinkedFilesAreNotFollowed) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path out = dir.path() / "out";
  ProcessResult r =
      CliWithInput({"--root", root.string(), "append"}, "{\"type\": \"T\", \"tags\": [\"k:v\"]}\n");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"--root", root.string(), "export", "--format", "opossum", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const fs::path victim = dir.path() / "victim.json";
  const std::string victim_text = "{\"Positions\": [7]}\n";
  ASSERT_TRUE(WriteFileBytes(victim, victim_text));
  const fs::path index = out / "Indices" / "Tags" / "k_v.json";
  ASSERT_TRUE(fs::exists(index));
  fs::remove(index);
  fs::create_symlink(victim, index);
  r = CliWithInput({"--root", root.string(), "append"}, "{\"type\": \"T\", \"tags\": [\"k:v\"]}\n");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"--root", root.string(), "export", "--format", "opossum", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFileBytes(victim), victim_text);
  EXPECT_TRUE(fs::is_symlink(index));
}

// An event file that is a symbolic link (to a file outside the folder) or
// not a regular file (a FIFO would block a reader forever) stops the import
// with an error; nothing is imported.
TEST(SecurityImport, SymlinksAndSpecialFilesInTheFolderAreRefused) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path out = dir.path() / "out";
  ProcessResult r =
      CliWithInput({"--root", root.string(), "append"}, "{\"type\": \"T\"}\n{\"type\": \"U\"}\n");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"--root", root.string(), "export", "--format", "opossum", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const fs::path second = out / "events" / "0000000002.json";
  const fs::path outside = dir.path() / "outside.json";
  fs::copy_file(second, outside);
  fs::remove(second);

  fs::create_symlink(outside, second);
  ProcessOptions o;
  o.timeout = std::chrono::seconds(20);
  r = Cli({"--root", root.string(), "--store", "copy", "import", "--format", "opossum", "--in",
           out.string()},
          o);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root / "copy"));

  fs::remove(second);
  ASSERT_EQ(::mkfifo(second.c_str(), 0600), 0);
  r = Cli({"--root", root.string(), "--store", "copy", "import", "--format", "opossum", "--in",
           out.string()},
          o);
  EXPECT_FALSE(r.timed_out) << "the import blocked on a FIFO";
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root / "copy"));

  // The folder given by --in may itself be a link (the user names it).
  fs::remove(second);
  fs::copy_file(outside, second);
  fs::create_directory_symlink(out, dir.path() / "link-to-out");
  r = Cli({"--root", root.string(), "--store", "copy", "import", "--format", "opossum", "--in",
           (dir.path() / "link-to-out").string()},
          o);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

// ---------------------------------------------------------------------------
// 2. Permissions under umask 0.

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(SecurityPermissions, NothingCreatedIsWritableByOthersUnderUmaskZero) {
  TempDir dir;
  const UmaskGuard guard(0);
  // The engine, through the API: a root it creates, the store's folders, the
  // ledger, locks, index files and several segments (some write-protected).
  const fs::path root = dir.path() / "new" / "root";
  {
    Options options;
    options.segment_size = 1 << 20;
    options.write_protect_segments = true;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(root, "api", options, &store).ok());
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(store
                      ->Append({Event{.type = "Big",
                                      .tags = {"k:" + std::to_string(i)},
                                      .data = std::string(400 << 10, 'x')}})
                      .ok());
    }
    ASSERT_TRUE(store->Sync().ok());
  }
  // The command line: a store and a root it creates, both exports (with
  // their folders, index files, ledger and checkpoint), an import.
  const fs::path cli_root = dir.path() / "cli" / "root";
  ProcessResult r = CliWithInput({"--root", cli_root.string(), "append"},
                                 "{\"type\": \"T\", \"tags\": [\"k:v\"], \"data\": {}}\n");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"--root", cli_root.string(), "export", "--out", (dir.path() / "x.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const fs::path folder = dir.path() / "exports" / "folder";
  r = Cli({"--root", cli_root.string(), "export", "--format", "opossum", "--out", folder.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"--root", cli_root.string(), "--store", "imported", "import", "--format", "opossum",
           "--in", folder.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  const auto tree = Tree(dir.path());
  size_t files = 0, folders = 0;
  for (const auto& [rel, mode] : tree) {
    SCOPED_TRACE(rel);
    EXPECT_EQ(mode & (S_IWGRP | S_IWOTH), 0u) << "mode " << std::oct << (mode & 07777);
    if (S_ISREG(mode)) {
      ++files;
      EXPECT_EQ(mode & 07133, 0u) << "a data file more than 0644: " << std::oct << (mode & 07777);
    } else {
      ++folders;
      EXPECT_TRUE(S_ISDIR(mode));
    }
  }
  // The store's files and folders were all looked at.
  EXPECT_TRUE(tree.count("new/root/api/ledger"));
  EXPECT_TRUE(tree.count("new/root/api/write.lock"));
  EXPECT_TRUE(tree.count("new/root/api/open.lock"));
  EXPECT_TRUE(tree.count("exports/folder/.opossum-export.json"));
  EXPECT_TRUE(tree.count("exports/folder/Indices/Tags/k_v.json"));
  EXPECT_GE(files, 20u);
  EXPECT_GE(folders, 15u);
}

// ---------------------------------------------------------------------------
// 3. Bounded parsers.

// Runs the command line with `input` (written to a file, then dropped here)
// as standard input, and measures its peak memory. posix_spawn's child uses
// this process's memory until it execs, and the kernel counts this
// process's peak into the child's: resetting this process's peak first
// (clear_refs 5, Linux 4.0 and later) keeps the test's own big strings out.
ProcessResult RunMeasured(const TempDir& dir, std::vector<std::string> args, std::string input) {
  const fs::path file = dir.path() / "input";
  if (!WriteFileBytes(file, input)) ADD_FAILURE() << "cannot write " << file;
  std::string().swap(input);
  if (!WriteFileBytes("/proc/self/clear_refs", "5")) ADD_FAILURE() << "clear_refs";
  ProcessOptions o;
  o.input_file = file;
  o.timeout = std::chrono::seconds(60);
  ProcessResult r = Cli(std::move(args), o);
  fs::remove(file);
  return r;
}

// The peak memory of a command that does next to nothing (`head` of a
// missing store), measured as above, plus room for the allocator's arenas:
// what a refused input may cost beyond a small multiple of its own size. An
// unbounded parser (a node per nesting level, a string per tag, a whole
// file read) takes far more.
long BaseRssKb(const TempDir& dir) {
  const ProcessResult r = RunMeasured(dir, {"--root", (dir.path() / "none").string(), "head"}, "");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  return r.max_rss_kb + (32 << 10);
}

TEST(SecurityLimits, DataNestedAHundredThousandDeepIsRefused) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  std::string nested_objects;
  for (int i = 0; i < 100'000; ++i) nested_objects += "{\"a\":";
  nested_objects += "1" + std::string(100'000, '}');
  for (const std::string& d :
       {std::string(100'000, '[') + std::string(100'000, ']'), nested_objects}) {
    const std::string line = "{\"type\": \"Deep\", \"data\": " + d + "}\n";
    ProcessResult r = RunMeasured(dir, {"--root", root.string(), "append"}, line);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("\"invalid\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("deep"), std::string::npos) << r.err;
    EXPECT_LT(r.max_rss_kb, BaseRssKb(dir) + static_cast<long>(line.size() >> 10) * 4)
        << "peak " << r.max_rss_kb << " KiB";
    EXPECT_FALSE(fs::exists(root));
  }
}

TEST(SecurityLimits, AMillionTagsAreRefused) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  std::string line = "{\"type\": \"T\", \"tags\": [";
  for (int i = 0; i < 1'000'000; ++i) line += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  line += "]}\n";
  const long line_kb = static_cast<long>(line.size() >> 10);
  ProcessResult r = RunMeasured(dir, {"--root", root.string(), "append"}, line);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("\"invalid\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("64"), std::string::npos) << r.err;
  EXPECT_LT(r.max_rss_kb, BaseRssKb(dir) + line_kb * 4) << "peak " << r.max_rss_kb << " KiB";
  EXPECT_FALSE(fs::exists(root));
}

// 100 MiB of data, type, tag or metadata: above every limit of
// docs/semantics.md ("Limits": an event 16 MiB, type and tag 255 bytes).
TEST(SecurityLimits, AHundredMegabyteStringIsRefused) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const std::string big(100 << 20, 'x');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"type\": \"T\", \"data\": \"", "data"},
      {"{\"type\": \"T\", \"data_base64\": \"", "data"},
      {"{\"type\": \"", "type"},
      {"{\"type\": \"T\", \"tags\": [\"", "tag"},
      {"{\"type\": \"T\", \"metadata\": {\"k\": \"", "16777216"},
  };
  for (const auto& [head, what] : cases) {
    SCOPED_TRACE(head);
    std::string line = head + big + "\"";
    if (head.find("tags") != std::string::npos) line += "]";
    if (head.find("metadata") != std::string::npos) line += "}";
    line += "}\n";
    ProcessResult r = RunMeasured(dir, {"--root", root.string(), "append"}, std::move(line));
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("\"invalid\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    // The input is 100 MiB. Measured: about four copies of it (the mapped
    // input, the parser's padded copy, the parsed string, the compact
    // data) before the size is checked; no more than that.
    EXPECT_LT(r.max_rss_kb, BaseRssKb(dir) + 4 * (100 << 10)) << "peak " << r.max_rss_kb << " KiB";
    EXPECT_FALSE(fs::exists(root));
  }
}

// A query of a million items. The command line takes a query only as an
// argument, which Linux caps at 128 KiB (MAX_ARG_STRLEN), so the command line
// gets the largest query that fits, and the API the million items, as a read
// and as an append condition.
TEST(SecurityLimits, HugeQueriesAreServed) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  std::string events;
  for (int i = 0; i < 10; ++i) {
    events += "{\"type\": \"T\", \"tags\": [\"n:" + std::to_string(i) + "\"]}\n";
  }
  ProcessResult r = CliWithInput({"--root", root.string(), "append"}, events);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::string q = "{\"items\": [";
  int items = 0;
  while (q.size() < 120'000) {
    q += (items ? ", {\"tags\": [\"m:" : "{\"tags\": [\"m:") + std::to_string(items) + "\"]}";
    ++items;
  }
  q += ", {\"tags\": [\"n:7\"]}]}";
  r = Cli({"--root", root.string(), "read", "--query", q});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out.rfind("{\"position\": 8,", 0), 0u) << r.out;  // n:7 is the 8th
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);

  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(root, "default", Options{}, &store).ok());
  Query big;
  big.items.reserve(1'000'001);
  for (int i = 0; i < 1'000'000; ++i)
    big.items.push_back(QueryItem{{}, {"m:" + std::to_string(i)}});
  big.items.push_back(QueryItem{{}, {"n:3"}});
  const auto start = std::chrono::steady_clock::now();
  std::vector<EventView> got;
  ASSERT_TRUE(store->Read(big, {}, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].position(), 4u);
  Status s = store->Append({Event{.type = "T"}}, AppendCondition{big, 0});
  EXPECT_TRUE(s.IsConditionFailed()) << s.ToString();
  EXPECT_EQ(s.conflicting_position(), 4u);
  big.items.pop_back();
  uint64_t last = 0;
  EXPECT_TRUE(store->Append({Event{.type = "T"}}, AppendCondition{big, 0}, &last).ok());
  EXPECT_EQ(last, 11u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// An import folder whose event file is far larger than any event may be:
// refused with an error naming the file, without reading it whole.
TEST(SecurityLimits, OversizedImportFileIsRefused) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path in = dir.path() / "in";
  fs::create_directories(in / "events");
  const std::string file = (in / "events" / "0000000001.json").string();
  {
    // Sparse: 2 GiB of apparent size, no disk used.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t{2} << 30), 0);
    ::close(fd);
  }
  ProcessResult r = RunMeasured(
      dir, {"--root", root.string(), "import", "--format", "opossum", "--in", in.string()}, "");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("0000000001.json"), std::string::npos) << r.err;
  EXPECT_LT(r.max_rss_kb, BaseRssKb(dir)) << "peak " << r.max_rss_kb << " KiB";
  EXPECT_FALSE(fs::exists(root));
}

}  // namespace
}  // namespace opossum
