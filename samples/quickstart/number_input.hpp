#pragma once
// Shared by the quickstart server and client: the model and the command declaration.
#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>

// Tino's pydantic model, as a msgpack map {"value": <int>}.
struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

// add(a, b) -> a + b.value, declared once for both sides.
inline const greenrpc::Command<int(int, NumberInput)> add{"add", {"a", "b"}};
