// The folder layout of the .NET Opossum library, for export and import, so
// that its users can move in both directions (issue: the readable JSON layer).
//
// Under a folder:
//   events/0000000001.json          one indented camelCase JSON file per event
//   Indices/EventType/<type>.json   {"Positions": [..]} ascending
//   Indices/Tags/<key>_<value>.json {"Positions": [..]} ascending
//   .ledger                         {"LastSequencePosition": N, "EventCount": N}
// plus this tool's own export checkpoint, so that exports are incremental.
#ifndef OPOSSUM_CLI_DOTNET_LAYOUT_H_
#define OPOSSUM_CLI_DOTNET_LAYOUT_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "opossum/event.h"
#include "opossum/store.h"
#include "progress.h"

namespace opossum::cli {

// One event as the .NET library's event file (indented JSON text).
std::string DotnetEventJson(const EventView& ev);

// Parses an event file's text into *out and its position. On failure returns
// false and says what is wrong in *why.
bool ParseDotnetEvent(std::string_view json, Event* out, uint64_t* position, std::string* why);

struct DotnetExportResult {
  uint64_t written = 0;        // events written by this run
  uint64_t last_position = 0;  // the folder now mirrors 1..last_position
};

// Writes the events of `reader` with positions >= `from` (and after the
// folder's own checkpoint) into `out`, updating the index files, the .ledger
// and the checkpoint. `write_protect` leaves every written file mode 0444.
// Throws CliError (the file and what went wrong).
DotnetExportResult ExportDotnet(const Reader& reader, const std::filesystem::path& out,
                                uint64_t from, bool write_protect, Progress* progress);

// Calls `fn` for each event of the folder `in` in position order, with the
// event file's name. Throws CliError naming the file and what is wrong.
void ReadDotnetFolder(const std::filesystem::path& in,
                      const std::function<void(Event&& event, uint64_t position,
                                               const std::string& file)>& fn,
                      Progress* progress);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_DOTNET_LAYOUT_H_
