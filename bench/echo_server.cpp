// The greenrpc side of the benchmark: add(int, NumberInput) and echo(str).
//   echo_server [--port N] [--host H] [--workers N] [--secret S]   (defaults: 127.0.0.1:7777, 1 worker)
//               [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]
//               [--keep-idle-fibers] [--idle-fiber-linger-ms MS] [--metrics-port N]
// --secret S sets ServerOptions::auth_secret: user commands then require HMAC-signed requests and
// every reply is signed (built-ins such as PING still answer unsigned).
// --tls-cert/--tls-key (PEM) serve TLS on --port (ServerOptions::tls; plaintext sent there gets an
// error reply and is closed). --tls-ca FILE additionally requires a client certificate that chains
// to that CA (mutual TLS: tls.ca_file + tls.require_client_cert).
// --metrics-port N serves /metrics, /healthz and /readyz on 127.0.0.1:N (ServerOptions::metrics).
// Runs until SIGINT/SIGTERM. Prints "ready <port>" on stdout once it listens.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_commands.hpp"

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;
  options.port = 7777;
  options.workers = 1;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--port")) options.port = static_cast<std::uint16_t>(std::atoi(value()));
    else if (!std::strcmp(argv[i], "--host")) options.host = value();
    else if (!std::strcmp(argv[i], "--workers")) options.workers = static_cast<unsigned>(std::atoi(value()));
    else if (!std::strcmp(argv[i], "--secret")) options.auth_secret = value();
    else if (!std::strcmp(argv[i], "--keep-idle-fibers")) options.release_idle_fibers = false;
    else if (!std::strcmp(argv[i], "--idle-fiber-linger-ms")) options.idle_fiber_linger = std::chrono::milliseconds(std::atoi(value()));
    else if (!std::strcmp(argv[i], "--tls-cert")) options.tls.cert_file = value();
    else if (!std::strcmp(argv[i], "--tls-key")) options.tls.key_file = value();
    else if (!std::strcmp(argv[i], "--tls-ca")) options.tls.ca_file = value();
    else if (!std::strcmp(argv[i], "--metrics-port")) {
      options.metrics.enabled = true;
      options.metrics.port = static_cast<std::uint16_t>(std::atoi(value()));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--port N] [--host H] [--workers N] [--secret S] [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]\n"
                   "          [--keep-idle-fibers] [--idle-fiber-linger-ms MS] [--metrics-port N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (options.tls.cert_file.empty() != options.tls.key_file.empty() ||
      (!options.tls.ca_file.empty() && options.tls.cert_file.empty())) {
    std::fprintf(stderr, "--tls-cert and --tls-key go together; --tls-ca needs both\n");
    return 2;
  }
  options.tls.require_client_cert = !options.tls.ca_file.empty();

  greenrpc::App app;
  app.command(bench::add, [](int a, bench::NumberInput b) { return a + b.value; });
  app.command(bench::echo, [](std::string s) { return s; });
  app.on_startup([&] {
    std::printf("ready %u (workers=%u, %s%s)\n", options.port, options.workers,
                options.auth_secret.empty() ? "unsigned" : "signed",
                !options.tls.enabled() ? "" : options.tls.require_client_cert ? ", TLS, client certificates required" : ", TLS");
    std::fflush(stdout);
  });
  app.run(options);
}
