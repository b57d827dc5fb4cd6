#pragma once
// A ByteStream that first returns bytes already read from it (by SniffingConnection, to choose a
// protocol), then reads on from the stream itself: the chosen protocol loses nothing.
#include <memory>
#include <string>

#include "greenrpc/net/byte_stream.hpp"

namespace greenrpc {

class PrefixedByteStream final : public ByteStream {
 public:
  PrefixedByteStream(std::string prefix, std::unique_ptr<ByteStream> stream)
      : prefix_(std::move(prefix)), stream_(std::move(stream)) {}

  void handshake(Deadline deadline) override { stream_->handshake(deadline); }
  std::size_t read_some(std::span<char> buf, Deadline deadline) override;
  EndOfStream end_of_stream() const override { return stream_->end_of_stream(); }
  std::size_t write_some(std::span<const std::string_view> parts, Deadline deadline) override {
    return stream_->write_some(parts, deadline);
  }
  bool has_unflushed() const override { return stream_->has_unflushed(); }
  void flush(Deadline deadline) override { stream_->flush(deadline); }
  void shutdown(Deadline deadline) override { stream_->shutdown(deadline); }
  // Bytes of the prefix left: they are readable now (false).
  bool notify_readable(Deadline deadline, Waiter::Callback ready, void* arg) override {
    return consumed_ == prefix_.size() && stream_->notify_readable(deadline, ready, arg);
  }
  void stop_notify_readable() noexcept override { stream_->stop_notify_readable(); }
  void cancel() override { stream_->cancel(); }
  void shutdown_write() override { stream_->shutdown_write(); }
  void close() override { stream_->close(); }
  const Endpoint& peer() const override { return stream_->peer(); }
  const TlsInfo* tls_info() const override { return stream_->tls_info(); }
  void acknowledge_now() noexcept override { stream_->acknowledge_now(); }

 private:
  std::string prefix_;
  std::size_t consumed_ = 0;  // bytes of prefix_ already returned
  std::unique_ptr<ByteStream> stream_;
};

}  // namespace greenrpc
