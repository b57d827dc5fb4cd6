#pragma once
// The transport-agnostic core of a server connection: takes a decoded request, applies the
// envelope (signature, seq/replay, deadline from arrival, signing_required), routes it to a
// built-in or a user handler, and emits the reply through a ReplyEncoder, signing it when the
// request was signed. It knows no wire bytes: framing is the protocol handler's job (RESP:
// resp_connection.cpp), reply bytes the encoder's.
#include <atomic>
#include <memory>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "decoded_request.hpp"
#include "heap_bytes.hpp"
#include "server_metrics.hpp"
#include "greenrpc/codec/limits.hpp"
#include "greenrpc/codec/tree_memory.hpp"
#include "greenrpc/rpc/reply_encoder.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/server/connection_info.hpp"

namespace greenrpc {

class ServerCore;
class HmacKey;

// What the connection does once the reply is out.
enum class AfterReply { keep_open, close };

class Dispatcher : private codec::TreeMemory {
 public:
  // One per connection. `commands` is the worker's counter of commands run, `metrics` its
  // request metrics.
  Dispatcher(ServerCore& core, ConnectionInfo& connection, std::atomic<std::uint64_t>& commands,
             WorkerMetrics& metrics)
      : core_(core),
        connection_(connection),
        commands_(commands),
        metrics_(metrics),
        peer_labels_(peer_labels(core)),
        limits_(handler_limits(core, *this)) {}

  // A request as a sequence of elements: an optional envelope element (a msgpack map), the
  // command name, the arguments. Parses the envelope and calls dispatch().
  AfterReply dispatch_elements(std::span<const std::string_view> elements, Clock::time_point arrived,
                               ReplyEncoder& reply);
  AfterReply dispatch(const DecodedRequest& request, ReplyEncoder& reply);
  // A request whose wire-level signature (arrpc's) is missing, wrong, or refused by policy:
  // answered AUTH_ERROR `message` without running, and counted like any dispatched request (its
  // metrics, the request's debug line, the rate-limited "signed request refused" warning).
  AfterReply refuse_signature(const DecodedRequest& request, std::string_view message, ReplyEncoder& reply);
  WorkerMetrics& metrics() noexcept { return metrics_; }

  // The server is stopping: from now on every request is answered SHUTTING_DOWN without running
  // (the greenrpc client resends it elsewhere). The one running, if any, runs on.
  void refuse_new_requests() noexcept { refusing_ = true; }
  // True while a user handler runs (the connection's fiber is inside it).
  bool running() const noexcept { return !running_command_.empty(); }
  // Cancels the running handler: its greenrpc waits end with CancelledError and it answers
  // CANCELLED. Owner thread only.
  void cancel_running();
  // See ProtocolHandler::describe_running.
  std::string describe_running(Clock::time_point now) const;
  // The reused buffer of encoded results (a large reply's bytes are written from it): its size
  // for the client memory budget, and its release once a large reply is out.
  // Also the msgpack object trees the running request's arguments built (msgpack::object
  // parameters, a msgpack::object message), charged before each is built.
  std::size_t memory_bytes() const noexcept { return heap_bytes(scratch_) + tree_bytes_; }
  // Called after a tree was charged: the connection reports its memory to the budget and says
  // whether it is still served (false: the budget evicted it, and the tree is not built).
  void on_memory_grew(std::function<bool()> still_served) { memory_grew_ = std::move(still_served); }
  void release_large_buffers() {
    if (scratch_.capacity() > 64 * 1024) std::string().swap(scratch_);
  }
  void release_buffers() { std::string().swap(scratch_); }

 private:
  void count_command();
  // Counts one request in the metrics: the route run_routed() found (unknown otherwise), the
  // reply's outcome, its time since arrival and its sizes.
  void measure(const ReplyEncoder& reply, Clock::time_point arrived, std::size_t request_bytes,
               std::size_t reply_before) noexcept;
  void measure_or_throw(const ReplyEncoder& reply, Clock::time_point arrived, std::size_t request_bytes,
                        std::size_t reply_before);
  AfterReply dispatch_unmeasured(const DecodedRequest& request, ReplyEncoder& reply);
  // Verifies a signed request; nullptr (and the refusal written) when it does not pass.
  const HmacKey* verify(const DecodedRequest& request, ReplyEncoder& reply);
  AfterReply run(const DecodedRequest& request, bool signed_request, ReplyEncoder& reply);

  ServerCore& core_;
  ConnectionInfo& connection_;
  std::atomic<std::uint64_t>& commands_;
  WorkerMetrics& metrics_;
  std::size_t command_index_ = 0;  // of the request being dispatched (metrics)
  bool peer_labels_;               // MetricsOptions::peer_labels, with metrics on
  bool signature_refused_ = false;  // this request's signature was refused (metrics, warning)
  static bool peer_labels(const ServerCore& core) noexcept;
  // codec::TreeMemory: charges a tree the running request is about to build; the trees a decode
  // dropped are given back (counted at the connection's next account()).
  void reserve(std::size_t bytes) override;
  std::size_t reserved() const noexcept override { return tree_bytes_; }
  void release_to(std::size_t mark) noexcept override { tree_bytes_ = mark; }

  // The server's decode limits, with trees built for the arguments charged to this connection
  // (tree_memory = this): made once per connection, not per request.
  static codec::DecodeLimits handler_limits(const ServerCore& core, Dispatcher& self) noexcept;
  const codec::DecodeLimits limits_;
  std::string scratch_;  // reused buffer for encoded results
  std::size_t tree_bytes_ = 0;  // trees built for the running request's arguments
  std::function<bool()> memory_grew_;
  bool refusing_ = false;
  // The running handler's cancellation (one per connection, replaced once cancelled) and what
  // runs since when.
  std::shared_ptr<CancelToken> token_ = CancelToken::create();
  std::string_view running_command_;  // the registry's name of the command; empty when idle
  Clock::time_point running_since_{};
};

}  // namespace greenrpc
