// A server that stops reading: the client notices after ClientOptions::write_timeout, drops the
// connection and builds a new one. A request that never fully left the process cannot have run,
// so it goes out again whatever its idempotency; a request the kernel took may have run, so it
// fails with ConnectionLostError unless it is idempotent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "../support/loopback.hpp"
#include "../support/test_app.hpp"

using namespace std::chrono_literals;
using greenrpc::Clock;

namespace {

// Listens on 127.0.0.1:port(). The first connection is accepted and then never read (a server
// that stopped reading); every later one is pumped to 127.0.0.1:upstream in both directions.
class StallingFront {
 public:
  explicit StallingFront(std::uint16_t upstream) : upstream_(upstream) {
    listen_fd_ = test_support::listen_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~StallingFront() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // ends the pumps' blocking reads
    }
    for (auto& t : pumps_) t.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      fds_.push_back(fd);
      if (accepted_++ == 0) continue;  // held, never read
      int up = test_support::connect_loopback(upstream_);
      if (up < 0) {  // upstream down: the client sees this connection close
        ::shutdown(fd, SHUT_RDWR);
        continue;
      }
      fds_.push_back(up);
      pumps_.emplace_back([fd, up] { pump(fd, up); });
      pumps_.emplace_back([fd, up] { pump(up, fd); });
    }
  }
  static void pump(int from, int to) {
    std::vector<char> buf(1 << 16);
    for (;;) {
      ssize_t n = ::read(from, buf.data(), buf.size());
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::send(to, buf.data() + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) return;
        off += w;
      }
    }
    ::shutdown(to, SHUT_WR);
  }

  std::uint16_t upstream_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

class WriteStallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_app::install(app, counters);
    app.command("count_echo", [this](std::string s) {
      ++echoes;
      return s;
    });
    server = app.start_background(test_app::local_options());
  }
  greenrpc::ClientOptions stalling_options() {
    greenrpc::ClientOptions o;
    o.write_timeout = 300ms;
    o.timeout = 10'000ms;  // before the fix, the big call hung here instead of being resent
    return o;
  }

  greenrpc::App app;
  test_app::Counters counters;
  std::atomic<int> echoes{0};
  greenrpc::Server server;
  // Far more than the socket buffers of a connection that is never read (tcp_rmem's default
  // 128 KiB receive window plus tcp_wmem's 4 MiB send buffer).
  const std::string big = std::string(24u << 20, 'x');
};

}  // namespace

TEST_F(WriteStallTest, UnsentRequestIsResentOnANewConnectionAfterWriteTimeout) {
  StallingFront front(server.port());
  greenrpc::Client client("127.0.0.1", front.port(), stalling_options());
  auto t0 = Clock::now();
  // Not idempotent: it is resent only because it provably never left this process whole.
  std::string got = client.call<std::string>("count_echo", big);
  auto took = Clock::now() - t0;
  EXPECT_EQ(got.size(), big.size());
  EXPECT_EQ(got, big);
  EXPECT_EQ(front.accepted(), 2) << "one stalled connection, then one that works";
  EXPECT_EQ(echoes.load(), 1);
  EXPECT_GE(took, 300ms) << "the stall is noticed after write_timeout, not before";
}

TEST_F(WriteStallTest, RequestTheKernelTookFailsAsPossiblyRunUnlessIdempotent) {
  StallingFront front(server.port());
  auto o = stalling_options();
  greenrpc::Client client("127.0.0.1", front.port(), o);
  // Queued before the connection exists, so all three go out in one batch: the two small calls
  // fit in the stalled connection's buffers, the big one does not.
  auto small = client.call_async<std::string>("count_echo", std::string("small"));
  greenrpc::CallOptions idem;
  idem.idempotent = true;
  auto small_idem = client.call_async<std::string>(idem, "echo", std::string("again"));
  auto large = client.call_async<std::string>("count_echo", big);
  try {
    small.get();
    ADD_FAILURE() << "a call the stalled server may have received was not reported lost";
  } catch (const greenrpc::ConnectionLostError& e) {
    EXPECT_NE(std::string(e.what()).find("may have run"), std::string::npos) << e.what();
  }
  EXPECT_EQ(small_idem.get(), "again") << "an idempotent call goes again";
  EXPECT_EQ(large.get().size(), big.size()) << "the call that never left whole goes again";
  EXPECT_EQ(echoes.load(), 1) << "only the resent big call reached the real server";
  EXPECT_EQ(front.accepted(), 2);
  // The client keeps working on its new connection.
  EXPECT_EQ(client.call(test_app::add, 1, test_app::NumberInput{2}), 3);
}

TEST_F(WriteStallTest, WriteTimeoutDefaultsToThirtySeconds) {
  EXPECT_EQ(greenrpc::ClientOptions{}.write_timeout, 30'000ms);
}
