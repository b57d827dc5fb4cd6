// Malformed input and DecodeLimits: kind invalid_msgpack, message naming the problem.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"
#include "greenrpc/codec/object_handle_reader.hpp"
#include "greenrpc/codec/tree_memory.hpp"

namespace {

using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;
using greenrpc::codec::DecodeLimits;
using greenrpc::codec::encode;

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

template <typename T>
DecodeError invalid_msgpack_error(const std::string& input, const DecodeLimits& limits = {}) {
    try {
        (void)decode<T>(input, limits);
    } catch (const DecodeError& error) {
        EXPECT_EQ(error.kind(), DecodeError::Kind::invalid_msgpack) << error.message();
        return error;
    }
    ADD_FAILURE() << "decoding unexpectedly succeeded";
    return DecodeError(DecodeError::Kind::validation, "<none>", "<none>");
}

TEST(InvalidMsgpack, EmptyInput) {
    EXPECT_EQ(invalid_msgpack_error<int>("").message(), "invalid msgpack (empty input)");
}

TEST(InvalidMsgpack, Truncated) {
    EXPECT_EQ(invalid_msgpack_error<int>(bytes({0xcd, 0x01})).message(), "invalid msgpack (truncated input, 2 bytes)");
    EXPECT_TRUE(contains(invalid_msgpack_error<std::string>(bytes({0xa5, 'a', 'b'})).message(), "truncated"));
    EXPECT_TRUE(contains(invalid_msgpack_error<std::vector<int>>(bytes({0x93, 0x01, 0x02})).message(), "truncated"));
    std::string full = encode(std::map<std::string, std::vector<int>>{{"key", {1, 2, 3}}});
    for (std::size_t cut = 1; cut < full.size(); ++cut) {
        EXPECT_EQ((invalid_msgpack_error<std::map<std::string, std::vector<int>>>(full.substr(0, cut)).kind()),
                  DecodeError::Kind::invalid_msgpack)
            << "cut at " << cut;
    }
}

TEST(InvalidMsgpack, TrailingBytes) {
    const auto error = invalid_msgpack_error<int>(bytes({0x01, 0x02, 0x03}));
    EXPECT_EQ(error.message(), "invalid msgpack (2 unexpected bytes after the value (input must hold exactly one value))");
}

TEST(InvalidMsgpack, ReservedByte) {
    EXPECT_EQ(invalid_msgpack_error<int>(bytes({0xc1})).message(), "invalid msgpack (malformed data)");
    EXPECT_EQ(invalid_msgpack_error<std::vector<int>>(bytes({0x92, 0x01, 0xc1})).message(),
              "invalid msgpack (malformed data)");
}

TEST(Limits, HugeArrayHeaderFailsFastWithoutAllocating) {
    // array32 declaring 0xffffffff elements, followed by a single byte.
    const std::string input = bytes({0xdd, 0xff, 0xff, 0xff, 0xff});
    const auto started = std::chrono::steady_clock::now();
    const auto error = invalid_msgpack_error<std::vector<int>>(input);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
    EXPECT_EQ(error.message(), "array length 4294967295 exceeds limit max_array=1048576");
}

TEST(Limits, ArrayHeaderLargerThanInputIsTruncation) {
    // 1000 declared elements (under max_array) but only 3 bytes of input: rejected
    // before msgpack allocates a 1000-entry table.
    const auto error = invalid_msgpack_error<std::vector<int>>(bytes({0xdc, 0x03, 0xe8}));
    EXPECT_EQ(error.message(),
              "invalid msgpack (truncated input: array declares 1000 entries but the whole input is 3 bytes)");
}

TEST(Limits, HugeMapHeader) {
    const auto error = invalid_msgpack_error<std::map<std::string, int>>(bytes({0xdf, 0x7f, 0xff, 0xff, 0xff}));
    EXPECT_EQ(error.message(), "map length 2147483647 exceeds limit max_map=1048576");
}

TEST(Limits, HugeStringAndBinHeadersAreTruncation) {
    // The parser only looks at a STR/BIN payload once all of it is present, so a
    // 4 GiB header over 1 byte of payload is plain truncation: nothing is
    // allocated (payloads are referenced, never copied). max_str/max_bin bite
    // when the payload is really there (see CustomLimitsApply).
    EXPECT_EQ(invalid_msgpack_error<std::string>(bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 'x'})).message(),
              "invalid msgpack (truncated input, 6 bytes)");
    EXPECT_EQ(invalid_msgpack_error<greenrpc::Bytes>(bytes({0xc6, 0xff, 0xff, 0xff, 0xff, 'x'})).message(),
              "invalid msgpack (truncated input, 6 bytes)");
}

TEST(Limits, CustomLimitsApply) {
    DecodeLimits limits;
    limits.max_array = 2;
    limits.max_map = 1;
    limits.max_str = 3;
    limits.max_bin = 1;
    limits.max_ext = 2;
    EXPECT_EQ(decode<std::vector<int>>(encode(std::vector<int>{1, 2}), limits).size(), 2u);
    EXPECT_EQ(invalid_msgpack_error<std::vector<int>>(encode(std::vector<int>{1, 2, 3}), limits).message(),
              "array length 3 exceeds limit max_array=2");
    EXPECT_EQ((invalid_msgpack_error<std::map<int, int>>(encode(std::map<int, int>{{1, 1}, {2, 2}}), limits)).message(),
              "map length 2 exceeds limit max_map=1");
    EXPECT_EQ(decode<std::string>(encode(std::string("abc")), limits), "abc");
    EXPECT_EQ(invalid_msgpack_error<std::string>(encode(std::string("abcd")), limits).message(),
              "string length exceeds limit max_str=3");
    EXPECT_EQ(invalid_msgpack_error<greenrpc::Bytes>(encode(greenrpc::Bytes("ab")), limits).message(),
              "binary length exceeds limit max_bin=1");
    // fixext4 (type 1) carries 4 data bytes (+1 type byte).
    EXPECT_EQ(invalid_msgpack_error<int>(bytes({0xd6, 0x01, 0, 0, 0, 0}), limits).message(),
              "ext length exceeds limit max_ext=2");
}

std::string nested_arrays(int depth) {
    std::string input(static_cast<std::size_t>(depth), static_cast<char>(0x91));  // [[[...]]]
    input.push_back(static_cast<char>(0x90));
    return input;
}

TEST(Limits, ObjectTreesAreBoundedByMaxTreeBytes) {
    // 1,000 one-byte integers: a 1,003-byte input whose tree is 1,001 objects.
    const std::string input = encode(std::vector<int>(1000, 1));
    const std::size_t tree = 1001 * sizeof(msgpack::object);
    DecodeLimits limits;
    limits.max_tree_bytes = tree;
    EXPECT_EQ(decode<msgpack::object_handle>(input, limits).get().via.array.size, 1000u);
    limits.max_tree_bytes = tree - 1;
    const auto error = invalid_msgpack_error<msgpack::object_handle>(input, limits);
    EXPECT_EQ(error.message(), "object tree of " + std::to_string(tree) + " bytes exceeds limit max_tree_bytes=" +
                                   std::to_string(tree - 1));
    // Payloads copied into the handle's zone count too.
    const std::string text = encode(std::string(5000, 'x'));
    limits.max_tree_bytes = 5000;
    EXPECT_EQ(invalid_msgpack_error<msgpack::object_handle>(text, limits).kind(), DecodeError::Kind::invalid_msgpack);
    limits.max_tree_bytes = 5000 + sizeof(msgpack::object);
    EXPECT_EQ(decode<msgpack::object_handle>(text, limits).get().via.str.size, 5000u);
    // Typed decoding builds no tree: the bound does not apply to it.
    limits.max_tree_bytes = 0;
    EXPECT_EQ(decode<std::vector<int>>(input, limits).size(), 1000u);
}

// Records each tree's size and refuses any past `allowance` in total (a server's memory budget).
struct CountingTreeMemory final : greenrpc::codec::TreeMemory {
    std::vector<std::size_t> told;
    std::size_t held = 0;
    std::size_t allowance = SIZE_MAX;
    void reserve(std::size_t bytes) override {
        told.push_back(bytes);
        held += bytes;
        if (held > allowance) throw DecodeError::limit_exceeded("over the allowance");
    }
    std::size_t reserved() const noexcept override { return held; }
    void release_to(std::size_t mark) noexcept override { held = mark; }
};

TEST(Limits, TreeMemoryIsToldEachTreesSizeBeforeItIsBuiltAndMayRefuseIt) {
    CountingTreeMemory memory;
    DecodeLimits limits;
    limits.tree_memory = &memory;
    // Two msgpack values in one argument: two trees, each charged as max_tree_bytes counts it.
    using Pair = std::vector<msgpack::object_handle>;
    const std::string input = encode(std::make_tuple(std::vector<int>(100, 1), std::string(300, 'x')));
    const Pair pair = decode<Pair>(input, limits);
    ASSERT_EQ(pair.size(), 2u);
    EXPECT_EQ(memory.told, (std::vector<std::size_t>{101 * sizeof(msgpack::object), sizeof(msgpack::object) + 300}));
    // Refused: the decode fails with the refusal, and the typed decoding beside it is not charged.
    memory.told.clear();
    memory.held = 0;  // `pair` still holds its trees: start the count afresh
    memory.allowance = 101 * sizeof(msgpack::object);
    try {
        (void)decode<Pair>(input, limits);
        ADD_FAILURE() << "the second tree was built past the allowance";
    } catch (const DecodeError& e) {
        EXPECT_EQ(e.message(), "item 1: over the allowance");  // the second tree, where it was refused
    }
    EXPECT_EQ(memory.told.size(), 2u);
    memory.told.clear();
    memory.held = 0;
    EXPECT_EQ(decode<std::vector<int>>(encode(std::vector<int>(100, 1)), limits).size(), 100u);
    EXPECT_TRUE(memory.told.empty());
    // The handles outlive the decode: still held. A tree a value_reader reads and drops is given
    // back at once (msgpack-cxx's adaptor for std::multiset, read through its object tree).
    memory.allowance = SIZE_MAX;
    (void)decode<Pair>(input, limits);
    EXPECT_EQ(memory.held, 101 * sizeof(msgpack::object) + sizeof(msgpack::object) + 300);
    memory.held = 0;
    memory.told.clear();
    using Dropped = std::vector<std::multiset<int>>;
    EXPECT_EQ(decode<Dropped>(encode(Dropped{{1, 2}, {3}}), limits).size(), 2u);
    EXPECT_EQ(memory.told, (std::vector<std::size_t>{3 * sizeof(msgpack::object), 2 * sizeof(msgpack::object)}));
    EXPECT_EQ(memory.held, 0u);
}

TEST(Limits, DeepNestingIsRejected) {
    const auto error = invalid_msgpack_error<std::vector<int>>(nested_arrays(1000));
    EXPECT_EQ(error.message(), "nesting depth exceeds limit max_depth=64");

    DecodeLimits shallow;
    shallow.max_depth = 2;
    using Twice = std::vector<std::vector<int>>;
    EXPECT_EQ(decode<Twice>(encode(Twice{{1}}), shallow), Twice{{1}});
    EXPECT_TRUE(contains(invalid_msgpack_error<Twice>(nested_arrays(2), shallow).message(), "max_depth=2"));
}

TEST(Limits, DefaultDepthAllowsSixtyFourLevels) {
    // 63 wrapping arrays + the innermost empty one = 64 levels: accepted by the
    // parser (then rejected by validation, since the target type is shallower).
    try {
        (void)decode<std::vector<int>>(nested_arrays(63));
        FAIL() << "expected a validation error";
    } catch (const DecodeError& error) {
        EXPECT_EQ(error.kind(), DecodeError::Kind::validation);
    }
    EXPECT_EQ(invalid_msgpack_error<std::vector<int>>(nested_arrays(64)).kind(), DecodeError::Kind::invalid_msgpack);
}

}  // namespace
