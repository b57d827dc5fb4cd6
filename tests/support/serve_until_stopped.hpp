#pragma once
// The main loop of the test servers driven by Python suites: start the App in the background,
// print "PORT <n>" ("PORT <n> TLS_PORT <t>" when TLS is on), serve until SIGINT/SIGTERM (or stdin EOF when `watch_stdin`), stop cleanly
// and print "STOPPED" on stderr. Returns the process exit code.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <greenrpc/greenrpc.hpp>

namespace test_support {

inline int serve_until_stopped(greenrpc::App& app, const greenrpc::ServerOptions& options, const char* name,
                               bool watch_stdin = true) {
  // Block the stop signals before the worker threads start so that only signalfd sees them.
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
    std::fprintf(stderr, "%s: cannot start: %s\n", name, e.what());
    return 1;
  }
  if (server.tls_port() != 0)
    std::printf("PORT %u TLS_PORT %u\n", static_cast<unsigned>(server.port()), static_cast<unsigned>(server.tls_port()));
  else
    std::printf("PORT %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  const char* reason = nullptr;
  while (!reason) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (poll(fds, watch_stdin ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      std::perror("poll");
      reason = "poll failure";
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      if (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
        reason = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
    }
    if (!reason && watch_stdin && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[256];
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) reason = "stdin EOF";
    }
  }
  std::fprintf(stderr, "%s: %s, stopping\n", name, reason);
  server.stop();
  std::fprintf(stderr, "STOPPED\n");
  std::fflush(stderr);
  close(sfd);
  return 0;
}

}  // namespace test_support
