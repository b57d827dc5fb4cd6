#pragma once
// Generic msgpack-cxx adaptor: every C++ enum travels as its underlying integer.

#include <type_traits>

#include <msgpack.hpp>

// Partial specializations selected through msgpack-cxx's `Enabler` parameter, so
// no MSGPACK_ADD_ENUM is needed. A user's MSGPACK_ADD_ENUM(E) still compiles: it
// declares full specializations for E, which take precedence over these.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

/// Decodes an enum from an integer that fits its underlying type
/// (msgpack::type_error otherwise). Values are not checked against the
/// enumerators: C++ has no reflection for that.
template <typename Enum>
struct convert<Enum, std::enable_if_t<std::is_enum_v<Enum>>> {
    const msgpack::object& operator()(const msgpack::object& in, Enum& value) const {
        std::underlying_type_t<Enum> raw{};
        in.convert(raw);
        value = static_cast<Enum>(raw);
        return in;
    }
};

template <typename Enum>
struct pack<Enum, std::enable_if_t<std::is_enum_v<Enum>>> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& out, const Enum& value) const {
        return out.pack(static_cast<std::underlying_type_t<Enum>>(value));
    }
};

template <typename Enum>
struct object<Enum, std::enable_if_t<std::is_enum_v<Enum>>> {
    void operator()(msgpack::object& out, const Enum& value) const {
        msgpack::operator<<(out, static_cast<std::underlying_type_t<Enum>>(value));
    }
};

template <typename Enum>
struct object_with_zone<Enum, std::enable_if_t<std::is_enum_v<Enum>>> {
    void operator()(msgpack::object::with_zone& out, const Enum& value) const {
        msgpack::operator<<(out, static_cast<std::underlying_type_t<Enum>>(value));
    }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack
