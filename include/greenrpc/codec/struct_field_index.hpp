#pragma once
// StructFieldIndex: finds struct field values by name in a msgpack map.

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include <msgpack.hpp>

namespace greenrpc::codec {

/// Name -> value lookup over the entries of a msgpack map that is being read as
/// a struct. Every key must be a string (else a validation DecodeError naming
/// `struct_type` is thrown). Small maps are scanned; larger ones are indexed
/// once, so hostile inputs with many keys cannot make lookups quadratic.
/// A repeated key resolves to its last occurrence. Keeps pointers into `map`.
class StructFieldIndex {
public:
    /// An index over nothing (find() always fails) until assign() is called.
    StructFieldIndex() noexcept = default;
    explicit StructFieldIndex(const msgpack::object& map) { assign(map); }

    /// (Re)indexes the entries of `map`, which must be a msgpack map.
    void assign(const msgpack::object& map);

    /// The value stored under `name`, or nullptr if absent.
    [[nodiscard]] const msgpack::object* find(std::string_view name) const noexcept;

private:
    static constexpr std::size_t linear_scan_limit = 16;

    const msgpack::object_kv* entries_ = nullptr;
    std::size_t size_ = 0;
    std::vector<std::pair<std::string_view, const msgpack::object*>> sorted_;  // only for large maps
};

}  // namespace greenrpc::codec
