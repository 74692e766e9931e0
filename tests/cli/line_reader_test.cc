// LineReader (tools/cli/line_reader.h) over a regular file (mapped, blocks
// handed out in place) and over a pipe (read in chunks): the blocks put
// together are the input exactly, every block but the last ends with '\n',
// first_line_no counts every line before the block, and kLinePadding bytes
// after every block are readable.
#include "line_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli_error.h"
#include "test_util.h"

namespace opossum::cli {
namespace {

using opossum::testing::TempDir;
using opossum::testing::TestSeed;
using opossum::testing::WriteFileBytes;

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kBlockSize = 4 * kMiB;  // the reader's chunk (line_reader.cc)

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

struct ReadBlock {
  std::string text;
  uint64_t first_line_no = 0;
};

// Checks that [p, p + n) is readable without touching it first: the kernel
// copies it into a pipe and reports EFAULT for an unreadable address. Then
// reads it for real and compares.
class ReadableCheck {
 public:
  ReadableCheck() { EXPECT_EQ(pipe(fds_), 0); }
  ~ReadableCheck() {
    close(fds_[0]);
    close(fds_[1]);
  }
  bool Readable(const char* p, size_t n) {
    const ssize_t w = write(fds_[1], p, n);
    if (w != static_cast<ssize_t>(n)) {
      ADD_FAILURE() << "bytes after the block are not readable: write gave " << w << " ("
                    << std::strerror(errno) << ")";
      return false;
    }
    std::string back(n, '\0');
    EXPECT_EQ(read(fds_[0], back.data(), n), static_cast<ssize_t>(n));
    // Now read the memory directly: the same bytes.
    std::string direct(n, '\0');
    for (size_t i = 0; i < n; ++i) direct[i] = static_cast<const volatile char*>(p)[i];
    EXPECT_EQ(back, direct);
    return true;
  }

 private:
  int fds_[2] = {-1, -1};
};

// A mapping's neighbour in the address space is often readable, which would
// hide a block that ends too close to the end of the reader's map. So before
// the reader maps a regular file, a hole of the map's size is made right
// below an inaccessible page: the kernel places a new mapping in the highest
// gap that fits (top-down), which is that hole, so reading past the map then
// faults (seen as EFAULT by ReadableCheck). Best effort: when the map lands
// elsewhere, the checks still read the bytes after every block.
class GuardAfterMapping {
 public:
  explicit GuardAfterMapping(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
    const size_t page = PageSize();
    const size_t length = (static_cast<size_t>(st.st_size) + page - 1) / page * page;
    void* p =
        mmap(nullptr, length + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    hole_ = static_cast<char*>(p);
    munmap(hole_, length);
    guard_ = hole_ + length;
  }
  ~GuardAfterMapping() {
    if (guard_ != nullptr) munmap(guard_, PageSize());
  }
  GuardAfterMapping(const GuardAfterMapping&) = delete;
  GuardAfterMapping& operator=(const GuardAfterMapping&) = delete;
  // Whether the reader's map landed in the hole (for the record).
  bool Holds(const char* p) const { return hole_ != nullptr && p >= hole_ && p < guard_; }

 private:
  char* hole_ = nullptr;
  char* guard_ = nullptr;
};

// Every block of `fd`, each checked as it comes (it is valid only until the
// next call).
std::vector<ReadBlock> ReadAll(int fd, int* guarded_blocks = nullptr) {
  GuardAfterMapping guard(fd);
  LineReader reader(fd, "test input");
  ReadableCheck check;
  std::vector<ReadBlock> blocks;
  std::string_view block;
  uint64_t first = 0;
  while (reader.NextBlock(&block, &first)) {
    EXPECT_FALSE(block.empty()) << "empty block " << blocks.size();
    if (guarded_blocks != nullptr && guard.Holds(block.data())) ++*guarded_blocks;
    EXPECT_TRUE(check.Readable(block.data() + block.size(), kLinePadding))
        << "block " << blocks.size() << " of " << block.size() << " bytes";
    blocks.push_back({std::string(block), first});
  }
  // And the end stays the end.
  EXPECT_FALSE(reader.NextBlock(&block, &first));
  return blocks;
}

std::vector<ReadBlock> ReadFile(const std::filesystem::path& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) return {};
  auto blocks = ReadAll(fd);
  close(fd);
  return blocks;
}

// Writes `content` into a pipe from another thread, in pieces of varied size
// (a pipe hands a reader what is there, not what it asked for).
std::vector<ReadBlock> ReadPipe(const std::string& content, uint64_t seed = 1) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  std::thread writer([&content, fd = fds[1], seed] {
    std::mt19937_64 rng(seed);
    size_t at = 0;
    while (at < content.size()) {
      const size_t piece =
          std::min<size_t>(content.size() - at, 1 + rng() % (rng() % 2 ? 300'000 : 5000));
      const ssize_t n = write(fd, content.data() + at, piece);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
    close(fd);
  });
  auto blocks = ReadAll(fds[0]);
  writer.join();
  close(fds[0]);
  return blocks;
}

size_t CountNewlines(std::string_view s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// The blocks against the input: exactly the input, whole lines, right line
// numbers.
void CheckBlocks(const std::string& content, const std::vector<ReadBlock>& blocks,
                 const char* what) {
  SCOPED_TRACE(what);
  std::string joined;
  joined.reserve(content.size());
  uint64_t line = 1;
  size_t longest = 0;
  for (size_t at = 0, nl; at < content.size(); at = nl + 1) {
    nl = content.find('\n', at);
    if (nl == std::string::npos) nl = content.size();
    longest = std::max(longest, nl - at + 1);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    const ReadBlock& b = blocks[i];
    EXPECT_EQ(b.first_line_no, line) << "block " << i;
    if (i + 1 < blocks.size()) {
      EXPECT_EQ(b.text.back(), '\n')
          << "block " << i << " of " << blocks.size() << " ends mid-line";
    }
    // "A few MiB" of whole lines: never much more than a chunk and the
    // longest line.
    EXPECT_LE(b.text.size(), 2 * kBlockSize + longest) << "block " << i;
    line += CountNewlines(b.text);
    joined += b.text;
  }
  EXPECT_EQ(joined.size(), content.size());
  EXPECT_TRUE(joined == content) << "the blocks do not reproduce the input";
  if (!blocks.empty() && blocks.back().text.back() != '\n') ++line;  // the last line, without '\n'
  const uint64_t lines =
      CountNewlines(content) + (!content.empty() && content.back() != '\n' ? 1 : 0);
  EXPECT_EQ(line - 1, lines);
}

// Reads `content` as a file and through a pipe, and checks both.
void CheckBoth(const std::string& content, const char* what, size_t min_blocks = 0) {
  TempDir dir;
  const auto path = dir.path() / "input.jsonl";
  ASSERT_TRUE(WriteFileBytes(path, content));
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  int guarded = 0;
  const auto from_file = ReadAll(fd, &guarded);
  close(fd);
  // How many blocks had an inaccessible page after the reader's map (see
  // GuardAfterMapping), for the record.
  ::testing::Test::RecordProperty(std::string("guarded_blocks: ") + what, guarded);
  CheckBlocks(content, from_file, (std::string(what) + " (file)").c_str());
  const auto from_pipe = ReadPipe(content);
  CheckBlocks(content, from_pipe, (std::string(what) + " (pipe)").c_str());
  EXPECT_GE(from_file.size(), min_blocks) << what;
  EXPECT_GE(from_pipe.size(), min_blocks) << what;
}

// Lines of random length (1..max_len bytes before '\n') up to `bytes`.
std::string RandomLines(size_t bytes, size_t max_len, std::mt19937_64& rng) {
  std::string s;
  s.reserve(bytes + max_len + 1);
  uint64_t n = 0;
  while (s.size() < bytes) {
    const size_t len = 1 + rng() % max_len;
    std::string line = "{\"n\":" + std::to_string(n++) + ",\"p\":\"";
    while (line.size() + 2 < len) line.push_back(static_cast<char>('a' + rng() % 26));
    line += "\"}";
    s += line;
    s.push_back('\n');
  }
  return s;
}

TEST(LineReaderTest, ManyLinesAcrossSeveralBlocks) {
  std::mt19937_64 rng(TestSeed());
  const std::string content = RandomLines(13 * kMiB, 2000, rng);
  CheckBoth(content, "13 MiB of lines", 3);
}

TEST(LineReaderTest, LastLineWithAndWithoutNewline) {
  std::mt19937_64 rng(TestSeed());
  std::string content = RandomLines(9 * kMiB, 500, rng);
  ASSERT_EQ(content.back(), '\n');
  CheckBoth(content, "ends with a newline", 2);
  content += "{\"last\": true, \"no\": \"newline\"}";
  CheckBoth(content, "ends without a newline", 2);
  // Small inputs, one block.
  CheckBoth("{\"a\":1}\n", "one line");
  CheckBoth("{\"a\":1}", "one line without newline");
  CheckBoth("{\"a\":1}\n{\"b\":2}", "two lines, the last without newline");
  CheckBoth("x", "one byte");
}

TEST(LineReaderTest, CrlfAndBlankLinesAreKeptAndCounted) {
  std::mt19937_64 rng(TestSeed());
  std::string content;
  for (int i = 0; content.size() < 10 * kMiB; ++i) {
    switch (i % 7) {
      case 0:
        content += "\n";
        break;  // blank
      case 1:
        content += "\r\n";
        break;  // blank, CRLF
      case 2:
        content += "   \t\n";
        break;  // white
      default:
        content +=
            "{\"i\":" + std::to_string(i) + ",\"s\":\"" + std::string(rng() % 300, 'x') + "\"}";
        content += i % 2 ? "\r\n" : "\n";
    }
  }
  CheckBoth(content, "CRLF and blank lines", 2);
  CheckBoth("\n", "a single blank line");
  CheckBoth("\n\n\n", "three blank lines");
  CheckBoth("\r\n\r\n", "two CRLF blank lines");
  CheckBoth("a\r\nb\r\nc", "CRLF, last line without newline");
  CheckBoth("a\r\nb\r", "last line ending in CR only");

  // The line numbers of a small input, by hand: blank lines count.
  TempDir dir;
  const auto path = dir.path() / "small";
  ASSERT_TRUE(WriteFileBytes(path, "\n\r\n{\"a\":1}\r\n\n{\"b\":2}\n"));
  const auto blocks = ReadFile(path);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].first_line_no, 1u);
  EXPECT_EQ(blocks[0].text, "\n\r\n{\"a\":1}\r\n\n{\"b\":2}\n");
}

TEST(LineReaderTest, EmptyInputHasNoBlocks) {
  TempDir dir;
  const auto path = dir.path() / "empty";
  ASSERT_TRUE(WriteFileBytes(path, ""));
  EXPECT_TRUE(ReadFile(path).empty());
  EXPECT_TRUE(ReadPipe("").empty());
}

TEST(LineReaderTest, SingleHugeLine) {
  std::mt19937_64 rng(TestSeed());
  std::string huge = "{\"data\":\"";
  while (huge.size() < 9 * kMiB) huge.push_back(static_cast<char>('a' + rng() % 26));
  huge += "\"}";
  CheckBoth(huge + "\n", "one 9 MiB line");
  CheckBoth(huge, "one 9 MiB line without newline");
  // Between short lines: it comes whole, in one block.
  const std::string content = "{\"a\":1}\n" + huge + "\n{\"b\":2}\n";
  CheckBoth(content, "a 9 MiB line between short ones");
  TempDir dir;
  const auto path = dir.path() / "huge";
  ASSERT_TRUE(WriteFileBytes(path, content));
  for (const auto& blocks : {ReadFile(path), ReadPipe(content)}) {
    bool whole = false;
    for (const ReadBlock& b : blocks) {
      const size_t at = b.text.find(huge + "\n");
      if (at != std::string::npos) {
        whole = true;
        // Its number: line 2.
        EXPECT_EQ(b.first_line_no + CountNewlines(std::string_view(b.text).substr(0, at)), 2u);
      }
    }
    EXPECT_TRUE(whole) << "the 9 MiB line was split between blocks";
  }
  // Two huge lines in a row, and a huge line right at the start of a chunk.
  CheckBoth(huge + "\n" + huge + "\n", "two 9 MiB lines");
  CheckBoth(std::string(kBlockSize - 1, 'x') + "\n" + huge, "a full chunk, then a 9 MiB line");
}

// A line of `len` bytes including its '\n'.
std::string Line(size_t len, char fill = 'x') {
  std::string s(len - 1, fill);
  s.push_back('\n');
  return s;
}

// Lines of `line_len` bytes filling exactly `total` bytes (the last one
// shorter if need be).
std::string ExactBytes(size_t total, size_t line_len) {
  std::string s;
  while (s.size() + line_len <= total) s += Line(line_len, static_cast<char>('a' + s.size() % 26));
  if (s.size() < total) s += Line(total - s.size(), 'z');
  return s;
}

TEST(LineReaderTest, FileSizesAroundPageBoundaries) {
  const size_t page = PageSize();
  // A file whose end is at, just before or just after a page boundary: the
  // bytes after the last block are the rest of the last page, if any.
  for (size_t pages : {size_t{1}, size_t{2}, size_t{3}}) {
    for (long delta : {-100L, -65L, -64L, -63L, -1L, 0L, 1L, 63L, 64L, 65L}) {
      const size_t total = static_cast<size_t>(static_cast<long>(pages * page) + delta);
      for (bool final_newline : {true, false}) {
        std::string content = ExactBytes(total, 97);
        if (!final_newline) content.back() = '}';
        const std::string what = std::to_string(pages) + " pages " + std::to_string(delta) +
                                 (final_newline ? "" : " no final newline");
        CheckBoth(content, what.c_str());
      }
    }
  }
  // Every line ends exactly at a page boundary.
  std::string aligned;
  while (aligned.size() < 3 * page) aligned += Line(page);
  CheckBoth(aligned, "page-sized lines");
  // The same with a line of one byte in front: each '\n' just past a boundary.
  CheckBoth("\n" + aligned, "page-sized lines after one byte");
}

TEST(LineReaderTest, LinesAroundTheBlockSize) {
  const size_t page = PageSize();
  // A '\n' exactly at the end of the first chunk; then the file ends at a
  // page boundary (the last block touches the end of the map).
  std::string content = ExactBytes(kBlockSize, 1000);
  ASSERT_EQ(content.size(), kBlockSize);
  ASSERT_EQ(content.back(), '\n');
  content += ExactBytes(page, 100);
  CheckBoth(content, "newline at the chunk end, file ends at a page", 2);
  // The first line crossing the chunk end by one byte: its '\n' at kBlockSize.
  std::string crossing = Line(kBlockSize + 1) + ExactBytes(2 * page, 300);
  CheckBoth(crossing, "line ends one byte past the chunk");
  // A '\n' one byte before the chunk end, and one byte after.
  std::string near = ExactBytes(kBlockSize - 1, 1000) + Line(2) + ExactBytes(kBlockSize, 999);
  CheckBoth(near, "newlines around the chunk end", 2);
  // Exactly two chunks, both ending on '\n', the file a whole number of pages.
  std::string two = ExactBytes(kBlockSize, 4096) + ExactBytes(kBlockSize, 4096);
  ASSERT_EQ(two.size() % page, 0u);
  CheckBoth(two, "exactly two chunks", 2);
  // Two chunks and a few bytes short of a page at the end.
  CheckBoth(two + ExactBytes(page - 10, 50), "two chunks and nearly a page", 2);
  CheckBoth(two + ExactBytes(page - 70, 50), "two chunks and a page less 70", 2);
}

// Long lines (up to 10,000 bytes) in a file of five chunks.
TEST(LineReaderTest, LargeFileWithLongLines) {
  std::mt19937_64 rng(TestSeed());
  const std::string content = RandomLines(20 * kMiB, 10'000, rng);
  TempDir dir;
  const auto path = dir.path() / "big";
  ASSERT_TRUE(WriteFileBytes(path, content));
  const auto blocks = ReadFile(path);
  CheckBlocks(content, blocks, "20 MiB file");
  EXPECT_GE(blocks.size(), 5u);
}

TEST(LineReaderTest, PipeWrittenOneByteAtATime) {
  // A slow writer: many short reads, the reader must still hand out whole
  // lines only.
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "{\"i\":" + std::to_string(i) + "}\n";
  content += "tail";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([&content, fd = fds[1]] {
    for (size_t at = 0; at < content.size();) {
      const size_t piece = at % 3 == 0 ? 1 : 7;
      const ssize_t n = write(fd, content.data() + at, std::min(piece, content.size() - at));
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
    close(fd);
  });
  const auto blocks = ReadAll(fds[0]);
  writer.join();
  close(fds[0]);
  CheckBlocks(content, blocks, "byte-by-byte pipe");
}

}  // namespace
}  // namespace opossum::cli
