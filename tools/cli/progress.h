// Progress of a long command on standard error, shown only when standard
// error is a terminal (quiet in scripts and pipes), at most five times a
// second: "export: 1,200,000 events (850,000/s)".
#ifndef OPOSSUM_CLI_PROGRESS_H_
#define OPOSSUM_CLI_PROGRESS_H_

#include <cstdint>
#include <string>

namespace opossum::cli {

class Progress {
 public:
  // `label` starts each line ("export", "import", "verify").
  explicit Progress(std::string label);
  ~Progress();  // ends the line if anything was shown
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Called often and cheaply: the count of items done so far.
  void Update(uint64_t done) {
    if (enabled_ && (++calls_ & 1023) == 0) Show(done, false);
  }
  // For a caller that reports now and then: shows `done` (at most five
  // times a second).
  void Set(uint64_t done) {
    if (enabled_) Show(done, false);
  }
  // Shows the final count (when enabled).
  void Finish(uint64_t done) {
    if (enabled_) Show(done, true);
  }
  bool enabled() const { return enabled_; }

 private:
  void Show(uint64_t done, bool final);
  std::string label_;
  bool enabled_;
  bool shown_ = false;
  uint64_t calls_ = 0;
  int64_t start_ns_;
  int64_t last_ns_ = 0;
};

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_PROGRESS_H_
