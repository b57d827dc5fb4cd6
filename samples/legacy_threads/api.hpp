#pragma once
// Shared by the legacy_threads server and the legacy program (the client).
#include <cstdint>

#include <greenrpc/greenrpc.hpp>

// multiply(a, b) -> a * b
inline const greenrpc::Command<std::int64_t(std::int64_t, std::int64_t)> multiply{"multiply", {"a", "b"}};
// How many multiply calls the server has answered since it started.
inline const greenrpc::Command<std::uint64_t()> calls_served{"calls_served"};
