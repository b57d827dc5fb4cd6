// Validation errors: kind, message (with location) and expected_type.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
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
    return DecodeError(DecodeError::Kind::validation, "<none>", "<none>");
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

/// pydantic 1's msg and type, and the location for people.
void expect_failure(const DecodeError& error, std::string_view msg, std::string_view type,
                    std::string_view location = "") {
    EXPECT_EQ(error.msg(), msg) << error.message();
    EXPECT_EQ(error.type(), type) << error.message();
    EXPECT_EQ(error.location(), location) << error.message();
}

TEST(Validation, WrongScalarType) {
    auto error = validation_error_for<int>(std::string("hello"));
    expect_failure(error, "value is not a valid integer", "type_error.integer");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "str");
    EXPECT_TRUE(error.path().empty());
    // For people: pydantic's words, then what they leave out.
    EXPECT_EQ(error.message(), "value is not a valid integer (int, got str)");
    EXPECT_STREQ(error.what(), error.message().c_str());

    error = validation_error_for<std::string>(42);
    expect_failure(error, "str type expected", "type_error.str");
    EXPECT_EQ(error.expected_type(), "str");
    EXPECT_EQ(error.received_type(), "int");

    error = validation_error_for<double>(std::string("1.5"));
    expect_failure(error, "value is not a valid float", "type_error.float");
    EXPECT_EQ(error.expected_type(), "float");

    error = validation_error_for<Bytes>(std::vector<int>{1});
    expect_failure(error, "byte type expected", "type_error.bytes");
    EXPECT_EQ(error.received_type(), "list");

    error = validation_error_for<std::vector<int>>(std::map<std::string, int>{});
    expect_failure(error, "value is not a valid list", "type_error.list");
    EXPECT_EQ(error.expected_type(), "list[int]");
    EXPECT_EQ(error.received_type(), "dict");

    error = validation_error_for<std::set<int>>(7);
    expect_failure(error, "value is not a valid set", "type_error.set");

    error = validation_error_for<std::map<std::string, int>>(std::vector<int>{});
    expect_failure(error, "value is not a valid dict", "type_error.dict");
    EXPECT_EQ(error.expected_type(), "dict[str, int]");
}

TEST(Validation, BoolOnlyFromMsgpackBool) {
    auto error = validation_error_for<bool>(1);
    expect_failure(error, "value could not be parsed to a boolean", "type_error.bool");
    EXPECT_EQ(error.expected_type(), "bool");
    error = validation_error_for<bool>(std::string("true"));
    expect_failure(error, "value could not be parsed to a boolean", "type_error.bool");
    // ...and bools are not integers either.
    error = validation_error_for<int>(true);
    expect_failure(error, "value is not a valid integer", "type_error.integer");
    EXPECT_EQ(error.received_type(), "bool");
}

TEST(Validation, IntegerOutOfRangeIsPydanticsConstrainedInt) {
    auto error = validation_error_for<std::uint8_t>(300);
    expect_failure(error, "ensure this value is less than or equal to 255", "value_error.number.not_le");
    EXPECT_EQ(error.detail(), "uint8, got 300");

    error = validation_error_for<std::uint32_t>(-1);
    expect_failure(error, "ensure this value is greater than or equal to 0", "value_error.number.not_ge");
    EXPECT_EQ(error.expected_type(), "uint32");

    error = validation_error_for<int>(std::int64_t{1} << 40);
    expect_failure(error, "ensure this value is less than or equal to 2147483647", "value_error.number.not_le");

    error = validation_error_for<std::int8_t>(-129);
    expect_failure(error, "ensure this value is greater than or equal to -128", "value_error.number.not_ge");

    error = validation_error_for<std::int64_t>(std::numeric_limits<std::uint64_t>::max());
    expect_failure(error, "ensure this value is less than or equal to 9223372036854775807", "value_error.number.not_le");
    EXPECT_EQ(error.detail(), "int64, got 18446744073709551615");
}

TEST(Validation, FloatForIntIsRejected) {
    auto error = validation_error_for<int>(2.0);
    expect_failure(error, "value is not a valid integer", "type_error.integer");
    EXPECT_EQ(error.received_type(), "float");
    error = validation_error_for<std::uint64_t>(1.5f);
    EXPECT_EQ(error.received_type(), "float");
    EXPECT_EQ(error.expected_type(), "uint64");
}

TEST(Validation, FloatOutOfRangeForFloat32) {
    auto error = validation_error_for<float>(1e300);
    // The limit as Python writes the float (pydantic's confloat(le=...)).
    expect_failure(error, "ensure this value is less than or equal to 3.4028234663852886e+38", "value_error.number.not_le");
    EXPECT_EQ(error.detail(), "float32, got 1e+300");
    error = validation_error_for<float>(-1e300);
    expect_failure(error, "ensure this value is greater than or equal to -3.4028234663852886e+38",
                   "value_error.number.not_ge");
}

TEST(Validation, NilForRequiredValue) {
    const std::string nil = encode(std::optional<int>());
    auto error = validation_error<int>(nil);
    expect_failure(error, "none is not an allowed value", "type_error.none.not_allowed");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "none");

    expect_failure(validation_error<std::string>(nil), "none is not an allowed value", "type_error.none.not_allowed");
    EXPECT_EQ(validation_error<std::vector<int>>(nil).expected_type(), "list[int]");
    error = validation_error<shop::Holder>(nil);
    expect_failure(error, "none is not an allowed value", "type_error.none.not_allowed");
    EXPECT_EQ(error.expected_type(), "Holder");
    EXPECT_EQ(decode<std::optional<shop::Holder>>(nil), std::nullopt);
}

TEST(Validation, BadElementReportsIndex) {
    const auto input = encode(std::make_tuple(1, 2, std::string("x"), 4));
    auto error = validation_error<std::vector<int>>(input);
    expect_failure(error, "value is not a valid integer", "type_error.integer", "item 2");
    ASSERT_EQ(error.path().size(), 1u);
    EXPECT_EQ(error.path()[0].kind, greenrpc::codec::PathSegment::Kind::item);
    EXPECT_EQ(error.path()[0].number, 2);
    EXPECT_EQ(error.message(), "item 2: value is not a valid integer (int, got str)");

    error = validation_error_for<std::vector<std::vector<int>>>(
        std::make_tuple(std::vector<int>{}, std::make_tuple(1, std::optional<int>())));
    expect_failure(error, "none is not an allowed value", "type_error.none.not_allowed", "item 1, item 1");
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
    expect_failure(error, "value is not a valid integer", "type_error.integer", "item 150, field 'value'");

    // 100k small integers where 8 KiB structs are expected: rejected at item 0
    // without first allocating 100k structs (~800 MB).
    const std::string hostile = encode(std::vector<int>(100000, 1));
    error = validation_error<std::vector<shop::Big>>(hostile);
    expect_failure(error, "value is not a valid dict", "type_error.dict", "item 0");
}

TEST(Validation, MapKeysAndValues) {
    auto error = validation_error_for<std::map<std::string, int>>(std::map<std::string, std::string>{{"a", "1"}});
    expect_failure(error, "value is not a valid integer", "type_error.integer", "key 'a'");
    EXPECT_EQ(error.path()[0].text, "a");

    error = validation_error_for<std::unordered_map<int, int>>(std::map<std::string, int>{{"k", 1}});
    expect_failure(error, "value is not a valid integer", "type_error.integer", "invalid key 'k'");
    EXPECT_EQ(error.path()[0].kind, greenrpc::codec::PathSegment::Kind::invalid_key);

    error = validation_error_for<std::map<int, std::string>>(std::map<int, int>{{7, 1}});
    expect_failure(error, "str type expected", "type_error.str", "key 7");
    EXPECT_TRUE(error.path()[0].numeric);
    EXPECT_EQ(error.path()[0].number, 7);

    error = validation_error_for<std::map<std::string, int>>(std::map<std::string, double>{{"it's\n", 1.5}});
    EXPECT_EQ(error.location(), "key 'it\\'s\\x0a'");
    EXPECT_EQ(error.path()[0].text, "it's\n");

    // A location carries at most 128 bytes of a key.
    error = validation_error_for<std::map<std::string, int>>(std::map<std::string, std::string>{{std::string(1000, 'k'), "x"}});
    EXPECT_EQ(error.path()[0].text, std::string(128, 'k'));
}

TEST(Validation, TupleAndArrayLength) {
    auto error = validation_error_for<std::tuple<int, std::string>>(std::make_tuple(1, std::string("a"), 3));
    expect_failure(error, "wrong tuple length 3, expected 2", "value_error.tuple.length");
    EXPECT_EQ(error.expected_type(), "tuple[int, str]");

    error = validation_error_for<std::tuple<int, std::string>>(std::make_tuple(1, 2));
    expect_failure(error, "str type expected", "type_error.str", "item 1");

    // std::array<T, N> is pydantic's conlist(T, min_items=N, max_items=N).
    error = validation_error_for<std::array<int, 3>>(std::vector<int>{1, 2});
    expect_failure(error, "ensure this value has at least 3 items", "value_error.list.min_items");
    EXPECT_EQ(error.expected_type(), "array[int, 3]");
    error = validation_error_for<std::array<int, 3>>(std::vector<int>{1, 2, 3, 4});
    expect_failure(error, "ensure this value has at most 3 items", "value_error.list.max_items");

    error = validation_error_for<std::pair<int, int>>(std::string("no"));
    expect_failure(error, "value is not a valid tuple", "type_error.tuple");
    EXPECT_EQ(error.expected_type(), "tuple[int, int]");
}

TEST(Validation, MissingStructFieldIsAnError) {
    auto error = validation_error_for<shop::Item>(std::map<std::string, int>{{"quantity", 1}});
    expect_failure(error, "field required", "value_error.missing", "field 'sku'");
    EXPECT_EQ(error.expected_type(), "str");
    EXPECT_EQ(error.received_type(), "missing");

    error = validation_error_for<shop::Holder>(std::map<std::string, int>{});
    expect_failure(error, "field required", "value_error.missing", "field 'value'");
    EXPECT_EQ(error.expected_type(), "int");
}

TEST(Validation, FirstFailureInDeclarationOrderAsPydantic) {
    // Item declares sku, quantity, note. The wire brings quantity (bad) first, and no sku:
    // pydantic reports the first declared field that fails, sku.
    auto error = validation_error<shop::Item>(pack_with([](auto& pk) {
        pk.pack_map(1);
        pk.pack("quantity"), pk.pack("many");
    }));
    expect_failure(error, "field required", "value_error.missing", "field 'sku'");

    // Both present and both bad, in reverse order on the wire: sku's failure.
    error = validation_error<shop::Item>(pack_with([](auto& pk) {
        pk.pack_map(2);
        pk.pack("quantity"), pk.pack("many");
        pk.pack("sku"), pk.pack(5);
    }));
    expect_failure(error, "str type expected", "type_error.str", "field 'sku'");

    // Nested: order.items comes before order.by_sku in the declaration, not on the wire.
    error = validation_error<shop::Order>(pack_with([](auto& pk) {
        pk.pack_map(3);
        pk.pack("by_sku"), pk.pack(1);
        pk.pack("id"), pk.pack(1);
        pk.pack("items"), pk.pack_array(1), pk.pack_map(1), pk.pack("quantity"), pk.pack(1);
    }));
    expect_failure(error, "field required", "value_error.missing", "field 'items', item 0, field 'sku'");
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
    expect_failure(error, "value is not a valid integer", "type_error.integer", "field 'value'");
    EXPECT_EQ(error.path()[0].kind, greenrpc::codec::PathSegment::Kind::field);
    EXPECT_EQ(error.path()[0].text, "value");

    // A model from anything but a map: pydantic's "value is not a valid dict".
    error = validation_error_for<shop::Holder>(std::vector<int>{1});
    expect_failure(error, "value is not a valid dict", "type_error.dict");
    EXPECT_EQ(error.expected_type(), "Holder");
    EXPECT_EQ(error.received_type(), "list");

    error = validation_error_for<shop::Holder>(std::map<int, int>{{1, 1}});
    expect_failure(error, "str type expected", "type_error.str", "invalid key 1");
}

TEST(Validation, UnknownFieldsAreIgnoredAndLastDuplicateWins) {
    const auto holder = decode<shop::Holder>(pack_with([](auto& pk) {
        pk.pack_map(3);
        pk.pack("value"), pk.pack(1);
        pk.pack("unknown"), pk.pack("whatever");
        pk.pack("value"), pk.pack(2);
    }));
    EXPECT_EQ(holder.value, 2);
    // An earlier, invalid value of a repeated key is never seen (as in a Python dict): accepted.
    const auto repeated = decode<shop::Holder>(pack_with([](auto& pk) {
        pk.pack_map(2);
        pk.pack("value"), pk.pack("not a number");
        pk.pack("value"), pk.pack(3);
    }));
    EXPECT_EQ(repeated.value, 3);
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
    expect_failure(error, "field required", "value_error.missing", "field 'value'");
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
    expect_failure(error, "value is not a valid integer", "type_error.integer", "field 'items', item 1, field 'quantity'");
    EXPECT_EQ(error.message(), "field 'items', item 1, field 'quantity': value is not a valid integer (int, got str)");
    EXPECT_EQ(error.expected_type(), "int");
    EXPECT_EQ(error.received_type(), "str");
    ASSERT_EQ(error.path().size(), 3u);
    EXPECT_EQ(error.path()[1].number, 1);

    // A struct inside a map value, missing a field.
    error = validation_error<shop::Order>(pack_with([](auto& pk) {
        pk.pack_map(3);
        pk.pack("id"), pk.pack(1);
        pk.pack("items"), pk.pack_array(0);
        pk.pack("by_sku"), pk.pack_map(1), pk.pack("x"), pk.pack_map(1), pk.pack("sku"), pk.pack("x");
    }));
    expect_failure(error, "field required", "value_error.missing", "field 'by_sku', key 'x', field 'quantity'");

    // An enum field out of range for its underlying type: C++ has no list of members to offer.
    error = validation_error<shop::Order>(pack_with([](auto& pk) {
        pk.pack_map(4);
        pk.pack("id"), pk.pack(1);
        pk.pack("items"), pk.pack_array(0);
        pk.pack("by_sku"), pk.pack_map(0);
        pk.pack("tier"), pk.pack(256);
    }));
    expect_failure(error, "value is not a valid enumeration member", "type_error.enum", "field 'tier'");
    EXPECT_EQ(error.expected_type(), "Tier");
}

TEST(Validation, ArrayStructsArePositional) {
    const auto ranged = decode<shop::Ranged>(encode(std::make_tuple(std::string("l"), 7)));
    EXPECT_EQ(ranged.label, "l");
    EXPECT_EQ(ranged.level, 7);
    EXPECT_EQ(ranged.extra, std::nullopt);

    auto error = validation_error_for<shop::Ranged>(std::make_tuple(std::string("l"), 700));
    expect_failure(error, "ensure this value is less than or equal to 255", "value_error.number.not_le", "item 1");
    error = validation_error_for<shop::Ranged>(std::make_tuple(std::string("l")));
    expect_failure(error, "field required", "value_error.missing", "item 1");
    EXPECT_EQ(error.expected_type(), "uint8");
    error = validation_error_for<shop::Ranged>(std::map<std::string, int>{});
    expect_failure(error, "value is not a valid list", "type_error.list");
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
    expect_failure(error, "value is not a valid integer", "type_error.integer", "field 'Base', field 'base_field'");
}

TEST(Validation, CustomAdaptorFallback) {
    EXPECT_EQ(decode<shop::Celsius>(encode(21.5)).degrees, 21.5);
    EXPECT_EQ(decode<std::vector<shop::Celsius>>(encode(std::vector<double>{1.0, 2.0}))[1].degrees, 2.0);
    // pydantic's words for a type it holds as arbitrary.
    auto error = validation_error_for<shop::Celsius>(std::string("hot"));
    expect_failure(error, "instance of Celsius expected", "type_error.arbitrary_type");
    EXPECT_EQ(error.expected_type(), "Celsius");
    error = validation_error_for<std::vector<shop::Celsius>>(std::make_tuple(1.0, 2));
    expect_failure(error, "instance of Celsius expected", "type_error.arbitrary_type", "item 1");
    error = validation_error<shop::Celsius>(encode(std::optional<int>()));
    expect_failure(error, "none is not an allowed value", "type_error.none.not_allowed");
}

TEST(Validation, ByteContainers) {
    auto error = validation_error_for<std::array<unsigned char, 4>>(Bytes("abc"));
    expect_failure(error, "ensure this value has at least 4 items", "value_error.list.min_items");
    EXPECT_EQ(error.expected_type(), "array[uint8, 4]");
    error = validation_error_for<std::vector<unsigned char>>(7);
    expect_failure(error, "byte type expected", "type_error.bytes");
    EXPECT_EQ(error.expected_type(), "bytes");
    // Byte vectors also accept an array of small integers, validated per item.
    EXPECT_EQ(decode<std::vector<unsigned char>>(encode(std::vector<int>{1, 2})), (std::vector<unsigned char>{1, 2}));
    error = validation_error_for<std::vector<unsigned char>>(std::vector<int>{1, 256});
    expect_failure(error, "ensure this value is less than or equal to 255", "value_error.number.not_le", "item 1");
}

TEST(Validation, PrependLocationForCallers) {
    auto error = validation_error_for<std::vector<int>>(std::make_tuple(std::string("x")));
    error.prepend_location(greenrpc::codec::field_location("ids"));
    EXPECT_EQ(error.location(), "field 'ids', item 0");
    EXPECT_EQ(error.message(), "field 'ids', item 0: value is not a valid integer (int, got str)");
    EXPECT_STREQ(error.what(), error.message().c_str());
}

}  // namespace
