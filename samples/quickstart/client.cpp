// The quickstart client: calls add(1, NumberInput{2}) two ways.
//   quickstart_client [--port N] [--host H] [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "number_input.hpp"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  greenrpc::ClientOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--port")) port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-ca")) options.tls.ca_file = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-cert")) options.tls.cert_file = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-key")) options.tls.key_file = argv[i + 1];
  }
  options.tls.enabled = !options.tls.ca_file.empty();
  try {
    greenrpc::Client client{host, port, options};
    int typed = client.call(add, 1, NumberInput{2});                 // checked against the declaration
    int by_name = client.call<int>("add", 40, NumberInput{2});       // by name
    std::printf("add(1, NumberInput{2}) = %d\nadd(40, NumberInput{2}) = %d\n", typed, by_name);
  } catch (const greenrpc::Error& e) {
    std::fprintf(stderr, "call failed: %s\n", e.what());
    return 1;
  }
}
