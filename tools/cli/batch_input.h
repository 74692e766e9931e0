// Collecting input events into atomic batches (append, import) and turning
// the store's complaint about "event i" into one about the input line or file
// it came from.
#ifndef OPOSSUM_CLI_BATCH_INPUT_H_
#define OPOSSUM_CLI_BATCH_INPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli_error.h"
#include "opossum/event.h"
#include "opossum/query.h"
#include "opossum/store.h"

namespace opossum::cli {

class BatchInput {
 public:
  // Where each event came from: a line number of `source`, or a file name.
  void Add(Event&& e, uint64_t line) {
    events_.push_back(std::move(e));
    lines_.push_back(line);
  }
  void Add(Event&& e, std::string file) {
    events_.push_back(std::move(e));
    lines_.push_back(files_.size());
    files_.push_back(std::move(file));
  }
  void Reserve(size_t n) {
    events_.reserve(n);
    lines_.reserve(n);
  }
  size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }

  // Appends the events as one batch; returns the last position. Throws
  // CliError, naming the input line or file of an invalid event. `source`
  // names the input ("standard input", a file).
  uint64_t Append(Store* store, const std::optional<AppendCondition>& condition,
                  const std::string& source);
  void Clear();

 private:
  std::vector<Event> events_;
  std::vector<uint64_t> lines_;  // line numbers, or indexes into files_
  std::vector<std::string> files_;
};

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_BATCH_INPUT_H_
