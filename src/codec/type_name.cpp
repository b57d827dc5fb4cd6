// Type names: demangling and msgpack type names.

#include "greenrpc/codec/type_name.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace greenrpc::codec {

namespace {

/// Drops every qualifier before the last "::" that is not nested inside
/// template arguments or parentheses ("(anonymous namespace)::a::B<c::D>" -> "B<c::D>").
std::string strip_qualifiers(const std::string& name) {
    std::size_t start = 0;
    int nesting = 0;
    for (std::size_t i = 0; i + 1 < name.size(); ++i) {
        const char c = name[i];
        if (c == '<' || c == '(' || c == '[' || c == '{') {
            ++nesting;
        } else if (c == '>' || c == ')' || c == ']' || c == '}') {
            --nesting;
        } else if (nesting == 0 && c == ':' && name[i + 1] == ':') {
            start = i + 2;
            ++i;
        }
    }
    return name.substr(start);
}

}  // namespace

std::string short_type_name(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(
        abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
    if (status != 0 || demangled == nullptr) return type.name();
    return strip_qualifiers(demangled.get());
}

std::string_view received_type_name(const msgpack::object& value) {
    switch (value.type) {
        case msgpack::type::NIL: return "none";
        case msgpack::type::BOOLEAN: return "bool";
        case msgpack::type::POSITIVE_INTEGER:
        case msgpack::type::NEGATIVE_INTEGER: return "int";
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64: return "float";
        case msgpack::type::STR: return "str";
        case msgpack::type::BIN: return "bytes";
        case msgpack::type::ARRAY: return "list";
        case msgpack::type::MAP: return "dict";
        case msgpack::type::EXT: return "ext";
    }
    return "unknown";
}

}  // namespace greenrpc::codec
