// Typed decoding of hostile inputs stays within 3x the input's size (plus a small constant) of
// heap memory at its peak. This binary interposes malloc & co. (so msgpack-cxx zones count too)
// and records the peak of live heap bytes while one decode runs.

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/decode.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};

void note_allocated(void* p) {
    if (p == nullptr) return;
    const std::size_t now = live_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed) + malloc_usable_size(p);
    std::size_t peak = peak_bytes.load(std::memory_order_relaxed);
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
}

void note_freed(void* p) {
    if (p != nullptr) live_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
}

}  // namespace

extern "C" {
void* malloc(std::size_t size) {
    void* p = __libc_malloc(size);
    note_allocated(p);
    return p;
}
void* calloc(std::size_t count, std::size_t size) {
    void* p = __libc_calloc(count, size);
    note_allocated(p);
    return p;
}
void* realloc(void* old, std::size_t size) {
    note_freed(old);
    void* p = __libc_realloc(old, size);
    if (p != nullptr) {
        note_allocated(p);
    } else if (old != nullptr && size != 0) {
        note_allocated(old);  // failed: the old block is still live
    }
    return p;
}
void free(void* p) {
    note_freed(p);
    __libc_free(p);
}
void* memalign(std::size_t alignment, std::size_t size) {
    void* p = __libc_memalign(alignment, size);
    note_allocated(p);
    return p;
}
void* aligned_alloc(std::size_t alignment, std::size_t size) { return memalign(alignment, size); }
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    void* p = memalign(alignment, size);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}
}

namespace hostile {

struct Report {
    std::string title;
    std::vector<int> values;
    MSGPACK_DEFINE_MAP(title, values);
};

struct Holder {
    int value = 0;
    MSGPACK_DEFINE_MAP(value);
};

/// Recursive through a vector: input nesting drives the recursion, max_depth bounds it.
struct Node {
    std::vector<Node> children;
    MSGPACK_DEFINE_ARRAY(children);
};

}  // namespace hostile

namespace {

using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;

constexpr std::size_t small_constant = 64 * 1024;

struct Outcome {
    std::size_t peak = 0;  ///< peak live heap bytes above the level before decoding
    std::optional<DecodeError::Kind> error;
};

template <typename T>
Outcome decode_measured(const std::string& input) {
    Outcome outcome;
    const std::size_t before = live_bytes.load();
    peak_bytes.store(before);
    try {
        [[maybe_unused]] const T value = decode<T>(input);
        outcome.peak = peak_bytes.load() - before;
    } catch (const DecodeError& error) {
        outcome.peak = peak_bytes.load() - before;
        outcome.error = error.kind();
    }
    return outcome;
}

template <typename T>
void expect_bounded(const std::string& input, std::optional<DecodeError::Kind> expected_error,
                    std::size_t result_allowance = 0) {
    const Outcome outcome = decode_measured<T>(input);
    EXPECT_EQ(outcome.error, expected_error);
    EXPECT_LE(outcome.peak, 3 * input.size() + small_constant + result_allowance)
        << "input " << input.size() << " bytes, decoded as " << greenrpc::codec::type_name<T>();
}

void put_be32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::string array32_header(std::uint32_t n) {
    std::string out(1, static_cast<char>(0xdd));
    put_be32(out, n);
    return out;
}

std::string map32_header(std::uint32_t n) {
    std::string out(1, static_cast<char>(0xdf));
    put_be32(out, n);
    return out;
}

/// Issue 8: 4 x array32 of 1,048,000 x [15 nils] (~64 MiB), legal msgpack.
std::string four_arrays_of_nil_rows() {
    std::string out(1, static_cast<char>(0x94));
    for (int a = 0; a < 4; ++a) {
        out += array32_header(1'048'000);
        for (int i = 0; i < 1'048'000; ++i) {
            out.push_back(static_cast<char>(0x9f));
            out.append(15, static_cast<char>(0xc0));
        }
    }
    return out;
}

/// Issue 8: 63 nested array32 headers of 1,048,575 entries each, then 1 MiB of zeros.
std::string nested_array32_headers() {
    std::string out;
    for (int i = 0; i < 63; ++i) out += array32_header(0x000fffff);
    out.append(std::size_t{1} << 20, '\0');
    return out;
}

std::string nested_fixarrays(int depth) {
    std::string out(static_cast<std::size_t>(depth), static_cast<char>(0x91));
    out.push_back(static_cast<char>(0x90));
    return out;
}

using Kind = DecodeError::Kind;

TEST(DecodeMemoryBound, SixtyFourMegabyteArgumentForAStruct) {
    const std::string input = four_arrays_of_nil_rows();
    expect_bounded<hostile::Report>(input, Kind::validation);
    expect_bounded<std::vector<std::vector<int>>>(input, Kind::validation);
    expect_bounded<std::vector<std::vector<std::vector<int>>>>(input, Kind::validation);
}

TEST(DecodeMemoryBound, NestedArray32HeadersOverOneMegabyte) {
    const std::string input = nested_array32_headers();
    expect_bounded<std::vector<std::vector<std::vector<int>>>>(input, Kind::invalid_msgpack);
    expect_bounded<std::vector<std::vector<std::string>>>(input, Kind::invalid_msgpack);
    expect_bounded<hostile::Node>(input, Kind::invalid_msgpack);
}

TEST(DecodeMemoryBound, DeepNestingUpToMaxDepth) {
    expect_bounded<hostile::Node>(nested_fixarrays(63), std::nullopt);  // 64 levels: the limit
    expect_bounded<hostile::Node>(nested_fixarrays(64), Kind::invalid_msgpack);
    expect_bounded<std::vector<std::vector<int>>>(nested_fixarrays(63), Kind::validation);
}

TEST(DecodeMemoryBound, HugeDeclaredLengths) {
    for (std::uint32_t declared : {0xffffffffu, 0x00100000u, 0x000fffffu, 1000u}) {
        std::string input = array32_header(declared) + std::string(100, '\x01');
        expect_bounded<std::vector<std::int64_t>>(input, Kind::invalid_msgpack);
        expect_bounded<std::vector<std::string>>(input, Kind::invalid_msgpack);
        input = map32_header(declared) + std::string(100, '\x01');
        expect_bounded<std::map<int, int>>(input, Kind::invalid_msgpack);
        expect_bounded<std::unordered_map<int, int>>(input, Kind::invalid_msgpack);
        expect_bounded<hostile::Holder>(input, Kind::invalid_msgpack);
    }
    std::string str32 = {static_cast<char>(0xdb), 0x03, static_cast<char>(0xff), static_cast<char>(0xff),
                         static_cast<char>(0xff), 'x'};
    expect_bounded<std::string>(str32, Kind::invalid_msgpack);
    str32[0] = static_cast<char>(0xc6);  // bin32
    expect_bounded<greenrpc::Bytes>(str32, Kind::invalid_msgpack);
    // A declared length that the bytes left cannot hold, though the whole input could.
    std::string late = array32_header(2) + array32_header(60'000) + std::string(60'000, '\x01');
    expect_bounded<std::vector<std::vector<std::int64_t>>>(late, Kind::invalid_msgpack);
}

TEST(DecodeMemoryBound, ManyTinyKeys) {
    const std::uint32_t pairs = 300'000;
    std::string input = map32_header(pairs);
    for (std::uint32_t i = 0; i < pairs; ++i) {
        input.push_back(static_cast<char>(0xa1));  // fixstr of 1
        input.push_back(static_cast<char>('a' + i % 26));
        input.push_back(static_cast<char>(i % 100));
    }
    expect_bounded<std::map<std::string, int>>(input, std::nullopt);
    expect_bounded<std::unordered_map<std::string, int>>(input, std::nullopt);
    expect_bounded<hostile::Holder>(input, Kind::validation);  // "value" missing
}

TEST(DecodeMemoryBound, ManyIntegersForLargeElements) {
    std::string input = array32_header(1'000'000) + std::string(1'000'000, '\x01');
    expect_bounded<std::vector<std::vector<int>>>(input, Kind::validation);
    expect_bounded<std::vector<std::string>>(input, Kind::validation);
    expect_bounded<std::vector<hostile::Report>>(input, Kind::validation);
}

TEST(DecodeMemoryBound, VectorsOfEmptyVectors) {
    // Valid input: the result itself is 24 bytes per 1-byte element, and growing it by doubling
    // (past the eager budget) holds the old buffer while moving into the new one, so up to twice
    // the result is allowed on top of the 3x bound.
    const std::uint32_t count = 1'000'000;
    const std::string input = array32_header(count) + std::string(count, static_cast<char>(0x90));
    expect_bounded<std::vector<std::vector<int>>>(input, std::nullopt, 2 * count * sizeof(std::vector<int>));
    // ...and the interposed allocator does see the result being allocated.
    EXPECT_GE(decode_measured<std::vector<std::vector<int>>>(input).peak, count * sizeof(std::vector<int>));
    // The same with a bad last element: rejected, and nothing beyond the partial result.
    std::string bad = input;
    bad.back() = '\x01';
    expect_bounded<std::vector<std::vector<int>>>(bad, Kind::validation, 2 * count * sizeof(std::vector<int>));
}

}  // namespace
