// Reads JSON Lines from a file descriptor as blocks of whole lines, without
// holding more than a block (and the longest line) in memory. A regular file
// is mapped and handed out in place; a pipe is read in large chunks. Every
// block is followed by at least kLinePadding readable bytes, so a parser may
// read past its end (simdjson's padding) without a copy.
#ifndef OPOSSUM_CLI_LINE_READER_H_
#define OPOSSUM_CLI_LINE_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace opossum::cli {

constexpr size_t kLinePadding = 64;
// The longest line accepted (a 256 MiB event as escaped JSON fits).
constexpr size_t kMaxLineBytes = size_t{1} << 30;

class LineReader {
 public:
  // Reads `fd` (not owned); `name` appears in error messages.
  LineReader(int fd, std::string name);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next block of whole lines (a few MiB; it ends after a '\n' or at the
  // end of input); *first_line_no is the number of its first line. Returns
  // false at the end of input. The block stays valid until the next call.
  // Throws CliError on a read error or an over-long line.
  bool NextBlock(std::string_view* block, uint64_t* first_line_no);

 private:
  bool Fill();  // reads more into buf_; false at EOF
  bool NextMappedBlock(std::string_view* block, uint64_t* first_line_no);
  void CountLines(std::string_view block, uint64_t* first_line_no);

  int fd_;
  std::string name_;
  // A mapped regular file.
  const char* map_ = nullptr;
  size_t map_size_ = 0;    // the file's size
  size_t map_length_ = 0;  // mapped bytes (whole pages)
  size_t map_at_ = 0;      // first byte not handed out yet
  // Otherwise, read into buf_.
  std::vector<char> buf_;
  size_t begin_ = 0;  // first unread byte
  size_t end_ = 0;    // end of the bytes read
  uint64_t line_no_ = 0;
  bool eof_ = false;
};

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_LINE_READER_H_
