// A server that signs, for test_sign_python.py (a client written from docs/protocol.md alone).
//
//   signed_server --port 0 --secret S [--previous S2]... [--allow-unsigned] [--host H]
//
// Prints "PORT <n>" on stdout once listening; serves until SIGTERM/SIGINT or stdin EOF; then
// stops, prints "STOPPED" on stderr and exits 0.
//
// Commands: add(a:int, b:{"value":int}) -> int, echo(s:str) -> str, fail(msg:str) (throws
// greenrpc::RpcError(msg)), deadline_left() -> the handler's remaining deadline in ms (-1: none),
// calls() -> how many user handlers ran so far (itself excluded).
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>
#include <string>

namespace {

struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

std::atomic<long long> g_calls{0};

int usage(const char* why) {
  std::fprintf(stderr, "signed_server: %s\nusage: signed_server --port N --secret S [--previous S]... "
                       "[--allow-unsigned] [--host H]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;
  options.port = 0;
  options.grace_period = std::chrono::milliseconds(1000);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--port") {
      const char* v = next();
      if (!v) return usage("--port needs a value");
      options.port = static_cast<std::uint16_t>(std::strtoul(v, nullptr, 10));
    } else if (arg == "--host") {
      const char* v = next();
      if (!v) return usage("--host needs a value");
      options.host = v;
    } else if (arg == "--secret") {
      const char* v = next();
      if (!v) return usage("--secret needs a value");
      options.auth_secret = v;
    } else if (arg == "--previous") {
      const char* v = next();
      if (!v) return usage("--previous needs a value");
      options.previous_auth_secrets.emplace_back(v);
    } else if (arg == "--allow-unsigned") {
      options.allow_unsigned = true;
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }

  greenrpc::App app;
  app.command("add", {"a", "b"}, [](int a, NumberInput b) {
    ++g_calls;
    return a + b.value;
  });
  app.command("echo", {"s"}, [](std::string s) {
    ++g_calls;
    return s;
  });
  app.command("fail", {"message"}, [](std::string message) -> int {
    ++g_calls;
    throw greenrpc::RpcError(message);
  });
  app.command("deadline_left", [](const greenrpc::RequestContext& ctx) -> long long {
    ++g_calls;
    if (ctx.deadline().is_never()) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline().remaining()).count();
  });
  app.command("calls", [] { return g_calls.load(); });

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (sfd < 0) {
    std::perror("signalfd");
    return 1;
  }

  greenrpc::Server server;
  try {
    server = app.start_background(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "signed_server: cannot start: %s\n", e.what());
    return 1;
  }
  std::printf("PORT %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  const char* reason = nullptr;
  while (!reason) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      reason = "poll failure";
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      if (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
        reason = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
    }
    if (!reason && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[256];
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) reason = "stdin EOF";
    }
  }
  std::fprintf(stderr, "signed_server: %s, stopping\n", reason);
  server.stop();
  std::fprintf(stderr, "STOPPED\n");
  std::fflush(stderr);
  close(sfd);
  return 0;
}
