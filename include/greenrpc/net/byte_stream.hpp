#pragma once
// The byte-stream interface under every connection: TCP today, TLS (OpenSSL) behind the same
// calls later. All calls look blocking and park only the calling fiber; each takes a deadline.
#include <cstddef>
#include <span>
#include <string_view>

#include "greenrpc/net/endpoint.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Reads at most buf.size() bytes; returns 0 at orderly end of stream.
  // Throws TimeoutError, CancelledError (shut down from this thread) or IoError.
  virtual std::size_t read_some(std::span<char> buf, Deadline deadline) = 0;
  // Hands at least one byte of `parts` (in order, gathered into one syscall where the kernel
  // allows) to the connection, parking until it can take some; returns how many it took. Bytes
  // not taken never left this process: a caller can tell which requests provably never reached
  // the peer. Throws TimeoutError (no progress before `deadline`), CancelledError or IoError.
  virtual std::size_t write_some(std::span<const std::string_view> parts, Deadline deadline) = 0;
  // Writes every byte of every part; `deadline` bounds the whole write.
  void write_all(std::span<const std::string_view> parts, Deadline deadline);
  void write_all(std::string_view data, Deadline deadline) { write_all(std::span(&data, 1), deadline); }

  // Wakes every fiber parked on this stream with CancelledError and makes further reads end.
  // Same thread as the stream's owner. Used by graceful server shutdown.
  virtual void cancel() = 0;
  // Half-close the sending side after pending writes (e.g. after QUIT's reply).
  virtual void shutdown_write() = 0;
  virtual void close() = 0;

  virtual const Endpoint& peer() const = 0;
};

}  // namespace greenrpc
