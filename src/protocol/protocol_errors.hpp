#pragma once
// Protocol-error messages shared by the request and reply parsers (Redis' wording where Redis
// has one).
#include <string_view>

namespace greenrpc::protocol::messages {

inline constexpr std::string_view invalid_multibulk = "Protocol error: invalid multibulk length";
inline constexpr std::string_view invalid_bulk = "Protocol error: invalid bulk length";
inline constexpr std::string_view missing_crlf = "Protocol error: missing CRLF after bulk payload";

}  // namespace greenrpc::protocol::messages
