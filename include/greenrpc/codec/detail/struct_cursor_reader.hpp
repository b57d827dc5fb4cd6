#pragma once
// cursor_reader for MSGPACK_DEFINE_MAP / MSGPACK_DEFINE_ARRAY structs, decoded as their fields
// arrive. The fields are found by walking the struct's msgpack_pack with "packers" that, instead
// of writing, look at each (name, field) pair (as detail::FieldWalker in struct_reader.hpp).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <msgpack.hpp>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/detail/cursor_reader.hpp"
#include "greenrpc/codec/error_location.hpp"
#include "greenrpc/codec/struct_reader.hpp"
#include "greenrpc/codec/type_categories.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"

namespace greenrpc::codec::detail {

/// Walks a struct's fields through its msgpack_pack(Packer&) member: pack_map(n) then name/field
/// pairs (MSGPACK_DEFINE_MAP), or pack_array(n) then fields (MSGPACK_DEFINE_ARRAY). Each field
/// goes to Visitor::visit_field(name, field, index) (name empty for arrays). Any other call
/// marks the walk non-conforming (see conforming()).
template <typename Visitor>
class FieldVisitingPacker : private WriteDetectorHolder, public msgpack::packer<WriteDetector> {
public:
    enum class Shape { none, map, array };

    FieldVisitingPacker() : msgpack::packer<WriteDetector>(detector) {}

    FieldVisitingPacker& pack_map(std::uint32_t fields) { return start(Shape::map, fields); }
    FieldVisitingPacker& pack_array(std::uint32_t fields) { return start(Shape::array, fields); }

    template <typename V>
    FieldVisitingPacker& pack(const V& field) {
        if (unexpected_) return *this;
        switch (shape_) {
            case Shape::none: unexpected_ = true; return *this;
            case Shape::map:
                if (expecting_name_) {
                    if constexpr (std::is_array_v<V> && std::is_same_v<std::remove_extent_t<V>, char>) {
                        name_ = std::string_view(field, ::strnlen(field, std::extent_v<V>));
                        expecting_name_ = false;
                    } else if constexpr (std::is_convertible_v<const V&, std::string_view>) {
                        name_ = std::string_view(field);
                        expecting_name_ = false;
                    } else {
                        unexpected_ = true;
                    }
                    return *this;
                }
                static_cast<Visitor*>(this)->visit_field(name_, const_cast<V&>(field), visited_);
                expecting_name_ = true;
                ++visited_;
                return *this;
            case Shape::array:
                static_cast<Visitor*>(this)->visit_field(std::string_view(), const_cast<V&>(field), visited_);
                ++visited_;
                return *this;
        }
        return *this;
    }

    [[nodiscard]] Shape shape() const noexcept { return shape_; }
    [[nodiscard]] std::size_t fields() const noexcept { return visited_; }

    /// True if the calls matched MSGPACK_DEFINE_MAP / MSGPACK_DEFINE_ARRAY exactly.
    [[nodiscard]] bool conforming() const noexcept {
        return !unexpected_ && !detector.written && shape_ != Shape::none && expecting_name_ && visited_ == declared_;
    }

private:
    FieldVisitingPacker& start(Shape shape, std::uint32_t fields) {
        if (shape_ != Shape::none) {
            unexpected_ = true;
        } else {
            shape_ = shape;
            declared_ = fields;
        }
        return *this;
    }

    Shape shape_ = Shape::none;
    std::size_t declared_ = 0;
    std::size_t visited_ = 0;
    bool expecting_name_ = true;
    bool unexpected_ = false;
    std::string_view name_;
};

/// Only checks the walk's shape and conformity.
class StructShapeProbe : public FieldVisitingPacker<StructShapeProbe> {
public:
    template <typename V>
    void visit_field(std::string_view, V&, std::size_t) {}
};

/// Which fields of a struct were present in the input (one bit per field, by position).
class PresentFields {
public:
    explicit PresentFields(std::size_t fields) {
        if (fields > 64) overflow_.resize(fields);
    }
    [[nodiscard]] bool test(std::size_t index) const noexcept {
        return overflow_.empty() ? (bits_ >> index) & 1u : static_cast<bool>(overflow_[index]);
    }
    void set(std::size_t index) noexcept {
        if (overflow_.empty()) {
            bits_ |= std::uint64_t{1} << index;
        } else {
            overflow_[index] = true;
        }
    }

private:
    std::uint64_t bits_ = 0;
    std::vector<bool> overflow_;  // structs of more than 64 fields
};

/// Decodes the value under one input key into the field of that name, if any.
class NamedFieldReader : public FieldVisitingPacker<NamedFieldReader> {
public:
    NamedFieldReader(MsgpackCursor& cursor, std::string_view key, PresentFields& present) noexcept
        : cursor_(cursor), key_(key), present_(present) {}

    template <typename V>
    void visit_field(std::string_view name, V& field, std::size_t index) {
        if (found_ || name != key_) return;
        found_ = true;
        if constexpr (std::is_default_constructible_v<V> && std::is_move_assignable_v<V>) {
            if (present_.test(index)) field = V{};  // a repeated key: the last one wins, from scratch
        }
        try {
            read_from_cursor(cursor_, field);
        } catch (DecodeError& error) {
            error.prepend_location(field_location(name));
            throw;
        }
        present_.set(index);
    }

    [[nodiscard]] bool found() const noexcept { return found_; }

private:
    MsgpackCursor& cursor_;
    std::string_view key_;
    PresentFields& present_;
    bool found_ = false;
};

/// Throws "field '<name>': field required" for the first absent non-optional field.
class MissingFieldCheck : public FieldVisitingPacker<MissingFieldCheck> {
public:
    explicit MissingFieldCheck(const PresentFields& present) noexcept : present_(present) {}

    template <typename V>
    void visit_field(std::string_view name, V&, std::size_t index) {
        if constexpr (!optional_type<V>) {
            if (!present_.test(index)) throw_missing_field(name, type_name<V>());
        }
    }

private:
    const PresentFields& present_;
};

/// The position among the struct's fields of the field named `key`, if any.
class FieldPositionFinder : public FieldVisitingPacker<FieldPositionFinder> {
public:
    explicit FieldPositionFinder(std::string_view key) noexcept : key_(key) {}

    template <typename V>
    void visit_field(std::string_view name, V&, std::size_t index) {
        if (!found_ && name == key_) found_ = true, index_ = index;
    }

    [[nodiscard]] bool found() const noexcept { return found_; }
    [[nodiscard]] std::size_t index() const noexcept { return index_; }

private:
    std::string_view key_;
    bool found_ = false;
    std::size_t index_ = 0;
};

/// Decodes each field, in declaration order, from the bytes of its value (`values`, by field
/// position; null data: absent), so that the first failure met is the one pydantic reports.
class DeclarationOrderFieldReader : public FieldVisitingPacker<DeclarationOrderFieldReader> {
public:
    DeclarationOrderFieldReader(const std::vector<std::string_view>& values, const DecodeLimits& limits) noexcept
        : values_(values), limits_(limits) {}

    template <typename V>
    void visit_field(std::string_view name, V& field, std::size_t index) {
        const std::string_view bytes = values_[index];
        if (bytes.data() == nullptr) {
            if constexpr (optional_type<V>) return;
            throw_missing_field(name, type_name<V>());
        }
        MsgpackCursor value(bytes, limits_);
        value.use_declaration_order();
        try {
            read_from_cursor(value, field);
        } catch (DecodeError& error) {
            error.prepend_location(field_location(name));
            throw;
        }
    }

private:
    const std::vector<std::string_view>& values_;
    const DecodeLimits& limits_;
};

/// Decodes positional fields from an array of `items` elements.
class PositionalFieldReader : public FieldVisitingPacker<PositionalFieldReader> {
public:
    PositionalFieldReader(MsgpackCursor& cursor, std::size_t items) noexcept : cursor_(cursor), items_(items) {}

    template <typename V>
    void visit_field(std::string_view, V& field, std::size_t index) {
        if (index >= items_) {
            if constexpr (optional_type<V>) return;
            throw_missing_item(index, type_name<V>());
        }
        read_item(cursor_, index, field);
    }

private:
    MsgpackCursor& cursor_;
    std::size_t items_;
};

/// MSGPACK_DEFINE_MAP structs from a map (fields in any order, unknown keys skipped, a repeated
/// key's last value wins, absent optional fields keep their value); MSGPACK_DEFINE_ARRAY structs
/// from an array (positional, extra trailing items skipped). A struct whose msgpack_pack does
/// not follow either shape takes the generic path (value_reader: msgpack-cxx's own conversion).
template <msgpack_member_struct T>
    requires has_standard_value_reader<T>
struct cursor_reader<T> {
    static void read(MsgpackCursor& cursor, T& out) {
        StructShapeProbe probe;
        std::as_const(out).msgpack_pack(probe);
        if (!probe.conforming()) {
            read_through_value_reader(cursor, out);
            return;
        }
        const msgpack::object header = cursor.next();
        if (probe.shape() == StructShapeProbe::Shape::map) {
            if (header.type != msgpack::type::MAP) throw_type_mismatch(header, "dict", type_name<T>());
            if (cursor.declaration_order())
                read_fields_in_declaration_order(cursor, header.via.map.size, probe.fields(), out);
            else
                read_named_fields(cursor, header.via.map.size, probe.fields(), out);
        } else {
            if (header.type != msgpack::type::ARRAY) throw_type_mismatch(header, "list", type_name<T>());
            PositionalFieldReader reader(cursor, header.via.array.size);
            std::as_const(out).msgpack_pack(reader);
            for (std::size_t i = probe.fields(); i < header.via.array.size; ++i) (void)cursor.skip_value();
        }
        cursor.close_container();
    }

private:
    static void read_named_fields(MsgpackCursor& cursor, std::size_t entries, std::size_t fields, T& out) {
        PresentFields present(fields);
        for (std::size_t i = 0; i < entries; ++i) {
            const msgpack::object key = cursor.next();
            if (key.type != msgpack::type::STR) {
                throw_field_name_not_str(key, i);
            }
            NamedFieldReader reader(cursor, std::string_view(key.via.str.ptr, key.via.str.size), present);
            std::as_const(out).msgpack_pack(reader);
            if (!reader.found()) (void)cursor.skip_value();
        }
        MissingFieldCheck check(present);
        std::as_const(out).msgpack_pack(check);
    }

    // Failures only (the input is known to be well-formed): each field's value is found first
    // (a repeated key: the last one), then the fields are decoded in the order declared.
    static void read_fields_in_declaration_order(MsgpackCursor& cursor, std::size_t entries, std::size_t fields, T& out) {
        std::vector<std::string_view> values(fields);
        for (std::size_t i = 0; i < entries; ++i) {
            const msgpack::object key = cursor.next();
            if (key.type != msgpack::type::STR) throw_field_name_not_str(key, i);
            FieldPositionFinder finder(std::string_view(key.via.str.ptr, key.via.str.size));
            std::as_const(out).msgpack_pack(finder);
            const std::string_view value = cursor.skip_value();
            if (finder.found()) values[finder.index()] = value;
        }
        DeclarationOrderFieldReader reader(values, cursor.limits());
        std::as_const(out).msgpack_pack(reader);
    }
};

}  // namespace greenrpc::codec::detail
