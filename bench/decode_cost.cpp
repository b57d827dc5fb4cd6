// What typed decoding (codec::decode<T>) costs in time and memory, per case:
//
//   decode_cost [--rounds R] [--only NAME]
//
// Cases (the inputs of issue 8 and the request hot path):
//   struct_64mb      4 x array32 of 1,048,000 x [15 nils] (~64 MiB) sent for a MSGPACK_DEFINE_MAP
//                    struct parameter (rejected: validation error)
//   nested_headers   63 nested array32 headers declaring 1,048,575 entries each + 1 MiB of zeros,
//                    for a vector<vector<int>> (rejected: invalid msgpack)
//   vector_int_1mb   vector<int> of 262,144 int32 (~1.3 MB)
//   string_1mb       std::string of 1 MiB
//   structs_10k      vector of 10,000 small MSGPACK_DEFINE_MAP structs
//   int              one small int (hot path)
//   string_1400      a 1,400-byte string (hot path: Tino's echo payload)
//   small_struct     NumberInput-like struct {value} (hot path)
//
// Each case runs in a forked child; the peak RSS reported is the child's VmHWM during its first
// decode minus its RSS just before (the peak is reset once the input is built). Time is the median over R rounds.
// Output, one line per case:
//   RESULT case=<name> input_bytes=<n> ns_per_op=<median> ms_per_mb=<...> peak_rss_growth_kb=<...> outcome=<ok|validation|invalid_msgpack>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <greenrpc/codec/decode.hpp>
#include <greenrpc/codec/encode.hpp>

namespace bench_types {

struct Item {
  std::string sku;
  int quantity = 0;
  std::optional<std::string> note;
  MSGPACK_DEFINE_MAP(sku, quantity, note);
};

struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

struct Report {  // what the 64 MiB argument is sent for
  std::string title;
  std::vector<Item> items;
  MSGPACK_DEFINE_MAP(title, items);
};

}  // namespace bench_types

namespace {

using Clock = std::chrono::steady_clock;
using greenrpc::codec::DecodeError;

void put_be32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

std::string struct_64mb() {
  std::string out;
  out.push_back(static_cast<char>(0x94));  // fixarray of 4
  for (int a = 0; a < 4; ++a) {
    out.push_back(static_cast<char>(0xdd));
    put_be32(out, 1'048'000);
    for (int i = 0; i < 1'048'000; ++i) {
      out.push_back(static_cast<char>(0x9f));  // fixarray of 15
      out.append(15, static_cast<char>(0xc0));
    }
  }
  return out;
}

std::string nested_headers() {
  std::string out;
  for (int i = 0; i < 63; ++i) out.append("\xdd\x00\x0f\xff\xff", 5);
  out.append(std::size_t{1} << 20, '\0');
  return out;
}

struct Case {
  const char* name;
  std::function<std::string()> make_input;
  std::function<void(const std::string&)> decode;
  std::size_t default_iterations;
};

template <typename T>
std::function<void(const std::string&)> decoder() {
  return [](const std::string& input) {
    T value = greenrpc::codec::decode<T>(input);
    asm volatile("" : : "r"(&value) : "memory");
  };
}

std::vector<Case> cases() {
  using namespace bench_types;
  return {
      {"struct_64mb", struct_64mb, decoder<Report>(), 1},
      {"nested_headers", nested_headers, decoder<std::vector<std::vector<int>>>(), 3},
      {"vector_int_1mb",
       [] {
         std::vector<int> values(262'144);
         for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int>(i * 2'654'435'761u);
         return greenrpc::codec::encode(values);
       },
       decoder<std::vector<int>>(), 50},
      {"string_1mb", [] { return greenrpc::codec::encode(std::string(std::size_t{1} << 20, 'x')); },
       decoder<std::string>(), 200},
      {"structs_10k",
       [] {
         std::vector<Item> items(10'000);
         for (std::size_t i = 0; i < items.size(); ++i) {
           items[i].sku = "sku-" + std::to_string(i);
           items[i].quantity = static_cast<int>(i);
           if (i % 2 == 0) items[i].note = "fragile";
         }
         return greenrpc::codec::encode(items);
       },
       decoder<std::vector<Item>>(), 50},
      {"int", [] { return greenrpc::codec::encode(42); }, decoder<int>(), 2'000'000},
      {"string_1400", [] { return greenrpc::codec::encode(std::string(1400, 'p')); }, decoder<std::string>(),
       1'000'000},
      {"small_struct", [] { return greenrpc::codec::encode(NumberInput{7}); }, decoder<NumberInput>(), 1'000'000},
  };
}

/// A "<field>: <n> kB" line of /proc/self/status (VmRSS, VmHWM).
long status_kb(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  long kb = 0;
  char line[256];
  const std::size_t length = std::strlen(field);
  while (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, length) == 0 && line[length] == ':') kb = std::strtol(line + length + 1, nullptr, 10);
  }
  if (f != nullptr) std::fclose(f);
  return kb;
}

/// Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
void reset_peak_rss() {
  if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

/// Runs in the forked child: prints the RESULT line.
void run_case(const Case& c, std::size_t rounds) {
  const std::string input = c.make_input();
  const char* outcome = "ok";
  reset_peak_rss();  // building the input may have peaked higher than what stays resident
  const long rss_before = status_kb("VmRSS");
  auto once = [&] {
    try {
      c.decode(input);
    } catch (const DecodeError& e) {
      outcome = e.kind() == DecodeError::Kind::invalid_msgpack ? "invalid_msgpack" : "validation";
    }
  };
  once();  // warm-up, and the peak RSS of one decode
  const long peak_growth_kb = status_kb("VmHWM") - rss_before;
  std::vector<double> per_round;
  for (std::size_t r = 0; r < rounds; ++r) {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < c.default_iterations; ++i) once();
    const std::chrono::duration<double, std::nano> took = Clock::now() - t0;
    per_round.push_back(took.count() / static_cast<double>(c.default_iterations));
  }
  std::sort(per_round.begin(), per_round.end());
  const double ns = per_round[per_round.size() / 2];
  const double mb = static_cast<double>(input.size()) / 1e6;
  std::printf("RESULT case=%s input_bytes=%zu ns_per_op=%.1f ms_per_mb=%.3f peak_rss_growth_kb=%ld outcome=%s\n",
              c.name, input.size(), ns, ns / 1e6 / mb, peak_growth_kb, outcome);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rounds = 5;
  std::string_view only;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--only CASE]\n", argv[0]);
      return 2;
    }
  }
  if (rounds == 0) rounds = 1;
  for (const Case& c : cases()) {
    if (!only.empty() && only != c.name) continue;
    std::fflush(stdout);
    const pid_t child = fork();
    if (child == 0) {
      run_case(c, rounds);
      std::_Exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::printf("RESULT case=%s failed\n", c.name);
  }
  return 0;
}
