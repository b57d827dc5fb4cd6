#pragma once
// greenrpc::Bytes: binary blob vocabulary type, msgpack BIN on the wire.

#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <msgpack.hpp>

namespace greenrpc {

/// One byte of a blob: char, signed/unsigned char, char8_t or std::byte (cv-qualified or not).
template <typename T>
concept byte_like = std::same_as<std::remove_cv_t<T>, char> || std::same_as<std::remove_cv_t<T>, signed char> ||
                    std::same_as<std::remove_cv_t<T>, unsigned char> || std::same_as<std::remove_cv_t<T>, char8_t> ||
                    std::same_as<std::remove_cv_t<T>, std::byte>;

/// A binary blob. Encodes as msgpack BIN; decodes from BIN (and, leniently, STR).
///
/// Representation: a plain `std::string data`. Payloads enter and leave the
/// process as std::string (transport buffers, RESP bulk strings), so a blob can
/// be moved in/out without copying, short blobs live in the small-string buffer
/// and resizing does not zero-fill like std::vector<std::uint8_t> would. Use
/// as_bytes() when a std::byte view is wanted.
struct Bytes {
    std::string data;

    Bytes() = default;
    explicit Bytes(std::string bytes) noexcept : data(std::move(bytes)) {}
    explicit Bytes(std::string_view bytes) : data(bytes) {}
    explicit Bytes(const char* bytes) : data(bytes) {}
    Bytes(const void* bytes, std::size_t size) : data(static_cast<const char*>(bytes), size) {}
    explicit Bytes(std::span<const std::byte> bytes)
        : data(reinterpret_cast<const char*>(bytes.data()), bytes.size()) {}
    /// The bytes of [first, last), e.g. Bytes(vec.begin(), vec.end()) for a std::vector<std::uint8_t>
    /// or Bytes(std::istreambuf_iterator<char>(in), {}). One copy when the range is contiguous.
    template <std::input_iterator It, std::sentinel_for<It> End>
        requires byte_like<std::iter_value_t<It>>
    Bytes(It first, End last) {
        if constexpr (std::contiguous_iterator<It> && std::sized_sentinel_for<End, It>) {
            data.assign(reinterpret_cast<const char*>(std::to_address(first)), static_cast<std::size_t>(last - first));
        } else {
            if constexpr (std::sized_sentinel_for<End, It>) data.reserve(static_cast<std::size_t>(last - first));
            for (; first != last; ++first) data.push_back(static_cast<char>(*first));
        }
    }

    [[nodiscard]] std::string_view view() const noexcept { return data; }
    [[nodiscard]] std::span<const std::byte> as_bytes() const noexcept {
        return {reinterpret_cast<const std::byte*>(data.data()), data.size()};
    }
    [[nodiscard]] std::size_t size() const noexcept { return data.size(); }
    [[nodiscard]] bool empty() const noexcept { return data.empty(); }

    friend bool operator==(const Bytes&, const Bytes&) = default;
    friend auto operator<=>(const Bytes&, const Bytes&) = default;
    friend bool operator==(const Bytes& lhs, std::string_view rhs) noexcept { return lhs.data == rhs; }
};

}  // namespace greenrpc

// msgpack-cxx adaptors: Bytes <-> BIN.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<greenrpc::Bytes> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& out, const greenrpc::Bytes& value) const {
        const std::uint32_t size = checked_get_container_size(value.data.size());
        out.pack_bin(size);
        out.pack_bin_body(value.data.data(), size);
        return out;
    }
};

template <>
struct convert<greenrpc::Bytes> {
    const msgpack::object& operator()(const msgpack::object& in, greenrpc::Bytes& value) const {
        switch (in.type) {
            case msgpack::type::BIN: value.data.assign(in.via.bin.ptr, in.via.bin.size); break;
            case msgpack::type::STR: value.data.assign(in.via.str.ptr, in.via.str.size); break;
            default: throw msgpack::type_error();
        }
        return in;
    }
};

template <>
struct object_with_zone<greenrpc::Bytes> {
    void operator()(msgpack::object::with_zone& out, const greenrpc::Bytes& value) const {
        const std::uint32_t size = checked_get_container_size(value.data.size());
        char* copy = static_cast<char*>(out.zone.allocate_align(size, MSGPACK_ZONE_ALIGNOF(char)));
        if (size != 0) std::memcpy(copy, value.data.data(), size);
        out.type = msgpack::type::BIN;
        out.via.bin.ptr = copy;
        out.via.bin.size = size;
    }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack
