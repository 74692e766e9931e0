// The folder layout of the .NET Opossum library, for export and import, so
// that its users can move in both directions (docs/json-layer.md).
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

// What this tool adds to the layout (docs/json-layer.md has the whole page):
//  - binary data: `event.event` is a base64 string and `event.eventEncoding`
//    is "base64" (JSON data has no `eventEncoding`);
//  - the event id: `metadata.eventId`, the UUID's text;
//  - a metadata key that would read back as a member the layout defines
//    (timestamp, correlationId, causationId, operationId, userId, eventId,
//    or one of the two markers below, in any case) or that starts with '~'
//    is written with a '~' in front, which the import takes off again;
//  - data (a JSON object) with a `$type` member of its own:
//    `metadata.dataOwnsType` is true, and the import keeps that `$type` in
//    the data (a `$type` without the marker is the .NET serializer's and
//    becomes metadata `clr_type`);
//  - a `clr_type` written into the data as `$type` that was not the last of
//    the event's metadata entries: `metadata.clrTypeIndex` is its index, and
//    the import puts it back there.

// One event as the .NET library's event file (indented JSON text).
std::string DotnetEventJson(const EventView& ev);

// "0000000001.json": the position padded to 10 digits (more when larger).
std::string DotnetEventFileName(uint64_t position);
// The index file names (under Indices/EventType and Indices/Tags): runs of
// characters that are not allowed in file names on Windows or Linux (control
// characters, / \ < > : " | ? *) become one '_' and are dropped at either
// end, as the .NET library does; "", "." and ".." get a '_' in front; a name
// longer than 235 bytes is cut and ends in a hash of the whole.
std::string DotnetTypeIndexFileName(std::string_view type);
std::string DotnetTagIndexFileName(std::string_view tag);  // "<key>_<value>.json"

// Parses an event file's text into *out and its position. On failure returns
// false and says what is wrong in *why.
bool ParseDotnetEvent(std::string_view json, Event* out, uint64_t* position, std::string* why);

struct DotnetExportResult {
  uint64_t written = 0;        // events written by this run
  uint64_t last_position = 0;  // the folder now mirrors up to last_position
};

// Writes the events of `reader` with positions >= `from` (and after the
// folder's own checkpoint) into `out`, updating the index files, the .ledger
// and the checkpoint. `write_protect` leaves every written file mode 0444.
// Throws CliError (the file and what went wrong).
DotnetExportResult ExportDotnet(const Reader& reader, const std::filesystem::path& out,
                                uint64_t from, bool write_protect, Progress* progress);

// Calls `fn` for each event of the folder `in` in position order, with the
// event file's name. Throws CliError naming the file and what is wrong.
void ReadDotnetFolder(
    const std::filesystem::path& in,
    const std::function<void(Event&& event, uint64_t position, const std::string& file)>& fn,
    Progress* progress);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_DOTNET_LAYOUT_H_
