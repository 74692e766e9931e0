// The events the driver's workloads append and the stores they read: one
// shape for every backend, so that each does the same job.
//
// An event: a type, two tags and 100 bytes of JSON data.
//  - Appended by the append and decide workloads: type "StudentSubscribed",
//    tags "course:c<NNNN>" and "student:s<NNNNNNN>".
//  - In a prepared store of N events, event i (0-based, position i + 1) has
//    the type kTypes[i % 4], the tag "t:<i mod N/10>" (N/10 tags of ten
//    events each, N/10 positions apart, so that a tag's events never share a
//    page by chance) and the tag "g:<i mod 1000>".
#ifndef OPOSSUM_BENCH_DRIVER_DATASET_H_
#define OPOSSUM_BENCH_DRIVER_DATASET_H_

#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "opossum/event.h"
#include "opossum/store.h"

namespace opossum::bench {

inline constexpr std::array<const char*, 4> kTypes = {"CourseDefined", "StudentRegistered",
                                                      "StudentSubscribed", "StudentUnsubscribed"};
inline constexpr size_t kDataBytes = 100;

// Zero-padded decimal, so that every event of a workload has the same size.
inline std::string Padded(uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(v));
  return buf;
}

// 100 bytes of JSON naming `n`.
inline std::string EventData(uint64_t n) {
  std::string d = R"({"seq":")" + Padded(n, 12) +
                  R"(","at":"2026-11-26T12:00:00.000000Z","by":"bench","note":"subscribed")";
  d.resize(kDataBytes - 1, ' ');
  d.push_back('}');
  return d;
}

inline Event MakeEvent(std::string type, std::string tag1, std::string tag2, uint64_t n) {
  Event e;
  e.type = std::move(type);
  e.tags = {std::move(tag1), std::move(tag2)};
  e.data = EventData(n);
  e.data_is_json = true;
  return e;
}

// The event appended by append workloads: thread `thread`, its i-th append.
inline Event AppendedEvent(uint64_t thread, uint64_t i) {
  return MakeEvent("StudentSubscribed", "course:c" + Padded(i % 1000, 4),
                   "student:s" + Padded(thread * 1000000 + i % 1000000, 7), i);
}

// Bytes `events` take in a segment as one batch (the store's own encoding,
// Batch::bytes), or 0 when the store would refuse them.
inline uint64_t EncodedBatchBytes(std::span<const Event> events) {
  Batch batch;
  for (const Event& e : events) {
    if (!batch.Add(e).ok()) return 0;
  }
  return batch.bytes();
}

// The prepared store of `n` events.
inline uint64_t TagCount(uint64_t n) { return n / 10 > 0 ? n / 10 : 1; }
inline std::string TagName(uint64_t tag) { return "t:" + Padded(tag, 8); }
inline Event StoredEvent(uint64_t n, uint64_t i) {
  return MakeEvent(kTypes[i % kTypes.size()], TagName(i % TagCount(n)), "g:" + Padded(i % 1000, 3),
                   i);
}

}  // namespace opossum::bench

#endif  // OPOSSUM_BENCH_DRIVER_DATASET_H_
