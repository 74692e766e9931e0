// `opossum bench`: runs the workload driver (bench/driver/driver.h) and
// prints its report on standard output; progress on standard error when it
// is a terminal.
#include <unistd.h>

#include <iostream>

#include "backend.h"
#include "cli_error.h"
#include "commands.h"

namespace opossum::cli {

void RunBench(bench::DriverOptions options, bool tiny) {
  if (tiny) options = bench::TinyOptions(std::move(options));
  options.progress = isatty(STDERR_FILENO) == 1;
  try {
    bench::RunDriver(options, std::cout, std::cerr);
  } catch (const bench::BenchError& e) {
    throw CliError::Io(e.what());
  }
  std::cout.flush();
  if (!std::cout) throw CliError::Io("cannot write the report to standard output");
}

}  // namespace opossum::cli
