#pragma once
// A TLS failure that retrying will not fix: the peer's certificate, or ours, was refused, or the
// peer does not speak TLS. Not an IoError, so a client does not retry it as a connection failure.
#include <string>

#include "greenrpc/runtime/errors.hpp"

namespace greenrpc {

class TlsError : public Error {
 public:
  enum class Reason {
    unknown_ca,              // the peer's chain does not lead to a trusted CA (or the pinned certificate)
    wrong_host,              // the certificate is not for the name or IP connected to
    expired,                 // the peer's certificate has expired or is not valid yet
    invalid_certificate,     // the peer's certificate cannot be used (wrong purpose, bad signature, ...)
    client_cert_required,    // the server requires a client certificate and got none (or refused ours)
    peer_cert_rejected,      // the peer refused our certificate or the handshake (its alert says why)
    not_tls,                 // the peer sent something other than TLS
    protocol,                // no common version or cipher, a malformed message, ...
    configuration,           // a certificate, key or CA file could not be loaded
  };

  TlsError(Reason reason, const std::string& what) : Error(what), reason_(reason) {}
  Reason reason() const noexcept { return reason_; }

 private:
  Reason reason_;
};

}  // namespace greenrpc
