// unpack_value(): bounded parsing of one msgpack value.

#include "greenrpc/codec/unpack_value.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "greenrpc/codec/decode_error.hpp"

namespace greenrpc::codec {

namespace {

/// STR/BIN/EXT objects point into the caller's buffer instead of being copied.
bool reference_input(msgpack::type::object_type, std::size_t, void*) { return true; }

/// "invalid msgpack: " followed by `parts` (appended: GCC 12 warns falsely on "literal" + string&&).
std::string invalid(std::initializer_list<std::string_view> parts) {
    std::string reason = "invalid msgpack: ";
    for (std::string_view part : parts) reason.append(part);
    return reason;
}

std::string limit_exceeded(std::string_view what, std::string_view limit_name, std::size_t limit) {
    return invalid({what, " exceeds limit ", limit_name, "=", std::to_string(limit)});
}

/// Allocation-free re-parse, run only after a container header was rejected,
/// to tell "over the max_array/max_map limit" from "declares more entries than
/// the input holds" (both are clamped into one msgpack limit while unpacking).
class ContainerHeaderProbe : public msgpack::null_visitor {
public:
    ContainerHeaderProbe(const DecodeLimits& limits, std::size_t input_size)
        : limits_(limits), input_size_(input_size) {}

    bool start_array(std::uint32_t elements) { return check("array", elements, limits_.max_array, "max_array", 1); }
    bool start_map(std::uint32_t pairs) { return check("map", pairs, limits_.max_map, "max_map", 2); }
    void parse_error(std::size_t, std::size_t) {}
    void insufficient_bytes(std::size_t, std::size_t) {}

    /// Description of the first offending header (empty if none was found).
    [[nodiscard]] const std::string& verdict() const { return verdict_; }

private:
    bool check(std::string_view kind, std::uint32_t entries, std::size_t limit, std::string_view limit_name,
               std::size_t min_bytes_per_entry) {
        if (entries > limit) {
            verdict_ = invalid({kind, " length ", std::to_string(entries), " exceeds limit ", limit_name, "=",
                                std::to_string(limit)});
            return false;
        }
        if (entries > input_size_ / min_bytes_per_entry) {
            verdict_ = invalid({"truncated input: ", kind, " declares ", std::to_string(entries),
                                " entries but the whole input is ", std::to_string(input_size_), " bytes"});
            return false;
        }
        return true;
    }

    const DecodeLimits& limits_;
    std::size_t input_size_;
    std::string verdict_;
};

[[noreturn]] void throw_container_overflow(std::string_view bytes, const DecodeLimits& limits,
                                           std::string_view kind) {
    ContainerHeaderProbe probe(limits, bytes.size());
    std::size_t offset = 0;
    msgpack::parse(bytes.data(), bytes.size(), offset, probe);
    if (!probe.verdict().empty()) throw DecodeError::invalid_msgpack(probe.verdict());
    throw DecodeError::invalid_msgpack(invalid({kind, " size limit exceeded"}));
}

}  // namespace

msgpack::object unpack_value(msgpack::zone& zone, std::string_view bytes, const DecodeLimits& limits) {
    const std::size_t size = bytes.size();
    // Each array element takes at least one byte and each map entry two, so a
    // header declaring more cannot be valid: clamping rejects it before msgpack
    // allocates the element table, bounding allocation by the input size.
    const msgpack::unpack_limit limit(std::min(limits.max_array, size), std::min(limits.max_map, size / 2),
                                      limits.max_str, limits.max_bin, limits.max_ext, limits.max_depth);
    std::size_t offset = 0;
    msgpack::object value;
    try {
        value = msgpack::unpack(zone, bytes.data(), size, offset, reference_input, nullptr, limit);
    } catch (const msgpack::array_size_overflow&) {
        throw_container_overflow(bytes, limits, "array");
    } catch (const msgpack::map_size_overflow&) {
        throw_container_overflow(bytes, limits, "map");
    } catch (const msgpack::str_size_overflow&) {
        throw DecodeError::invalid_msgpack(limit_exceeded("string length", "max_str", limits.max_str));
    } catch (const msgpack::bin_size_overflow&) {
        throw DecodeError::invalid_msgpack(limit_exceeded("binary length", "max_bin", limits.max_bin));
    } catch (const msgpack::ext_size_overflow&) {
        throw DecodeError::invalid_msgpack(limit_exceeded("ext length", "max_ext", limits.max_ext));
    } catch (const msgpack::depth_size_overflow&) {
        throw DecodeError::invalid_msgpack(limit_exceeded("nesting depth", "max_depth", limits.max_depth));
    } catch (const msgpack::insufficient_bytes&) {
        throw DecodeError::invalid_msgpack(size == 0 ? invalid({"empty input"})
                                                     : invalid({"truncated input (", std::to_string(size), " bytes)"}));
    } catch (const msgpack::parse_error&) {
        throw DecodeError::invalid_msgpack(invalid({"malformed data"}));
    } catch (const msgpack::unpack_error& error) {
        throw DecodeError::invalid_msgpack(invalid({error.what()}));
    }
    if (offset != size) {
        throw DecodeError::invalid_msgpack(invalid({std::to_string(size - offset),
                                                    " unexpected bytes after the value (input must hold exactly one value)"}));
    }
    return value;
}

msgpack::object_handle unpack_value(std::string_view bytes, const DecodeLimits& limits) {
    auto zone = std::make_unique<msgpack::zone>();
    const msgpack::object value = unpack_value(*zone, bytes, limits);
    return msgpack::object_handle(value, std::move(zone));
}

}  // namespace greenrpc::codec
