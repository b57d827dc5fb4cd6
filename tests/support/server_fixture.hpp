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

}  // namespace test_support
