#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace greenrpc::protocol {

// Appenders of RESP2 frames to an output buffer. They allocate nothing beyond the buffer's growth.

/// `+s\r\n`; any '\r' or '\n' in `s` is written as a space.
void append_simple(std::string& out, std::string_view s);

/// `-msg\r\n`; any '\r' or '\n' in `msg` is written as a space.
void append_error(std::string& out, std::string_view msg);

/// `:v\r\n`
void append_integer(std::string& out, std::int64_t v);

/// `$len\r\npayload\r\n` (binary safe)
void append_bulk(std::string& out, std::string_view payload);

/// `$-1\r\n`
void append_null(std::string& out);

/// `*n\r\n`; the caller appends the n elements.
void append_array_header(std::string& out, std::size_t n);

/// A request as a client sends it: `*N\r\n` followed by N bulk strings.
void append_command(std::string& out, std::span<const std::string_view> parts);

}  // namespace greenrpc::protocol
