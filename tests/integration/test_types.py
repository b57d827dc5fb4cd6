"""Typed calls through redis-py: every supported argument/result type round trips."""
import redis

from harness import ServerTestCase, main, pack, unpack


class TypedCallTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.r = self.client()

    def call(self, name, *args):
        reply = self.r.execute_command(name, *[pack(a) for a in args])
        self.assertIsInstance(reply, bytes, "a typed call answers a bulk string")
        return unpack(reply)

    def test_add_quickstart(self):
        reply = self.r.execute_command("add", pack(1), pack({"value": 2}))
        self.assertEqual(reply, b"\x03")
        self.assertEqual(unpack(reply), 3)
        self.assertEqual(self.call("add", -5, {"value": -7}), -12)
        self.assertEqual(self.call("add", 2**31 - 1, {"value": 0}), 2**31 - 1)
        self.assertEqual(self.call("add", -(2**31), {"value": 0}), -(2**31))
        # Command names are case-insensitive, like Redis.
        self.assertEqual(unpack(self.r.execute_command("ADD", pack(40), pack({"value": 2}))), 42)

    def test_str_unicode(self):
        for s in ["", "hello", "héllo wörld", "日本語テキスト", "emoji 🎉🚀", "tab\tnew\nline\r\n", "nul\x00inside",
                  "x" * 100_000]:
            self.assertEqual(self.call("echo", s), s)

    def test_str_accepts_bin_and_returns_the_bytes(self):
        # std::string takes BIN too (bytes are not checked for UTF-8); the result is a STR.
        reply = self.r.execute_command("echo", pack(b"\x00\xff\xfe"))
        self.assertEqual(reply, b"\xa3\x00\xff\xfe")

    def test_list_of_str(self):
        self.assertEqual(self.call("concat", ["a", "b", "ç", "日"]), "abç日")
        self.assertEqual(self.call("concat", []), "")
        self.assertEqual(self.call("concat", ["x"] * 10_000), "x" * 10_000)

    def test_bytes_roundtrip(self):
        every_byte = bytes(range(256))
        for b in [b"", b"\x00", every_byte, every_byte * 4096, b"\r\n$5\r\n*1\r\n"]:
            reply = self.r.execute_command("bytes_roundtrip", pack(b))
            value = unpack(reply)
            self.assertIsInstance(value, bytes, "Bytes travels as msgpack BIN")
            self.assertEqual(value, b)
            self.assertEqual(self.call("bytes_len", b), len(b))
        # STR is accepted leniently for Bytes.
        self.assertEqual(self.call("bytes_roundtrip", "text"), b"text")

    def test_nested_model(self):
        user = {
            "name": "Zoë",
            "age": 42,
            "address": {"city": "Kraków", "zip": 30001},
            "email": "zoe@example.com",
            "tags": ["admin", "ü"],
            "scores": {"chess": 1800, "go": -3},
        }
        self.assertEqual(self.call("user_roundtrip", user), user)
        self.assertEqual(self.call("describe_user", user),
                         "name=Zoë;age=42;city=Kraków;zip=30001;email=zoe@example.com;tags=admin,ü;"
                         "scores=chess:1800,go:-3")

    def test_model_optional_none_and_omitted(self):
        user = {"name": "n", "age": 1, "address": {"city": "c", "zip": 2}, "email": None, "tags": [], "scores": {}}
        self.assertEqual(self.call("user_roundtrip", user), user)
        self.assertEqual(self.call("describe_user", user), "name=n;age=1;city=c;zip=2;email=<none>;tags=;scores=")
        # An optional field may be left out entirely; it comes back as nil.
        del user["email"]
        self.assertEqual(self.call("user_roundtrip", user)["email"], None)
        # Unknown fields are ignored; key order does not matter.
        shuffled = {"scores": {"a": 1}, "zzz": [1, 2], "tags": ["t"], "age": 3, "name": "m",
                    "address": {"zip": 9, "city": "q"}}
        self.assertEqual(self.call("describe_user", shuffled), "name=m;age=3;city=q;zip=9;email=<none>;tags=t;scores=a:1")

    def test_optional_scalar(self):
        self.assertEqual(self.call("optional_int", 21), 42)
        self.assertIsNone(self.call("optional_int", None))
        self.assertEqual(self.r.execute_command("optional_int", pack(None)), b"\xc0")

    def test_enum(self):
        self.assertEqual(self.call("next_color", 1), 2)
        self.assertEqual(self.call("next_color", 2), 3)
        self.assertEqual(self.call("next_color", 3), 1)
        with self.assertRaises(redis.ResponseError) as cm:
            self.call("next_color", 7)
        self.assertEqual(str(cm.exception), 'BAD_COLOR "no such color 7"')

    def test_tuple(self):
        self.assertEqual(self.call("swap_pair", [7, "seven"]), ["seven", 7])
        self.assertEqual(self.call("swap_pair", (-1, "ü")), ["ü", -1])

    def test_double(self):
        self.assertEqual(self.call("half", 1.5), 0.75)
        self.assertEqual(self.call("half", 5), 2.5)  # int is accepted for double
        value = self.call("half", 4.0)
        self.assertIsInstance(value, float, "a double result stays a msgpack float")
        self.assertEqual(value, 2.0)
        self.assertEqual(self.r.execute_command("half", pack(4.0)), b"\xcb" + bytes.fromhex("4000000000000000"))
        self.assertEqual(self.call("half", -1e300), -5e299)
        self.assertEqual(self.call("half", float("inf")), float("inf"))

    def test_bool(self):
        self.assertIs(self.call("negate", True), False)
        self.assertIs(self.call("negate", False), True)

    def test_uint8_range(self):
        self.assertEqual(self.call("inc_u8", 0), 1)
        self.assertEqual(self.call("inc_u8", 255), 256)
        # pydantic's conint(ge=0, le=255).
        for bad, bound in [(256, "less than or equal to 255"), (-1, "greater than or equal to 0"),
                           (2**64 - 1, "less than or equal to 255")]:
            with self.assertRaises(redis.ResponseError) as cm:
                self.call("inc_u8", bad)
            self.assertEqual(str(cm.exception),
                             'VALIDATION_ERROR ["command", "value"] "ensure this value is %s" "value_error.number.%s"'
                             % (bound, "not_le" if "less" in bound else "not_ge"))

    def test_int64_bounds(self):
        for v in [0, 1, -1, 2**63 - 1, -(2**63), 2**32, -(2**32)]:
            self.assertEqual(self.call("int64_identity", v), v)

    def test_list_and_dict(self):
        self.assertEqual(self.call("sum_list", list(range(1000))), sum(range(1000)))
        self.assertEqual(self.call("sum_list", []), 0)
        self.assertEqual(self.call("map_total", {"a": 1, "b": 2, "ç": 3}), 6)
        self.assertEqual(self.call("map_total", {}), 0)

    def test_void_results_are_nil(self):
        self.assertEqual(self.r.execute_command("noop"), b"\xc0")
        self.assertIsNone(self.call("noop"))
        self.assertIsNone(self.call("noop_arg", 5))

    def test_special_args_between_wire_args(self):
        self.assertEqual(self.call("mixed", 5, "y"), "y:5:0:mixed")
        self.assertEqual(self.call("incr_counter"), 1)
        self.assertEqual(self.call("mixed", -1, "z"), "z:-1:1:mixed")

    def test_auth_optional_value_unauthenticated(self):
        self.assertIsNone(self.call("maybe_user"))

    def test_request_context_connection_id_matches_client_id(self):
        conn = self.raw()
        cid = conn.call("CLIENT", "ID")
        self.assertIsInstance(cid, int)
        self.assertEqual(conn.rpc("info_ctx"), cid)
        other = self.raw()
        self.assertNotEqual(other.rpc("info_ctx"), cid)
        self.assertEqual(other.rpc("info_ctx"), other.call("CLIENT", "ID"))

    def test_large_payload(self):
        blob = bytes(range(256)) * 16384  # 4 MiB
        self.assertEqual(unpack(self.r.execute_command("bytes_roundtrip", pack(blob))), blob)


if __name__ == "__main__":
    main()
