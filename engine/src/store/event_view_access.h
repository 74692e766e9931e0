// The store's way into EventView: building one from a verified record, and
// reaching the FlatBuffers table it reads from. Users see neither.
#ifndef OPOSSUM_STORE_EVENT_VIEW_ACCESS_H_
#define OPOSSUM_STORE_EVENT_VIEW_ACCESS_H_

#include <cstdint>

#include "opossum/event.h"

namespace opossum::internal {

struct EventViewAccess {
  // `table` is the event's FlatBuffers table in the map; the record it lies
  // in has been checked (checksum, position).
  static EventView Make(uint64_t position, int64_t timestamp_ns, const void* table) {
    return EventView(position, timestamp_ns, table);
  }
  static const void* Table(const EventView& ev) { return ev.table_; }
};

}  // namespace opossum::internal

#endif  // OPOSSUM_STORE_EVENT_VIEW_ACCESS_H_
