#include "greenrpc/protocol/msgpack_framer.hpp"

#include <cstdio>
#include <string>

#include "greenrpc/codec/detail/msgpack_header.hpp"

namespace greenrpc::protocol {

namespace {

std::string limit_exceeded(std::string_view what, std::size_t declared, std::string_view limit_name, std::size_t limit) {
  std::string m = "Protocol error: ";
  m.append(what).append(" of ").append(std::to_string(declared)).append(" exceeds limit ");
  m.append(limit_name).append("=").append(std::to_string(limit));
  return m;
}

}  // namespace

void MsgpackFramer::reset() noexcept {
  pos_ = 0;
  done_ = false;
  open_.clear();
  open_elements_ = 0;
}

ParseResult MsgpackFramer::fail(std::string message) {
  ParseResult r{ParseStatus::error};
  r.error = std::move(message);
  return r;
}

ParseResult MsgpackFramer::next(std::string_view input) {
  using codec::detail::HeaderStatus;
  using codec::detail::MsgpackHeader;
  namespace mp = msgpack::type;
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  for (;;) {
    if (done_) {
      if (pos_ > input.size()) return {ParseStatus::incomplete, 0, pos_};  // the last payload is due
      const std::size_t size = pos_;
      reset();
      return {ParseStatus::complete, size};
    }
    if (pos_ >= input.size()) return {ParseStatus::incomplete, 0, pos_ + 1};
    const char* p = begin + pos_;
    MsgpackHeader header;
    switch (codec::detail::read_header(p, end, header)) {
      case HeaderStatus::ok: break;
      case HeaderStatus::truncated: return {ParseStatus::incomplete, 0, input.size() + 1};
      case HeaderStatus::malformed: {
        char m[96];
        std::snprintf(m, sizeof m, "Protocol error: invalid msgpack: byte 0xc1 at offset %zu", pos_);
        return fail(m);
      }
    }
    const std::size_t header_end = static_cast<std::size_t>(p - begin);
    const std::size_t room = limits_.max_frame_bytes > header_end ? limits_.max_frame_bytes - header_end : 0;
    const msgpack::object& value = header.value;
    bool opened = false;
    if (value.type == mp::ARRAY || value.type == mp::MAP) {
      const bool is_map = value.type == mp::MAP;
      const std::size_t declared = is_map ? value.via.map.size : value.via.array.size;
      if (is_map ? declared > limits_.max_map : declared > limits_.max_array)
        return fail(limit_exceeded(is_map ? "map length" : "array length", declared, is_map ? "max_map" : "max_array",
                                   is_map ? limits_.max_map : limits_.max_array));
      const std::uint64_t elements = is_map ? std::uint64_t{declared} * 2 : declared;
      // Each element still owed takes at least one byte: past the limit, the value cannot fit.
      const std::uint64_t owed = elements + owed_after_current();
      if (owed > room) return fail(limit_exceeded("message size", header_end + owed, "max_frame_bytes", limits_.max_frame_bytes));
      if (open_.size() >= limits_.max_depth)
        return fail(limit_exceeded("nesting depth", open_.size() + 1, "max_depth", limits_.max_depth));
      if (elements != 0) {
        open_.push_back(elements);
        open_elements_ += elements;
        opened = true;
      }
      pos_ = header_end;
    } else {
      // Scalars have no payload; STR/BIN/EXT's is skipped by its declared length, present or not.
      const std::uint64_t owed = header.payload + owed_after_current();
      if (owed > room)
        return fail(limit_exceeded("message size", header_end + owed, "max_frame_bytes", limits_.max_frame_bytes));
      pos_ = header_end + header.payload;
    }
    if (opened) continue;
    // One value complete: it completes elements of the containers around it, innermost first.
    for (;;) {
      if (open_.empty()) {
        done_ = true;
        break;
      }
      --open_elements_;
      if (--open_.back() != 0) break;
      open_.pop_back();
    }
  }
}

}  // namespace greenrpc::protocol
