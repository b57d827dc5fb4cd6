"""Malformed frames over raw sockets: the exact error reply, then the server closes that
connection, while other connections keep getting correct answers. Memory stays bounded by what
peers actually send, not by what they declare."""
import random
import socket
import sys
import threading
import time

from harness import HOST, RawConn, ServerTestCase, encode_command, info_field, main, pack, wait_until


def protocol_error(text):
    return b"-ERR Protocol error: " + text.encode() + b"\r\n"


INVALID_MULTIBULK = protocol_error("invalid multibulk length")
INVALID_BULK = protocol_error("invalid bulk length")
MISSING_CRLF = protocol_error("missing CRLF after bulk payload")
UNBALANCED = protocol_error("unbalanced quotes in request")
TOO_BIG_INLINE = protocol_error("too big inline request")

# (name, frame, replies) with the server's default limits: 64 MiB bulk, 2^20 elements, 64 KiB inline.
DEFAULT_LIMIT_CASES = [
    ("bad multibulk length", b"*x\r\n", [INVALID_MULTIBULK]),
    ("multibulk length with leading zero", b"*01\r\n", [INVALID_MULTIBULK]),
    ("multibulk length below -1", b"*-2\r\n", [INVALID_MULTIBULK]),
    ("multibulk length line too long", b"*" + b"1" * 40, [INVALID_MULTIBULK]),
    ("array over the limit", b"*1048577\r\n", [INVALID_MULTIBULK]),
    ("huge array", b"*3000000000\r\n", [INVALID_MULTIBULK]),
    ("wrong element type", b"*1\r\n+foo\r\n", [protocol_error("expected '$', got '+'")]),
    ("integer element", b"*2\r\n$4\r\nPING\r\n:1\r\n", [protocol_error("expected '$', got ':'")]),
    ("negative bulk length", b"*1\r\n$-5\r\n", [INVALID_BULK]),
    ("null bulk in a request", b"*1\r\n$-1\r\n", [INVALID_BULK]),
    ("bulk length not a number", b"*1\r\n$3x\r\nfoo\r\n", [INVALID_BULK]),
    ("bulk length overflows int64", b"*1\r\n$99999999999999999999\r\n", [INVALID_BULK]),
    ("bulk over the limit", b"*1\r\n$67108865\r\n", [INVALID_BULK]),
    ("huge declared bulk", b"*1\r\n$2000000000\r\n", [INVALID_BULK]),
    ("missing CRLF after payload", b"*1\r\n$3\r\nfooXY", [MISSING_CRLF]),
    ("CR without LF after payload", b"*1\r\n$3\r\nfoo\rX", [MISSING_CRLF]),
    ("unbalanced double quotes", b'ECHO "abc\r\n', [UNBALANCED]),
    ("unbalanced single quotes", b"PING 'abc\r\n", [UNBALANCED]),
    ("closing quote followed by a letter", b'PING "a"b\r\n', [UNBALANCED]),
    ("inline line over the limit", b"x" * (65536 + 2), [TOO_BIG_INLINE]),
    # Complete frames before the bad one are answered first.
    ("good frames then a bad one", encode_command("PING") + b"PING inline\r\n" + b"*1\r\n$-3\r\n",
     [b"+PONG\r\n", b"$6\r\ninline\r\n", INVALID_BULK]),
]


class Bystander:
    """A connection that keeps calling add() in a thread and records any wrong answer."""

    def __init__(self, port):
        self.conn = RawConn(port, timeout=5)
        self.stop = threading.Event()
        self.calls = 0
        self.failures = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        i = 0
        while not self.stop.is_set() and i < 1_000_000:
            i += 1
            try:
                got = self.conn.rpc("add", i, {"value": 1})
                if got != i + 1:
                    self.failures.append("add(%d) answered %r" % (i, got))
                    return
                self.calls += 1
            except Exception as e:
                self.failures.append("add(%d) failed: %r" % (i, e))
                return
            time.sleep(0.002)

    def finish(self):
        self.stop.set()
        self.thread.join(10)
        self.conn.close()
        return not self.thread.is_alive()


class BadInputTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.watch = self.raw()  # a second, concurrently open connection, checked synchronously
        self.bystander = Bystander(self.port)
        self._closers.append(self.bystander.finish)

    def assert_others_fine(self):
        self.assertEqual(self.watch.call_raw("PING"), b"+PONG\r\n")
        self.assertEqual(self.watch.rpc("add", 20, {"value": 22}), 42)

    def assert_bystander_progress(self):
        """The background connection completes at least one more call from now on."""
        before = self.bystander.calls
        progressed = wait_until(lambda: self.bystander.calls > before or self.bystander.failures, timeout=5,
                                interval=0.001)
        self.assertEqual(self.bystander.failures, [])
        self.assertTrue(progressed, "the background connection made no progress")

    def assert_bystander_fine(self, min_calls=1):
        self.assertTrue(self.bystander.finish(), "bystander thread stuck")
        self.assertEqual(self.bystander.failures, [])
        self.assertGreaterEqual(self.bystander.calls, min_calls)

    def run_cases(self, cases, port=None):
        for name, frame, replies in cases:
            with self.subTest(name):
                victim = self.raw(port=port)
                half = len(frame) // 2
                victim.send(frame[:half])
                self.assert_others_fine()  # while the victim holds a partial frame
                victim.send(frame[half:])
                for expected in replies:
                    self.assertEqual(victim.read_raw(), expected)
                victim.expect_closed()
                self.assert_others_fine()
                self.assert_bystander_progress()
                victim.close()

    def test_malformed_frames_default_limits(self):
        self.run_cases(DEFAULT_LIMIT_CASES)
        self.assert_bystander_fine(min_calls=len(DEFAULT_LIMIT_CASES))

    def test_partial_huge_bulk_then_disconnect(self):
        base = int(info_field(self.watch, "connected_clients"))
        for _ in range(5):
            victim = self.raw()
            victim.send(b"*2\r\n$15\r\nbytes_roundtrip\r\n$60000000\r\n" + b"\x00" * 100)
            self.assert_others_fine()
            victim.close()
            self.assert_others_fine()
        self.assertTrue(wait_until(lambda: int(info_field(self.watch, "connected_clients")) == base, 5),
                        "disconnected peers were not released")
        self.assert_bystander_fine()

    def test_rss_bounded_with_many_declared_huge_bulks(self):
        rss_before = self.server.rss_kib()
        victims = []
        for _ in range(20):
            v = self.raw()
            v.send(b"*2\r\n$15\r\nbytes_roundtrip\r\n$60000000\r\n" + b"\xab" * 1024)
            victims.append(v)
        self.assert_others_fine()
        time.sleep(0.3)
        self.assert_others_fine()
        rss_after = self.server.rss_kib()
        print("\n  VmRSS %d KiB before, %d KiB with 20 peers each declaring 60 MB" % (rss_before, rss_after),
              file=sys.stderr)
        self.assertLess(rss_after, 200 * 1024, "VmRSS %d KiB with 20 peers declaring 60 MB each" % rss_after)
        self.assertLess(rss_after - rss_before, 50 * 1024,
                        "VmRSS grew from %d to %d KiB for 20 KiB received" % (rss_before, rss_after))
        # They are still waiting for their payload, not closed.
        for v in victims:
            v.expect_silence(0.05)
        for v in victims:
            v.close()
        self.assert_others_fine()
        self.assert_bystander_fine()

    def test_a_real_60mb_bulk_is_served(self):
        blob = b"\x5a" * 60_000_000
        big = self.raw(timeout=30)
        big.send(encode_command("bytes_len", pack(blob)))
        self.assertEqual(big.read_raw(), b"$5\r\n\xce" + (60_000_000).to_bytes(4, "big") + b"\r\n")
        self.assert_others_fine()
        self.assert_bystander_fine()

    def test_peers_vanishing_mid_request(self):
        # Clients reset their connection (RST) while their request sleeps or while a large reply
        # is being written: the server must neither crash (SIGPIPE) nor stall the others.
        import struct
        linger_rst = struct.pack("ii", 1, 0)
        for k in range(10):
            s = socket.create_connection((HOST, self.port), timeout=3)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_rst)
            if k % 2:
                s.sendall(encode_command("sleep_ms", pack(50)))
            else:
                s.sendall(encode_command("bytes_roundtrip", pack(b"r" * (8 << 20))))
            time.sleep(0.01)
            s.close()
        time.sleep(0.2)
        self.assertTrue(self.server.alive(), "server died after peers reset mid-request")
        self.assert_others_fine()
        self.assert_bystander_progress()
        self.assert_bystander_fine()

    def test_random_garbage_never_hurts_others(self):
        rng = random.Random(20240607)
        for i in range(60):
            garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
            if i % 3 == 0:
                garbage = b"*" + garbage
            elif i % 3 == 1:
                garbage = b"*2\r\n$" + garbage
            s = socket.create_connection((HOST, self.port), timeout=3)
            try:
                s.sendall(garbage)
                s.shutdown(socket.SHUT_WR)
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:  # read until the server closes
                    try:
                        if not s.recv(65536):
                            break
                    except ConnectionResetError:
                        break
                    except socket.timeout:
                        self.fail("server kept a garbage connection (%r) open after EOF" % garbage[:40])
                else:
                    self.fail("server kept a garbage connection (%r) open after EOF" % garbage[:40])
            finally:
                s.close()
            if i % 10 == 9:
                self.assert_others_fine()
                self.assert_bystander_progress()
        self.assertTrue(self.server.alive())
        self.assert_bystander_fine()


class SmallLimitsTest(ServerTestCase):
    server_args = ("--max-bulk", "1024", "--max-array", "8", "--max-inline", "256")

    def test_limits_are_exact(self):
        c = self.raw()
        # A 1024-byte argument (msgpack bin16 header + 1021 bytes) is accepted...
        arg = pack(b"b" * 1021)
        self.assertEqual(len(arg), 1024)
        self.assertEqual(c.call_raw("bytes_len", arg), b"$3\r\n\xcd\x03\xfd\r\n")
        # ...8 elements too...
        self.assertEqual(c.call_raw("PING", *["a"] * 7), b"-ERR wrong number of arguments for 'ping' command\r\n")
        # ...and a 256-byte inline line.
        c.send(b"PING " + b"a" * 251 + b"\r\n")
        self.assertEqual(c.read_raw(), b"$251\r\n" + b"a" * 251 + b"\r\n")

    def test_one_past_each_limit(self):
        watch = self.raw()
        cases = [
            ("bulk of 1025", encode_command("bytes_len", pack(b"b" * 1022)), INVALID_BULK),
            ("declared bulk of 1025", b"*1\r\n$1025\r\n", INVALID_BULK),
            ("9 elements", encode_command("PING", *["a"] * 8), INVALID_MULTIBULK),
            ("inline of 257", b"PING " + b"a" * 252 + b"\r\n", TOO_BIG_INLINE),
            ("inline of 258 without newline", b"P" * 258, TOO_BIG_INLINE),
        ]
        for name, frame, expected in cases:
            with self.subTest(name):
                v = self.raw()
                v.send(frame)
                self.assertEqual(v.read_raw(), expected)
                v.expect_closed()
                self.assertEqual(watch.rpc("add", 1, {"value": 1}), 2)


class MaxClientsTest(ServerTestCase):
    server_args = ("--max-clients", "3")

    def test_over_max_clients(self):
        conns = [self.raw() for _ in range(3)]
        for c in conns:
            self.assertEqual(c.call_raw("PING"), b"+PONG\r\n")
        extra = self.raw()
        self.assertEqual(extra.read_raw(), b"-ERR max number of clients reached\r\n")
        extra.expect_closed()
        for c in conns:
            self.assertEqual(c.rpc("add", 2, {"value": 2}), 4)
        conns[0].close()

        def fresh_works():
            c = RawConn(self.port)
            try:
                return c.call_raw("PING") == b"+PONG\r\n"
            except (ConnectionError, OSError, TimeoutError):
                return False
            finally:
                c.close()

        self.assertTrue(wait_until(fresh_works, timeout=5), "a slot freed by a closed client was not reused")


if __name__ == "__main__":
    main()
