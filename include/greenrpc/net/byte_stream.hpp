#pragma once
// The byte-stream interface under every connection: TCP, and TLS (OpenSSL, TlsStream) behind the
// same calls. All calls look blocking and park only the calling fiber; each wait takes a deadline.
//
// Concurrency contract
// --------------------
// A stream belongs to the runtime thread that created it (its owner thread). Every call below is
// made on that thread only; a stream is never shared with, or moved to, another thread.
//
// * Readers: at most one fiber at a time is inside read_some().
// * Writers: at most one fiber at a time is inside write_some(), write_all(), flush() or
//   shutdown(Deadline). These share one "writer" slot.
// * handshake() takes both slots: no read or write runs while it does (it reads and writes).
// * The reader and the writer may run, and park, at the same time.
// * cancel(), close(), shutdown_write() and the queries (end_of_stream, has_unflushed, peer) may be
//   called at any time from any fiber of the owner thread, including while the reader and/or the
//   writer is parked.
// Debug builds assert the owner thread and the one-reader / one-writer rule (`assert`, compiled
// out with NDEBUG).
//
// Waiting without a fiber
// * notify_readable() lets an idle connection give its fiber (and stack) back: instead of parking
//   in read_some, it asks for a callback when a read would make progress. It counts as the
//   reader until the callback or stop_notify_readable(): no read_some meanwhile.
//
// Cancellation and close
// * cancel() wakes a parked reader and a parked writer; each throws CancelledError. The stream
//   stays cancelled: every later read_some, write_some, flush, handshake and shutdown(Deadline)
//   throws CancelledError at once. Bytes already taken (see write_some) may or may not reach the
//   peer. The connection stays open until close() (or the destructor).
// * close() wakes parked fibers the same way (CancelledError), then releases the connection at
//   once (no graceful shutdown; the kernel may still send what it holds). It is idempotent. The
//   stream object must outlive every fiber still inside one of its calls: a woken fiber leaves
//   through the stream's code.
#include <cstddef>
#include <span>
#include <string_view>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/net/tls_info.hpp"
#include "greenrpc/runtime/deadline.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc {

// How a stream ended, once read_some() returned 0.
enum class EndOfStream {
  open,     // read_some has not reported the end (yet)
  orderly,  // the peer closed its sending side cleanly: TCP FIN, TLS close_notify
  abrupt,   // the connection was cut: TCP reset, or (TLS) the transport ended without close_notify
};

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Runs the stream's own setup (TLS: the TLS handshake) after the transport connected or was
  // accepted; a no-op that never parks for TCP. `deadline` bounds the whole handshake.
  // Call before any read or write; once it completed, a further call returns at once (a server
  // connection that sniffed the first decrypted bytes hands the stream on to the protocol
  // chosen). Throws TimeoutError, CancelledError or IoError.
  virtual void handshake(Deadline deadline) = 0;

  // Reads at most buf.size() (> 0) bytes; returns 0 at end of stream, for an orderly close and for a cut
  // connection alike (every caller treats 0 as "the peer is gone"); end_of_stream() then tells
  // which. Once 0, always 0. `deadline` bounds the wait for the first byte.
  // Throws TimeoutError, CancelledError (see cancel/close) or IoError.
  virtual std::size_t read_some(std::span<char> buf, Deadline deadline) = 0;
  // After read_some returned 0: orderly or abrupt. `open` before.
  virtual EndOfStream end_of_stream() const = 0;

  // Takes a prefix of `parts` (in order; at least one byte when any part is non-empty), parking
  // until it can take some, and returns its length n. `deadline` bounds the wait for progress.
  //
  // "Taken" (the definition the client's resend rule rests on):
  // * The first n bytes are committed to the connection: the stream delivers them to the peer, or
  //   the connection fails. They may already have reached the peer. A stream may hold some of them
  //   itself for a while (TLS: a record's ciphertext the kernel has not accepted yet);
  //   has_unflushed() then says so and flush() pushes them on.
  // * Bytes not taken never reached the peer: they never left this process, or (TLS) left only
  //   as part of an incomplete record, which the peer cannot decrypt and so cannot read. So a
  //   caller may send them again on a new connection without the peer ever seeing them twice.
  //   TLS counts a record's plaintext only once SSL_write accepted it (OpenSSL then owns the record
  //   and may have put part of it on the wire); plaintext SSL_write did not accept is not counted.
  // * To continue, pass the bytes not taken again, starting at the first of them. After a
  //   TimeoutError or CancelledError the stream may be mid-record: only close() is then valid.
  // Throws TimeoutError (no progress before `deadline`), CancelledError or IoError.
  virtual std::size_t write_some(std::span<const std::string_view> parts, Deadline deadline) = 0;
  // True when the stream itself holds taken bytes the kernel has not accepted yet (never for TCP).
  // A caller that then waits for the peer (e.g. for a reply) must flush() first, or the bytes may
  // sit in the stream. A stream holds at most what its last write_some took, plus (TLS) records a
  // read produced (an alert answering the peer), which the next read or write pushes.
  virtual bool has_unflushed() const { return false; }
  // Hands every held byte to the kernel; `deadline` bounds the whole flush. No-op for TCP.
  // Throws TimeoutError, CancelledError or IoError.
  virtual void flush(Deadline /*deadline*/) {}
  // Writes every byte of every part and flushes; `deadline` bounds the whole write.
  void write_all(std::span<const std::string_view> parts, Deadline deadline);
  void write_all(std::string_view data, Deadline deadline) { write_all(std::span(&data, 1), deadline); }

  // Graceful close of the sending side: flushes what the stream holds, then ends it after every
  // taken byte (TCP: shutdown(SHUT_WR), the FIN follows the queued bytes; TLS: close_notify, which
  // may park). Reading stays possible. `deadline` bounds the whole step. Counts as the writer.
  // Throws TimeoutError, CancelledError or IoError.
  virtual void shutdown(Deadline deadline) = 0;
  // Best-effort, never parks, never throws: half-close the sending side now (TCP: SHUT_WR after the
  // queued bytes). Kept for callers that cannot wait (e.g. after QUIT's reply was written with
  // write_all); prefer shutdown(Deadline), which a TLS stream needs to send close_notify.
  virtual void shutdown_write() = 0;

  // Fiber-free wait for input. Returns false, arming nothing, when a read_some might not park now
  // (bytes or the end may be there already, the stream is cancelled, or the stream cannot wait
  // without a fiber: the default): the caller then reads as usual. Otherwise returns true and
  // later calls `ready(arg, why)` once, on the owner thread: `woken` when a read_some would not
  // park, `timed_out` at `deadline`, `cancelled` on cancel(). The call comes from the scheduler
  // loop (a small stack) or from the fiber that cancels: keep it short (spawn a fiber).
  // close(), destruction and stop_notify_readable() withdraw it without a call.
  virtual bool notify_readable(Deadline /*deadline*/, Waiter::Callback /*ready*/, void* /*arg*/) { return false; }
  virtual void stop_notify_readable() noexcept {}

  // See "Cancellation and close" above. Owner thread only.
  virtual void cancel() = 0;
  virtual void close() = 0;

  virtual const Endpoint& peer() const = 0;
  // Acknowledge what was received now instead of after the delayed-ACK timer (TCP_QUICKACK).
  // For the end of a handshake: a peer whose socket waits for that ACK (Nagle) before sending its
  // first request would otherwise stall 40 ms. Best effort, never parks.
  virtual void acknowledge_now() noexcept {}
  // What TLS established, once the handshake completed; nullptr for a stream without TLS.
  virtual const TlsInfo* tls_info() const { return nullptr; }
};

}  // namespace greenrpc
