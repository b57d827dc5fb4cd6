#pragma once
// The bytes of arrpc's wire (adrianchifor/arrpc 0.5.0; docs/protocol.md, "arrpc wire") that are
// not plain msgpack framing: the signed-request map, the signature's hex text, and the error
// strings its client recognises. Pure functions, no I/O.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/envelope/hmac_key.hpp"
#include "greenrpc/rpc/error_report.hpp"

namespace greenrpc::arrpc {

// A signed request is the map {"arrpc.sign": <64 lowercase hex digits>, "data": <bin>}.
inline constexpr std::string_view kSignKey = "arrpc.sign";
inline constexpr std::string_view kDataKey = "data";
// arrpc's client raises AuthException / RpcException for a string reply containing these.
inline constexpr std::string_view kAuthException = "arrpc.error.AuthException: ";
inline constexpr std::string_view kRpcException = "arrpc.error.RpcException: ";
// arrpc's own text for a missing or wrong signature, byte for byte.
inline constexpr std::string_view kBadSignature =
    "Invalid or missing message signature, make sure 'auth_secret' is set/correct";
// ServerOptions::arrpc_signed_requests = refuse.
inline constexpr std::string_view kSignedRefused =
    "arrpc-signed requests are refused by this server: their signatures can be replayed (no nonce, no sequence); "
    "use a greenrpc client with auth_secret";

struct SignedRequest {
  std::string_view signature;  // as sent (hex text)
  std::string_view data;       // the packed message: what the signature covers
};

// `frame` as arrpc's signed request: exactly a two-entry map, the str keys "arrpc.sign" (a str
// value) and "data" (a bin value) in either order, and nothing after it. nullopt for any other
// value (an unsigned message).
std::optional<SignedRequest> parse_signed(std::string_view frame);

// 64 lowercase hex digits (Python's hexdigest()) as the 32 bytes they spell; nullopt for anything
// else (uppercase too: arrpc compares the text as it is).
std::optional<Tag> parse_signature(std::string_view hex);

// Whether `request`'s signature is HMAC-SHA256(key, data) for one of `keys` (compared in
// constant time).
bool signature_matches(const SignedRequest& request, const std::vector<HmacKey>& keys);

// The text an arrpc client reads for an error reply (code, message): AUTH_ERROR as AuthException,
// everything else as RpcException (a handler's RpcError and any other exception with its own
// text; validation errors as "invalid message: <path>: <msg> (<type>)"; other codes with their code).
std::string error_text(const ErrorReport& report);

// Appends `text` as one msgpack str.
void append_str(std::string& out, std::string_view text);

}  // namespace greenrpc::arrpc
