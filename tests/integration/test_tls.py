"""TLS with real peers: redis-cli --tls, redis-py ssl=True, openssl s_client, Python's ssl module.

The certificates are made by the openssl CLI once per run in a temporary directory: a CA, a server
certificate for DNS:localhost and IP:127.0.0.1, a client certificate CN=alice, and a second
("rogue") CA with a client certificate CN=mallory that the server must not trust.
test_server's TLS flags and its cert_whoami / tls_version / tls_sni commands: test_server.cpp.
"""
import os
import socket
import ssl
import subprocess
import tempfile
import time

import redis

from harness import HOST, REDIS_CLI, ServerTestCase, main, pack, unpack, wait_until
from test_certificates import make_ca, make_leaf

CERTS = None  # the directory (set up by setUpModule)
_certs_dir = None

REQUIRES_TLS = b"ERR this port requires TLS (redis-cli: --tls --cacert <file>)"
TLS_ON_PLAINTEXT = b"-ERR Protocol error: a TLS handshake on a plaintext port"


def setUpModule():
    global CERTS, _certs_dir
    _certs_dir = tempfile.TemporaryDirectory(prefix="greenrpc-tls-")
    d = _certs_dir.name
    make_ca(d, "ca", "greenrpc test CA")
    make_leaf(d, "server", "localhost", "ca",
               "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    make_leaf(d, "client", "alice", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    make_ca(d, "rogue", "rogue CA")
    make_leaf(d, "mallory", "mallory", "rogue", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    CERTS = d


def tearDownModule():
    if _certs_dir is not None:
        _certs_dir.cleanup()


def cert(name):
    return os.path.join(CERTS, name)


class TlsTestCase(ServerTestCase):
    """A test_server with the server certificate, plus `tls_args`; self.tls_port is its TLS port."""

    tls_args = ()

    def setUp(self):
        self.server_args = ("--tls-cert", cert("server.crt"), "--tls-key", cert("server.key"), *self.tls_args)
        super().setUp()
        self.tls_port = self.server.tls_port
        self.assertIsNotNone(self.tls_port, "test_server printed no TLS_PORT")

    # ---- redis-cli ------------------------------------------------------------------------------

    def cli(self, *args, port=None, tls=True, ca="ca.crt", client=None, stdin=b"", timeout=20):
        """Runs redis-cli (its stdout is not a tty: replies are printed raw); the CompletedProcess."""
        cmd = [REDIS_CLI, "-h", HOST, "-p", str(port or self.tls_port)]
        if tls:
            cmd.append("--tls")
            if ca:
                cmd += ["--cacert", cert(ca)]
            if client:
                cmd += ["--cert", cert(client + ".crt"), "--key", cert(client + ".key")]
        return subprocess.run(cmd + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)

    def cli_ok(self, *args, **kw):
        p = self.cli(*args, **kw)
        self.assertEqual(p.returncode, 0, "%r failed: %r %r" % (args, p.stdout, p.stderr))
        return p.stdout

    def cli_fails(self, *args, within=5.0, **kw):
        """redis-cli must give up by itself, within `within` seconds, with a non-zero status."""
        start = time.monotonic()
        p = self.cli(*args, timeout=20, **kw)
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, within, "redis-cli took %.1fs to fail" % elapsed)
        self.assertNotEqual(p.returncode, 0, "redis-cli succeeded: %r %r" % (p.stdout, p.stderr))
        self.assertNotIn(b"PONG", p.stdout)
        return p.stdout + p.stderr

    # ---- redis-py -------------------------------------------------------------------------------

    def tls_client(self, client_cert=None, port=None, **kw):
        if client_cert:
            kw.update(ssl_certfile=cert(client_cert + ".crt"), ssl_keyfile=cert(client_cert + ".key"))
        return self.client(port=port or self.tls_port, ssl=True, ssl_ca_certs=cert("ca.crt"),
                           ssl_cert_reqs="required", ssl_check_hostname=True, **kw)

    # ---- openssl s_client -----------------------------------------------------------------------

    def s_client(self, script, *args, port=None, timeout=20):
        """Sends `script` (inline commands; it should end with QUIT so that the server closes and
        s_client exits: -ign_eof keeps it reading after its stdin ends). (status, stdout)."""
        cmd = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port or self.tls_port), "-CAfile",
               cert("ca.crt"), "-servername", "localhost", "-verify_return_error", "-ign_eof", *args]
        p = subprocess.run(cmd, input=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout


class TlsPortTest(TlsTestCase):
    """--tls-cert/--tls-key only: the server's one port speaks TLS."""

    def test_port_line(self):
        self.assertEqual(self.tls_port, self.port)

    def test_redis_cli_ping_and_typed_commands(self):
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")
        self.assertEqual(self.cli_ok("ping", "over tls"), b"over tls\n")
        # Typed commands: msgpack arguments in argv, and the last one from stdin (-x).
        self.assertEqual(self.cli_ok("add", pack(1), pack({"value": 2})), pack(3) + b"\n")
        self.assertEqual(self.cli_ok("-x", "add", pack(40), stdin=pack({"value": 2})), pack(42) + b"\n")
        self.assertEqual(self.cli_ok("-x", "bytes_roundtrip", stdin=pack(b"\x00\x01\x00")),
                         pack(b"\x00\x01\x00") + b"\n")
        self.assertEqual(self.cli_ok("tls_version"), pack("TLSv1.3") + b"\n")
        self.assertEqual(self.cli_ok("cert_whoami"), pack(None) + b"\n")  # no client certificate
        # Connection state lives across commands of one TLS connection.
        self.assertEqual(self.cli_ok("-r", "3", "incr_counter"), b"\x01\n\x02\n\x03\n")
        # An error reply crosses TLS like any other.
        self.assertEqual(self.cli_ok("nosuchcommand", "x").rstrip(b"\n"), b"INVALID_COMMAND nosuchcommand")

    def test_redis_cli_stdin_lines_share_one_tls_connection(self):
        script = b"PING\nCLIENT SETNAME tls-cli\nCLIENT GETNAME\nincr_counter\nincr_counter\n"
        self.assertEqual(self.cli_ok(stdin=script), b"PONG\nOK\ntls-cli\n\x01\n\x02\n")

    def test_redis_cli_sni(self):
        # redis-cli sends no SNI for an IP address; --sni names one.
        self.assertEqual(self.cli_ok("tls_sni"), pack("") + b"\n")
        self.assertEqual(self.cli_ok("--sni", "localhost", "tls_sni"), pack("localhost") + b"\n")

    def test_redis_cli_verifies_the_server(self):
        # The system trust store does not know the test CA; neither does the rogue CA.
        out = self.cli_fails("PING", ca=None)
        self.assertIn(b"certificate verify failed", out)
        out = self.cli_fails("PING", ca="rogue.crt")
        self.assertIn(b"certificate verify failed", out)
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")

    def test_plaintext_redis_cli_gets_requires_tls(self):
        p = self.cli("PING", tls=False, timeout=10)
        self.assertEqual(p.stdout.rstrip(b"\n"), REQUIRES_TLS, p.stderr)
        # The same by hand: one RESP error, then the server closes.
        c = self.raw()
        c.send(b"*1\r\n$4\r\nPING\r\n")
        self.assertEqual(c.read_raw(), b"-" + REQUIRES_TLS + b"\r\n")
        c.expect_closed()
        # Inline plaintext too.
        c = self.raw()
        c.send(b"PING\r\n")
        self.assertEqual(c.read_raw(), b"-" + REQUIRES_TLS + b"\r\n")
        c.expect_closed()
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")

    def test_redis_py(self):
        r = self.tls_client()
        self.assertTrue(r.ping())
        self.assertEqual(unpack(r.execute_command("add", pack(40), pack({"value": 2}))), 42)
        self.assertEqual(unpack(r.execute_command("concat", pack(["tl", "s"]))), "tls")
        user = {"name": "Zoë", "age": 31, "address": {"city": "Lyon", "zip": 69001}, "email": None,
                "tags": ["a", "b"], "scores": {"x": 1}}
        self.assertEqual(unpack(r.execute_command("user_roundtrip", pack(user))), user)
        self.assertEqual(unpack(r.execute_command("tls_version")), "TLSv1.3")
        self.assertEqual(unpack(r.execute_command("tls_sni")), "")  # Python sends no SNI for an IP
        self.assertIsNone(unpack(r.execute_command("cert_whoami")))
        with self.assertRaises(redis.ResponseError) as e:
            r.execute_command("custom_fail", pack("boom"))
        self.assertEqual(str(e.exception), 'CUSTOM_CODE "boom"')

    def test_redis_py_large_values_and_pipeline(self):
        # Values much larger than a TLS record (16 KiB) in both directions, and many replies
        # in one read.
        r = self.tls_client()
        blob = os.urandom(3 << 20)
        self.assertEqual(unpack(r.execute_command("bytes_roundtrip", pack(blob))), blob)
        self.assertEqual(unpack(r.execute_command("bytes_len", pack(blob))), len(blob))
        p = r.pipeline(transaction=False)
        for i in range(500):
            p.execute_command("add", pack(i), pack({"value": 1}))
        self.assertEqual([unpack(x) for x in p.execute()], [i + 1 for i in range(500)])

    def test_redis_py_checks_the_host_name(self):
        # redis-py verified IP:127.0.0.1 above; here the DNS name, sent as SNI too.
        ctx = ssl.create_default_context(cafile=cert("ca.crt"))
        with socket.create_connection((HOST, self.tls_port), timeout=5) as s:
            with self.assertRaises(ssl.SSLCertVerificationError):
                with ctx.wrap_socket(s, server_hostname="not-localhost"):
                    pass
        with socket.create_connection((HOST, self.tls_port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(b"tls_sni\r\n")
                expected = b"$10\r\n" + pack("localhost") + b"\r\n"
                self.assertEqual(_read_exactly(t, len(expected)), expected)
        self.assertTrue(self.tls_client().ping())

    def test_openssl_s_client(self):
        status, out = self.s_client(b"PING\r\ntls_sni\r\ntls_version\r\nQUIT\r\n")
        self.assertEqual(status, 0, out[-2000:])
        self.assertTrue(b"Verification: OK" in out or b"Verify return code: 0 (ok)" in out, out[-2000:])
        self.assertIn(b"+PONG\r\n$10\r\n" + pack("localhost") + b"\r\n$8\r\n" + pack("TLSv1.3") + b"\r\n+OK\r\n",
                      out)

    def test_openssl_s_client_tls12(self):
        status, out = self.s_client(b"tls_version\r\nQUIT\r\n", "-tls1_2")
        self.assertEqual(status, 0, out[-2000:])
        self.assertIn(b"Verify return code: 0 (ok)", out)
        self.assertIn(b"$8\r\n" + pack("TLSv1.2") + b"\r\n+OK\r\n", out)

    def test_openssl_s_client_rejects_an_untrusted_server(self):
        cmd = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, self.tls_port), "-CAfile", cert("rogue.crt"),
               "-servername", "localhost", "-verify_return_error"]
        p = subprocess.run(cmd, input=b"PING\r\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        self.assertNotEqual(p.returncode, 0, p.stdout[-2000:])
        self.assertNotIn(b"+PONG", p.stdout)
        self.assertIn(b"unable to get local issuer certificate", p.stdout)


class MutualTlsTest(TlsTestCase):
    """--tls-ca with --tls-require-client-cert: clients must present a certificate from the CA."""

    def setUp(self):
        self.tls_args = ("--tls-ca", cert("ca.crt"), "--tls-require-client-cert")
        super().setUp()

    def test_redis_cli_with_client_cert(self):
        self.assertEqual(self.cli_ok("PING", client="client"), b"PONG\n")
        self.assertEqual(self.cli_ok("cert_whoami", client="client"), pack("alice") + b"\n")
        self.assertEqual(self.cli_ok("add", pack(2), pack({"value": 3}), client="client"), pack(5) + b"\n")
        # A certificate is not a password: AUTH-protected commands still want AUTH.
        self.assertEqual(self.cli_ok("whoami", client="client").rstrip(b"\n"),
                         b"PERMISSION_DENIED")

    def test_redis_cli_without_cert_fails_and_others_are_served(self):
        r = self.tls_client(client_cert="client")  # connected before, used after
        self.assertEqual(unpack(r.execute_command("cert_whoami")), "alice")
        out = self.cli_fails("PING")
        self.assertIn(b"Server closed the connection", out)
        # A certificate from another CA is refused too, and so is one of the right CA that is not
        # for clients (the server's: extendedKeyUsage serverAuth only).
        self.cli_fails("PING", client="mallory")
        self.cli_fails("PING", client="server")
        self.assertEqual(unpack(r.execute_command("cert_whoami")), "alice")
        self.assertEqual(self.cli_ok("cert_whoami", client="client"), pack("alice") + b"\n")
        self.assertTrue(wait_until(lambda: "the client sent no certificate" in self.server.stderr_text(100000)),
                        self.server.stderr_text())

    def test_plaintext_is_refused(self):
        p = self.cli("PING", tls=False, timeout=10)
        self.assertEqual(p.stdout.rstrip(b"\n"), REQUIRES_TLS, p.stderr)

    def test_redis_py(self):
        r = self.tls_client(client_cert="client")
        self.assertTrue(r.ping())
        self.assertEqual(unpack(r.execute_command("add", pack(1), pack({"value": 1}))), 2)
        self.assertEqual(unpack(r.execute_command("cert_whoami")), "alice")
        self.assertEqual(unpack(r.execute_command("tls_version")), "TLSv1.3")
        start = time.monotonic()
        with self.assertRaises(redis.ConnectionError):
            self.tls_client().ping()
        self.assertLess(time.monotonic() - start, 5)
        with self.assertRaises(redis.ConnectionError):
            self.tls_client(client_cert="mallory").ping()
        self.assertEqual(unpack(r.execute_command("cert_whoami")), "alice")

    def test_openssl_s_client(self):
        status, out = self.s_client(b"PING\r\ncert_whoami\r\nQUIT\r\n", "-cert", cert("client.crt"), "-key",
                                    cert("client.key"))
        self.assertEqual(status, 0, out[-2000:])
        self.assertIn(b"Verify return code: 0 (ok)", out)
        self.assertIn(b"+PONG\r\n$6\r\n" + pack("alice") + b"\r\n+OK\r\n", out)
        # Without a certificate: TLS 1.3 completes the client's side of the handshake, then the
        # server refuses with a certificate_required alert (116), which s_client reports when it
        # reads, exiting non-zero; no command ran.
        status, out = self.s_client(b"PING\r\nQUIT\r\n")
        self.assertNotEqual(status, 0, out[-2000:])
        self.assertIn(b"certificate required", out, out[-2000:])
        self.assertNotIn(b"+PONG", out)
        self.assertTrue(wait_until(lambda: "the client sent no certificate" in self.server.stderr_text(100000)),
                        self.server.stderr_text())


class OptionalClientCertTest(TlsTestCase):
    """--tls-ca without --tls-require-client-cert: a certificate is asked for, verified, optional."""

    def setUp(self):
        self.tls_args = ("--tls-ca", cert("ca.crt"))
        super().setUp()

    def test_with_and_without_a_certificate(self):
        self.assertEqual(self.cli_ok("cert_whoami", client="client"), pack("alice") + b"\n")
        self.assertEqual(self.cli_ok("cert_whoami"), pack(None) + b"\n")
        self.assertEqual(unpack(self.tls_client(client_cert="client").execute_command("cert_whoami")), "alice")
        self.assertIsNone(unpack(self.tls_client().execute_command("cert_whoami")))
        # A certificate that is sent must verify.
        self.cli_fails("PING", client="mallory")
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")


class SeparateTlsPortTest(TlsTestCase):
    """--tls-port 0: the server's port stays plaintext and TLS has a port of its own."""

    tls_args = ("--tls-port", "0")

    def test_both_ports(self):
        self.assertNotEqual(self.tls_port, self.port)
        self.assertEqual(self.cli_ok("PING", port=self.port, tls=False), b"PONG\n")
        self.assertEqual(self.cli_ok("tls_version", port=self.port, tls=False), pack(None) + b"\n")
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")
        self.assertEqual(self.cli_ok("tls_version"), pack("TLSv1.3") + b"\n")
        self.assertEqual(unpack(self.tls_client().execute_command("add", pack(1), pack({"value": 2}))), 3)
        self.assertEqual(unpack(self.client().execute_command("add", pack(1), pack({"value": 3}))), 4)

    def test_wrong_protocol_on_each_port(self):
        p = self.cli("PING", tls=False, timeout=10)
        self.assertEqual(p.stdout.rstrip(b"\n"), REQUIRES_TLS, p.stderr)
        out = self.cli_fails("PING", port=self.port)
        self.assertIn(b"SSL_connect failed", out)
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")
        self.assertEqual(self.cli_ok("PING", port=self.port, tls=False), b"PONG\n")


class SamePortTest(TlsTestCase):
    """--tls-accept-plaintext: one port, TLS or plaintext chosen by each connection's first byte."""

    tls_args = ("--tls-accept-plaintext",)

    def test_redis_cli_with_and_without_tls(self):
        self.assertEqual(self.tls_port, self.port)
        self.assertEqual(self.cli_ok("PING", tls=False), b"PONG\n")
        self.assertEqual(self.cli_ok("PING"), b"PONG\n")
        self.assertEqual(self.cli_ok("tls_version", tls=False), pack(None) + b"\n")
        self.assertEqual(self.cli_ok("tls_version"), pack("TLSv1.3") + b"\n")
        self.assertEqual(self.cli_ok("add", pack(5), pack({"value": 5}), tls=False), pack(10) + b"\n")
        self.assertEqual(self.cli_ok("add", pack(6), pack({"value": 6})), pack(12) + b"\n")

    def test_redis_py_with_and_without_tls(self):
        plain, secure = self.client(), self.tls_client()
        for _ in range(3):  # interleaved on two live connections
            self.assertTrue(plain.ping())
            self.assertTrue(secure.ping())
        self.assertIsNone(unpack(plain.execute_command("tls_version")))
        self.assertEqual(unpack(secure.execute_command("tls_version")), "TLSv1.3")

    def test_openssl_s_client(self):
        status, out = self.s_client(b"PING\r\nQUIT\r\n")
        self.assertEqual(status, 0, out[-2000:])
        self.assertIn(b"+PONG\r\n+OK\r\n", out)
        c = self.raw()
        self.assertEqual(c.call_raw("PING"), b"+PONG\r\n")
        c.send(b"PING\r\n")  # inline
        self.assertEqual(c.read_raw(), b"+PONG\r\n")


class PlaintextServerTest(ServerTestCase):
    """A server without TLS: TLS clients are refused quickly, plaintext ones still served."""

    def test_redis_cli_tls_fails_quickly(self):
        start = time.monotonic()
        p = subprocess.run([REDIS_CLI, "-h", HOST, "-p", str(self.port), "--tls", "--cacert", cert("ca.crt"), "PING"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        self.assertLess(time.monotonic() - start, 5)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn(b"PONG", p.stdout)
        self.assertIn(b"SSL_connect failed", p.stdout + p.stderr)
        self.assertEqual(self.raw().call_raw("PING"), b"+PONG\r\n")

    def test_a_real_client_hello_gets_a_resp_error(self):
        # The ClientHello Python's OpenSSL would send, then whatever the server answers.
        ctx = ssl.create_default_context(cafile=cert("ca.crt"))
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        hello = outgoing.read()
        self.assertEqual(hello[:1], b"\x16")
        c = self.raw()
        c.send(hello)
        reply = c.read_raw()
        self.assertTrue(reply.startswith(TLS_ON_PLAINTEXT), reply)
        self.assertTrue(reply.endswith(b"\r\n"), reply)
        c.expect_closed()
        # redis-py with ssl=True to this port: a connection error, soon.
        r = self.client(ssl=True, ssl_ca_certs=cert("ca.crt"))
        start = time.monotonic()
        with self.assertRaises(redis.ConnectionError):
            r.ping()
        self.assertLess(time.monotonic() - start, 5)
        self.assertTrue(self.client().ping())


def _read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed after %r" % data)
        data += chunk
    return data


if __name__ == "__main__":
    main()
