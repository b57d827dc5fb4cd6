#pragma once
// One pipelined connection of a Client, living on the client's I/O thread: a writer fiber that
// (re)connects and writes queued requests in batches, and a reader fiber per link that matches
// replies to requests in order.
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "greenrpc/client/options.hpp"
#include "greenrpc/client/pending_call.hpp"
#include "greenrpc/net/tcp_stream.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/waiter.hpp"

namespace greenrpc::detail {

class ClientConnection {
 public:
  ClientConnection(EventLoopThread& loop, std::string host, std::uint16_t port, const ClientOptions& options);

  // Loop thread only.
  void enqueue(std::shared_ptr<PendingCall> call);
  void shutdown();

 private:
  // One TCP connection's lifetime: its stream and the calls written to it, awaiting replies.
  struct Link {
    std::unique_ptr<TcpStream> stream;
    std::deque<std::shared_ptr<PendingCall>> inflight;
    bool broken = false;
  };

  void writer_loop();
  void reader_loop(std::shared_ptr<Link> link);
  // Connects and runs the AUTH / CLIENT SETNAME handshake; null on success.
  std::exception_ptr connect();
  void break_link(const std::shared_ptr<Link>& link, const std::string& why);
  static void fail(PendingCall& call, std::exception_ptr error);

  EventLoopThread& loop_;
  std::string host_;
  std::uint16_t port_;
  const ClientOptions& options_;
  std::shared_ptr<Link> link_;
  TcpStream* connecting_ = nullptr;  // during connect()'s handshake
  std::vector<std::shared_ptr<PendingCall>> outbox_;
  Waiter* writer_waiter_ = nullptr;
  bool closing_ = false;
};

}  // namespace greenrpc::detail
