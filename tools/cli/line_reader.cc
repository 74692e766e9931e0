#include "line_reader.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli_error.h"

namespace opossum::cli {

namespace {
constexpr size_t kChunk = size_t{4} << 20;
}  // namespace

LineReader::LineReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<size_t>(st.st_size);
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t length = (size + page - 1) / page * page;
    void* p = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      madvise(p, length, MADV_SEQUENTIAL);
      map_ = static_cast<const char*>(p);
      map_size_ = size;
      map_length_ = length;
      // A file read from its current offset, like read() would.
      const off_t at = lseek(fd, 0, SEEK_CUR);
      map_at_ = at > 0 ? std::min(size, static_cast<size_t>(at)) : 0;
      return;
    }
  }
  buf_.resize(kChunk + kLinePadding);
}

LineReader::~LineReader() {
  if (map_ != nullptr) munmap(const_cast<char*>(map_), map_length_);
}

void LineReader::CountLines(std::string_view block, uint64_t* first_line_no) {
  *first_line_no = line_no_ + 1;
  for (const char* p = block.data();
       (p = static_cast<const char*>(std::memchr(p, '\n', block.data() + block.size() - p))) !=
       nullptr;
       ++p) {
    ++line_no_;
  }
  if (!block.empty() && block.back() != '\n') ++line_no_;  // the last line, without '\n'
}

bool LineReader::NextMappedBlock(std::string_view* block, uint64_t* first_line_no) {
  if (map_at_ >= map_size_) return false;
  size_t stop = map_size_;
  if (map_size_ - map_at_ > kChunk) {
    const void* nl = memrchr(map_ + map_at_, '\n', kChunk);
    if (nl == nullptr)
      nl = std::memchr(map_ + map_at_ + kChunk, '\n', map_size_ - map_at_ - kChunk);
    if (nl != nullptr) stop = static_cast<size_t>(static_cast<const char*>(nl) - map_) + 1;
  }
  if (stop - map_at_ > kMaxLineBytes &&
      std::memchr(map_ + map_at_, '\n', kMaxLineBytes) == nullptr) {
    throw CliError::Invalid(name_ + ": line " + std::to_string(line_no_ + 1) + " is longer than " +
                                std::to_string(kMaxLineBytes) + " bytes",
                            line_no_ + 1);
  }
  std::string_view b(map_ + map_at_, stop - map_at_);
  map_at_ = stop;
  if (map_length_ - stop < kLinePadding) {
    // Too close to the end of the map for a parser's padding: copy.
    buf_.assign(b.begin(), b.end());
    buf_.resize(b.size() + kLinePadding);
    b = std::string_view(buf_.data(), b.size());
  }
  CountLines(b, first_line_no);
  *block = b;
  return true;
}

bool LineReader::Fill() {
  if (eof_) return false;
  // Keep the unread part, at the front.
  if (begin_ != 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - kLinePadding - end_ < kChunk / 2) {
    if (end_ >= kMaxLineBytes) {
      throw CliError::Invalid(name_ + ": line " + std::to_string(line_no_ + 1) +
                                  " is longer than " + std::to_string(kMaxLineBytes) + " bytes",
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

bool LineReader::NextBlock(std::string_view* block, uint64_t* first_line_no) {
  if (map_ != nullptr) return NextMappedBlock(block, first_line_no);
  // Everything up to the last '\n' read so far (once there is enough of it),
  // or all that is left at EOF.
  while (true) {
    if (end_ > begin_ && (end_ - begin_ >= kChunk / 2 || eof_)) {
      const char* base = buf_.data();
      const void* last_nl = memrchr(base + begin_, '\n', end_ - begin_);
      const size_t stop = last_nl != nullptr
                              ? static_cast<size_t>(static_cast<const char*>(last_nl) - base) + 1
                              : (eof_ ? end_ : 0);
      if (stop != 0) {
        *block = std::string_view(base + begin_, stop - begin_);
        begin_ = stop;
        CountLines(*block, first_line_no);
        return true;
      }
    } else if (eof_ && end_ == begin_) {
      return false;
    }
    Fill();
  }
}

}  // namespace opossum::cli
