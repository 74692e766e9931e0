// Status: the outcome of every fallible operation of the store.
//
// Contract: expected outcomes are values, not exceptions. No public function of
// Opossum throws; each returns a Status (or a value next to one). A failed
// append condition is an ordinary outcome (kConditionFailed) and carries the
// position of a conflicting event. Every non-OK status carries a message that
// names what failed and why (the field and limit broken, the file and offset
// of corrupt bytes, the operating system's message for an I/O error).
//
// A Status must not be dropped unseen ([[nodiscard]]): a caller that has a
// reason to go on whatever happened says so with IgnoreError() and a comment.
//
// Thread safety: a Status is a plain value; distinct objects may be used from
// distinct threads freely.
#ifndef OPOSSUM_STATUS_H_
#define OPOSSUM_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace opossum {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument = 1,  // bad input: names the field and the limit broken
    kConditionFailed = 2,  // the append condition matched an event
    kBusy = 3,             // the store's write lock was not obtained in time
    kIOError = 4,          // the operating system failed; keeps its message
    kCorruption = 5,       // bytes on disk are damaged; names file and offset
    kNotSupported = 6,     // the request cannot be served by this store
    kNotFound = 7,         // the store (or a file of it) does not exist
  };

  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status ConditionFailed(uint64_t conflicting_position) {
    Status s(Code::kConditionFailed, "append condition failed: event at position " +
                                         std::to_string(conflicting_position) +
                                         " matches the condition's query");
    s.conflicting_position_ = conflicting_position;
    return s;
  }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status NotSupported(std::string msg) {
    return Status(Code::kNotSupported, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsConditionFailed() const { return code_ == Code::kConditionFailed; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }

  // For kConditionFailed: the position of an event that matched the
  // condition's query after its `after` position. 0 otherwise.
  uint64_t conflicting_position() const { return conflicting_position_; }

  // Drops the outcome on purpose (the call site says why in a comment).
  void IgnoreError() const {}

  // "OK" or "<kind>: <message>".
  std::string ToString() const;
  static std::string_view CodeName(Code code);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  uint64_t conflicting_position_ = 0;
  std::string message_;
};

}  // namespace opossum

#endif  // OPOSSUM_STATUS_H_
