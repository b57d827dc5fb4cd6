// The quickstart server: Tino's README example in C++.
//   quickstart_server [--port N] [--host H] [--workers N]
//                     [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]   (TLS on --port; with
//                     --tls-ca, clients must present a certificate issued by that CA)
//                     [--metrics-port N]   (/metrics, /healthz, /readyz on 127.0.0.1:N)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "number_input.hpp"

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;  // 127.0.0.1:7777 by default
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--port")) options.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--host")) options.host = argv[i + 1];
    else if (!std::strcmp(argv[i], "--workers")) options.workers = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--tls-cert")) options.tls.cert_file = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-key")) options.tls.key_file = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-ca")) options.tls.ca_file = argv[i + 1];
    else if (!std::strcmp(argv[i], "--metrics-port")) {
      options.metrics.enabled = true;
      options.metrics.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    }
  }
  options.tls.require_client_cert = !options.tls.ca_file.empty();

  greenrpc::App app;
  app.command(add, [](int a, NumberInput b) { return a + b.value; });
  app.on_startup([&] { std::printf("quickstart server on %s:%u%s\n", options.host.c_str(), options.port, options.tls.enabled() ? " (TLS)" : ""); std::fflush(stdout); });
  app.run(options);  // until Ctrl-C / SIGTERM
}
