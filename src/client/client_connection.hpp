#pragma once
// One pipelined connection of a Client, living on the client's I/O loop: a writer fiber that
// (re)connects with back-off and writes queued requests in batches (adding envelopes: deadline,
// signature), and a reader fiber per link that matches replies to requests in order and
// verifies reply signatures.
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "greenrpc/client/options.hpp"
#include "greenrpc/client/pending_call.hpp"
#include "greenrpc/envelope/hmac_key.hpp"
#include "greenrpc/net/connector.hpp"
#include "greenrpc/runtime/fiber_group.hpp"
#include "greenrpc/runtime/waiter.hpp"
#include "client_metrics.hpp"

namespace greenrpc::detail {

class ClientConnection {
 public:
  // Connects to host:port over plain TCP (a TcpConnector).
  // Connects through `connector` (TCP, or TLS); host and port name the server in messages.
  // `metrics` (the client's, outliving this) counts its calls, retries and reconnects.
  ClientConnection(FiberGroup& fibers, std::string host, std::uint16_t port, const ClientOptions& options,
                   std::unique_ptr<Connector> connector, ClientMetrics& metrics);

  // Loop thread only.
  void enqueue(std::shared_ptr<PendingCall> call);
  void shutdown();

 private:
  // The call is finished (reply or failure): counted, and its caller woken.
  void complete(PendingCall& call);
  // One connection's lifetime: its stream, its signing context, and the calls written to it.
  struct Link {
    std::unique_ptr<ByteStream> stream;
    std::string nonce;       // the server's, when signing
    std::uint64_t seq = 0;   // last sequence number sent
    std::deque<std::shared_ptr<PendingCall>> inflight;
    std::uint64_t queued_bytes = 0;   // request bytes handed to the writer so far
    // Of those, taken by the stream (ByteStream::write_some): committed, so they may have reached
    // the server; the rest provably never did.
    std::uint64_t written_bytes = 0;
    bool broken = false;
    // The server answered SHUTTING_DOWN: it starts nothing more on this connection, so every call
    // still in flight here never ran, whatever the kernel took.
    bool refused = false;
  };

  void writer_loop();
  void reader_loop(std::shared_ptr<Link> link);
  // Connects (with retries and back-off) and runs the handshake; null on success.
  std::exception_ptr connect();
  std::exception_ptr connect_once();
  // The latest deadline among the queued calls whose callers still wait; Clock::time_point::min()
  // when nobody waits.
  Deadline latest_waiting_deadline() const;
  // A back-off pause of the writer fiber; shutdown() ends it early (new calls do not).
  void pause_until(Deadline deadline);
  // Writes wire_ to the link, counting what the stream took, and flushes what the stream holds;
  // breaks the link when that fails.
  void write_batch(const std::shared_ptr<Link>& link);
  // Appends one call's frame (array header, envelope when needed, body) to `wire`.
  void append_frame(std::string& wire, Link& link, PendingCall& call);
  // The reply as the caller should see it, after checking its signature.
  // `raw` is the reply's bytes as received (its signature covers them).
  void deliver(Link& link, const std::shared_ptr<PendingCall>& call, protocol::RespValue reply, std::string_view raw);
  // A send that reached the server and may have run is lost: counts it; true when the call may
  // go again (idempotent, attempts and deadline left, client open).
  bool resend_possibly_run(PendingCall& call);
  std::exception_ptr lost_error(const std::string& what) const;
  // A SHUTTING_DOWN answer: the call goes again on a new connection (the server's successor).
  void resend_refused(Link& link, const std::shared_ptr<PendingCall>& call, protocol::RespValue reply);
  void break_link(const std::shared_ptr<Link>& link, const std::string& why);
  void fail(PendingCall& call, std::exception_ptr error);

  FiberGroup& fibers_;
  std::string host_;
  std::uint16_t port_;
  const ClientOptions& options_;
  std::optional<HmacKey> key_;
  std::shared_ptr<Link> link_;
  std::unique_ptr<Connector> connector_;
  ByteStream* connecting_ = nullptr;  // during connect_once()'s AUTH/SETNAME/NONCE exchange
  std::vector<std::shared_ptr<PendingCall>> outbox_;
  std::string wire_;
  std::vector<std::string_view> elements_;
  std::string envelope_scratch_;
  Waiter* writer_waiter_ = nullptr;
  Waiter* pause_waiter_ = nullptr;
  // After a drop with possibly-run idempotent calls to resend: the jittered back-off before
  // reconnecting (never, otherwise).
  Deadline resend_after_;
  bool closing_ = false;
  ClientMetrics& metrics_;
  bool connected_before_ = false;  // reconnects are connections after the first
};

}  // namespace greenrpc::detail
