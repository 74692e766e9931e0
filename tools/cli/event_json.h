// A sequenced event as one line of the `read` format (docs/cli.md, "Event JSON"):
// {"position": N, "type": T, "tags": [...], "data": JSON | "data_base64": B,
//  "timestamp": RFC3339[, "id": UUID][, "metadata": {...}]}
#ifndef OPOSSUM_CLI_EVENT_JSON_H_
#define OPOSSUM_CLI_EVENT_JSON_H_

#include <string>

#include "opossum/event.h"

namespace opossum::cli {

// Appends the event's line, without the newline. JSON data is written as
// stored (compact JSON text); empty data flagged JSON (which no JSON value
// encodes to) is written as binary.
void AppendEventLine(std::string* out, const EventView& ev);

}  // namespace opossum::cli

#endif  // OPOSSUM_CLI_EVENT_JSON_H_
