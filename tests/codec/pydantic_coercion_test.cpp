// Coercion::pydantic: scalars of another msgpack type read as pydantic 1 reads them (Tino's
// server), and strict mode unchanged. Expected values are Python's own (int(), float(), repr(),
// pydantic's bool sets); tests/integration/test_coercion.py checks a running server against
// pydantic itself.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/detail/pydantic_coercion.hpp"
#include "greenrpc/codec/encode.hpp"

using greenrpc::codec::Coercion;
using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;
using greenrpc::codec::DecodeLimits;
using greenrpc::codec::encode;

namespace {

DecodeLimits lax() {
    DecodeLimits limits;
    limits.coercion = Coercion::pydantic;
    return limits;
}

template <typename T, typename V>
T lax_decode(const V& value) {
    return decode<T>(encode(value), lax());
}

// The error a lax decode of `value` as T fails with: pydantic's "msg (type)".
template <typename T, typename V>
std::string lax_refusal(const V& value) {
    try {
        (void)lax_decode<T>(value);
    } catch (const DecodeError& e) {
        return e.msg() + " (" + e.type() + ")";
    }
    return "accepted";
}

std::string bin(std::string_view s) {  // a msgpack BIN holding s
    std::string out = "\xc4";
    out.push_back(static_cast<char>(s.size()));
    return out.append(s);
}

TEST(PydanticCoercion, FloatsAreWrittenAsPythonsRepr) {
    using greenrpc::codec::detail::python_float_repr;
    const std::vector<std::pair<double, const char*>> cases = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0, "1.0"},
        {1.5, "1.5"},
        {100.0, "100.0"},
        {0.1, "0.1"},
        {1e15, "1000000000000000.0"},
        {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"},
        {12345678901234567.0, "1.2345678901234568e+16"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {1.5e-05, "1.5e-05"},
        {-2.5e-10, "-2.5e-10"},
        {1e300, "1e+300"},
        {123.456, "123.456"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {9007199254740992.0, "9007199254740992.0"},
        {-7.0, "-7.0"},
        {std::numeric_limits<double>::infinity(), "inf"},
        {-std::numeric_limits<double>::infinity(), "-inf"},
        {std::nan(""), "nan"},
    };
    for (const auto& [value, repr] : cases) EXPECT_EQ(python_float_repr(value), repr);
}

TEST(PydanticCoercion, IntegersAsPythonsIntReadsThem) {
    EXPECT_EQ(lax_decode<int>(std::string(" -1_000 ")), -1000);
    EXPECT_EQ(lax_decode<int>(std::string("1_0")), 10);
    EXPECT_EQ(lax_decode<int>(std::string("007")), 7);
    EXPECT_EQ(lax_decode<int>(std::string("+5")), 5);
    EXPECT_EQ(lax_decode<int>(std::string(" 12\t")), 12);
    EXPECT_EQ(decode<int>(bin("42"), lax()), 42);  // int(b"42")
    EXPECT_EQ(lax_decode<int>(1.9), 1);            // truncated toward zero
    EXPECT_EQ(lax_decode<int>(-1.9), -1);
    EXPECT_EQ(lax_decode<int>(true), 1);
    EXPECT_EQ(lax_decode<std::int64_t>(std::string("-9223372036854775808")), INT64_MIN);
    EXPECT_EQ(lax_decode<std::uint64_t>(std::string("18446744073709551615")), UINT64_MAX);
    // The last: Arabic-Indic digit one, which Python's int() reads as 1 (ASCII digits only here).
    for (const char* bad : {"", " ", "1.5", "0x10", "_1", "1_", "1__0", "1 2", "--1", "one", "\xd9\xa1"})
        EXPECT_EQ(lax_refusal<int>(std::string(bad)), "value is not a valid integer (type_error.integer)") << bad;
    EXPECT_EQ(lax_refusal<int>(std::numeric_limits<double>::quiet_NaN()),
              "value is not a valid integer (type_error.integer)");
    EXPECT_EQ(lax_refusal<int>(std::numeric_limits<double>::infinity()),
              "value is not a valid integer (type_error.integer)");
    // Ranges as for integers on the wire, beyond 64 bits too.
    EXPECT_EQ(lax_refusal<std::uint8_t>(std::string("256")),
              "ensure this value is less than or equal to 255 (value_error.number.not_le)");
    EXPECT_EQ(lax_refusal<std::uint8_t>(-0.5 - 1), "ensure this value is greater than or equal to 0 (value_error.number.not_ge)");
    EXPECT_EQ(lax_refusal<std::uint64_t>(std::string("18446744073709551616")),
              "ensure this value is less than or equal to 18446744073709551615 (value_error.number.not_le)");
    EXPECT_EQ(lax_refusal<std::int64_t>(std::string("-9223372036854775809")),
              "ensure this value is greater than or equal to -9223372036854775808 (value_error.number.not_ge)");
    EXPECT_EQ(lax_refusal<int>(1e300), "ensure this value is less than or equal to 2147483647 (value_error.number.not_le)");
    // A list is no integer in either mode.
    EXPECT_EQ(lax_refusal<int>(std::vector<int>{1}), "value is not a valid integer (type_error.integer)");
}

TEST(PydanticCoercion, FloatsAsPythonsFloatReadsThem) {
    EXPECT_EQ(lax_decode<double>(std::string("1.5e3")), 1500.0);
    EXPECT_EQ(lax_decode<double>(std::string(" inf ")), std::numeric_limits<double>::infinity());
    EXPECT_EQ(lax_decode<double>(std::string("-Infinity")), -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(lax_decode<double>(std::string("nan"))));
    EXPECT_EQ(lax_decode<double>(std::string("1_000.5")), 1000.5);
    EXPECT_EQ(lax_decode<double>(std::string(".5")), 0.5);
    EXPECT_EQ(lax_decode<double>(std::string("5.")), 5.0);
    EXPECT_EQ(lax_decode<double>(std::string("1E5")), 100000.0);
    EXPECT_EQ(lax_decode<double>(std::string("1e400")), std::numeric_limits<double>::infinity());
    EXPECT_EQ(lax_decode<double>(std::string("-1e400")), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(lax_decode<double>(std::string("1e-400")), 0.0);
    EXPECT_EQ(lax_decode<double>(std::string("0.0001e-3")), 1e-7);
    EXPECT_EQ(lax_decode<double>(true), 1.0);
    EXPECT_EQ(decode<double>(bin("2.25"), lax()), 2.25);
    for (const char* bad : {"", ".", "e5", "1e", "1._5", "1_.5", "0x1p3", "nan(1)", "infinit", "1.5f", "1,5"})
        EXPECT_EQ(lax_refusal<double>(std::string(bad)), "value is not a valid float (type_error.float)") << bad;
    EXPECT_EQ(lax_refusal<float>(std::string("1e39")),
              "ensure this value is less than or equal to 3.4028234663852886e+38 (value_error.number.not_le)");
}

TEST(PydanticCoercion, BoolsFromPydanticsWordsAndFromZeroOrOne) {
    for (const char* yes : {"1", "on", "t", "true", "y", "yes", "TRUE", "Yes", "On"})
        EXPECT_TRUE(lax_decode<bool>(std::string(yes))) << yes;
    for (const char* no : {"0", "off", "f", "false", "n", "no", "FALSE", "No"})
        EXPECT_FALSE(lax_decode<bool>(std::string(no))) << no;
    EXPECT_TRUE(lax_decode<bool>(1));
    EXPECT_FALSE(lax_decode<bool>(0));
    EXPECT_TRUE(lax_decode<bool>(1.0));
    EXPECT_FALSE(lax_decode<bool>(-0.0));
    EXPECT_TRUE(decode<bool>(bin("yes"), lax()));
    for (const char* bad : {"", "2", " true", "maybe", "oui"})
        EXPECT_EQ(lax_refusal<bool>(std::string(bad)), "value could not be parsed to a boolean (type_error.bool)") << bad;
    EXPECT_EQ(lax_refusal<bool>(2), "value could not be parsed to a boolean (type_error.bool)");
    EXPECT_EQ(lax_refusal<bool>(-1), "value could not be parsed to a boolean (type_error.bool)");
    EXPECT_EQ(lax_refusal<bool>(0.5), "value could not be parsed to a boolean (type_error.bool)");
}

TEST(PydanticCoercion, StringsAndBytesFromNumbersAndBools) {
    EXPECT_EQ(lax_decode<std::string>(5), "5");
    EXPECT_EQ(lax_decode<std::string>(-5), "-5");
    EXPECT_EQ(lax_decode<std::string>(1.0), "1.0");
    EXPECT_EQ(lax_decode<std::string>(1e16), "1e+16");
    EXPECT_EQ(lax_decode<std::string>(true), "True");
    EXPECT_EQ(lax_decode<std::string>(false), "False");
    EXPECT_EQ(lax_decode<greenrpc::Bytes>(7).data, "7");
    EXPECT_EQ(lax_decode<greenrpc::Bytes>(0.5).data, "0.5");
    EXPECT_EQ(lax_refusal<std::string>(std::vector<int>{1}), "str type expected (type_error.str)");
    EXPECT_EQ(lax_refusal<greenrpc::Bytes>(std::vector<int>{1}), "byte type expected (type_error.bytes)");
}

struct Order {
    int quantity = 0;
    double price = 0;
    bool gift = false;
    std::string note;
    std::vector<int> sizes;
    MSGPACK_DEFINE_MAP(quantity, price, gift, note, sizes);
};

TEST(PydanticCoercion, AppliesInsideModelsAndContainers) {
    // {"quantity": "3", "price": 2, "gift": "yes", "note": 12, "sizes": ["1", 2.0]}
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> packer(buffer);
    packer.pack_map(5);
    packer.pack("quantity"), packer.pack("3");
    packer.pack("price"), packer.pack(2);
    packer.pack("gift"), packer.pack("yes");
    packer.pack("note"), packer.pack(12);
    packer.pack("sizes"), packer.pack_array(2), packer.pack("1"), packer.pack(2.0);
    const std::string bytes(buffer.data(), buffer.size());
    const Order order = decode<Order>(bytes, lax());
    EXPECT_EQ(order.quantity, 3);
    EXPECT_EQ(order.price, 2.0);
    EXPECT_TRUE(order.gift);
    EXPECT_EQ(order.note, "12");
    EXPECT_EQ(order.sizes, (std::vector<int>{1, 2}));
    // Strict (the default) refuses the first of them, with pydantic's words and path.
    try {
        (void)decode<Order>(bytes);
        ADD_FAILURE() << "strict mode coerced";
    } catch (const DecodeError& e) {
        EXPECT_EQ(e.msg(), "value is not a valid integer");
        EXPECT_EQ(e.message(), "field 'quantity': value is not a valid integer (int, got str)");
    }
}

TEST(PydanticCoercion, StrictIsTheDefaultAndUnchanged) {
    EXPECT_EQ(DecodeLimits{}.coercion, Coercion::strict);
    EXPECT_THROW((void)decode<int>(encode(std::string("5"))), DecodeError);
    EXPECT_THROW((void)decode<int>(encode(1.0)), DecodeError);
    EXPECT_THROW((void)decode<bool>(encode(1)), DecodeError);
    EXPECT_THROW((void)decode<std::string>(encode(5)), DecodeError);
    EXPECT_EQ(decode<double>(encode(3)), 3.0);  // integer -> float, as before
}

}  // namespace
