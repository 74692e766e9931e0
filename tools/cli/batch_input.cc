#include "batch_input.h"

#include <charconv>

namespace opossum::cli {

uint64_t BatchInput::Append(Store* store, const std::optional<AppendCondition>& condition,
                            const std::string& source) {
  uint64_t last = 0;
  Status s = store->Append(std::span<const Event>(events_.data(), events_.size()), condition, &last);
  if (s.ok()) return last;
  CliError e = CliError::FromStatus(s);
  // The store names an invalid event "event <index>: ..." (0-based in the batch).
  const std::string& m = s.message();
  size_t index = 0;
  if (s.IsInvalidArgument() && m.rfind("event ", 0) == 0) {
    const char* b = m.data() + 6;
    const char* end = m.data() + m.size();
    auto [p, ec] = std::from_chars(b, end, index);
    if (ec == std::errc() && p + 1 < end && *p == ':' && index < events_.size()) {
      const std::string rest(p + 2, end);
      if (files_.empty()) {
        e = CliError::Invalid(source + " line " + std::to_string(lines_[index]) + ": " + rest,
                              lines_[index]);
      } else {
        e = CliError::Invalid(files_[lines_[index]] + ": " + rest);
      }
    }
  }
  throw e;
}

void BatchInput::Clear() {
  events_.clear();
  lines_.clear();
  files_.clear();
}

}  // namespace opossum::cli
