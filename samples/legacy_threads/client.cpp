// The legacy program: 8 plain std::threads sharing one greenrpc::Client (see client.hpp).
//   legacy_threads_client [--host H] [--port N] [--threads N] [--calls N] [--fan-out N]
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "client.hpp"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  LegacyLoad load;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    if (arg == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (arg == "--host") host = argv[i + 1];
    else if (arg == "--threads") load.threads = std::atoi(argv[i + 1]);
    else if (arg == "--calls") load.calls_per_thread = std::atoi(argv[i + 1]);
    else if (arg == "--fan-out") load.fan_out = std::atoi(argv[i + 1]);
  }
  bool ok = run_client(host, port, load);
  std::printf("%s\n", ok ? "all results correct" : "FAILED");
  return ok ? 0 : 1;
}
