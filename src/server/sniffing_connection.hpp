#pragma once
// A connection whose protocol is not known yet (SniffingProtocol): runs the stream's handshake
// (inside TLS; nothing for TCP), reads the first bytes, asks the protocols, then runs the chosen
// one's handler on the same stream, the bytes already read first (PrefixedByteStream). drain()
// and cut() reach whichever stage it is in.
#include <memory>
#include <cstdint>
#include <string>

#include "greenrpc/net/byte_stream.hpp"
#include "protocol_handler.hpp"

namespace greenrpc {

class Worker;
class SniffingProtocol;
class ProtocolFactory;

class SniffingConnection final : public ProtocolHandler {
 public:
  SniffingConnection(Worker& worker, const SniffingProtocol& protocols, std::unique_ptr<ByteStream> stream,
                     std::uint64_t id);

  RunResult run(const Wakeup& wakeup) noexcept override;
  bool await_input(const Wakeup& wakeup) override;
  void stop_awaiting_input() noexcept override;
  bool needs_fiber(Waiter::Result why) const override;
  bool drain_dormant(const Wakeup& wakeup) override;
  void drain() override;
  void cut() override;
  std::string describe_running(Clock::time_point now) const override {
    return chosen_ ? chosen_->describe_running(now) : std::string();
  }
  std::size_t buffered_bytes() const override { return chosen_ ? chosen_->buffered_bytes() : 0; }
  void evict(std::string_view reason) override {
    if (chosen_) chosen_->evict(reason);
  }
  std::string close_reason() const override;
  const Endpoint* peer() const noexcept override {
    return chosen_ ? chosen_->peer() : stream_ ? &stream_->peer() : nullptr;
  }
  std::string_view protocol_name() const noexcept override { return chosen_name_; }

 private:
  // Reads until a protocol says yes; nullptr when none will (or the peer left, or a stop).
  const ProtocolFactory* sniff();

  Worker& worker_;
  const SniffingProtocol& protocols_;
  std::uint64_t id_;                      // handed to the chosen protocol's handler
  std::unique_ptr<ByteStream> stream_;    // until a protocol is chosen
  Deadline deadline_;                     // to choose one, from accept
  std::string first_bytes_;
  std::unique_ptr<ProtocolHandler> chosen_;  // once a protocol is chosen
  std::string_view chosen_name_;             // its name (the factory outlives the connection)
  std::string close_reason_;                 // none chosen: why
  bool handshaken_ = false;  // the stream's own handshake (TLS: this sniffer runs inside it)
  bool idle_ = false;  // parked in the handshake, or in read with nothing read yet
  bool draining_ = false;
  bool cut_ = false;
};

}  // namespace greenrpc
