// HttpRequestParser: valid heads (whole, split at every byte, pipelined), keep-alive rules,
// method classes, target paths, and every error class with its status.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../../src/protocol/http_request_parser.hpp"

namespace greenrpc::protocol {
namespace {

using namespace std::string_literals;

// Parses `bytes` whole; fails the test unless it completes.
HttpRequestHead parse_whole(const std::string& bytes, std::size_t* consumed = nullptr) {
  HttpRequestParser p;
  HttpParseResult r = p.parse(bytes);
  EXPECT_EQ(r.status, HttpParseStatus::complete) << r.error_status << " " << r.error << " for " << bytes;
  if (consumed) *consumed = r.consumed;
  return p.head();
}

// The status the parser fails `bytes` with (0 when it does not fail).
int error_of(const std::string& bytes, HttpLimits limits = {}) {
  HttpRequestParser p(limits);
  HttpParseResult r = p.parse(bytes);
  return r.status == HttpParseStatus::error ? r.error_status : 0;
}

TEST(HttpRequestParser, SimpleGet) {
  std::size_t consumed = 0;
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: localhost:9095\r\nAccept: */*\r\n\r\n";
  HttpRequestHead h = parse_whole(req, &consumed);
  EXPECT_EQ(consumed, req.size());
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.method_kind, HttpMethod::get);
  EXPECT_EQ(h.target, "/metrics");
  EXPECT_EQ(h.path, "/metrics");
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.has_body);
  EXPECT_EQ(h.header_count, 2u);
}

TEST(HttpRequestParser, EverySplitGivesTheSameHead) {
  const std::string req =
      "\r\nHEAD /readyz?verbose=1 HTTP/1.0\r\nConnection: Keep-Alive\r\nUser-Agent: kube-probe/1.29\r\n"
      "X-Empty:\r\nX-Spaces: \t a b \t\r\n\r\n";
  for (std::size_t cut = 0; cut <= req.size(); ++cut) {
    HttpRequestParser p;
    HttpParseResult r = p.parse(std::string_view(req).substr(0, cut));
    if (cut < req.size()) {
      ASSERT_EQ(r.status, HttpParseStatus::incomplete) << "cut " << cut;
      // Byte by byte from the cut on, the way a trickling peer sends it.
      for (std::size_t more = cut + 1; more < req.size(); ++more) {
        std::string copy = req.substr(0, more);  // a moved buffer each time
        r = p.parse(copy);
        ASSERT_EQ(r.status, HttpParseStatus::incomplete) << "cut " << cut << " more " << more;
      }
      r = p.parse(req);
    }
    ASSERT_EQ(r.status, HttpParseStatus::complete) << "cut " << cut;
    EXPECT_EQ(r.consumed, req.size());
    const HttpRequestHead& h = p.head();
    EXPECT_EQ(h.method_kind, HttpMethod::head);
    EXPECT_EQ(h.target, "/readyz?verbose=1");
    EXPECT_EQ(h.path, "/readyz");
    EXPECT_EQ(h.version_minor, 0);
    EXPECT_TRUE(h.keep_alive);  // HTTP/1.0 with keep-alive asked for
    EXPECT_EQ(h.header_count, 4u);
  }
}

TEST(HttpRequestParser, PipelinedRequestsOneAfterTheOther) {
  const std::string a = "GET /healthz HTTP/1.1\r\n\r\n";
  const std::string b = "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n";
  std::string both = a + b;
  HttpRequestParser p;
  HttpParseResult r = p.parse(both);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(p.head().path, "/healthz");
  both.erase(0, r.consumed);
  r = p.parse(both);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(r.consumed, b.size());
  EXPECT_EQ(p.head().path, "/metrics");
  EXPECT_FALSE(p.head().keep_alive);
}

TEST(HttpRequestParser, BareLineFeedsAreAccepted) {
  const std::string req = "GET /x HTTP/1.1\nHost: a\n\n";
  HttpRequestHead h = parse_whole(req);  // views into `req`
  EXPECT_EQ(h.path, "/x");
  EXPECT_EQ(h.header_count, 1u);
}

TEST(HttpRequestParser, KeepAliveRules) {
  EXPECT_TRUE(parse_whole("GET / HTTP/1.1\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_whole("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_whole("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_whole("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse_whole("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_whole("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
}

TEST(HttpRequestParser, MethodClasses) {
  EXPECT_EQ(parse_whole("POST /metrics HTTP/1.1\r\n\r\n").method_kind, HttpMethod::other);
  EXPECT_EQ(parse_whole("DELETE / HTTP/1.1\r\n\r\n").method_kind, HttpMethod::other);
  EXPECT_EQ(parse_whole("OPTIONS * HTTP/1.1\r\n\r\n").method_kind, HttpMethod::other);
  EXPECT_EQ(parse_whole("BREW /pot HTTP/1.1\r\n\r\n").method_kind, HttpMethod::unknown);
  EXPECT_EQ(parse_whole("get / HTTP/1.1\r\n\r\n").method_kind, HttpMethod::unknown);  // methods are case-sensitive
}

TEST(HttpRequestParser, TargetPaths) {
  EXPECT_EQ(parse_whole("GET /metrics?name[]=up HTTP/1.1\r\n\r\n").path, "/metrics");
  EXPECT_EQ(parse_whole("GET /metrics#frag HTTP/1.1\r\n\r\n").path, "/metrics");
  EXPECT_EQ(parse_whole("GET http://host:9095/metrics?x HTTP/1.1\r\n\r\n").path, "/metrics");
  EXPECT_EQ(parse_whole("GET http://host:9095 HTTP/1.1\r\n\r\n").path, "/");
  EXPECT_EQ(parse_whole("OPTIONS * HTTP/1.1\r\n\r\n").path, "*");
  EXPECT_EQ(parse_whole("GET /%6Detrics HTTP/1.1\r\n\r\n").path, "/%6Detrics");  // not decoded
}

TEST(HttpRequestParser, BodiesAreReportedNotRead) {
  EXPECT_FALSE(parse_whole("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").has_body);
  EXPECT_TRUE(parse_whole("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").has_body);
  EXPECT_TRUE(parse_whole("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_body);
  EXPECT_TRUE(parse_whole("POST / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n").has_body);  // equal: fine
}

TEST(HttpRequestParser, Malformed) {
  for (const std::string& bad : {
           "GET\r\n\r\n"s,
           "GET /\r\n\r\n"s,                          // HTTP/0.9
           "GET  / HTTP/1.1\r\n\r\n"s,                // empty target
           "GET / HTTP/1.1 extra\r\n\r\n"s,           // a fourth part
           "GET / HTTP/1.x\r\n\r\n"s,
           "GET / http/1.1\r\n\r\n"s,
           "GET / HTTP/11\r\n\r\n"s,
           "G(T / HTTP/1.1\r\n\r\n"s,                 // not a token
           "GET /a\tb HTTP/1.1\r\n\r\n"s,
           "GET /\x7f HTTP/1.1\r\n\r\n"s,
           "GET / HTTP/1.1\r\nNo colon here\r\n\r\n"s,
           "GET / HTTP/1.1\r\nHost : a\r\n\r\n"s,    // space before the colon
           "GET / HTTP/1.1\r\n: value\r\n\r\n"s,     // empty name
           "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"s,
           "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"s,
           "GET / HTTP/1.1\r\nX: a\rz\r\n\r\n"s,
           "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"s,
           "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"s,
           "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"s,
           "GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"s,
           "GET / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"s,
           "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"s,
       }) {
    EXPECT_EQ(error_of(bad), 400) << bad;
  }
}

TEST(HttpRequestParser, GarbageIsRefusedBeforeALineEnd) {
  // A TLS ClientHello's first bytes, and a RESP frame: no waiting for a line end or 8 KiB.
  EXPECT_EQ(error_of("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s), 400);
  EXPECT_EQ(error_of("*1\r\n$4\r\nPING\r\n"s), 400);
  EXPECT_EQ(error_of(std::string(40, 'A')), 400);  // a method token longer than 32
  EXPECT_EQ(error_of("GET /metr"s), 0);           // a plain partial request waits
}

TEST(HttpRequestParser, VersionNotSupported) {
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(error_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);  // the HTTP/2 preface
  EXPECT_EQ(error_of("GET / HTTP/1.2\r\n\r\n"), 505);
  EXPECT_EQ(error_of("GET / HTTP/0.9\r\n\r\n"), 505);
}

TEST(HttpRequestParser, UriTooLong) {
  std::string target(5001, 'a');
  target[0] = '/';
  EXPECT_EQ(error_of("GET " + target + " HTTP/1.1\r\n\r\n"), 414);
  // Also while the target is still arriving (no line end yet).
  EXPECT_EQ(error_of("GET " + target), 414);
  // Just under the limit is fine.
  EXPECT_EQ(error_of("GET /" + std::string(4095, 'a') + " HTTP/1.1\r\n\r\n"), 0);
}

TEST(HttpRequestParser, HeadersTooLarge) {
  // One 20 KiB field: refused once 8 KiB are in, before the line ends.
  const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'x') + "\r\n\r\n";
  EXPECT_EQ(error_of(big), 431);
  EXPECT_EQ(error_of(big.substr(0, 8 * 1024 + 1)), 431);
  EXPECT_EQ(error_of(big.substr(0, 8 * 1024)), 0);
  // 101 small fields.
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(error_of(many + "\r\n"), 431);
  // 100 are fine.
  std::string hundred = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) hundred += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(error_of(hundred + "\r\n"), 0);
  // A head of exactly the limit completes; one byte more does not.
  HttpLimits small;
  small.max_head_bytes = 64;
  std::string exact = "GET / HTTP/1.1\r\nX: ";
  exact += std::string(64 - exact.size() - 4, 'y') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 64u);
  EXPECT_EQ(error_of(exact, small), 0);
  std::string over = exact;
  over.insert(over.begin() + 20, 'y');
  EXPECT_EQ(error_of(over, small), 431);
}

TEST(HttpRequestParser, ErrorResetsForANewRequest) {
  HttpRequestParser p;
  EXPECT_EQ(p.parse("GET / HTTP/3.0\r\n\r\n").status, HttpParseStatus::error);
  HttpParseResult r = p.parse("GET /ok HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(p.head().path, "/ok");
}

TEST(HttpRequestParser, RandomInputsWholeOrInPiecesAgree) {
  // A small fuzzer in the unit suite: heads built from HTTP's own pieces and random bytes, parsed
  // whole and in random pieces (each call passing a longer prefix of a moved copy). Both must
  // reach the same outcome, status, consumed count and head; nothing may read out of bounds.
  const std::vector<std::string> pieces{
      "GET", "HEAD", "POST", "BREW", " ", "  ", "/metrics", "/readyz?x=1", "http://h:1/p", "*", "HTTP/1.1",
      "HTTP/1.0", "HTTP/2.0", "HTTP/1.", "\r\n", "\n", "\r", ":", ": ", "Host", "Connection", "close",
      "keep-alive", "Content-Length", "0", "12", "-1", "Transfer-Encoding", "chunked", "\t", ",", "X-A",
      "\r\n\r\n", std::string(1, '\0'), "\x16\x03", "\x7f", "\xff", std::string(300, 'a')};
  std::mt19937 rng(20261210);
  HttpLimits limits;
  limits.max_head_bytes = 512;  // small, so that random heads reach every bound
  limits.max_target_bytes = 128;
  limits.max_headers = 6;
  int completes = 0, errors = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string in;
    const int n = static_cast<int>(rng() % 24);
    if (rng() % 2) in = "GET /metrics HTTP/1.1\r\n";  // often a valid start, so headers get parsed
    for (int i = 0; i < n; ++i) in += pieces[rng() % pieces.size()];
    if (rng() % 2) in += "\r\n\r\n";

    HttpRequestParser whole(limits);
    const HttpParseResult w = whole.parse(in);
    HttpRequestParser split(limits);
    HttpParseResult s{};
    for (std::size_t len = 0;;) {
      len = std::min(in.size(), len + 1 + rng() % 16);
      const std::string copy = in.substr(0, len);  // another buffer each call
      s = split.parse(copy);
      if (s.status == HttpParseStatus::complete) {
        // Compare while `copy` still holds what the head views.
        ASSERT_EQ(w.status, HttpParseStatus::complete) << round;
        EXPECT_EQ(split.head().method, whole.head().method) << round;
        EXPECT_EQ(split.head().target, whole.head().target) << round;
        EXPECT_EQ(split.head().path, whole.head().path) << round;
        EXPECT_EQ(split.head().keep_alive, whole.head().keep_alive) << round;
        EXPECT_EQ(split.head().has_body, whole.head().has_body) << round;
        EXPECT_EQ(split.head().header_count, whole.head().header_count) << round;
      }
      if (s.status != HttpParseStatus::incomplete || len == in.size()) break;
    }
    ASSERT_EQ(s.status, w.status) << "round " << round << ": " << in;
    EXPECT_EQ(s.error_status, w.error_status) << "round " << round << ": " << in;
    EXPECT_EQ(s.consumed, w.consumed) << round;
    if (w.status == HttpParseStatus::complete) {
      ++completes;
      EXPECT_LE(w.consumed, limits.max_head_bytes);
    }
    if (w.status == HttpParseStatus::error) ++errors;
  }
  EXPECT_GT(completes, 500);
  EXPECT_GT(errors, 500);
}

}  // namespace
}  // namespace greenrpc::protocol
