#pragma once
// A test fixture with an in-process server of the shared test App (test_app.hpp), stopped after
// each test, and a bounded poll for conditions the server reaches asynchronously.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "test_app.hpp"

namespace test_support {

inline long long ms_since(greenrpc::Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(greenrpc::Clock::now() - t0).count();
}

// Polls `done` every 5 ms until it holds or `limit` passes; true when it held.
template <class F>
bool wait_until(F done, std::chrono::milliseconds limit) {
  const auto until = greenrpc::Clock::now() + limit;
  while (!done()) {
    if (greenrpc::Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(const greenrpc::ServerOptions& opts) {
    test_app::install(app, counters);
    server = app.start_background(opts);
  }
  void TearDown() override {
    if (server.running()) server.stop();
  }
  greenrpc::App app;
  test_app::Counters counters;
  greenrpc::Server server;
};

// What a call ended with: "ok", or the error type a user would catch (TlsError with its reason).
inline std::string reason_name(greenrpc::TlsError::Reason r) {
  using R = greenrpc::TlsError::Reason;
  switch (r) {
    case R::unknown_ca: return "unknown_ca";
    case R::wrong_host: return "wrong_host";
    case R::expired: return "expired";
    case R::invalid_certificate: return "invalid_certificate";
    case R::client_cert_required: return "client_cert_required";
    case R::peer_cert_rejected: return "peer_cert_rejected";
    case R::not_tls: return "not_tls";
    case R::protocol: return "protocol";
    case R::configuration: return "configuration";
  }
  return "?";
}

template <class F>
std::string outcome_of(F&& f) {
  try {
    f();
    return "ok";
  } catch (const greenrpc::TlsError& e) {
    return "TlsError " + reason_name(e.reason());
  } catch (const greenrpc::ConnectionLostError&) {
    return "ConnectionLostError";
  } catch (const greenrpc::ConnectError&) {
    return "ConnectError";
  } catch (const greenrpc::TimeoutError&) {
    return "TimeoutError";
  } catch (const greenrpc::CancelledError&) {
    return "CancelledError";
  } catch (const greenrpc::AuthError&) {
    return "AuthError";
  } catch (const greenrpc::RemoteError& e) {
    return "RemoteError " + e.code();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
}

// Starts `app` on `port` as soon as the port can be bound (its predecessor's listener closes when
// its stop begins); throws after `within`.
inline greenrpc::Server start_on_port(greenrpc::App& app, std::uint16_t port, greenrpc::ServerOptions o,
                                      greenrpc::Clock::duration within = std::chrono::seconds(3)) {
  o.port = port;
  const auto end = greenrpc::Clock::now() + within;
  for (;;) {
    try {
      return app.start_background(o);
    } catch (const greenrpc::IoError&) {
      if (greenrpc::Clock::now() >= end) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

}  // namespace test_support
