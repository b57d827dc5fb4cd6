#include "client_flags.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace greenrpc::cli {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double scale = 1000;  // a bare number is seconds, as grpcurl's -max-time and redis-cli's -t
  if (text.ends_with("ms")) {
    scale = 1;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  } else if (text.ends_with("m")) {
    scale = 60'000;
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value <= 0)
    return std::nullopt;
  const double ms = std::ceil(value * scale);
  if (ms > 365.0 * 24 * 3600 * 1000) return std::nullopt;  // a year: surely a mistake
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

ClientOptions client_options(const ClientFlags& flags) {
  ClientOptions options;
  options.auth_secret = flags.secret;
  options.username = flags.user;
  options.password = flags.password;
  if (!flags.user.empty() && flags.password.empty())
    throw std::invalid_argument("--user needs --password (or GREENRPC_PASSWORD)");
  if (!flags.timeout.empty()) {
    auto d = parse_duration(flags.timeout);
    if (!d) throw std::invalid_argument("--timeout: not a duration (e.g. 500ms, 2s, 1.5, 1m): " + flags.timeout);
    options.timeout = *d;
  }
  if (!flags.connect_timeout.empty()) {
    auto d = parse_duration(flags.connect_timeout);
    if (!d)
      throw std::invalid_argument("--connect-timeout: not a duration (e.g. 500ms, 2s, 1.5, 1m): " +
                                  flags.connect_timeout);
    options.connect_timeout = *d;
  }
  // A CLI call should fail fast when nobody listens: a few attempts (about 0.3 s of back-off)
  // rather than the library's five.
  options.connect_retries = 3;
  TlsClientOptions& tls = options.tls;
  tls.ca_file = flags.tls_ca;
  tls.cert_file = flags.tls_cert;
  tls.key_file = flags.tls_key;
  tls.pinned_cert_file = flags.tls_pinned;
  tls.server_name = flags.tls_server_name;
  // Any TLS file or name implies --tls.
  tls.enabled = flags.tls || !tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() ||
                !tls.pinned_cert_file.empty() || !tls.server_name.empty();
  if (tls.cert_file.empty() != tls.key_file.empty())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  return options;
}

}  // namespace greenrpc::cli
