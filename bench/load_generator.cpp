// A pipelining load generator built on greenrpc::Client.
//
//   load_generator [--host H] [--port P] [--connections N] [--pipeline D] [--duration S]
//                  [--warmup S] [--payload BYTES | --tino-payload] [--command add|echo]
//                  [--clients K] [--caller-threads T] [--callers fibers|threads] [--secret S]
//                  [--shared-loop] [--tls-ca FILE]
//
// --shared-loop: the clients run on one EventLoopThread (Client(host, port, options, loop)) and the
// callers are fibers of that same loop: one thread, no thread hop per call (used by run.sh's signed
// section).
//
// --secret S sets ClientOptions::auth_secret: every request is HMAC-signed and every reply verified
// (the server must run with the same secret).
//
// --tls-ca FILE: TLS to the server (ClientOptions::tls), verifying its certificate against that CA
// (PEM) and its name or IP against the certificate's SANs (echo_server --tls-cert/--tls-key).
// Model (the default, measured to be the fastest on a 2-core box — see bench/README.md):
//   * K greenrpc::Client objects (default 1); the N connections are split between them through
//     ClientOptions::connections. Each Client owns one I/O thread that writes and reads its
//     connections.
//   * N callers, each keeping D calls in flight with call_async (a sliding window: wait for the
//     oldest, record its latency, send the next one). Callers are fibers on T greenrpc runtime
//     threads (default 1) — a parked caller costs no thread — or, with --callers threads, N plain
//     threads blocking in Future::get().
//   * Calls are spread round-robin over a Client's connections, so each connection carries about
//     D requests in flight, like redis-benchmark -c N -P D (which sends D-request batches).
//   * Latency = time from call_async() to the moment get() returns the decoded result, so it
//     includes the client's own queueing (as redis-benchmark's does).
// Output: one human-readable summary plus one machine-readable line:
//   RESULT command=<c> signed=0|1 tls=0|1 connections=<N> pipeline=<D> requests=<n> errors=<e> rps=<r> p50_us=<x> p99_us=<y>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <greenrpc/runtime/event_loop_thread.hpp>

#include "bench_commands.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  std::size_t connections = 1;
  std::size_t pipeline = 1;
  double duration = 5.0;
  double warmup = 0.5;
  std::string command = "add";
  std::size_t payload = 16;
  bool tino = false;
  std::size_t clients = 1;
  std::size_t caller_threads = 1;
  bool fiber_callers = true;
  std::string secret;  // ClientOptions::auth_secret; empty: unsigned
  bool shared_loop = false;  // clients and caller fibers on one EventLoopThread
  std::string tls_ca;        // ClientOptions::tls.ca_file; non-empty: TLS on
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--host H] [--port P] [--connections N] [--pipeline D] [--duration S] [--warmup S]\n"
               "          [--payload BYTES | --tino-payload] [--command add|echo]\n"
               "          [--clients K] [--caller-threads T] [--callers fibers|threads] [--secret S] [--shared-loop]\n"
               "          [--tls-ca FILE]\n",
               argv0);
  std::exit(2);
}

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    if (a == "--host") c.host = value();
    else if (a == "--port") c.port = static_cast<std::uint16_t>(std::stoi(value()));
    else if (a == "--connections" || a == "-c") c.connections = std::stoul(value());
    else if (a == "--pipeline" || a == "-P") c.pipeline = std::stoul(value());
    else if (a == "--duration") c.duration = std::stod(value());
    else if (a == "--warmup") c.warmup = std::stod(value());
    else if (a == "--payload") c.payload = std::stoul(value());
    else if (a == "--tino-payload") c.tino = true;
    else if (a == "--command") c.command = value();
    else if (a == "--clients") c.clients = std::stoul(value());
    else if (a == "--caller-threads") c.caller_threads = std::stoul(value());
    else if (a == "--secret") c.secret = value();
    else if (a == "--shared-loop") c.shared_loop = true;
    else if (a == "--tls-ca") c.tls_ca = value();
    else if (a == "--callers") {
      std::string v = value();
      if (v == "fibers") c.fiber_callers = true;
      else if (v == "threads") c.fiber_callers = false;
      else usage(argv[0]);
    } else usage(argv[0]);
  }
  if (c.connections == 0 || c.pipeline == 0 || c.clients == 0 || c.caller_threads == 0) usage(argv[0]);
  if (c.command != "add" && c.command != "echo") usage(argv[0]);
  c.clients = std::min(c.clients, c.connections);
  return c;
}

// What every caller shares: the phase clock and the counters.
struct Run {
  Clock::time_point measure_from, stop_at;
  std::atomic<std::uint64_t> errors{0};
  std::mutex merge_mutex;
  std::vector<std::uint32_t> latencies_ns_all;  // merged at the end
  std::uint64_t measured = 0;
  std::string first_error;
};

// One caller: keeps `depth` calls in flight on `client` until the run ends.
template <class Issue, class Check>
void caller_loop(Run& run, std::size_t depth, Issue issue, Check check) {
  using F = decltype(issue());
  struct InFlight {
    F future;
    Clock::time_point sent;
  };
  std::deque<InFlight> window;
  std::vector<std::uint32_t> lat;
  lat.reserve(1 << 16);
  std::uint64_t measured = 0, errors = 0;
  std::string first_error;
  bool stopping = false;
  for (;;) {
    Clock::time_point now = Clock::now();
    if (!stopping && now >= run.stop_at) stopping = true;
    if (!stopping) {
      while (window.size() < depth) window.push_back(InFlight{issue(), Clock::now()});
    }
    if (window.empty()) break;
    InFlight f = std::move(window.front());
    window.pop_front();
    bool ok = false;
    try {
      ok = check(f.future.get());
      if (!ok && first_error.empty()) first_error = "wrong result";
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what();
    }
    Clock::time_point done = Clock::now();
    if (!ok) {
      ++errors;
      continue;
    }
    // Count calls that were sent inside the measured window and completed before stop_at.
    if (f.sent >= run.measure_from && done <= run.stop_at) {
      ++measured;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(done - f.sent).count();
      lat.push_back(static_cast<std::uint32_t>(std::min<long long>(ns, UINT32_MAX)));
    }
  }
  std::lock_guard lock(run.merge_mutex);
  run.errors += errors;
  run.measured += measured;
  if (run.first_error.empty()) run.first_error = first_error;
  run.latencies_ns_all.insert(run.latencies_ns_all.end(), lat.begin(), lat.end());
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg = parse_args(argc, argv);

  std::string payload = cfg.tino ? bench::tino_payload() : std::string(cfg.payload, 'x');

  // K clients, connections split as evenly as possible.
  // --shared-loop: the clients' connections and the caller fibers share this one loop thread.
  std::unique_ptr<greenrpc::EventLoopThread> shared;
  if (cfg.shared_loop) shared = std::make_unique<greenrpc::EventLoopThread>("bench-loop");
  std::vector<std::unique_ptr<greenrpc::Client>> clients;
  std::vector<std::size_t> conns_of;
  for (std::size_t k = 0; k < cfg.clients; ++k) {
    std::size_t n = cfg.connections / cfg.clients + (k < cfg.connections % cfg.clients ? 1 : 0);
    greenrpc::ClientOptions opts;
    opts.connections = n;
    opts.auth_secret = cfg.secret;
    opts.tls.enabled = !cfg.tls_ca.empty();
    opts.tls.ca_file = cfg.tls_ca;
    clients.push_back(shared ? std::make_unique<greenrpc::Client>(cfg.host, cfg.port, opts, *shared)
                             : std::make_unique<greenrpc::Client>(cfg.host, cfg.port, opts));
    conns_of.push_back(n);
  }
  // Open every connection (each Client connects lazily, on its first calls).
  try {
    for (std::size_t k = 0; k < clients.size(); ++k) {
      std::vector<greenrpc::Future<int>> fs;
      for (std::size_t i = 0; i < conns_of[k]; ++i) fs.push_back(clients[k]->call_async(bench::add, 1, bench::NumberInput{2}));
      for (auto& f : fs)
        if (f.get() != 3) throw std::runtime_error("add(1, {value: 2}) != 3");
    }
    if (cfg.command == "echo" && clients[0]->call(bench::echo, payload) != payload)
      throw std::runtime_error("echo returned a different string");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warm-up call failed: %s\n", e.what());
    return 1;
  }

  Run run;
  Clock::time_point start = Clock::now();
  run.measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cfg.warmup));
  run.stop_at = run.measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cfg.duration));

  // Caller i uses client i % K.
  auto body = [&](std::size_t i) {
    greenrpc::Client& client = *clients[i % clients.size()];
    if (cfg.command == "add") {
      caller_loop(run, cfg.pipeline, [&] { return client.call_async(bench::add, 1, bench::NumberInput{2}); },
                  [](int r) { return r == 3; });
    } else {
      caller_loop(run, cfg.pipeline, [&] { return client.call_async(bench::echo, payload); },
                  [&](const std::string& r) { return r.size() == payload.size(); });
    }
  };

  if (shared) {
    greenrpc::FiberGroup callers(*shared);
    for (std::size_t i = 0; i < cfg.connections; ++i) callers.spawn([&body, i] { body(i); });
    callers.join();
  } else if (cfg.fiber_callers) {
    std::vector<std::unique_ptr<greenrpc::EventLoopThread>> loops;
    for (std::size_t t = 0; t < cfg.caller_threads; ++t)
      loops.push_back(std::make_unique<greenrpc::EventLoopThread>("bench-caller" + std::to_string(t)));
    for (std::size_t i = 0; i < cfg.connections; ++i)
      loops[i % loops.size()]->spawn_fiber([&body, i] { body(i); });
    loops.clear();  // stop() + join: returns once every caller fiber has finished
  } else {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < cfg.connections; ++i) threads.emplace_back([&body, i] { body(i); });
    for (auto& t : threads) t.join();
  }

  auto& lat = run.latencies_ns_all;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) -> double {
    if (lat.empty()) return 0;
    std::size_t idx = static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1));
    return lat[idx] / 1000.0;
  };
  double rps = static_cast<double>(run.measured) / cfg.duration;
  std::printf("%s%s%s: %zu connections, pipeline %zu, payload %zu bytes, %s callers (%zu client%s, %zu caller thread%s)\n",
              cfg.command.c_str(), cfg.secret.empty() ? "" : " (signed)", cfg.tls_ca.empty() ? "" : " (TLS)", cfg.connections, cfg.pipeline, cfg.command == "echo" ? payload.size() : std::size_t{0},
              cfg.fiber_callers ? "fiber" : "thread", clients.size(), clients.size() == 1 ? "" : "s",
              cfg.fiber_callers ? cfg.caller_threads : cfg.connections,
              (cfg.fiber_callers ? cfg.caller_threads : cfg.connections) == 1 ? "" : "s");
  std::printf("  %.0f requests/s over %.1f s, p50 %.1f us, p99 %.1f us, errors %llu\n", rps, cfg.duration, pct(0.50),
              pct(0.99), static_cast<unsigned long long>(run.errors.load()));
  if (run.errors) std::printf("  first error: %s\n", run.first_error.c_str());
  std::printf("RESULT command=%s signed=%d tls=%d connections=%zu pipeline=%zu requests=%llu errors=%llu rps=%.0f p50_us=%.1f p99_us=%.1f\n",
              cfg.command.c_str(), cfg.secret.empty() ? 0 : 1, cfg.tls_ca.empty() ? 0 : 1, cfg.connections, cfg.pipeline, static_cast<unsigned long long>(run.measured),
              static_cast<unsigned long long>(run.errors.load()), rps, pct(0.50), pct(0.99));
  return run.errors ? 1 : 0;
}
