#pragma once
// Bytes as text: base64 (RFC 4648, standard alphabet, padded) and lowercase hex. The CLI prints
// msgpack bin values this way and reads {"$bytes": ...} / {"$hex": ...} arguments back.
#include <optional>
#include <string>
#include <string_view>

namespace greenrpc::cli {

std::string to_base64(std::string_view bytes);
// nullopt unless `text` is canonical padded base64 (length a multiple of 4, '=' only at the end).
std::optional<std::string> from_base64(std::string_view text);

std::string to_hex(std::string_view bytes);
// nullopt unless `text` has an even number of hex digits (either case).
std::optional<std::string> from_hex(std::string_view text);

}  // namespace greenrpc::cli
