#pragma once
// Where metrics come from at scrape time: a list of collectors, each a function that writes its
// families into a TextWriter. Nothing is stored here between scrapes; a collector reads its own
// counters (per-thread counters summed, gauges read) when called.
//
//   auto handle = metrics::Registry::global().add([this](metrics::TextWriter& w) { write_metrics(w); },
//                                                 [this] { return !draining(); });
//   ...
//   handle.reset();  // or let it go out of scope: the collector is gone, and not running
//
// Thread safety and lifetime (the contract collectors rely on):
// * add(), render(), ready() and Handle::reset() may be called from any thread at any time.
// * render() and ready() copy the list of entries under the registry's lock and call the
//   functions with no registry lock held: a collector may itself add or remove collectors.
// * Removing (Handle::reset() or ~Handle) takes the entry out of the list, then WAITS until no
//   thread is inside that entry's collector or ready function; once it returns neither is ever
//   called again. So a collector may capture `this` of the object that owns its Handle, as long
//   as the Handle goes first (declare it as the last member, or reset() it in the destructor).
//   Removal from inside the entry's own collector or ready function does not wait for that call
//   (it would wait for itself); other threads' calls are still waited for.
// * Hence collectors and ready functions must be short and must not block or park (they run on
//   the metrics endpoint's thread, inside a fiber of its loop), and a Handle must not be
//   destroyed while holding a lock its collector takes.
// * A collector that throws is left out of that render (nothing it wrote appears) and counted in
//   greenrpc_metrics_collector_failures_total, which render() always writes last; nothing is
//   logged (a broken collector would log at every scrape). A ready function that throws counts
//   as not ready.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "greenrpc/metrics/text_writer.hpp"

namespace greenrpc::metrics {

class Registry {
  struct Entry;
  struct State;

 public:
  using Collector = std::function<void(TextWriter&)>;

  // Keeps a collector registered; removes it on reset() or destruction (see above). Movable.
  // Safe to outlive its Registry (it then does nothing).
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& other) noexcept = default;
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }
    // Removes the collector and waits until no other thread is inside it. Idempotent.
    void reset() noexcept;
    explicit operator bool() const noexcept { return entry_ != nullptr; }

   private:
    friend class Registry;
    std::weak_ptr<State> state_;
    std::shared_ptr<Entry> entry_;
  };

  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers `collector` (called at every render, in registration order) and an optional
  // readiness function (ready() is false while any registered one returns false).
  [[nodiscard]] Handle add(Collector collector, std::function<bool()> ready = {});

  // Calls every collector on the calling thread and returns the exposition text.
  std::string render() const;
  // The same, adding to `out` (samples join families `out` already has).
  void render(TextWriter& out) const;
  // False if any registered ready function returns false (or throws); true with none.
  bool ready() const;
  // Collector calls that threw, since the registry was made.
  std::uint64_t collector_failures() const noexcept;

  // The process-wide registry the servers, clients and HttpEndpoint use by default. Never
  // destroyed (it may be used during static destruction).
  static Registry& global();

 private:
  std::shared_ptr<State> state_;
};

}  // namespace greenrpc::metrics
