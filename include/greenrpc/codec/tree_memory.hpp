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
  /// Bytes reserved and not given back: a mark for release_to().
  virtual std::size_t reserved() const noexcept = 0;
  /// The trees reserved since `mark` are gone: their bytes are given back.
  virtual void release_to(std::size_t mark) noexcept = 0;

 protected:
  ~TreeMemory() = default;
};

/// Gives back, when it ends, what `memory` reserved during its life: around trees that a decode
/// builds and drops (a value_reader's input) rather than hands to the caller.
class TemporaryTrees {
 public:
  explicit TemporaryTrees(TreeMemory* memory) noexcept : memory_(memory), mark_(memory ? memory->reserved() : 0) {}
  ~TemporaryTrees() {
    if (memory_) memory_->release_to(mark_);
  }
  TemporaryTrees(const TemporaryTrees&) = delete;
  TemporaryTrees& operator=(const TemporaryTrees&) = delete;

 private:
  TreeMemory* memory_;
  std::size_t mark_;
};

}  // namespace greenrpc::codec
