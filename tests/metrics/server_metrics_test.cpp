// The served metrics with real peers: an in-process server (and client) with metrics on, scraped
// over real loopback HTTP like Prometheus does. The counts must match the calls made exactly;
// unknown command names must not add series; INFO's commandstats/errorstats must agree; the
// in-flight gauge, /readyz during a drain, TLS handshake and auth failures, the client's calls,
// retries and reconnects; and (when installed) promtool's verdict on a scrape with both.
//
// Every wait is bounded (sockets have receive timeouts, polls have deadlines).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/promtool.hpp"
#include "../support/loopback.hpp"
#include "greenrpc/metrics/single_writer.hpp"
#include "../support/server_fixture.hpp"
#include "../tls/tls_test_support.hpp"

using namespace std::chrono_literals;
using greenrpc::Clock;
using test_app::NumberInput;
using test_support::RawSocket;
using test_support::wait_until;

namespace {

struct Http {
  int status = 0;  // 0: no response (connect failed, EOF or timeout)
  std::string body;
};

// One GET on a new connection (Connection: close), bounded by a 5 s receive timeout.
Http http_get(std::uint16_t port, const std::string& path) {
  Http out;
  const int fd = test_support::connect_loopback(port);
  if (fd < 0) return out;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return out;
  }
  std::string data;
  char buf[65536];
  for (;;) {
    const std::size_t head_end = data.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const std::string head = data.substr(0, head_end);
      std::string lower = head;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::size_t cl = lower.find("content-length:");
      if (cl != std::string::npos) {
        const std::size_t length = std::strtoull(head.c_str() + cl + 15, nullptr, 10);
        if (data.size() >= head_end + 4 + length) {
          if (head.rfind("HTTP/1.1 ", 0) == 0) out.status = std::atoi(head.c_str() + 9);
          out.body = data.substr(head_end + 4, length);
          break;
        }
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string scrape(std::uint16_t port) {
  Http r = http_get(port, "/metrics");
  EXPECT_EQ(r.status, 200);
  return r.body;
}

// The sample lines of family member `name` (exactly that name before '{' or ' ') whose label set
// contains every one of `labels` (each written as name="value").
std::vector<std::string> lines_of(const std::string& body, const std::string& name,
                                  const std::vector<std::string>& labels = {}) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind(name, 0) != 0 || (line[name.size()] != '{' && line[name.size()] != ' ')) continue;
    const std::size_t close = line.rfind('}');
    const std::string label_text = close == std::string::npos ? "" : line.substr(0, close + 1);
    bool all = true;
    for (const std::string& l : labels) {
      // A label is preceded by '{' or ',' and followed by ',' or '}'.
      const bool found = label_text.find("{" + l + ",") != std::string::npos ||
                         label_text.find("{" + l + "}") != std::string::npos ||
                         label_text.find("," + l + ",") != std::string::npos ||
                         label_text.find("," + l + "}") != std::string::npos;
      if (!found) {
        all = false;
        break;
      }
    }
    if (all) out.push_back(line);
  }
  return out;
}

double value_of(const std::string& line) { return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr); }

// The sum over the matching series; -1 when there is none.
double sum_of(const std::string& body, const std::string& name, const std::vector<std::string>& labels = {}) {
  const auto lines = lines_of(body, name, labels);
  if (lines.empty()) return -1;
  double s = 0;
  for (const auto& l : lines) s += value_of(l);
  return s;
}

std::string label(const std::string& name, const std::string& value) { return name + "=\"" + value + "\""; }

// The integer after "<field>=" (or "<field>:") in an INFO line starting with `line_prefix`; -1 if absent.
long long info_number(const std::string& info, const std::string& line_prefix, const std::string& field) {
  const std::size_t at = info.find(line_prefix);
  if (at == std::string::npos) return -1;
  const std::size_t eol = info.find("\r\n", at);
  const std::string line = info.substr(at, eol - at);
  const std::size_t f = line.find(field + "=");
  return f == std::string::npos ? -1 : std::atoll(line.c_str() + f + field.size() + 1);
}

greenrpc::ServerOptions metrics_server(unsigned workers = 2) {
  greenrpc::ServerOptions o = test_app::local_options(workers);
  o.metrics.enabled = true;
  o.metrics.port = 0;  // never 9095: other suites run at the same time
  return o;
}

class ServerMetricsTest : public test_support::ServerTest {
 protected:
  std::string port_label() const { return label("port", std::to_string(server.port())); }
  // Polls the scrape until `name{labels}` sums to `expected` (bounded); returns the last sum.
  double await_sum(const std::string& name, std::vector<std::string> labels, double expected,
                   std::chrono::milliseconds limit = 3000ms) {
    labels.push_back(port_label());
    double last = -2;
    wait_until(
        [&] {
          last = sum_of(scrape(server.metrics_port()), name, labels);
          return last == expected;
        },
        limit);
    return last;
  }
};

}  // namespace

TEST_F(ServerMetricsTest, CountersMatchTheCallsExactly) {
  start(metrics_server());
  ASSERT_NE(server.metrics_port(), 0);
  ASSERT_NE(server.metrics_port(), 9095);
  greenrpc::Client client("127.0.0.1", server.port());
  constexpr int kCalls = 37, kInvalid = 7, kUnknown = 5;
  for (int i = 0; i < kCalls; ++i) ASSERT_EQ(client.call(test_app::add, i, NumberInput{1}), i + 1);
  for (int i = 0; i < kInvalid; ++i)
    EXPECT_THROW(client.call<int>("add", 1, std::string("not a model")), greenrpc::ValidationError);
  for (int i = 0; i < kUnknown; ++i)
    EXPECT_THROW(client.call<int>("no_such_command_" + std::to_string(i)), greenrpc::UnknownCommandError);

  const std::string add = label("command", "add"), unknown = label("command", "(unknown)");
  EXPECT_EQ(await_sum("greenrpc_server_requests_total", {add, label("outcome", "ok")}, kCalls), kCalls);
  EXPECT_EQ(await_sum("greenrpc_server_requests_total", {add, label("outcome", "VALIDATION_ERROR")}, kInvalid), kInvalid);
  EXPECT_EQ(await_sum("greenrpc_server_requests_total", {add}, kCalls + kInvalid), kCalls + kInvalid)
      << "no other outcome for add";
  EXPECT_EQ(await_sum("greenrpc_server_requests_total", {unknown, label("outcome", "INVALID_COMMAND")}, kUnknown),
            kUnknown);
  const std::string body = scrape(server.metrics_port());
  const std::string p = port_label();
  EXPECT_EQ(sum_of(body, "greenrpc_server_request_duration_seconds_count", {p, add}), kCalls + kInvalid);
  EXPECT_EQ(sum_of(body, "greenrpc_server_request_duration_seconds_count", {p, unknown}), kUnknown);
  EXPECT_EQ(sum_of(body, "greenrpc_server_request_duration_seconds_bucket", {p, add, label("le", "+Inf")}),
            kCalls + kInvalid);
  EXPECT_GT(sum_of(body, "greenrpc_server_request_duration_seconds_sum", {p, add}), 0);
  EXPECT_GT(sum_of(body, "greenrpc_server_request_bytes_total", {p, add}), 0);
  EXPECT_GT(sum_of(body, "greenrpc_server_reply_bytes_total", {p, add}), 0);
  EXPECT_GE(sum_of(body, "greenrpc_server_connections_accepted_total", {p}), 1);
  EXPECT_EQ(sum_of(body, "greenrpc_server_connections", {p}), 1);
  EXPECT_EQ(sum_of(body, "greenrpc_server_requests_in_flight", {p}), 0);
  EXPECT_EQ(lines_of(body, "greenrpc_server_worker_busy_seconds_total", {p}).size(), 2u) << "one per worker";
  EXPECT_GE(sum_of(body, "process_resident_memory_bytes"), 1);
  EXPECT_GE(sum_of(body, "process_open_fds"), 1);

  // INFO commandstats / errorstats come from the same counters.
  std::string_view stats_parts[] = {"INFO", "commandstats", "errorstats"};
  const std::string info = client.command(stats_parts).str;
  EXPECT_EQ(info_number(info, "cmdstat_add:", "calls"), kCalls) << info;
  EXPECT_EQ(info_number(info, "cmdstat_add:", "rejected_calls"), kInvalid) << info;
  EXPECT_EQ(info_number(info, "cmdstat_add:", "failed_calls"), 0) << info;
  EXPECT_EQ(info_number(info, "errorstat_VALIDATION_ERROR:", "count"), kInvalid) << info;
  EXPECT_EQ(info_number(info, "errorstat_INVALID_COMMAND:", "count"), kUnknown) << info;
  // Every error outcome in the metrics is in errorstats with the same count.
  for (const std::string& line : lines_of(body, "greenrpc_server_requests_total", {p})) {
    const std::size_t o = line.find("outcome=\"");
    const std::string outcome = line.substr(o + 9, line.find('"', o + 9) - o - 9);
    if (outcome == "ok") continue;
    const double total = sum_of(body, "greenrpc_server_requests_total", {p, label("outcome", outcome)});
    EXPECT_EQ(info_number(info, "errorstat_" + outcome + ":", "count"), static_cast<long long>(total)) << outcome;
  }
}

TEST_F(ServerMetricsTest, TenThousandUnknownNamesShareOneSeries) {
  start(metrics_server(1));
  RawSocket s(server.port());
  constexpr int kNames = 10000, kBatch = 500;
  std::string pending;
  for (int base = 0; base < kNames; base += kBatch) {
    std::string batch;
    for (int i = base; i < base + kBatch; ++i) {
      const std::string name = "nosuch_" + std::to_string(i) + "_x";
      batch += "*1\r\n$" + std::to_string(name.size()) + "\r\n" + name + "\r\n";
    }
    s.send(batch);
    for (int i = 0; i < kBatch; ++i) {
      const std::string reply = test_support::read_resp_reply(s.fd(), pending);
      ASSERT_EQ(reply.rfind("-INVALID_COMMAND", 0), 0u) << reply;
    }
  }
  const std::string unknown = label("command", "(unknown)");
  EXPECT_EQ(await_sum("greenrpc_server_requests_total", {unknown}, kNames), kNames);
  const std::string body = scrape(server.metrics_port());
  const std::string p = port_label();
  // One series per outcome for all the unknown names (here one outcome: INVALID_COMMAND).
  const auto unknown_lines = lines_of(body, "greenrpc_server_requests_total", {p, unknown});
  ASSERT_EQ(unknown_lines.size(), 1u);
  EXPECT_NE(unknown_lines[0].find("outcome=\"INVALID_COMMAND\""), std::string::npos);
  EXPECT_EQ(lines_of(body, "greenrpc_server_requests_total", {p}).size(), 1u) << body;
  EXPECT_EQ(lines_of(body, "greenrpc_server_request_duration_seconds_count", {p}).size(), 1u);
  EXPECT_EQ(body.find("nosuch_"), std::string::npos) << "no name of an unknown command appears";
  std::size_t sample_lines = 0;
  for (const auto& line : lines_of(body, "greenrpc_server_request_duration_seconds_bucket", {p})) {
    (void)line;
    ++sample_lines;
  }
  EXPECT_EQ(sample_lines, greenrpc::metrics::kLatencyBuckets);
}

TEST_F(ServerMetricsTest, PeerSeriesOnlyWithPeerLabels) {
  auto opts = metrics_server();
  opts.metrics.peer_labels = true;
  start(opts);
  {
    greenrpc::Client client("127.0.0.1", server.port());
    for (int i = 0; i < 6; ++i) client.call(test_app::add, i, NumberInput{i});
  }
  // Every request of the peer counts (the client's own connection set-up included): at least the 6.
  double by_peer = -1;
  wait_until(
      [&] {
        by_peer = sum_of(scrape(server.metrics_port()), "greenrpc_server_requests_by_peer_total",
                         {port_label(), label("peer", "127.0.0.1")});
        return by_peer >= 6;
      },
      3000ms);
  EXPECT_GE(by_peer, 6);
  const std::string body = scrape(server.metrics_port());
  EXPECT_EQ(lines_of(body, "greenrpc_server_requests_by_peer_total", {port_label()}).size(), 1u) << "host only, not host:port";
  EXPECT_EQ(sum_of(body, "greenrpc_server_requests_by_peer_total", {port_label()}),
            sum_of(body, "greenrpc_server_requests_total", {port_label()}));
}

TEST_F(ServerMetricsTest, NoPeerSeriesByDefault) {
  start(metrics_server());
  greenrpc::Client client("127.0.0.1", server.port());
  client.call(test_app::add, 1, NumberInput{1});
  ASSERT_EQ(await_sum("greenrpc_server_requests_total", {label("command", "add")}, 1), 1);
  const std::string body = scrape(server.metrics_port());
  EXPECT_EQ(body.find("greenrpc_server_requests_by_peer_total"), std::string::npos);
  EXPECT_EQ(body.find("127.0.0.1"), std::string::npos) << "no peer address in any series";
}

TEST_F(ServerMetricsTest, InFlightGaugeShowsARunningHandler) {
  start(metrics_server());
  greenrpc::Client client("127.0.0.1", server.port());
  auto slow = client.call_async(test_app::sleep_ms, 1500);
  EXPECT_EQ(await_sum("greenrpc_server_requests_in_flight", {}, 1, 1400ms), 1);
  EXPECT_EQ(slow.get(), 1500);
  EXPECT_EQ(await_sum("greenrpc_server_requests_in_flight", {}, 0), 0);
  EXPECT_EQ(await_sum("greenrpc_server_requests_total", {label("command", "sleep_ms"), label("outcome", "ok")}, 1), 1);
}

TEST_F(ServerMetricsTest, ReadyzTurnsNotReadyDuringTheDrainWhileMetricsStillAnswer) {
  auto opts = metrics_server();
  opts.grace_period = 5000ms;
  start(opts);
  const std::uint16_t mport = server.metrics_port();
  EXPECT_EQ(http_get(mport, "/readyz").status, 200);
  EXPECT_EQ(http_get(mport, "/healthz").status, 200);
  greenrpc::Client client("127.0.0.1", server.port());
  auto slow = client.call_async(test_app::sleep_ms, 3000);  // keeps the drain going
  ASSERT_EQ(await_sum("greenrpc_server_requests_in_flight", {}, 1), 1);
  EXPECT_EQ(http_get(mport, "/readyz").status, 200);
  std::thread stopper([&] { server.stop(); });
  int readyz = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        readyz = http_get(mport, "/readyz").status;
        return readyz == 503;
      },
      2000ms))
      << "last /readyz status " << readyz;
  const Http during = http_get(mport, "/metrics");
  EXPECT_EQ(during.status, 200);
  EXPECT_NE(during.body.find("greenrpc_server_requests_in_flight{port=\"" + std::to_string(server.port()) + "\"} 1"),
            std::string::npos)
      << during.body;
  EXPECT_EQ(http_get(mport, "/healthz").status, 200) << "alive, only not ready";
  EXPECT_EQ(slow.get(), 3000) << "the running request finished within the grace period";
  stopper.join();
  EXPECT_EQ(http_get(mport, "/readyz").status, 0) << "the endpoint went with the server";
}

TEST_F(ServerMetricsTest, PlaintextToATlsPortCountsAsNotTls) {
  auto opts = tls_test::tls_server();
  opts.metrics.enabled = true;
  opts.metrics.port = 0;
  start(opts);
  {
    RawSocket s(server.port(), 3000);
    s.send("*1\r\n$4\r\nPING\r\n");
    char c;
    while (::recv(s.fd(), &c, 1, 0) > 0) {
    }  // until the server closes (or the receive timeout)
  }
  EXPECT_EQ(await_sum("greenrpc_server_tls_handshake_failures_total", {label("reason", "not_tls")}, 1), 1);
  const std::string body = scrape(server.metrics_port());
  EXPECT_EQ(sum_of(body, "greenrpc_server_tls_handshake_failures_total", {port_label()}), 1) << "no other reason";
  // A good TLS client is not counted.
  greenrpc::Client good("127.0.0.1", server.port(), tls_test::tls_client());
  EXPECT_EQ(good.call(test_app::add, 1, NumberInput{1}), 2);
  EXPECT_EQ(sum_of(scrape(server.metrics_port()), "greenrpc_server_tls_handshake_failures_total", {port_label()}), 1);
}

TEST_F(ServerMetricsTest, AuthFailuresCountByKind) {
  auto opts = metrics_server();
  opts.auth_secret = "signing key";
  start(opts);
  {
    RawSocket s(server.port());
    std::string pending;
    s.send("*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n");
    EXPECT_EQ(test_support::read_resp_reply(s.fd(), pending).rfind("-PERMISSION_DENIED", 0), 0u);
    s.send("*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n");
    EXPECT_EQ(test_support::read_resp_reply(s.fd(), pending), "+OK\r\n");
  }
  EXPECT_EQ(await_sum("greenrpc_server_auth_failures_total", {label("kind", "auth")}, 1), 1);
  greenrpc::Client unsigned_client("127.0.0.1", server.port());
  EXPECT_ANY_THROW(unsigned_client.call(test_app::add, 1, NumberInput{1}));
  greenrpc::ClientOptions signing;
  signing.auth_secret = "signing key";
  greenrpc::Client signed_client("127.0.0.1", server.port(), signing);
  EXPECT_EQ(signed_client.call(test_app::add, 1, NumberInput{1}), 2);
  EXPECT_EQ(await_sum("greenrpc_server_auth_failures_total", {label("kind", "signature")}, 1), 1);
  const std::string body = scrape(server.metrics_port());
  const std::string p = port_label();
  EXPECT_EQ(sum_of(body, "greenrpc_server_auth_failures_total", {p, label("kind", "auth")}), 1)
      << "the wrong AUTH counted once, not also as a signature failure";
  EXPECT_EQ(sum_of(body, "greenrpc_server_requests_total", {p, label("command", "add"), label("outcome", "AUTH_ERROR")}), 1);
  EXPECT_EQ(sum_of(body, "greenrpc_server_requests_total", {p, label("command", "add"), label("outcome", "ok")}), 1);
}

TEST_F(ServerMetricsTest, ClientMetricsShareTheEndpointAndCountRetriesAndReconnects) {
  start(metrics_server());
  const std::uint16_t mport = server.metrics_port(), port = server.port();
  greenrpc::ClientOptions copts;
  copts.metrics.enabled = true;
  copts.metrics.port = mport;  // the endpoint is shared per host:port
  copts.retry_backoff = 20ms;
  auto client = std::make_unique<greenrpc::Client>("127.0.0.1", port, copts);
  for (int i = 0; i < 9; ++i) ASSERT_EQ(client->call(test_app::add, i, NumberInput{i}), 2 * i);
  for (int i = 0; i < 4; ++i)
    EXPECT_THROW(client->call<int>("add", 1, std::string("not a model")), greenrpc::ValidationError);
  EXPECT_THROW(client->call<int>("no_such_command"), greenrpc::UnknownCommandError);

  const std::string target = label("target", "127.0.0.1:" + std::to_string(port));
  const std::string add = label("command", "add");
  std::string body = scrape(mport);
  EXPECT_EQ(sum_of(body, "greenrpc_client_calls_total", {target, add, label("outcome", "ok")}), 9) << body;
  EXPECT_EQ(sum_of(body, "greenrpc_client_calls_total", {target, add, label("outcome", "VALIDATION_ERROR")}), 4);
  EXPECT_EQ(sum_of(body, "greenrpc_client_calls_total",
                   {target, label("command", "no_such_command"), label("outcome", "INVALID_COMMAND")}),
            1);
  EXPECT_EQ(sum_of(body, "greenrpc_client_call_duration_seconds_count", {target, add}), 13);
  EXPECT_EQ(sum_of(body, "greenrpc_client_calls_in_flight", {target}), 0);
  EXPECT_EQ(sum_of(body, "greenrpc_client_retries_total", {target}), 0);
  EXPECT_EQ(sum_of(body, "greenrpc_client_reconnects_total", {target}), 0);
  EXPECT_EQ(sum_of(body, "greenrpc_server_requests_total", {port_label(), add, label("outcome", "ok")}), 9)
      << "server and client series on one endpoint";

  // A restart with an idempotent call running: the stopping server cancels it after a short
  // grace, the client sends it again to the new server on the same port (and metrics port).
  greenrpc::CallOptions idempotent;
  idempotent.idempotent = true;
  auto slow = client->call_async(idempotent, test_app::sleep_ms, 600);
  ASSERT_TRUE(wait_until([&] { return sum_of(scrape(mport), "greenrpc_client_calls_in_flight", {target}) == 1; }, 2000ms));
  ASSERT_TRUE(wait_until(
      [&] { return sum_of(scrape(mport), "greenrpc_server_requests_in_flight", {port_label()}) == 1; }, 2000ms));
  server.stop(50ms);
  auto opts = metrics_server();
  opts.port = port;
  opts.metrics.port = mport;
  server = app.start_background(opts);
  EXPECT_EQ(server.metrics_port(), mport);
  EXPECT_EQ(slow.get(), 600);
  body = scrape(mport);
  EXPECT_GE(sum_of(body, "greenrpc_client_retries_total", {target}), 1) << body;
  EXPECT_GE(sum_of(body, "greenrpc_client_reconnects_total", {target}), 1) << body;
  EXPECT_EQ(sum_of(body, "greenrpc_client_calls_total", {target, label("command", "sleep_ms"), label("outcome", "ok")}), 1)
      << "a call sent twice finishes once";
  EXPECT_EQ(sum_of(body, "greenrpc_server_requests_total",
                   {port_label(), label("command", "sleep_ms"), label("outcome", "ok")}),
            1)
      << "the new server's counters start from zero";
  client.reset();
  EXPECT_EQ(lines_of(scrape(mport), "greenrpc_client_calls_total", {target}).size(), 0u) << "the client's series went with it";
}

TEST_F(ServerMetricsTest, PromtoolAcceptsAScrapeWithServerAndClientSeries) {
  if (!test_support::promtool_installed()) GTEST_SKIP() << "promtool is not installed";
  auto opts = tls_test::tls_server();
  opts.metrics.enabled = true;
  opts.metrics.port = 0;
  start(opts);
  greenrpc::ClientOptions copts = tls_test::tls_client();
  copts.metrics.enabled = true;
  copts.metrics.port = server.metrics_port();
  greenrpc::Client client("127.0.0.1", server.port(), copts);
  for (int i = 0; i < 20; ++i) client.call(test_app::add, i, NumberInput{i});
  EXPECT_THROW(client.call<int>("add", 1, std::string("x")), greenrpc::ValidationError);
  EXPECT_ANY_THROW(client.call<int>("fail_custom", std::string("x")));
  EXPECT_THROW(client.call<int>("nope"), greenrpc::UnknownCommandError);
  const std::string body = scrape(server.metrics_port());
  for (const char* family : {"greenrpc_server_requests_total", "greenrpc_server_request_duration_seconds_bucket",
                             "greenrpc_server_tls_handshake_failures_total", "greenrpc_client_calls_total",
                             "greenrpc_client_call_duration_seconds_bucket", "process_cpu_seconds_total"})
    EXPECT_FALSE(lines_of(body, family).empty()) << family;
  const auto check = test_support::promtool_check(body);
  EXPECT_TRUE(check.accepted) << check.output << "\n--- scrape ---\n" << body;
}

TEST_F(ServerMetricsTest, ClientMakesNoConnectAttemptOnceEveryCallerHasGivenUp) {
  // The reconnect back-off ends at the latest waiting caller's deadline; if that caller has given
  // up by then, nobody is left to connect for: the client must not try again (nor hand the caller
  // a connect error instead of its timeout). Counted by greenrpc_client_connect_failures_total.
  start(metrics_server());  // serves the endpoint the client shares
  std::uint16_t closed = 0;
  ::close(test_support::listen_loopback(closed));  // a port nothing listens on: refused at once
  greenrpc::ClientOptions copts;
  copts.metrics.enabled = true;
  copts.metrics.port = server.metrics_port();
  copts.connect_retries = 10;
  copts.retry_backoff = 2000ms;  // 1-3 s pauses with jitter
  copts.retry_backoff_max = 2000ms;
  greenrpc::Client client("127.0.0.1", closed, copts);
  const std::string target = label("target", "127.0.0.1:" + std::to_string(closed));
  EXPECT_THROW(client.call(greenrpc::CallOptions{.timeout = 100ms}, test_app::add, 1, NumberInput{1}),
               greenrpc::TimeoutError);
  std::this_thread::sleep_for(300ms);  // the pause ended at 100 ms, when the caller gave up
  EXPECT_EQ(sum_of(scrape(server.metrics_port()), "greenrpc_client_connect_failures_total", {target}), 1)
      << "a connect attempt was made for a caller that had given up";
  // A new caller starts a new attempt at once.
  EXPECT_THROW(client.call(greenrpc::CallOptions{.timeout = 100ms}, test_app::add, 1, NumberInput{1}),
               greenrpc::TimeoutError);
  EXPECT_TRUE(wait_until(
      [&] { return sum_of(scrape(server.metrics_port()), "greenrpc_client_connect_failures_total", {target}) == 2; },
      3000ms));
}
