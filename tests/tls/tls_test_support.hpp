#pragma once
// What the TLS suites share: the test certificates (made once per process by the openssl tool),
// a server App whose handlers report what TLS established, option builders, and outcome_of.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/server_fixture.hpp"
#include "../support/test_app.hpp"
#include "../support/test_certificates.hpp"

namespace tls_test {

using namespace std::chrono_literals;
using greenrpc::Clock;
using test_app::NumberInput;
using test_support::ms_since;
using test_support::wait_until;

inline const test_support::TestCertificates& certs() { return test_support::TestCertificates::get(); }

// The shared test commands, plus what a handler sees of TLS through its RequestContext.
inline void install_tls_commands(greenrpc::App& app, test_app::Counters& counters) {
  test_app::install(app, counters);
  app.command("tls_version", [](const greenrpc::RequestContext& ctx) {
    return ctx.tls() ? ctx.tls()->version : std::string("none");
  });
  app.command("tls_sni", [](const greenrpc::RequestContext& ctx) {
    return ctx.tls() ? ctx.tls()->server_name : std::string("none");
  });
  app.command("peer_cn", [](const greenrpc::RequestContext& ctx) {
    return ctx.peer_certificate() ? ctx.peer_certificate()->common_name : std::string("none");
  });
  app.command("peer_uris", [](const greenrpc::RequestContext& ctx) {
    return ctx.peer_certificate() ? ctx.peer_certificate()->uris : std::vector<std::string>{};
  });
  app.command("peer_issuer", [](const greenrpc::RequestContext& ctx) {
    return ctx.peer_certificate() ? ctx.peer_certificate()->issuer : std::string("none");
  });
  app.command("peer_days_left", [](const greenrpc::RequestContext& ctx) {
    if (!ctx.peer_certificate()) return -1L;
    return static_cast<long>(std::chrono::duration_cast<std::chrono::hours>(ctx.peer_certificate()->not_after -
                                                                            std::chrono::system_clock::now())
                                 .count() / 24);
  });
  app.command("peer_fingerprint", [](const greenrpc::RequestContext& ctx) {
    return ctx.peer_certificate() ? ctx.peer_certificate()->sha256_fingerprint : std::string("none");
  });
}

// A server on 127.0.0.1:0 serving TLS with `cert` (a name in TestCertificates) on its port.
inline greenrpc::ServerOptions tls_server(const std::string& cert = "server") {
  greenrpc::ServerOptions o = test_app::local_options();
  o.tls.cert_file = certs().pem(cert);
  o.tls.key_file = certs().key(cert);
  return o;
}

// A client trusting the test CA, verifying the server as 127.0.0.1 (its IP SAN). Bounded
// connects: a refusal that were retried would show in the elapsed time and the accept count.
inline greenrpc::ClientOptions tls_client(const std::string& ca = "ca") {
  greenrpc::ClientOptions o;
  o.tls.enabled = true;
  o.tls.ca_file = certs().pem(ca);
  o.connect_timeout = 2s;
  o.connect_retries = 3;
  return o;
}

using test_support::outcome_of;
using test_support::reason_name;


// Copies `from` to `to` through a temporary file renamed over it: what a certificate manager
// does, so a reader never sees half a file.
inline void replace_file(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".new";
  std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(tmp, to);
}

// Sets `stop` and joins the threads when it goes out of scope: a failed ASSERT cannot leave a
// joinable std::thread behind (std::terminate).
struct JoinOnExit {
  std::atomic<bool>& stop;
  std::vector<std::thread>& threads;
  ~JoinOnExit() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
};

// A greenrpc client calling add in a thread until stopped: the client a misbehaving peer must not
// hold up. ok/failed count the calls; first_failure is the first failed call's outcome.
struct BackgroundCaller {
  explicit BackgroundCaller(greenrpc::Client& c) {
    threads.emplace_back([this, &c] {
      for (int i = 0; !stop && i < 1'000'000; ++i) {
        std::string o = outcome_of([&] {
          if (c.call(test_app::add, i, NumberInput{1}) != i + 1) throw std::runtime_error("wrong sum");
        });
        if (o == "ok") {
          ++ok;
        } else if (failed++ == 0) {
          std::lock_guard lock(mutex);
          first_failure = o;
        }
      }
    });
  }
  void finish() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::mutex mutex;
  std::string first_failure;
  std::vector<std::thread> threads;
  JoinOnExit joiner{stop, threads};
};

// How the server ended each raw connection: "eof" (recv 0), "reset", "open" (still open after
// `limit`), "data" (bytes came); and when, in ms from t0.
struct End {
  std::string how = "open";
  long long at_ms = -1;
};
inline std::vector<End> await_ends(const std::vector<int>& fds, Clock::time_point t0, std::chrono::milliseconds limit) {
  std::vector<End> ends(fds.size());
  const auto until = Clock::now() + limit;
  for (;;) {
    std::vector<pollfd> polled;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (ends[i].at_ms < 0) {
        polled.push_back({fds[i], POLLIN, 0});
        index.push_back(i);
      }
    if (polled.empty()) return ends;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return ends;
    if (::poll(polled.data(), polled.size(), static_cast<int>(left)) <= 0) continue;
    for (std::size_t k = 0; k < polled.size(); ++k) {
      if (!polled[k].revents) continue;
      End& e = ends[index[k]];
      char c;
      const ssize_t n = ::recv(polled[k].fd, &c, 1, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      e.how = n == 0 ? "eof" : n > 0 ? "data" : errno == ECONNRESET ? "reset" : "error";
      e.at_ms = ms_since(t0);
    }
  }
}

inline long long info_field(greenrpc::Client& c, std::string_view field) {
  std::string_view parts[] = {"INFO"};
  const std::string reply = c.command(parts).str;
  const std::string key = "\n" + std::string(field) + ":";
  auto at = reply.find(key);
  return at == std::string::npos ? -1 : std::atoll(reply.c_str() + at + key.size());
}

// A fixture with the TLS test App (server started by start()) stopped after each test.
class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { install_tls_commands(app, counters); }
  void start(const greenrpc::ServerOptions& opts) { server = app.start_background(opts); }
  void TearDown() override {
    if (server.running()) server.stop();
  }
  // The port TLS is served on (the plaintext port of a server without TLS).
  std::uint16_t tls_port() const { return server.tls_port() ? server.tls_port() : server.port(); }
  greenrpc::Client client(greenrpc::ClientOptions o) { return {"127.0.0.1", tls_port(), std::move(o)}; }

  greenrpc::App app;
  test_app::Counters counters;
  greenrpc::Server server;
};

}  // namespace tls_test
