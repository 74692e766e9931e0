// `opossum-bench`: the workload driver (driver.h) as its own program, so that
// the `opossum` command line and the library need neither SQLite nor LMDB.
// `opossum bench ARGS` runs `opossum-bench ARGS` when it is installed next to
// it. Prints the report on standard output and progress on standard error
// when that is a terminal; failures are reported as the command line's are
// (one JSON line on standard error, the same exit codes).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "backend.h"
#include "cli_error.h"
#include "driver.h"
#include "option_values.h"

namespace {

using opossum::cli::CliError;

int Main(int argc, char** argv) {
  CLI::App app{
      "opossum-bench (also `opossum bench`): runs the benchmark workloads against this store, "
      "SQLite, LMDB and the bare disk.\nPrints the machine, a table of rates with ratios and one "
      "of latencies, and writes CSV. Exit codes: 0 success, 1 failure, 2 invalid usage; on "
      "failure one JSON line on standard error.",
      "opossum-bench"};
  opossum::bench::DriverOptions options;
  bool tiny = false;
  std::string seconds = CLI::detail::to_string(options.seconds);
  std::string threads = std::to_string(options.threads);
  std::string read_store = std::to_string(options.read_store);
  std::vector<std::string> scale;
  app.add_option("--dir", options.dir, "folder for the stores (on the disk to measure)")
      ->capture_default_str();
  app.add_option("--workloads", options.workloads, "comma-separated (default: all)")
      ->delimiter(',');
  app.add_option("--backends", options.backends,
                 "comma-separated of opossum, sqlite, lmdb, limit (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"opossum", "sqlite", "lmdb", "limit"}));
  app.add_option("--seconds", seconds, "timed seconds per workload and backend")
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("--threads", threads, "threads of the *_64 workloads (1 to 1024)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option(
         "--read-store", read_store,
         "events in the store of the read and decide workloads (a multiple of 10, at least 20)")
      ->type_name("N")
      ->capture_default_str();
  auto* scale_opt =
      app.add_option("--scale", scale,
                     "comma-separated store sizes for scale_* (multiples of 10, at least 20)")
          ->type_name("N,N,..")
          ->delimiter(',');
  app.add_option("--csv", options.csv, "CSV output (default: DIR/results.csv)");
  app.add_flag("--tiny", tiny,
               "a few seconds on stores of a few thousand events (keeps the driver working)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    return Report(CliError::Invalid(e.what()));
  }

  try {
    using opossum::cli::ParseWholeNumber;
    // A store of the workloads holds ten events per tag.
    auto store_size = [](const char* option, const std::string& text) {
      const uint64_t n = ParseWholeNumber(option, text, 20, UINT64_MAX);
      if (n % 10 != 0) {
        throw CliError::Invalid(std::string(option) +
                                ": expected a multiple of 10, at least 20, got \"" + text + "\"");
      }
      return n;
    };
    options.seconds = opossum::cli::ParseSeconds("--seconds", seconds);
    options.threads = static_cast<int>(ParseWholeNumber("--threads", threads, 1, 1024));
    options.read_store = store_size("--read-store", read_store);
    if (scale_opt->count() > 0) {
      options.scale_sizes.clear();
      for (const std::string& n : scale) options.scale_sizes.push_back(store_size("--scale", n));
    }
    if (tiny) options = opossum::bench::TinyOptions(std::move(options));
    options.progress = isatty(STDERR_FILENO) == 1;
    try {
      opossum::bench::RunDriver(options, std::cout, std::cerr);
    } catch (const opossum::bench::BenchError& e) {
      throw CliError::Io(e.what());
    }
    std::cout.flush();
    if (!std::cout) throw CliError::Io("cannot write the report to standard output");
  } catch (const CliError& e) {
    return Report(e);
  } catch (const std::exception& e) {
    return Report(CliError::Io(e.what()));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
