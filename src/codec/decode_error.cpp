// DecodeError: message assembly.

#include "greenrpc/codec/decode_error.hpp"

#include <utility>

#include "greenrpc/codec/error_location.hpp"

namespace greenrpc::codec {

DecodeError::DecodeError(Kind kind, std::string msg, std::string type, std::string expected_type,
                         std::string received_type, std::string detail)
    : kind_(kind),
      msg_(std::move(msg)),
      type_(std::move(type)),
      detail_(std::move(detail)),
      expected_type_(std::move(expected_type)),
      received_type_(std::move(received_type)) {
    rebuild_message();
}

DecodeError DecodeError::validation(std::string msg, std::string_view type, std::string_view expected_type,
                                    std::string_view received_type, std::string detail) {
    return DecodeError(Kind::validation, std::move(msg), std::string(type), std::string(expected_type),
                       std::string(received_type), std::move(detail));
}

DecodeError DecodeError::invalid_msgpack(std::string detail) {
    return DecodeError(Kind::invalid_msgpack, "invalid msgpack", {}, {}, {}, std::move(detail));
}

DecodeError DecodeError::limit_exceeded(std::string what) {
    return DecodeError(Kind::invalid_msgpack, std::move(what), {});
}

void DecodeError::prepend_location(PathSegment segment) {
    path_.insert(path_.begin(), std::move(segment));
    rebuild_message();
}

std::string DecodeError::location() const {
    std::string out;
    for (const PathSegment& segment : path_) {
        if (!out.empty()) out += ", ";
        out += describe(segment);
    }
    return out;
}

void DecodeError::rebuild_message() {
    message_ = location();
    if (!message_.empty()) message_ += ": ";
    message_ += msg_;
    if (!detail_.empty()) message_.append(" (").append(detail_).append(")");
}

}  // namespace greenrpc::codec
