// Parses blocks of event lines on several threads (the machine's cores, at
// most 4), handing the events back in input order. `append` and `import`
// of JSON Lines use it: parsing is most of their work.
#ifndef OPOSSUM_CLI_BLOCK_PARSER_H_
#define OPOSSUM_CLI_BLOCK_PARSER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json_reader.h"
#include "opossum/event.h"
#include "opossum/store.h"

namespace opossum::cli {

class BlockParser {
 public:
  // `with_positions`: accept the `read` format's "position" field (import).
  // `source` names the input in error messages.
  BlockParser(bool with_positions, std::string source);
  ~BlockParser();

  using Sink = std::function<void(Event&& event, uint64_t line_no, uint64_t position)>;
  // Parses the whole lines of `block` (from LineReader::NextBlock, padded)
  // and calls `sink` for each event in order. At the first malformed line
  // (after handing over the events before it) throws CliError::Invalid with
  // the source, the line number and what is wrong.
  void Parse(std::string_view block, uint64_t first_line_no, const Sink& sink);

  // The same, but each thread also checks and encodes its events (into an
  // opossum::Batch), and the parts are added to *out in order. An event the
  // store refuses is reported like a malformed line.
  void ParseInto(std::string_view block, uint64_t first_line_no, Batch* out);

 private:
  struct Part;
  void Run(std::string_view block, uint64_t first_line_no, bool encode);
  [[noreturn]] void Fail(const Part& p) const;
  bool with_positions_;
  std::string source_;
  std::vector<std::unique_ptr<EventParser>> parsers_;
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_BLOCK_PARSER_H_
