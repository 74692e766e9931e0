// Opening stores, and the commands that only read: read, last, head, verify,
// stats.
#include <unistd.h>

#include "cli_error.h"
#include "commands.h"
#include "event_json.h"
#include "json_reader.h"
#include "json_writer.h"
#include "output.h"
#include "progress.h"

namespace opossum::cli {

std::unique_ptr<Store> OpenForRead(const StoreRef& ref) {
  Options o;
  o.read_only = true;
  o.create_if_missing = false;
  std::unique_ptr<Store> store;
  Status s = Store::Open(ref.root, ref.name, o, &store);
  if (!s.ok()) throw CliError::FromStatus(s);
  return store;
}

std::unique_ptr<Store> OpenForWrite(const StoreRef& ref, const WriteOptions& options) {
  Options o;
  o.durability = options.durability;
  o.write_protect_segments = options.write_protect_segments;
  if (options.segment_size) o.segment_size = *options.segment_size;
  std::unique_ptr<Store> store;
  Status s = Store::Open(ref.root, ref.name, o, &store);
  if (!s.ok()) throw CliError::FromStatus(s);
  return store;
}

namespace {
Query QueryArg(const std::string& json) {
  Query q;
  std::string why;
  if (!json.empty() && !ParseQuery(json, &q, &why)) throw CliError::Invalid("--query: " + why);
  // Refused as invalid input whether or not the store exists.
  if (Status s = q.Check(); !s.ok()) throw CliError::FromStatus(s);
  return q;
}
}  // namespace

void RunRead(const StoreRef& ref, const ReadArgs& args) {
  const Query q = QueryArg(args.query);
  auto store = OpenForRead(ref);
  ReadOptions ro;
  ro.from = args.from;
  ro.backwards = args.backwards;
  ro.limit = args.limit;
  Output out(STDOUT_FILENO, "standard output");
  std::string* buf = out.buf();
  Status s = store->NewReader().ForEach(q, ro, [&](const EventView& ev) {
    AppendEventLine(buf, ev);
    buf->push_back('\n');
    out.MaybeFlush();
    return true;
  });
  if (!s.ok()) throw CliError::FromStatus(s);
}

void RunLast(const StoreRef& ref, const std::string& query) {
  const Query q = QueryArg(query);
  auto store = OpenForRead(ref);
  std::optional<EventView> ev;
  Status s = store->ReadLast(q, &ev);
  if (!s.ok()) throw CliError::FromStatus(s);
  if (!ev) return;
  std::string line;
  AppendEventLine(&line, *ev);
  line.push_back('\n');
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
}

void RunHead(const StoreRef& ref) {
  auto store = OpenForRead(ref);
  std::string line = std::to_string(store->Head()) + "\n";
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
}

void RunVerify(const StoreRef& ref) {
  auto store = OpenForRead(ref);
  const uint64_t head = store->Head();
  Progress progress("verify");
  Status s = store->Verify([&](uint64_t done, uint64_t) { progress.Set(done); });
  if (s.ok()) progress.Finish(head);
  std::string line = "{\"ok\": ";
  line += s.ok() ? "true" : "false";
  line += ", \"events\": " + std::to_string(head);
  if (!s.ok()) {
    line += ", \"problem\": ";
    AppendJsonString(&line, s.message());
  }
  line += "}\n";
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
  if (!s.ok()) throw CliError::FromStatus(s);
}

void RunStats(const StoreRef& ref) {
  auto store = OpenForRead(ref);
  StoreStats st;
  Status s = store->GetStats(&st);
  if (!s.ok()) throw CliError::FromStatus(s);
  std::string line = "{\"events\": " + std::to_string(st.head) +
                     ", \"head\": " + std::to_string(st.head) +
                     ", \"segments\": " + std::to_string(st.segments) +
                     ", \"bytes_on_disk\": " + std::to_string(st.bytes_on_disk) +
                     ", \"distinct_types\": " + std::to_string(st.distinct_types) +
                     ", \"distinct_tags\": " + std::to_string(st.distinct_tags) + "}\n";
  WriteAll(STDOUT_FILENO, line.data(), line.size(), "standard output");
}

}  // namespace opossum::cli
