#include "dispatcher.hpp"

#include <algorithm>

#include "builtin_commands.hpp"
#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/runtime/fiber_deadline.hpp"
#include "greenrpc/runtime/log.hpp"
#include "server_core.hpp"

namespace greenrpc {
namespace {

constexpr std::size_t kMaxCommandName = 128;

// More than ten years is as good as none (and would overflow the clock's nanoseconds). This
// also makes the all-ones value, which stands for "absent" in the signed bytes, mean exactly
// that: a peer adding it to a signed request changes nothing.
constexpr std::uint64_t kForeverMs = 10ull * 365 * 24 * 3600 * 1000;

Deadline deadline_of(const DecodedRequest& request) {
  const envelope::Header* h = request.envelope;
  if (!h || !h->deadline_ms || *h->deadline_ms >= kForeverMs) return Deadline::never();
  return Deadline(request.arrived + std::chrono::milliseconds(*h->deadline_ms));
}

}  // namespace

namespace {
std::size_t bytes_of(std::span<const std::string_view> elements) {
  std::size_t n = 0;
  for (std::string_view e : elements) n += e.size();
  return n;
}
}  // namespace

bool Dispatcher::peer_labels(const ServerCore& core) noexcept {
  return core.options().metrics.enabled && core.options().metrics.peer_labels;
}

void Dispatcher::measure(const ReplyEncoder& reply, Clock::time_point arrived, std::size_t request_bytes,
                         std::size_t reply_before) noexcept {
  try {
    measure_or_throw(reply, arrived, request_bytes, reply_before);
  } catch (...) {  // bad_alloc adding a label: the request goes uncounted, the server goes on
  }
}

void Dispatcher::measure_or_throw(const ReplyEncoder& reply, Clock::time_point arrived, std::size_t request_bytes,
                                  std::size_t reply_before) {
  const std::string_view code = reply.last_error();
  const std::size_t outcome = core_.outcomes().index_of(code);
  if (code == error_code::deadline_exceeded) metrics_.deadlines_exceeded.add();
  if (std::exchange(signature_refused_, false)) {
    metrics_.auth_failures[static_cast<std::size_t>(AuthFailure::signature)].add();
    // Like a refused AUTH: who, never what (no tag, no secret).
    GREENRPC_LOG_LIMITED(warn, "signature_refused", "signed request refused",
                         {{"conn", connection_.id}, {"peer", connection_.peer.to_string()}});
  }
  const std::size_t after = reply.bytes_encoded();
  const std::size_t reply_bytes = after > reply_before ? after - reply_before : 0;
  const Clock::duration took = Clock::now() - arrived;
  metrics_.record(command_index_, outcome, took, request_bytes, reply_bytes);
  if (peer_labels_) metrics_.count_peer(connection_.peer.host);
  // One line per request at debug: the command's registered name (or "(unknown)", never what
  // an unknown request carried), the outcome's code, never arguments (AUTH's password, payloads)
  // nor the envelope (signatures).
  GREENRPC_LOG_FIELDS(debug, "request",
                      {{"conn", connection_.id},
                       {"peer", connection_.peer.to_string()},
                       {"command", core_.command_label(command_index_)},
                       {"outcome", code.empty() ? std::string_view("ok") : code},
                       {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(took).count()},
                       {"request_bytes", request_bytes},
                       {"reply_bytes", reply_bytes}});
}

AfterReply Dispatcher::dispatch_elements(std::span<const std::string_view> elements, Clock::time_point arrived,
                                         ReplyEncoder& reply) {
  reply.clear_outcome();
  command_index_ = core_.unknown_command_index();
  const std::size_t reply_before = reply.bytes_encoded();
  struct Measure {
    Dispatcher& self;
    const ReplyEncoder& reply;
    Clock::time_point arrived;
    std::size_t request_bytes, reply_before;
    ~Measure() { self.measure(reply, arrived, request_bytes, reply_before); }
  } measure{*this, reply, arrived, bytes_of(elements), reply_before};
  if (!envelope::is_envelope(elements[0])) return dispatch_unmeasured(DecodedRequest{elements, nullptr, arrived}, reply);
  envelope::Header header;
  std::string problem;
  try {
    header = envelope::parse(elements[0]);
  } catch (const envelope::EnvelopeError& e) {
    problem = e.what();
  }
  if (!problem.empty()) {
    count_command();
    reply.redis_error(error_code::generic, "bad envelope: " + problem);
    return AfterReply::keep_open;
  }
  if (elements.size() == 1) {
    count_command();
    reply.redis_error(error_code::generic, "envelope without a command");
    return AfterReply::keep_open;
  }
  return dispatch_unmeasured(DecodedRequest{elements.subspan(1), &header, arrived}, reply);
}

const HmacKey* Dispatcher::verify(const DecodedRequest& request, ReplyEncoder& reply) {
  const envelope::Header& header = *request.envelope;
  const auto& keys = core_.signing_keys();
  if (keys.empty()) {
    signature_refused_ = true;
    reply.error(error_code::auth_error, "request is signed but this server has no auth_secret");
    return nullptr;
  }
  ensure_nonce(connection_);
  const HmacKey* key = nullptr;
  for (const HmacKey& k : keys) {
    if (HmacKey::equal(*header.tag, envelope::request_tag(k, connection_.nonce, header, request.elements))) {
      key = &k;
      break;
    }
  }
  if (!key) {
    signature_refused_ = true;
    reply.error(error_code::auth_error,
                "signature does not match: the client's auth_secret differs or the request was altered");
    return nullptr;
  }
  if (header.seq <= connection_.last_seq) {
    signature_refused_ = true;
    reply.error(error_code::auth_error, "replayed or reordered request: seq " + std::to_string(header.seq) +
                                            " is not above " + std::to_string(connection_.last_seq));
    return nullptr;
  }
  connection_.last_seq = header.seq;
  return key;
}

// Written only by the worker's own thread: a plain load and store, no locked increment.
void Dispatcher::count_command() {
  commands_.store(commands_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

AfterReply Dispatcher::dispatch(const DecodedRequest& request, ReplyEncoder& reply) {
  reply.clear_outcome();
  command_index_ = core_.unknown_command_index();
  const std::size_t reply_before = reply.bytes_encoded();
  AfterReply after = dispatch_unmeasured(request, reply);
  measure(reply, request.arrived, bytes_of(request.elements), reply_before);
  return after;
}

AfterReply Dispatcher::dispatch_unmeasured(const DecodedRequest& request, ReplyEncoder& reply) {
  count_command();
  const envelope::Header* header = request.envelope;
  if (!header || !header->tag) return run(request, /*signed_request=*/request.wire_signed, reply);
  // Refusals of signed requests are not signed: the peer is not authenticated.
  const HmacKey* key = verify(request, reply);
  if (!key) return AfterReply::keep_open;
  // The reply is signed with the key that verified the request; the tag covers the exact bytes
  // of the reply element.
  reply.begin_signed();
  AfterReply after = run(request, /*signed_request=*/true, reply);
  Tag tag = envelope::reply_tag(*key, connection_.nonce, header->seq, reply.signed_element());
  reply.end_signed(tag);
  return after;
}

AfterReply Dispatcher::refuse_signature(const DecodedRequest& request, std::string_view message, ReplyEncoder& reply) {
  reply.clear_outcome();
  const Route* route = request.to_message_handler ? core_.message_route() : nullptr;
  command_index_ = route ? route->index : core_.unknown_command_index();
  const std::size_t reply_before = reply.bytes_encoded();
  count_command();
  signature_refused_ = true;
  reply.error(error_code::auth_error, message);
  measure(reply, request.arrived, bytes_of(request.elements), reply_before);
  return AfterReply::keep_open;
}

void Dispatcher::cancel_running() {
  if (running()) token_->cancel();
}

std::string Dispatcher::describe_running(Clock::time_point now) const {
  if (!running()) return {};
  return " conn=" + std::to_string(connection_.id) + " peer=" + connection_.peer.to_string() + " command=" +
         std::string(running_command_) + " age_ms=" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - running_since_).count());
}

AfterReply Dispatcher::run(const DecodedRequest& request, bool signed_request, ReplyEncoder& reply) {
  const std::span<const std::string_view> elements = request.elements;
  const Deadline deadline = deadline_of(request);
  if (refusing_) {
    // Received but never started: say so, so the caller can safely send it elsewhere.
    reply.error(error_code::shutting_down, "the server is stopping: this request did not run");
    return AfterReply::keep_open;
  }
  const Route* route = nullptr;
  if (request.to_message_handler) {
    route = core_.message_route();
    if (!route) {
      reply.error(error_code::invalid_command, "this server has no message handler");
      return AfterReply::keep_open;
    }
  } else {
    std::string_view name = elements[0];
    char lower[kMaxCommandName];
    if (name.size() <= kMaxCommandName) {
      std::transform(name.begin(), name.end(), lower,
                     [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
      route = core_.route(std::string_view(lower, name.size()));
    }
    if (!route) {
      // Tino's layout: the name as sent, not JSON (cut to 256 bytes; CR/LF become spaces).
      reply.error(ErrorReport{.code = error_code::invalid_command, .message = name.substr(0, 256), .free_text = true});
      return AfterReply::keep_open;
    }
  }
  command_index_ = route->index;
  if (route->builtin) {
    BuiltinCall call{elements, connection_, core_, reply, &metrics_};
    route->builtin(call);
    return call.close_after ? AfterReply::close : AfterReply::keep_open;
  }
  if (!signed_request && core_.signing_required()) {
    signature_refused_ = true;
    reply.error(error_code::auth_error,
                "request is not signed: this server requires HMAC-signed requests (set the client's auth_secret)");
    return AfterReply::keep_open;
  }
  if (deadline.expired()) {
    reply.error(error_code::deadline_exceeded, "the caller's deadline passed before the command ran");
    return AfterReply::keep_open;
  }
  RequestContext context(connection_.id, connection_.peer, route->command->info->name, connection_.worker,
                         connection_.tls);
  context.set_deadline(deadline);
  const auto args = request.to_message_handler ? elements : elements.subspan(1);
  HandlerCall call{args, connection_, context, limits_, scratch_, reply};
  // The handler's waits, the calls it makes, the fibers it spawns and its run_blocking jobs
  // inherit the deadline and end with the token.
  if (token_->cancelled()) token_ = CancelToken::create();
  CancelScope cancel_scope(token_);
  FiberDeadlineScope deadline_scope(deadline);
  running_command_ = route->command->info->name;
  running_since_ = request.arrived;  // no clock read of its own on the hot path
  metrics_.add_in_flight(1);
  struct RunEnds {  // even if writing an error reply throws (bad_alloc)
    Dispatcher& d;
    ~RunEnds() {
      d.tree_bytes_ = 0;  // the arguments, trees included, are gone with the call
      d.metrics_.add_in_flight(-1);
      d.running_command_ = {};
    }
  } run_ends{*this};
  route->command->handler(call);  // never throws: failures become error replies
  return AfterReply::keep_open;
}

codec::DecodeLimits Dispatcher::handler_limits(const ServerCore& core, Dispatcher& self) noexcept {
  codec::DecodeLimits limits = core.options().decode_limits;
  limits.tree_memory = &self;  // trees built for the arguments count against the client memory budget
  return limits;
}

void Dispatcher::reserve(std::size_t bytes) {
  tree_bytes_ += bytes;
  if (memory_grew_ && !memory_grew_())
    throw codec::DecodeError::limit_exceeded("msgpack object tree of " + std::to_string(bytes) +
                                             " bytes refused: client memory budget exceeded");
}

}  // namespace greenrpc
