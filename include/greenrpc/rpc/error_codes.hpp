#pragma once
// The first word of every greenrpc error reply (Tino's; what follows is JSON values, rpc/error_line.hpp).
// See docs/protocol.md §3.
#include <string_view>

namespace greenrpc::error_code {

inline constexpr std::string_view invalid_command = "INVALID_COMMAND";      // INVALID_COMMAND <name as sent>
inline constexpr std::string_view num_arg_mismatch = "NUM_ARG_MISMATCH";    // NUM_ARG_MISMATCH (bare)
inline constexpr std::string_view invalid_msgpack = "INVALID_MSGPACK";      // INVALID_MSGPACK <loc> "invalid msgpack"
inline constexpr std::string_view validation_error = "VALIDATION_ERROR";    // VALIDATION_ERROR <loc> <msg> <type> (pydantic 1)
inline constexpr std::string_view permission_denied = "PERMISSION_DENIED";  // PERMISSION_DENIED (bare)
inline constexpr std::string_view unexpected_error = "UNEXPECTED_ERROR";    // UNEXPECTED_ERROR "<what()>"
inline constexpr std::string_view generic = "ERR";                          // built-ins imitating Redis: free text

inline constexpr std::string_view auth_error = "AUTH_ERROR";                // signing: missing, wrong, replayed
inline constexpr std::string_view deadline_exceeded = "DEADLINE_EXCEEDED";  // the caller's deadline passed
inline constexpr std::string_view rpc_error = "RPC_ERROR";                  // greenrpc::RpcError from a handler
// The server is stopping and did not start this request (nor, on this connection, any later
// one): it never ran, and the greenrpc client resends it on a new connection.
inline constexpr std::string_view shutting_down = "SHUTTING_DOWN";
// The request was running when the server cancelled it (its grace period ended): it may have
// partly run.
inline constexpr std::string_view cancelled = "CANCELLED";

}  // namespace greenrpc::error_code
