#pragma once
// TreeMemory: where a decode reports a msgpack object tree before building it, so its owner can
// charge the tree to a memory budget (the server: ServerOptions::client_memory_budget) and refuse
// it before it exists.
#include <cstddef>

namespace greenrpc::codec {

class TreeMemory {
 public:
  /// Called once per tree, with its size as max_tree_bytes counts it, before any of it is
  /// allocated. Throws (a DecodeError of kind limit_exceeded) to refuse: the decode fails with it.
  virtual void reserve(std::size_t bytes) = 0;

 protected:
  ~TreeMemory() = default;
};

}  // namespace greenrpc::codec
