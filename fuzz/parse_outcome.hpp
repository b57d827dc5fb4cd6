#pragma once
// What the two RESP parser targets check alike for a parse() that did not complete a frame:
// `incomplete` asks for more than it was given (or says nothing), `error` says why. Records the
// status (and the error) in `out`; returns false once the stream can no longer be parsed.
#include <string_view>

#include "check.hpp"
#include "greenrpc/protocol/request_parser.hpp"  // ParseResult, ParseStatus

template <class Outcome>
bool record_unfinished(const greenrpc::protocol::ParseResult& r, std::string_view input, Outcome& out) {
  if (r.status == greenrpc::protocol::ParseStatus::incomplete) {
    FUZZ_CHECK(r.needed == 0 || r.needed > input.size());
    out.last = greenrpc::protocol::ParseStatus::incomplete;
    return true;
  }
  FUZZ_CHECK(!r.error.empty());
  out.last = greenrpc::protocol::ParseStatus::error;
  out.error = r.error;
  return false;
}
