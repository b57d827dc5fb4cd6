#include "greenrpc/client/client.hpp"

#include <atomic>

#include "client_connection.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"

namespace greenrpc {

struct Client::Impl {
  explicit Impl(const std::string& host, std::uint16_t port, const ClientOptions& options) : loop("greenrpc-client") {
    std::size_t n = options.connections ? options.connections : 1;
    for (std::size_t i = 0; i < n; ++i)
      connections.push_back(std::make_unique<detail::ClientConnection>(loop, host, port, options));
  }
  ~Impl() {
    for (auto& c : connections) loop.post([conn = c.get()] { conn->shutdown(); });
    loop.stop();  // returns once the connections' fibers have ended
  }
  detail::ClientConnection* pick() {
    return connections[next.fetch_add(1, std::memory_order_relaxed) % connections.size()].get();
  }

  EventLoopThread loop;
  std::vector<std::unique_ptr<detail::ClientConnection>> connections;
  std::atomic<std::size_t> next{0};
};

Client::Client(std::string host, std::uint16_t port, ClientOptions options)
    : host_(std::move(host)), port_(port), options_(std::move(options)) {
  impl_ = std::make_shared<Impl>(host_, port_, options_);
}

Client::~Client() = default;

std::shared_ptr<detail::PendingCall> Client::submit(std::string frame, const CallOptions& opts) {
  auto call = std::make_shared<detail::PendingCall>();
  call->frame = std::move(frame);
  auto timeout = opts.timeout.count() > 0 ? opts.timeout : options_.timeout;
  if (timeout.count() > 0) call->deadline = Deadline::after(timeout);
  impl_->loop.post([conn = impl_->pick(), call] { conn->enqueue(call); });
  return call;
}

protocol::RespValue Client::command(std::span<const std::string_view> parts, const CallOptions& opts) {
  std::string frame;
  protocol::append_command(frame, parts);
  auto call = submit(std::move(frame), opts);
  return detail::await_reply(*call);
}

std::string Client::ping() {
  std::string_view parts[] = {"PING"};
  return command(parts).str;
}

}  // namespace greenrpc
