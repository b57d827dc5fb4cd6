#pragma once
// OpenSSL's shared TLS settings (an SSL_CTX: certificates, trust, versions, ciphers), built from
// TlsServerOptions or TlsClientOptions. Immutable once built and shared by every connection
// that uses it, across threads (OpenSSL 3 allows concurrent SSL_new on one SSL_CTX).
#include <memory>
#include <mutex>
#include <string>

#include "greenrpc/tls/tls_options.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace greenrpc {

class TlsContext {
 public:
  // Loads the certificate chain, key and CA file now. Throws TlsError(configuration) naming the
  // file and OpenSSL's reason.
  static std::shared_ptr<const TlsContext> server(const TlsServerOptions& options);
  static std::shared_ptr<const TlsContext> client(const TlsClientOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const noexcept { return ctx_; }
  bool is_server() const noexcept { return server_; }
  // Client: the name to verify and send as SNI instead of the host connected to ("" : the host).
  const std::string& server_name() const noexcept { return server_name_; }
  // Client: a pinned certificate replaces the name check (see TlsClientOptions).
  bool pinned() const noexcept { return pinned_; }
  // Whether a certificate of our own is configured (client: for mutual TLS).
  bool has_certificate() const noexcept { return has_certificate_; }
  // Server: "CN=... (expires 2027-01-01)" of the loaded leaf certificate, for logs.
  const std::string& description() const noexcept { return description_; }

 private:
  TlsContext() = default;

  ssl_ctx_st* ctx_ = nullptr;
  bool server_ = false;
  bool pinned_ = false;
  bool has_certificate_ = false;
  std::string server_name_;
  std::string description_;
};

// A server's TLS context that can be replaced while it serves (certificate rotation): each new
// connection takes the current one; connections already open keep theirs. Thread-safe.
class ReloadableTlsContext {
 public:
  explicit ReloadableTlsContext(TlsServerOptions options);  // loads now; throws TlsError
  std::shared_ptr<const TlsContext> current() const;
  // Loads the files again. On failure keeps the current context and throws TlsError saying why.
  void reload();
  const TlsServerOptions& options() const noexcept { return options_; }

 private:
  TlsServerOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const TlsContext> current_;
};

}  // namespace greenrpc
