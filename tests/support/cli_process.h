// Runs a command as a child process the way a shell would: standard input
// from given bytes, a file or a pipe, standard output and standard error
// captured whole, the exit code returned. Output goes through unlinked
// temporary files, and piped input is written by a thread of its own, so a
// child that writes megabytes before it has read all of its input can never
// deadlock against the test.
#ifndef OPOSSUM_TESTS_CLI_PROCESS_H_
#define OPOSSUM_TESTS_CLI_PROCESS_H_

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace opossum::testing {

struct ProcessResult {
  int exit_code = -1;      // the child's exit status; 128 + N when signal N ended it
  std::string out;         // everything it wrote to standard output
  std::string err;         // everything it wrote to standard error
  long max_rss_kb = 0;     // the child's peak resident memory (getrusage), KiB
  bool timed_out = false;  // killed (SIGKILL) at ProcessOptions::timeout
};

struct ProcessOptions {
  std::string input;                 // standard input, unless input_file is set
  std::filesystem::path input_file;  // standard input from this file
  bool input_via_pipe = false;       // `input` through a pipe (as `cat x | cmd`)
  std::filesystem::path cwd;         // working directory (empty: the test's)
  // Environment changes: a value sets the variable, nullopt removes it.
  std::map<std::string, std::optional<std::string>> env;
  // Killed with SIGKILL (and ProcessResult::timed_out set) when it runs
  // longer than this; zero: no limit.
  std::chrono::milliseconds timeout{0};
  // Standard error is a terminal (a pseudo-terminal whose output is
  // collected as ProcessResult::err, with the terminal's "\r\n" line ends
  // turned back into "\n"), for what a tool shows only to a person.
  bool stderr_terminal = false;
};

namespace internal {

[[noreturn]] inline void Fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// An unlinked temporary file, open for reading and writing.
inline int AnonymousFile() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "opossum-cli-io-XXXXXX").string();
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) Fail("mkostemp");
  ::unlink(tmpl.c_str());
  return fd;
}

inline void WriteAllFd(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("write");
    done += static_cast<size_t>(n);
  }
}

// Writes `bytes` into a pipe and closes it. A child that exits before it has
// read everything makes the write fail with EPIPE; the SIGPIPE that goes with
// it is blocked in this thread and taken back, so the test process lives on.
inline void FeedPipe(int fd, std::string bytes) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const timespec zero = {0, 0};
      sigtimedwait(&pipe_only, nullptr, &zero);
      break;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

inline std::string ReadAllFd(int fd) {
  std::string bytes;
  if (::lseek(fd, 0, SEEK_SET) < 0) Fail("lseek");
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("read");
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  return bytes;
}

}  // namespace internal

// A started child. Wait() collects its result; the destructor waits too, so
// no child outlives the test that started it.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const ProcessOptions& options = {}) {
    int pipe_write = -1;
    if (!options.input_file.empty()) {
      in_ = ::open(options.input_file.c_str(), O_RDONLY | O_CLOEXEC);
      if (in_ < 0) internal::Fail("open " + options.input_file.string());
    } else if (options.input_via_pipe) {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) internal::Fail("pipe2");
      in_ = fds[0];
      pipe_write = fds[1];
    } else {
      in_ = internal::AnonymousFile();
      internal::WriteAllFd(in_, options.input);
      if (::lseek(in_, 0, SEEK_SET) < 0) internal::Fail("lseek");
    }
    out_ = internal::AnonymousFile();
    int terminal = -1;  // the pseudo-terminal's child side
    if (options.stderr_terminal) {
      err_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (err_ < 0 || ::grantpt(err_) != 0 || ::unlockpt(err_) != 0) internal::Fail("posix_openpt");
      terminal = ::open(::ptsname(err_), O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (terminal < 0) internal::Fail("open the pseudo-terminal");
      err_is_terminal_ = true;
    } else {
      err_ = internal::AnonymousFile();
    }

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      const std::string name = entry.substr(0, entry.find('='));
      if (options.env.count(name) == 0) env_strings.push_back(entry);
    }
    for (const auto& [name, value] : options.env) {
      if (value) env_strings.push_back(name + "=" + *value);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, terminal >= 0 ? terminal : err_, STDERR_FILENO);
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    const int rc = ::posix_spawn(&pid_, argp[0], &actions, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (terminal >= 0) {
      ::close(terminal);  // the child has its own copy: its exit ends the terminal's output
      if (rc == 0)
        terminal_reader_ = std::thread([this] { terminal_output_ = ReadTerminal(err_); });
    }
    if (pipe_write >= 0) {
      ::close(in_);  // the child has its own copy
      in_ = -1;
      if (rc == 0) {
        feeder_ = std::thread(internal::FeedPipe, pipe_write, options.input);
      } else {
        ::close(pipe_write);
      }
    }
    if (rc != 0) {
      errno = rc;
      internal::Fail("posix_spawn " + argv[0]);
    }
    timeout_ = options.timeout;
    started_ = std::chrono::steady_clock::now();
  }
  ~Process() {
    if (pid_ > 0) Wait();
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  ProcessResult Wait() {
    ProcessResult r;
    int status = 0;
    struct rusage usage {};
    if (timeout_.count() > 0) {
      // Poll, and kill the child at the deadline.
      for (;;) {
        const pid_t got = ::wait4(pid_, &status, WNOHANG, &usage);
        if (got < 0 && errno != EINTR) internal::Fail("wait4");
        if (got == pid_) break;
        if (!r.timed_out && std::chrono::steady_clock::now() - started_ > timeout_) {
          ::kill(pid_, SIGKILL);
          r.timed_out = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    } else {
      while (::wait4(pid_, &status, 0, &usage) < 0) {
        if (errno != EINTR) internal::Fail("wait4");
      }
    }
    r.max_rss_kb = usage.ru_maxrss;
    pid_ = -1;
    if (feeder_.joinable()) feeder_.join();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = internal::ReadAllFd(out_);
    if (err_is_terminal_) {
      terminal_reader_.join();
      r.err = terminal_output_;
    } else {
      r.err = internal::ReadAllFd(err_);
    }
    return r;
  }

 private:
  pid_t pid_ = -1;
  std::chrono::milliseconds timeout_{0};
  std::chrono::steady_clock::time_point started_;
  // Reads a pseudo-terminal until its child side is closed (EIO), with
  // "\r\n" back to "\n". Runs on a thread of its own, so that a child that
  // writes more than the terminal holds never blocks.
  static std::string ReadTerminal(int fd) {
    std::string bytes;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EIO once the child's side is closed
      bytes.append(buf, static_cast<size_t>(n));
    }
    std::string text;
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') continue;
      text.push_back(bytes[i]);
    }
    return text;
  }

  std::thread feeder_;
  std::thread terminal_reader_;
  std::string terminal_output_;
  bool err_is_terminal_ = false;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
};

// Runs argv to completion.
inline ProcessResult RunProcess(const std::vector<std::string>& argv,
                                const ProcessOptions& options = {}) {
  return Process(argv, options).Wait();
}

}  // namespace opossum::testing

#endif  // OPOSSUM_TESTS_CLI_PROCESS_H_
