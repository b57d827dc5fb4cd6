#pragma once
// The background_server client part, shared by background_client and
// `background_server --self-test`: queues jobs in the application and watches them finish.
// Returns false when a result is not the expected one.
#include <algorithm>
#include <cstdio>
#include <string>

#include "api.hpp"

inline bool run_client(const std::string& host, std::uint16_t port) {
  bool ok = true;
  auto expect = [&ok](bool condition, const char* what) {
    std::printf("  %s %s\n", condition ? "ok  " : "FAIL", what);
    ok = ok && condition;
  };

  try {
    greenrpc::Client client{host, port};
    EngineStatus before = client.call(engine_status);
    std::printf("  engine: %lld ticks, %lld finished\n", static_cast<long long>(before.ticks),
                static_cast<long long>(before.finished));

    std::int64_t first = client.call(submit_job, "resize-images");
    std::int64_t second = client.call(submit_job, "send-newsletter");
    std::int64_t third = client.call(submit_job, "rotate-logs");
    expect(second == first + 1 && third == second + 1, "submit_job() x3 returns consecutive ids");

    // The job loop finishes one job per 100 ms tick; wait_job parks on the server until then.
    expect(client.call(wait_job, third, 2000), "wait_job(third, 2 s) == true");
    EngineStatus after = client.call(engine_status);
    std::printf("  engine: %lld ticks, %lld finished, %lld queued\n", static_cast<long long>(after.ticks),
                static_cast<long long>(after.finished), static_cast<long long>(after.queued));
    expect(after.finished >= third && after.ticks > before.ticks, "engine_status() shows the jobs finished");
    expect(std::find(after.recent.begin(), after.recent.end(), "rotate-logs") != after.recent.end(),
           "engine_status().recent lists rotate-logs");

    // A job that does not exist yet: wait_job gives up after its timeout.
    expect(!client.call(wait_job, third + 1000, 50), "wait_job(unknown id, 50 ms) == false");
  } catch (const greenrpc::Error& e) {
    std::printf("  FAIL unexpected error: %s\n", e.what());
    return false;
  }
  return ok;
}
