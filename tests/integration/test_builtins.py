"""Built-in commands, inline commands, per-connection state, lifecycle."""
import time

from harness import (ServerProcess, ServerTestCase, encode_command, info_field, main, pack, unpack,
                     wait_until)

# The commands test_server registers (test_server.cpp, register_commands).
USER_COMMANDS = sorted([
    "add", "echo", "concat", "user_roundtrip", "describe_user", "optional_int", "bytes_roundtrip", "bytes_len",
    "next_color", "swap_pair", "half", "negate", "inc_u8", "sum_list", "map_total", "int64_identity", "noop",
    "noop_arg", "fail", "custom_fail", "whoami", "maybe_user", "secret_add", "incr_counter", "sleep_ms",
    "info_ctx", "worker_index", "mixed", "wrong_state",
])
BUILTINS = ["ping", "quit", "auth", "hello", "nonce", "echo", "client", "select", "info", "command"]


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


class BuiltinTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.raw()

    def test_ping(self):
        self.assertEqual(self.c.call_raw("PING"), b"+PONG\r\n")
        self.assertEqual(self.c.call_raw("ping"), b"+PONG\r\n")
        self.assertEqual(self.c.call_raw("PING", "hello world"), b"$11\r\nhello world\r\n")
        self.assertEqual(self.c.call_raw("PING", b"\x00\xff"), b"$2\r\n\x00\xff\r\n")
        self.assertEqual(self.c.call_raw("PING", "a", "b"), b"-ERR wrong number of arguments for 'ping' command\r\n")
        self.assertTrue(self.client().ping())

    def test_echo_is_shadowed_by_the_user_command(self):
        self.assertEqual(self.c.call_raw("ECHO", pack("hello")), b"$6\r\n\xa5hello\r\n")
        self.assertEqual(self.c.call_raw("ECHO", "hello"),
                         b'-INVALID_MSGPACK ["command", 0] "invalid msgpack"\r\n')
        self.assertEqual(self.c.call_raw("ECHO"), b"-NUM_ARG_MISMATCH\r\n")
        self.assertEqual(unpack(self.client().execute_command("ECHO", pack("ü"))), "ü")

    def test_quit(self):
        self.assertEqual(self.c.call_raw("QUIT"), b"+OK\r\n")
        self.c.expect_closed()

    def test_quit_drops_the_rest_of_the_batch(self):
        self.c.send(encode_command("PING") + encode_command("QUIT") + encode_command("PING"))
        self.assertEqual(self.c.read_raw(), b"+PONG\r\n")
        self.assertEqual(self.c.read_raw(), b"+OK\r\n")
        self.c.expect_closed()
        self.assertEqual(self.raw().call_raw("PING"), b"+PONG\r\n")

    def test_hello(self):
        cid = self.c.call("CLIENT", "ID")
        for args in [(), ("2",)]:
            reply = self.c.call("HELLO", *args)
            self.assertIsInstance(reply, list)
            self.assertEqual(len(reply), 14)
            h = pairs(reply)
            self.assertEqual(h[b"proto"], 2)
            self.assertEqual(h[b"server"], b"greenrpc")
            self.assertEqual(h[b"role"], b"master")
            self.assertEqual(h[b"mode"], b"standalone")
            self.assertEqual(h[b"id"], cid)
            self.assertEqual(h[b"modules"], [])
        self.assertEqual(self.c.call_raw("HELLO", "3"), b"-NOPROTO sorry, this protocol version is not supported\r\n")
        self.assertEqual(self.c.call_raw("HELLO", "x"), b"-ERR Protocol version is not an integer or out of range\r\n")
        self.assertEqual(self.c.call_raw("HELLO", "2", "BOGUS"), b"-ERR Syntax error in HELLO option 'BOGUS'\r\n")
        pairs(self.c.call("HELLO", "2", "SETNAME", "via-hello"))
        self.assertEqual(self.c.call("CLIENT", "GETNAME"), b"via-hello")
        self.assertEqual(self.c.call_raw("PING"), b"+PONG\r\n")

    def test_hello_setname_is_validated_like_client_setname(self):
        # Redis applies the CLIENT SETNAME rules to HELLO ... SETNAME too.
        self.assertEqual(self.c.call_raw("CLIENT", "SETNAME", "good"), b"+OK\r\n")
        self.assertEqual(self.c.call_raw("HELLO", "2", "SETNAME", "bad name"),
                         b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        self.assertEqual(self.c.call("CLIENT", "GETNAME"), b"good")

    def test_client(self):
        self.assertEqual(self.c.call_raw("CLIENT", "GETNAME"), b"$-1\r\n")
        self.assertEqual(self.c.call_raw("CLIENT", "SETNAME", "worker-1"), b"+OK\r\n")
        self.assertEqual(self.c.call_raw("CLIENT", "GETNAME"), b"$8\r\nworker-1\r\n")
        self.assertEqual(self.c.call_raw("client", "setname", "a b"),
                         b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        self.assertEqual(self.c.call("CLIENT", "GETNAME"), b"worker-1")
        self.assertEqual(self.c.call_raw("CLIENT", "SETINFO", "lib-name", "greenrpc-tests"), b"+OK\r\n")
        self.assertEqual(self.c.call_raw("CLIENT", "SETINFO", "lib-ver", "1.0"), b"+OK\r\n")
        self.assertEqual(self.c.call_raw("CLIENT", "BOGUS"),
                         b"-ERR unknown subcommand or wrong number of arguments for 'BOGUS'. Try CLIENT HELP.\r\n")
        self.assertEqual(self.c.call_raw("CLIENT"), b"-ERR wrong number of arguments for 'client' command\r\n")
        a = self.c.call("CLIENT", "ID")
        b = self.raw().call("CLIENT", "ID")
        self.assertIsInstance(a, int)
        self.assertIsInstance(b, int)
        self.assertGreater(b, a)
        # Names are per connection.
        self.assertIsNone(self.raw().call("CLIENT", "GETNAME"))

    def test_client_through_redis_py(self):
        r = self.client(client_name="from-redis-py")
        self.assertEqual(r.client_getname(), "from-redis-py")  # redis-py decodes GETNAME
        self.assertTrue(r.client_setname("renamed"))
        self.assertEqual(r.client_getname(), "renamed")
        self.assertIsInstance(r.client_id(), int)

    def test_select(self):
        self.assertEqual(self.c.call_raw("SELECT", "0"), b"+OK\r\n")
        self.assertEqual(self.c.call_raw("SELECT", "1"), b"-ERR DB index is out of range\r\n")
        self.assertEqual(self.c.call_raw("SELECT"), b"-ERR wrong number of arguments for 'select' command\r\n")
        r = self.client(db=0)
        self.assertTrue(r.ping())

    def test_info(self):
        text = self.c.call("INFO")
        self.assertIsInstance(text, bytes)
        lines = text.decode().split("\r\n")
        self.assertIn("loading:0", lines)
        self.assertIn("role:master", lines)
        self.assertIn("tcp_port:%d" % self.port, lines)
        self.assertIn("# Server", lines)
        info = self.client().info()
        self.assertEqual(info["loading"], 0)
        self.assertEqual(info["role"], "master")
        self.assertEqual(info["redis_mode"], "standalone")
        self.assertGreaterEqual(info["connected_clients"], 2)
        self.assertEqual(info["tcp_port"], self.port)

    def test_command_count_list_and_bare(self):
        count = self.c.call("COMMAND", "COUNT")
        # The user's echo shadows the built-in one: counted once.
        self.assertEqual(count, len(USER_COMMANDS) + len(BUILTINS) - 1)
        self.assertEqual(self.client().command_count(), count)
        # As in Redis, COMMAND LIST names every command, built-ins included.
        self.assertEqual(sorted(x.decode() for x in self.c.call("COMMAND", "LIST")),
                         sorted(set(USER_COMMANDS) | set(BUILTINS)))
        everything = self.c.call("COMMAND")
        self.assertEqual(len(everything), count)
        names = sorted(entry[0].decode() for entry in everything)
        self.assertEqual(names, sorted(set(USER_COMMANDS) | set(BUILTINS)))
        self.assertEqual(self.c.call_raw("COMMAND", "NOPE"), b"-ERR unknown subcommand 'NOPE'. Try COMMAND HELP.\r\n")

    def test_command_through_redis_py(self):
        # redis-py's COMMAND parser (used by its cluster client) understands the entries.
        table = self.client().command()
        self.assertEqual(table["add"]["arity"], 3)
        self.assertEqual(table["add"]["flags"], ["greenrpc"])
        self.assertEqual(table["ping"]["arity"], -1)
        self.assertEqual(len(table), self.c.call("COMMAND", "COUNT"))

    def test_select_other_db_through_redis_py(self):
        import redis
        with self.assertRaises(redis.ResponseError) as cm:
            self.client(db=1).ping()
        self.assertEqual(str(cm.exception), "DB index is out of range")

    def test_command_docs(self):
        docs = self.c.call("COMMAND", "DOCS", "add")
        self.assertEqual(len(docs), 2)
        self.assertEqual(docs[0], b"add")
        d = pairs(docs[1])
        self.assertEqual(d[b"group"], b"greenrpc")
        self.assertEqual(d[b"summary"], b"greenrpc command returning int")
        args = [pairs(a) for a in d[b"arguments"]]
        self.assertEqual([a[b"name"] for a in args], [b"a", b"b"])
        self.assertEqual([a[b"display_text"] for a in args], [b"msgpack int", b"msgpack NumberInput"])
        # Unnamed arguments are arg0, arg1...; unknown names are skipped.
        docs = pairs(self.c.call("COMMAND", "DOCS", "swap_pair", "no_such_command", "ping"))
        self.assertEqual(sorted(docs), [b"ping", b"swap_pair"])
        self.assertEqual(pairs(pairs(docs[b"swap_pair"])[b"arguments"][0])[b"name"], b"arg0")
        self.assertEqual(pairs(docs[b"ping"])[b"group"], b"connection")
        # No names: every command.
        self.assertEqual(len(self.c.call("COMMAND", "DOCS")), 2 * self.c.call("COMMAND", "COUNT"))

    def test_command_info(self):
        info = self.c.call("COMMAND", "INFO", "add", "nope", "PING", "noop")
        self.assertEqual(len(info), 4)
        # Flags are simple strings (+greenrpc), as in Redis.
        self.assertEqual(info[0], [b"add", 3, ["greenrpc"], 0, 0, 0, [], [], [], []])
        self.assertIsNone(info[1])
        self.assertEqual(info[2][:3], [b"ping", -1, ["fast", "stale"]])
        self.assertEqual(info[3][:2], [b"noop", 1])

    def test_inline_commands(self):
        c = self.c
        c.send(b"PING\r\n")
        self.assertEqual(c.read_raw(), b"+PONG\r\n")
        c.send(b"PING\n")  # a bare LF ends a line too
        self.assertEqual(c.read_raw(), b"+PONG\r\n")
        c.send(b"ping   \"hello world\"\r\n")
        self.assertEqual(c.read_raw(), b"$11\r\nhello world\r\n")
        c.send(b"PING '\\x41'\r\n")  # no escapes inside single quotes
        self.assertEqual(c.read_raw(), b"$4\r\n\\x41\r\n")
        # A typed call typed by hand: msgpack bytes through \x escapes.
        c.send(b'add "\\x01" "\\x81\\xa5value\\x02"\r\n')
        self.assertEqual(c.read_raw(), b"$1\r\n\x03\r\n")
        c.send(b"ECHO hello\r\n")  # the user echo wants msgpack
        self.assertTrue(c.read_raw().startswith(b'-INVALID_MSGPACK ["command", 0] '))
        # Empty lines are ignored, then inline and multibulk mix freely.
        c.send(b"\r\n\r\n  \r\nCLIENT SETNAME typed\r\n" + encode_command("CLIENT", "GETNAME"))
        self.assertEqual(c.read_raw(), b"+OK\r\n")
        self.assertEqual(c.read_raw(), b"$5\r\ntyped\r\n")
        c.send(b"nope 1 2\r\n")
        self.assertEqual(c.read_raw(), b"-INVALID_COMMAND nope\r\n")

    def test_inline_typed_like_telnet(self):
        c = self.c
        for piece in [b"P", b"I", b"N", b"G", b"\r", b"\n", b"PING ", b"abc", b"\r\n"]:
            c.send(piece)
            time.sleep(0.01)
        self.assertEqual(c.read_raw(), b"+PONG\r\n")
        self.assertEqual(c.read_raw(), b"$3\r\nabc\r\n")

    def test_multibulk_split_byte_by_byte(self):
        frame = encode_command("add", pack(20), pack({"value": 22}))
        for i in range(len(frame)):
            self.c.send(frame[i:i + 1])
            if i % 7 == 0:
                time.sleep(0.002)
        self.assertEqual(self.c.read_raw(), b"$1\r\n*\r\n")  # msgpack 42 is 0x2a '*'

    def test_empty_and_null_arrays_get_no_reply(self):
        self.c.send(b"*0\r\n*-1\r\n" + encode_command("PING"))
        self.assertEqual(self.c.read_raw(), b"+PONG\r\n")
        self.c.expect_silence(0.2)

    def test_conn_state_is_per_connection(self):
        a, b = self.raw(), self.raw()
        self.assertEqual([a.rpc("incr_counter") for _ in range(3)], [1, 2, 3])
        self.assertEqual(b.rpc("incr_counter"), 1)
        self.assertEqual(a.rpc("incr_counter"), 4)
        self.assertEqual(b.rpc("incr_counter"), 2)
        a.close()
        self.assertEqual(self.raw().rpc("incr_counter"), 1)
        # Two redis-py clients (each with its own pooled connection) too.
        r1, r2 = self.client(), self.client()
        self.assertEqual([unpack(r1.execute_command("incr_counter")) for _ in range(5)], [1, 2, 3, 4, 5])
        self.assertEqual(unpack(r2.execute_command("incr_counter")), 1)

    def test_connections_are_counted_and_released(self):
        base = int(info_field(self.c, "connected_clients"))
        extra = [self.raw() for _ in range(10)]
        for e in extra:
            self.assertEqual(e.call_raw("PING"), b"+PONG\r\n")
        self.assertEqual(int(info_field(self.c, "connected_clients")), base + 10)
        for e in extra:
            e.close()
        self.assertTrue(wait_until(lambda: int(info_field(self.c, "connected_clients")) == base, timeout=5),
                        "closed connections were not released")


class BuiltinEchoTest(ServerTestCase):
    """Without a user echo, the built-in ECHO answers."""

    server_args = ("--no-echo",)

    def test_builtin_echo(self):
        c = self.raw()
        self.assertEqual(c.call_raw("ECHO", "hello"), b"$5\r\nhello\r\n")
        c.send(b"ECHO hello\r\n")
        self.assertEqual(c.read_raw(), b"$5\r\nhello\r\n")
        self.assertEqual(c.call_raw("ECHO"), b"-ERR wrong number of arguments for 'echo' command\r\n")
        self.assertEqual(self.client().echo("ü"), "ü".encode())
        self.assertEqual(c.call("COMMAND", "COUNT"), len(USER_COMMANDS) - 1 + len(BUILTINS))


class LifecycleTest(ServerTestCase):
    def test_stops_on_stdin_eof(self):
        s = ServerProcess()
        try:
            self.assertEqual(self.raw(port=s.port).call_raw("PING"), b"+PONG\r\n")
            s.proc.stdin.close()
            s.proc.wait(8)
            self.assertEqual(s.proc.returncode, 0)
            self.assertIn("stdin EOF", s.stderr_text())
        finally:
            s.kill()

    def test_stop_with_busy_and_idle_connections(self):
        s = ServerProcess()
        try:
            idle = self.raw(port=s.port)
            busy = self.raw(port=s.port, timeout=10)
            self.assertEqual(idle.call_raw("PING"), b"+PONG\r\n")
            busy.send(encode_command("sleep_ms", pack(300)))
            time.sleep(0.05)
            started = time.monotonic()
            self.assertEqual(s.stop(), 0)
            self.assertLess(time.monotonic() - started, 5)
            # The in-flight request finished within the grace period, then both were closed.
            self.assertEqual(busy.read_raw(), b"$3\r\n\xcd\x01\x2c\r\n")
            busy.expect_closed()
            idle.expect_closed()
        finally:
            s.kill()


if __name__ == "__main__":
    main()
