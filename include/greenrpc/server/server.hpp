#pragma once
// A running server: returned by App::start_background(), stopped by stop() or its destructor.
#include <chrono>
#include <cstdint>
#include <memory>

#include "greenrpc/server/options.hpp"

namespace greenrpc {

class ServerCore;

class Server {
 public:
  Server() = default;
  explicit Server(std::shared_ptr<ServerCore> core);
  Server(Server&&) noexcept = default;
  Server& operator=(Server&&) noexcept;
  ~Server();

  // The port actually listened on (useful when port 0 was asked).
  std::uint16_t port() const;
  // The port TLS is served on: port(), or ServerOptions::tls.port's; 0 without TLS.
  std::uint16_t tls_port() const;
  // The port /metrics, /healthz and /readyz are served on; 0 without metrics.
  std::uint16_t metrics_port() const;
  // Loads ServerOptions::tls's certificate, key and CA files again: new connections use them,
  // open ones keep theirs (none is dropped). On failure the current certificate stays and
  // TlsError says why. Thread-safe; std::logic_error when the server has no TLS.
  void reload_tls();
  bool running() const;
  // Stops accepting, lets running requests finish within the grace period (default: the
  // options' grace_period), answers requests not yet started with SHUTTING_DOWN, then cancels
  // what still runs, and returns at the latest options().stop_timeout later whatever handlers
  // do (logging those still stuck); runs the shutdown hooks and joins the threads.
  // Thread-safe and idempotent. From one of the server's own handlers it would wait for itself:
  // it throws std::logic_error there — use request_stop().
  void stop();
  void stop(std::chrono::milliseconds grace);
  // Starts stop() in the background and returns at once: from a handler (an admin "shutdown"
  // command) or any thread. Idempotent. A later stop() or the destructor waits for it.
  void request_stop();
  // Ends the grace period of a stop in progress now (a second SIGTERM under App::run).
  void skip_grace();
  // True once a stop was asked for (stop(), request_stop(), a handler's RequestContext).
  bool stop_requested() const;
  // Open connections right now, across workers.
  std::size_t connections() const;
  // Connections accepted since start (INFO's total_connections_received), refused ones excluded.
  std::uint64_t connections_accepted() const;

 private:
  std::shared_ptr<ServerCore> core_;
};

}  // namespace greenrpc
