#include "line_reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli_error.h"

namespace opossum::cli {

namespace {
constexpr size_t kChunk = size_t{4} << 20;

bool Blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}
}  // namespace

LineReader::LineReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  buf_.resize(kChunk + kLinePadding);
}

bool LineReader::Fill() {
  if (eof_) return false;
  // Keep the unread part, at the front.
  if (begin_ != 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    scan_ -= begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - kLinePadding - end_ < kChunk / 2) {
    if (end_ >= kMaxLineBytes) {
      throw CliError::Invalid(name_ + ": line " + std::to_string(line_no_ + 1) + " is longer than " +
                                  std::to_string(kMaxLineBytes) + " bytes",
                              line_no_ + 1);
    }
    buf_.resize(buf_.size() * 2);
  }
  while (true) {
    const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - kLinePadding - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CliError::Io("reading " + name_ + ": " + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    return true;
  }
}

bool LineReader::Next(std::string_view* line, uint64_t* line_no) {
  while (true) {
    const char* base = buf_.data();
    const void* nl = std::memchr(base + scan_, '\n', end_ - scan_);
    size_t stop;
    if (nl != nullptr) {
      stop = static_cast<size_t>(static_cast<const char*>(nl) - base);
    } else {
      scan_ = end_;
      if (Fill()) continue;
      if (begin_ == end_) return false;
      stop = end_;  // the last line has no '\n'
    }
    std::string_view l(buf_.data() + begin_, stop - begin_);
    begin_ = scan_ = stop < end_ ? stop + 1 : stop;
    ++line_no_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (Blank(l)) continue;
    *line = l;
    *line_no = line_no_;
    return true;
  }
}

bool LineReader::NextBlock(std::string_view* block, uint64_t* first_line_no) {
  // Everything up to the last '\n' read so far, or all that is left at EOF.
  while (true) {
    if (end_ > begin_) {
      const char* base = buf_.data();
      const char* last_nl = static_cast<const char*>(memrchr(base + begin_, '\n', end_ - begin_));
      if (last_nl != nullptr && (end_ - begin_ >= kChunk / 2 || eof_)) {
        const size_t stop = static_cast<size_t>(last_nl - base) + 1;
        *block = std::string_view(base + begin_, stop - begin_);
        *first_line_no = line_no_ + 1;
        for (const char* p = block->data(); (p = static_cast<const char*>(
                                                 std::memchr(p, '\n', block->data() + block->size() - p))) != nullptr;
             ++p) {
          ++line_no_;
        }
        begin_ = scan_ = stop;
        return true;
      }
      if (eof_) {
        *block = std::string_view(base + begin_, end_ - begin_);
        *first_line_no = line_no_ + 1;
        ++line_no_;
        begin_ = scan_ = end_;
        return true;
      }
    } else if (eof_) {
      return false;
    }
    scan_ = end_;
    if (!Fill() && begin_ == end_) return false;
  }
}

}  // namespace opossum::cli
