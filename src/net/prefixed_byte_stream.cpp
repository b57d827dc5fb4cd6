#include "greenrpc/net/prefixed_byte_stream.hpp"

#include <algorithm>
#include <cstring>

namespace greenrpc {

std::size_t PrefixedByteStream::read_some(std::span<char> buf, Deadline deadline) {
  if (consumed_ == prefix_.size()) return stream_->read_some(buf, deadline);
  std::size_t n = std::min(buf.size(), prefix_.size() - consumed_);
  std::memcpy(buf.data(), prefix_.data() + consumed_, n);
  consumed_ += n;
  if (consumed_ == prefix_.size()) {
    prefix_ = std::string();  // released: the rest comes from the stream
    consumed_ = 0;
  }
  return n;
}

}  // namespace greenrpc
