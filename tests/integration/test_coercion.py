"""A server with ServerOptions::decode_limits.coercion = Coercion::pydantic answers what Tino's
server would: every value is validated by pydantic 1 itself (python3-pydantic) against the model
the C++ signature declares; where pydantic accepts it, greenrpc's reply is the command's result on
pydantic's value, and where pydantic refuses it, greenrpc's error line is Tino's, byte for byte.
The same values against a default (strict) server are refused: coercion is opt-in.
"""
import math
from typing import List

from pydantic import ValidationError, conint
from pydantic.tools import parse_obj_as

from harness import Error, ServerTestCase, main, pack
from test_errors import Int32, NumberInput, UInt8, User, tino_line

Int64 = conint(ge=-2**63, le=2**63 - 1)

# command, argument name in Tino's location, pydantic model of the refused/accepted argument,
# the command's result from pydantic's value, and the values to try.
CASES = [
    ("half", 0, float, lambda d: d / 2, ["3", True, "1e3", " 2.5 ", "1_000.5", "x", "", [1], "\x1c1.5",
                                          "1e400", "0." + "0" * 500 + "1e400"]),
    ("negate", 0, bool, lambda b: not b, ["yes", "OFF", 0, 1, 1.0, "maybe", 2, 0.5]),
    ("inc_u8", "value", UInt8, lambda v: v + 1, ["255", "256", 3.7, "-1", True, " 9 ", "0x1"]),
    ("int64_identity", 0, Int64, lambda v: v,
     ["9223372036854775807", "9223372036854775808", "-9223372036854775808", 1e19, -2.5,
      "\x1c12", "12\x1d", " " * 4299 + "1", " " * 4300 + "1", "1" + "0" * 5000]),
    ("sum_list", "values", List[Int32], sum, [["1", 2.0, True], ["1", "y"], [" 4 ", -1.5]]),
    ("echo", 0, str, lambda s: s, [5, -3, 1.0, 1e16, 0.1, 1e-05, True, False, [1], None]),
    ("bytes_len", 0, bytes, len, [12345, 0.5, True, [1]]),
]


class CoercionTest(ServerTestCase):
    server_args = ("--coerce-like-pydantic",)

    def setUp(self):
        super().setUp()
        self.conn = self.raw()

    def expect(self, command, argument, model, result, value, *before):
        """`value` as the last wire argument of `command` (after `before`)."""
        try:
            parsed = parse_obj_as(model, value)
        except ValidationError:
            raw = self.conn.call_raw(command, *[pack(v) for v in before], pack(value))
            self.assertEqual(raw, b"-" + tino_line(argument, model, value).encode() + b"\r\n",
                             "%s(%r): pydantic refuses it" % (command, value))
            return
        reply = self.conn.rpc(command, *before, value)
        self.assertNotIsInstance(reply, Error, "%s(%r): pydantic accepts it as %r" % (command, value, parsed))
        expected = result(parsed)
        if isinstance(expected, float) and math.isnan(expected):
            self.assertTrue(math.isnan(reply))
        else:
            self.assertEqual(reply, expected, "%s(%r) -> pydantic's %r" % (command, value, parsed))

    def test_scalars_as_pydantic_reads_them(self):
        for command, argument, model, result, values in CASES:
            for value in values:
                self.expect(command, argument, model, result, value)

    def test_the_first_argument_and_a_models_field(self):
        add_a = lambda a: a + 2  # add(a, {"value": 2})
        for a in ["5", 5.0, 5.9, True, " 7 ", "x", 1.5e10, "2147483648"]:
            self.expect_first("add", "a", Int32, add_a, a, {"value": 2})
        add_b = lambda b: 1 + b.value
        for b in [{"value": "2"}, {"value": 2.5}, {"value": False}, {"value": "two"}, {"value": "3000000000"}]:
            self.expect("add", "b", NumberInput, add_b, b, 1)

    def expect_first(self, command, argument, model, result, value, *after):
        try:
            parsed = parse_obj_as(model, value)
        except ValidationError:
            raw = self.conn.call_raw(command, pack(value), *[pack(v) for v in after])
            self.assertEqual(raw, b"-" + tino_line(argument, model, value).encode() + b"\r\n", "%r" % (value,))
            return
        self.assertEqual(self.conn.rpc(command, value, *after), result(parsed), "%r" % (value,))

    def test_nested_models(self):
        user = {"name": 7, "age": "30", "address": {"city": True, "zip": 1.0}, "email": 5,
                "tags": [1, 2.5], "scores": {"a": "3", "b": 4.9}}
        expected = parse_obj_as(User, user).dict()
        self.assertEqual(self.conn.rpc("user_roundtrip", user), expected)
        self.assertEqual(expected["address"], {"city": "True", "zip": 1})
        bad = dict(user, scores={"a": "3", "b": "many"})
        self.assertEqual(self.conn.call_raw("user_roundtrip", pack(bad)),
                         b"-" + tino_line("user", User, bad).encode() + b"\r\n")


class StrictByDefaultTest(ServerTestCase):
    def test_coercion_is_opt_in(self):
        conn = self.raw()
        self.assertEqual(conn.call_raw("half", pack("3")),
                         b'-VALIDATION_ERROR ["command", 0] "value is not a valid float" "type_error.float"\r\n')
        self.assertEqual(conn.call_raw("negate", pack(1)),
                         b'-VALIDATION_ERROR ["command", 0] "value could not be parsed to a boolean" "type_error.bool"\r\n')
        self.assertEqual(conn.call_raw("echo", pack(5)),
                         b'-VALIDATION_ERROR ["command", 0] "str type expected" "type_error.str"\r\n')
        self.assertEqual(conn.rpc("half", 3), 1.5)


if __name__ == "__main__":
    main()
