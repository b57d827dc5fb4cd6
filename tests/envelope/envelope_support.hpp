#pragma once
// Helpers of the envelope suite: a test App whose handlers count their invocations, a raw RESP
// socket, a byte-level signer for hand-made requests, and TamperProxy, a man in the middle that
// records frames and flips bits in them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <greenrpc/envelope/envelope.hpp>
#include <greenrpc/envelope/hmac_key.hpp>
#include <greenrpc/greenrpc.hpp>
#include <greenrpc/protocol/resp_writer.hpp>
#include <map>
#include <memory>
#include <msgpack.hpp>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/loopback.hpp"

namespace env_test {

using namespace std::chrono_literals;
using greenrpc::Clock;

struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

// add is NOT idempotent: a client must never resend it by itself.
inline const greenrpc::Command<int(int, NumberInput)> add{"add", {"a", "b"}};
inline const greenrpc::Command<int(int, NumberInput)> add_idem{"add_idem", {"a", "b"}, {.idempotent = true, .summary = ""}};
// slow_* sleep `ms` then return `ms`; count their invocations at entry.
inline const greenrpc::Command<int(int)> slow_once{"slow_once", {"ms"}};
inline const greenrpc::Command<int(int)> slow_idem{"slow_idem", {"ms"}, {.idempotent = true, .summary = ""}};

// A handler-thrown type mapped back on the client with Client::map_error.
class OutOfStock : public greenrpc::CommandError {
 public:
  explicit OutOfStock(const std::string& message) : greenrpc::CommandError("OUT_OF_STOCK", message) {}
};

struct Counters {
  std::atomic<int> add{0};
  std::atomic<int> slow{0};
  std::atomic<int> any{0};  // every user handler
  std::atomic<long long> last_deadline_ms{-2};
};

// Remaining time of a deadline in ms; -1 for never.
inline long long remaining_ms(greenrpc::Deadline d) {
  if (d.is_never()) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(d.remaining()).count();
}

inline void install(greenrpc::App& app, Counters& c) {
  app.command(add, [&c](int a, NumberInput b) {
    ++c.add;
    ++c.any;
    return a + b.value;
  });
  app.command(add_idem, [&c](int a, NumberInput b) {
    ++c.add;
    ++c.any;
    return a + b.value;
  });
  app.command(slow_once, [&c](int ms) {
    ++c.slow;
    ++c.any;
    greenrpc::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  app.command(slow_idem, [&c](int ms) {
    ++c.slow;
    ++c.any;
    greenrpc::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  app.command("sleep_ms", {"ms"}, [&c](int ms) {
    ++c.any;
    greenrpc::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  // The handler's view of the caller's deadline, in ms (-1: none).
  app.command("deadline_left", [&c](const greenrpc::RequestContext& ctx) {
    ++c.any;
    long long left = remaining_ms(ctx.deadline());
    c.last_deadline_ms = left;
    return left;
  });
  app.command("echo", [&c](std::string s) {
    ++c.any;
    return s;
  });
  app.command("fail_rpc", [&c](std::string what) -> int {
    ++c.any;
    throw greenrpc::RpcError(what);
  });
  app.command("fail_mapped", [&c](std::string what) -> int {
    ++c.any;
    throw OutOfStock(what);
  });
  app.command("fail_other", [&c](std::string what) -> int {
    ++c.any;
    throw greenrpc::CommandError("SOMETHING_ELSE", what);
  });
}

inline greenrpc::ServerOptions server_options(std::string secret = "s3cret") {
  greenrpc::ServerOptions o;
  o.port = 0;
  o.workers = 1;
  o.grace_period = 2000ms;
  o.auth_secret = std::move(secret);
  return o;
}

inline greenrpc::ClientOptions client_options(std::string secret = "s3cret") {
  greenrpc::ClientOptions o;
  o.auth_secret = std::move(secret);
  o.connect_timeout = 1000ms;
  return o;
}

inline std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Printable form of a frame for failure messages.
inline std::string show(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

inline std::string mp(const auto& v) {
  std::string out;
  greenrpc::codec::encode(out, v);
  return out;
}

using test_support::RawSocket;
using test_support::resp_value_end;

// A RESP request made of `parts` (each one bulk string).
inline std::string frame_of(const std::vector<std::string>& parts) {
  std::vector<std::string_view> views(parts.begin(), parts.end());
  std::string out;
  greenrpc::protocol::append_command(out, views);
  return out;
}

// Signs hand-made requests with the library's primitives (the Python test checks the same
// construction independently, from docs/protocol.md).
struct Signer {
  greenrpc::HmacKey key;
  std::string nonce;
  Signer(std::string_view secret, std::string nonce_) : key(secret), nonce(std::move(nonce_)) {}

  // [envelope, elements...] with seq, optional dl, and a correct tag.
  std::string request(std::uint64_t seq, std::optional<std::uint64_t> dl, const std::vector<std::string>& elements) {
    greenrpc::envelope::Header h;
    h.seq = seq;
    h.deadline_ms = dl;
    std::vector<std::string_view> views(elements.begin(), elements.end());
    h.tag = greenrpc::envelope::request_tag(key, nonce, h, views);
    std::string env;
    greenrpc::envelope::append_encoded(env, h);
    std::vector<std::string> parts{env};
    parts.insert(parts.end(), elements.begin(), elements.end());
    return frame_of(parts);
  }
  // Checks a signed reply "*2\r\n$32\r\n<tag>\r\n<element>" and returns <element>; throws if the
  // shape or the tag is wrong.
  std::string open_reply(std::uint64_t seq, std::string_view reply) {
    constexpr std::string_view head = "*2\r\n$32\r\n";
    if (reply.substr(0, head.size()) != head || reply.size() < head.size() + 34)
      throw std::runtime_error("not a signed reply: " + show(reply));
    std::string_view tag = reply.substr(head.size(), 32);
    std::string_view element = reply.substr(head.size() + 34);
    greenrpc::Tag expect = greenrpc::envelope::reply_tag(key, nonce, seq, element);
    if (!greenrpc::HmacKey::equal(tag, expect)) throw std::runtime_error("reply tag mismatch: " + show(reply));
    return std::string(element);
  }
};

inline std::vector<std::string> add_elements(int a, int b, std::string name = "add") {
  return {std::move(name), mp(a), mp(NumberInput{b})};
}

// ---------------------------------------------------------------------------------------------
// TamperProxy: 127.0.0.1:<port()> → 127.0.0.1:<upstream>. One plain thread, blocking sockets and
// poll(). It cuts both directions into RESP frames, records them, and can flip bits of ONE frame
// (the first one, in the armed direction, that contains `match`) before forwarding it. The frame
// boundaries come from the original bytes, so the proxy itself never loses sync.
// ---------------------------------------------------------------------------------------------
class TamperProxy {
 public:
  enum Dir { to_server = 0, to_client = 1 };
  struct Flip {
    Dir dir = to_server;
    std::string match;       // the frame must contain this
    std::size_t offset = 0;  // byte of the frame to flip
    std::uint8_t mask = 0x01;
    std::function<void(std::string&)> edit{};  // when set: rewrites the frame instead of the flip
  };
  struct Frame {
    int conn;
    Dir dir;
    std::string bytes;  // as received (before any flip)
  };

  explicit TamperProxy(std::uint16_t upstream_port) : upstream_(upstream_port) {
    listen_fd_ = test_support::listen_loopback(port_);
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("TamperProxy: pipe failed");
    thread_ = std::thread([this] { loop(); });
  }
  ~TamperProxy() {
    stop_ = true;
    wake();
    thread_.join();
    for (auto& c : conns_) close_conn(*c);
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  std::uint16_t port() const { return port_; }
  // One-shot: applied to the next matching frame.
  void arm(Flip f) {
    std::lock_guard lock(mu_);
    flip_ = std::move(f);
    fired_ = false;
  }
  bool fired() {
    std::lock_guard lock(mu_);
    return fired_;
  }
  std::string flipped_frame() {
    std::lock_guard lock(mu_);
    return flipped_;
  }
  int accepted() const { return accepted_.load(); }
  std::vector<Frame> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  // Frames of one direction containing `match`, in order.
  std::vector<Frame> frames(Dir dir, std::string_view match) {
    std::vector<Frame> out;
    for (auto& f : frames())
      if (f.dir == dir && f.bytes.find(match) != std::string::npos) out.push_back(f);
    return out;
  }
  // Sends `bytes` (one request) to the server on proxied connection `conn`; its reply is kept
  // here instead of going to the client. Call only while the client has nothing in flight.
  void inject(int conn, std::string bytes) {
    {
      std::lock_guard lock(mu_);
      injections_.push_back({conn, std::move(bytes)});
    }
    wake();
  }
  // The replies kept for injected requests, in order.
  std::vector<std::string> swallowed() {
    std::lock_guard lock(mu_);
    return swallowed_;
  }
  // Waits (bounded) until `n` injected replies came back.
  bool wait_swallowed(std::size_t n, std::chrono::milliseconds limit = 3000ms) {
    auto until = Clock::now() + limit;
    while (Clock::now() < until) {
      if (swallowed().size() >= n) return true;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }

 private:
  // fd[to_server] is the socket to the server, fd[to_client] the socket to the client. Bytes read
  // from the client wait in buf[to_server] until a whole frame can go to the server, and vice versa.
  struct Conn {
    int id;
    int fd[2];
    std::string buf[2];
    std::deque<bool> injected;  // per request sent upstream, in order: was it injected?
    bool open = true;
  };

  void wake() {
    char c = 1;
    [[maybe_unused]] auto r = ::write(wake_[1], &c, 1);
  }

  static void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void close_conn(Conn& c) {
    if (!c.open) return;
    c.open = false;
    ::close(c.fd[0]);
    ::close(c.fd[1]);
  }

  void accept_one() {
    int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) return;
    int sfd = test_support::connect_loopback(upstream_);
    if (sfd < 0) {
      ::close(cfd);  // upstream down: the client sees a connection that closes at once
      return;
    }
    int one = 1;
    ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->id = accepted_.fetch_add(1);
    c->fd[to_server] = sfd;
    c->fd[to_client] = cfd;
    conns_.push_back(std::move(c));
  }

  // Forwards every complete frame buffered for direction `dir`.
  void pump(Conn& c, Dir dir) {
    std::string& b = c.buf[dir];
    for (;;) {
      std::size_t end = resp_value_end(b, 0);
      if (end == 0) break;
      std::string frame = b.substr(0, end);
      b.erase(0, end);
      bool swallow = false;
      {
        std::lock_guard lock(mu_);
        frames_.push_back({c.id, dir, frame});
        if (dir == to_client && !c.injected.empty()) {
          swallow = c.injected.front();
          c.injected.pop_front();
          if (swallow) swallowed_.push_back(frame);
        }
        if (dir == to_server) c.injected.push_back(false);
        if (flip_ && flip_->dir == dir && frame.find(flip_->match) != std::string::npos) {
          if (flip_->edit)
            flip_->edit(frame);
          else if (flip_->offset < frame.size())
            frame[flip_->offset] = static_cast<char>(frame[flip_->offset] ^ flip_->mask);
          flipped_ = frame;
          fired_ = true;
          flip_.reset();
        }
      }
      if (!swallow) send_all(c.fd[dir], frame);
    }
  }

  void loop() {
    while (!stop_) {
      {
        std::vector<std::pair<int, std::string>> todo;
        {
          std::lock_guard lock(mu_);
          todo.swap(injections_);
        }
        for (auto& [id, bytes] : todo) {
          for (auto& c : conns_) {
            if (c->id != id || !c->open) continue;
            {
              std::lock_guard lock(mu_);
              c->injected.push_back(true);
            }
            send_all(c->fd[to_server], bytes);
          }
        }
      }
      std::vector<pollfd> fds;
      std::vector<std::pair<Conn*, Dir>> who;
      fds.push_back({wake_[0], POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      who.push_back({nullptr, to_server});
      who.push_back({nullptr, to_server});
      for (auto& c : conns_) {
        if (!c->open) continue;
        // Reading the client socket feeds the to_server direction, and vice versa.
        fds.push_back({c->fd[to_client], POLLIN, 0});
        who.push_back({c.get(), to_server});
        fds.push_back({c->fd[to_server], POLLIN, 0});
        who.push_back({c.get(), to_client});
      }
      if (::poll(fds.data(), fds.size(), 200) < 0) continue;
      if (fds[0].revents) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof drain) > 0) {
        }
      }
      if (fds[1].revents & POLLIN) accept_one();
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        auto [c, dir] = who[i];
        if (!c->open) continue;
        char buf[65536];
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          // EOF or reset on one side: pass on what is left unframed, then close both.
          if (!c->buf[dir].empty()) send_all(c->fd[dir], c->buf[dir]);
          close_conn(*c);
          continue;
        }
        c->buf[dir].append(buf, static_cast<std::size_t>(n));
        pump(*c, dir);
      }
    }
  }

  std::uint16_t upstream_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::unique_ptr<Conn>> conns_;  // proxy thread only

  std::mutex mu_;
  std::optional<Flip> flip_;
  bool fired_ = false;
  std::string flipped_;
  std::vector<Frame> frames_;
  std::vector<std::pair<int, std::string>> injections_;
  std::vector<std::string> swallowed_;
};

// Runs `fn`, returns "" if it returned normally, else the dynamic exception kind and message.
template <class F>
std::string outcome(F&& fn) {
  try {
    fn();
    return "";
  } catch (const greenrpc::AuthError& e) {
    return std::string("AuthError: ") + e.what();
  } catch (const greenrpc::DeadlineExceededError& e) {
    return std::string("DeadlineExceededError: ") + e.what();
  } catch (const greenrpc::TimeoutError& e) {
    return std::string("TimeoutError: ") + e.what();
  } catch (const greenrpc::ConnectionLostError& e) {
    return std::string("ConnectionLostError: ") + e.what();
  } catch (const greenrpc::ConnectError& e) {
    return std::string("ConnectError: ") + e.what();
  } catch (const greenrpc::RemoteError& e) {
    return std::string("RemoteError: ") + e.what();
  } catch (const greenrpc::Error& e) {
    return std::string("Error: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("std::exception: ") + e.what();
  }
}

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace env_test
