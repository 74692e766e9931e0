// `opossum`: the command line of the Opossum event store (docs/cli.md, its
// commands, options, JSON and exit codes; docs/json-layer.md, how its JSON is
// handled). Arguments are parsed here; each command lives in its own file and
// reports failure by throwing CliError.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli_error.h"
#include "commands.h"
#include "option_values.h"

namespace {

using opossum::Durability;
using namespace opossum::cli;

Durability DurabilityArg(const std::string& s) {
  return s == "buffered" ? Durability::kBuffered : Durability::kSync;
}

// No command given, or an unknown one: the error names the commands (its
// "commands" member maps each to its one-line description), and on a
// terminal a readable list follows the JSON line.
int ReportNoCommand(CLI::App& app, const CLI::ParseError& e) {
  std::string unknown;
  for (const std::string& arg : app.remaining()) {
    if (!arg.empty() && arg[0] != '-') {
      unknown = arg;
      break;
    }
  }
  CliError error;
  error.kind = ErrorKind::kInvalid;
  std::string names;
  size_t width = 0;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    error.commands.emplace_back(sub->get_name(), sub->get_description());
    names += (names.empty() ? "" : ", ") + sub->get_name();
    width = std::max(width, sub->get_name().size());
  }
  if (!unknown.empty()) {
    error.message = "unknown command \"" + unknown + "\"";
  } else if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    error.message = "no command given";
  } else {
    error.message = e.what();
  }
  error.message += "; the commands are " + names +
                   " (opossum --help lists them, opossum COMMAND --help describes one)";
  const int code = Report(error);
  if (isatty(STDERR_FILENO) == 1) {
    std::string list =
        "\nUsage: opossum [--root DIR] [--store NAME] COMMAND [OPTIONS]\n\nCommands:\n";
    for (const auto& [name, description] : error.commands) {
      list += "  " + name + std::string(width + 2 - name.size(), ' ') + description + "\n";
    }
    std::fwrite(list.data(), 1, list.size(), stderr);
    std::fflush(stderr);
  }
  return code;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "opossum: an event store in a folder (Dynamic Consistency Boundary).\n"
      "Events are JSON Lines on standard input and output. Exit codes: 0 success, 1 I/O or\n"
      "runtime error, 2 invalid input or usage, 3 append condition failed, 4 corruption,\n"
      "5 busy (the write lock was not obtained in time). On failure one JSON line on\n"
      "standard error: {\"error\": KIND, \"message\": TEXT, ...}, KIND one of io (exit 1),\n"
      "not_found (exit 1: the store does not exist), invalid (exit 2), condition_failed\n"
      "(exit 3), corruption (exit 4), busy (exit 5)."};
  app.require_subcommand(1, 1);
  app.fallthrough();
  StoreRef ref;
  std::string root;
  const char* env_root = std::getenv("OPOSSUM_ROOT");
  root = env_root != nullptr && *env_root != '\0' ? env_root : "./opossum-data";
  ref.name = "default";
  app.add_option("--root", root, "folder of stores (default: $OPOSSUM_ROOT, else ./opossum-data)");
  app.add_option("--store", ref.name,
                 "store name: 1..64 of letters, digits, '-', '_', '.', not starting with '.'")
      ->capture_default_str();

  const auto durability_check = CLI::IsMember({"sync", "buffered"});
  // Numbers are taken as text and read by option_values.h, whose messages
  // say what each option expects.
  constexpr uint64_t kMinSegmentSize = uint64_t{1} << 20;  // the store's limits
  constexpr uint64_t kMaxSegmentSize = uint64_t{1} << 40;
  const std::string segment_size_help =
      "size of the segment files this command creates (a new store's first, and any later "
      "one); at least 1M, at most 1T; a number of bytes, optionally followed by K, M, G or T "
      "(powers of 1024; KiB, MiB, GiB, TiB also accepted). Default 64M";

  AppendArgs append_args;
  std::string append_durability = "sync";
  // Each command's description is one line (the list a usage error
  // shows); the footer says more in `opossum COMMAND --help`.
  auto* append = app.add_subcommand(
      "append", "append events from standard input, one JSON object per line, as one atomic batch");
  append->footer("Prints {\"last_position\": N, \"count\": K}.");
  append->add_option("--condition", append_args.condition,
                     "fail (exit 3) if an event matches: {\"fail_if_events_match\": QUERY, "
                     "\"after\": N}");
  append
      ->add_option("--durability", append_durability,
                   "sync: durable before exit (default); buffered: in the OS cache")
      ->check(durability_check);
  append->add_flag("--write-protect-segments", append_args.write.write_protect_segments,
                   "leave full segments read-only (mode 0444; the store option of that name)");
  std::string append_segment_size;
  auto* append_segment_opt =
      append->add_option("--segment-size", append_segment_size, segment_size_help)
          ->type_name("BYTES");

  ReadArgs read_args;
  std::string read_from, read_limit;
  auto* read = app.add_subcommand("read", "print the matching events, one JSON line each");
  read->add_option("--query", read_args.query,
                   "{\"items\": [{\"types\": [..], \"tags\": [..]}, ..]} (default: all events)");
  auto* from_opt = read->add_option("--from", read_from,
                                    "first position (inclusive; with --backwards the highest)")
                       ->type_name("N");
  read->add_flag("--backwards", read_args.backwards, "newest first");
  auto* limit_opt =
      read->add_option("--limit", read_limit, "at most this many events")->type_name("N");

  std::string last_query;
  auto* last = app.add_subcommand(
      "last", "print the matching event with the highest position (nothing if none)");
  last->add_option("--query", last_query, "as for read (default: all events)");

  auto* head = app.add_subcommand("head", "print the head position (0 for an empty store)");

  ExportArgs export_args;
  std::string export_from = "1";
  auto* exp = app.add_subcommand(
      "export", "write the events as JSON files (JSON Lines or the .NET folder layout)");
  exp->footer(
      "Run again into the same file or folder, it adds only the events appended since. Prints "
      "{\"written\": N, \"last_position\": P}.");
  exp->add_option("--out", export_args.out, "file (jsonl) or folder (opossum)")->required();
  exp->add_option("--format", export_args.format,
                  "jsonl: the read format; opossum: the .NET Opossum folder layout")
      ->check(CLI::IsMember({"jsonl", "opossum"}))
      ->capture_default_str();
  exp->add_option("--from", export_from, "first position to export")
      ->type_name("N")
      ->capture_default_str();
  exp->add_flag("--write-protect", export_args.write_protect,
                "leave the exported files read-only for everyone (mode 0444)");

  ImportArgs import_args;
  std::string import_durability = "sync";
  std::string import_batch_size = "0";
  auto* imp = app.add_subcommand(
      "import",
      "append the events of an export, in its order, skipping those already in the store");
  imp->footer(
      "An event without an id gets one derived from its position in the export and its content, "
      "so a repeated or resumed import appends nothing twice. Prints {\"imported\": N, "
      "\"skipped\": S, \"first_position\": F, \"last_position\": L}.");
  imp->add_option("--in", import_args.in,
                  "file (jsonl, '-' for standard input) or folder (opossum)")
      ->required();
  imp->add_option("--format", import_args.format, "jsonl or opossum")
      ->check(CLI::IsMember({"jsonl", "opossum"}))
      ->capture_default_str();
  imp->add_option("--batch-size", import_batch_size,
                  "events per atomic batch (default 0: the whole import is one batch)")
      ->type_name("N");
  imp->add_option("--durability", import_durability, "sync (default) or buffered")
      ->check(durability_check);
  imp->add_flag("--write-protect-segments", import_args.write.write_protect_segments,
                "leave full segments read-only (mode 0444; the store option of that name)");
  std::string import_segment_size;
  auto* import_segment_opt =
      imp->add_option("--segment-size", import_segment_size, segment_size_help)->type_name("BYTES");

  auto* verify =
      app.add_subcommand("verify", "check every checksum and index entry (exit 4 if damaged)");
  verify->footer("Prints {\"ok\": true|false, \"events\": N[, \"problem\": TEXT]}.");
  auto* stats = app.add_subcommand(
      "stats", "print events, head, segments, bytes on disk, distinct types and tags");

  // The workload driver is its own program, opossum-bench (SQLite, LMDB):
  // everything after `bench` goes to it unread, --help included.
  auto* bench = app.add_subcommand(
      "bench", "run the benchmark workloads (the program opossum-bench; opossum bench --help)");
  bench->set_help_flag();
  bench->fallthrough(false)->allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    if (app.get_subcommands().empty()) return ReportNoCommand(app, e);
    return Report(CliError::Invalid(e.what()));
  }
  ref.root = root;

  try {
    // The numbers given as text, checked before any command runs.
    auto whole = [](const char* option, const std::string& text, uint64_t min, uint64_t max) {
      return ParseWholeNumber(option, text, min, max);
    };
    if (append_segment_opt->count() > 0) {
      append_args.write.segment_size =
          ParseByteSize("--segment-size", append_segment_size, kMinSegmentSize, kMaxSegmentSize);
    }
    if (import_segment_opt->count() > 0) {
      import_args.write.segment_size =
          ParseByteSize("--segment-size", import_segment_size, kMinSegmentSize, kMaxSegmentSize);
    }
    if (from_opt->count() > 0) read_args.from = whole("--from", read_from, 0, UINT64_MAX);
    if (limit_opt->count() > 0) read_args.limit = whole("--limit", read_limit, 0, UINT64_MAX);
    if (*exp) export_args.from = whole("--from", export_from, 1, UINT64_MAX);
    if (*imp) import_args.batch_size = whole("--batch-size", import_batch_size, 0, UINT64_MAX);

    if (*append) {
      append_args.write.durability = DurabilityArg(append_durability);
      RunAppend(ref, append_args);
    } else if (*read) {
      RunRead(ref, read_args);
    } else if (*last) {
      RunLast(ref, last_query);
    } else if (*head) {
      RunHead(ref);
    } else if (*exp) {
      RunExport(ref, export_args);
    } else if (*imp) {
      import_args.write.durability = DurabilityArg(import_durability);
      RunImport(ref, import_args);
    } else if (*verify) {
      RunVerify(ref);
    } else if (*stats) {
      RunStats(ref);
    } else if (*bench) {
      // What follows the word `bench` (after the options above, which
      // parsed), in its order.
      int at = 1;
      while (at < argc && std::string_view(argv[at]) != "bench") {
        const std::string_view arg = argv[at];
        at += arg == "--root" || arg == "--store" ? 2 : 1;
      }
      RunBench(std::vector<std::string>(argv + std::min(at + 1, argc), argv + argc));
    }
  } catch (const CliError& e) {
    return Report(e);
  } catch (const std::exception& e) {
    return Report(CliError::Io(e.what()));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
