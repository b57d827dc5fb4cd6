// Hostile inputs must not make decoding allocate far more than the input size.
// This binary replaces global operator new to record the largest request.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/encode.hpp"

// The replacements below pair malloc/free consistently; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<std::size_t> largest_allocation{0};

void record(std::size_t size) {
    std::size_t seen = largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !largest_allocation.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
    }
}
}  // namespace

void* operator new(std::size_t size) {
    record(size);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace hostile {
struct Big {
    std::array<char, 8192> padding{};
    int value = 0;
    MSGPACK_DEFINE_MAP(value);
};
}  // namespace hostile

namespace {

using greenrpc::codec::decode;
using greenrpc::codec::DecodeError;
using greenrpc::codec::encode;

/// Largest single operator-new request made while decoding `input` as T, and whether the decode
/// failed with DecodeError.
struct DecodeRun {
    std::size_t largest = 0;
    bool failed = false;
};
template <typename T>
DecodeRun largest_allocation_while_decoding(const std::string& input) {
    largest_allocation = 0;
    bool failed = false;
    try {
        (void)decode<T>(input);
    } catch (const DecodeError&) {
        failed = true;
    }
    return {largest_allocation.load(), failed};
}

TEST(AllocationBounds, ArrayOfIntsForLargeStructsFailsBeforeAllocatingThemAll) {
    const std::string input = encode(std::vector<int>(100000, 1));  // ~100 KB
    // Allocating all 100k elements up front would request ~800 MB.
    const DecodeRun run = largest_allocation_while_decoding<std::vector<hostile::Big>>(input);
    EXPECT_TRUE(run.failed) << "ints are not Big structs";
    EXPECT_LE(run.largest, std::size_t{2} << 20);
}

TEST(AllocationBounds, SmallElementsAreStillAllocatedOnce) {
    const std::string input = encode(std::vector<int>(100000, 1));
    const DecodeRun run = largest_allocation_while_decoding<std::vector<int>>(input);
    EXPECT_FALSE(run.failed);
    EXPECT_EQ(run.largest, 100000 * sizeof(int));  // one exact-size allocation, no geometric regrowth
}

TEST(AllocationBounds, HugeDeclaredStringIsNotAllocated) {
    std::string input = {static_cast<char>(0xdb), static_cast<char>(0x03), static_cast<char>(0xff),
                         static_cast<char>(0xff), static_cast<char>(0xff), 'x'};  // str32 of 64 MiB, 1 byte given
    const DecodeRun run = largest_allocation_while_decoding<std::string>(input);
    EXPECT_TRUE(run.failed) << "1 byte of a declared 64 MiB string";
    EXPECT_LE(run.largest, std::size_t{4096});
}

}  // namespace
