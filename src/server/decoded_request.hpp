#pragma once
// A request as the dispatcher takes it, whatever wire it came on: the elements (views into the
// connection's input buffer), the envelope fields, when its bytes arrived, and (a wire without
// command names) whether it goes to the message handler.
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
  // A wire without command names (arrpc): the request goes to the App's message handler, and
  // `elements` holds only its one argument, the message.
  bool to_message_handler = false;
  // The wire checked a signature of its own (arrpc's "arrpc.sign") before dispatch: the request
  // counts as signed (it is served where signing is required), its reply is not signed.
  bool wire_signed = false;
};

}  // namespace greenrpc
