#pragma once
// `greenrpc call --pipe`: one call per line of stdin (call_line.hpp), over one connection,
// pipelined: up to `in_flight` calls are sent before their replies are read. Each non-blank,
// non-comment input line gives exactly one line on stdout, in input order: the reply as JSON, or
// "error: <line>" (the server's error reply), or "error: greenrpc: <message>" (the line could not
// be sent or got no reply). A failed line does not stop the others.
#include <cstddef>
#include <cstdint>
#include <string>

#include "greenrpc/client/options.hpp"
#include "reply_json.hpp"

namespace greenrpc::cli {

struct PipeSettings {
  std::string host;
  std::uint16_t port = 0;
  ClientOptions options;
  OutputFormat format;      // `pretty` is ignored: one output line per input line
  std::size_t in_flight = 64;
  int input_fd = 0;
};

// The exit status: 0 when every line succeeded, else the highest status of a failed line
// (failure.hpp: 1 error reply, 2 bad input line, 3 no reply).
int run_pipe(const PipeSettings& settings);

}  // namespace greenrpc::cli
