// StructFieldIndex: field lookup in a msgpack map.

#include "greenrpc/codec/struct_field_index.hpp"

#include <algorithm>

#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/error_location.hpp"
#include "greenrpc/codec/type_name.hpp"
#include "greenrpc/codec/validation_failures.hpp"

namespace greenrpc::codec {

namespace {

std::string_view key_text(const msgpack::object& key) noexcept { return {key.via.str.ptr, key.via.str.size}; }

}  // namespace

void StructFieldIndex::assign(const msgpack::object& map) {
    entries_ = map.via.map.ptr;
    size_ = map.via.map.size;
    sorted_.clear();
    for (std::size_t i = 0; i < size_; ++i) {
        const msgpack::object& key = entries_[i].key;
        if (key.type != msgpack::type::STR) {
            throw_field_name_not_str(key, i);
        }
    }
    if (size_ <= linear_scan_limit) return;
    sorted_.reserve(size_);
    for (std::size_t i = 0; i < size_; ++i) sorted_.emplace_back(key_text(entries_[i].key), &entries_[i].val);
    // Stable, so that among equal names the last occurrence stays last.
    std::stable_sort(sorted_.begin(), sorted_.end(),
                     [](const auto& lhs, const auto& rhs) { return lhs.first < rhs.first; });
}

const msgpack::object* StructFieldIndex::find(std::string_view name) const noexcept {
    if (size_ <= linear_scan_limit) {
        for (std::size_t i = size_; i-- > 0;) {
            if (key_text(entries_[i].key) == name) return &entries_[i].val;
        }
        return nullptr;
    }
    auto last = std::upper_bound(sorted_.begin(), sorted_.end(), name,
                                 [](std::string_view lhs, const auto& rhs) { return lhs < rhs.first; });
    if (last == sorted_.begin() || std::prev(last)->first != name) return nullptr;
    return std::prev(last)->second;
}

}  // namespace greenrpc::codec
