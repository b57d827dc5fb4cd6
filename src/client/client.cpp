#include "greenrpc/client/client.hpp"

#include <atomic>
#include <mutex>

#include "client_connection.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/fiber_group.hpp"
#include "greenrpc/runtime/fiber_deadline.hpp"
#include "greenrpc/metrics/http_endpoint.hpp"
#include "greenrpc/metrics/registry.hpp"
#include "greenrpc/tls/tls_connector.hpp"

namespace greenrpc {

namespace {
// The command name: the first bulk string of a request body ("$<n>\r\n<name>\r\n...").
std::string_view command_name_of(std::string_view body) {
  const std::size_t eol = body.find("\r\n");
  if (body.empty() || body[0] != '$' || eol == std::string_view::npos) return {};
  std::size_t n = 0;
  for (std::size_t i = 1; i < eol; ++i) n = n * 10 + static_cast<std::size_t>(body[i] - '0');
  return body.substr(eol + 2, std::min(n, body.size() - (eol + 2)));
}
}  // namespace

struct Client::Impl {
  Impl(const std::string& host, std::uint16_t port, const ClientOptions& options, EventLoopThread* shared)
      : own(shared ? nullptr : std::make_unique<EventLoopThread>("greenrpc-client")),
        loop(shared ? *shared : *own),
        fibers(loop) {
    // Before any connection (whose fibers start at once): a port that cannot be bound throws
    // here, with nothing to shut down.
    if (options.metrics.enabled) {
      const std::string target = Endpoint{host, port}.to_string();
      const std::string id = std::to_string(next_client_id.fetch_add(1, std::memory_order_relaxed));
      metrics_handle = metrics::Registry::global().add(
          [this, target, id](metrics::TextWriter& w) { metrics.write(w, target, id); });
      metrics_endpoint = metrics::HttpEndpoint::shared(options.metrics);  // shared with a server on the same port
    }
    // Loaded once (a bad CA, certificate or key file fails here), shared by every connection.
    std::shared_ptr<const TlsContext> tls = options.tls.enabled ? TlsContext::client(options.tls) : nullptr;
    std::size_t n = options.connections ? options.connections : 1;
    for (std::size_t i = 0; i < n; ++i) {
      std::unique_ptr<Connector> connector =
          tls ? make_tls_connector(host, port, tls) : std::make_unique<TcpConnector>(host, port);
      connections.push_back(
          std::make_unique<detail::ClientConnection>(fibers, host, port, options, std::move(connector), metrics));
    }
  }
  ~Impl() {
    metrics_handle.reset();  // waits for a scrape inside the collector
    auto shutdown = [this] {
      for (auto& c : connections) c->shutdown();
    };
    if (loop.on_this_thread()) {
      shutdown();
    } else {
      loop.post(shutdown);
    }
    // Uninterruptible: a destructor must not throw, even in a cancelled handler.
    fibers.join(Waiter::Interrupt::ignore);  // the connections' fibers have ended; an own loop then stops with `own`
  }
  detail::ClientConnection* pick() {
    return connections[next.fetch_add(1, std::memory_order_relaxed) % connections.size()].get();
  }
  std::shared_ptr<const detail::ErrorMap> error_map() {
    std::lock_guard lock(errors_mutex);
    return errors;
  }

  std::unique_ptr<EventLoopThread> own;  // null when running on the caller's loop
  EventLoopThread& loop;
  FiberGroup fibers;
  detail::ClientMetrics metrics;  // before the connections, which count into it
  std::vector<std::unique_ptr<detail::ClientConnection>> connections;
  std::atomic<std::size_t> next{0};
  std::mutex errors_mutex;  // copy-on-write: calls hold the map they started with
  std::shared_ptr<const detail::ErrorMap> errors = std::make_shared<detail::ErrorMap>();
  metrics::Registry::Handle metrics_handle;
  std::shared_ptr<metrics::HttpEndpoint> metrics_endpoint;
  static inline std::atomic<std::uint64_t> next_client_id{1};  // the `client` label
};

Client::Client(std::string host, std::uint16_t port, ClientOptions options)
    : host_(std::move(host)), port_(port), options_(std::move(options)) {
  impl_ = std::make_unique<Impl>(host_, port_, options_, nullptr);
}

Client::Client(std::string host, std::uint16_t port, ClientOptions options, EventLoopThread& loop)
    : host_(std::move(host)), port_(port), options_(std::move(options)) {
  impl_ = std::make_unique<Impl>(host_, port_, options_, &loop);
}

Client::~Client() = default;

void Client::register_error(std::string code, detail::ErrorThrower thrower) {
  std::lock_guard lock(impl_->errors_mutex);
  auto updated = std::make_shared<detail::ErrorMap>(*impl_->errors);
  (*updated)[std::move(code)] = std::move(thrower);
  impl_->errors = std::move(updated);
}

std::shared_ptr<detail::PendingCall> Client::submit(std::string body, std::uint32_t elements, const CallOptions& opts) {
  auto call = std::make_shared<detail::PendingCall>();
  call->body = std::move(body);
  call->elements = elements;
  call->idempotent = opts.idempotent;
  call->errors = impl_->error_map();
  call->started = Clock::now();
  call->command_index = impl_->metrics.command_index(command_name_of(call->body));
  auto timeout = opts.timeout.count() > 0 ? opts.timeout : options_.timeout;
  if (timeout.count() > 0) call->deadline = Deadline::after(timeout);
  // Inside a handler: never outlive the request being served.
  const Deadline inherited = current_fiber_deadline();
  if (inherited.time_point() < call->deadline.time_point()) {
    call->deadline = inherited;
    call->deadline_inherited = true;
  }
  detail::ClientConnection* conn = impl_->pick();
  if (impl_->loop.on_this_thread()) {
    conn->enqueue(call);  // a fiber of the client's own loop: no thread hop
  } else {
    // Cannot be refused: the loop does not end while the connections' fibers run.
    impl_->loop.post([conn, call] { conn->enqueue(call); });
  }
  return call;
}

protocol::RespValue Client::command(std::span<const std::string_view> parts, const CallOptions& opts) {
  std::string body;
  for (std::string_view p : parts) protocol::append_bulk(body, p);
  auto call = submit(std::move(body), static_cast<std::uint32_t>(parts.size()), opts);
  detail::await_reply(*call);
  return std::move(call->reply);
}

std::string Client::ping() {
  std::string_view parts[] = {"PING"};
  return command(parts).str;
}

}  // namespace greenrpc
