// ByteStream's contract on real loopback sockets: end-of-stream kinds, graceful shutdown, the
// handshake and shutdown deadlines, cancel/close of parked fibers, what write_some's count means,
// and the TcpConnector.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "../support/loopback.hpp"
#include "../support/fiber_harness.hpp"
#include "greenrpc/net/connector.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/net/tcp_listener.hpp"
#include "greenrpc/net/tcp_stream.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"

using namespace greenrpc;
using greenrpc::test::run_in_fiber;
using namespace std::chrono_literals;

namespace {

// A raw blocking listener on 127.0.0.1 playing the peer by hand.
struct RawListener {
  std::uint16_t port = 0;
  int fd = test_support::listen_loopback(port);
  ~RawListener() { ::close(fd); }
  // The next connection (already queued by the kernel when a connect returned, so no waiting).
  int accept() const {
    int c = ::accept(fd, nullptr, nullptr);
    timeval tv{10, 0};  // a peer never waits forever: a test that should end does not hang
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return c;
  }
};

// Everything the peer reads until end of stream; `how` says how it ended: "fin", "reset",
// "timeout" or another errno text.
std::string read_to_end(int fd, std::string& how) {
  std::string got;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      got.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      how = "fin";
    } else if (errno == EINTR) {
      continue;
    } else {
      how = errno == ECONNRESET ? "reset" : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout" : std::strerror(errno);
    }
    return got;
  }
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 7 + i / 65521) % 251);
  return s;
}

// A stream with a handshake and a closing step of its own, the way TLS has: the handshake waits
// for one greeting byte 'G' from the peer; shutdown sends a trailer ("BYE") before the transport's
// FIN.
class GreetingStream final : public ByteStream {
 public:
  GreetingStream(std::unique_ptr<ByteStream> inner, std::string trailer)
      : inner_(std::move(inner)), trailer_(std::move(trailer)) {}
  void handshake(Deadline deadline) override {
    char g = 0;
    if (inner_->read_some(std::span(&g, 1), deadline) == 0) throw IoError("closed before the greeting", 0);
    if (g != 'G') throw IoError("bad greeting", 0);
  }
  std::size_t read_some(std::span<char> buf, Deadline d) override { return inner_->read_some(buf, d); }
  EndOfStream end_of_stream() const override { return inner_->end_of_stream(); }
  std::size_t write_some(std::span<const std::string_view> parts, Deadline d) override {
    return inner_->write_some(parts, d);
  }
  void shutdown(Deadline deadline) override {
    inner_->write_all(trailer_, deadline);
    inner_->shutdown(deadline);
  }
  void shutdown_write() override { inner_->shutdown_write(); }
  void cancel() override { inner_->cancel(); }
  void close() override { inner_->close(); }
  const Endpoint& peer() const override { return inner_->peer(); }

 private:
  std::unique_ptr<ByteStream> inner_;
  std::string trailer_;
};

TcpConnector::Layer greeting_layer(std::string trailer = "BYE") {
  return [trailer](std::unique_ptr<ByteStream> tcp) -> std::unique_ptr<ByteStream> {
    return std::make_unique<GreetingStream>(std::move(tcp), trailer);
  };
}

// Writes `payload` from the start until the peer stops taking bytes for `stall`; returns the count
// write_some reported taken.
std::size_t write_until_stalled(ByteStream& s, std::string_view payload, std::chrono::milliseconds stall) {
  std::size_t taken = 0;
  bool stalled = false;
  while (!stalled && taken < payload.size()) {
    // Three parts per call: the count must cover a gathered write too.
    std::string_view rest = payload.substr(taken);
    std::string_view parts[] = {rest.substr(0, 1000), rest.substr(std::min<std::size_t>(1000, rest.size()), 70000),
                                rest.substr(std::min<std::size_t>(71000, rest.size()))};
    try {
      taken += s.write_some(parts, Deadline::after(stall));
    } catch (const TimeoutError&) {
      stalled = true;
    }
  }
  return taken;
}

}  // namespace

TEST(Net, OrderlyCloseAndResetAreToldApart) {
  run_in_fiber([] {
    RawListener peer;
    TcpConnector connector("127.0.0.1", peer.port);
    char buf[64];

    auto a = connector.connect(Deadline::after(2s));
    int pa = peer.accept();
    EXPECT_EQ(a->end_of_stream(), EndOfStream::open);
    ASSERT_EQ(::send(pa, "hi", 2, 0), 2);
    ::close(pa);  // FIN after the data
    std::string got;
    for (std::size_t n; (n = a->read_some(buf, Deadline::after(2s))) > 0;) got.append(buf, n);
    EXPECT_EQ(got, "hi");
    EXPECT_EQ(a->end_of_stream(), EndOfStream::orderly);
    EXPECT_EQ(a->read_some(buf, Deadline::after(2s)), 0u);
    EXPECT_EQ(a->end_of_stream(), EndOfStream::orderly);

    auto b = connector.connect(Deadline::after(2s));
    int pb = peer.accept();
    linger hard{1, 0};  // close sends RST, not FIN
    ASSERT_EQ(::setsockopt(pb, SOL_SOCKET, SO_LINGER, &hard, sizeof hard), 0);
    ::close(pb);
    EXPECT_EQ(b->read_some(buf, Deadline::after(2s)), 0u);
    EXPECT_EQ(b->end_of_stream(), EndOfStream::abrupt);
    EXPECT_EQ(b->read_some(buf, Deadline::after(2s)), 0u);  // the kernel now says 0; the verdict stays
    EXPECT_EQ(b->end_of_stream(), EndOfStream::abrupt);
  });
}

TEST(Net, ShutdownSendsFinAfterEveryQueuedByte) {
  run_in_fiber([] {
    RawListener listener;
    auto s = TcpStream::connect("127.0.0.1", listener.port, Deadline::after(2s));
    int p = listener.accept();
    const std::string payload = pattern(8 << 20);  // more than the socket buffers hold
    std::string got, how;
    std::thread peer([&] {
      std::this_thread::sleep_for(200ms);  // the writer fills the buffers and parks first
      got = read_to_end(p, how);
      ::send(p, "after", 5, MSG_NOSIGNAL);  // the other direction still works
      ::close(p);
    });
    s->write_all(payload, Deadline::after(20s));
    s->shutdown(Deadline::after(2s));
    char buf[16];
    std::string back;
    for (std::size_t n; (n = s->read_some(buf, Deadline::after(20s))) > 0;) back.append(buf, n);
    peer.join();
    EXPECT_EQ(how, "fin");
    EXPECT_EQ(got.size(), payload.size());
    EXPECT_TRUE(got == payload);
    EXPECT_EQ(back, "after");
    EXPECT_EQ(s->end_of_stream(), EndOfStream::orderly);
  });
}

TEST(Net, TcpHandshakeAndShutdownNeverParkAndHonourCancel) {
  run_in_fiber([] {
    RawListener listener;
    auto s = TcpStream::connect("127.0.0.1", listener.port, Deadline::after(2s));
    int p = listener.accept();
    const Deadline past = Deadline(Clock::now() - 1s);
    EXPECT_NO_THROW(s->handshake(past));  // nothing to wait for: an expired deadline is no failure
    EXPECT_NO_THROW(s->shutdown(past));
    std::string how;
    EXPECT_EQ(read_to_end(p, how), "");
    EXPECT_EQ(how, "fin");
    s->cancel();
    EXPECT_THROW(s->handshake(Deadline::after(1s)), CancelledError);
    EXPECT_THROW(s->shutdown(Deadline::after(1s)), CancelledError);
    ::close(p);
  });
}

TEST(Net, ConnectorBoundsTheStreamsHandshakeByTheDeadline) {
  run_in_fiber([] {
    RawListener listener;
    TcpConnector connector("127.0.0.1", listener.port, greeting_layer());

    // A peer that never greets: ConnectError once the deadline passes, not before.
    auto start = Clock::now();
    try {
      connector.connect(Deadline::after(300ms));
      ADD_FAILURE() << "connected without a greeting";
    } catch (const ConnectError& e) {
      EXPECT_NE(std::string(e.what()).find("handshake timed out"), std::string::npos) << e.what();
    }
    auto took = Clock::now() - start;
    EXPECT_GE(took, 290ms);
    EXPECT_LT(took, 2s);
    ::close(listener.accept());

    // A peer that closes during the handshake: ConnectError at once.
    std::thread closer([&] { ::close(listener.accept()); });
    EXPECT_THROW(connector.connect(Deadline::after(5s)), ConnectError);
    closer.join();

    // A peer that greets: a stream that works.
    std::thread greeter([&] {
      int p = listener.accept();
      ::send(p, "G", 1, MSG_NOSIGNAL);
      std::string how;
      std::string got = read_to_end(p, how);
      EXPECT_EQ(got, "pingBYE");
      EXPECT_EQ(how, "fin");
      ::close(p);
    });
    auto s = connector.connect(Deadline::after(5s));
    s->write_all("ping", Deadline::after(2s));
    s->shutdown(Deadline::after(2s));
    greeter.join();
  });
}

TEST(Net, ShutdownThatMustWriteIsBoundedByItsDeadline) {
  run_in_fiber([] {
    RawListener listener;
    // A trailer larger than any room left in the socket buffers: shutdown must park to send it.
    TcpConnector connector("127.0.0.1", listener.port, greeting_layer(std::string(16 << 20, 'T')));
    int p = -1;
    std::thread greeter([&] {
      p = listener.accept();
      ::send(p, "G", 1, MSG_NOSIGNAL);
    });
    auto s = connector.connect(Deadline::after(5s));
    greeter.join();
    const std::string payload = pattern(32 << 20);
    write_until_stalled(*s, payload, 200ms);  // the peer reads nothing: the buffers are full
    auto start = Clock::now();
    EXPECT_THROW(s->shutdown(Deadline::after(300ms)), TimeoutError);
    auto took = Clock::now() - start;
    EXPECT_GE(took, 290ms);
    EXPECT_LT(took, 2s);
    ::close(p);
  });
}

TEST(Net, CancelAndCloseWakeAParkedReaderAndWriter) {
  for (const bool by_close : {false, true}) {
    SCOPED_TRACE(by_close ? "close()" : "cancel()");
    run_in_fiber([by_close] {
      RawListener listener;
      auto s = TcpStream::connect("127.0.0.1", listener.port, Deadline::after(2s));
      int p = listener.accept();  // never reads, never writes
      const std::string chunk(1 << 20, 'w');
      std::string reader_saw, writer_saw;
      auto reader_done = OneShotEvent::create();
      auto writer_done = OneShotEvent::create();
      std::atomic<std::size_t> written{0};
      spawn([&] {
        char buf[16];
        try {
          s->read_some(buf, Deadline::never());
          reader_saw = "returned";
        } catch (const CancelledError&) {
          reader_saw = "cancelled";
        } catch (const std::exception& e) {
          reader_saw = e.what();
        }
        reader_done->set();
      });
      spawn([&] {
        try {
          const std::string_view part = chunk;
          for (;;) written += s->write_some(std::span(&part, 1), Deadline::never());
        } catch (const CancelledError&) {
          writer_saw = "cancelled";
        } catch (const std::exception& e) {
          writer_saw = e.what();
        }
        writer_done->set();
      });
      sleep_for(300ms);
      const std::size_t before = written;
      sleep_for(100ms);
      ASSERT_EQ(written, before) << "the writer should be parked on full buffers";
      ASSERT_TRUE(reader_saw.empty());
      ASSERT_TRUE(writer_saw.empty());
      if (by_close) {
        s->close();
      } else {
        s->cancel();
      }
      EXPECT_TRUE(reader_done->wait(Deadline::after(2s)));
      EXPECT_TRUE(writer_done->wait(Deadline::after(2s)));
      EXPECT_EQ(reader_saw, "cancelled");
      EXPECT_EQ(writer_saw, "cancelled");
      // Sticky: later calls fail at once.
      char buf[16];
      EXPECT_THROW(s->read_some(buf, Deadline::never()), CancelledError);
      EXPECT_THROW(s->write_all("x", Deadline::never()), CancelledError);
      ::close(p);
    });
  }
}

TEST(Net, WriteSomeCountIsExactlyWhatThePeerReceives) {
  run_in_fiber([] {
    RawListener listener;
    auto s = TcpStream::connect("127.0.0.1", listener.port, Deadline::after(2s));
    int p = listener.accept();
    const std::string payload = pattern(64 << 20);
    // The peer stops reading: write until no byte is taken for 200 ms.
    const std::size_t taken = write_until_stalled(*s, payload, 200ms);
    ASSERT_GT(taken, 0u);
    ASSERT_LT(taken, payload.size()) << "the socket buffers never filled";
    EXPECT_FALSE(s->has_unflushed());
    s->shutdown(Deadline::after(2s));
    // The peer resumes: it gets every byte reported taken, in order, and not one more.
    std::string how, got;
    std::thread peer([&] { got = read_to_end(p, how); });
    peer.join();
    EXPECT_EQ(how, "fin");
    EXPECT_EQ(got.size(), taken);
    EXPECT_TRUE(got == payload.substr(0, taken));
    ::close(p);
  });
}

TEST(Net, ConnectorRefusedIsAQuickConnectError) {
  run_in_fiber([] {
    std::uint16_t port;
    {
      RawListener gone;
      port = gone.port;
    }
    TcpConnector connector("127.0.0.1", port);
    EXPECT_EQ(connector.target().to_string(), "127.0.0.1:" + std::to_string(port));
    auto start = Clock::now();
    try {
      connector.connect(Deadline::after(5s));
      ADD_FAILURE() << "connect to a closed port succeeded";
    } catch (const ConnectError& e) {
      EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
      EXPECT_EQ(e.code(), ECONNREFUSED);
    }
    EXPECT_LT(Clock::now() - start, 1s);
  });
}

TEST(Net, ConnectorCancelWakesAConnectInItsHandshake) {
  run_in_fiber([] {
    RawListener listener;
    TcpConnector connector("127.0.0.1", listener.port, greeting_layer());
    connector.cancel();  // nothing in progress: no effect on the next connect
    std::string saw;
    auto done = OneShotEvent::create();
    spawn([&] {
      try {
        connector.connect(Deadline::after(10s));  // the peer never greets
        saw = "connected";
      } catch (const CancelledError&) {
        saw = "cancelled";
      } catch (const std::exception& e) {
        saw = e.what();
      }
      done->set();
    });
    sleep_for(100ms);
    EXPECT_TRUE(saw.empty()) << saw;
    auto start = Clock::now();
    connector.cancel();
    EXPECT_TRUE(done->wait(Deadline::after(2s)));
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_EQ(saw, "cancelled");
    ::close(listener.accept());
  });
}

// The contract's debug checks: compiled out (NDEBUG) in release builds, where this test skips.
TEST(NetDeathTest, TwoReadersAtOnceAssertInDebugBuilds) {
#ifdef NDEBUG
  GTEST_SKIP() << "assertions are compiled out in this build";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_in_fiber([] {
                 RawListener listener;
                 auto s = TcpStream::connect("127.0.0.1", listener.port, Deadline::after(2s));
                 int p = listener.accept();
                 char a[4], b[4];
                 spawn([&] { s->read_some(a, Deadline::after(2s)); });
                 sleep_for(50ms);
                 s->read_some(b, Deadline::after(2s));
                 ::close(p);
               }),
               "two fibers in the same direction");
#endif
}

TEST(NetDeathTest, UseOffTheOwnerThreadAssertsInDebugBuilds) {
#ifdef NDEBUG
  GTEST_SKIP() << "assertions are compiled out in this build";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::unique_ptr<TcpStream> s;
        RawListener listener;
        {
          EventLoopThread a("a");
          std::promise<void> made;
          a.spawn_fiber([&] {
            s = TcpStream::connect("127.0.0.1", listener.port, Deadline::after(2s));
            made.set_value();
          });
          made.get_future().get();
          EventLoopThread b("b");
          std::promise<void> used;
          b.spawn_fiber([&] {
            s->cancel();
            used.set_value();
          });
          used.get_future().get();
        }
      },
      "owner thread");
#endif
}
