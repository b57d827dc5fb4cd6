// Validation errors: kind, message (with location) and expected_type.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

namespace shop {

enum class Tier : std::uint8_t { basic = 0, gold = 1 };

struct Item {
    std::string sku;
    int quantity = 0;
    std::optional<std::string> note;
    MSGPACK_DEFINE_MAP(sku, quantity, note);
};

struct Order {
    std::int64_t id = 0;
    std::vector<Item> items;
    std::map<std::string, Item> by_sku;
    std::optional<Tier> tier;
    MSGPACK_DEFINE_MAP(id, items, by_sku, tier);
};

struct Holder {
    int value = 0;
    MSGPACK_DEFINE_MAP(value);
};

struct Ranged {  // MSGPACK_DEFINE_ARRAY: positional
    std::string label;
    std::uint8_t level = 0;
    std::optional<int> extra;
    MSGPACK_DEFINE_ARRAY(label, level, extra);
};

struct Base {
    int base_field = 0;
    MSGPACK_DEFINE_MAP(base_field);
};
struct Derived : Base {
    std::string own;
    MSGPACK_DEFINE_MAP(MSGPACK_BASE_MAP(Base), own);
};

struct Big {
    std::array<char, 8192> padding{};
    int value = 0;
    MSGPACK_DEFINE_MAP(value);
};

struct Defaults {
    std::optional<int> retries = 3;
    std::string name;
    MSGPACK_DEFINE_MAP(retries, name);
};

/// A type with a hand-written msgpack-cxx adaptor (no MSGPACK_DEFINE): decoded
/// through the msgpack-cxx fallback.
struct Celsius {
    double degrees = 0;
};

}  // namespace shop

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {
template <>
struct convert<shop::Celsius> {
    const msgpack::object& operator()(const msgpack::object& in, shop::Celsius& out) const {
        if (in.type != msgpack::type::FLOAT64) throw msgpack::type_error();
        out.degrees = in.via.f64;
        return in;
    }
};
template <>
struct pack<shop::Celsius> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& out, const shop::Celsius& value) const {
        return out.pack(value.degrees);
    }
};
}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack

namespace {

using greenrpc::Bytes;
using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;
using greenrpc::codec::encode;

/// Decodes `input` as T, expecting a validation error; returns it.
template <typename T>
DecodeError validation_error(const std::string& input) {
    try {
        (void)decode<T>(input);
    } catch (const DecodeError& error) {
        EXPECT_EQ(error.kind(), DecodeError::Kind::validation) << error.message();
        return error;
    }
    ADD_FAILURE() << "decoding as " << greenrpc::codec::type_name<T>() << " unexpectedly succeeded";
    return DecodeError(DecodeError::Kind::validation, "<none>");
}

/// Builds msgpack bytes by hand with a msgpack::packer.
template <typename Build>
std::string pack_with(Build build) {
    std::string out;
    greenrpc::codec::StringSink sink(out);
    msgpack::packer<greenrpc::codec::StringSink> packer(sink);
    build(packer);
    return out;
}

template <typename T, typename V>
DecodeError validation_error_for(const V& value) {
    return validation_error<T>(encode(value));
}

TEST(Validation, WrongScalarType) {
    auto error = validation_error_for<int>(std::string("hello"));
    EXPECT_EQ(error.message(), "value is not a valid integer");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "str");
    EXPECT_EQ(error.location(), "");
    EXPECT_STREQ(error.what(), "value is not a valid integer");

    error = validation_error_for<std::string>(42);
    EXPECT_EQ(error.message(), "value is not a valid string");
    EXPECT_EQ(error.expected_type(), "str");
    EXPECT_EQ(error.received_type(), "int");

    error = validation_error_for<double>(std::string("1.5"));
    EXPECT_EQ(error.message(), "value is not a valid number");
    EXPECT_EQ(error.expected_type(), "float");

    error = validation_error_for<Bytes>(std::vector<int>{1});
    EXPECT_EQ(error.message(), "value is not a valid bytes");
    EXPECT_EQ(error.expected_type(), "bytes");
    EXPECT_EQ(error.received_type(), "list");

    error = validation_error_for<std::vector<int>>(std::map<std::string, int>{});
    EXPECT_EQ(error.message(), "value is not a valid list");
    EXPECT_EQ(error.expected_type(), "list[int]");
    EXPECT_EQ(error.received_type(), "dict");

    error = validation_error_for<std::map<std::string, int>>(std::vector<int>{});
    EXPECT_EQ(error.message(), "value is not a valid dict");
    EXPECT_EQ(error.expected_type(), "dict[str, int]");
}

TEST(Validation, BoolOnlyFromMsgpackBool) {
    auto error = validation_error_for<bool>(1);
    EXPECT_EQ(error.message(), "value is not a valid boolean");
    EXPECT_EQ(error.expected_type(), "bool");
    error = validation_error_for<bool>(std::string("true"));
    EXPECT_EQ(error.message(), "value is not a valid boolean");
    // ...and bools are not integers either.
    error = validation_error_for<int>(true);
    EXPECT_EQ(error.message(), "value is not a valid integer");
    EXPECT_EQ(error.received_type(), "bool");
}

TEST(Validation, IntegerOutOfRange) {
    auto error = validation_error_for<std::uint8_t>(300);
    EXPECT_EQ(error.message(), "integer out of range for uint8: got 300, allowed 0..255");
    EXPECT_EQ(error.expected_type(), "uint8");

    error = validation_error_for<std::uint32_t>(-1);
    EXPECT_EQ(error.message(), "integer out of range for uint32: got -1, allowed 0..4294967295");
    EXPECT_EQ(error.expected_type(), "uint32");

    error = validation_error_for<int>(std::int64_t{1} << 40);
    EXPECT_EQ(error.message(), "integer out of range for int: got 1099511627776, allowed -2147483648..2147483647");
    EXPECT_EQ(error.expected_type(), "int");

    error = validation_error_for<std::int8_t>(-129);
    EXPECT_EQ(error.message(), "integer out of range for int8: got -129, allowed -128..127");

    error = validation_error_for<std::int64_t>(std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(error.message(),
              "integer out of range for int64: got 18446744073709551615, allowed -9223372036854775808..9223372036854775807");

    error = validation_error_for<std::int16_t>(40000);
    EXPECT_EQ(error.expected_type(), "int16");
}

TEST(Validation, FloatForIntIsRejected) {
    auto error = validation_error_for<int>(2.0);
    EXPECT_EQ(error.message(), "value is not a valid integer");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "float");
    error = validation_error_for<std::uint64_t>(1.5f);
    EXPECT_EQ(error.received_type(), "float");
    EXPECT_EQ(error.expected_type(), "uint64");
}

TEST(Validation, FloatOutOfRangeForFloat32) {
    auto error = validation_error_for<float>(1e300);
    EXPECT_EQ(error.message(), "number out of range for float32: got 1e+300");
    EXPECT_EQ(error.expected_type(), "float32");
}

TEST(Validation, NilForRequiredValue) {
    const std::string nil = encode(std::optional<int>());
    auto error = validation_error<int>(nil);
    EXPECT_EQ(error.message(), "value is required, got nil");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "none");

    EXPECT_EQ(validation_error<std::string>(nil).message(), "value is required, got nil");
    EXPECT_EQ(validation_error<std::vector<int>>(nil).expected_type(), "list[int]");
    error = validation_error<shop::Holder>(nil);
    EXPECT_EQ(error.message(), "value is required, got nil");
    EXPECT_EQ(error.expected_type(), "Holder");
    EXPECT_EQ(decode<std::optional<shop::Holder>>(nil), std::nullopt);
}

TEST(Validation, BadElementReportsIndex) {
    const auto input = encode(std::make_tuple(1, 2, std::string("x"), 4));
    auto error = validation_error<std::vector<int>>(input);
    EXPECT_EQ(error.message(), "item 2: value is not a valid integer");
    EXPECT_EQ(error.reason(), "value is not a valid integer");
    EXPECT_EQ(error.location(), "item 2");
    EXPECT_EQ(error.expected_type(), "int");

    error = validation_error_for<std::vector<std::vector<int>>>(
        std::make_tuple(std::vector<int>{}, std::make_tuple(1, std::optional<int>())));
    EXPECT_EQ(error.message(), "item 1, item 1: value is required, got nil");
}

TEST(Validation, BadElementBeyondTheEagerAllocationBudget) {
    // 200 x 8 KiB elements exceed the up-front budget: the vector grows as
    // elements validate, and errors still carry the index.
    const std::string input = pack_with([](auto& pk) {
        pk.pack_array(200);
        for (int i = 0; i < 150; ++i) pk.pack_map(1), pk.pack("value"), pk.pack(i);
        pk.pack_map(1), pk.pack("value"), pk.pack(1.5);
        for (int i = 151; i < 200; ++i) pk.pack_map(1), pk.pack("value"), pk.pack(i);
    });
    auto error = validation_error<std::vector<shop::Big>>(input);
    EXPECT_EQ(error.message(), "item 150, field 'value': value is not a valid integer");

    // 100k small integers where 8 KiB structs are expected: rejected at item 0
    // without first allocating 100k structs (~800 MB).
    const std::string hostile = encode(std::vector<int>(100000, 1));
    error = validation_error<std::vector<shop::Big>>(hostile);
    EXPECT_EQ(error.message(), "item 0: value is not a valid Big");
}

TEST(Validation, MapKeysAndValues) {
    auto error = validation_error_for<std::map<std::string, int>>(std::map<std::string, std::string>{{"a", "1"}});
    EXPECT_EQ(error.message(), "key 'a': value is not a valid integer");
    EXPECT_EQ(error.expected_type(), "int");

    error = validation_error_for<std::unordered_map<int, int>>(std::map<std::string, int>{{"k", 1}});
    EXPECT_EQ(error.message(), "invalid key 'k': value is not a valid integer");

    error = validation_error_for<std::map<int, std::string>>(std::map<int, int>{{7, 1}});
    EXPECT_EQ(error.message(), "key 7: value is not a valid string");

    error = validation_error_for<std::map<std::string, int>>(std::map<std::string, double>{{"it's\n", 1.5}});
    EXPECT_EQ(error.message(), "key 'it\\'s\\x0a': value is not a valid integer");
}

TEST(Validation, TupleAndArrayLength) {
    auto error = validation_error_for<std::tuple<int, std::string>>(std::make_tuple(1, std::string("a"), 3));
    EXPECT_EQ(error.message(), "expected 2 items, got 3");
    EXPECT_EQ(error.expected_type(), "tuple[int, str]");

    error = validation_error_for<std::tuple<int, std::string>>(std::make_tuple(1, 2));
    EXPECT_EQ(error.message(), "item 1: value is not a valid string");

    error = validation_error_for<std::array<int, 3>>(std::vector<int>{1, 2});
    EXPECT_EQ(error.message(), "expected 3 items, got 2");
    EXPECT_EQ(error.expected_type(), "array[int, 3]");

    error = validation_error_for<std::pair<int, int>>(std::string("no"));
    EXPECT_EQ(error.message(), "value is not a valid tuple");
    EXPECT_EQ(error.expected_type(), "tuple[int, int]");
}

TEST(Validation, MissingStructFieldIsAnError) {
    auto error = validation_error_for<shop::Item>(std::map<std::string, int>{{"quantity", 1}});
    EXPECT_EQ(error.message(), "field 'sku': field required");
    EXPECT_EQ(error.expected_type(), "str");
    EXPECT_EQ(error.received_type(), "missing");

    error = validation_error_for<shop::Holder>(std::map<std::string, int>{});
    EXPECT_EQ(error.message(), "field 'value': field required");
    EXPECT_EQ(error.expected_type(), "int");
}

TEST(Validation, MissingOptionalFieldKeepsDefault) {
    // "note" is optional: absent is fine and leaves the member default.
    const auto item = decode<shop::Item>(pack_with([](auto& pk) {
        pk.pack_map(2);
        pk.pack("sku"), pk.pack("a");
        pk.pack("quantity"), pk.pack(3);
    }));
    EXPECT_EQ(item.sku, "a");
    EXPECT_EQ(item.quantity, 3);
    EXPECT_EQ(item.note, std::nullopt);

    // An absent optional keeps a non-empty member default; an explicit nil clears it.
    const auto kept = decode<shop::Defaults>(encode(std::map<std::string, std::string>{{"name", "n"}}));
    EXPECT_EQ(kept.retries, 3);
    const auto cleared = decode<shop::Defaults>(pack_with([](auto& pk) {
        pk.pack_map(2);
        pk.pack("name"), pk.pack("n");
        pk.pack("retries"), pk.pack_nil();
    }));
    EXPECT_EQ(cleared.retries, std::nullopt);
}

TEST(Validation, WrongStructFieldType) {
    auto error = validation_error_for<shop::Holder>(std::map<std::string, std::string>{{"value", "seven"}});
    EXPECT_EQ(error.message(), "field 'value': value is not a valid integer");
    EXPECT_EQ(error.location(), "field 'value'");
    EXPECT_EQ(error.expected_type(), "int");

    error = validation_error_for<shop::Holder>(std::vector<int>{1});
    EXPECT_EQ(error.message(), "value is not a valid Holder");
    EXPECT_EQ(error.expected_type(), "Holder");
    EXPECT_EQ(error.received_type(), "list");

    error = validation_error_for<shop::Holder>(std::map<int, int>{{1, 1}});
    EXPECT_EQ(error.message(), "invalid key 1: field names must be strings");
    EXPECT_EQ(error.expected_type(), "str");
}

TEST(Validation, UnknownFieldsAreIgnoredAndLastDuplicateWins) {
    const auto holder = decode<shop::Holder>(pack_with([](auto& pk) {
        pk.pack_map(3);
        pk.pack("value"), pk.pack(1);
        pk.pack("unknown"), pk.pack("whatever");
        pk.pack("value"), pk.pack(2);
    }));
    EXPECT_EQ(holder.value, 2);
}

std::string numbered_key(int i) {
    std::string key = "k";
    key += std::to_string(i);
    return key;
}

TEST(Validation, LargeStructMapsUseTheIndex) {
    const auto holder = decode<shop::Holder>(pack_with([](auto& pk) {
        pk.pack_map(41);
        for (int i = 0; i < 20; ++i) pk.pack(numbered_key(i)), pk.pack(i);
        pk.pack("value"), pk.pack(5);
        for (int i = 20; i < 40; ++i) pk.pack(numbered_key(i)), pk.pack(i);
    }));
    EXPECT_EQ(holder.value, 5);
    auto error = validation_error<shop::Holder>(pack_with([](auto& pk) {
        pk.pack_map(40);
        for (int i = 0; i < 40; ++i) pk.pack(numbered_key(i)), pk.pack(i);
    }));
    EXPECT_EQ(error.message(), "field 'value': field required");
}

TEST(Validation, NestedStructErrorsCarryTheFullPath) {
    // items[1].quantity is a string.
    const std::string input = pack_with([](auto& pk) {
        pk.pack_map(3);
        pk.pack("id"), pk.pack(1);
        pk.pack("items"), pk.pack_array(2);
        pk.pack_map(2), pk.pack("sku"), pk.pack("a"), pk.pack("quantity"), pk.pack(1);
        pk.pack_map(2), pk.pack("sku"), pk.pack("b"), pk.pack("quantity"), pk.pack("two");
        pk.pack("by_sku"), pk.pack_map(0);
    });
    auto error = validation_error<shop::Order>(input);
    EXPECT_EQ(error.message(), "field 'items', item 1, field 'quantity': value is not a valid integer");
    EXPECT_EQ(error.location(), "field 'items', item 1, field 'quantity'");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "str");

    // A struct inside a map value, missing a field.
    error = validation_error<shop::Order>(pack_with([](auto& pk) {
        pk.pack_map(3);
        pk.pack("id"), pk.pack(1);
        pk.pack("items"), pk.pack_array(0);
        pk.pack("by_sku"), pk.pack_map(1), pk.pack("x"), pk.pack_map(1), pk.pack("sku"), pk.pack("x");
    }));
    EXPECT_EQ(error.message(), "field 'by_sku', key 'x', field 'quantity': field required");

    // An enum field out of range for its underlying type.
    error = validation_error<shop::Order>(pack_with([](auto& pk) {
        pk.pack_map(4);
        pk.pack("id"), pk.pack(1);
        pk.pack("items"), pk.pack_array(0);
        pk.pack("by_sku"), pk.pack_map(0);
        pk.pack("tier"), pk.pack(256);
    }));
    EXPECT_EQ(error.message(), "field 'tier': integer out of range for Tier: got 256, allowed 0..255");
    EXPECT_EQ(error.expected_type(), "Tier");
}

TEST(Validation, ArrayStructsArePositional) {
    const auto ranged = decode<shop::Ranged>(encode(std::make_tuple(std::string("l"), 7)));
    EXPECT_EQ(ranged.label, "l");
    EXPECT_EQ(ranged.level, 7);
    EXPECT_EQ(ranged.extra, std::nullopt);

    auto error = validation_error_for<shop::Ranged>(std::make_tuple(std::string("l"), 700));
    EXPECT_EQ(error.message(), "item 1: integer out of range for uint8: got 700, allowed 0..255");
    error = validation_error_for<shop::Ranged>(std::make_tuple(std::string("l")));
    EXPECT_EQ(error.message(), "item 1: field required");
    EXPECT_EQ(error.expected_type(), "uint8");
    error = validation_error_for<shop::Ranged>(std::map<std::string, int>{});
    EXPECT_EQ(error.message(), "value is not a valid Ranged");
}

TEST(Validation, BaseClassFields) {
    shop::Derived derived;
    derived.base_field = 4;
    derived.own = "mine";
    const auto copy = decode<shop::Derived>(encode(derived));
    EXPECT_EQ(copy.base_field, 4);
    EXPECT_EQ(copy.own, "mine");

    auto error = validation_error<shop::Derived>(pack_with([](auto& pk) {
        pk.pack_map(2);
        pk.pack("Base"), pk.pack_map(1), pk.pack("base_field"), pk.pack("x");
        pk.pack("own"), pk.pack("o");
    }));
    EXPECT_EQ(error.message(), "field 'Base', field 'base_field': value is not a valid integer");
}

TEST(Validation, CustomAdaptorFallback) {
    EXPECT_EQ(decode<shop::Celsius>(encode(21.5)).degrees, 21.5);
    EXPECT_EQ(decode<std::vector<shop::Celsius>>(encode(std::vector<double>{1.0, 2.0}))[1].degrees, 2.0);
    auto error = validation_error_for<shop::Celsius>(std::string("hot"));
    EXPECT_EQ(error.message(), "value is not a valid Celsius");
    EXPECT_EQ(error.expected_type(), "Celsius");
    error = validation_error_for<std::vector<shop::Celsius>>(std::make_tuple(1.0, 2));
    EXPECT_EQ(error.message(), "item 1: value is not a valid Celsius");
    error = validation_error<shop::Celsius>(encode(std::optional<int>()));
    EXPECT_EQ(error.message(), "value is required, got nil");
}

TEST(Validation, ByteContainers) {
    auto error = validation_error_for<std::array<unsigned char, 4>>(Bytes("abc"));
    EXPECT_EQ(error.message(), "expected 4 items, got 3");
    EXPECT_EQ(error.expected_type(), "array[uint8, 4]");
    error = validation_error_for<std::vector<unsigned char>>(7);
    EXPECT_EQ(error.message(), "value is not a valid bytes");
    EXPECT_EQ(error.expected_type(), "bytes");
    // Byte vectors also accept an array of small integers, validated per item.
    EXPECT_EQ(decode<std::vector<unsigned char>>(encode(std::vector<int>{1, 2})), (std::vector<unsigned char>{1, 2}));
    error = validation_error_for<std::vector<unsigned char>>(std::vector<int>{1, 256});
    EXPECT_EQ(error.message(), "item 1: integer out of range for uint8: got 256, allowed 0..255");
}

TEST(Validation, PrependLocationForCallers) {
    auto error = validation_error_for<std::vector<int>>(std::make_tuple(std::string("x")));
    error.prepend_location("argument 'ids'");
    EXPECT_EQ(error.message(), "argument 'ids', item 0: value is not a valid integer");
    EXPECT_STREQ(error.what(), "argument 'ids', item 0: value is not a valid integer");
}

}  // namespace
