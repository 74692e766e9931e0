#include "cli_error.h"

#include <cstdio>

#include "json_writer.h"

namespace opossum::cli {

CliError CliError::FromStatus(const Status& s) {
  CliError e;
  e.message = s.message();
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      e.kind = ErrorKind::kInvalid;
      break;
    case Status::Code::kConditionFailed:
      e.kind = ErrorKind::kConditionFailed;
      e.conflicting_position = s.conflicting_position();
      break;
    case Status::Code::kBusy:
      e.kind = ErrorKind::kBusy;
      break;
    case Status::Code::kCorruption:
      e.kind = ErrorKind::kCorruption;
      break;
    case Status::Code::kNotFound:
      e.kind = ErrorKind::kNotFound;
      break;
    default:
      e.kind = ErrorKind::kIo;
      break;
  }
  return e;
}

int ExitCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kIo:
      return 1;
    case ErrorKind::kNotFound:
      return 1;
    case ErrorKind::kInvalid:
      return 2;
    case ErrorKind::kConditionFailed:
      return 3;
    case ErrorKind::kCorruption:
      return 4;
    case ErrorKind::kBusy:
      return 5;
  }
  return 1;
}

static const char* KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kConditionFailed:
      return "condition_failed";
    case ErrorKind::kCorruption:
      return "corruption";
    case ErrorKind::kBusy:
      return "busy";
  }
  return "io";
}

std::string ErrorJson(const CliError& e) {
  std::string out;
  out += "{\"error\": ";
  AppendJsonString(&out, KindName(e.kind));
  out += ", \"message\": ";
  AppendJsonString(&out, e.message);
  if (e.line) out += ", \"line\": " + std::to_string(*e.line);
  if (e.line && e.column) out += ", \"column\": " + std::to_string(*e.column);
  if (e.conflicting_position) {
    out += ", \"conflicting_position\": " + std::to_string(*e.conflicting_position);
  }
  if (!e.commands.empty()) {
    out += ", \"commands\": {";
    for (size_t i = 0; i < e.commands.size(); ++i) {
      if (i != 0) out += ", ";
      AppendJsonString(&out, e.commands[i].first);
      out += ": ";
      AppendJsonString(&out, e.commands[i].second);
    }
    out += "}";
  }
  out += "}";
  return out;
}

int Report(const CliError& e) {
  std::string line = ErrorJson(e);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  return ExitCode(e.kind);
}

}  // namespace opossum::cli
