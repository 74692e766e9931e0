// The public Store and Reader: thin handles on a StoreCore. One StoreCore per
// store folder per process (OS file locks belong to the process, so the
// store's lock files must be opened once per process).
#include "opossum/store.h"

#include <map>
#include <mutex>

#include "format/encoded_batch.h"
#include "io/file.h"
#include "store/store_core.h"

namespace opossum {

namespace {

bool ValidStoreName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

struct Registry {
  // Recursive: dropping a handle while opening may close a store. (Not
  // annotated for clang's analysis, which has no reentrant locks; the map is
  // touched only by Store::Open and the engine's deleter below, both under it.)
  std::recursive_mutex mu;
  std::map<std::string, std::weak_ptr<internal::StoreCore>> open;
};

Registry& GetRegistry() {
  static Registry* r = new Registry();  // never destroyed: used by late destructors
  return *r;
}

}  // namespace

Status Store::Open(const std::filesystem::path& root, std::string_view name, const Options& options,
                   std::unique_ptr<Store>* out) {
  if (!ValidStoreName(name)) {
    return Status::InvalidArgument("store name \"" + std::string(name) +
                                   "\" is invalid: use 1..64 letters, digits, '-', '_' and '.', "
                                   "not starting with '.'");
  }
  if (root.empty()) return Status::InvalidArgument("the root folder is empty");
  std::filesystem::path abs;
  if (Status s = io::AbsolutePath(root, &abs); !s.ok()) return s;
  std::filesystem::path path = (abs / std::string(name)).lexically_normal();
  // The registry's key: the real path when it resolves, else the normal one.
  std::filesystem::path canonical;
  std::string key = (io::CanonicalPath(path, &canonical).ok() ? canonical : path).string();

  Registry& reg = GetRegistry();
  std::lock_guard<std::recursive_mutex> lock(reg.mu);
  auto it = reg.open.find(key);
  if (it != reg.open.end()) {
    if (auto core = it->second.lock()) {
      const Options& have = core->options();
      if (have.read_only != options.read_only || have.durability != options.durability) {
        return Status::InvalidArgument(
            "store " + key +
            " is already open in this process with another read_only or durability option "
            "(one engine serves all handles of a store in a process)");
      }
      out->reset(new Store(std::move(core)));
      return Status::Ok();
    }
  }
  std::unique_ptr<internal::StoreCore> opened;
  Status s = internal::StoreCore::Open(path, options, &opened);
  if (!s.ok()) return s;
  // The last handle (a Store or a Reader) closes the engine under the
  // registry's lock, so a reopen never overlaps a close of the same store:
  // their OS file locks would be mixed up (they belong to the process).
  std::shared_ptr<internal::StoreCore> core(opened.release(), [](internal::StoreCore* c) {
    std::lock_guard<std::recursive_mutex> l(GetRegistry().mu);
    delete c;
  });
  reg.open[key] = core;
  out->reset(new Store(std::move(core)));
  return Status::Ok();
}

Store::Store(std::shared_ptr<internal::StoreCore> core) : core_(std::move(core)) {}

Store::~Store() = default;

Status Store::Append(std::span<const Event> events, const std::optional<AppendCondition>& condition,
                     uint64_t* last_position) {
  return core_->Append(events, condition, last_position);
}

Batch::Batch(uint32_t max_event_size)
    : impl_(std::make_unique<format::EncodedBatch>(max_event_size)) {}
Batch::Batch() : Batch(Options{}.max_event_size) {}
Batch::Batch(Batch&& other) noexcept = default;
Batch& Batch::operator=(Batch&& other) noexcept = default;
Batch::~Batch() = default;

Status Batch::Add(const Event& event) { return impl_->Add(event); }
void Batch::Extend(Batch&& other) { impl_->Extend(std::move(*other.impl_)); }
void Batch::Reserve(uint64_t bytes) { impl_->Reserve(bytes); }
size_t Batch::size() const { return impl_->size(); }
uint64_t Batch::bytes() const { return impl_->length(); }

Batch Store::NewBatch() const { return Batch(core_->options().max_event_size); }

Status Store::Append(Batch&& batch, const std::optional<AppendCondition>& condition,
                     uint64_t* last_position) {
  if (batch.impl_->max_event_size() > core_->options().max_event_size) {
    return Status::InvalidArgument(
        "the batch was checked against a max_event_size of " +
        std::to_string(batch.impl_->max_event_size()) + " bytes, larger than the store's " +
        std::to_string(core_->options().max_event_size) + " (build it with Store::NewBatch)");
  }
  format::EncodedBatch encoded = std::move(*batch.impl_);
  return core_->Append(std::move(encoded), condition, last_position);
}

Reader Store::NewReader() const { return Reader(core_, core_->Head()); }
uint64_t Store::Head() const { return core_->Head(); }
Status Store::Sync() { return core_->Sync(); }
Status Store::Verify(const std::function<void(uint64_t, uint64_t)>& progress) const {
  return core_->Verify(progress);
}
Status Store::GetStats(StoreStats* out) const { return core_->GetStats(out); }
const std::filesystem::path& Store::path() const { return core_->path(); }

Status Reader::ForEach(const Query& query, const ReadOptions& options,
                       const std::function<bool(const EventView&)>& fn) const {
  return core_->ForEach(head_, query, options, fn);
}

Status Reader::Read(const Query& query, const ReadOptions& options,
                    std::vector<EventView>* out) const {
  return core_->ForEach(head_, query, options, [out](const EventView& ev) {
    out->push_back(ev);
    return true;
  });
}

Status Reader::ReadById(const Uuid& id, std::optional<EventView>* out) const {
  return core_->ReadById(head_, id, out);
}

Status Reader::ReadLast(const Query& query, std::optional<EventView>* out) const {
  out->reset();
  ReadOptions opts;
  opts.backwards = true;
  opts.limit = 1;
  return core_->ForEach(head_, query, opts, [out](const EventView& ev) {
    *out = ev;
    return false;
  });
}

}  // namespace opossum
