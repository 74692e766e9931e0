// Status::ToString and the names of the codes (the type is in the public
// opossum/status.h: every layer reports through it).
#include "opossum/status.h"

namespace opossum {

std::string_view Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kConditionFailed:
      return "condition failed";
    case Code::kBusy:
      return "busy";
    case Code::kIOError:
      return "I/O error";
    case Code::kCorruption:
      return "corruption";
    case Code::kNotSupported:
      return "not supported";
    case Code::kNotFound:
      return "not found";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(CodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace opossum
