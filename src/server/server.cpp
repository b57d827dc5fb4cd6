#include "greenrpc/server/server.hpp"

#include "server_core.hpp"

namespace greenrpc {

Server::Server(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}

Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    if (core_) core_->stop(core_->options().grace_period);
    core_ = std::move(other.core_);
  }
  return *this;
}

Server::~Server() {
  if (core_) core_->stop(core_->options().grace_period);
}

std::uint16_t Server::port() const { return core_ ? core_->port() : 0; }
std::uint16_t Server::tls_port() const { return core_ ? core_->tls_port() : 0; }
std::uint16_t Server::metrics_port() const { return core_ ? core_->metrics_port() : 0; }
void Server::reload_tls() {
  if (!core_) throw std::logic_error("greenrpc: reload_tls() on a stopped server");
  core_->reload_tls();
}
bool Server::running() const { return core_ && core_->running(); }
void Server::stop() {
  if (core_) core_->stop(core_->options().grace_period);
}
void Server::stop(std::chrono::milliseconds grace) {
  if (core_) core_->stop(grace);
}
void Server::request_stop() {
  if (core_) core_->request_stop();
}
bool Server::stop_requested() const { return core_ && core_->stop_requested(); }
void Server::skip_grace() {
  if (core_) core_->skip_grace();
}
std::size_t Server::connections() const { return core_ ? core_->open_connections.load() : 0; }

std::uint64_t Server::connections_accepted() const { return core_ ? core_->total_connections.load() : 0; }

}  // namespace greenrpc
