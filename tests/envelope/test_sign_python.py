"""Signed calls from Python, written from docs/protocol.md ("Envelope: signing, deadlines") alone.

Only redis-py (its connection and execute_command), msgpack and the standard hmac/hashlib/struct
modules are used: nothing of greenrpc's. The server is signed_server (C++), started per test.

The worked example of the documentation is recomputed here and must appear in the document byte
for byte; the document's Python client (its "envelope-client" code block) is run as well.
"""
import hashlib
import hmac
import os
import re
import selectors
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import msgpack
import redis

HOST = "127.0.0.1"
SERVER = os.environ.get("GREENRPC_SIGNED_SERVER", "")
DOC = os.environ.get("GREENRPC_PROTOCOL_DOC",
                     os.path.join(os.path.dirname(__file__), "..", "..", "docs", "protocol.md"))

NO_DEADLINE = 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------------------------------------
# The envelope, from the documentation
# ---------------------------------------------------------------------------------------------

def u64(n):
    return struct.pack(">Q", n)


def request_mac_input(nonce, seq, dl, elements):
    out = b"greenrpc-req-v1" + nonce + u64(seq) + u64(NO_DEADLINE if dl is None else dl)
    for e in elements:
        out += u64(len(e)) + e
    return out


def reply_mac_input(nonce, seq, element_bytes):
    return b"greenrpc-rep-v1" + nonce + u64(seq) + element_bytes


def mac(secret, data):
    return hmac.new(secret, data, hashlib.sha256).digest()


def envelope(seq=None, dl=None, tag=None):
    m = {"v": 1}
    if seq is not None:
        m["seq"] = seq
    if dl is not None:
        m["dl"] = dl
    if tag is not None:
        m["tag"] = tag
    return msgpack.packb(m, use_bin_type=True)


def signed_elements(secret, nonce, seq, dl, name, *args):
    """[envelope, name, msgpack args...] as bytes, the envelope carrying a correct tag."""
    elements = [name.encode() if isinstance(name, str) else name] + [msgpack.packb(a, use_bin_type=True) for a in args]
    tag = mac(secret, request_mac_input(nonce, seq, dl, elements))
    return [envelope(seq, dl, tag)] + elements


def resp_request(parts):
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    return out


def element_bytes(element):
    """The exact RESP bytes of a reply element as redis-py returned it (bytes or an error)."""
    if isinstance(element, redis.ResponseError):
        return b"-" + str(element).encode() + b"\r\n"  # fine for codes other than ERR (redis-py strips "ERR ")
    return b"$%d\r\n%s\r\n" % (len(element), element)


def xxd(data):
    """The hex dump format used in docs/protocol.md."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        groups = " ".join(chunk[i:i + 2].hex() for i in range(0, len(chunk), 2))
        text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
        lines.append("%08x: %-39s  %s" % (off, groups, text))
    return "\n".join(lines)


def pack(v):
    return msgpack.packb(v, use_bin_type=True)


def unpack(b):
    return msgpack.unpackb(b, raw=False)


# ---------------------------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------------------------

class SignedServer:
    def __init__(self, *args, timeout=10.0):
        if not SERVER or not os.path.exists(SERVER):
            raise RuntimeError("GREENRPC_SIGNED_SERVER does not name signed_server: %r" % SERVER)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([SERVER, "--host", HOST, "--port", "0", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        data = b""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout.fileno(), selectors.EVENT_READ)
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    self.kill()
                    raise RuntimeError("signed_server did not start: %s" % self.stderr_text())
                if sel.select(left):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        continue
                    data += chunk
        line = data.split(b"\n", 1)[0].decode()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])

    def stderr_text(self):
        if self.stderr.closed:
            return self.stderr_text_at_stop
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.kill()
                return "timeout"
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()
        self.stderr_text_at_stop = self.stderr_text()
        self.stderr.close()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Signed:
    """One redis-py Connection, its nonce, and the next seq."""

    def __init__(self, port, secret):
        self.c = redis.Connection(host=HOST, port=port, socket_timeout=5, socket_connect_timeout=5)
        self.secret = secret
        self.c.send_command("NONCE")
        self.nonce = self.c.read_response()
        assert isinstance(self.nonce, bytes) and len(self.nonce) == 16, self.nonce
        self.seq = 0

    def close(self):
        self.c.disconnect()

    def send(self, parts):
        # memoryview: redis-py splits a first argument of type bytes at spaces ("CONFIG GET"),
        # and an envelope may hold a 0x20 byte. (Redis.execute_command cannot take a memoryview:
        # it looks the command name up with .upper(); a Connection sends and reads directly.)
        self.c.send_command(memoryview(parts[0]), *parts[1:])
        return self.c.read_response()

    def raw(self, name, *args, dl=None, seq=None):
        """The reply element (bytes or ResponseError) and its verified tag; raises on AUTH_ERROR etc."""
        self.seq = self.seq + 1 if seq is None else seq
        parts = signed_elements(self.secret, self.nonce, self.seq, dl, name, *args)
        reply = self.send(parts)
        assert isinstance(reply, list) and len(reply) == 2, "not a signed reply: %r" % (reply,)
        tag, element = reply
        expect = mac(self.secret, reply_mac_input(self.nonce, self.seq, element_bytes(element)))
        assert hmac.compare_digest(tag, expect), "reply tag does not match for %r" % (element,)
        return element

    def call(self, name, *args, dl=None):
        element = self.raw(name, *args, dl=dl)
        if isinstance(element, redis.ResponseError):
            raise element
        return unpack(element)


# ---------------------------------------------------------------------------------------------

class WorkedExample(unittest.TestCase):
    """The example of the documentation, recomputed; every value must be in the document."""

    secret = b"s3cret"
    nonce = bytes(range(16))

    @classmethod
    def setUpClass(cls):
        with open(DOC, encoding="utf-8") as f:
            cls.doc = f.read()
        start = cls.doc.find("## Envelope: signing, deadlines")
        assert start >= 0, "docs/protocol.md has no 'Envelope: signing, deadlines' section"
        cls.section = cls.doc[start:]

    def example(self):
        elements = [b"add", pack(1), pack({"value": 2})]
        mac_in = request_mac_input(self.nonce, 1, 5000, elements)
        tag = mac(self.secret, mac_in)
        env = envelope(1, 5000, tag)
        frame = resp_request([env] + elements)
        element = b"$1\r\n\x03\r\n"
        rep_in = reply_mac_input(self.nonce, 1, element)
        rep_tag = mac(self.secret, rep_in)
        reply = b"*2\r\n$32\r\n" + rep_tag + b"\r\n" + element
        return dict(mac_in=mac_in, tag=tag, env=env, frame=frame, rep_in=rep_in, rep_tag=rep_tag, reply=reply)

    def test_values_are_in_the_document(self):
        ex = self.example()
        self.assertEqual(len(ex["mac_in"]), 83)
        self.assertEqual(len(ex["env"]), 53)
        for name in ("mac_in", "env", "frame", "rep_in", "reply"):
            with self.subTest(name):
                self.assertIn(xxd(ex[name]), self.section, "hex dump of %s not in the document:\n%s"
                              % (name, xxd(ex[name])))
        self.assertIn("request tag: " + ex["tag"].hex(), self.section)
        self.assertIn("reply tag:   " + ex["rep_tag"].hex(), self.section)
        self.assertIn("nonce:       " + self.nonce.hex(), self.section)

    def test_a_server_accepts_the_documented_construction(self):
        """The same construction, with the live server's nonce."""
        server = SignedServer("--secret", "s3cret")
        try:
            s = Signed(server.port, b"s3cret")
            self.assertEqual(s.call("add", 1, {"value": 2}, dl=5000), 3)
            s.close()
        finally:
            self.assertEqual(server.stop(), 0, server.stderr_text())


class ServerCase(unittest.TestCase):
    server_args = ("--secret", "s3cret")

    def setUp(self):
        self.server = SignedServer(*self.server_args)
        self.closers = []

    def tearDown(self):
        for c in self.closers:
            c()
        alive = self.server.proc.poll() is None
        status = self.server.stop()
        self.assertTrue(alive, "signed_server died: " + self.server.stderr_text())
        self.assertEqual(status, 0, self.server.stderr_text())

    def conn(self, secret=b"s3cret"):
        s = Signed(self.server.port, secret)
        self.closers.append(s.close)
        return s

    def handler_calls(self):
        s = self.conn()
        return s.call("calls")


class SignedCalls(ServerCase):
    def test_signed_calls_and_verified_replies(self):
        s = self.conn()
        self.assertEqual(s.call("add", 1, {"value": 2}), 3)
        self.assertEqual(s.call("echo", "héllo wörld"), "héllo wörld")
        self.assertEqual(s.call("add", 40, {"value": 2}, dl=5000), 42)
        left = s.call("deadline_left", dl=5000)
        self.assertTrue(4000 < left <= 5000, left)
        self.assertEqual(s.call("deadline_left"), -1)

    def test_command_name_is_signed_as_sent(self):
        s = self.conn()
        self.assertEqual(s.call("ADD", 1, {"value": 2}), 3)

    def test_envelope_holding_a_space_byte(self):
        s = self.conn()
        s.seq = 31  # the next seq is 32 = 0x20, a space inside the envelope; gaps are allowed
        self.assertEqual(s.call("add", 1, {"value": 1}), 2)
        self.assertIn(b" ", envelope(32))

    def test_signed_error_reply(self):
        s = self.conn()
        element = s.raw("fail", "boom")  # raw() verified the tag over b'-RPC_ERROR "boom"\r\n'
        self.assertIsInstance(element, redis.ResponseError)
        self.assertEqual(str(element), 'RPC_ERROR "boom"')
        element = s.raw("add", "x", {"value": 1})
        self.assertTrue(str(element).startswith('VALIDATION_ERROR ["command", "a"]'), str(element))

    def test_deadline_zero_is_exceeded_and_signed(self):
        before = self.handler_calls()
        s = self.conn()
        element = s.raw("add", 1, {"value": 1}, dl=0)
        self.assertTrue(str(element).startswith('DEADLINE_EXCEEDED "'), str(element))
        self.assertEqual(self.handler_calls(), before, "a handler ran for an exceeded deadline")

    def test_wrong_tag_is_refused_and_nothing_runs(self):
        before = self.handler_calls()
        s = self.conn()
        parts = signed_elements(b"s3cret", s.nonce, 1, None, "add", 1, {"value": 2})
        parts[2] = pack(2)  # the argument changed after signing
        with self.assertRaises(redis.ResponseError) as cm:
            s.send(parts)
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "signature does not match'), str(cm.exception))
        env = msgpack.unpackb(parts[0])
        env["tag"] = bytes(32)
        with self.assertRaises(redis.ResponseError) as cm:
            s.send([msgpack.packb(env, use_bin_type=True)] + parts[1:])
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "signature does not match'), str(cm.exception))
        self.assertEqual(s.call("add", 1, {"value": 2}), 3, "the connection stays usable")
        self.assertEqual(self.handler_calls(), before + 1, "only the last, correctly signed add may run")

    def test_wrong_secret(self):
        s = self.conn(b"not the secret")
        with self.assertRaises(redis.ResponseError) as cm:
            s.call("add", 1, {"value": 2})
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "signature does not match'), str(cm.exception))

    def test_replay_is_refused(self):
        s = self.conn()
        parts = signed_elements(b"s3cret", s.nonce, 1, None, "add", 1, {"value": 2})
        tag, element = s.send(parts)
        self.assertEqual(unpack(element), 3)
        with self.assertRaises(redis.ResponseError) as cm:
            s.send(parts)
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "replayed'), str(cm.exception))
        # On another connection the nonce differs: the same bytes do not verify at all.
        other = self.conn()
        with self.assertRaises(redis.ResponseError) as cm:
            other.send(parts)
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "signature does not match'), str(cm.exception))

    def test_unsigned_user_command_refused_builtins_answer(self):
        r = redis.Redis(host=HOST, port=self.server.port, single_connection_client=True, socket_timeout=5)
        self.closers.append(r.close)
        with self.assertRaises(redis.ResponseError) as cm:
            r.execute_command("add", pack(1), pack({"value": 2}))
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "request is not signed'), str(cm.exception))
        self.assertTrue(r.ping())
        self.assertEqual(len(r.execute_command("NONCE")), 16)
        self.assertEqual(r.info()["greenrpc_version"], "0.1.0")

    def test_bad_envelope(self):
        s = self.conn()
        with self.assertRaises(redis.ResponseError) as cm:
            s.send([msgpack.packb({"v": 2}), b"add", pack(1), pack({"value": 2})])
        # redis-py strips the "ERR " prefix of ERR errors.
        self.assertTrue(str(cm.exception).startswith("bad envelope: "), str(cm.exception))


class Rotation(ServerCase):
    server_args = ("--secret", "new", "--previous", "old")

    def test_old_and_new_secret_work_older_does_not(self):
        self.assertEqual(self.conn(b"new").call("add", 1, {"value": 1}), 2)
        self.assertEqual(self.conn(b"old").call("add", 1, {"value": 2}), 3)  # reply verified with "old"
        with self.assertRaises(redis.ResponseError) as cm:
            self.conn(b"older").call("add", 1, {"value": 3})
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "signature does not match'), str(cm.exception))


class AllowUnsigned(ServerCase):
    server_args = ("--secret", "s3cret", "--allow-unsigned")

    def test_unsigned_and_signed_both_served(self):
        r = redis.Redis(host=HOST, port=self.server.port, single_connection_client=True, socket_timeout=5)
        self.closers.append(r.close)
        self.assertEqual(unpack(r.execute_command("add", pack(1), pack({"value": 2}))), 3)  # a plain reply
        self.assertEqual(self.conn().call("add", 2, {"value": 2}), 4)
        with self.assertRaises(redis.ResponseError) as cm:
            self.conn(b"wrong").call("add", 1, {"value": 3})
        self.assertTrue(str(cm.exception).startswith('AUTH_ERROR "signature does not match'), str(cm.exception))


class DocumentedClient(unittest.TestCase):
    """Runs the Python client printed in the document against a live server."""

    def test_the_documented_client_works(self):
        with open(DOC, encoding="utf-8") as f:
            doc = f.read()
        m = re.search(r"```python\n(# envelope-client.*?)```", doc, re.S)
        self.assertIsNotNone(m, "no ```python block starting with '# envelope-client' in the document")
        code = m.group(1).split("\nif __name__ ==")[0]
        namespace = {}
        exec(compile(code, "docs/protocol.md (envelope-client)", "exec"), namespace)
        server = SignedServer("--secret", "s3cret")
        try:
            c = namespace["SignedClient"]("127.0.0.1", server.port, b"s3cret")
            self.assertEqual(c.call("add", 1, {"value": 2}), 3)
            self.assertEqual(c.call("add", 2, {"value": 2}, timeout_ms=5000), 4)
            self.assertEqual(c.call("echo", "hi"), "hi")
            with self.assertRaises(redis.ResponseError) as cm:
                c.call("fail", "Something went wrong")
            self.assertEqual(str(cm.exception), 'RPC_ERROR "Something went wrong"')
            bad = namespace["SignedClient"]("127.0.0.1", server.port, b"wrong")
            with self.assertRaises(redis.ResponseError) as cm:
                bad.call("add", 1, {"value": 2})
            self.assertTrue(str(cm.exception).startswith("AUTH_ERROR"))
            c.c.disconnect()
            bad.c.disconnect()
        finally:
            self.assertEqual(server.stop(), 0, server.stderr_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
