#pragma once
// Coercion: how strictly a scalar argument must match its C++ type.

namespace greenrpc::codec {

/// strict (the default): an integer only from a msgpack integer, a float from a float or an
/// integer, a bool from true/false, a string from STR or BIN, Bytes from BIN or STR.
///
/// pydantic: also what pydantic 1 accepts for the same Python type, as Tino's server does, so a
/// Tino client's call that Tino would run is run here too:
/// - integers: from a float (truncated toward zero: 1.9 -> 1; nan and inf refused), from a bool
///   (true -> 1), from a decimal string (Python's int(): surrounding whitespace, a sign, digits
///   with single underscores between them: " -1_000 " -> -1000);
/// - float/double: from a bool, from a string Python's float() reads ("1.5e3", " inf ", "nan");
/// - bool: from 0 or 1 (integer or float), from a string (any case) "1", "0", "true", "false",
///   "t", "f", "yes", "no", "y", "n", "on", "off";
/// - std::string and Bytes: from an integer, a float (as Python's repr() writes it: 1.0 -> "1.0",
///   1e16 -> "1e+16") or a bool ("True", "False").
/// Strings given as BIN are read as their bytes. Not done: Unicode digits and spaces in numbers
/// (ASCII only), enums from anything but an integer, containers from other container shapes,
/// and types read through msgpack-cxx's adaptors or a user's value_reader.
enum class Coercion { strict, pydantic };

}  // namespace greenrpc::codec
