#pragma once
// value_reader for structs declared with MSGPACK_DEFINE_MAP / MSGPACK_DEFINE_ARRAY:
// fields are validated one by one, so errors name the field.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <msgpack.hpp>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/error_location.hpp"
#include "greenrpc/codec/struct_field_index.hpp"
#include "greenrpc/codec/type_categories.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"
#include "greenrpc/codec/value_reader.hpp"

namespace greenrpc::codec {

/// A class whose msgpack conversion is its own msgpack_unpack member (what
/// MSGPACK_DEFINE_MAP / MSGPACK_DEFINE_ARRAY generate) rather than a custom
/// msgpack::adaptor::convert specialization.
template <typename T>
concept msgpack_member_struct =
    std::is_class_v<T> && requires(T& value, const msgpack::object& in) { value.msgpack_unpack(in); } &&
    std::is_base_of_v<msgpack::v2::adaptor::convert<T>, msgpack::adaptor::convert<T>>;

namespace detail {

/// Stream that only records whether anything was written to it.
struct WriteDetector {
    bool written = false;
    void write(const char*, std::size_t) { written = true; }
};

struct WriteDetectorHolder {
    WriteDetector detector;
};

/// Walks a struct's fields through its msgpack_pack(Packer&) member.
///
/// MSGPACK_DEFINE_MAP(a, b) makes msgpack_pack call pack_map(2), then
/// pack("a"), pack(a), pack("b"), pack(b) on the packer; MSGPACK_DEFINE_ARRAY
/// calls pack_array(n) then pack(field) per field. This "packer" intercepts
/// those calls and, instead of writing, decodes each field in place from the
/// input object (the struct is non-const, so writing through the const
/// references msgpack_pack hands out is well-defined). Any other packer call
/// reaches the msgpack::packer base and marks the walk as non-conforming, in
/// which case the caller falls back to msgpack-cxx's own conversion.
template <typename Struct>
class FieldWalker : private WriteDetectorHolder, public msgpack::packer<WriteDetector> {
public:
    explicit FieldWalker(const msgpack::object& in) : msgpack::packer<WriteDetector>(detector), in_(in) {}

    FieldWalker& pack_map(std::uint32_t fields) {
        if (shape_ != Shape::none) return mark_unexpected();
        if (in_.type != msgpack::type::MAP) throw_type_mismatch(in_, "dict", type_name<Struct>());
        shape_ = Shape::map;
        declared_ = fields;
        index_.assign(in_);
        return *this;
    }

    FieldWalker& pack_array(std::uint32_t fields) {
        if (shape_ != Shape::none) return mark_unexpected();
        if (in_.type != msgpack::type::ARRAY) throw_type_mismatch(in_, "list", type_name<Struct>());
        shape_ = Shape::array;
        declared_ = fields;
        return *this;
    }

    template <typename V>
    FieldWalker& pack(const V& field) {
        if (unexpected_) return *this;
        switch (shape_) {
            case Shape::none: return mark_unexpected();
            case Shape::map:
                if (expecting_name_) {
                    if constexpr (std::is_convertible_v<const V&, std::string_view>) {
                        name_ = std::string_view(field);
                        expecting_name_ = false;
                        return *this;
                    } else {
                        return mark_unexpected();
                    }
                }
                read_named_field(const_cast<V&>(field));
                expecting_name_ = true;
                ++visited_;
                return *this;
            case Shape::array:
                read_positional_field(const_cast<V&>(field));
                ++visited_;
                return *this;
        }
        return *this;
    }

    /// True if the calls matched MSGPACK_DEFINE_MAP / MSGPACK_DEFINE_ARRAY exactly.
    [[nodiscard]] bool conforming() const {
        return !unexpected_ && !detector.written && shape_ != Shape::none && expecting_name_ &&
               visited_ == declared_;
    }

private:
    enum class Shape { none, map, array };

    FieldWalker& mark_unexpected() {
        unexpected_ = true;
        return *this;
    }

    template <typename V>
    void read_named_field(V& field) {
        const msgpack::object* value = index_.find(name_);
        if (value == nullptr) {
            if constexpr (optional_type<V>) return;  // optional fields may be omitted
            throw_missing_field(name_, type_name<V>());
        }
        try {
            read_value(*value, field);
        } catch (DecodeError& error) {
            error.prepend_location(field_location(name_));
            throw;
        }
    }

    template <typename V>
    void read_positional_field(V& field) {
        const std::size_t position = visited_;
        if (position >= in_.via.array.size) {
            if constexpr (optional_type<V>) return;
            throw_missing_item(position, type_name<V>());
        }
        try {
            read_value(in_.via.array.ptr[position], field);
        } catch (DecodeError& error) {
            error.prepend_location(item_location(position));
            throw;
        }
    }

    const msgpack::object& in_;
    Shape shape_ = Shape::none;
    std::size_t declared_ = 0;
    std::size_t visited_ = 0;
    bool expecting_name_ = true;
    bool unexpected_ = false;
    std::string_view name_;
    StructFieldIndex index_;
};

}  // namespace detail

/// MSGPACK_DEFINE_MAP structs: from a msgpack map with string keys. Every
/// field must be present unless it is a std::optional (an absent optional keeps
/// its member default); unknown keys are ignored. Field errors are reported as
/// "field 'name': ...". MSGPACK_DEFINE_ARRAY structs: from a msgpack array,
/// positionally ("item 1: ..."); missing trailing non-optional fields are
/// errors, extra trailing items are ignored.
template <msgpack_member_struct T>
struct value_reader<T> : detail::standard_value_reader {
    static void read(const msgpack::object& in, T& out) {
        if (in.type == msgpack::type::NIL) throw_type_mismatch(in, "dict", type_name<T>());
        detail::FieldWalker<T> walker(in);
        std::as_const(out).msgpack_pack(walker);
        if (!walker.conforming()) detail::convert_with_msgpack_adaptor(in, out);
    }
};

}  // namespace greenrpc::codec
