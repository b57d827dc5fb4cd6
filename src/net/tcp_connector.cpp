#include <cassert>
#include <cerrno>

#include "greenrpc/net/connector.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/net/tcp_stream.hpp"
#include "greenrpc/runtime/errors.hpp"

namespace greenrpc {

TcpConnector::TcpConnector(std::string host, std::uint16_t port, Layer layer)
    : host_(std::move(host)), port_(port), layer_(std::move(layer)) {}

void TcpConnector::cancel() {
  if (!connecting_) return;
  cancelled_ = true;
  if (in_progress_) in_progress_->cancel();
}

std::unique_ptr<ByteStream> TcpConnector::connect(Deadline deadline) {
  assert(!connecting_ && "greenrpc::Connector: two connects at once");
  connecting_ = true;
  cancelled_ = false;
  in_progress_ = nullptr;
  struct Done {
    TcpConnector& self;
    ~Done() {
      self.in_progress_ = nullptr;
      self.connecting_ = false;
    }
  } done{*this};

  // Resolution (for a name) parks on the blocking pool where cancel() cannot reach it; the
  // connect loop checks cancelled_ before each attempt and the attempt itself can be woken.
  std::unique_ptr<ByteStream> stream = TcpStream::connect(host_, port_, deadline, &in_progress_, &cancelled_);
  if (layer_) stream = layer_(std::move(stream));
  if (cancelled_) throw CancelledError("connect to " + target().to_string() + " cancelled");
  in_progress_ = stream.get();

  std::string failure;
  int code = 0;
  try {
    stream->handshake(deadline);
  } catch (const TimeoutError&) {  // record only: nothing parks in a catch
    failure = "handshake timed out";
    code = ETIMEDOUT;
  } catch (const ConnectError&) {
    throw;
  } catch (const IoError& e) {
    failure = std::string("handshake failed: ") + e.what();
    code = e.code();
  }
  if (!failure.empty()) {
    stream->close();
    throw ConnectError("connect to " + target().to_string() + ": " + failure, code);
  }
  return stream;
}

}  // namespace greenrpc
