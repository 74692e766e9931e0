// This store as a benchmark backend: the public API, nothing else.

#include "backend.h"
#include "opossum/opossum.h"

namespace opossum::bench {
namespace {

class OpossumBackend final : public Backend {
 public:
  std::string_view name() const override { return "opossum"; }

  std::string Describe(Durability durability) const override {
    return durability == Durability::kSync
               ? "Durability::kSync (fdatasync per group commit), segments from 1 up to 64 MiB"
               : "Durability::kBuffered (page cache; synced at segment changes and close)";
  }

  void Open(const std::filesystem::path& dir, Durability durability) override {
    Options options;
    options.durability = durability;
    Check(Store::Open(dir.parent_path(), dir.filename().string(), options, &store_), "open");
  }

  void Close() override { store_.reset(); }

  AppendResult Append(std::span<const Event> events, const AppendCondition* condition) override {
    AppendResult r;
    std::optional<AppendCondition> c;
    if (condition != nullptr) c = *condition;
    Status s = store_->Append(events, c, &r.last_position);
    if (s.IsConditionFailed()) {
      r.ok = false;
      r.conflict_position = s.conflicting_position();
      return r;
    }
    Check(s, "append");
    return r;
  }

  void Read(const Query& query, uint64_t from, const ReadFn& fn) override {
    ReadOptions options;
    if (from > 1) options.from = from;
    Check(store_->NewReader().ForEach(query, options,
                                      [&](const EventView& e) { return Deliver(e, fn); }),
          "read");
  }

  bool ReadLast(const Query& query, const ReadFn& fn) override {
    std::optional<EventView> last;
    Check(store_->ReadLast(query, &last), "read last");
    if (!last) return false;
    Deliver(*last, fn);
    return true;
  }

  uint64_t Head() override { return store_->Head(); }

 private:
  static bool Deliver(const EventView& e, const ReadFn& fn) {
    TagViews tags;
    const size_t n = e.tag_count();
    for (size_t i = 0; i < n; ++i) tags.push_back(e.tag(i));
    return fn(ReadEvent{e.position(), e.type(), tags.span(), e.data()});
  }

  static void Check(const Status& s, const char* what) {
    if (!s.ok()) throw BenchError(std::string("opossum: ") + what + ": " + s.ToString());
  }

  std::unique_ptr<Store> store_;
};

}  // namespace

std::unique_ptr<Backend> NewOpossumBackend() { return std::make_unique<OpossumBackend>(); }

}  // namespace opossum::bench
