// HttpEndpoint over real loopback sockets, with a blocking client playing the scraper: the
// routes, the error statuses and the closes that follow them, keep-alive and pipelining, the
// connection limit, the request timeout against a slow-loris peer, sharing one endpoint per
// port, a prompt stop() with connections open, and (when installed) promtool's verdict.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/promtool.hpp"
#include "../support/loopback.hpp"
#include "greenrpc/metrics/http_endpoint.hpp"
#include "greenrpc/net/errors.hpp"

using namespace greenrpc;
using namespace greenrpc::metrics;
using namespace std::chrono_literals;

namespace {

MetricsOptions any_port(std::chrono::milliseconds timeout = 5000ms) {
  MetricsOptions o;
  o.enabled = true;
  o.port = 0;  // never 9095 in tests: other suites and processes run at the same time
  o.request_timeout = timeout;
  return o;
}

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A blocking HTTP client connection; every read gives up after `timeout_ms`.
class Client {
 public:
  explicit Client(std::uint16_t port, int timeout_ms = 5000) : fd_(test_support::connect_loopback(port)) {
    if (fd_ < 0) throw std::runtime_error("connect failed");
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // The next response; nullopt on EOF, reset or timeout before a whole one arrived.
  std::optional<Reply> read_reply(bool head_request = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    Reply r;
    std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    if (head.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = std::atoi(head.c_str() + 9);
    for (std::size_t pos = head.find("\r\n") + 2; pos < head.size();) {
      std::size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    std::size_t length = static_cast<std::size_t>(std::atoll(r.header("content-length").c_str()));
    if (head_request) length = 0;
    while (buf_.size() < length)
      if (!fill()) return std::nullopt;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }
  std::optional<Reply> get(const std::string& path, const std::string& extra_headers = "") {
    send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n");
    return read_reply();
  }
  // True when the server closed the connection: EOF (or a reset) with nothing more sent, before
  // the receive timeout.
  bool closed_by_peer() {
    if (!buf_.empty()) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  // Everything until EOF (or the timeout).
  std::string read_all() {
    while (fill()) {
    }
    return std::exchange(buf_, {});
  }
  int fd() const { return fd_; }

 private:
  bool fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int fd_;
  std::string buf_;
};

long ms_since(std::chrono::steady_clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count());
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit = 3000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// A registry with a counter, an escaped label and a histogram.
struct Fixture {
  Registry registry;
  Registry::Handle handle = registry.add([](TextWriter& w) {
    w.family("test_requests_total", "Requests by command.", "counter");
    w.sample("test_requests_total", {{"command", "echo"}, {"note", "quote\" back\\slash\nnewline"}}, 7);
    w.family("test_latency_seconds", "Latency.", "histogram");
    const std::array<double, 3> bounds{1e-5, 0.001, 10};
    const std::array<std::uint64_t, 4> counts{1, 2, 3, 0};
    w.histogram("test_latency_seconds", {{"command", "echo"}}, bounds, counts, 0.5);
  });
};

}  // namespace

TEST(HttpEndpoint, MetricsBodyAndContentType) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  ASSERT_NE(ep->port(), 0);
  Client c(ep->port());
  auto r = c.get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->header("content-length"), std::to_string(r->body.size()));
  EXPECT_FALSE(r->header("date").empty());
  EXPECT_TRUE(contains(r->body, "# TYPE test_requests_total counter\n"));
  EXPECT_TRUE(contains(r->body, "test_requests_total{command=\"echo\",note=\"quote\\\" back\\\\slash\\nnewline\"} 7\n"))
      << r->body;
  EXPECT_TRUE(contains(r->body, "test_latency_seconds_bucket{command=\"echo\",le=\"+Inf\"} 6\n"));
  EXPECT_TRUE(contains(r->body, "# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_TRUE(contains(r->body, "process_start_time_seconds "));
  EXPECT_TRUE(contains(r->body, "greenrpc_metrics_collector_failures_total 0\n"));
  // The query string is ignored; the connection stayed open.
  auto again = c.get("/metrics?name[]=up");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(HttpEndpoint, HealthzAndHeadAndNotFound) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  Client c(ep->port());
  auto r = c.get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  // HEAD: the headers of the GET, no body (the next response on the connection parses cleanly).
  c.send("HEAD /metrics HTTP/1.1\r\n\r\n");
  auto head = c.read_reply(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_GT(std::atoi(head->header("content-length").c_str()), 100);
  auto nf = c.get("/nope");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  auto after = c.get("/healthz");  // a 404 keeps the connection
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpEndpoint, ReadyzFollowsTheReadyFunctions) {
  Registry registry;
  std::atomic<bool> ready{true};
  auto h = registry.add({}, [&] { return ready.load(); });
  auto ep = HttpEndpoint::shared(any_port(), registry);
  Client c(ep->port());
  auto r = c.get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ready");
  ready = false;
  r = c.get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "draining");
  c.send("HEAD /readyz HTTP/1.1\r\n\r\n");
  r = c.read_reply(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  auto health = c.get("/healthz");  // alive while not ready
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  ready = true;
  r = c.get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpEndpoint, OtherMethods) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  {
    Client c(ep->port());
    c.send("POST /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->header("allow"), "GET, HEAD");
    EXPECT_EQ(r->header("connection"), "close");  // its body was not read
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    Client c(ep->port());
    c.send("DELETE /metrics HTTP/1.1\r\n\r\n");  // no body: the connection stays
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    auto next = c.get("/healthz");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
  }
  {
    Client c(ep->port());
    c.send("BREW /pot HTTP/1.1\r\n\r\n");
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 501);
  }
  {
    Client c(ep->port());
    c.send("GET /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST(HttpEndpoint, MalformedAndOversizedRequestsAreAnsweredAndClosed) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  struct Case {
    std::string bytes;
    int status;
  };
  const std::vector<Case> cases{
      {"this is not http\r\n\r\n", 400},
      {std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11), 400},  // a TLS ClientHello
      {"GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'x') + "\r\n\r\n", 431},
      {"GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET /metrics HTTP/2.0\r\n\r\n", 505},
  };
  for (const Case& k : cases) {
    Client c(ep->port());
    c.send(k.bytes);
    auto r = c.read_reply();
    ASSERT_TRUE(r) << k.status;
    EXPECT_EQ(r->status, k.status);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.closed_by_peer()) << k.status;
  }
}

TEST(HttpEndpoint, KeepAliveAndPipelining) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  Client c(ep->port());
  auto a = c.get("/healthz");
  auto b = c.get("/metrics");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->status, 200);
  EXPECT_TRUE(a->header("connection").empty());
  EXPECT_EQ(ep->open_connections(), 1u);
  // Three requests in one write: three responses in order; the last asked to close.
  c.send("GET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\nGET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n");
  auto r1 = c.read_reply(), r2 = c.read_reply(), r3 = c.read_reply();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->body, "ok");
  EXPECT_EQ(r2->status, 404);
  EXPECT_EQ(r3->body, "ready");
  EXPECT_EQ(r3->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  // HTTP/1.0 closes unless asked to keep alive.
  Client old(ep->port());
  old.send("GET /healthz HTTP/1.0\r\n\r\n");
  auto r = old.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
  EXPECT_TRUE(old.closed_by_peer());
  Client kept(ep->port());
  kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  r = kept.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "keep-alive");
  kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(kept.read_reply());
}

TEST(HttpEndpoint, KeepAliveEndsAfter100Requests) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  Client c(ep->port());
  for (int i = 1; i <= 100; ++i) {
    auto r = c.get("/healthz");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->header("connection"), i == 100 ? "close" : "") << i;
  }
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpEndpoint, ConnectionLimit) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  ASSERT_EQ(ep->options().max_connections, 16u);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 16; ++i) held.push_back(std::make_unique<Client>(ep->port()));
  ASSERT_TRUE(wait_until([&] { return ep->open_connections() == 16; })) << ep->open_connections();
  // The 17th: 503 and closed, without being served.
  Client extra(ep->port());
  const std::string got = extra.read_all();
  EXPECT_EQ(got.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << got;
  EXPECT_TRUE(contains(got, "\r\n\r\ntoo many connections\n"));
  // One that sent its request first is refused the same way.
  Client eager(ep->port());
  eager.send("GET /metrics HTTP/1.1\r\n\r\n");
  auto refused = eager.read_reply();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_TRUE(eager.closed_by_peer());
  // The held ones are still served.
  auto r = held[3]->get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // A slot freed is a slot for the next one.
  held.pop_back();
  ASSERT_TRUE(wait_until([&] { return ep->open_connections() == 15; }));
  Client next(ep->port());
  auto ok = next.get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpEndpoint, SlowLorisIsClosedAtTheRequestTimeout) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(400ms), f.registry);
  Client c(ep->port());
  const auto start = std::chrono::steady_clock::now();
  c.send("GET /metrics HTTP/1.1\r\n");
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    // A header byte every 20 ms: always some progress, never a whole head.
    while (!stop) {
      if (::send(c.fd(), "X", 1, MSG_NOSIGNAL) != 1) break;
      std::this_thread::sleep_for(20ms);
    }
  });
  auto r = c.read_reply();
  const long took = ms_since(start);
  stop = true;
  trickle.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_GE(took, 350);
  EXPECT_LT(took, 1500);
  EXPECT_TRUE(c.closed_by_peer());

  // An idle keep-alive connection is closed at the same bound, without a response.
  Client idle(ep->port());
  auto first = idle.get("/healthz");
  ASSERT_TRUE(first);
  const auto idle_start = std::chrono::steady_clock::now();
  EXPECT_EQ(idle.read_all(), "");
  const long idle_took = ms_since(idle_start);
  EXPECT_GE(idle_took, 350);
  EXPECT_LT(idle_took, 1500);
  EXPECT_TRUE(wait_until([&] { return ep->open_connections() == 0; }));
}

TEST(HttpEndpoint, SharedPerPort) {
  Registry registry;
  Registry other;
  auto a = HttpEndpoint::shared(any_port(), registry);
  MetricsOptions same = any_port();
  same.port = a->port();
  auto b = HttpEndpoint::shared(same, registry);
  EXPECT_EQ(a.get(), b.get());
  auto c = HttpEndpoint::shared(any_port(), registry);  // port 0: a new one
  EXPECT_NE(a.get(), c.get());
  EXPECT_NE(a->port(), c->port());
  EXPECT_THROW(HttpEndpoint::shared(same, other), IoError);  // that port serves another registry
  // It stops with its last holder; the port can then be bound again.
  const std::uint16_t port = a->port();
  a.reset();
  {
    Client still(port);
    EXPECT_TRUE(still.get("/healthz"));
  }
  b.reset();
  EXPECT_EQ(test_support::connect_loopback(port), -1);
  auto again = HttpEndpoint::shared(same, other);
  EXPECT_EQ(again->port(), port);
  Client c2(port);
  EXPECT_TRUE(c2.get("/healthz"));
}

TEST(HttpEndpoint, BindFailureIsAnIoError) {
  std::uint16_t port = 0;
  int fd = test_support::listen_loopback(port);
  MetricsOptions o = any_port();
  o.port = port;
  EXPECT_THROW(HttpEndpoint::shared(o), IoError);
  ::close(fd);
  MetricsOptions bad = any_port();
  bad.host = "203.0.113.1";  // not an address of this host
  EXPECT_THROW(HttpEndpoint::shared(bad), IoError);
}

TEST(HttpEndpoint, StopIsPromptWithConnectionsOpen) {
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(std::make_unique<Client>(ep->port()));
  clients[0]->send("GET /metr");                         // a partial request line
  clients[1]->send("GET /metrics HTTP/1.1\r\nX-A: b\r\n");  // a partial head
  ASSERT_TRUE(clients[2]->get("/healthz"));              // idle after a request
  ASSERT_TRUE(wait_until([&] { return ep->open_connections() == 6; }));
  const std::uint16_t port = ep->port();
  const auto start = std::chrono::steady_clock::now();
  ep->stop();
  const long took = ms_since(start);
  EXPECT_LT(took, 500);
  for (auto& c : clients) EXPECT_TRUE(c->closed_by_peer());
  EXPECT_EQ(test_support::connect_loopback(port), -1);
  ep->stop();  // idempotent
  // A new shared() for the port binds it anew (the stopped one left the table).
  MetricsOptions o = any_port();
  o.port = port;
  auto fresh = HttpEndpoint::shared(o, f.registry);
  EXPECT_NE(fresh.get(), ep.get());
  Client c(port);
  EXPECT_TRUE(c.get("/healthz"));
}

TEST(HttpEndpoint, PromtoolAcceptsAScrape) {
  if (!test_support::promtool_installed()) GTEST_SKIP() << "promtool is not installed";
  Fixture f;
  auto ep = HttpEndpoint::shared(any_port(), f.registry);
  Client c(ep->port());
  auto r = c.get("/metrics");
  ASSERT_TRUE(r);
  const auto check = test_support::promtool_check(r->body);
  EXPECT_TRUE(check.accepted) << check.output << "\n--- scrape ---\n" << r->body;
}
