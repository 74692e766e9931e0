#include "batch_input.h"

namespace opossum::cli {

std::string WithoutEventIndex(const Status& s) {
  const std::string& m = s.message();
  const size_t colon = m.find(": ");
  return m.rfind("event ", 0) == 0 && colon != std::string::npos ? m.substr(colon + 2) : m;
}

void BatchInput::Add(const Event& e, uint64_t line) {
  Status s = batch_.Add(e);
  if (!s.ok())
    throw CliError::Invalid(source_ + " line " + std::to_string(line) + ": " + WithoutEventIndex(s),
                            line);
}

void BatchInput::Add(const Event& e, const std::string& file) {
  Status s = batch_.Add(e);
  if (!s.ok()) throw CliError::Invalid(file + ": " + WithoutEventIndex(s));
}

uint64_t BatchInput::Append(Store* store, const std::optional<AppendCondition>& condition) {
  uint64_t last = 0;
  Status s = store->Append(std::move(batch_), condition, &last);
  batch_ = Batch();
  if (!s.ok()) throw CliError::FromStatus(s);
  return last;
}

}  // namespace opossum::cli
