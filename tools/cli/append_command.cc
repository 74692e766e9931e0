// `opossum append`: events from standard input, one per line, appended as
// one atomic batch.
#include <unistd.h>

#include "batch_input.h"
#include "commands.h"
#include "json_reader.h"
#include "line_reader.h"
#include "output.h"

namespace opossum::cli {

void RunAppend(const StoreRef& ref, const AppendArgs& args) {
  std::optional<AppendCondition> condition;
  if (!args.condition.empty()) {
    AppendCondition c;
    std::string why;
    if (!ParseCondition(args.condition, &c, &why)) throw CliError::Invalid("--condition: " + why);
    condition = std::move(c);
  }
  // Parse everything first: bad input creates and appends nothing.
  BatchInput batch;
  {
    LineReader lines(STDIN_FILENO, "standard input");
    EventParser parser;
    std::string_view line;
    uint64_t line_no = 0;
    std::string why;
    while (lines.Next(&line, &line_no)) {
      Event e;
      if (!parser.Parse(line, true, &e, &why)) {
        throw CliError::Invalid("standard input line " + std::to_string(line_no) + ": " + why,
                                line_no);
      }
      batch.Add(std::move(e), line_no);
    }
  }
  if (batch.empty()) {
    throw CliError::Invalid("no events on standard input (append reads one JSON event per line)");
  }
  auto store = OpenForWrite(ref, args.durability);
  const uint64_t last = batch.Append(store.get(), condition, "standard input");
  std::string out = "{\"last_position\": " + std::to_string(last) +
                    ", \"count\": " + std::to_string(batch.size()) + "}\n";
  WriteAll(STDOUT_FILENO, out.data(), out.size(), "standard output");
}

}  // namespace opossum::cli
