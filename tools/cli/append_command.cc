// `opossum append`: events from standard input, one per line, appended as
// one atomic batch.
#include <unistd.h>

#include "batch_input.h"
#include "block_parser.h"
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
    // Checked before the store is opened: a condition the store would refuse
    // creates nothing, not even a missing store.
    if (Status s = c.Check(); !s.ok()) throw CliError::FromStatus(s);
    condition = std::move(c);
  }
  // Parse everything first: bad input creates and appends nothing.
  BatchInput batch("standard input");
  {
    LineReader lines(STDIN_FILENO, "standard input");
    BlockParser parser(false, "standard input");
    std::string_view block;
    uint64_t first_line = 0;
    while (lines.NextBlock(&block, &first_line)) {
      parser.ParseInto(block, first_line, batch.batch());
    }
  }
  if (batch.empty()) {
    throw CliError::Invalid("no events on standard input (append reads one JSON event per line)");
  }
  auto store = OpenForWrite(ref, args.write);
  const size_t count = batch.size();
  const uint64_t last = batch.Append(store.get(), condition);
  std::string out = "{\"last_position\": " + std::to_string(last) +
                    ", \"count\": " + std::to_string(count) + "}\n";
  WriteAll(STDOUT_FILENO, out.data(), out.size(), "standard output");
}

}  // namespace opossum::cli
