"""Every error code, byte for byte, as Tino's server writes it; after each error the same
connection still answers.

Tino answers a refused argument with pydantic 1's first error:
    VALIDATION_ERROR <json loc> <json msg> <json type>
where loc is ("command", <argument>) + the path pydantic found inside it. The expected lines here
are computed that way, from pydantic 1 itself (python3-pydantic) validating the same value
against the model the C++ signature declares — so these tests compare greenrpc with what Tino
would answer, not with greenrpc's own idea of it. A few lines are also spelled out literally.
"""
import asyncio
import json
from typing import Dict, List, Optional, Tuple

import aioredis
import redis
from pydantic import BaseModel, ValidationError, conint
from pydantic.tools import parse_obj_as

from harness import ServerTestCase, encode_command, main, pack

TRUNCATED_B = pack({"value": 2})[:-1]  # 7 of 8 bytes

# The test server's argument types (tests/integration/test_server.cpp), as pydantic models.
Int32 = conint(ge=-2**31, le=2**31 - 1)  # C++ int: pydantic's int bounded like the C++ type
UInt8 = conint(ge=0, le=255)


class NumberInput(BaseModel):
    value: Int32


class Address(BaseModel):
    city: str
    zip: Int32


class User(BaseModel):
    name: str
    age: Int32
    address: Address
    email: Optional[str]
    tags: List[str]
    scores: Dict[str, Int32]


def tino_line(argument, model, value):
    """What Tino's server writes for `value` refused as `model` (tino/tino.py, Command.execute)."""
    try:
        parse_obj_as(model, value)
    except ValidationError as e:
        err = e.errors()[0]
        loc = json.dumps(("command", argument) + err["loc"][1:])
        return "VALIDATION_ERROR %s %s %s" % (loc, json.dumps(err["msg"]), json.dumps(err["type"]))
    raise AssertionError("pydantic accepts %r as %r: not a refusal case" % (value, model))


class ErrorReplyTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.conn = self.raw()

    def check(self, parts, expected):
        """One request on the shared connection: exact error line, then the connection still works."""
        raw = self.conn.call_raw(*parts)
        self.assertEqual(raw, b"-" + expected.encode() + b"\r\n", "request %r" % (parts,))
        self.assertEqual(self.conn.call_raw("PING"), b"+PONG\r\n", "connection unusable after %r" % (parts,))
        self.assertEqual(self.conn.rpc("add", 1, {"value": 2}), 3)

    def check_tino(self, command, argument, model, *values, position=None):
        """`values` are the wire arguments; the one at `position` (default: the last) is refused."""
        position = len(values) - 1 if position is None else position
        self.check([command] + [pack(v) for v in values], tino_line(argument, model, values[position]))

    def test_the_issues_cases_literally(self):
        self.check(["add", pack("x"), pack({"value": 2})],
                   'VALIDATION_ERROR ["command", "a"] "value is not a valid integer" "type_error.integer"')
        self.check(["add", pack(1), pack({"value": "x"})],
                   'VALIDATION_ERROR ["command", "b", "value"] "value is not a valid integer" "type_error.integer"')
        self.check(["add", pack(1), pack({})],
                   'VALIDATION_ERROR ["command", "b", "value"] "field required" "value_error.missing"')
        self.check(["add", b"\xc1", pack({"value": 2})], 'INVALID_MSGPACK ["command", "a"] "invalid msgpack"')
        self.check(["add", pack(1)], "NUM_ARG_MISMATCH")
        self.check(["whoami"], "PERMISSION_DENIED")
        self.check(["nope"], "INVALID_COMMAND nope")

    def test_invalid_command(self):
        self.check(["nope", pack(1), pack(2)], "INVALID_COMMAND nope")
        self.check(["Add_Typo"], "INVALID_COMMAND Add_Typo")  # the name as sent
        long_name = "n" * 300
        self.check([long_name], "INVALID_COMMAND " + "n" * 256)
        # A name cannot split the line.
        self.check(["bad\r\nname"], "INVALID_COMMAND bad  name")

    def test_num_arg_mismatch_is_bare(self):
        self.check(["add", pack(1), pack({"value": 2}), pack(3)], "NUM_ARG_MISMATCH")
        self.check(["add"], "NUM_ARG_MISMATCH")
        self.check(["noop", pack(1)], "NUM_ARG_MISMATCH")
        # Special arguments are not wire arguments.
        self.check(["mixed", pack(1)], "NUM_ARG_MISMATCH")
        self.check(["incr_counter", pack(1)], "NUM_ARG_MISMATCH")

    def test_invalid_msgpack(self):
        self.check(["add", pack(1), TRUNCATED_B], 'INVALID_MSGPACK ["command", "b"] "invalid msgpack"')
        self.check(["add", b"", pack({"value": 2})], 'INVALID_MSGPACK ["command", "a"] "invalid msgpack"')
        self.check(["add", pack(1) + b"\x01", pack({"value": 2})], 'INVALID_MSGPACK ["command", "a"] "invalid msgpack"')
        # Without declared names the argument is its position.
        self.check(["half", b"\xc1"], 'INVALID_MSGPACK ["command", 0] "invalid msgpack"')
        self.check(["concat", b"\xdc\x00\x10"], 'INVALID_MSGPACK ["command", 0] "invalid msgpack"')
        # A bound Tino does not have: its own words, in the same layout.
        self.check(["concat", b"\xdd\xff\xff\xff\xff"],
                   'INVALID_MSGPACK ["command", 0] "array length 4294967295 exceeds limit max_array=1048576"')
        # The first bad argument is reported; positions skip special arguments.
        self.check(["mixed", pack(1), b"\xa5ab"], 'INVALID_MSGPACK ["command", 1] "invalid msgpack"')

    def test_validation_errors_are_pydantics(self):
        self.check_tino("add", "a", Int32, "x", {"value": 2}, position=0)
        self.check_tino("add", "a", Int32, None, {"value": 2}, position=0)
        self.check_tino("add", "a", Int32, 2**31, {"value": 2}, position=0)
        self.check_tino("add", "a", Int32, -2**31 - 1, {"value": 2}, position=0)
        self.check_tino("add", "b", NumberInput, 1, {"value": "x"})
        self.check_tino("add", "b", NumberInput, 1, {})
        self.check_tino("add", "b", NumberInput, 1, 5)
        self.check_tino("add", "b", NumberInput, 1, None)
        self.check_tino("add", "b", NumberInput, 1, [1])
        self.check_tino("inc_u8", "value", UInt8, 300)
        self.check_tino("inc_u8", "value", UInt8, -1)
        self.check_tino("sum_list", "values", List[Int32], [1, 2, "x"])
        self.check_tino("sum_list", "values", List[Int32], 7)
        self.check_tino("half", 0, float, "x")
        self.check_tino("negate", 0, bool, [1])
        self.check_tino("mixed", 1, str, 1, [2])
        self.check_tino("bytes_roundtrip", 0, bytes, [1])
        self.check_tino("swap_pair", 0, Tuple[Int32, str], "x")
        self.check_tino("swap_pair", 0, Tuple[Int32, str], [1, "a", 3])
        self.check_tino("swap_pair", 0, Tuple[Int32, str], [1])
        self.check_tino("swap_pair", 0, Tuple[Int32, str], ["x", "a"])
        self.check_tino("map_total", 0, Dict[str, Int32], [1])
        self.check_tino("map_total", 0, Dict[str, Int32], {"a": 1, "b": "x"})
        self.check_tino("optional_int", 0, Optional[Int32], "s")
        self.check_tino("concat", 0, List[str], ["a", None])

    def test_nested_models_are_pydantics(self):
        user = {"name": "n", "age": 1, "address": {"city": "c", "zip": 1}, "tags": [], "scores": {}}
        self.check_tino("user_roundtrip", "user", User, dict(user, address={"city": "c", "zip": "nine"}))
        self.check_tino("user_roundtrip", "user", User, {k: v for k, v in user.items() if k != "age"})
        self.check_tino("user_roundtrip", "user", User, dict(user, tags=["a", [2]]))
        self.check_tino("describe_user", "user", User, dict(user, scores={"a": "high"}))
        self.check_tino("user_roundtrip", "user", User, dict(user, address=5))
        self.check_tino("user_roundtrip", "user", User, dict(user, email=[5]))
        # The first failure in the order the model declares its fields, whatever the wire order:
        # address (3rd) before tags (5th), though tags arrives first.
        self.check_tino("user_roundtrip", "user", User,
                        {"tags": [1], "scores": {}, "name": "n", "age": 1, "address": {"city": [1]}})
        # A missing field comes before a bad later one.
        self.check_tino("user_roundtrip", "user", User, {"address": {}, "tags": [], "scores": {}})

    def test_unexpected_error(self):
        # Tino: UNEXPECTED_ERROR json.dumps(str(e)).
        self.check(["fail", pack("boom")], 'UNEXPECTED_ERROR "boom"')
        # CR/LF are JSON escapes: they cannot split the line.
        self.check(["fail", pack("multi\r\nline")], 'UNEXPECTED_ERROR "multi\\r\\nline"')
        self.check(["fail", pack('say "hi" \u00e9\U0001f600')], "UNEXPECTED_ERROR " + json.dumps('say "hi" \u00e9\U0001f600'))
        self.check(["fail", pack("")], 'UNEXPECTED_ERROR ""')
        # An exception echoing a large argument: its text is cut (4,096 bytes, then "...").
        self.check(["fail", pack("x" * 100000)], 'UNEXPECTED_ERROR "%s..."' % ("x" * 4093))

    def test_conn_state_of_unregistered_type(self):
        self.check(["wrong_state"], 'UNEXPECTED_ERROR "greenrpc::ConnState: no connection state of the requested '
                   'type; register one with App::state_factory"')

    def test_enum_out_of_range(self):
        # pydantic adds "; permitted: ..." from the enum's members: C++ has no list of them to give.
        for value in (2**40, "red"):
            self.check(["next_color", pack(value)],
                       'VALIDATION_ERROR ["command", 0] "value is not a valid enumeration member" "type_error.enum"')

    def test_custom_code(self):
        self.check(["custom_fail", pack("nope, not today")], 'CUSTOM_CODE "nope, not today"')

    def test_permission_denied_is_bare(self):
        # Authentication is checked before the arguments are decoded.
        self.check(["secret_add", b"\xc1"], "PERMISSION_DENIED")

    def test_errors_in_one_batch_keep_order(self):
        batch = b"".join([
            encode_command("add", pack(1), pack({"value": 2})),
            encode_command("nope"),
            encode_command("add", pack(1)),
            encode_command("fail", pack("x")),
            encode_command("custom_fail", pack("y")),
            encode_command("whoami"),
            encode_command("add", pack(1), TRUNCATED_B),
            encode_command("half", pack("z")),
            encode_command("add", pack(3), pack({"value": 4})),
        ])
        self.conn.send(batch)
        replies = [self.conn.read_raw() for _ in range(9)]
        self.assertEqual(replies, [
            b"$1\r\n\x03\r\n",
            b"-INVALID_COMMAND nope\r\n",
            b"-NUM_ARG_MISMATCH\r\n",
            b'-UNEXPECTED_ERROR "x"\r\n',
            b'-CUSTOM_CODE "y"\r\n',
            b"-PERMISSION_DENIED\r\n",
            b'-INVALID_MSGPACK ["command", "b"] "invalid msgpack"\r\n',
            b'-VALIDATION_ERROR ["command", 0] "value is not a valid float" "type_error.float"\r\n',
            b"$1\r\n\x07\r\n",
        ])

    CLIENT_CASES = [
        (["nope"], "INVALID_COMMAND nope"),
        (["add", pack(1)], "NUM_ARG_MISMATCH"),
        (["add", pack(1), TRUNCATED_B], 'INVALID_MSGPACK ["command", "b"] "invalid msgpack"'),
        (["add", pack(1), pack({"value": "x"})],
         'VALIDATION_ERROR ["command", "b", "value"] "value is not a valid integer" "type_error.integer"'),
        (["fail", pack("boom")], 'UNEXPECTED_ERROR "boom"'),
        (["custom_fail", pack("c")], 'CUSTOM_CODE "c"'),
        (["whoami"], "PERMISSION_DENIED"),
    ]

    def test_redis_py_sees_the_same_errors(self):
        r = self.client()
        for parts, expected in self.CLIENT_CASES:
            with self.assertRaises(redis.ResponseError) as cm:
                r.execute_command(*parts)
            self.assertEqual(str(cm.exception), expected)
            self.assertTrue(r.ping())
        # The pool kept one connection the whole time: errors never closed it.
        self.assertEqual(len(r.connection_pool._available_connections), 1)

    def test_tinos_client_library_sees_tinos_errors(self):
        """Tino's client is aioredis 1.3 execute(): the ReplyError text is the line after '-'."""
        async def run():
            pool = await aioredis.create_redis_pool("redis://127.0.0.1:%d" % self.port, timeout=5)
            try:
                seen = []
                for parts, _ in self.CLIENT_CASES:
                    try:
                        await pool.execute(*parts)
                        seen.append(None)
                    except aioredis.ReplyError as e:
                        seen.append(str(e))
                ok = await pool.execute("add", pack(1), pack({"value": 2}))
                return seen, ok
            finally:
                pool.close()
                await pool.wait_closed()
        seen, ok = asyncio.run(asyncio.wait_for(run(), 30))
        # aioredis sends command names upper-cased; Tino echoes the name as received.
        expected = [line.replace("INVALID_COMMAND nope", "INVALID_COMMAND NOPE") for _, line in self.CLIENT_CASES]
        self.assertEqual(seen, expected)
        self.assertEqual(ok, pack(3))


if __name__ == "__main__":
    main()
