#pragma once
// TLS over another ByteStream that it owns (userver's "TLS wraps a socket it owns"): TCP, or a
// sniffed stream that already gave up its first bytes. Follows ByteStream's concurrency contract;
// every wait is the transport's (its deadlines and cancellation), because OpenSSL here never
// touches the socket: it reads ciphertext from and writes it to buffers of this stream (a BIO),
// and the stream moves them with the transport's read_some/write_some.
//
// * handshake() runs the TLS handshake within its deadline. Client: verifies the server's chain
//   and name (TlsContext); server: verifies a client certificate when asked. Refusals throw
//   TlsError with a reason; a transport failure throws IoError (a client retries those).
// * write_some() encrypts at most 64 KiB of plaintext into records it holds, after pushing out
//   what the previous call encrypted: "taken" means SSL_write accepted it (ByteStream's rule).
//   has_unflushed() and flush() then apply.
// * The reader and the writer may park at once (one in the transport's read, one in its write):
//   OpenSSL itself is only entered between parks, on the owner thread, so never concurrently.
// * notify_readable() is false while decrypted or undecrypted bytes are buffered; an idle stream
//   keeps no record buffers: going dormant frees OpenSSL's (SSL_free_buffers) and this stream's.
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "greenrpc/net/byte_stream.hpp"
#include "greenrpc/net/tls_info.hpp"
#include "greenrpc/tls/tls_context.hpp"

struct ssl_st;  // OpenSSL's SSL
struct bio_st;

namespace greenrpc {

class TlsStream final : public ByteStream {
 public:
  // Client: `host` is the name (or IP) connected to, verified against the certificate unless
  // the context pins one or names another. Server: `host` is unused.
  TlsStream(std::unique_ptr<ByteStream> transport, std::shared_ptr<const TlsContext> context, std::string host = {});
  ~TlsStream() override;

  // Server only: what is sent in the clear to a peer whose first byte shows it is not speaking
  // TLS (a protocol's own error, e.g. RESP's "-ERR ..."), before the handshake fails with
  // not_tls. `refusal` gets the peer's first bytes, so several protocols on one port each answer
  // in their own words.
  using PlaintextRefusal = std::function<std::string_view(std::span<const char> first_bytes)>;
  void set_plaintext_refusal(PlaintextRefusal refusal) { plaintext_refusal_ = std::move(refusal); }
  // Bounds the handshake whatever deadline handshake() gets, and the fiber-free wait for the
  // peer's first bytes (notify_readable before the handshake): a silent peer is timed out then.
  void set_handshake_deadline(Deadline deadline) { handshake_deadline_ = deadline; }

  void handshake(Deadline deadline) override;
  // 0 at the end: orderly after the peer's close_notify, abrupt when the transport ended
  // without one (a truncation attack cannot pass for an orderly end).
  std::size_t read_some(std::span<char> buf, Deadline deadline) override;
  EndOfStream end_of_stream() const override { return eof_; }
  std::size_t write_some(std::span<const std::string_view> parts, Deadline deadline) override;
  bool has_unflushed() const override { return !sending_.empty() || !pending_.empty(); }
  void flush(Deadline deadline) override;
  // Sends close_notify (after every held byte), then shuts the transport's sending side.
  void shutdown(Deadline deadline) override;
  // Shuts the transport's sending side without close_notify (the peer sees an abrupt end).
  void shutdown_write() override { transport_->shutdown_write(); }
  bool notify_readable(Deadline deadline, Waiter::Callback ready, void* arg) override;
  void stop_notify_readable() noexcept override { transport_->stop_notify_readable(); }
  void cancel() override;
  void close() override;
  const Endpoint& peer() const override { return transport_->peer(); }
  const TlsInfo* tls_info() const override { return handshaken_ ? &info_ : nullptr; }

 private:
  struct Bio;
  // Moves ciphertext: from the transport into in_ (parks), and from pending_/sending_ out.
  bool fill(Deadline deadline);  // false at the transport's end
  void push(Deadline deadline);
  // Before a reader parks: pushes what its SSL_read produced (a refusal of a renegotiation),
  // without parking, and only when no writer is in the transport.
  void push_from_reader() noexcept;
  // Throws the error OpenSSL reported for `ret` (not WANT_READ); `op` names the step.
  [[noreturn]] void fail(int ssl_error, const char* op);
  // The error for `ssl_error`, read from OpenSSL now (before anything may park); marks the stream failed.
  std::exception_ptr failure_for(int ssl_error, const char* op);
  void release_idle_buffers() noexcept;
  void collect_info();

  std::unique_ptr<ByteStream> transport_;
  std::shared_ptr<const TlsContext> context_;
  ssl_st* ssl_ = nullptr;
  bio_st* bio_ = nullptr;
  // Ciphertext read from the transport, not yet consumed by OpenSSL: in_[in_pos_, in_end_).
  std::unique_ptr<char[]> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  // Ciphertext OpenSSL produced: pending_ (appended to by any fiber's SSL call) and sending_ (the
  // writer's, being handed to the transport from sending_pos_). Two buffers, because a reader's
  // SSL_read may produce records (a TLS 1.3 key update) while the writer is parked on sending_.
  std::string pending_;
  std::string sending_;
  std::size_t sending_pos_ = 0;
  std::string scratch_;  // small parts gathered into one record
  PlaintextRefusal plaintext_refusal_;
  std::string first_bytes_;  // the peer's first ciphertext bytes (up to 64), for not_tls errors
  TlsInfo info_;
  Deadline handshake_deadline_ = Deadline::never();
  EndOfStream eof_ = EndOfStream::open;
  bool handshaken_ = false;
  bool cancelled_ = false;
  bool failed_ = false;  // a fatal TLS error: every later call fails
};

}  // namespace greenrpc
