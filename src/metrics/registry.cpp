#include "greenrpc/metrics/registry.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace greenrpc::metrics {

// One registered collector. `calls` counts the threads inside its functions; removal sets
// `removed` and waits for `calls` to drop to what the removing thread itself holds.
struct Registry::Entry {
  Collector collector;
  std::function<bool()> ready;
  std::mutex mutex;
  std::condition_variable idle;
  int calls = 0;
  bool removed = false;
};

struct Registry::State {
  std::mutex mutex;
  std::vector<std::shared_ptr<Entry>> entries;  // registration order
  std::atomic<std::uint64_t> failures{0};
};

namespace {

// The entry whose function this thread is inside (innermost), so that removing it from its own
// collector does not wait for itself.
thread_local const void* t_inside = nullptr;

// Enters an entry's functions unless it was removed; leaves on destruction.
template <class EntryT>
class Call {
 public:
  explicit Call(EntryT& e) : e_(e) {
    std::lock_guard lock(e_.mutex);
    if (e_.removed) return;
    ++e_.calls;
    entered_ = true;
    outer_ = t_inside;
    t_inside = &e_;
  }
  ~Call() {
    if (!entered_) return;
    t_inside = outer_;
    std::lock_guard lock(e_.mutex);
    if (--e_.calls == 0) e_.idle.notify_all();
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  bool entered() const { return entered_; }

 private:
  EntryT& e_;
  bool entered_ = false;
  const void* outer_ = nullptr;
};

}  // namespace

Registry::Registry() : state_(std::make_shared<State>()) {}
Registry::~Registry() = default;

Registry& Registry::global() {
  static Registry* const registry = new Registry;  // leaked on purpose
  return *registry;
}

Registry::Handle Registry::add(Collector collector, std::function<bool()> ready) {
  auto entry = std::make_shared<Entry>();
  entry->collector = std::move(collector);
  entry->ready = std::move(ready);
  {
    std::lock_guard lock(state_->mutex);
    state_->entries.push_back(entry);
  }
  Handle h;
  h.state_ = state_;
  h.entry_ = std::move(entry);
  return h;
}

Registry::Handle& Registry::Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    entry_ = std::move(other.entry_);
  }
  return *this;
}

void Registry::Handle::reset() noexcept {
  std::shared_ptr<Entry> entry = std::move(entry_);
  if (!entry) return;
  if (auto state = state_.lock()) {
    std::lock_guard lock(state->mutex);
    auto& v = state->entries;
    v.erase(std::remove(v.begin(), v.end(), entry), v.end());
  }
  state_.reset();
  // A render may have copied the entry before it left the list: mark it so no new call starts,
  // then wait for the calls in progress (except this thread's own, which would never end).
  std::unique_lock lock(entry->mutex);
  entry->removed = true;
  const int mine = t_inside == entry.get() ? 1 : 0;
  entry->idle.wait(lock, [&] { return entry->calls <= mine; });
  if (mine) return;  // its collector is running on this thread: it goes with the last reference
  // Nobody is inside them and nobody will be: their captures are destroyed here, by the remover,
  // not later on whichever thread's render happens to drop the last reference.
  Collector collector = std::move(entry->collector);
  std::function<bool()> ready = std::move(entry->ready);
  lock.unlock();
}

void Registry::render(TextWriter& out) const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(state_->mutex);
    entries = state_->entries;
  }
  for (const auto& entry : entries) {
    Call call(*entry);
    if (!call.entered() || !entry->collector) continue;
    // Each collector writes into its own writer, merged only when it returned normally: one that
    // throws half-way leaves nothing behind.
    TextWriter mine;
    bool ok = true;
    try {
      entry->collector(mine);
    } catch (...) {
      ok = false;
    }
    if (ok)
      out.merge(mine);
    else
      state_->failures.fetch_add(1, std::memory_order_relaxed);
  }
  out.family("greenrpc_metrics_collector_failures_total",
             "Metric collectors that threw during a scrape (their samples were left out of it).", "counter");
  out.sample("greenrpc_metrics_collector_failures_total", {},
             static_cast<double>(state_->failures.load(std::memory_order_relaxed)));
}

std::string Registry::render() const {
  TextWriter w;
  render(w);
  return w.text();
}

bool Registry::ready() const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(state_->mutex);
    entries = state_->entries;
  }
  for (const auto& entry : entries) {
    Call call(*entry);
    if (!call.entered() || !entry->ready) continue;
    bool ready = false;
    try {
      ready = entry->ready();
    } catch (...) {
      ready = false;
    }
    if (!ready) return false;
  }
  return true;
}

std::uint64_t Registry::collector_failures() const noexcept {
  return state_->failures.load(std::memory_order_relaxed);
}

}  // namespace greenrpc::metrics
