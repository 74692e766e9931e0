// `opossum bench ARGS`: the workload driver is its own program,
// opossum-bench (bench/driver/main.cc), so that this tool links neither
// SQLite nor LMDB. The command runs the one installed in this program's
// folder (as both are built into build/bin and installed into bin/) in
// place of this process: its output, progress and exit code are the
// command's.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "cli_error.h"
#include "commands.h"

namespace opossum::cli {

void RunBench(const std::vector<std::string>& args) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw CliError::Io("cannot find the folder of this program: " + ec.message());
  const std::filesystem::path program = self.parent_path() / "opossum-bench";
  if (access(program.c_str(), X_OK) != 0) {
    throw CliError::Invalid(
        "this build has no benchmarks: `opossum bench` runs the program opossum-bench, which is "
        "not in " +
        self.parent_path().string() + " (build it with -DOPOSSUM_BUILD_BENCH=ON)");
  }
  std::vector<std::string> argv_strings;
  argv_strings.reserve(args.size() + 1);
  argv_strings.emplace_back("opossum-bench");
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Nothing written yet may be lost when this process is replaced.
  std::cout.flush();
  std::fflush(nullptr);
  execv(program.c_str(), argv.data());
  const int error = errno;
  throw CliError::Io("cannot run " + program.string() + ": " +
                     std::generic_category().message(error));
}

}  // namespace opossum::cli
