// The commands of the `opossum` tool, one function each. main.cc parses the
// arguments (CLI11) into these structs; each command throws CliError on
// failure and returns normally on success (exit 0).
#ifndef OPOSSUM_CLI_COMMANDS_H_
#define OPOSSUM_CLI_COMMANDS_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "opossum/options.h"
#include "opossum/store.h"

namespace opossum::cli {

// Which store: DIR/NAME.
struct StoreRef {
  std::filesystem::path root;
  std::string name;
};

// Opens an existing store for reading (a missing one is an error, and
// nothing is created).
std::unique_ptr<Store> OpenForRead(const StoreRef& ref);
// How a writing command opens its store.
struct WriteOptions {
  Durability durability = Durability::kSync;
  bool write_protect_segments = false;   // Options::write_protect_segments
  std::optional<uint64_t> segment_size;  // Options::segment_size; default: the store's
};
// Opens (creating when missing) a store for appending.
std::unique_ptr<Store> OpenForWrite(const StoreRef& ref, const WriteOptions& options);

struct AppendArgs {
  std::string condition;  // JSON; empty: none
  WriteOptions write;
};
void RunAppend(const StoreRef& ref, const AppendArgs& args);

struct ReadArgs {
  std::string query;  // JSON; empty: all events
  std::optional<uint64_t> from;
  bool backwards = false;
  std::optional<uint64_t> limit;
};
void RunRead(const StoreRef& ref, const ReadArgs& args);
void RunLast(const StoreRef& ref, const std::string& query);
void RunHead(const StoreRef& ref);
void RunVerify(const StoreRef& ref);
void RunStats(const StoreRef& ref);

// `bench ARGS`: runs the workload driver, the program opossum-bench
// (bench/driver) installed next to this one, with ARGS; does not return
// when it starts. Throws CliError::Invalid when there is none (a build
// without OPOSSUM_BUILD_BENCH), CliError::Io when it cannot be run.
[[noreturn]] void RunBench(const std::vector<std::string>& args);

struct ExportArgs {
  std::filesystem::path out;
  std::string format = "jsonl";  // jsonl | opossum
  uint64_t from = 1;
  bool write_protect = false;
};
void RunExport(const StoreRef& ref, const ExportArgs& args);

struct ImportArgs {
  std::filesystem::path in;  // "-" for standard input (jsonl only)
  std::string format = "jsonl";
  uint64_t batch_size = 0;  // events per atomic batch; 0: the whole import is one batch
  WriteOptions write;
};
void RunImport(const StoreRef& ref, const ImportArgs& args);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_COMMANDS_H_
