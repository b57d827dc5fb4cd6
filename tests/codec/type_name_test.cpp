// type_name<T>(): short names used in expected_type().

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/type_name.hpp"

namespace outer::inner {
struct Widget {
    int id = 0;
    MSGPACK_DEFINE_MAP(id);
};
template <typename T>
struct Box {
    T item{};
};
enum class Mode { on, off };
}  // namespace outer::inner

namespace {
struct Local {};
}  // namespace

struct Named {};
template <>
struct greenrpc::codec::type_name_of<Named> {
    static std::string make() { return "CustomName"; }
};

namespace {

using greenrpc::codec::type_name;

TEST(TypeName, Scalars) {
    EXPECT_EQ(type_name<int>(), "int");
    EXPECT_EQ(type_name<std::int8_t>(), "int8");
    EXPECT_EQ(type_name<std::int16_t>(), "int16");
    EXPECT_EQ(type_name<std::int32_t>(), "int");
    EXPECT_EQ(type_name<std::int64_t>(), "int64");
    EXPECT_EQ(type_name<long long>(), "int64");
    EXPECT_EQ(type_name<std::uint8_t>(), "uint8");
    EXPECT_EQ(type_name<std::uint16_t>(), "uint16");
    EXPECT_EQ(type_name<std::uint32_t>(), "uint32");
    EXPECT_EQ(type_name<std::uint64_t>(), "uint64");
    EXPECT_EQ(type_name<bool>(), "bool");
    EXPECT_EQ(type_name<double>(), "float");
    EXPECT_EQ(type_name<float>(), "float32");
    EXPECT_EQ(type_name<std::string>(), "str");
    EXPECT_EQ(type_name<greenrpc::Bytes>(), "bytes");
    EXPECT_EQ(type_name<const int&>(), "int");
}

TEST(TypeName, Containers) {
    EXPECT_EQ(type_name<std::vector<int>>(), "list[int]");
    EXPECT_EQ(type_name<std::deque<std::string>>(), "list[str]");
    EXPECT_EQ(type_name<std::vector<unsigned char>>(), "bytes");
    EXPECT_EQ((type_name<std::map<std::string, int>>()), "dict[str, int]");
    EXPECT_EQ((type_name<std::unordered_map<std::int64_t, std::vector<double>>>()), "dict[int64, list[float]]");
    EXPECT_EQ(type_name<std::optional<int>>(), "optional[int]");
    EXPECT_EQ((type_name<std::tuple<int, std::string>>()), "tuple[int, str]");
    EXPECT_EQ((type_name<std::pair<bool, greenrpc::Bytes>>()), "tuple[bool, bytes]");
    EXPECT_EQ(type_name<std::tuple<>>(), "tuple[]");
    EXPECT_EQ((type_name<std::array<int, 4>>()), "array[int, 4]");
    EXPECT_EQ(type_name<std::set<std::string>>(), "set[str]");
    EXPECT_EQ((type_name<std::vector<std::map<std::string, std::optional<outer::inner::Widget>>>>()),
              "list[dict[str, optional[Widget]]]");
}

TEST(TypeName, UserTypesAreDemangledAndUnqualified) {
    EXPECT_EQ(type_name<outer::inner::Widget>(), "Widget");
    EXPECT_EQ(type_name<outer::inner::Mode>(), "Mode");
    EXPECT_EQ(type_name<outer::inner::Box<outer::inner::Widget>>(), "Box<outer::inner::Widget>");
    EXPECT_EQ(type_name<Local>(), "Local");
    EXPECT_EQ(type_name<Named>(), "CustomName");
}

TEST(TypeName, ReceivedTypeNames) {
    using greenrpc::codec::received_type_name;
    EXPECT_EQ(received_type_name(msgpack::object()), "none");
    EXPECT_EQ(received_type_name(msgpack::object(true)), "bool");
    EXPECT_EQ(received_type_name(msgpack::object(-3)), "int");
    EXPECT_EQ(received_type_name(msgpack::object(3u)), "int");
    EXPECT_EQ(received_type_name(msgpack::object(1.5)), "float");
    EXPECT_EQ(received_type_name(msgpack::object(std::string_view("s"))), "str");
}

}  // namespace
