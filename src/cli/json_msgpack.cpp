#include "json_msgpack.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "byte_text.hpp"
#include "greenrpc/codec/encode.hpp"
#include "greenrpc/codec/unpack_value.hpp"

namespace greenrpc::cli {

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ": the reader needs the rest.
std::string without_exception_id(std::string message) {
  if (message.starts_with("[json.exception.")) {
    const auto end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

// A first pass over the text that the DOM parser cannot do: nlohmann turns an integer beyond
// 64 bits into a double without a word, and nests without a bound.
class ArgumentChecker : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t value, const string_t& text) override {
    if (text.find_first_of(".eE") == string_t::npos)
      return fail("the integer " + text + " is outside the 64-bit range (-2^63 .. 2^64-1)");
    if (!std::isfinite(value)) return fail("the number " + text + " is too large for a double");
    return true;
  }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return fail(without_exception_id(e.what()));
  }

  const std::string& error() const { return error_; }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool enter() {
    if (++depth_ > kMaxJsonDepth) return fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  std::size_t depth_ = 0;
  std::string error_;
};

// Why a text that is not JSON was probably meant as a string.
std::string quoting_hint(std::string_view text) {
  if (text.empty()) return " (an empty string is written \"\")";
  const unsigned char first = static_cast<unsigned char>(text.front());
  if (std::isalpha(first) || first == '_' || first >= 0x80 || first == '\'') {
    const bool show = text.size() <= 40 && text.find_first_of("'\"\\") == std::string_view::npos;
    return " (a string argument is JSON too: quote it, e.g. '\"" + std::string(show ? text : "hello") + "\"' in a shell)";
  }
  return {};
}

std::uint32_t length_of(std::size_t size, const char* what) {
  if (size > std::numeric_limits<std::uint32_t>::max())
    throw JsonInputError(std::string(what) + " longer than msgpack allows (4 GiB)");
  return static_cast<std::uint32_t>(size);
}

const std::string* string_member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

// The bytes of a {"$bytes": ...} / {"$hex": ...} object; nullopt for any other value.
std::optional<std::string> bytes_convention(const Json& value) {
  if (!value.is_object() || value.size() != 1) return std::nullopt;
  const auto it = value.begin();
  const std::string& key = it.key();
  const Json& text = it.value();
  if (key != "$bytes" && key != "$hex") return std::nullopt;
  if (!text.is_string()) throw JsonInputError("{\"" + key + "\": ...} takes a string");
  const auto& s = text.get_ref<const std::string&>();
  auto bytes = key == "$bytes" ? from_base64(s) : from_hex(s);
  if (!bytes)
    throw JsonInputError(key == "$bytes" ? "the value of \"$bytes\" is not padded base64 (RFC 4648)"
                                         : "the value of \"$hex\" is not an even number of hex digits");
  return bytes;
}

struct ExtValue {
  std::int8_t type;
  std::string data;
};

// {"$ext": type, "data": base64} / {"$ext": type, "hex": hex}; nullopt for any other value.
std::optional<ExtValue> ext_convention(const Json& value) {
  if (!value.is_object() || value.size() != 2 || !value.contains("$ext")) return std::nullopt;
  const Json& type = value["$ext"];
  const std::string* data = string_member(value, "data");
  const std::string* hex = string_member(value, "hex");
  if (!data && !hex) return std::nullopt;
  if (!type.is_number_integer() || type.get<std::int64_t>() < -128 || type.get<std::int64_t>() > 127)
    throw JsonInputError("\"$ext\" takes an integer type from -128 to 127");
  auto bytes = data ? from_base64(*data) : from_hex(*hex);
  if (!bytes) throw JsonInputError(data ? "the \"data\" of an $ext is not padded base64" : "the \"hex\" of an $ext is not hex");
  return ExtValue{static_cast<std::int8_t>(type.get<std::int64_t>()), std::move(*bytes)};
}

void pack(msgpack::packer<codec::StringSink>& p, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      p.pack_nil();
      return;
    case Json::value_t::boolean:
      value.get<bool>() ? p.pack_true() : p.pack_false();
      return;
    case Json::value_t::number_integer:
      p.pack_int64(value.get<std::int64_t>());
      return;
    case Json::value_t::number_unsigned:
      p.pack_uint64(value.get<std::uint64_t>());
      return;
    case Json::value_t::number_float:
      p.pack_double(value.get<double>());
      return;
    case Json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      p.pack_str(length_of(s.size(), "a string"));
      p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
      return;
    }
    case Json::value_t::binary: {  // not produced by the text parser; packed as bin all the same
      const auto& b = value.get_binary();
      p.pack_bin(length_of(b.size(), "a byte string"));
      p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
      return;
    }
    case Json::value_t::array:
      p.pack_array(length_of(value.size(), "an array"));
      for (const Json& item : value) pack(p, item);
      return;
    case Json::value_t::object:
      if (auto bytes = bytes_convention(value)) {
        p.pack_bin(length_of(bytes->size(), "a byte string"));
        p.pack_bin_body(bytes->data(), static_cast<std::uint32_t>(bytes->size()));
        return;
      }
      if (auto ext = ext_convention(value)) {
        p.pack_ext(length_of(ext->data.size(), "an ext value"), ext->type);
        p.pack_ext_body(ext->data.data(), static_cast<std::uint32_t>(ext->data.size()));
        return;
      }
      p.pack_map(length_of(value.size(), "an object"));
      for (const auto& [key, item] : value.items()) {
        p.pack_str(length_of(key.size(), "a key"));
        p.pack_str_body(key.data(), static_cast<std::uint32_t>(key.size()));
        pack(p, item);
      }
      return;
  }
}

std::string bytes_text(std::string_view bytes, BytesFormat format) {
  return format == BytesFormat::hex ? to_hex(bytes) : to_base64(bytes);
}

}  // namespace

Json parse_json_argument(std::string_view text) {
  ArgumentChecker checker;
  if (!Json::sax_parse(text, &checker)) {
    std::string why = checker.error().empty() ? "not a JSON value" : checker.error();
    // A number problem is not a quoting problem.
    const bool syntax = why.find("parse error") != std::string::npos || checker.error().empty();
    throw JsonInputError(why + (syntax ? quoting_hint(text) : std::string()));
  }
  return Json::parse(text);
}

void append_msgpack(std::string& out, const Json& value) {
  codec::StringSink sink(out);
  msgpack::packer<codec::StringSink> packer(sink);
  pack(packer, value);
}

std::string json_argument_to_msgpack(std::string_view text) {
  std::string out;
  append_msgpack(out, parse_json_argument(text));
  return out;
}

Json msgpack_object_to_json(const msgpack::object& value, BytesFormat format) {
  switch (value.type) {
    case msgpack::type::NIL:
      return nullptr;
    case msgpack::type::BOOLEAN:
      return value.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      return value.via.u64;
    case msgpack::type::NEGATIVE_INTEGER:
      return value.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: {
      const double d = value.via.f64;
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      return d;
    }
    case msgpack::type::STR:
      return std::string(value.via.str.ptr, value.via.str.size);
    case msgpack::type::BIN:
      return bytes_text(std::string_view(value.via.bin.ptr, value.via.bin.size), format);
    case msgpack::type::EXT: {
      Json ext = Json::object();
      ext["$ext"] = static_cast<int>(value.via.ext.type());
      ext[format == BytesFormat::hex ? "hex" : "data"] =
          bytes_text(std::string_view(value.via.ext.data(), value.via.ext.size), format);
      return ext;
    }
    case msgpack::type::ARRAY: {
      Json array = Json::array();
      for (std::uint32_t i = 0; i < value.via.array.size; ++i)
        array.push_back(msgpack_object_to_json(value.via.array.ptr[i], format));
      return array;
    }
    case msgpack::type::MAP: {
      Json object = Json::object();
      for (std::uint32_t i = 0; i < value.via.map.size; ++i) {
        const msgpack::object_kv& kv = value.via.map.ptr[i];
        std::string key;
        if (kv.key.type == msgpack::type::STR) {
          key.assign(kv.key.via.str.ptr, kv.key.via.str.size);
        } else {
          Json k = msgpack_object_to_json(kv.key, format);
          key = k.is_string() ? k.get<std::string>() : render_json(k);
        }
        object[key] = msgpack_object_to_json(kv.val, format);
      }
      return object;
    }
  }
  return nullptr;
}

Json msgpack_to_json(std::string_view bytes, BytesFormat format, const codec::DecodeLimits& limits) {
  msgpack::zone zone;
  const msgpack::object value = codec::unpack_value(zone, bytes, limits);
  return msgpack_object_to_json(value, format);
}

std::string render_json(const Json& value, bool pretty) {
  return value.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace greenrpc::cli
