#include "address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "greenrpc/net/errors.hpp"
#include "greenrpc/runtime/run_blocking.hpp"

namespace greenrpc::net_detail {
namespace {

std::vector<ResolvedAddress> getaddrinfo_all(const std::string& host, std::uint16_t port, bool passive, int flags,
                                             int& rc) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  std::vector<ResolvedAddress> out;
  if (rc != 0) return out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    ResolvedAddress r;
    std::memcpy(&r.addr, ai->ai_addr, ai->ai_addrlen);
    r.len = ai->ai_addrlen;
    r.family = ai->ai_family;
    out.push_back(r);
  }
  ::freeaddrinfo(list);
  return out;
}

}  // namespace

std::vector<ResolvedAddress> resolve(const std::string& host, std::uint16_t port, bool passive, Deadline deadline) {
  int rc = 0;
  auto numeric = getaddrinfo_all(host, port, passive, AI_NUMERICHOST, rc);
  if (rc == 0 && !numeric.empty()) return numeric;
  // By value: on timeout the lookup finishes on its pool thread after this frame is gone.
  auto [named, named_rc] = run_blocking(
      [host, port, passive] {
        int code = 0;
        auto found = getaddrinfo_all(host, port, passive, 0, code);
        return std::make_pair(std::move(found), code);
      },
      deadline);
  rc = named_rc;
  if (rc != 0 || named.empty()) {
    std::string msg = "cannot resolve " + Endpoint{host, port}.to_string() + ": " + ::gai_strerror(rc);
    throw ConnectError(msg, 0);
  }
  return named;
}

Endpoint to_endpoint(const sockaddr* sa) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return Endpoint{text, ntohs(in->sin_port)};
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return Endpoint{text, ntohs(in6->sin6_port)};
  }
  return Endpoint{"unix", 0};
}

}  // namespace greenrpc::net_detail
