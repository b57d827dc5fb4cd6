#pragma once
// The connection flags shared by every subcommand, and the greenrpc::ClientOptions they make.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "greenrpc/client/options.hpp"

namespace greenrpc::cli {

struct ClientFlags {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;  // greenrpc's (and Tino's) default port: ServerOptions::port
  std::string secret;         // --secret or GREENRPC_SECRET
  std::string user;
  std::string password;       // --password or GREENRPC_PASSWORD
  std::string timeout;        // a duration (parse_duration); empty: none
  std::string connect_timeout;
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_pinned;
  std::string tls_server_name;
};

// "250ms", "2s", "1.5s", "1m", or a bare number of seconds ("2", "0.5"). nullopt when it is
// none of these, or not positive.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Throws std::invalid_argument naming the flag at fault (never echoing a secret).
ClientOptions client_options(const ClientFlags& flags);

}  // namespace greenrpc::cli
