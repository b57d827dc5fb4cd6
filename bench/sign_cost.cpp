// The floor under signed throughput: what the envelope's two HMAC-SHA256 tags cost per request
// when nothing else runs — the same library calls the client and server make, over the same
// bytes as W2s/W3s (echo of Tino's 1,400-byte payload).
//
//   sign_cost [--iterations N] [--rounds R]
//
// Each side of a signed call computes both tags once: the client signs the request and verifies
// the reply, the server verifies the request and signs the reply. So request_tag + reply_tag is
// the least CPU signing can add per request on EACH side, whatever else the framework does.
// bench/run.sh runs this on each benchmark CPU and sets it against the measured cost of signing.
// Output: a summary, then
//   RESULT request_tag_ns=<median> reply_tag_ns=<median> per_side_ns=<sum> sha256_mb_s=<bytes hashed / time>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <greenrpc/codec/encode.hpp>
#include <greenrpc/envelope/envelope.hpp>
#include <greenrpc/protocol/resp_writer.hpp>

#include "bench_commands.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Median ns per call of fn over `rounds` rounds of `iterations` calls.
template <class F>
double median_ns(std::size_t iterations, std::size_t rounds, F&& fn) {
  std::vector<double> per_round;
  for (std::size_t r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < iterations; ++i) fn(i);
    std::chrono::duration<double, std::nano> took = Clock::now() - t0;
    per_round.push_back(took.count() / static_cast<double>(iterations));
  }
  std::sort(per_round.begin(), per_round.end());
  return per_round[per_round.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t iterations = 20'000, rounds = 9;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N] [--rounds R]\n", argv[0]);
      return 2;
    }
  }
  // The request's elements after the envelope, and the reply element, exactly as on the wire.
  std::string argument;
  greenrpc::codec::encode(argument, bench::tino_payload());
  const std::string_view elements[] = {"echo", argument};
  std::string reply;
  greenrpc::protocol::append_bulk(reply, argument);

  const greenrpc::HmacKey key("bench-secret");
  const std::string nonce(greenrpc::envelope::kNonceSize, '\x5a');
  greenrpc::envelope::Header header;
  header.deadline_ms = 5000;
  volatile std::uint8_t sink = 0;  // keeps the tags alive

  const double req = median_ns(iterations, rounds, [&](std::size_t i) {
    header.seq = i + 1;
    sink = sink ^ greenrpc::envelope::request_tag(key, nonce, header, elements)[0];
  });
  const double rep = median_ns(iterations, rounds, [&](std::size_t i) {
    sink = sink ^ greenrpc::envelope::reply_tag(key, nonce, i + 1, reply)[0];
  });
  // Bytes through SHA-256 per side: both messages, their fixed headers, and HMAC's outer hashes.
  const double hashed = static_cast<double>(4 + argument.size() + 16 + 47 + reply.size() + 31 + 2 * 96);
  std::printf("request tag (verify or sign, %zu-byte argument): %.0f ns\n", argument.size(), req);
  std::printf("reply tag (sign or verify, %zu-byte reply element): %.0f ns\n", reply.size(), rep);
  std::printf("per request, on each side: %.0f ns (%.0f MB/s of SHA-256)\n", req + rep, hashed / (req + rep) * 1e3);
  std::printf("RESULT request_tag_ns=%.0f reply_tag_ns=%.0f per_side_ns=%.0f sha256_mb_s=%.0f\n", req, rep, req + rep,
              hashed / (req + rep) * 1e3);
  return 0;
}
