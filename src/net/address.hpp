#pragma once
// Name resolution and sockaddr conversion shared by the listener and connect (private to net).
#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc::net_detail {

struct ResolvedAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

// Numeric addresses resolve at once; names go through getaddrinfo on the blocking pool so the
// fiber, not the thread, waits. `passive`: addresses to bind (listen) rather than connect to.
// Throws ConnectError naming host:port.
std::vector<ResolvedAddress> resolve(const std::string& host, std::uint16_t port, bool passive, Deadline deadline);

Endpoint to_endpoint(const sockaddr* sa);

}  // namespace greenrpc::net_detail
