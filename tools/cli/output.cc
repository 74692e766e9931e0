#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "cli_error.h"

namespace opossum::cli {

void WriteAll(int fd, const char* data, size_t size, const std::string& name) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CliError::Io("writing " + name + ": " + std::strerror(errno));
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void Output::Flush() {
  std::string pending;
  pending.swap(buf_);  // a failed write is not retried at destruction
  WriteAll(fd_, pending.data(), pending.size(), name_);
  pending.clear();
  buf_.swap(pending);
}

Output::~Output() noexcept(false) {
  if (std::uncaught_exceptions() == 0) Flush();
}

}  // namespace opossum::cli
