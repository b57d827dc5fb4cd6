#include "greenrpc/metrics/http_endpoint.hpp"

#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include "../protocol/http_request_parser.hpp"
#include "greenrpc/metrics/process_metrics.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/net/tcp_listener.hpp"
#include "greenrpc/net/tcp_stream.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/log.hpp"

namespace greenrpc::metrics {

namespace {

using namespace std::chrono_literals;
using protocol::HttpMethod;
using protocol::HttpParseResult;
using protocol::HttpParseStatus;
using protocol::HttpRequestParser;

constexpr unsigned kMaxRequestsPerConnection = 100;
constexpr auto kStopTimeout = 1s;
// The polite close: after our FIN, unread bytes are read and dropped for this long (or this
// many) so that closing does not turn into a reset that could destroy the response.
constexpr auto kLingerTime = 200ms;
constexpr std::size_t kLingerBytes = 256 * 1024;
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

// No fiber, no parsing: written at once to a connection over the limit.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 21\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections\n";

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

// IMF-fixdate (RFC 9110 §5.6.7), independent of the locale.
void append_http_date(std::string& out) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                              kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n));
}

struct Response {
  int status = 200;
  std::string_view content_type = kTextContentType;
  std::string body;
  bool allow_header = false;  // 405: Allow: GET, HEAD
};

std::string response_head(const Response& r, bool close, int version_minor) {
  std::string h;
  h.reserve(192);
  h += "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  h += reason_phrase(r.status);
  h += "\r\nDate: ";
  append_http_date(h);
  h += "\r\nContent-Type: ";
  h += r.content_type;
  h += "\r\nContent-Length: ";
  h += std::to_string(r.body.size());
  h += "\r\nCache-Control: no-store";
  if (r.allow_header) h += "\r\nAllow: GET, HEAD";
  if (close)
    h += "\r\nConnection: close";
  else if (version_minor == 0)
    h += "\r\nConnection: keep-alive";
  h += "\r\n\r\n";
  return h;
}

Response error_response(int status, std::string_view why) {
  Response r;
  r.status = status;
  r.body = std::to_string(status) + " " + std::string(reason_phrase(status));
  if (!why.empty()) r.body += ": " + std::string(why);
  r.body += '\n';
  return r;
}

// What an I/O step ended with. The catch blocks only record it: nothing may park inside them
// (Boost 1.74 loses the exception state when a fiber switches in a catch block).
enum class Io { ok, timed_out, failed };

}  // namespace

// ---------------------------------------------------------------------------------------------
// The shared table: one endpoint per host:port in the process.
// ---------------------------------------------------------------------------------------------
namespace {

struct SharedEntry {
  std::weak_ptr<HttpEndpoint> endpoint;
  const HttpEndpoint* raw = nullptr;
  const Registry* registry = nullptr;
};

struct SharedTable {
  std::mutex mutex;
  std::condition_variable changed;  // an entry left
  std::map<std::pair<std::string, std::uint16_t>, SharedEntry> entries;
};

SharedTable& table() {
  static SharedTable* const t = new SharedTable;  // leaked: endpoints may end during static destruction
  return *t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl: everything the loop's fibers use. Leaked with its thread if that thread does not end.
// ---------------------------------------------------------------------------------------------
struct HttpEndpoint::Impl {
  struct Connection {
    std::unique_ptr<TcpStream> stream;
  };

  Impl(const MetricsOptions& o, Registry& r) : options(o), registry(r) {}

  MetricsOptions options;
  Registry& registry;
  std::uint16_t port = 0;
  std::atomic<std::size_t> open_count{0};
  std::mutex stop_mutex;  // stop()'s idempotence
  bool stopped = false;   // under stop_mutex
  // Loop thread only:
  std::unique_ptr<TcpListener> listener;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections;
  bool stopping = false;
  // Last member: destroyed (stopped and joined) first, while the rest is still there.
  EventLoopThread loop{"greenrpc-http"};

  void accept_loop();
  void refuse(TcpStream& stream);
  void serve(Connection* c);
  Response answer(const protocol::HttpRequestHead& head);
  void close_politely(TcpStream& stream);
  void shut_down();  // on the loop thread: listener and connections closed
};

void HttpEndpoint::Impl::accept_loop() {
  while (auto stream = listener->accept()) {
    if (stopping) {
      stream->close();
      continue;
    }
    if (connections.size() >= options.max_connections) {
      refuse(*stream);
      continue;
    }
    auto owned = std::make_unique<Connection>(Connection{std::move(stream)});
    Connection* c = owned.get();
    connections.emplace(c, std::move(owned));
    open_count.store(connections.size(), std::memory_order_relaxed);
    std::string failure;
    try {
      loop.spawn_fiber([this, c] {
        try {
          serve(c);
        } catch (...) {  // std::bad_alloc while rendering: the connection just ends
        }
        c->stream->close();
        connections.erase(c);
        open_count.store(connections.size(), std::memory_order_relaxed);
      });
    } catch (const std::exception& e) {  // no stack
      failure = e.what();
    }
    if (!failure.empty()) {
      GREENRPC_LOG_LIMITED(error, "metrics_fiber_failed", "metrics endpoint: cannot start a connection fiber: connection closed",
                           {{"reason", failure}});
      connections.erase(c);
      open_count.store(connections.size(), std::memory_order_relaxed);
    }
  }
  listener.reset();
}

// Over the connection limit: the 503 goes out without parking (a fresh socket's send buffer is
// empty), then our FIN; whatever the peer already sent is read and dropped without waiting, so
// that the close does not reset the connection and destroy the 503.
void HttpEndpoint::Impl::refuse(TcpStream& stream) {
  try {
    const Deadline now{Clock::now()};
    stream.write_all(kTooManyConnections, now);
    stream.shutdown(now);
    char sink[4096];
    for (std::size_t total = 0; total < kLingerBytes;) {
      const std::size_t n = stream.read_some(sink, now);  // TimeoutError once nothing is left
      if (n == 0) break;
      total += n;
    }
  } catch (const std::exception&) {
  }
  stream.close();
}

Response HttpEndpoint::Impl::answer(const protocol::HttpRequestHead& head) {
  if (head.method_kind == HttpMethod::other) {
    Response r = error_response(405, "only GET and HEAD are served");
    r.allow_header = true;
    return r;
  }
  if (head.method_kind == HttpMethod::unknown) return error_response(501, "only GET and HEAD are served");
  if (head.has_body) return error_response(413, "a GET or HEAD request may not carry a body here");
  Response r;
  if (head.path == "/metrics") {
    TextWriter w;
    registry.render(w);
    write_process_metrics(w);
    r.content_type = kMetricsContentType;
    r.body = w.text();
  } else if (head.path == "/healthz") {
    r.body = "ok";
  } else if (head.path == "/readyz") {
    const bool ready = registry.ready();
    r.status = ready ? 200 : 503;
    r.body = ready ? "ready" : "draining";
  } else {
    r = error_response(404, "try /metrics, /healthz or /readyz");
  }
  return r;
}

void HttpEndpoint::Impl::serve(Connection* c) {
  TcpStream& stream = *c->stream;
  HttpRequestParser parser;
  std::string in;  // received bytes; the request being parsed starts at in[0]
  char chunk[4096];
  for (unsigned served = 0;;) {
    // One deadline for the whole head, counted from when we start waiting for it.
    const Deadline head_deadline = Deadline::after(options.request_timeout);
    HttpParseResult r = parser.parse(in);
    while (r.status == HttpParseStatus::incomplete) {
      Io io = Io::ok;
      std::size_t n = 0;
      try {
        n = stream.read_some(chunk, head_deadline);
      } catch (const TimeoutError&) {
        io = Io::timed_out;
      } catch (const std::exception&) {  // cancelled (stop) or a socket error
        io = Io::failed;
      }
      if (io == Io::failed || (io == Io::ok && n == 0)) return;
      if (io == Io::timed_out) {
        if (in.empty()) return;  // idle: nothing to answer
        Response timeout = error_response(408, "the request head did not arrive in time");
        const std::string head = response_head(timeout, true, 1);
        const std::string_view parts[] = {head, timeout.body};
        try {
          stream.write_all(parts, Deadline::after(options.request_timeout));
        } catch (const std::exception&) {
          return;
        }
        return close_politely(stream);
      }
      in.append(chunk, n);
      r = parser.parse(in);
    }

    Response response;
    bool close = false;
    bool with_body = true;
    int minor = 1;
    if (r.status == HttpParseStatus::error) {
      response = error_response(r.error_status, r.error);
      close = true;
    } else {
      const protocol::HttpRequestHead& head = parser.head();
      response = answer(head);
      ++served;
      minor = head.version_minor;
      with_body = head.method_kind != HttpMethod::head;
      // A body we do not read would be taken for the next request: close after refusing it.
      close = !head.keep_alive || head.has_body || served >= kMaxRequestsPerConnection || stopping;
      in.erase(0, r.consumed);  // `head` views `in`: not used below
    }
    const std::string head = response_head(response, close, minor);
    const std::string_view parts[] = {head, with_body ? std::string_view(response.body) : std::string_view()};
    bool written = true;
    try {
      stream.write_all(parts, Deadline::after(options.request_timeout));
    } catch (const std::exception&) {
      written = false;
    }
    if (!written) return;
    if (close) return close_politely(stream);
  }
}

// FIN after the response, then read and drop what the peer still sends until its FIN (bounded),
// so that unread bytes do not make the close a reset.
void HttpEndpoint::Impl::close_politely(TcpStream& stream) {
  const Deadline until = Deadline::after(kLingerTime);
  try {
    stream.shutdown(until);
    char sink[4096];
    for (std::size_t total = 0; total < kLingerBytes;) {
      const std::size_t n = stream.read_some(sink, until);
      if (n == 0) break;
      total += n;
    }
  } catch (const std::exception&) {
  }
}

void HttpEndpoint::Impl::shut_down() {
  stopping = true;
  if (listener) listener->close();  // the acceptor returns
  for (auto& [c, owned] : connections) c->stream->cancel();  // each fiber's wait ends; it closes
}

// ---------------------------------------------------------------------------------------------

HttpEndpoint::HttpEndpoint(const MetricsOptions& options, Registry& registry) : impl_(new Impl(options, registry)) {
  std::unique_ptr<Impl> guard(impl_);  // until bound
  auto bound = std::make_shared<std::promise<std::uint16_t>>();
  auto result = bound->get_future();
  Impl* impl = impl_;
  impl->loop.spawn_fiber([impl, bound] {
    std::string failure;
    int code = 0;
    try {
      impl->listener = std::make_unique<TcpListener>(ListenOptions{impl->options.host, impl->options.port, false, 128});
    } catch (const IoError& e) {
      failure = e.what();
      code = e.code();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!impl->listener) {  // set_exception does not park
      bound->set_exception(std::make_exception_ptr(IoError("metrics endpoint: " + failure, code)));
      return;
    }
    bound->set_value(impl->listener->port());
    impl->accept_loop();
  });
  impl_->port = result.get();  // throws the bind failure; `guard` then stops the loop
  guard.release();
}

HttpEndpoint::~HttpEndpoint() {
  if (impl_->loop.on_this_thread()) {
    // The last reference went inside a collector: the thread cannot wait for itself. It ends
    // once its fibers have; everything it uses stays (leaked).
    impl_->loop.post([impl = impl_] { impl->shut_down(); });
    impl_->loop.stop();  // only asks, on its own thread
    GREENRPC_LOG(error, "metrics endpoint destroyed on its own thread (from a collector): left to end by itself");
    forget();
    return;
  }
  stop();
  if (!leaked_) delete impl_;
}

void HttpEndpoint::forget() noexcept {
  SharedTable& t = table();
  {
    std::lock_guard lock(t.mutex);
    for (auto it = t.entries.begin(); it != t.entries.end();) {
      if (it->second.raw == this)
        it = t.entries.erase(it);
      else
        ++it;
    }
  }
  t.changed.notify_all();
}

void HttpEndpoint::stop() {
  if (impl_->loop.on_this_thread())
    throw std::logic_error("HttpEndpoint::stop() from the endpoint's own thread (a collector) would wait for itself");
  std::lock_guard lock(impl_->stop_mutex);  // held throughout: a second caller returns once it is stopped
  if (impl_->stopped) return;
  impl_->stopped = true;
  Impl* impl = impl_;
  impl->loop.post([impl] { impl->shut_down(); });
  if (!impl->loop.stop_within(Deadline::after(kStopTimeout))) {
    GREENRPC_LOG(error, "metrics endpoint on port " + std::to_string(impl->port) +
                            ": its thread is still busy 1 s after stop (a collector that does not return?): "
                            "left running");
    impl->loop.abandon();
    leaked_ = true;  // its fibers still use it
  }
  forget();
}

std::uint16_t HttpEndpoint::port() const noexcept { return impl_->port; }
const MetricsOptions& HttpEndpoint::options() const noexcept { return impl_->options; }
std::size_t HttpEndpoint::open_connections() const noexcept { return impl_->open_count.load(std::memory_order_relaxed); }

std::shared_ptr<HttpEndpoint> HttpEndpoint::shared(const MetricsOptions& options, Registry& registry) {
  SharedTable& t = table();
  // Declared before the lock: a last reference dropped here (an exception) is dropped unlocked, as
  // the destructor takes the lock.
  std::shared_ptr<HttpEndpoint> found;
  std::shared_ptr<HttpEndpoint> made;
  std::unique_lock lock(t.mutex);
  if (options.port != 0) {
    const auto key = std::make_pair(options.host, options.port);
    for (;;) {
      auto it = t.entries.find(key);
      if (it == t.entries.end()) break;
      found = it->second.endpoint.lock();
      if (found) {
        if (it->second.registry != &registry)
          throw IoError("metrics endpoint " + options.host + ":" + std::to_string(options.port) +
                            " is already served by this process for another registry",
                        EADDRINUSE);
        return found;
      }
      // Its last holder is stopping it; it leaves the table once its socket is closed.
      t.changed.wait(lock);
    }
  }
  made.reset(new HttpEndpoint(options, registry));  // binds; throws IoError
  t.entries[std::make_pair(options.host, made->port())] = SharedEntry{made, made.get(), &registry};
  return made;
}

}  // namespace greenrpc::metrics
