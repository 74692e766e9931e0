// Errors of the command line: what went wrong, which exit code it gives, and
// the one line of JSON that goes to standard error (docs/cli.md, "Exit codes
// and errors", lists the kinds and their fields).
#ifndef OPOSSUM_CLI_CLI_ERROR_H_
#define OPOSSUM_CLI_CLI_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "opossum/status.h"

namespace opossum::cli {

enum class ErrorKind { kIo, kNotFound, kInvalid, kConditionFailed, kCorruption, kBusy };

struct CliError {
  ErrorKind kind = ErrorKind::kIo;
  std::string message;
  std::optional<uint64_t> line;                  // 1-based input line, for kInvalid
  std::optional<uint64_t> conflicting_position;  // for kConditionFailed
  // 1-based column (in characters) of malformed JSON on `line`.
  std::optional<uint64_t> column;
  // For a missing or unknown command: each command's name and description.
  std::vector<std::pair<std::string, std::string>> commands;

  static CliError Invalid(std::string msg, std::optional<uint64_t> line = std::nullopt) {
    return {ErrorKind::kInvalid, std::move(msg), line, std::nullopt, std::nullopt, {}};
  }
  static CliError Io(std::string msg) { return {ErrorKind::kIo, std::move(msg), {}, {}, {}, {}}; }
  // The store's status, mapped to the kinds: invalid argument is invalid
  // (exit 2), not found is not_found (exit 1), not supported and I/O are io
  // (exit 1).
  static CliError FromStatus(const Status& s);
};

// The exit code of an error kind: io 1, not_found 1, invalid 2,
// condition_failed 3, corruption 4, busy 5.
int ExitCode(ErrorKind kind);

// {"error": KIND, "message": TEXT[, "line": N[, "column": N]][, "conflicting_position": N]
//  [, "commands": {NAME: DESCRIPTION, ...}]}
std::string ErrorJson(const CliError& e);

// Writes ErrorJson(e) and a newline to standard error; returns the exit code.
int Report(const CliError& e);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_CLI_ERROR_H_
