#pragma once
// What a std::string costs the client memory budget: its heap allocation, 0 while its bytes fit
// the object itself (an empty or short string allocates nothing).
#include <cstddef>
#include <string>

namespace greenrpc {

inline std::size_t heap_bytes(const std::string& s) noexcept {
  static const std::size_t inline_capacity = std::string().capacity();
  return s.capacity() > inline_capacity ? s.capacity() : 0;
}

}  // namespace greenrpc
