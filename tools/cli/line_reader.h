// Reads JSON Lines from a file descriptor in large chunks, without holding
// more than one chunk (and the longest line) in memory. Every line handed out
// is followed by at least kLinePadding readable bytes, so a parser may read
// past its end (simdjson's padding) without a copy.
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

  // The next line that is not blank, without its '\n' (nor a '\r' before
  // it); *line_no is its 1-based number. Returns false at the end of input.
  // Throws CliError on a read error or an over-long line.
  bool Next(std::string_view* line, uint64_t* line_no);

  // The next block of whole lines (several MiB; ends after a '\n' or at the
  // end of input), followed by kLinePadding readable bytes; *first_line_no
  // is the number of its first line. Returns false at the end of input. The
  // block stays valid until the next call. Do not mix with Next().
  bool NextBlock(std::string_view* block, uint64_t* first_line_no);

 private:
  bool Fill();  // reads more; false at EOF
  int fd_;
  std::string name_;
  std::vector<char> buf_;
  size_t begin_ = 0;  // first unread byte
  size_t end_ = 0;    // end of the bytes read
  size_t scan_ = 0;   // where to look for the next '\n'
  uint64_t line_no_ = 0;
  bool eof_ = false;
};

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_LINE_READER_H_
