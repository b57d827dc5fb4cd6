// The auth client: runs the client part (client.hpp) against a running auth_server.
//   auth_client [--host H] [--port N]
#include <cstdlib>
#include <string_view>

#include "client.hpp"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    if (arg == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (arg == "--host") host = argv[i + 1];
  }
  return run_client(host, port) ? 0 : 1;
}
