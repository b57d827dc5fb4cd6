// Enums: generic adaptor without MSGPACK_ADD_ENUM, and coexistence with it.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace app {
enum class Status : std::int8_t { failed = -1, ok = 0, pending = 100 };
enum Legacy : unsigned { legacy_zero = 0, legacy_big = 4000000000u };
enum class Registered : std::uint16_t { a = 1, b = 60000 };

struct Job {
    Status status = Status::ok;
    Registered registered = Registered::a;
    MSGPACK_DEFINE_MAP(status, registered);
};
}  // namespace app

// A user-registered enum still compiles and takes precedence.
MSGPACK_ADD_ENUM(app::Registered);

namespace {

using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;
using greenrpc::codec::encode;

TEST(EnumAdaptor, EncodesAsUnderlyingInteger) {
    EXPECT_EQ(encode(app::Status::failed), encode(std::int8_t{-1}));
    EXPECT_EQ(encode(app::Status::pending), encode(100));
    EXPECT_EQ(encode(app::legacy_big), encode(4000000000u));
    EXPECT_EQ(encode(app::Registered::b), encode(60000));
}

TEST(EnumAdaptor, DecodesFromInteger) {
    EXPECT_EQ(decode<app::Status>(encode(-1)), app::Status::failed);
    EXPECT_EQ(decode<app::Legacy>(encode(4000000000u)), app::legacy_big);
    EXPECT_EQ(decode<app::Registered>(encode(60000)), app::Registered::b);
    // Values without an enumerator are accepted if they fit (no reflection in C++).
    EXPECT_EQ(static_cast<int>(decode<app::Status>(encode(42))), 42);
}

TEST(EnumAdaptor, ValidationErrorsNameTheEnum) {
    try {
        (void)decode<app::Status>(encode(std::string("ok")));
        FAIL();
    } catch (const DecodeError& error) {
        EXPECT_EQ(error.msg(), "value is not a valid enumeration member");
        EXPECT_EQ(error.type(), "type_error.enum");
        EXPECT_EQ(error.expected_type(), "Status");
    }
    try {
        (void)decode<app::Status>(encode(200));
        FAIL();
    } catch (const DecodeError& error) {
        EXPECT_EQ(error.msg(), "value is not a valid enumeration member");
        EXPECT_EQ(error.detail(), "Status, got int");
        EXPECT_EQ(error.expected_type(), "Status");
    }
}

TEST(EnumAdaptor, MsgpackCxxConversionUsesTheAdaptor) {
    // msgpack::object round trip (object / object_with_zone / convert adaptors).
    msgpack::zone zone;
    msgpack::object with_zone(app::Status::pending, zone);
    EXPECT_EQ(with_zone.as<app::Status>(), app::Status::pending);
    msgpack::object plain(app::Status::failed);
    EXPECT_EQ(plain.as<int>(), -1);
    EXPECT_EQ(plain.as<app::Status>(), app::Status::failed);
    EXPECT_THROW(msgpack::object(1000).as<app::Status>(), msgpack::type_error);
    // Packing through a plain msgpack::sbuffer packer also works.
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, app::Job{app::Status::failed, app::Registered::b});
    const auto job = decode<app::Job>(std::string_view(buffer.data(), buffer.size()));
    EXPECT_EQ(job.status, app::Status::failed);
    EXPECT_EQ(job.registered, app::Registered::b);
}

}  // namespace
