// Buffered writing to a file descriptor (standard output, an export file):
// large writes, retried on EINTR and short writes; errors thrown as CliError.
#ifndef OPOSSUM_CLI_OUTPUT_H_
#define OPOSSUM_CLI_OUTPUT_H_

#include <string>

namespace opossum::cli {

class Output {
 public:
  // Writes to `fd` (not owned); `name` appears in error messages.
  Output(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
    buf_.reserve(kFlushAt + 4096);
  }
  ~Output() noexcept(false);  // flushes (an error is thrown unless unwinding)

  // The buffer to append to; call MaybeFlush() after each item.
  std::string* buf() { return &buf_; }
  void MaybeFlush() {
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Flush();

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  int fd_;
  std::string name_;
  std::string buf_;
};

// Writes all of `data` to `fd`; throws CliError naming `name`.
void WriteAll(int fd, const char* data, size_t size, const std::string& name);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_OUTPUT_H_
