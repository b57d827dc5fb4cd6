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
  bool running() const;
  // Stops accepting, lets in-flight requests finish within the grace period (default: the
  // options' grace_period), closes every connection, runs the shutdown hooks, joins the threads.
  // Thread-safe and idempotent. Must not be called from one of the server's own handlers.
  void stop();
  void stop(std::chrono::milliseconds grace);
  // Open connections right now, across workers.
  std::size_t connections() const;

 private:
  std::shared_ptr<ServerCore> core_;
};

}  // namespace greenrpc
