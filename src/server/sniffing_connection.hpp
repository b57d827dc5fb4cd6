#pragma once
// A connection whose protocol is not known yet (SniffingProtocol): reads the first bytes, asks
// the protocols, then runs the chosen one's handler on the same stream, the bytes already read
// first (PrefixedByteStream). drain() and cut() reach whichever stage it is in.
#include <memory>
#include <string>

#include "greenrpc/net/byte_stream.hpp"
#include "protocol_handler.hpp"

namespace greenrpc {

class Worker;
class SniffingProtocol;
class ProtocolFactory;

class SniffingConnection final : public ProtocolHandler {
 public:
  SniffingConnection(Worker& worker, const SniffingProtocol& protocols, std::unique_ptr<ByteStream> stream)
      : worker_(worker), protocols_(protocols), stream_(std::move(stream)) {}

  void run() noexcept override;
  void drain() override;
  void cut() override;
  std::string describe_running(Clock::time_point now) const override {
    return chosen_ ? chosen_->describe_running(now) : std::string();
  }

 private:
  // Reads until a protocol says yes; nullptr when none will (or the peer left, or a stop).
  const ProtocolFactory* sniff();

  Worker& worker_;
  const SniffingProtocol& protocols_;
  std::unique_ptr<ByteStream> stream_;    // until a protocol is chosen
  std::string first_bytes_;
  std::unique_ptr<ProtocolHandler> chosen_;  // once a protocol is chosen
  bool idle_ = false;  // parked in read with nothing read yet
  bool draining_ = false;
  bool cut_ = false;
};

}  // namespace greenrpc
