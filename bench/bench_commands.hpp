#pragma once
// Shared by bench/echo_server.cpp and bench/load_generator.cpp: the model and the two commands.
#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>
#include <string>

namespace bench {

// Tino's pydantic model, as a msgpack map {"value": <int>}.
struct NumberInput {
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

// add(a, b) -> a + b.value
inline const greenrpc::Command<int(int, NumberInput)> add{"add", {"a", "b"}};
// echo(s) -> s. Shadows the built-in (Redis-style) ECHO, which returns the raw bulk string.
inline const greenrpc::Command<std::string(std::string)> echo{"echo", {"s"}};

// Tino's benchmark payload: "😊 😊 😊" (three emoji, single spaces) repeated 100 times.
// U+1F60A is 4 bytes of UTF-8, so one unit is 4+1+4+1+4 = 14 bytes and the payload 1,400 bytes.
inline std::string tino_payload() {
  const std::string unit = "\xF0\x9F\x98\x8A \xF0\x9F\x98\x8A \xF0\x9F\x98\x8A";
  std::string s;
  s.reserve(unit.size() * 100);
  for (int i = 0; i < 100; ++i) s += unit;
  return s;
}

}  // namespace bench
