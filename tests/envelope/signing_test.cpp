// Message signing end to end: a client and a server sharing auth_secret="s3cret", with a
// tampering proxy between them. Every handler counts its invocations, so "refused" means "no
// handler ran", not just "the client saw an error".
#include <gtest/gtest.h>

#include <iostream>
#include <set>

#include "envelope_support.hpp"

using namespace env_test;
using Proxy = TamperProxy;

namespace {

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install(app, counters);
    server = app.start_background(server_options("s3cret"));
    proxy = std::make_unique<Proxy>(server.port());
  }
  void TearDown() override {
    proxy.reset();
    server.stop();
  }
  greenrpc::Client via_proxy(greenrpc::ClientOptions o = client_options("s3cret")) {
    return greenrpc::Client("127.0.0.1", proxy->port(), std::move(o));
  }
  greenrpc::App app;
  Counters counters;
  greenrpc::Server server;
  std::unique_ptr<Proxy> proxy;
};

// One element of a RESP request: its "$len\r\n" header, payload and trailing CRLF.
struct ElementLayout {
  std::size_t header, payload, size, end;  // offsets in the frame; end = after the CRLF
};

std::vector<ElementLayout> layout_of(std::string_view frame) {
  std::vector<ElementLayout> out;
  auto nl = frame.find("\r\n");
  int n = std::atoi(std::string(frame.substr(1, nl - 1)).c_str());
  std::size_t p = nl + 2;
  for (int i = 0; i < n; ++i) {
    auto e = frame.find("\r\n", p);
    std::size_t len = std::strtoul(std::string(frame.substr(p + 1, e - p - 1)).c_str(), nullptr, 10);
    out.push_back({p, e + 2, len, e + 2 + len + 2});
    p = e + 2 + len + 2;
  }
  return out;
}

// Where the VALUE bytes of each key of an envelope (a flat msgpack map of short str keys) are:
// key → [first byte of the value's type, end).
std::map<std::string, std::pair<std::size_t, std::size_t>> envelope_values(std::string_view env) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> out;
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(env[i]); };
  std::size_t entries = u(0) & 0x0f, p = 1;
  for (std::size_t i = 0; i < entries; ++i) {
    std::size_t klen = u(p) & 0x1f;
    std::string key(env.substr(p + 1, klen));
    p += 1 + klen;
    std::size_t t = u(p), vlen = 0;
    if (t <= 0x7f) vlen = 1;
    else if (t == 0xcc) vlen = 2;
    else if (t == 0xcd) vlen = 3;
    else if (t == 0xce) vlen = 5;
    else if (t == 0xcf) vlen = 9;
    else if (t == 0xc4) vlen = 2 + u(p + 1);
    else throw std::runtime_error("unexpected envelope value type in " + show(env));
    out[key] = {p, p + vlen};
    p += vlen;
  }
  return out;
}

enum class Region { framing, env_structure, env_tag, env_seq, env_dl, command_name, argument };

const char* name_of(Region r) {
  switch (r) {
    case Region::framing: return "RESP framing";
    case Region::env_structure: return "envelope structure (map header, keys, type bytes)";
    case Region::env_tag: return "envelope tag bytes";
    case Region::env_seq: return "envelope seq value";
    case Region::env_dl: return "envelope dl value";
    case Region::command_name: return "command name";
    case Region::argument: return "argument payload";
  }
  return "?";
}

// The region of every byte of a signed request [envelope, name, args...].
std::vector<Region> classify_request(std::string_view frame) {
  std::vector<Region> r(frame.size(), Region::framing);
  auto els = layout_of(frame);
  const auto& env = els.at(0);
  for (std::size_t i = env.payload; i < env.payload + env.size; ++i) r[i] = Region::env_structure;
  for (auto& [key, span] : envelope_values(frame.substr(env.payload, env.size))) {
    // The type byte stays "structure", except for a positive fixint, which is its own value.
    std::size_t first = env.payload + span.first + (span.second - span.first == 1 ? 0 : 1);
    if (key == "tag") first += 1;  // bin8 length byte too
    Region what = key == "tag" ? Region::env_tag : key == "seq" ? Region::env_seq : key == "dl" ? Region::env_dl
                                                                                               : Region::env_structure;
    for (std::size_t i = first; i < env.payload + span.second; ++i) r[i] = what;
  }
  for (std::size_t i = els[1].payload; i < els[1].payload + els[1].size; ++i) r[i] = Region::command_name;
  for (std::size_t e = 2; e < els.size(); ++e)
    for (std::size_t i = els[e].payload; i < els[e].payload + els[e].size; ++i) r[i] = Region::argument;
  return r;
}

}  // namespace

TEST_F(SigningTest, SignedCallsTravelAsDocumented) {
  auto client = via_proxy();
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(client.call(add, i, NumberInput{10}), i + 10);
  EXPECT_EQ(counters.add.load(), 3);
  auto all = proxy->frames();
  ASSERT_FALSE(all.empty());
  // The client asks for the connection's nonce before its first signed request.
  EXPECT_EQ(all[0].dir, Proxy::to_server);
  EXPECT_EQ(all[0].bytes, "*1\r\n$5\r\nNONCE\r\n");
  auto nonce_replies = proxy->frames(Proxy::to_client, "$16\r\n");
  ASSERT_EQ(nonce_replies.size(), 1u);
  std::string nonce = nonce_replies[0].bytes.substr(5, 16);
  Signer check("s3cret", nonce);

  auto requests = proxy->frames(Proxy::to_server, "\r\nadd\r\n");
  auto replies = proxy->frames(Proxy::to_client, "*2\r\n$32\r\n");
  ASSERT_EQ(requests.size(), 3u);
  ASSERT_EQ(replies.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string& f = requests[i].bytes;
    SCOPED_TRACE(show(f));
    ASSERT_TRUE(starts_with(f, "*4\r\n"));
    auto els = layout_of(f);
    ASSERT_EQ(els.size(), 4u);
    std::string_view env(f.data() + els[0].payload, els[0].size);
    ASSERT_TRUE(greenrpc::envelope::is_envelope(env));
    auto h = greenrpc::envelope::parse(env);
    EXPECT_EQ(h.seq, i + 1) << "seq must start at 1 and grow by one per request on a connection";
    EXPECT_FALSE(h.deadline_ms.has_value()) << "no timeout: no dl";
    ASSERT_TRUE(h.tag.has_value());
    std::vector<std::string_view> rest;
    for (std::size_t e = 1; e < els.size(); ++e) rest.emplace_back(f.data() + els[e].payload, els[e].size);
    EXPECT_TRUE(greenrpc::HmacKey::equal(*h.tag, greenrpc::envelope::request_tag(check.key, nonce, h, rest)));
    // The reply: [tag, "$1\r\n<i+10>\r\n"], tag over that element's bytes.
    std::string element;
    ASSERT_NO_THROW(element = check.open_reply(i + 1, replies[i].bytes)) << show(replies[i].bytes);
    EXPECT_EQ(element, "$1\r\n" + std::string(1, static_cast<char>(i + 11)) + "\r\n");
  }
}

TEST_F(SigningTest, SequenceRestartsAtOneOnEveryConnection) {
  auto o = client_options("s3cret");
  o.connections = 3;
  auto client = via_proxy(o);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(client.call(add, i, NumberInput{1}), i + 1);
  std::map<int, std::vector<std::uint64_t>> seqs;
  for (auto& f : proxy->frames(Proxy::to_server, "\r\nadd\r\n")) {
    auto els = layout_of(f.bytes);
    seqs[f.conn].push_back(greenrpc::envelope::parse(std::string_view(f.bytes).substr(els[0].payload, els[0].size)).seq);
  }
  ASSERT_EQ(seqs.size(), 3u);
  for (auto& [conn, s] : seqs) EXPECT_EQ(s, (std::vector<std::uint64_t>{1, 2})) << "connection " << conn;
}

// Flip every byte of one signed request (two masks: the low bit, and the high bit), each on a
// fresh client and connection. No variant may reach the handler or produce a value.
TEST_F(SigningTest, EveryFlippedRequestByteIsRefusedBeforeAnyHandler) {
  greenrpc::CallOptions opts;
  opts.timeout = 400ms;  // with a timeout the envelope carries dl, so its bytes are covered too
  std::string reference;
  {
    auto client = via_proxy();
    ASSERT_EQ(client.call(opts, add, 2, NumberInput{40}), 42);
    auto reqs = proxy->frames(Proxy::to_server, "\r\nadd\r\n");
    ASSERT_EQ(reqs.size(), 1u);
    reference = reqs[0].bytes;
  }
  auto regions = classify_request(reference);
  ASSERT_TRUE(std::count(regions.begin(), regions.end(), Region::env_dl) > 0) << "no dl in " << show(reference);
  ASSERT_EQ(std::count(regions.begin(), regions.end(), Region::env_tag), 32);

  std::map<std::string, std::map<std::string, int>> tally;  // region → outcome kind → count
  std::map<std::string, std::string> samples;                // region/kind → one message
  int variants = 0;
  for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
    for (std::size_t i = 0; i < reference.size(); ++i) {
      SCOPED_TRACE("byte " + std::to_string(i) + " (" + name_of(regions[i]) + ") ^ " + std::to_string(mask));
      int before = counters.any.load();
      int conns_before = proxy->accepted();
      proxy->arm({Proxy::to_server, "\r\nadd\r\n", i, mask});
      auto client = via_proxy();
      std::string got = outcome([&] {
        int v = client.call(opts, add, 2, NumberInput{40});
        throw std::logic_error("returned a value: " + std::to_string(v));
      });
      ++variants;
      ASSERT_TRUE(proxy->fired());
      EXPECT_EQ(counters.any.load(), before) << "a handler ran for a tampered request: " << got << "\n"
                                             << show(proxy->flipped_frame());
      EXPECT_EQ(got.find("returned a value"), std::string::npos) << got;
      std::string kind = got.substr(0, got.find(':'));
      tally[name_of(regions[i])][kind]++;
      samples.try_emplace(std::string(name_of(regions[i])) + " / " + kind, got + "   <- " + show(proxy->flipped_frame()));
      switch (regions[i]) {
        case Region::argument:
        case Region::env_tag:
          EXPECT_EQ(kind, "AuthError") << got;
          EXPECT_NE(got.find("signature does not match"), std::string::npos) << got;
          break;
        case Region::env_seq:  // a fixint: ^0x80 turns it into another type (a bad envelope)
          EXPECT_EQ(kind, "AuthError") << got;
          break;
        case Region::env_dl:
          EXPECT_TRUE(kind == "AuthError" || kind == "DeadlineExceededError") << got;
          break;
        case Region::command_name:
          EXPECT_TRUE(kind == "AuthError" || got.find("INVALID_COMMAND") != std::string::npos) << got;
          break;
        case Region::env_structure:
          EXPECT_TRUE(kind == "AuthError" || got.find("ERR bad envelope") != std::string::npos ||
                      got.find("INVALID_COMMAND") != std::string::npos)
              << got;
          break;
        case Region::framing:  // the frame falls apart: refused, cut, or never answered
          EXPECT_TRUE(kind == "AuthError" || kind == "ConnectionLostError" || kind == "TimeoutError") << got;
          break;
      }
      // A refusal by the server (not a framing break) leaves the connection usable.
      if (regions[i] == Region::argument || regions[i] == Region::env_tag) {
        int before_follow_up = counters.add.load();
        EXPECT_EQ(outcome([&] { EXPECT_EQ(client.call(opts, add, 1, NumberInput{1}), 2); }), "");
        EXPECT_EQ(counters.add.load(), before_follow_up + 1);
        EXPECT_EQ(proxy->accepted(), conns_before + 1) << "the follow-up call needed a new connection";
      }
    }
  }
  std::cout << "[ request flips: " << variants << " variants of a " << reference.size() << "-byte frame "
            << show(reference) << " ]\n";
  for (auto& [region, kinds] : tally) {
    std::cout << "  " << region << ":";
    for (auto& [k, n] : kinds) std::cout << " " << (k.empty() ? "<value>" : k) << "=" << n;
    std::cout << "\n";
  }
  for (auto& [k, m] : samples) std::cout << "  e.g. " << k << ": " << m << "\n";
}

// Flip every byte of one signed reply. The 32 tag bytes and the result's payload byte must give
// AuthError; a flip in the RESP framing may instead break the reply stream, which must surface as
// a clean error (never a value). The request itself was intact: its handler ran exactly once.
TEST_F(SigningTest, EveryFlippedReplyByteIsDetected) {
  greenrpc::CallOptions opts;
  opts.timeout = 400ms;
  std::string reference;
  {
    auto client = via_proxy();
    ASSERT_EQ(client.call(opts, add, 2, NumberInput{40}), 42);
    auto reps = proxy->frames(Proxy::to_client, "*2\r\n$32\r\n");
    ASSERT_EQ(reps.size(), 1u);
    reference = reps[0].bytes;
  }
  // *2\r\n $32\r\n <32 bytes> \r\n $1\r\n <0x2a> \r\n
  ASSERT_EQ(reference.size(), 4u + 5 + 32 + 2 + 4 + 1 + 2) << show(reference);
  ASSERT_EQ(reference.substr(43), std::string("$1\r\n*\r\n"));
  auto region_of = [](std::size_t i) -> std::string {
    if (i >= 9 && i < 41) return "tag bytes";
    if (i == 47) return "result payload";
    if (i == 0) return "outer array type byte";
    return "RESP framing";
  };
  std::map<std::string, std::map<std::string, int>> tally;
  std::map<std::string, std::string> samples;
  int variants = 0;
  for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
    for (std::size_t i = 0; i < reference.size(); ++i) {
      SCOPED_TRACE("reply byte " + std::to_string(i) + " (" + region_of(i) + ") ^ " + std::to_string(mask));
      int before = counters.add.load();
      proxy->arm({Proxy::to_client, "*2\r\n$32\r\n", i, mask});
      auto client = via_proxy();
      std::string got = outcome([&] {
        int v = client.call(opts, add, 2, NumberInput{40});
        throw std::logic_error("returned a value: " + std::to_string(v));
      });
      ++variants;
      ASSERT_TRUE(proxy->fired());
      EXPECT_EQ(counters.add.load(), before + 1) << "the intact request must run exactly once (no resend)";
      EXPECT_EQ(got.find("returned a value"), std::string::npos) << got;
      std::string kind = got.substr(0, got.find(':'));
      tally[region_of(i)][kind]++;
      samples.try_emplace(region_of(i) + " / " + kind, got + "   <- " + show(proxy->flipped_frame()));
      std::string region = region_of(i);
      if (region == "tag bytes" || region == "result payload") {
        EXPECT_EQ(kind, "AuthError") << got;
      }
      // '*' ^ 0x01 = '+': the reply turns into "+2", an unsigned reply where a signed one was due.
      if (region == "outer array type byte" && mask == 0x01) {
        EXPECT_EQ(kind, "AuthError") << got;
      }
      // Every variant is a transport or signature error the caller sees, never a value.
      EXPECT_TRUE(kind == "AuthError" || kind == "ConnectionLostError" || kind == "TimeoutError") << got;
    }
  }
  std::cout << "[ reply flips: " << variants << " variants of " << show(reference) << " ]\n";
  for (auto& [region, kinds] : tally) {
    std::cout << "  " << region << ":";
    for (auto& [k, n] : kinds) std::cout << " " << (k.empty() ? "<value>" : k) << "=" << n;
    std::cout << "\n";
  }
  for (auto& [k, m] : samples) std::cout << "  e.g. " << k << ": " << m << "\n";
}

TEST_F(SigningTest, AlteredNonceInTransitMakesTheCallFailUnrun) {
  proxy->arm({Proxy::to_client, "$16\r\n", 5, 0x01});  // the nonce's first byte
  auto client = via_proxy();
  std::string got = outcome([&] { client.call(add, 1, NumberInput{1}); });
  EXPECT_TRUE(proxy->fired());
  EXPECT_TRUE(starts_with(got, "AuthError")) << got;
  EXPECT_EQ(counters.any.load(), 0);
}

// ------------------------------------------------------------------------------------------
// Replay
// ------------------------------------------------------------------------------------------

TEST_F(SigningTest, ReplayOnTheSameConnectionIsRefused) {
  auto client = via_proxy();
  EXPECT_EQ(client.call(add, 1, NumberInput{1}), 2);
  EXPECT_EQ(client.call(add, 2, NumberInput{2}), 4);
  auto reqs = proxy->frames(Proxy::to_server, "\r\nadd\r\n");
  ASSERT_EQ(reqs.size(), 2u);
  ASSERT_EQ(counters.add.load(), 2);
  // The latest request again, then an older one, on the very connection that carried them.
  proxy->inject(reqs[0].conn, reqs[1].bytes);
  proxy->inject(reqs[0].conn, reqs[0].bytes);
  ASSERT_TRUE(proxy->wait_swallowed(2));
  auto got = proxy->swallowed();
  EXPECT_TRUE(starts_with(got[0], "-AUTH_ERROR \"replayed")) << show(got[0]);
  EXPECT_TRUE(starts_with(got[1], "-AUTH_ERROR \"replayed")) << show(got[1]);
  EXPECT_EQ(counters.add.load(), 2) << "a replayed request reached the handler";
  // The connection is still open and in step.
  EXPECT_EQ(client.call(add, 3, NumberInput{3}), 6);
  EXPECT_EQ(proxy->accepted(), 1);
}

TEST_F(SigningTest, ReplayOnAnotherConnectionIsRefused) {
  auto client = via_proxy();
  EXPECT_EQ(client.call(add, 1, NumberInput{1}), 2);
  auto reqs = proxy->frames(Proxy::to_server, "\r\nadd\r\n");
  ASSERT_EQ(reqs.size(), 1u);
  {
    RawSocket s(server.port());  // straight to the server, without fetching the nonce
    std::string r = s.call(reqs[0].bytes);
    EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"signature does not match")) << show(r);
    EXPECT_EQ(s.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n") << "the connection must stay open";
  }
  {
    RawSocket s(server.port());
    s.nonce();  // with a nonce: a different one, so the captured tag cannot match
    std::string r = s.call(reqs[0].bytes);
    EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"signature does not match")) << show(r);
    // Replaying the bytes with a seq the connection has not seen yet does not help either.
    r = s.call(reqs[0].bytes);
    EXPECT_TRUE(starts_with(r, "-AUTH_ERROR")) << show(r);
  }
  EXPECT_EQ(counters.add.load(), 1);
}

// ------------------------------------------------------------------------------------------
// Sequence numbers, built-ins, bad envelopes — hand-made requests on a raw socket.
// ------------------------------------------------------------------------------------------

TEST_F(SigningTest, SeqMustStrictlyIncreaseAndOnlyAcceptedRequestsAdvanceIt) {
  RawSocket s(server.port());
  Signer sign("s3cret", s.nonce());
  auto value_of = [&](std::uint64_t seq, std::string_view reply) { return sign.open_reply(seq, reply); };
  EXPECT_EQ(value_of(1, s.call(sign.request(1, std::nullopt, add_elements(1, 1)))), "$1\r\n\x02\r\n");
  EXPECT_EQ(value_of(3, s.call(sign.request(3, std::nullopt, add_elements(1, 2)))), "$1\r\n\x03\r\n")
      << "gaps are allowed";
  std::string r = s.call(sign.request(2, std::nullopt, add_elements(1, 3)));
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"replayed")) << show(r);
  r = s.call(sign.request(3, std::nullopt, add_elements(1, 4)));
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"replayed")) << show(r);
  // A request with a bad tag does not move the window, even with a high seq.
  std::string forged = sign.request(100, std::nullopt, add_elements(1, 5));
  forged[forged.size() - 3] ^= 0x01;  // last byte of the last argument
  r = s.call(forged);
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"signature does not match")) << show(r);
  EXPECT_EQ(value_of(4, s.call(sign.request(4, std::nullopt, add_elements(1, 6)))), "$1\r\n\x07\r\n");
  EXPECT_EQ(counters.add.load(), 3);
}

TEST_F(SigningTest, SignedBuiltinsAndUnknownCommandsGetSignedReplies) {
  RawSocket s(server.port());
  Signer sign("s3cret", s.nonce());
  EXPECT_EQ(sign.open_reply(1, s.call(sign.request(1, std::nullopt, {"PING"}))), "+PONG\r\n");
  EXPECT_EQ(sign.open_reply(2, s.call(sign.request(2, std::nullopt, {"nope"}))), "-INVALID_COMMAND nope\r\n");
  // A handler's error reply is signed like any other reply.
  EXPECT_EQ(sign.open_reply(3, s.call(sign.request(3, std::nullopt, {"fail_rpc", mp(std::string("x"))}))),
            "-RPC_ERROR \"x\"\r\n");
  EXPECT_EQ(counters.any.load(), 1);
}

TEST_F(SigningTest, ElementsCannotBeAddedRemovedOrReSplit) {
  RawSocket s(server.port());
  Signer sign("s3cret", s.nonce());
  auto elements = add_elements(1, 2);
  std::string good = sign.request(1, std::nullopt, elements);
  auto els = layout_of(good);
  std::string env = good.substr(els[0].payload, els[0].size);
  auto with = [&](std::vector<std::string> rest) {
    rest.insert(rest.begin(), env);
    return frame_of(rest);
  };
  std::string arg1 = elements[1], arg2 = elements[2];
  std::vector<std::vector<std::string>> forgeries = {
      {"add", arg1, arg2, mp(3)},                            // an argument appended
      {"add", arg1},                                         // an argument removed
      {"add", arg1 + arg2.substr(0, 1), arg2.substr(1)},     // a byte moved across the boundary
      {"add" + arg1, arg2},                                  // name and argument merged
      {"add", arg2, arg1},                                   // arguments swapped
  };
  for (auto& f : forgeries) {
    std::string r = s.call(with(f));
    EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"signature does not match")) << show(r);
  }
  EXPECT_EQ(sign.open_reply(1, s.call(good)), "$1\r\n\x03\r\n") << "the window did not move";
  EXPECT_EQ(counters.any.load(), 1);
}

TEST_F(SigningTest, ConcurrentSignedCallsShareOneConnectionInOrder) {
  greenrpc::Client client("127.0.0.1", server.port(), client_options());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0}, failed{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        try {
          if (client.call(add, t * 1000 + i, NumberInput{1}) != t * 1000 + i + 1) ++wrong;
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(counters.add.load(), 2000);
}

TEST_F(SigningTest, NonceTakesNoArguments) {
  RawSocket s(server.port());
  EXPECT_EQ(s.call("*2\r\n$5\r\nNONCE\r\n$1\r\nx\r\n"), "-ERR wrong number of arguments for 'nonce' command\r\n");
}

TEST_F(SigningTest, PreviousSecretsWithoutACurrentOneAreRefusedAtStart) {
  greenrpc::App other;
  other.command("one", [] { return 1; });
  auto o = server_options("");
  o.previous_auth_secrets = {"old"};
  EXPECT_THROW(other.start_background(o), std::invalid_argument);
}

// "No dl" and dl = 2^64-1 have the same tag input (E.3), so anyone on the path can add that dl
// to a signed request that had none without breaking the signature. That is harmless only if such
// a dl means "no deadline" in practice: the request must run normally.
TEST_F(SigningTest, AddingTheNoDeadlineSentinelInTransitIsHarmless) {
  RawSocket s(server.port());
  Signer sign("s3cret", s.nonce());
  greenrpc::envelope::Header h;
  h.seq = 1;
  auto elements = add_elements(1, 2);
  std::vector<std::string_view> views(elements.begin(), elements.end());
  h.tag = greenrpc::envelope::request_tag(sign.key, sign.nonce, h, views);  // signed without dl
  h.deadline_ms = greenrpc::envelope::kNoDeadline;                           // added in transit
  std::string env;
  greenrpc::envelope::append_encoded(env, h);
  std::vector<std::string> parts{env};
  parts.insert(parts.end(), elements.begin(), elements.end());
  std::string r = s.call(frame_of(parts));
  std::string element;
  ASSERT_NO_THROW(element = sign.open_reply(1, r)) << "the signature still verifies: " << show(r);
  EXPECT_EQ(element, "$1\r\n\x03\r\n") << "a signed request without a deadline was made to fail";
  EXPECT_EQ(counters.add.load(), 1);
}

TEST_F(SigningTest, SeqZeroIsNeverAccepted) {
  RawSocket s(server.port());
  Signer sign("s3cret", s.nonce());
  std::string r = s.call(sign.request(0, std::nullopt, add_elements(1, 1)));
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR")) << show(r);
  EXPECT_EQ(counters.any.load(), 0);
}

TEST_F(SigningTest, NonceIsSixteenBytesStablePerConnectionAndDiffersBetweenConnections) {
  RawSocket a(server.port()), b(server.port());
  std::string na = a.nonce(), nb = b.nonce();
  EXPECT_EQ(na.size(), 16u);
  EXPECT_EQ(a.nonce(), na);
  EXPECT_NE(na, nb);
  EXPECT_EQ(a.call("NONCE\r\n"), "$16\r\n" + na + "\r\n") << "inline form";
}

TEST_F(SigningTest, UnsignedUserCommandRefusedButBuiltinsAnswer) {
  RawSocket s(server.port());
  std::string r = s.call(frame_of(add_elements(1, 1)));
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"request is not signed")) << show(r);
  // An envelope without a tag (deadline only) is unsigned too.
  std::string env;
  greenrpc::envelope::Header h;
  h.deadline_ms = 5000;
  greenrpc::envelope::append_encoded(env, h);
  auto parts = add_elements(1, 1);
  parts.insert(parts.begin(), env);
  r = s.call(frame_of(parts));
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"request is not signed")) << show(r);

  EXPECT_EQ(s.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  EXPECT_EQ(s.call("PING\r\n"), "+PONG\r\n");
  // This App's user command "echo" shadows the built-in, so ECHO is a user command here.
  r = s.call("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
  EXPECT_TRUE(starts_with(r, "-AUTH_ERROR \"request is not signed")) << show(r);
  EXPECT_TRUE(starts_with(s.call("*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n"), ":"));
  EXPECT_EQ(s.call("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"), "+OK\r\n");
  EXPECT_TRUE(starts_with(s.call("*1\r\n$4\r\nINFO\r\n"), "$"));
  EXPECT_TRUE(starts_with(s.call("*2\r\n$7\r\nCOMMAND\r\n$5\r\nCOUNT\r\n"), ":"));
  EXPECT_TRUE(starts_with(s.call("*1\r\n$5\r\nHELLO\r\n"), "*14\r\n"));
  r = s.call("*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n");
  EXPECT_TRUE(starts_with(r, "-PERMISSION_DENIED")) << "AUTH answers (this App has no auth function): " << show(r);
  EXPECT_EQ(s.call("*1\r\n$4\r\nQUIT\r\n"), "+OK\r\n");
  EXPECT_TRUE(s.closed_by_peer());
  EXPECT_EQ(counters.any.load(), 0);
}

TEST_F(SigningTest, EchoBuiltinAnswersUnsignedWhenNotShadowed) {
  greenrpc::App plain;
  plain.command("add", [](int a, NumberInput b) { return a + b.value; });
  auto srv = plain.start_background(server_options("s3cret"));
  RawSocket s(srv.port());
  EXPECT_EQ(s.call("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"), "$2\r\nhi\r\n");
  srv.stop();
}

TEST_F(SigningTest, NonceIsAReservedName) {
  greenrpc::App other;
  EXPECT_THROW(
      {
        other.command("NONCE", [] { return 1; });
        auto srv = other.start_background(server_options(""));
      },
      std::invalid_argument);
}

TEST_F(SigningTest, BadEnvelopesGetErrBadEnvelopeAndTheConnectionStaysOpen) {
  auto pack_map = [](auto&& fill, std::uint32_t n) {
    std::string out;
    greenrpc::codec::StringSink sink(out);
    msgpack::packer<greenrpc::codec::StringSink> pk(sink);
    pk.pack_map(n);
    fill(pk);
    return out;
  };
  using P = msgpack::packer<greenrpc::codec::StringSink>;
  std::vector<std::pair<std::string, std::string>> cases = {
      {"no version", pack_map([](P& p) { p.pack(std::string("seq")); p.pack(1); }, 1)},
      {"version 2", pack_map([](P& p) { p.pack(std::string("v")); p.pack(2); }, 1)},
      {"version as str", pack_map([](P& p) { p.pack(std::string("v")); p.pack(std::string("1")); }, 1)},
      {"seq as str", pack_map([](P& p) { p.pack(std::string("v")); p.pack(1); p.pack(std::string("seq")); p.pack(std::string("1")); }, 2)},
      {"negative dl", pack_map([](P& p) { p.pack(std::string("v")); p.pack(1); p.pack(std::string("dl")); p.pack(-5); }, 2)},
      {"31-byte tag", pack_map([](P& p) { p.pack(std::string("v")); p.pack(1); p.pack(std::string("tag")); p.pack_bin(31); p.pack_bin_body(std::string(31, 'x').data(), 31); }, 2)},
      {"tag as str", pack_map([](P& p) { p.pack(std::string("v")); p.pack(1); p.pack(std::string("tag")); p.pack(std::string(32, 'x')); }, 2)},
      {"integer key", pack_map([](P& p) { p.pack(std::string("v")); p.pack(1); p.pack(7); p.pack(1); }, 2)},
      {"trailing byte", std::string("\x81\xa1v\x01\xc0", 5)},
      {"truncated map", std::string("\x82\xa1v\x01", 4)},
  };
  RawSocket s(server.port());
  for (auto& [what, env] : cases) {
    SCOPED_TRACE(what + ": " + show(env));
    auto parts = add_elements(1, 1);
    parts.insert(parts.begin(), env);
    std::string r = s.call(frame_of(parts));
    EXPECT_TRUE(starts_with(r, "-ERR bad envelope: ")) << show(r);
    EXPECT_EQ(s.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  }
  // An envelope and nothing else.
  std::string r = s.call(frame_of({std::string("\x81\xa1v\x01", 4)}));
  EXPECT_TRUE(starts_with(r, "-ERR ")) << show(r);
  EXPECT_NE(r.find("envelope"), std::string::npos) << show(r);
  EXPECT_EQ(s.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  EXPECT_EQ(counters.any.load(), 0);
}

TEST_F(SigningTest, UnknownEnvelopeKeysAreIgnored) {
  RawSocket s(server.port());
  Signer sign("s3cret", s.nonce());
  greenrpc::envelope::Header h;
  h.seq = 1;
  h.deadline_ms = 5000;
  auto elements = add_elements(20, 22);
  std::vector<std::string_view> views(elements.begin(), elements.end());
  h.tag = greenrpc::envelope::request_tag(sign.key, sign.nonce, h, views);
  // Keys in another order, compact integer encodings, and two unknown keys.
  std::string env;
  greenrpc::codec::StringSink sink(env);
  msgpack::packer<greenrpc::codec::StringSink> pk(sink);
  pk.pack_map(6);
  pk.pack(std::string("x-trace"));
  pk.pack(std::string("abc"));
  pk.pack(std::string("tag"));
  pk.pack_bin(32);
  pk.pack_bin_body(reinterpret_cast<const char*>(h.tag->data()), 32);
  pk.pack(std::string("dl"));
  pk.pack(5000);
  pk.pack(std::string("future"));
  pk.pack_array(2);
  pk.pack(1);
  pk.pack(2);
  pk.pack(std::string("seq"));
  pk.pack(1);
  pk.pack(std::string("v"));
  pk.pack(1);
  std::vector<std::string> parts{env};
  parts.insert(parts.end(), elements.begin(), elements.end());
  std::string r = s.call(frame_of(parts));
  EXPECT_EQ(sign.open_reply(1, r), "$1\r\n*\r\n") << show(r);
  EXPECT_EQ(counters.add.load(), 1);
}

// ------------------------------------------------------------------------------------------
// Secrets: wrong, missing, rotation, rollout
// ------------------------------------------------------------------------------------------

TEST_F(SigningTest, WrongSecretIsAuthErrorAndNoHandlerRuns) {
  greenrpc::Client client("127.0.0.1", server.port(), client_options("wrong"));
  std::string got = outcome([&] { client.call(add, 1, NumberInput{1}); });
  EXPECT_TRUE(starts_with(got, "AuthError")) << got;
  EXPECT_NE(got.find("secret"), std::string::npos) << "the message should say the secret does not match: " << got;
  EXPECT_EQ(counters.any.load(), 0);
  // PING with a wrong secret is not specified: the client signs it, and the server checks any
  // signature it gets. Either PONG or AuthError is acceptable; anything else is not.
  std::string ping = outcome([&] { EXPECT_EQ(client.ping(), "PONG"); });
  EXPECT_TRUE(ping.empty() || starts_with(ping, "AuthError")) << ping;
  std::cout << "[ ping() with a wrong secret: " << (ping.empty() ? "PONG" : ping) << " ]\n";
}

TEST_F(SigningTest, MissingSecretIsAuthErrorButPingWorks) {
  greenrpc::Client client("127.0.0.1", server.port(), client_options(""));
  EXPECT_EQ(client.ping(), "PONG");
  std::string got = outcome([&] { client.call(add, 1, NumberInput{1}); });
  EXPECT_TRUE(starts_with(got, "AuthError")) << got;
  EXPECT_NE(got.find("secret"), std::string::npos) << "the message should say the secret is missing: " << got;
  EXPECT_EQ(counters.any.load(), 0);
  EXPECT_EQ(client.ping(), "PONG");
}

TEST_F(SigningTest, ClientWithSecretRefusesAServerThatDoesNotSign) {
  greenrpc::App plain;
  Counters c;
  install(plain, c);
  auto srv = plain.start_background(server_options(""));
  greenrpc::Client client("127.0.0.1", srv.port(), client_options("s3cret"));
  std::string got = outcome([&] { client.call(add, 1, NumberInput{1}); });
  EXPECT_TRUE(starts_with(got, "AuthError")) << "a reply that is not signed must not be accepted: " << got;
  srv.stop();
}

TEST_F(SigningTest, SecretRotationAcceptsCurrentAndPreviousSecrets) {
  greenrpc::App rotated;
  Counters c;
  install(rotated, c);
  auto o = server_options("new");
  o.previous_auth_secrets = {"old"};
  auto srv = rotated.start_background(o);
  greenrpc::Client with_new("127.0.0.1", srv.port(), client_options("new"));
  greenrpc::Client with_old("127.0.0.1", srv.port(), client_options("old"));
  greenrpc::Client with_older("127.0.0.1", srv.port(), client_options("older"));
  EXPECT_EQ(with_new.call(add, 1, NumberInput{1}), 2);
  EXPECT_EQ(with_old.call(add, 2, NumberInput{2}), 4) << "replies must be signed with the secret that verified";
  EXPECT_EQ(c.add.load(), 2);
  std::string got = outcome([&] { with_older.call(add, 3, NumberInput{3}); });
  EXPECT_TRUE(starts_with(got, "AuthError")) << got;
  EXPECT_EQ(c.add.load(), 2);
  // On the wire: a request signed with "old" gets a reply signed with "old", not "new".
  RawSocket s(srv.port());
  std::string nonce = s.nonce();
  Signer old_key("old", nonce), new_key("new", nonce);
  std::string r = s.call(old_key.request(1, std::nullopt, add_elements(5, 5)));
  EXPECT_EQ(old_key.open_reply(1, r), "$1\r\n\x0a\r\n");
  EXPECT_THROW(new_key.open_reply(1, r), std::runtime_error);
  r = s.call(new_key.request(2, std::nullopt, add_elements(6, 6)));
  EXPECT_EQ(new_key.open_reply(2, r), "$1\r\n\x0c\r\n");
  srv.stop();
}

TEST_F(SigningTest, AllowUnsignedServesBothButStillChecksSignatures) {
  greenrpc::App rollout;
  Counters c;
  install(rollout, c);
  auto o = server_options("s3cret");
  o.allow_unsigned = true;
  auto srv = rollout.start_background(o);
  greenrpc::Client unsigned_client("127.0.0.1", srv.port(), client_options(""));
  greenrpc::Client signed_client("127.0.0.1", srv.port(), client_options("s3cret"));
  greenrpc::Client wrong_client("127.0.0.1", srv.port(), client_options("wrong"));
  EXPECT_EQ(unsigned_client.call(add, 1, NumberInput{1}), 2);
  EXPECT_EQ(signed_client.call(add, 2, NumberInput{2}), 4);
  std::string got = outcome([&] { wrong_client.call(add, 3, NumberInput{3}); });
  EXPECT_TRUE(starts_with(got, "AuthError")) << "a present but wrong signature is refused even now: " << got;
  EXPECT_EQ(c.add.load(), 2);
  RawSocket s(srv.port());
  EXPECT_EQ(s.call(frame_of(add_elements(1, 1))), "$1\r\n\x02\r\n") << "unsigned request, plain reply";
  srv.stop();
}
