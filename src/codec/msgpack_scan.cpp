// scan_value(): allocation-free structural check of msgpack bytes.

#include "greenrpc/codec/detail/msgpack_scan.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/detail/msgpack_header.hpp"

namespace greenrpc::codec::detail {

namespace {

/// Elements still to read in each open array/map (a map counts keys and values).
class OpenContainers {
public:
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    void push(std::uint64_t elements) {
        if (size_ < inline_.size()) {
            inline_[size_] = elements;
        } else {
            overflow_.push_back(elements);
        }
        ++size_;
    }

    /// One element of the innermost container is complete; closes every container this completes.
    void complete_element() noexcept {
        while (size_ != 0) {
            std::uint64_t& left = top();
            if (--left != 0) return;
            if (size_ > inline_.size()) overflow_.pop_back();
            --size_;
        }
    }

private:
    std::uint64_t& top() noexcept { return size_ > inline_.size() ? overflow_.back() : inline_[size_ - 1]; }

    std::array<std::uint64_t, 64> inline_{};
    std::vector<std::uint64_t> overflow_;  // only past 64 levels (a raised max_depth)
    std::size_t size_ = 0;
};

ScanResult fault(InputFault kind, std::size_t declared = 0) { return {kind, nullptr, declared}; }

/// `parts` joined (appended: GCC 12 warns falsely on "literal" + string&&).
std::string joined(std::initializer_list<std::string_view> parts) {
    std::string text;
    for (std::string_view part : parts) text.append(part);
    return text;
}

std::string limit_exceeded(std::string_view what, std::string_view limit_name, std::size_t limit) {
    return joined({what, " exceeds limit ", limit_name, "=", std::to_string(limit)});
}

/// The DecodeError for `scan`'s fault: a bound exceeded names it; anything else is "invalid
/// msgpack", with how in its detail.
DecodeError error_for(const ScanResult& scan, std::size_t size, const DecodeLimits& limits) {
    switch (scan.fault) {
        case InputFault::none: break;
        case InputFault::truncated:
            return DecodeError::invalid_msgpack(size == 0 ? std::string("empty input")
                                                          : joined({"truncated input, ", std::to_string(size), " bytes"}));
        case InputFault::malformed: break;
        case InputFault::array_limit:
            return DecodeError::limit_exceeded(joined({"array length ", std::to_string(scan.declared),
                                                       " exceeds limit max_array=", std::to_string(limits.max_array)}));
        case InputFault::map_limit:
            return DecodeError::limit_exceeded(joined({"map length ", std::to_string(scan.declared),
                                                       " exceeds limit max_map=", std::to_string(limits.max_map)}));
        case InputFault::array_beyond_input:
            return DecodeError::invalid_msgpack(joined({"truncated input: array declares ", std::to_string(scan.declared),
                                                        " entries but the whole input is ", std::to_string(size), " bytes"}));
        case InputFault::map_beyond_input:
            return DecodeError::invalid_msgpack(joined({"truncated input: map declares ", std::to_string(scan.declared),
                                                        " entries but the whole input is ", std::to_string(size), " bytes"}));
        case InputFault::str_limit: return DecodeError::limit_exceeded(limit_exceeded("string length", "max_str", limits.max_str));
        case InputFault::bin_limit: return DecodeError::limit_exceeded(limit_exceeded("binary length", "max_bin", limits.max_bin));
        case InputFault::ext_limit: return DecodeError::limit_exceeded(limit_exceeded("ext length", "max_ext", limits.max_ext));
        case InputFault::depth_limit:
            return DecodeError::limit_exceeded(limit_exceeded("nesting depth", "max_depth", limits.max_depth));
    }
    return DecodeError::invalid_msgpack("malformed data");
}

}  // namespace

ScanResult scan_value(const char* begin, const char* end, std::size_t depth, std::size_t whole_size,
                      const DecodeLimits& limits) {
    OpenContainers open;
    const char* pos = begin;
    MsgpackHeader header;
    std::size_t objects = 0, payload_bytes = 0;
    for (;;) {
        switch (read_header(pos, end, header)) {
            case HeaderStatus::ok: break;
            case HeaderStatus::truncated: return fault(InputFault::truncated);
            case HeaderStatus::malformed: return fault(InputFault::malformed);
        }
        ++objects;
        const msgpack::object& value = header.value;
        if (value.type == msgpack::type::ARRAY || value.type == msgpack::type::MAP) {
            const bool is_map = value.type == msgpack::type::MAP;
            const std::size_t declared = is_map ? value.via.map.size : value.via.array.size;
            if (is_map) {
                if (declared > limits.max_map) return fault(InputFault::map_limit, declared);
                if (declared > whole_size / 2) return fault(InputFault::map_beyond_input, declared);
            } else {
                if (declared > limits.max_array) return fault(InputFault::array_limit, declared);
                if (declared > whole_size) return fault(InputFault::array_beyond_input, declared);
            }
            if (depth + open.size() >= limits.max_depth) return fault(InputFault::depth_limit);
            if (declared != 0) {
                open.push(is_map ? std::uint64_t{declared} * 2 : declared);
                continue;
            }
        } else if (header.payload != 0 || value.type == msgpack::type::EXT) {
            if (header.payload > static_cast<std::size_t>(end - pos)) return fault(InputFault::truncated);
            pos += header.payload;
            payload_bytes += header.payload;
            if (value.type == msgpack::type::STR && header.payload > limits.max_str) return fault(InputFault::str_limit);
            if (value.type == msgpack::type::BIN && header.payload > limits.max_bin) return fault(InputFault::bin_limit);
            if (value.type == msgpack::type::EXT && header.payload + 1 > limits.max_ext) return fault(InputFault::ext_limit);
        }
        if (open.empty()) return {InputFault::none, pos, 0, objects, payload_bytes};
        open.complete_element();
        if (open.empty()) return {InputFault::none, pos, 0, objects, payload_bytes};
    }
}

std::size_t tree_bytes(const ScanResult& scan, bool copies_payloads) noexcept {
    return scan.objects * sizeof(msgpack::object) + (copies_payloads ? scan.payload_bytes : 0);
}

void check_tree_size(const ScanResult& scan, bool copies_payloads, const DecodeLimits& limits) {
    const std::size_t bytes = tree_bytes(scan, copies_payloads);
    if (bytes > limits.max_tree_bytes)
        throw DecodeError::limit_exceeded(joined({"object tree of ", std::to_string(bytes), " bytes exceeds limit max_tree_bytes=",
                                                  std::to_string(limits.max_tree_bytes)}));
}

ScanResult check_well_formed(std::string_view bytes, const DecodeLimits& limits) {
    const char* begin = bytes.data();
    const char* end = begin + bytes.size();
    const ScanResult scan = scan_value(begin, end, 0, bytes.size(), limits);
    if (scan.fault != InputFault::none) throw error_for(scan, bytes.size(), limits);
    if (scan.end != end) {
        throw DecodeError::invalid_msgpack(
            joined({std::to_string(end - scan.end), " unexpected bytes after the value (input must hold exactly one value)"}));
    }
    return scan;
}

void throw_invalid_msgpack(std::string_view bytes, const DecodeLimits& limits) {
    check_well_formed(bytes, limits);
    throw DecodeError::invalid_msgpack("malformed data");
}

}  // namespace greenrpc::codec::detail
