#include "greenrpc/tls/tls_context.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <memory>

#include "greenrpc/tls/tls_error.hpp"
#include "openssl_errors.hpp"
#include "peer_certificate.hpp"

namespace greenrpc {
namespace {

using tls_detail::take_openssl_errors;

[[noreturn]] void config_error(const std::string& what) {
  std::string why = take_openssl_errors();
  throw TlsError(TlsError::Reason::configuration, "TLS: " + what + (why.empty() ? "" : ": " + why));
}

int protocol_version(TlsVersion v) { return v == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION; }

struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

CtxPtr new_ctx(bool server, TlsVersion min_version, const std::string& ciphers, const std::string& suites) {
  tls_detail::clear_openssl_errors();
  CtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) config_error("cannot create an SSL_CTX");
  if (!SSL_CTX_set_min_proto_version(ctx.get(), protocol_version(min_version))) config_error("minimum version refused");
  if (!ciphers.empty() && !SSL_CTX_set_cipher_list(ctx.get(), ciphers.c_str()))
    config_error("cipher list \"" + ciphers + "\" refused");
  if (!suites.empty() && !SSL_CTX_set_ciphersuites(ctx.get(), suites.c_str()))
    config_error("TLS 1.3 ciphersuites \"" + suites + "\" refused");
  // Idle connections give their record buffers back when they go dormant (TlsStream, with
  // SSL_free_buffers). No renegotiation: it lets a peer make the server do handshake work (and
  // write) from inside a read.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return ctx;
}

void load_chain_and_key(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  if (key_file.empty()) throw TlsError(TlsError::Reason::configuration, "TLS: a certificate without a key file");
  if (!SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()))
    config_error("cannot load the certificate chain " + cert_file);
  if (!SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM))
    config_error("cannot load the private key " + key_file);
  if (!SSL_CTX_check_private_key(ctx)) config_error("the key " + key_file + " does not match the certificate " + cert_file);
}

// A pinned certificate: trusted as an anchor on its own, and the only leaf accepted.
int verify_pinned(X509_STORE_CTX* store_ctx, void* arg) {
  const X509* pinned = static_cast<const X509*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (!leaf || X509_cmp(leaf, pinned) != 0) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_UNTRUSTED);
    return 0;
  }
  return X509_verify_cert(store_ctx);
}

std::string leaf_description(SSL_CTX* ctx) {
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  if (!leaf) return {};
  PeerCertificate c = tls_detail::describe_certificate(leaf);
  const std::time_t t = std::chrono::system_clock::to_time_t(c.not_after);
  char day[32];
  std::strftime(day, sizeof day, "%Y-%m-%d", std::gmtime(&t));
  return c.subject + " (expires " + day + ", sha256 " + c.sha256_fingerprint.substr(0, 16) + "...)";
}

}  // namespace

TlsContext::~TlsContext() {
  if (ctx_) {
    if (X509* pinned = static_cast<X509*>(SSL_CTX_get_app_data(ctx_))) X509_free(pinned);
    SSL_CTX_free(ctx_);
  }
}

std::shared_ptr<const TlsContext> TlsContext::server(const TlsServerOptions& o) {
  if (!o.enabled()) throw TlsError(TlsError::Reason::configuration, "TLS: no certificate file");
  CtxPtr ctx = new_ctx(true, o.min_version, o.ciphers, o.ciphersuites);
  load_chain_and_key(ctx.get(), o.cert_file, o.key_file);
  if (!o.ca_file.empty()) {
    if (!SSL_CTX_load_verify_locations(ctx.get(), o.ca_file.c_str(), nullptr))
      config_error("cannot load the CA file " + o.ca_file);
    // The CA names go into the CertificateRequest, so a client with several certificates picks one
    // that chains to them.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.ca_file.c_str())) SSL_CTX_set_client_CA_list(ctx.get(), names);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | (o.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  } else if (o.require_client_cert) {
    throw TlsError(TlsError::Reason::configuration, "TLS: require_client_cert needs a ca_file to verify them against");
  }
  // No session resumption state to share between workers or reloads: full handshakes only.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  auto out = std::shared_ptr<TlsContext>(new TlsContext());
  out->server_ = true;
  out->has_certificate_ = true;
  out->description_ = leaf_description(ctx.get());
  out->ctx_ = ctx.release();
  return out;
}

std::shared_ptr<const TlsContext> TlsContext::client(const TlsClientOptions& o) {
  CtxPtr ctx = new_ctx(false, o.min_version, {}, {});
  X509* pinned = nullptr;
  if (!o.pinned_cert_file.empty()) {
    std::FILE* f = std::fopen(o.pinned_cert_file.c_str(), "r");
    if (!f) throw TlsError(TlsError::Reason::configuration, "TLS: cannot open the pinned certificate " + o.pinned_cert_file);
    pinned = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!pinned) config_error("cannot read the pinned certificate " + o.pinned_cert_file);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    X509_STORE_add_cert(store, pinned);
    // The pinned certificate is a trust anchor even when it is not self-signed.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_app_data(ctx.get(), pinned);
    SSL_CTX_set_cert_verify_callback(ctx.get(), verify_pinned, pinned);
  } else if (!o.ca_file.empty()) {
    if (!SSL_CTX_load_verify_locations(ctx.get(), o.ca_file.c_str(), nullptr))
      config_error("cannot load the CA file " + o.ca_file);
  } else if (!SSL_CTX_set_default_verify_paths(ctx.get())) {
    config_error("cannot load the system's trusted CAs");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!o.cert_file.empty()) load_chain_and_key(ctx.get(), o.cert_file, o.key_file);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  auto out = std::shared_ptr<TlsContext>(new TlsContext());
  out->pinned_ = pinned != nullptr;
  out->has_certificate_ = !o.cert_file.empty();
  out->server_name_ = o.server_name;
  out->ctx_ = ctx.release();
  return out;
}

ReloadableTlsContext::ReloadableTlsContext(TlsServerOptions options)
    : options_(std::move(options)), current_(TlsContext::server(options_)) {}

std::shared_ptr<const TlsContext> ReloadableTlsContext::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void ReloadableTlsContext::reload() {
  std::shared_ptr<const TlsContext> fresh = TlsContext::server(options_);  // throws: the old one stays
  std::lock_guard lock(mutex_);
  current_ = std::move(fresh);
}

}  // namespace greenrpc
