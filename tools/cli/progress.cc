#include "progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace opossum::cli {

namespace {
int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Grouped(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  s.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}
}  // namespace

Progress::Progress(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1), start_ns_(Now()) {}

Progress::~Progress() {
  if (shown_) std::fputc('\n', stderr);
}

void Progress::Show(uint64_t done, bool final) {
  const int64_t now = Now();
  if (!final && now - last_ns_ < 200'000'000) return;
  last_ns_ = now;
  const double secs = static_cast<double>(now - start_ns_) / 1e9;
  const uint64_t rate = secs > 0 ? static_cast<uint64_t>(static_cast<double>(done) / secs) : 0;
  std::fprintf(stderr, "\r%s: %s events (%s/s)   ", label_.c_str(), Grouped(done).c_str(),
               Grouped(rate).c_str());
  std::fflush(stderr);
  shown_ = true;
}

}  // namespace opossum::cli
