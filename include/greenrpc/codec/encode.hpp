#pragma once
// encode(): C++ value -> msgpack bytes, appended to a std::string.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/enum_adaptor.hpp"

namespace greenrpc::codec {

/// msgpack::packer stream that appends to a std::string.
class StringSink {
public:
    explicit StringSink(std::string& out) noexcept : out_(&out) {}
    void write(const char* data, std::size_t size) { out_->append(data, size); }

private:
    std::string* out_;
};

}  // namespace greenrpc::codec

// msgpack-cxx 4.1 packs a float/double holding a whole number as a msgpack
// integer (2.0 -> 0x02). For an RPC codec that loses the result's type (a
// Python client would receive int 2 for a `double` result), so packers writing
// to a StringSink always emit float64 for double and float32 for float.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(v1) {

template <>
inline packer<greenrpc::codec::StringSink>& packer<greenrpc::codec::StringSink>::pack_double(double d) {
    const auto bits = std::bit_cast<std::uint64_t>(d);
    char buf[9];
    buf[0] = static_cast<char>(0xcbu);
    for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
    append_buffer(buf, sizeof buf);
    return *this;
}

template <>
inline packer<greenrpc::codec::StringSink>& packer<greenrpc::codec::StringSink>::pack_float(float d) {
    const auto bits = std::bit_cast<std::uint32_t>(d);
    char buf[5];
    buf[0] = static_cast<char>(0xcau);
    for (int i = 0; i < 4; ++i) buf[1 + i] = static_cast<char>(bits >> (24 - 8 * i));
    append_buffer(buf, sizeof buf);
    return *this;
}

}  // MSGPACK_API_VERSION_NAMESPACE(v1)
}  // namespace msgpack

namespace greenrpc::codec {

/// Appends the msgpack encoding of `value` to `out` (any type msgpack-cxx can
/// pack: scalars, std containers, optional, Bytes as BIN, enums as their
/// underlying integer, MSGPACK_DEFINE_MAP structs as maps with string keys;
/// double/float always as float64/float32, see above).
template <typename T>
void encode(std::string& out, const T& value) {
    StringSink sink(out);
    msgpack::packer<StringSink> packer(sink);
    packer.pack(value);
}

/// The msgpack encoding of `value` as a new string.
template <typename T>
[[nodiscard]] std::string encode(const T& value) {
    std::string out;
    encode(out, value);
    return out;
}

/// Appends msgpack nil (0xc0): the result of a void handler.
inline void encode_nil(std::string& out) { out.push_back(static_cast<char>(0xc0)); }

/// Appends one element per argument to `out`, each holding that argument's
/// msgpack encoding: the per-argument wire form of a request
/// (`std::vector<std::string> args; encode_each(args, 1, "x");`).
template <typename... A>
void encode_each(std::vector<std::string>& out, const A&... args) {
    out.reserve(out.size() + sizeof...(A));
    (encode(out.emplace_back(), args), ...);
}

}  // namespace greenrpc::codec
