// The legacy_threads server: a trivial compute service for the multi-threaded legacy program in
// client.hpp.
//   legacy_threads_server [--host H] [--port N] [--workers N]   serves until Ctrl-C
//   legacy_threads_server --self-test                          runs the legacy program against
//                                                               itself, exits 0/1
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "api.hpp"
#include "client.hpp"

greenrpc::App make_app(std::atomic<std::uint64_t>& served) {
  greenrpc::App app;
  // With --workers N, handlers run on N threads at once: shared counters must be atomic.
  app.command(multiply, [&served](std::int64_t a, std::int64_t b) {
    served.fetch_add(1, std::memory_order_relaxed);
    return a * b;
  });
  app.command(calls_served, [&served] { return served.load(std::memory_order_relaxed); });
  return app;
}

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;  // 127.0.0.1:7777 by default
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--self-test") self_test = true;
    else if (arg == "--port" && i + 1 < argc) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--host" && i + 1 < argc) options.host = argv[++i];
    else if (arg == "--workers" && i + 1 < argc) options.workers = static_cast<unsigned>(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--workers N] [--self-test]\n", argv[0]);
      return 2;
    }
  }

  std::atomic<std::uint64_t> served{0};
  greenrpc::App app = make_app(served);
  if (self_test) {
    options.port = 0;  // any free port
    greenrpc::Server server = app.start_background(options);
    bool ok = run_client(options.host, server.port(), LegacyLoad{});
    server.stop();
    std::printf("legacy_threads self-test %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
  }
  std::printf("legacy_threads server on %s:%u\n", options.host.c_str(), options.port);
  std::fflush(stdout);
  app.run(options);  // until Ctrl-C / SIGTERM
}
