// DecodeError: message assembly.

#include "greenrpc/codec/decode_error.hpp"

#include <utility>

namespace greenrpc::codec {

DecodeError::DecodeError(Kind kind, std::string reason, std::string expected_type, std::string received_type)
    : kind_(kind),
      reason_(std::move(reason)),
      expected_type_(std::move(expected_type)),
      received_type_(std::move(received_type)) {
    rebuild_message();
}

DecodeError DecodeError::validation(std::string reason, std::string_view expected_type,
                                    std::string_view received_type) {
    return DecodeError(Kind::validation, std::move(reason), std::string(expected_type), std::string(received_type));
}

DecodeError DecodeError::invalid_msgpack(std::string reason) {
    return DecodeError(Kind::invalid_msgpack, std::move(reason));
}

void DecodeError::prepend_location(std::string_view segment) {
    if (location_.empty()) {
        location_.assign(segment);
    } else {
        std::string joined;
        joined.reserve(segment.size() + 2 + location_.size());
        joined.append(segment).append(", ").append(location_);
        location_ = std::move(joined);
    }
    rebuild_message();
}

void DecodeError::rebuild_message() {
    if (location_.empty()) {
        message_ = reason_;
        return;
    }
    message_.clear();
    message_.reserve(location_.size() + 2 + reason_.size());
    message_.append(location_).append(": ").append(reason_);
}

}  // namespace greenrpc::codec
