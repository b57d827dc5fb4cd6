#pragma once
// The few JSON values error lines carry (strings, integers, flat arrays of them), written exactly
// as Python's json.dumps writes them (ensure_ascii: every byte outside printable ASCII escaped,
// "\n"-style short escapes, lowercase \u escapes, surrogate pairs above U+FFFF; ", " between array
// items) and read back. Internal to src/rpc.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "greenrpc/rpc/error_report.hpp"

namespace greenrpc::json_text {

// `text` is UTF-8; a byte that starts no valid UTF-8 sequence is written as U+FFFD.
void append_string(std::string& out, std::string_view text);
void append_path(std::string& out, const ErrorPath& path);

// Reads one value at `pos` of `in`, advancing `pos` past it. nullopt: not such a value (pos unspecified).
// Strings read are valid UTF-8: raw bytes that are not, and lone surrogate escapes, become U+FFFD.
std::optional<std::string> read_string(std::string_view in, std::size_t& pos);
std::optional<std::int64_t> read_integer(std::string_view in, std::size_t& pos);
std::optional<ErrorPath> read_path(std::string_view in, std::size_t& pos);

}  // namespace greenrpc::json_text
