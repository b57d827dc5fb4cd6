// arrpc's README server on greenrpc: an arrpc client (adrianchifor/arrpc 0.5.0, or any program
// sending bare msgpack) sends a message; the handler returns it. A map with the key "raise" makes
// it throw greenrpc::RpcError(<that value>), which the client raises as arrpc's RpcException.
// RESP clients (redis-cli, greenrpc's client) are served on the same port; the first byte of a
// connection tells them apart.
//
//   arrpc_echo_server [--host H] [--port N]          default 127.0.0.1:8080 (0: any free port)
//                     [--secret S]                   arrpc's auth_secret: requests must be signed
//                     [--refuse-arrpc-signatures]    ... and arrpc-signed ones are refused anyway
//                                                    (they can be replayed; see ServerOptions)
//                     [--tls-cert FILE --tls-key FILE]   TLS on --port (arrpc's tls_certfile/keyfile)
//                     [--metrics-port N]             /metrics, /healthz, /readyz on 127.0.0.1:N
//   arrpc_echo_server --self-test                    serves on a free port, sends a few messages
//                                                    to itself over a raw socket, exits 0 or 1
//
// Once listening it prints one line, "PORT <n>" (then " METRICS_PORT <m>" with metrics), and
// serves until SIGINT or SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>

namespace {

// The text of a "raise" value: a string as it is, anything else as msgpack-cxx prints it.
std::string text_of(const msgpack::object& value) {
  if (value.type == msgpack::type::STR) return std::string(value.via.str.ptr, value.via.str.size);
  std::ostringstream out;
  out << value;
  return out.str();
}

greenrpc::App make_app() {
  greenrpc::App app;
  // arrpc's single handler(message). The msgpack::object (and whatever it points into) lives for
  // the call; the result is encoded as the reply. Take a MSGPACK_DEFINE_MAP struct instead to
  // have the message validated (a message that does not fit is answered RpcException).
  app.message_handler([](const msgpack::object& message) -> msgpack::object {
    if (message.type == msgpack::type::MAP) {
      for (std::uint32_t i = 0; i < message.via.map.size; ++i) {
        const msgpack::object_kv& kv = message.via.map.ptr[i];
        if (kv.key.type == msgpack::type::STR && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "raise")
          throw greenrpc::RpcError(text_of(kv.val));
      }
    }
    return message;
  });
  return app;
}

// ---- --self-test: a minimal arrpc client over a raw socket ----------------------------------

// Sends `message` packed, reads one msgpack value back (or nullopt on a failure).
std::optional<msgpack::object_handle> send(int fd, const msgpack::sbuffer& message, msgpack::unpacker& in) {
  if (::send(fd, message.data(), message.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(message.size())) return std::nullopt;
  msgpack::object_handle reply;
  while (!in.next(reply)) {
    in.reserve_buffer(4096);
    const ssize_t n = ::recv(fd, in.buffer(), in.buffer_capacity(), 0);
    if (n <= 0) return std::nullopt;
    in.buffer_consumed(static_cast<std::size_t>(n));
  }
  return reply;
}

bool self_test(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  msgpack::unpacker in;
  bool ok = true;
  {  // arrpc's README: client.send({"foo": "bar"}) comes back as it went.
    msgpack::sbuffer message;
    msgpack::pack(message, std::map<std::string, std::string>{{"foo", "bar"}});
    const auto reply = send(fd, message, in);
    const bool echoed = reply && reply->get().type == msgpack::type::MAP &&
                        reply->get().as<std::map<std::string, std::string>>() ==
                            std::map<std::string, std::string>{{"foo", "bar"}};
    std::printf("send({'foo': 'bar'}) -> %s\n", echoed ? "{'foo': 'bar'}" : "WRONG");
    ok = ok && echoed;
  }
  {  // {"raise": "boom"}: the string arrpc's client raises RpcException("boom") for.
    msgpack::sbuffer message;
    msgpack::pack(message, std::map<std::string, std::string>{{"raise", "boom"}});
    const auto reply = send(fd, message, in);
    const bool raised = reply && reply->get().type == msgpack::type::STR &&
                        reply->get().as<std::string>() == "arrpc.error.RpcException: boom";
    std::printf("send({'raise': 'boom'}) -> %s\n", raised ? "arrpc.error.RpcException: boom" : "WRONG");
    ok = ok && raised;
  }
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;
  options.port = 8080;  // arrpc's README port
  bool self_testing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--self-test") self_testing = true;
    else if (arg == "--refuse-arrpc-signatures") options.arrpc_signed_requests = greenrpc::ArrpcSignedRequests::refuse;
    else if (arg == "--host" && has_value) options.host = argv[++i];
    else if (arg == "--port" && has_value) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--secret" && has_value) options.auth_secret = argv[++i];
    else if (arg == "--tls-cert" && has_value) options.tls.cert_file = argv[++i];
    else if (arg == "--tls-key" && has_value) options.tls.key_file = argv[++i];
    else if (arg == "--metrics-port" && has_value) {
      options.metrics.enabled = true;
      options.metrics.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--host H] [--port N] [--secret S] [--refuse-arrpc-signatures] "
                   "[--tls-cert FILE --tls-key FILE] [--metrics-port N] [--self-test]\n",
                   argv[0]);
      return 2;
    }
  }
  greenrpc::App app = make_app();
  if (self_testing) {
    options.port = 0;  // any free port
    greenrpc::Server server = app.start_background(options);
    const bool ok = self_test(server.port());
    server.stop();
    std::printf("arrpc_echo self-test %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
  }
  // App::run() would do the signals itself; here the port must be printed once known (--port 0).
  // The signals are blocked before the workers start, so that only this thread takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  greenrpc::Server server;
  try {
    server = app.start_background(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arrpc_echo: cannot start: %s\n", e.what());
    return 1;
  }
  std::printf("PORT %u", static_cast<unsigned>(server.port()));
  if (server.metrics_port() != 0) std::printf(" METRICS_PORT %u", static_cast<unsigned>(server.metrics_port()));
  std::printf("\n");
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.stop();  // graceful: running messages finish, then the connections close
  std::fprintf(stderr, "arrpc_echo: stopped\n");
  return 0;
}
