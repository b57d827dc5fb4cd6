"""Shared helpers of the integration tests: start/stop test_server, a raw RESP client.

Everything is bounded: every socket has a timeout, every wait a deadline.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import msgpack
import redis

from server_output import read_first_line  # tests/support

HOST = "127.0.0.1"
SERVER = os.environ.get("GREENRPC_TEST_SERVER", "")
REDIS_CLI = os.environ.get("GREENRPC_REDIS_CLI", "") or "redis-cli"

# Wire form of arguments and results.
pack = msgpack.packb


def unpack(data):
    return msgpack.unpackb(data, raw=False)


# --------------------------------------------------------------------------------------------
# test_server process
# --------------------------------------------------------------------------------------------

class ServerProcess:
    """One test_server (or `executable`, taking the same --host/--port and printing the same PORT
    line) on an OS-chosen port; stop() returns its exit status."""

    def __init__(self, *args, start_timeout=10.0, executable=None):
        executable = executable or SERVER
        if not executable or not os.path.exists(executable):
            raise RuntimeError("no server executable %r (GREENRPC_TEST_SERVER names test_server)" % executable)
        self.args = [executable, "--host", HOST, "--port", "0", *[str(a) for a in args]]
        self.stderr = tempfile.TemporaryFile()
        self._stderr_text = None
        # stdin is a pipe: if this process dies, the server sees EOF and exits by itself.
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.pid = self.proc.pid
        self.port = self._read_port(start_timeout)

    def _read_port(self, timeout):
        try:
            line = read_first_line(self.proc, timeout, self.stderr_text)
        except RuntimeError:
            self.kill()
            raise
        if not line.startswith("PORT "):
            self.kill()
            raise RuntimeError("unexpected first line from test_server: %r" % line)
        fields = line.split()
        port = int(fields[1])
        if not 0 < port < 65536:
            raise RuntimeError("bad port %d" % port)
        # Then, with TLS (test_server --tls-cert), "TLS_PORT <t>"; with metrics (--metrics-port),
        # "METRICS_PORT <m>": "PORT <n> [TLS_PORT <t>] [METRICS_PORT <m>]".
        self.tls_port = None
        self.metrics_port = None
        extra = fields[2:]
        for name, value in zip(extra[0::2], extra[1::2]):
            if name not in ("TLS_PORT", "METRICS_PORT"):
                continue
            number = int(value)
            if not 0 < number < 65536:
                raise RuntimeError("bad %s %d" % (name, number))
            if name == "TLS_PORT":
                self.tls_port = number
            else:
                self.metrics_port = number
        return port

    def alive(self):
        return self.proc.poll() is None

    def _read_stderr(self):
        try:
            self.stderr.seek(0)
            return self.stderr.read().decode(errors="replace")
        except (OSError, ValueError):
            return "<stderr unavailable>"

    def stderr_text(self, limit=4000):
        text = self._stderr_text if self._stderr_text is not None else self._read_stderr()
        return text[-limit:]

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS for pid %d" % self.pid)

    def stop(self, timeout=8.0):
        """SIGTERM, then a bounded wait; SIGKILL if it does not exit. Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return "timeout"
        self._close_pipes()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._close_pipes()

    def _close_pipes(self):
        if self._stderr_text is None:
            self._stderr_text = self._read_stderr()
            self.stderr.close()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass


class ServerTestCase(unittest.TestCase):
    """Starts a fresh test_server (or `executable`) per test; tearDown requires it alive and
    cleanly stoppable (within ServerProcess.stop's bound, writing `stopped_line` on stderr)."""

    server_args = ()
    executable = None  # None: test_server
    stopped_line = "STOPPED"

    def setUp(self):
        self._closers = []
        self.server = ServerProcess(*self.server_args, executable=self.executable)
        self.port = self.server.port

    def tearDown(self):
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                pass
        crashed = not self.server.alive()
        status = self.server.stop()
        stderr = self.server.stderr_text()
        self.assertFalse(crashed, "test_server died during the test (status %s); stderr:\n%s" % (status, stderr))
        self.assertEqual(status, 0, "test_server did not stop cleanly on SIGTERM; stderr:\n%s" % stderr)
        self.assertIn(self.stopped_line, stderr)

    # Clients closed in tearDown.
    def raw(self, timeout=5.0, port=None):
        conn = RawConn(port or self.port, timeout)
        self._closers.append(conn.close)
        return conn

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        kw.setdefault("socket_connect_timeout", 5)
        r = redis.Redis(host=HOST, port=kw.pop("port", self.port), **kw)
        self._closers.append(r.close)
        return r


# --------------------------------------------------------------------------------------------
# A raw RESP2 client
# --------------------------------------------------------------------------------------------

class Status(str):
    """A +simple string reply."""


class Error(str):
    """A -error reply (without the '-')."""


class Incomplete(Exception):
    pass


def encode_command(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        if isinstance(p, str):
            p = p.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def parse_reply(buf, pos=0):
    """(value, next position) of the reply at buf[pos:]; raises Incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        raise Incomplete()
    kind, line = buf[pos:pos + 1], buf[pos + 1:nl]
    nxt = nl + 2
    if kind == b"+":
        return Status(line.decode()), nxt
    if kind == b"-":
        return Error(line.decode(errors="replace")), nxt
    if kind == b":":
        return int(line), nxt
    if kind == b"$":
        n = int(line)
        if n < 0:
            return None, nxt
        if len(buf) < nxt + n + 2:
            raise Incomplete()
        if buf[nxt + n:nxt + n + 2] != b"\r\n":
            raise ValueError("bulk not terminated by CRLF: %r" % buf[pos:nxt + n + 2])
        return bytes(buf[nxt:nxt + n]), nxt + n + 2
    if kind == b"*":
        n = int(line)
        if n < 0:
            return None, nxt
        items = []
        for _ in range(n):
            v, nxt = parse_reply(buf, nxt)
            items.append(v)
        return items, nxt
    raise ValueError("not a RESP reply: %r" % bytes(buf[pos:pos + 40]))


class RawConn:
    """A blocking socket speaking RESP by hand; every read is bounded by `timeout`."""

    def __init__(self, port, timeout=5.0):
        self.timeout = timeout
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete reply within %.1fs; have %r" % (self.timeout, bytes(self.buf[:200])))
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("no complete reply within %.1fs; have %r" % (self.timeout, bytes(self.buf[:200])))
        if not chunk:
            raise ConnectionError("connection closed by the server; unparsed %r" % bytes(self.buf[:200]))
        self.buf += chunk

    def read_raw(self):
        """The exact bytes of the next reply."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                _, end = parse_reply(self.buf)
            except Incomplete:
                self._fill(deadline)
                continue
            raw = bytes(self.buf[:end])
            del self.buf[:end]
            return raw

    def read(self):
        return parse_reply(self.read_raw())[0]

    def call(self, *parts):
        self.send(encode_command(*parts))
        return self.read()

    def call_raw(self, *parts):
        self.send(encode_command(*parts))
        return self.read_raw()

    def rpc(self, name, *args):
        """A typed call: msgpack-packed arguments, unpacked result (Error on an error reply)."""
        reply = self.call(name, *[pack(a) for a in args])
        if isinstance(reply, Error):
            return reply
        if not isinstance(reply, bytes):
            raise AssertionError("typed call %s answered %r" % (name, reply))
        return unpack(reply)

    def expect_closed(self, timeout=None):
        """Asserts that nothing more arrives and the server closes the connection."""
        deadline = time.monotonic() + (timeout or self.timeout)
        extra = bytes(self.buf)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("server did not close the connection; got %r" % extra[:200])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if extra:
                    raise AssertionError("unexpected bytes before close: %r" % extra[:200])
                return
            extra += chunk

    def expect_silence(self, seconds=0.2):
        """Asserts that no reply arrives for `seconds` (and the connection stays open)."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        raise AssertionError("expected no reply, got %r" % chunk[:200])


def wait_until(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def info_field(conn, field):
    text = conn.call("INFO")
    for line in text.decode().split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError("INFO has no %s" % field)


def main():
    unittest.main(verbosity=2)
