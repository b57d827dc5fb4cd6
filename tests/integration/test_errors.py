"""Every error code, byte for byte; after each error the same connection still answers."""
import redis

from harness import ServerTestCase, encode_command, main, pack

TRUNCATED_B = pack({"value": 2})[:-1]  # 7 of 8 bytes


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

    def test_invalid_command(self):
        self.check(["nope"], "INVALID_COMMAND nope")
        self.check(["nope", pack(1), pack(2)], "INVALID_COMMAND nope")
        self.check(["Add_Typo"], "INVALID_COMMAND Add_Typo")
        long_name = "n" * 300
        self.check([long_name], "INVALID_COMMAND " + "n" * 256)

    def test_num_arg_mismatch(self):
        self.check(["add", pack(1)], "NUM_ARG_MISMATCH add takes 2 arguments, got 1")
        self.check(["add", pack(1), pack({"value": 2}), pack(3)], "NUM_ARG_MISMATCH add takes 2 arguments, got 3")
        self.check(["add"], "NUM_ARG_MISMATCH add takes 2 arguments, got 0")
        self.check(["inc_u8"], "NUM_ARG_MISMATCH inc_u8 takes 1 argument, got 0")
        self.check(["noop", pack(1)], "NUM_ARG_MISMATCH noop takes 0 arguments, got 1")
        # Special arguments are not wire arguments.
        self.check(["mixed", pack(1)], "NUM_ARG_MISMATCH mixed takes 2 arguments, got 1")
        self.check(["incr_counter", pack(1)], "NUM_ARG_MISMATCH incr_counter takes 0 arguments, got 1")

    def test_invalid_msgpack(self):
        self.check(["add", pack(1), TRUNCATED_B],
                   'INVALID_MSGPACK ["add","b"] invalid msgpack: truncated input (7 bytes)')
        self.check(["add", b"", pack({"value": 2})], 'INVALID_MSGPACK ["add","a"] invalid msgpack: empty input')
        self.check(["add", pack(1) + b"\x01", pack({"value": 2})],
                   'INVALID_MSGPACK ["add","a"] invalid msgpack: 1 unexpected bytes after the value '
                   "(input must hold exactly one value)")
        self.check(["half", b"\xc1"], 'INVALID_MSGPACK ["half",0] invalid msgpack: malformed data')
        self.check(["concat", b"\xdc\x00\x10"],
                   'INVALID_MSGPACK ["concat",0] invalid msgpack: truncated input: array declares 16 '
                   "entries but the whole input is 3 bytes")
        # A hostile header is refused before anything is allocated.
        self.check(["concat", b"\xdd\xff\xff\xff\xff"],
                   'INVALID_MSGPACK ["concat",0] invalid msgpack: array length 4294967295 exceeds limit '
                   "max_array=1048576")
        # The first bad argument is reported, positions skip special arguments.
        self.check(["mixed", pack(1), b"\xa5ab"], 'INVALID_MSGPACK ["mixed",1] invalid msgpack: truncated input (3 bytes)')

    def test_validation_error_named(self):
        self.check(["add", pack("x"), pack({"value": 2})],
                   'VALIDATION_ERROR ["add","a"] value is not a valid integer int')
        self.check(["add", pack(1), pack({"value": "x"})],
                   "VALIDATION_ERROR [\"add\",\"b\"] field 'value': value is not a valid integer int")
        self.check(["add", pack(1), pack({})], "VALIDATION_ERROR [\"add\",\"b\"] field 'value': field required int")
        self.check(["add", pack(1), pack(5)], 'VALIDATION_ERROR ["add","b"] value is not a valid NumberInput NumberInput')
        self.check(["add", pack(1), pack(None)], 'VALIDATION_ERROR ["add","b"] value is required, got nil NumberInput')
        self.check(["add", pack(1.5), pack({"value": 2})], 'VALIDATION_ERROR ["add","a"] value is not a valid integer int')
        self.check(["add", pack(2**31), pack({"value": 2})],
                   'VALIDATION_ERROR ["add","a"] integer out of range for int: got 2147483648, '
                   "allowed -2147483648..2147483647 int")
        self.check(["sum_list", pack([1, 2, "x"])],
                   'VALIDATION_ERROR ["sum_list","values"] item 2: value is not a valid integer int')

    def test_validation_error_nested_model(self):
        user = {"name": "n", "age": 1, "address": {"city": "c", "zip": "nine"}, "tags": [], "scores": {}}
        self.check(["user_roundtrip", pack(user)],
                   "VALIDATION_ERROR [\"user_roundtrip\",\"user\"] field 'address', field 'zip': "
                   "value is not a valid integer int")
        del user["age"]
        user["address"]["zip"] = 1
        self.check(["user_roundtrip", pack(user)],
                   "VALIDATION_ERROR [\"user_roundtrip\",\"user\"] field 'age': field required int")
        user["age"] = 1
        user["scores"] = {"a": "b"}
        self.check(["describe_user", pack(user)],
                   "VALIDATION_ERROR [\"describe_user\",\"user\"] field 'scores', key 'a': "
                   "value is not a valid integer int")

    def test_validation_error_positional(self):
        self.check(["half", pack("x")], 'VALIDATION_ERROR ["half",0] value is not a valid number float')
        self.check(["negate", pack(1)], 'VALIDATION_ERROR ["negate",0] value is not a valid boolean bool')
        self.check(["mixed", pack(1), pack(2)], 'VALIDATION_ERROR ["mixed",1] value is not a valid string str')
        self.check(["bytes_roundtrip", pack(1)], 'VALIDATION_ERROR ["bytes_roundtrip",0] value is not a valid bytes bytes')
        # The type is the last word: spaces are dropped from it.
        self.check(["swap_pair", pack("x")], 'VALIDATION_ERROR ["swap_pair",0] value is not a valid tuple tuple[int,str]')
        self.check(["swap_pair", pack([1, "a", 2])],
                   'VALIDATION_ERROR ["swap_pair",0] expected 2 items, got 3 tuple[int,str]')
        self.check(["map_total", pack([1])], 'VALIDATION_ERROR ["map_total",0] value is not a valid dict dict[str,int]')
        self.check(["optional_int", pack("s")], 'VALIDATION_ERROR ["optional_int",0] value is not a valid integer int')

    def test_unexpected_error(self):
        self.check(["fail", pack("boom")], "UNEXPECTED_ERROR boom")
        # CR/LF cannot split the error line.
        self.check(["fail", pack("multi\r\nline")], "UNEXPECTED_ERROR multi  line")

    def test_conn_state_of_unregistered_type(self):
        self.check(["wrong_state"], "UNEXPECTED_ERROR greenrpc::ConnState: no connection state of the requested "
                   "type; register one with App::state_factory")

    def test_enum_out_of_range(self):
        self.check(["next_color", pack(2**40)],
                   'VALIDATION_ERROR ["next_color",0] integer out of range for Color: got 1099511627776, '
                   "allowed -2147483648..2147483647 Color")
        self.check(["next_color", pack("red")], 'VALIDATION_ERROR ["next_color",0] value is not a valid integer Color')

    def test_custom_code(self):
        self.check(["custom_fail", pack("nope, not today")], "CUSTOM_CODE nope, not today")

    def test_permission_denied(self):
        self.check(["whoami"], "PERMISSION_DENIED authentication required")
        # Authentication is checked before the arguments are decoded.
        self.check(["secret_add", b"\xc1"], "PERMISSION_DENIED authentication required")

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
            b"-NUM_ARG_MISMATCH add takes 2 arguments, got 1\r\n",
            b"-UNEXPECTED_ERROR x\r\n",
            b"-CUSTOM_CODE y\r\n",
            b"-PERMISSION_DENIED authentication required\r\n",
            b'-INVALID_MSGPACK ["add","b"] invalid msgpack: truncated input (7 bytes)\r\n',
            b'-VALIDATION_ERROR ["half",0] value is not a valid number float\r\n',
            b"$1\r\n\x07\r\n",
        ])

    def test_redis_py_sees_the_same_errors(self):
        r = self.client()
        cases = [
            (["nope"], "INVALID_COMMAND nope"),
            (["add", pack(1)], "NUM_ARG_MISMATCH add takes 2 arguments, got 1"),
            (["add", pack(1), TRUNCATED_B], 'INVALID_MSGPACK ["add","b"] invalid msgpack: truncated input (7 bytes)'),
            (["add", pack(1), pack({"value": "x"})],
             "VALIDATION_ERROR [\"add\",\"b\"] field 'value': value is not a valid integer int"),
            (["fail", pack("boom")], "UNEXPECTED_ERROR boom"),
            (["custom_fail", pack("c")], "CUSTOM_CODE c"),
            (["whoami"], "PERMISSION_DENIED authentication required"),
        ]
        for parts, expected in cases:
            with self.assertRaises(redis.ResponseError) as cm:
                r.execute_command(*parts)
            self.assertEqual(str(cm.exception), expected)
            self.assertTrue(r.ping())
        # The pool kept one connection the whole time: errors never closed it.
        self.assertEqual(len(r.connection_pool._available_connections), 1)


if __name__ == "__main__":
    main()
