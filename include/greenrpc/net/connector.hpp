#pragma once
// How a client gets a connection: resolve, connect and run the stream's handshake, all within one
// deadline. The client holds a Connector and never names a transport; TLS adds a connector (a
// TcpConnector with a layer that wraps the TCP stream in a TLS one) without touching the client.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "greenrpc/net/byte_stream.hpp"

namespace greenrpc {

class Connector {
 public:
  virtual ~Connector() = default;

  // A connected stream whose handshake() has completed, or:
  // * ConnectError: no usable connection before `deadline` (not resolved, refused, unreachable,
  //   connect or handshake timed out, closed or failed during the handshake). Worth retrying.
  // * CancelledError: cancel() was called while this connect ran.
  // * whatever else the stream's handshake throws (e.g. a TLS verification error), unchanged.
  // Owner thread (a runtime thread) only; one connect at a time.
  virtual std::unique_ptr<ByteStream> connect(Deadline deadline) = 0;
  // Wakes the connect in progress, if any, which then throws CancelledError. Any fiber of the
  // thread that runs connect(); no effect on later connects or on streams already returned.
  virtual void cancel() = 0;
  // The host and port connected to (for messages).
  virtual Endpoint target() const = 0;
};

class TcpConnector final : public Connector {
 public:
  // Wraps each connected TCP stream before its handshake runs (e.g. TLS); none: plain TCP.
  using Layer = std::function<std::unique_ptr<ByteStream>(std::unique_ptr<ByteStream> tcp)>;

  TcpConnector(std::string host, std::uint16_t port, Layer layer = {});

  std::unique_ptr<ByteStream> connect(Deadline deadline) override;
  void cancel() override;
  Endpoint target() const override { return Endpoint{host_, port_}; }

 private:
  std::string host_;
  std::uint16_t port_;
  Layer layer_;
  ByteStream* in_progress_ = nullptr;  // the stream connecting or in its handshake
  bool cancelled_ = false;             // of the connect in progress
  bool connecting_ = false;
};

}  // namespace greenrpc
