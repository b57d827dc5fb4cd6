"""arrpc's wire on greenrpc's port, against samples/arrpc_echo (App::message_handler).

The client below is written from the wire's description (docs/protocol.md, "arrpc wire"), not
from arrpc's code: a request is one msgpack value (packed with use_bin_type=True), a signed one the
map {"arrpc.sign": <hex HMAC-SHA256(secret, data)>, "data": <bin: the packed message>}; a reply is
one msgpack value, and a string reply containing "arrpc.error.RpcException" or
"arrpc.error.AuthException" is an error. Unlike arrpc's own client, it frames replies by unpacking
them, not by read sizes.

Every socket has a timeout; the server is stopped (SIGTERM, bounded) after each test.
"""
import hashlib
import hmac
import os
import re
import socket
import ssl
import tempfile
import threading
import time
import unittest
import urllib.request

import msgpack
import redis

import harness
import test_certificates  # tests/support: certificates made with the openssl CLI
from harness import HOST, main, wait_until

ECHO = os.environ.get("GREENRPC_ARRPC_ECHO", "")

AUTH_MARKER = "arrpc.error.AuthException"
RPC_MARKER = "arrpc.error.RpcException"
BAD_SIGNATURE = ("arrpc.error.AuthException: Invalid or missing message signature, "
                 "make sure 'auth_secret' is set/correct")
# ServerOptions' defaults: protocol_limits.max_bulk_bytes (64 MiB) + 128 bytes for the signed wrapper.
MAX_FRAME = (64 << 20) + 128


class AuthException(Exception):
    pass


class RpcException(Exception):
    pass


class ArrpcClient:
    """One long-lived connection; send() packs (and signs), sends, and reads one reply."""

    def __init__(self, port, secret=None, timeout=5.0, context=None, server_hostname=None):
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.timeout = timeout
        sock = socket.create_connection((HOST, port), timeout=timeout)
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=server_hostname)
        self.sock = sock
        self.unpacker = msgpack.Unpacker(raw=False)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def pack(self, message, secret=None):
        data = msgpack.packb(message, use_bin_type=True)
        secret = secret if secret is not None else self.secret
        if secret is None:
            return data
        signature = hmac.new(secret, data, hashlib.sha256).hexdigest()
        return msgpack.packb({"arrpc.sign": signature, "data": data}, use_bin_type=True)

    def send_bytes(self, data):
        self.sock.sendall(data)

    def read(self):
        """The next reply, as it came (no error check)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for value in self.unpacker:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply within %.1fs" % self.timeout)
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.unpacker.feed(chunk)

    @staticmethod
    def check(reply):
        if isinstance(reply, str) and AUTH_MARKER in reply:
            raise AuthException(reply)
        if isinstance(reply, str) and RPC_MARKER in reply:
            raise RpcException(reply)
        return reply

    def send(self, message):
        self.send_bytes(self.pack(message))
        return self.check(self.read())

    def expect_closed(self, timeout=5.0):
        """Nothing more arrives (beyond replies already parsed) and the server closes."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the server did not close the connection")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                return
            self.unpacker.feed(chunk)
            leftover = list(self.unpacker)
            if leftover:
                raise AssertionError("unexpected replies before the close: %r" % leftover)


class ArrpcTestCase(harness.ServerTestCase):
    """samples/arrpc_echo on a kernel-chosen port ("PORT <n> [METRICS_PORT <m>]" on stdout),
    stopped with SIGTERM after each test."""

    executable = ECHO or "GREENRPC_ARRPC_ECHO is not set"
    stopped_line = "arrpc_echo: stopped"

    def arrpc(self, port=None, **kw):
        c = ArrpcClient(port or self.port, **kw)
        self._closers.append(c.close)
        return c


class PlainTest(ArrpcTestCase):
    def test_readme_example(self):
        c = self.arrpc()
        self.assertEqual(c.send({"foo": "bar"}), {"foo": "bar"})

    def test_assorted_values_come_back_as_they_went(self):
        c = self.arrpc()
        values = [
            {"first": "a map, so that the connection's first byte is msgpack's"},
            0, 1, 5, 42, 127, 128, 65536, 2 ** 40, -1, -33, -2 ** 40,
            1.5, -0.25, True, False, None,
            "", "text", "Zoë ünïcode", "x" * 300,
            b"", b"\x00\x01\xff", bytes(range(256)) * 3,
            [], [1, "two", b"three", None, [4, [5, {"six": 6}]]],
            {}, {"nested": {"list": [1, 2, {"deep": [b"bin", "str"]}], "n": -7}},
        ]
        for v in values:
            self.assertEqual(c.send(v), v)

    def test_a_first_message_that_is_not_a_map_is_served_too(self):
        # Any msgpack type byte from 0x80 chooses arrpc: an array, a str, a negative int, a float...
        for first in (["a", 1], "just text", -5, 2.5, None, b"bytes"):
            c = self.arrpc()
            self.assertEqual(c.send(first), first)

    def test_rpc_exception_from_raise(self):
        c = self.arrpc()
        with self.assertRaises(RpcException) as e:
            c.send({"raise": "Something went wrong"})
        self.assertEqual(str(e.exception), "arrpc.error.RpcException: Something went wrong")
        # A non-string value as msgpack-cxx prints it; the connection stays open after both.
        with self.assertRaises(RpcException) as e:
            c.send({"raise": 42, "other": 1})
        self.assertEqual(str(e.exception), "arrpc.error.RpcException: 42")
        self.assertEqual(c.send({"after": "raise"}), {"after": "raise"})

    def test_a_message_of_exactly_4096_bytes(self):
        # arrpc's own recvall() reads 4096 bytes at a time until a short read: a message of
        # exactly 4096 bytes leaves it waiting. Framing by value does not care.
        message = "a" * (4096 - 3)  # str16: 3 header bytes
        self.assertEqual(len(msgpack.packb(message, use_bin_type=True)), 4096)
        c = self.arrpc()
        self.assertEqual(c.send(message), message)
        as_map = {"k": "b" * (4096 - 1 - 2 - 3)}  # fixmap, fixstr "k", str16 header
        self.assertEqual(len(msgpack.packb(as_map, use_bin_type=True)), 4096)
        self.assertEqual(c.send(as_map), as_map)

    def test_a_50_kb_message(self):
        c = self.arrpc()
        message = {"blob": os.urandom(50 * 1024), "list": list(range(1000)), "text": "z" * 1000}
        self.assertEqual(c.send(message), message)

    def test_two_messages_in_one_write_get_two_replies_in_order(self):
        c = self.arrpc()
        c.send_bytes(c.pack({"n": 1}) + c.pack({"n": 2}))
        self.assertEqual(c.read(), {"n": 1})
        self.assertEqual(c.read(), {"n": 2})
        # Many at once (a pipeline), a large one among them.
        messages = [{"i": i, "pad": "p" * (i * 37 % 5000)} for i in range(200)]
        messages[100]["big"] = b"B" * 200000
        # Sent from a thread while the replies are read: neither side's socket buffer fills up.
        sender = threading.Thread(target=c.send_bytes, args=(b"".join(c.pack(m) for m in messages),))
        sender.start()
        try:
            for m in messages:
                self.assertEqual(c.read(), m)
        finally:
            sender.join(10)

    def test_a_message_split_across_many_tiny_writes(self):
        c = self.arrpc()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        message = {"split": "across writes", "data": bytes(range(200)), "list": [1, 2, 3]}
        data = c.pack(message)
        for i in range(0, len(data), 3):
            c.send_bytes(data[i:i + 3])
            time.sleep(0.002)
        self.assertEqual(c.read(), message)
        # One byte at a time, with a pause long enough that each arrives alone.
        for b in c.pack({"one": "byte at a time"}):
            c.send_bytes(bytes([b]))
            time.sleep(0.005)
        self.assertEqual(c.read(), {"one": "byte at a time"})

    def test_resp_and_arrpc_connections_at_once_on_one_port(self):
        errors = []

        def arrpc_worker(n):
            try:
                c = ArrpcClient(self.port, timeout=10)
                try:
                    for i in range(150):
                        m = {"worker": n, "i": i, "pad": "x" * (i % 50)}
                        if c.send(m) != m:
                            errors.append("arrpc %d/%d: wrong reply" % (n, i))
                finally:
                    c.close()
            except Exception as e:  # reported below
                errors.append("arrpc %d: %r" % (n, e))

        def resp_worker(n):
            try:
                r = redis.Redis(host=HOST, port=self.port, socket_timeout=10)
                try:
                    for i in range(150):
                        v = b"resp %d %d" % (n, i)
                        if r.echo(v) != v:
                            errors.append("resp %d/%d: wrong reply" % (n, i))
                    if not r.ping():
                        errors.append("resp %d: no PONG" % n)
                finally:
                    r.close()
            except Exception as e:  # reported below
                errors.append("resp %d: %r" % (n, e))

        threads = [threading.Thread(target=arrpc_worker, args=(n,)) for n in range(4)]
        threads += [threading.Thread(target=resp_worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "a client thread is stuck")
        self.assertEqual(errors, [])
        # And one connection of each, alternating.
        c, r = self.arrpc(), self.client()
        for i in range(20):
            self.assertEqual(c.send([i]), [i])
            self.assertEqual(r.echo(str(i)), str(i).encode())

    def test_garbage_first_bytes_close_that_connection_only(self):
        good = self.arrpc()
        self.assertEqual(good.send({"before": 1}), {"before": 1})
        for garbage in (b"\xc1", b"\xc1\x81\xa1a\x01", b"\x00\x01\x02", b"\x16\x03\x01\x00\x05hello"):
            bad = self.arrpc()
            bad.send_bytes(garbage)
            bad.expect_closed()
        self.assertEqual(good.send({"after": 2}), {"after": 2})
        self.assertEqual(self.client().ping(), True)

    def test_malformed_msgpack_after_a_good_start_is_answered_then_closed(self):
        c = self.arrpc()
        self.assertEqual(c.send({"ok": 1}), {"ok": 1})
        c.send_bytes(c.pack({"ok": 2}) + b"\x82\xa1a\x01\xa1b\xc1")  # 0xc1 is never msgpack
        self.assertEqual(c.read(), {"ok": 2})
        with self.assertRaises(RpcException) as e:
            c.check(c.read())
        self.assertEqual(str(e.exception), "arrpc.error.RpcException: Protocol error: invalid msgpack: byte 0xc1 at offset 6")
        c.expect_closed()
        self.assertEqual(self.arrpc().send({"others": "still served"}), {"others": "still served"})

    def test_a_declared_length_beyond_the_limit_is_refused_without_waiting_or_allocating(self):
        before = self.server.rss_kib()
        c = self.arrpc()
        start = time.monotonic()
        c.send_bytes(b"\xdb\x40\x00\x00\x00abc")  # str32 declaring 1 GiB, then 3 bytes
        with self.assertRaises(RpcException) as e:
            c.check(c.read())
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertEqual(str(e.exception), "arrpc.error.RpcException: Protocol error: message size of %d "
                         "exceeds limit max_frame_bytes=%d" % (5 + (1 << 30), MAX_FRAME))
        c.expect_closed()
        # An array declaring 4 billion elements, inside a map: the same.
        c = self.arrpc()
        c.send_bytes(b"\x81\xa1a\xdd\xff\xff\xff\xff\x01")
        with self.assertRaises(RpcException) as e:
            c.check(c.read())
        self.assertIn("exceeds limit max_array=1048576", str(e.exception))
        c.expect_closed()
        self.assertLess(self.server.rss_kib() - before, 64 * 1024, "the server's RSS grew by more than 64 MiB")
        self.assertEqual(self.arrpc().send({"still": "serving"}), {"still": "serving"})

    def test_without_a_secret_a_signed_message_reaches_the_handler_whole(self):
        # As arrpc's server without auth_secret: the map is the message.
        c = self.arrpc(secret="s3cret")
        wrapped = msgpack.unpackb(c.pack({"x": 1}), raw=False)
        self.assertEqual(c.send({"x": 1}), wrapped)


class SigningTest(ArrpcTestCase):
    server_args = ("--secret", "s3cret")

    def test_signed_with_the_right_secret(self):
        c = self.arrpc(secret="s3cret")
        for v in ({"foo": "bar"}, [1, 2, 3], "text", b"\x00bin", 7, None, {"n": {"deep": [b"x"]}}):
            self.assertEqual(c.send(v), v)
        with self.assertRaises(RpcException) as e:
            c.send({"raise": "signed and raised"})
        self.assertEqual(str(e.exception), "arrpc.error.RpcException: signed and raised")

    def test_wrong_secret(self):
        c = self.arrpc(secret="not the secret")
        with self.assertRaises(AuthException) as e:
            c.send({"foo": "bar"})
        self.assertEqual(str(e.exception), BAD_SIGNATURE)
        # The connection stays open: the right signature is served on it.
        c.secret = b"s3cret"
        self.assertEqual(c.send({"foo": "bar"}), {"foo": "bar"})

    def test_unsigned_to_a_signing_server(self):
        c = self.arrpc()
        for v in ({"foo": "bar"}, [1], "x", {"arrpc.sign": "only a signature"}):
            with self.assertRaises(AuthException) as e:
                c.send(v)
            self.assertEqual(str(e.exception), BAD_SIGNATURE)

    def test_malformed_signatures_are_refused(self):
        c = self.arrpc()
        data = msgpack.packb({"foo": "bar"}, use_bin_type=True)
        good = hmac.new(b"s3cret", data, hashlib.sha256).hexdigest()
        # Uppercase, short, long, empty, not hex, and the right digits as bin instead of str.
        for signature in (good.upper(), good[:-1], good + "0", "", good[:-2] + "zz", good.encode()):
            c.send_bytes(msgpack.packb({"arrpc.sign": signature, "data": data}, use_bin_type=True))
            self.assertEqual(c.read(), BAD_SIGNATURE, signature)
        # The data as str instead of bin.
        c.send_bytes(msgpack.packb({"arrpc.sign": good, "data": data.decode("latin-1")}, use_bin_type=True))
        self.assertEqual(c.read(), BAD_SIGNATURE)
        # The data altered after signing.
        c.send_bytes(msgpack.packb({"arrpc.sign": good, "data": data[:-1] + b"z"}, use_bin_type=True))
        self.assertEqual(c.read(), BAD_SIGNATURE)
        # Either key order, as long as it is exactly the two keys.
        c.send_bytes(msgpack.packb({"data": data, "arrpc.sign": good}, use_bin_type=True))
        self.assertEqual(c.read(), {"foo": "bar"})
        c.send_bytes(msgpack.packb({"arrpc.sign": good, "data": data, "extra": 1}, use_bin_type=True))
        self.assertEqual(c.read(), BAD_SIGNATURE)

    def test_signed_requests_can_be_replayed(self):
        # What arrpc's signatures are: the same bytes are accepted again, on another connection,
        # as often as they are sent (see ReplayRefusedTest for the setting that refuses them).
        signed = self.arrpc(secret="s3cret").pack({"transfer": 100})
        for _ in range(3):
            c = self.arrpc()
            c.send_bytes(signed)
            self.assertEqual(c.read(), {"transfer": 100})

    def test_resp_requests_still_need_greenrpc_signatures(self):
        # The secret signs RESP requests too (greenrpc's envelope); built-ins answer unsigned.
        self.assertTrue(self.client().ping())


class ReplayRefusedTest(ArrpcTestCase):
    server_args = ("--secret", "s3cret", "--refuse-arrpc-signatures")

    def test_arrpc_signed_requests_are_refused(self):
        c = self.arrpc(secret="s3cret")
        with self.assertRaises(AuthException) as e:
            c.send({"transfer": 100})
        self.assertTrue(str(e.exception).startswith("arrpc.error.AuthException: arrpc-signed requests are refused"),
                        str(e.exception))
        with self.assertRaises(AuthException) as e:
            self.arrpc().send({"unsigned": True})
        self.assertEqual(str(e.exception), BAD_SIGNATURE)


class MetricsTest(ArrpcTestCase):
    server_args = ("--metrics-port", "0")

    def scrape(self):
        url = "http://%s:%d/metrics" % (HOST, self.server.metrics_port)
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()

    def sample(self, text, name, **labels):
        want = dict(labels, port=str(self.port))
        total = 0.0
        for line in text.splitlines():
            m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
            if not m or m.group(1) != name:
                continue
            got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            if all(got.get(k) == v for k, v in want.items()):
                total += float(m.group(3))
        return total

    def test_arrpc_requests_are_counted_like_commands(self):
        self.assertIsNotNone(self.server.metrics_port)
        c = self.arrpc()
        for i in range(5):
            self.assertEqual(c.send({"i": i}), {"i": i})
        with self.assertRaises(RpcException):
            c.send({"raise": "counted"})
        text = self.scrape()
        self.assertEqual(self.sample(text, "greenrpc_server_requests_total", command="arrpc.message", outcome="ok"), 5)
        self.assertEqual(self.sample(text, "greenrpc_server_requests_total", command="arrpc.message",
                                     outcome="RPC_ERROR"), 1)
        self.assertEqual(self.sample(text, "greenrpc_server_request_duration_seconds_count", command="arrpc.message"), 6)
        self.assertGreater(self.sample(text, "greenrpc_server_request_bytes_total", command="arrpc.message"), 0)
        protocol_errors = self.sample(text, "greenrpc_server_protocol_errors_total")
        c.send_bytes(b"\xc1")  # mid-stream: answered, counted, closed
        with self.assertRaises(RpcException):
            c.check(c.read())
        self.assertTrue(wait_until(lambda: self.sample(self.scrape(), "greenrpc_server_protocol_errors_total")
                                   == protocol_errors + 1))


class TlsTest(ArrpcTestCase):
    """--tls-cert/--tls-key: the port speaks TLS only (as arrpc's server with tls_certfile)."""

    certs = None

    @classmethod
    def setUpClass(cls):
        cls._dir = tempfile.TemporaryDirectory(prefix="greenrpc-arrpc-tls-")
        d = cls._dir.name
        test_certificates.make_ca(d, "ca", "arrpc test CA")
        test_certificates.make_leaf(d, "server", "localhost", "ca",
                                    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        # A self-signed server certificate (arrpc's README: tls_cafile=server.crt, tls_self_signed=True).
        test_certificates.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                  "-nodes", "-keyout", "self.key", "-out", "self.crt", "-days", "2",
                                  "-subj", "/CN=self-signed", cwd=d)
        cls.certs = d

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def path(self, name):
        return os.path.join(self.certs, name)

    def setUp(self):
        cert = "self" if self._testMethodName.endswith("self_signed") else "server"
        self.server_args = ("--tls-cert", self.path(cert + ".crt"), "--tls-key", self.path(cert + ".key"))
        super().setUp()

    def test_client_verifying_with_a_ca_file(self):
        ctx = ssl.create_default_context(cafile=self.path("ca.crt"))  # arrpc's tls_cafile
        c = self.arrpc(context=ctx, server_hostname=HOST)
        self.assertEqual(c.send({"foo": "bar"}), {"foo": "bar"})
        message = {"big": os.urandom(100000)}  # several TLS records
        self.assertEqual(c.send(message), message)
        with self.assertRaises(RpcException):
            c.send({"raise": "over tls"})
        c.send_bytes(c.pack([1]) + c.pack([2]))
        self.assertEqual((c.read(), c.read()), ([1], [2]))
        # A client that does not trust the CA is refused during the handshake.
        with self.assertRaises(ssl.SSLError):
            ArrpcClient(self.port, context=ssl.create_default_context(), server_hostname=HOST).close()
        # RESP over TLS on the same port.
        r = redis.Redis(host=HOST, port=self.port, ssl=True, ssl_ca_certs=self.path("ca.crt"), socket_timeout=10)
        self._closers.append(r.close)
        self.assertTrue(r.ping())

    def test_client_trusting_a_self_signed(self):
        ctx = ssl.create_default_context(cafile=self.path("self.crt"))
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # arrpc's tls_self_signed=True: no verification at all
        c = self.arrpc(context=ctx, server_hostname=HOST)
        self.assertEqual(c.send({"self": "signed"}), {"self": "signed"})
        self.assertEqual(c.send(list(range(100))), list(range(100)))

    def test_plaintext_arrpc_on_the_tls_port_is_refused(self):
        c = self.arrpc()
        c.send_bytes(c.pack({"foo": "bar"}))
        # arrpc's own words (the first byte chose the protocol), as one msgpack string, then the close.
        data = b""
        c.sock.settimeout(5)
        while True:
            chunk = c.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        self.assertEqual(msgpack.unpackb(data, raw=False), "arrpc.error.RpcException: this port requires TLS")

    def test_plaintext_resp_on_the_tls_port_is_refused_in_resp(self):
        with socket.create_connection((HOST, self.port), timeout=5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"-ERR this port requires TLS"), data)


if __name__ == "__main__":
    main()
