#pragma once
// MsgpackCursor: pulls one msgpack header at a time out of an argument's bytes, for decoding
// straight into C++ types.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <msgpack.hpp>

#include "greenrpc/codec/detail/msgpack_header.hpp"
#include "greenrpc/codec/detail/msgpack_scan.hpp"
#include "greenrpc/codec/limits.hpp"

namespace greenrpc::codec::detail {

/// Thrown by MsgpackCursor when the bytes are not well-formed msgpack within the limits.
/// Deliberately not a DecodeError (readers add locations to those): decode_into() turns it into
/// the exact invalid_msgpack DecodeError by scanning the whole input (see throw_invalid_msgpack).
struct MalformedInput {};

/// A read position over the bytes of one msgpack value.
///
/// next() returns the next value's header (see MsgpackHeader: scalars, STR, BIN and EXT are
/// complete and point into the input; ARRAY/MAP carry their size, their elements come next and
/// must all be read or skipped, then close_container() called).
///
/// Bounds, checked as each header is read, before any caller can allocate for it:
/// - every declared length is clamped against the bytes that remain, minus one byte still owed
///   to each element that open containers have declared but not yet started (two per map
///   entry). So the lengths of all open containers together never exceed the input's size, and
///   a STR/BIN payload must be present in full;
/// - max_array, max_map, max_str, max_bin, max_ext and max_depth (DecodeLimits).
/// A violation throws MalformedInput.
class MsgpackCursor {
public:
    MsgpackCursor(std::string_view bytes, const DecodeLimits& limits) noexcept
        : pos_(bytes.data()), end_(bytes.data() + bytes.size()), whole_size_(bytes.size()), limits_(&limits) {}

    /// The next value's header (ARRAY/MAP: opened; see the class comment).
    msgpack::object next() {
        const char* available_end = start_value();
        MsgpackHeader header;
        if (read_header(pos_, available_end, header) != HeaderStatus::ok) throw MalformedInput{};
        const msgpack::object& value = header.value;
        switch (value.type) {
            case msgpack::type::ARRAY: open(value.via.array.size, 1, limits_->max_array, available_end); break;
            case msgpack::type::MAP: open(value.via.map.size, 2, limits_->max_map, available_end); break;
            case msgpack::type::STR: take_payload(header.payload, limits_->max_str, available_end); break;
            case msgpack::type::BIN: take_payload(header.payload, limits_->max_bin, available_end); break;
            case msgpack::type::EXT:
                if (limits_->max_ext == 0) throw MalformedInput{};
                take_payload(header.payload, limits_->max_ext - 1, available_end);
                break;
            default: break;
        }
        return value;
    }

    /// Ends the container whose header next() returned last among those still open, once all its
    /// elements were read.
    void close_container() noexcept { --depth_; }

    /// True if the next value is nil (without consuming it).
    [[nodiscard]] bool next_is_nil() const {
        if (pos_ == end_) throw MalformedInput{};
        return static_cast<std::uint8_t>(*pos_) == 0xc0;
    }

    /// True if the next value is an array or a map (without consuming it).
    [[nodiscard]] bool next_is_container() const {
        if (pos_ == end_) throw MalformedInput{};
        const auto lead = static_cast<std::uint8_t>(*pos_);
        return (lead >= 0x80 && lead <= 0x9f) || (lead >= 0xdc && lead <= 0xdf);
    }

    /// Skips the next value (checked as next() would, allocating nothing); returns its bytes.
    std::string_view skip_value() {
        const char* available_end = start_value();
        const char* start = pos_;
        const ScanResult scan = scan_value(start, available_end, depth_, whole_size_, *limits_);
        if (scan.fault != InputFault::none) throw MalformedInput{};
        pos_ = scan.end;
        return {start, static_cast<std::size_t>(pos_ - start)};
    }

    /// Where the next header starts (for header_at()).
    [[nodiscard]] const char* position() const noexcept { return pos_; }

    /// The header of a value already read, at `position` (a value returned by position()).
    [[nodiscard]] msgpack::object header_at(const char* position) const noexcept {
        MsgpackHeader header;
        (void)read_header(position, end_, header);
        return header.value;
    }

    [[nodiscard]] const DecodeLimits& limits() const noexcept { return *limits_; }

    /// Struct readers visit a map's fields in the order the struct declares them rather than the
    /// order they arrive (see decode_into(): only to find which failure pydantic would report).
    void use_declaration_order() noexcept { declaration_order_ = true; }
    [[nodiscard]] bool declaration_order() const noexcept { return declaration_order_; }

    /// True once the whole input was consumed.
    [[nodiscard]] bool at_end() const noexcept { return pos_ == end_; }

private:
    /// Accounts for the value about to be read as started; returns the end of the bytes it may
    /// use (those not owed to later elements of open containers).
    const char* start_value() noexcept {
        if (owed_ != 0) --owed_;
        return end_ - owed_;
    }

    void open(std::size_t declared, std::size_t bytes_per_element, std::size_t limit, const char* available_end) {
        if (declared > limit || depth_ >= limits_->max_depth) throw MalformedInput{};
        const std::size_t owed = declared * bytes_per_element;
        if (owed > static_cast<std::size_t>(available_end - pos_)) throw MalformedInput{};
        owed_ += owed;
        ++depth_;
    }

    void take_payload(std::size_t payload, std::size_t limit, const char* available_end) {
        if (payload > static_cast<std::size_t>(available_end - pos_) || payload > limit) throw MalformedInput{};
        pos_ += payload;
    }

    const char* pos_;
    const char* end_;
    std::size_t whole_size_;
    const DecodeLimits* limits_;
    std::size_t owed_ = 0;   ///< bytes still owed to declared, unstarted elements of open containers
    std::size_t depth_ = 0;  ///< arrays/maps open
    bool declaration_order_ = false;
};

}  // namespace greenrpc::codec::detail
