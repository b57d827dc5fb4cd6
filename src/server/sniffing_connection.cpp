#include "sniffing_connection.hpp"

#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/net/prefixed_byte_stream.hpp"
#include "server_core.hpp"
#include "server_handshake.hpp"
#include "sniffing_protocol.hpp"
#include "worker.hpp"

namespace greenrpc {

SniffingConnection::SniffingConnection(Worker& worker, const SniffingProtocol& protocols,
                                       std::unique_ptr<ByteStream> stream, std::uint64_t id)
    : worker_(worker),
      protocols_(protocols),
      id_(id),
      stream_(std::move(stream)),
      deadline_(Deadline::after(protocols.timeout())) {}

std::string SniffingConnection::close_reason() const {
  if (chosen_) return chosen_->close_reason();
  if (!close_reason_.empty()) return close_reason_;
  // Closed by the worker without running (nothing read yet).
  return draining_ || cut_ ? "server stopping" : "timed out before its first byte";
}

bool SniffingConnection::await_input(const Wakeup& wakeup) {
  if (chosen_) return chosen_->await_input(wakeup);
  return worker_.core().options().release_idle_fibers && stream_->notify_readable(deadline_, wakeup.ready, wakeup.arg);
}

void SniffingConnection::stop_awaiting_input() noexcept {
  if (chosen_)
    chosen_->stop_awaiting_input();
  else if (stream_)
    stream_->stop_notify_readable();
}

bool SniffingConnection::needs_fiber(Waiter::Result why) const {
  if (chosen_) return chosen_->needs_fiber(why);
  // Nothing read yet: its sniff deadline or a drain only closes it.
  return why != Waiter::Result::timed_out;
}

bool SniffingConnection::drain_dormant(const Wakeup& wakeup) {
  if (chosen_) return chosen_->drain_dormant(wakeup);
  // Nothing read yet: a first request that crossed the drain still gets its answer (sniff reads
  // for the quiet window); a quiet connection is closed when the window passes.
  stream_->stop_notify_readable();
  return stream_->notify_readable(Deadline::after(kDrainQuiet), wakeup.ready, wakeup.arg);
}

void SniffingConnection::drain() {
  draining_ = true;
  if (chosen_)
    chosen_->drain();
  else if (idle_)
    stream_->cancel();  // nothing read yet: nothing to finish
}

void SniffingConnection::cut() {
  cut_ = true;
  if (chosen_)
    chosen_->cut();
  else
    stream_->cancel();
}

const ProtocolFactory* SniffingConnection::sniff() {
  const Deadline deadline = deadline_;
  first_bytes_.resize(SniffingProtocol::kMaxSniffBytes);
  std::size_t have = 0;
  for (;;) {
    if (cut_) {
      close_reason_ = "server stopping";
      return nullptr;
    }
    // Drained before its first request was read: read on only for the quiet window (a request
    // that crossed the drain is handed to its protocol, which answers SHUTTING_DOWN).
    Deadline until = deadline;
    bool quiet_window = false;
    if (draining_ && have == 0) {
      const Deadline quiet = Deadline::after(kDrainQuiet);
      if (quiet.time_point() < until.time_point()) until = quiet;
      quiet_window = true;
    }
    idle_ = have == 0 && !quiet_window;
    std::size_t n = 0;
    bool quiet = false;
    try {
      n = stream_->read_some(std::span(first_bytes_.data() + have, first_bytes_.size() - have), until);
    } catch (const TimeoutError&) {
      if (!quiet_window) throw;
      quiet = true;  // recorded only
    }
    idle_ = false;
    if (quiet) {
      close_reason_ = "server stopping";
      return nullptr;
    }
    if (n == 0) {
      close_reason_ = have == 0 ? "peer closed" : "peer closed before a protocol was chosen";
      return nullptr;
    }
    have += n;
    std::span<const char> first(first_bytes_.data(), have);
    Match m = protocols_.probe(first);
    if (m == Match::yes) {
      first_bytes_.resize(have);
      return protocols_.choose(first);
    }
    if (m == Match::no || have == first_bytes_.size()) {
      close_reason_ = "no protocol matched its first bytes";
      return nullptr;
    }
  }
}

RunResult SniffingConnection::run(const Wakeup& wakeup) noexcept {
  if (chosen_) return chosen_->run(wakeup);  // woken from dormancy
  if (!handshaken_) {
    // Inside TLS the first bytes to sniff are decrypted ones: the handshake first (a no-op for
    // TCP), bounded by the stream's handshake deadline; the chosen protocol's own call then
    // returns at once. A drain ends it like an idle read.
    HandshakeResult shake{false, "server stopping"};
    if (!draining_ && !cut_) {
      idle_ = true;
      shake = server_handshake(*stream_, deadline_, worker_.metrics, id_);
      idle_ = false;
    }
    if (!shake.done) {
      close_reason_ = std::move(shake.close_reason);
      stream_->close();
      return RunResult::closed;
    }
    handshaken_ = true;
    // A TLS client may open its connection long before its first request (a pool): until its
    // first bytes it waits without a fiber, as it did before the handshake. (TCP came here
    // because bytes arrived.)
    if (wakeup.ready && stream_->tls_info() && !draining_ && !cut_ && worker_.core().options().release_idle_fibers &&
        stream_->notify_readable(deadline_, wakeup.ready, wakeup.arg))
      return RunResult::dormant;
  }
  const ProtocolFactory* protocol = nullptr;
  std::string failure;  // recorded in catch blocks, logged after them
  try {
    protocol = sniff();
    if (protocol) {
      chosen_ = protocol->make(worker_, std::make_unique<PrefixedByteStream>(std::move(first_bytes_), std::move(stream_)), id_);
      chosen_->set_owner(this);
      chosen_name_ = protocol->name();
    }
  } catch (const CancelledError&) {
    failure = "server stopping";
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!chosen_) {
    // The worker's "connection closed" line says why.
    if (!failure.empty()) close_reason_ = std::move(failure);
    if (stream_) stream_->close();
    return RunResult::closed;
  }
  // A stop that came while choosing applies to the chosen protocol.
  if (cut_)
    chosen_->cut();
  else if (draining_)
    chosen_->drain();
  return chosen_->run(wakeup);
}

}  // namespace greenrpc
