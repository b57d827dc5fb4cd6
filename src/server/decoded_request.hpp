#pragma once
// A request as the dispatcher takes it, whatever wire it came on: the elements (views into the
// connection's input buffer), the envelope fields, and when its bytes arrived.
#include <span>
#include <string_view>

#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/runtime/deadline.hpp"

namespace greenrpc {

struct DecodedRequest {
  // The command name, then its arguments (msgpack bytes): exactly what a request tag covers.
  std::span<const std::string_view> elements;
  // The envelope as envelope::parse read it; nullptr when the request had none.
  const envelope::Header* envelope = nullptr;
  // When the request's bytes were read: its deadline counts from here.
  Clock::time_point arrived;
};

}  // namespace greenrpc
