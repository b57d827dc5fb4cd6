// Coercion::pydantic: pydantic 1.10's int/float/bool/str/bytes validators (pydantic/validators.py)
// on msgpack scalars, with Python's int(), float() and repr() where they call them.

#include "greenrpc/codec/detail/pydantic_coercion.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "greenrpc/codec/validation_failures.hpp"

namespace greenrpc::codec::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// What int() and float() strip around a number: ASCII whitespace (Python also maps Unicode spaces
// such as U+00A0 to it, which is not done here; U+001C-U+001F it refuses).
bool is_python_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

std::string_view stripped(std::string_view s) {
    while (!s.empty() && is_python_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_python_space(s.back())) s.remove_suffix(1);
    return s;
}

// pydantic 1.10's int_validator refuses a str or bytes longer than this before calling int()
// (Python's limit on int() of long strings).
constexpr std::size_t kMaxStrInt = 4300;

// A STR or BIN payload (bytes: Python's int(b"12") and float(b"1.5") read them too).
std::optional<std::string_view> text_of(const msgpack::object& in) {
    if (in.type == msgpack::type::STR) return std::string_view(in.via.str.ptr, in.via.str.size);
    if (in.type == msgpack::type::BIN) return std::string_view(in.via.bin.ptr, in.via.bin.size);
    return std::nullopt;
}

// One or more digits with single underscores between them, from s[i]; appended to `digits`.
bool digit_part(std::string_view s, std::size_t& i, std::string& digits) {
    if (i >= s.size() || !is_digit(s[i])) return false;
    digits.push_back(s[i++]);
    while (i < s.size()) {
        if (is_digit(s[i])) {
            digits.push_back(s[i++]);
        } else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) {
            ++i;
        } else {
            break;
        }
    }
    return true;
}

msgpack::object integer_object(bool negative, std::uint64_t magnitude) {
    msgpack::object out;
    if (negative && magnitude != 0) {
        out.type = msgpack::type::NEGATIVE_INTEGER;
        out.via.i64 = static_cast<std::int64_t>(0 - magnitude);  // two's complement: -2^63 included
    } else {
        out.type = msgpack::type::POSITIVE_INTEGER;
        out.via.u64 = magnitude;
    }
    return out;
}

constexpr std::uint64_t kNegativeLimit = std::uint64_t{1} << 63;  // the magnitude of INT64_MIN

// Python's int(text), base 10: nullopt when it raises ValueError.
std::optional<msgpack::object> python_int(std::string_view s, std::int64_t min, std::uint64_t max,
                                          std::string_view type) {
    if (s.size() > kMaxStrInt) return std::nullopt;
    s = stripped(s);
    std::size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    std::string digits;
    if (!digit_part(s, i, digits) || i != s.size()) return std::nullopt;
    std::uint64_t magnitude = 0;
    bool overflow = false;
    for (char c : digits) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            overflow = true;
            break;
        }
        magnitude = magnitude * 10 + digit;
    }
    if (overflow || (negative && magnitude > kNegativeLimit)) {
        const std::size_t first = digits.find_first_not_of('0');
        throw_integer_out_of_range(negative, (negative ? "-" : "") + digits.substr(first), type, min, max);
    }
    return integer_object(negative, magnitude);
}

bool equals_ignoring_case(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        if (c != lower[i]) return false;
    }
    return true;
}

// Python's float(text): nullopt when it raises ValueError.
std::optional<double> python_float(std::string_view s) {
    s = stripped(s);
    std::size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    const std::string_view word = s.substr(i);
    if (equals_ignoring_case(word, "inf") || equals_ignoring_case(word, "infinity"))
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    if (equals_ignoring_case(word, "nan")) return std::numeric_limits<double>::quiet_NaN();
    std::string number;
    const bool whole = digit_part(s, i, number);
    bool fraction = false;
    std::size_t point = number.size();
    if (i < s.size() && s[i] == '.') {
        ++i;
        fraction = digit_part(s, i, number);
    }
    if (!whole && !fraction) return std::nullopt;
    long exponent = 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        bool exponent_negative = false;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) exponent_negative = s[i++] == '-';
        std::string exponent_digits;
        if (!digit_part(s, i, exponent_digits)) return std::nullopt;
        // Saturates far past any digit string's own length, so the sign of the order below holds.
        for (char c : exponent_digits) exponent = std::min(exponent * 10 + (c - '0'), 1'000'000'000'000'000L);
        if (exponent_negative) exponent = -exponent;
    }
    if (i != s.size()) return std::nullopt;
    // The digits with the point where it was, then the exponent: what from_chars reads.
    std::string plain = number.substr(0, point);
    if (plain.empty()) plain.push_back('0');
    plain.append(".").append(number, point).append("e").append(std::to_string(exponent));
    double value = 0;
    const auto result = std::from_chars(plain.data(), plain.data() + plain.size(), value, std::chars_format::general);
    if (result.ec == std::errc::result_out_of_range) {
        // Python rounds past the range to inf (1e400) or to zero (1e-400): which one by the decimal
        // exponent of the first significant digit.
        const std::size_t first = number.find_first_not_of('0');
        const long order = first == std::string::npos ? 0 : static_cast<long>(point) - static_cast<long>(first) + exponent;
        value = order > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    }
    return negative ? -value : value;
}

}  // namespace

std::string python_float_repr(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    const std::string_view sci(buffer, static_cast<std::size_t>(result.ptr - buffer));  // "-1.2345e+16": shortest
    std::string out;
    std::size_t i = 0;
    if (sci[i] == '-') out.push_back(sci[i++]);
    const std::size_t e = sci.find('e');
    std::string digits;
    for (char c : sci.substr(i, e - i))
        if (c != '.') digits.push_back(c);
    int exponent = 0;
    std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
    const int decpt = exponent + 1;  // value = 0.<digits> x 10^decpt
    const int n = static_cast<int>(digits.size());
    if (decpt > -4 && decpt <= 16) {  // Python's 'r' format: fixed notation in this range
        if (decpt <= 0) {
            out.append("0.").append(static_cast<std::size_t>(-decpt), '0').append(digits);
        } else if (decpt >= n) {
            out.append(digits).append(static_cast<std::size_t>(decpt - n), '0').append(".0");
        } else {
            out.append(digits, 0, static_cast<std::size_t>(decpt)).append(".").append(digits, static_cast<std::size_t>(decpt));
        }
        return out;
    }
    out.push_back(digits[0]);
    if (n > 1) out.append(".").append(digits, 1);
    out.push_back('e');
    out.push_back(exponent < 0 ? '-' : '+');
    const std::string magnitude = std::to_string(exponent < 0 ? -exponent : exponent);
    if (magnitude.size() < 2) out.push_back('0');
    return out.append(magnitude);
}

msgpack::object coerce_integer(const msgpack::object& in, std::int64_t min, std::uint64_t max, std::string_view type) {
    switch (in.type) {
        case msgpack::type::BOOLEAN: return integer_object(false, in.via.boolean ? 1 : 0);
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64: {
            const double value = in.via.f64;
            if (!std::isfinite(value)) return in;  // int(nan), int(inf) raise
            const double whole = std::trunc(value);
            if (whole >= 18446744073709551616.0 || whole < -9223372036854775808.0)
                throw_integer_out_of_range(whole < 0, python_float_repr(whole), type, min, max);
            if (whole >= 0) return integer_object(false, static_cast<std::uint64_t>(whole));
            return integer_object(true, 0 - static_cast<std::uint64_t>(static_cast<std::int64_t>(whole)));
        }
        case msgpack::type::STR:
        case msgpack::type::BIN: {
            if (auto value = python_int(*text_of(in), min, max, type)) return *value;
            return in;
        }
        default: return in;
    }
}

msgpack::object coerce_float(const msgpack::object& in) {
    msgpack::object out;
    out.type = msgpack::type::FLOAT64;
    if (in.type == msgpack::type::BOOLEAN) {
        out.via.f64 = in.via.boolean ? 1.0 : 0.0;
        return out;
    }
    if (const auto text = text_of(in)) {
        if (const auto value = python_float(*text)) {
            out.via.f64 = *value;
            return out;
        }
    }
    return in;
}

msgpack::object coerce_bool(const msgpack::object& in) {
    // pydantic's BOOL_TRUE / BOOL_FALSE; a number matches 1 or 0 by value (1.0 == 1 in Python).
    constexpr std::string_view kTrue[] = {"1", "on", "t", "true", "y", "yes"};
    constexpr std::string_view kFalse[] = {"0", "off", "f", "false", "n", "no"};
    msgpack::object out;
    out.type = msgpack::type::BOOLEAN;
    switch (in.type) {
        case msgpack::type::POSITIVE_INTEGER:
            if (in.via.u64 > 1) return in;
            out.via.boolean = in.via.u64 == 1;
            return out;
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64:
            if (in.via.f64 != 0.0 && in.via.f64 != 1.0) return in;
            out.via.boolean = in.via.f64 == 1.0;
            return out;
        case msgpack::type::STR:
        case msgpack::type::BIN: {
            const std::string_view text = *text_of(in);
            for (std::string_view word : kTrue)
                if (equals_ignoring_case(text, word)) return out.via.boolean = true, out;
            for (std::string_view word : kFalse)
                if (equals_ignoring_case(text, word)) return out.via.boolean = false, out;
            return in;
        }
        default: return in;
    }
}

std::optional<std::string> coerce_text(const msgpack::object& in) {
    switch (in.type) {
        case msgpack::type::POSITIVE_INTEGER: return std::to_string(in.via.u64);
        case msgpack::type::NEGATIVE_INTEGER: return std::to_string(in.via.i64);
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64: return python_float_repr(in.via.f64);
        case msgpack::type::BOOLEAN: return std::string(in.via.boolean ? "True" : "False");
        default: return std::nullopt;
    }
}

}  // namespace greenrpc::codec::detail
