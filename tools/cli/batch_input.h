// Collecting input events into one atomic batch (append, import): each event
// is checked and encoded as it arrives (opossum::Batch), so a large input is
// held once, encoded; an invalid event is reported with the input line or
// file it came from.
#ifndef OPOSSUM_CLI_BATCH_INPUT_H_
#define OPOSSUM_CLI_BATCH_INPUT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "cli_error.h"
#include "opossum/event.h"
#include "opossum/query.h"
#include "opossum/store.h"

namespace opossum::cli {

// The store's complaint about an event, without its "event <index>: "
// prefix (the index in a batch means nothing to the user of a file).
std::string WithoutEventIndex(const Status& s);

class BatchInput {
 public:
  // `source` names the input in messages ("standard input", a file).
  explicit BatchInput(std::string source) : source_(std::move(source)) {}

  // Adds an event read from line `line` of the source, or from `file`.
  // Throws CliError::Invalid naming the line or file when the store's rules
  // refuse it.
  void Add(const Event& e, uint64_t line);
  void Add(const Event& e, const std::string& file);
  // The batch, for adding parts encoded elsewhere (BlockParser::ParseInto).
  Batch* batch() { return &batch_; }
  size_t size() const { return batch_.size(); }
  bool empty() const { return batch_.size() == 0; }

  // Appends the events as one batch and empties it; returns the last
  // position. Throws CliError.
  uint64_t Append(Store* store, const std::optional<AppendCondition>& condition);

 private:
  std::string source_;
  Batch batch_;
};

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_BATCH_INPUT_H_
