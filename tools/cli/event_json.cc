#include "event_json.h"

#include "json_writer.h"

namespace opossum::cli {

void AppendEventLine(std::string* out, const EventView& ev) {
  out->append("{\"position\": ");
  AppendUint(out, ev.position());
  out->append(", \"type\": ");
  AppendJsonString(out, ev.type());
  out->append(", \"tags\": [");
  const size_t nt = ev.tag_count();
  for (size_t i = 0; i < nt; ++i) {
    if (i != 0) out->append(", ");
    AppendJsonString(out, ev.tag(i));
  }
  out->append("]");
  const std::string_view data = ev.data();
  if (ev.data_is_json() && !data.empty()) {
    out->append(", \"data\": ");
    out->append(data);
  } else {
    out->append(", \"data_base64\": \"");
    AppendBase64(out, data);
    out->push_back('"');
  }
  out->append(", \"timestamp\": \"");
  AppendTimestamp(out, ev.timestamp_ns());
  out->push_back('"');
  if (auto id = ev.id()) {
    out->append(", \"id\": \"");
    out->append(id->ToString());
    out->push_back('"');
  }
  const size_t nm = ev.metadata_count();
  if (nm != 0) {
    out->append(", \"metadata\": {");
    for (size_t i = 0; i < nm; ++i) {
      if (i != 0) out->append(", ");
      auto [k, v] = ev.metadata(i);
      AppendJsonString(out, k);
      out->append(": ");
      AppendJsonString(out, v);
    }
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace opossum::cli
