"""The installed `greenrpc` command-line client against the samples' servers and the test servers.

`meson install --destdir` into a temporary root (as tests/install/install_test.sh does), then every
test runs that installed binary: plain calls to samples/quickstart, AUTH against samples/auth and
test_server, signing against tests/envelope/signed_server, TLS against the quickstart server with
certificates made by the openssl CLI, timeouts, --pipe, COMMAND DOCS, bytes, exit statuses.

Everything is bounded: each CLI run has a timeout, each server start a deadline, and every server is
stopped (SIGTERM, then SIGKILL) when its test class ends.
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from server_output import read_first_line  # tests/support
from test_certificates import make_ca, make_leaf

HOST = "127.0.0.1"
BUILD_ROOT = os.environ.get("GREENRPC_BUILD_ROOT", "")
QUICKSTART_SERVER = os.environ.get("GREENRPC_QUICKSTART_SERVER", "")
AUTH_SERVER = os.environ.get("GREENRPC_AUTH_SERVER", "")
TEST_SERVER = os.environ.get("GREENRPC_TEST_SERVER", "")
SIGNED_SERVER = os.environ.get("GREENRPC_SIGNED_SERVER", "")

_tmp = None
CLI = None        # the installed bin/greenrpc
CLI_ENV = None    # its environment: the installed libgreenrpc on LD_LIBRARY_PATH
CERTS = None


def setUpModule():
    global _tmp, CLI, CLI_ENV, CERTS
    for name, path in [("GREENRPC_BUILD_ROOT", BUILD_ROOT), ("GREENRPC_QUICKSTART_SERVER", QUICKSTART_SERVER),
                       ("GREENRPC_AUTH_SERVER", AUTH_SERVER), ("GREENRPC_TEST_SERVER", TEST_SERVER),
                       ("GREENRPC_SIGNED_SERVER", SIGNED_SERVER)]:
        if not path or not os.path.exists(path):
            raise RuntimeError("%s does not name an existing path: %r" % (name, path))
    _tmp = tempfile.TemporaryDirectory(prefix="greenrpc-cli-")
    root = os.path.join(_tmp.name, "root")
    subprocess.run(["meson", "install", "-C", BUILD_ROOT, "--destdir", root, "--no-rebuild", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, timeout=240)
    found = [p for p in glob.glob(os.path.join(root, "**", "bin", "greenrpc"), recursive=True) if os.access(p, os.X_OK)]
    if not found:
        raise RuntimeError("meson install put no bin/greenrpc under %s" % root)
    CLI = found[0]
    libs = glob.glob(os.path.join(root, "**", "libgreenrpc.so*"), recursive=True)
    if not libs:
        raise RuntimeError("meson install put no libgreenrpc.so under %s" % root)
    CLI_ENV = dict(os.environ)
    CLI_ENV.pop("GREENRPC_SECRET", None)
    CLI_ENV.pop("GREENRPC_PASSWORD", None)
    CLI_ENV["LD_LIBRARY_PATH"] = os.path.dirname(libs[0])
    CERTS = os.path.join(_tmp.name, "certs")
    os.mkdir(CERTS)
    make_certificates(CERTS)


def tearDownModule():
    if _tmp is not None:
        _tmp.cleanup()


# ------------------------------------------------------------------------------------------------
# certificates (as tests/integration/test_tls.py makes them)
# ------------------------------------------------------------------------------------------------


def make_certificates(d):
    make_ca(d, "ca", "greenrpc cli test CA")
    make_leaf(d, "server", "localhost", "ca",
               "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    make_leaf(d, "client", "alice", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    make_ca(d, "rogue", "rogue CA")


def cert(name):
    return os.path.join(CERTS, name)


# ------------------------------------------------------------------------------------------------
# servers
# ------------------------------------------------------------------------------------------------

def free_port():
    """A port the kernel just called free (not a random guess that may hit another listener)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A server process. `port_line`: it prints "PORT <n> ..." (the test servers, started on port 0);
    otherwise it is given a free port and is ready once it accepts a TCP connection (the samples)."""

    def __init__(self, args, port_line, start_timeout=15.0):
        self.stderr = tempfile.TemporaryFile()
        if port_line:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
            try:
                self.port = self._read_port(start_timeout)
            except Exception:
                self.stop()
                raise
        else:
            self.port = free_port()
            self.proc = subprocess.Popen(args + ["--port", str(self.port)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self.stderr)
            try:
                self._wait_listening(start_timeout)
            except Exception:
                self.stop()
                raise

    def _read_port(self, timeout):
        fields = read_first_line(self.proc, timeout, self.stderr_text).split()
        if len(fields) < 2 or fields[0] != "PORT":
            raise RuntimeError("unexpected first line %r" % fields)
        return int(fields[1])

    def _wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited (%s): %s" % (self.proc.returncode, self.stderr_text()))
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server not listening on %d within %.0f s" % (self.port, timeout))

    def stderr_text(self):
        try:
            self.stderr.seek(0)
            return self.stderr.read().decode(errors="replace")[-3000:]
        except (OSError, ValueError):
            return "<no stderr>"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                f.close()
        self.stderr.close()


def cli(*args, stdin=None, env=None, timeout=30):
    """Runs the installed greenrpc; returns (exit status, stdout, stderr, seconds)."""
    run_env = dict(CLI_ENV)
    run_env.update(env or {})
    started = time.monotonic()
    p = subprocess.run([CLI, *[str(a) for a in args]], input=stdin.encode() if stdin is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=run_env, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode(), time.monotonic() - started


class CliTestCase(unittest.TestCase):
    server = None

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.stop()
            cls.server = None

    def call(self, *args, **kw):
        return cli("--port", self.server.port, "call", *args, **kw)

    def assert_ok(self, result, stdout):
        code, out, err, _ = result
        self.assertEqual((code, out), (0, stdout), "stderr: %s" % err)

    def assert_fails(self, result, code, stderr_start):
        got, out, err, _ = result
        self.assertEqual(got, code, "stdout %r stderr %r" % (out, err))
        self.assertEqual(out, "")
        self.assertTrue(err.startswith(stderr_start), "stderr %r does not start with %r" % (err, stderr_start))
        self.assertEqual(err.count("\n"), 1, err)


# ------------------------------------------------------------------------------------------------
# samples/quickstart: add(a: int, b: NumberInput) -> int
# ------------------------------------------------------------------------------------------------

class Quickstart(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server([QUICKSTART_SERVER], port_line=False)

    def test_add(self):
        self.assert_ok(self.call("add", 1, '{"value": 2}'), "3\n")
        self.assert_ok(self.call("add", -40, '{"value":2}'), "-38\n")
        # Flags before or after the subcommand's name.
        self.assert_ok(cli("call", "--host", HOST, "--port", self.server.port, "add", 40, '{"value": 2}'), "42\n")

    def test_error_reply_is_printed_whole_with_exit_1(self):
        result = self.call("add", '"one"', '{"value": 2}')
        # The line exactly as the server wrote it (Tino's layout).
        self.assert_fails(result, 1, 'error: VALIDATION_ERROR ["command", "a"] "value is not a valid integer" '
                                     '"type_error.integer"\n')
        self.assert_fails(self.call("add", 1), 1, "error: NUM_ARG_MISMATCH")
        self.assert_fails(self.call("no_such_command"), 1, "error: INVALID_COMMAND")

    def test_arguments_that_are_not_json_are_refused_before_sending(self):
        code, out, err, _ = self.call("add", "hello", '{"value": 2}')
        self.assertEqual((code, out), (2, ""))
        self.assertIn("argument 1 (hello) is not valid", err)
        self.assertIn("quote", err)
        self.assertEqual(self.call("add", 1, "{value: 2}")[0], 2)
        self.assertEqual(self.call("add", "18446744073709551616", '{"value": 2}')[0], 2)

    def test_commands_and_describe(self):
        code, out, err, _ = cli("--port", self.server.port, "commands")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ["add(a: int, b: NumberInput) -> int"])
        code, out, err, _ = cli("--port", self.server.port, "commands", "--all")
        self.assertEqual(code, 0, err)
        names = [line.split("(")[0].split()[0] for line in out.splitlines()]
        self.assertIn("add", names)
        self.assertIn("ping", names)
        code, out, err, _ = cli("--port", self.server.port, "commands", "--json")
        self.assertEqual(code, 0, err)
        docs = json.loads(out)
        self.assertEqual(list(docs), ["add"])
        self.assertEqual([a["name"] for a in docs["add"]["arguments"]], ["a", "b"])

        code, out, err, _ = cli("describe", "add", "--port", self.server.port)
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "add(a: int, b: NumberInput) -> int")
        self.assertIn("  arguments:", lines)
        self.assertIn("    a: int", lines)
        self.assertIn("    b: NumberInput", lines)
        self.assertIn("  returns: int", lines)
        self.assertTrue(any(line.startswith("  summary: ") for line in lines), out)
        code, out, err, _ = cli("--port", self.server.port, "describe", "add", "--json")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["name"], "add")
        code, out, err, _ = cli("--port", self.server.port, "describe", "nope")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("no command named 'nope'", err)

    def test_pretty(self):
        code, out, err, _ = cli("--port", self.server.port, "--pretty", "commands", "--json")
        self.assertEqual(code, 0, err)
        self.assertGreater(out.count("\n"), 3)
        self.assertEqual(list(json.loads(out)), ["add"])


class Usage(unittest.TestCase):
    def test_help_version_and_bad_flags(self):
        code, out, err, _ = cli("--help")
        self.assertEqual(code, 0, err)
        for word in ("call", "commands", "describe", "--secret", "GREENRPC_SECRET", "Exit status", "--tls-ca"):
            self.assertIn(word, out)
        code, out, err, _ = cli("call", "--help")
        self.assertEqual(code, 0, err)
        self.assertIn("--pipe", out)
        code, out, _, _ = cli("--version")
        self.assertEqual((code, out.strip()), (0, "0.1.0"))
        self.assertEqual(cli("--no-such-flag", "call", "add")[0], 2)
        self.assertEqual(cli()[0], 2)
        self.assertEqual(cli("call")[0], 2)
        self.assertEqual(cli("call", "-x", "add")[0], 2)
        self.assertEqual(cli("--timeout", "soon", "call", "add")[0], 2)
        self.assertEqual(cli("--port", "70000", "call", "add")[0], 2)
        self.assertEqual(cli("--tls-cert", "a.pem", "call", "add")[0], 2)  # no --tls-key

    def test_connection_refused_is_exit_3(self):
        port = free_port()
        code, out, err, seconds = cli("--port", port, "call", "add", 1, '{"value": 2}')
        self.assertEqual((code, out), (3, ""), err)
        self.assertTrue(err.startswith("greenrpc: cannot connect"), err)
        self.assertIn(str(port), err)
        self.assertLess(seconds, 10)

    def test_unreadable_tls_file_is_a_usage_error(self):
        code, _, err, _ = cli("--port", free_port(), "--tls-ca", "/nonexistent/ca.pem", "call", "add")
        self.assertEqual(code, 2, err)
        self.assertIn("TLS", err)


# ------------------------------------------------------------------------------------------------
# samples/auth: AUTH <password>, commands that need it
# ------------------------------------------------------------------------------------------------

class AuthSample(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server([AUTH_SERVER], port_line=False)

    def test_password_flag_and_env(self):
        self.assert_ok(self.call("--password", "alice-secret", "whoami"), '{"name":"alice","admin":false}\n')
        self.assert_ok(cli("--port", self.server.port, "call", "read_secret", '"motd"',
                           env={"GREENRPC_PASSWORD": "root-secret"}), '"the cake is a lie"\n')
        self.assert_ok(self.call("--password", "root-secret", "list_users"), '["alice","root"]\n')
        self.assert_ok(self.call("whoami"), "null\n")

    def test_refusals_are_permission_denied(self):
        self.assert_fails(self.call("read_secret", '"motd"'), 1, "error: PERMISSION_DENIED")
        self.assert_fails(self.call("--password", "alice-secret", "list_users"), 1, 'error: PERMISSION_DENIED "admins only"')
        result = self.call("--password", "hunter2-wrong", "whoami")
        self.assert_fails(result, 1, "error: PERMISSION_DENIED")
        self.assertNotIn("hunter2-wrong", result[1] + result[2])
        self.assert_fails(self.call("--password", "alice-secret", "read_secret", '"nope"'), 1,
                          'error: NOT_FOUND "no secret named nope"')


# ------------------------------------------------------------------------------------------------
# test_server: AUTH <user> <password>, bytes, timeouts, --pipe
# ------------------------------------------------------------------------------------------------

class TestServer(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server([TEST_SERVER, "--host", HOST, "--port", "0"], port_line=True)

    def test_user_and_password(self):
        self.assert_ok(self.call("--user", "default", "--password", "secret", "whoami"), '"alice"\n')
        self.assert_ok(self.call("--user", "bob", "whoami", env={"GREENRPC_PASSWORD": "pw2"}), '"bob"\n')
        result = self.call("--user", "bob", "--password", "not-pw2", "whoami")
        self.assert_fails(result, 1, "error: PERMISSION_DENIED")
        self.assertNotIn("not-pw2", result[2])

    def test_bytes_base64_and_hex(self):
        self.assert_ok(self.call("bytes_roundtrip", '{"$bytes": "AAH/"}'), '"AAH/"\n')
        self.assert_ok(self.call("--hex", "bytes_roundtrip", '{"$bytes": "AAH/"}'), '"0001ff"\n')
        self.assert_ok(self.call("bytes_roundtrip", '{"$hex": "0001ff"}'), '"AAH/"\n')
        self.assert_ok(self.call("bytes_len", '{"$hex": "0001ff"}'), "3\n")
        self.assertEqual(self.call("bytes_len", '{"$bytes": "not base64"}')[0], 2)

    def test_types(self):
        self.assert_ok(self.call("int64_identity", "-9223372036854775808"), "-9223372036854775808\n")
        self.assert_ok(self.call("half", "3"), "1.5\n")
        self.assert_ok(self.call("swap_pair", '[7, "x y"]'), '["x y",7]\n')
        self.assert_ok(self.call("noop"), "null\n")
        self.assert_ok(self.call("sum_list", "[1, 2, -3, 40]"), "40\n")
        self.assert_ok(self.call("user_roundtrip",
                                 '{"name": "Ann", "age": 30, "address": {"city": "Oslo", "zip": 150},'
                                 ' "email": null, "tags": ["a"], "scores": {"x": 1}}'),
                       '{"name":"Ann","age":30,"address":{"city":"Oslo","zip":150},"email":null,'
                       '"tags":["a"],"scores":{"x":1}}\n')
        self.assert_fails(self.call("custom_fail", '"went wrong"'), 1, 'error: CUSTOM_CODE "went wrong"')
        # A built-in's reply that is not msgpack is shown as text, with a note.
        code, out, err, _ = self.call("ping")
        self.assertEqual((code, out), (0, '"PONG"\n'), err)

    def test_timeout(self):
        code, out, err, seconds = self.call("--timeout", "300ms", "sleep_ms", 3000)
        self.assertEqual((code, out), (3, ""), err)
        self.assertTrue("timeout" in err or "DEADLINE_EXCEEDED" in err, err)
        self.assertLess(seconds, 2.5)
        # Long enough: the reply.
        self.assert_ok(self.call("--timeout", "5s", "sleep_ms", 50), "50\n")

    def test_pipe(self):
        lines = "\n".join([
            'add 1 {"value": 2}',
            "# a comment, and a blank line: no output",
            "",
            'echo "two words"',
            'add "x" {"value": 2}',
            'add hello {"value": 2}',
            "int64_identity -9223372036854775808",
            "sleep_ms 200",
            '  bytes_roundtrip   {"$hex": "ff00"}  ',
            'add 40 {"value": 2',
            'add 40 {"value": 2}',
        ]) + "\n"
        code, out, err, _ = self.call("--pipe", stdin=lines)
        self.assertEqual(code, 2, err)  # the worst line: a bad input line
        got = out.splitlines()
        self.assertEqual(len(got), 9, out)
        self.assertEqual(got[0], "3")
        self.assertEqual(got[1], '"two words"')
        self.assertTrue(got[2].startswith("error: VALIDATION_ERROR "), got[2])
        self.assertTrue(got[3].startswith("error: greenrpc: line 6: argument 1 is not valid"), got[3])
        self.assertEqual(got[4:7], ["-9223372036854775808", "200", '"/wA="'])
        self.assertTrue(got[7].startswith("error: greenrpc: line 10: "), got[7])
        self.assertEqual(got[8], "42")

    def test_pipe_all_good_and_hex(self):
        code, out, err, _ = self.call("--hex", "--pipe", stdin="bytes_roundtrip {\"$bytes\": \"AAH/\"}\nadd 1 {\"value\": 1}")
        self.assertEqual((code, out), (0, '"0001ff"\n2\n'), err)
        code, out, err, _ = self.call("--pipe", stdin="")
        self.assertEqual((code, out), (0, ""), err)

    def test_pipe_server_errors_give_exit_1_and_do_not_stop_the_rest(self):
        code, out, err, _ = self.call("--pipe", "--in-flight", "1",
                                      stdin='custom_fail "a"\nadd 1 {"value": 2}\nno_such\nadd 2 {"value": 2}\n')
        self.assertEqual(code, 1, err)
        self.assertEqual(out.splitlines(), ['error: CUSTOM_CODE "a"', "3", out.splitlines()[2], "4"])
        self.assertTrue(out.splitlines()[2].startswith("error: INVALID_COMMAND"), out)

    def test_pipe_many_lines_in_order(self):
        n = 500
        stdin = "".join("int64_identity %d\n" % i for i in range(n))
        code, out, err, _ = self.call("--pipe", stdin=stdin, timeout=60)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), [str(i) for i in range(n)])

    def test_pipe_sends_in_input_order_on_one_connection(self):
        # incr_counter counts per connection: 1..n only if every call went out on one connection,
        # in input order.
        n = 300
        code, out, err, _ = self.call("--pipe", stdin="incr_counter\n" * n, timeout=60)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), [str(i) for i in range(1, n + 1)])

    def test_pipe_timeouts_are_exit_3(self):
        # The server runs one connection's requests in order: pipelined behind the slow call,
        # the quick one's deadline passes too.
        code, out, err, seconds = self.call("--timeout", "200ms", "--pipe", stdin="sleep_ms 2000\nsleep_ms 10\n")
        self.assertEqual(code, 3, err)
        got = out.splitlines()
        self.assertEqual(len(got), 2, out)
        for line in got:
            self.assertTrue(line.startswith("error: DEADLINE_EXCEEDED") or line.startswith("error: greenrpc: timeout"),
                            line)
        self.assertLess(seconds, 1.8)
        # One at a time, the quick call is sent once the slow one has given up.
        code, out, err, _ = self.call("--timeout", "200ms", "--pipe", "--in-flight", "1",
                                      stdin="sleep_ms 2000\nsleep_ms 10\n")
        self.assertEqual(code, 3, err)
        got = out.splitlines()
        self.assertEqual(len(got), 2, out)
        self.assertTrue(got[0].startswith("error: "), got[0])
        self.assertEqual(got[1], "10")


class PipeToNowhere(unittest.TestCase):
    def test_every_line_fails_with_exit_3(self):
        code, out, err, seconds = cli("--port", free_port(), "call", "--pipe", stdin="noop\nnoop\n")
        self.assertEqual(code, 3, err)
        got = out.splitlines()
        self.assertEqual(len(got), 2, out)
        for line in got:
            self.assertTrue(line.startswith("error: greenrpc: cannot connect"), line)
        self.assertLess(seconds, 15)


# ------------------------------------------------------------------------------------------------
# tests/envelope/signed_server: HMAC-signed requests and replies
# ------------------------------------------------------------------------------------------------

class Signing(CliTestCase):
    SECRET = "cli-test-s3cr3t"

    @classmethod
    def setUpClass(cls):
        cls.server = Server([SIGNED_SERVER, "--host", HOST, "--port", "0", "--secret", cls.SECRET], port_line=True)

    def test_right_secret(self):
        self.assert_ok(self.call("--secret", self.SECRET, "add", 1, '{"value": 2}'), "3\n")
        self.assert_ok(cli("--port", self.server.port, "call", "echo", '"signed"', env={"GREENRPC_SECRET": self.SECRET}),
                       '"signed"\n')
        code, out, err, _ = cli("--port", self.server.port, "--secret", self.SECRET, "commands")
        self.assertEqual(code, 0, err)
        self.assertIn("add(a: int, b: NumberInput) -> int", out.splitlines())
        code, out, err, _ = self.call("--secret", self.SECRET, "--pipe", stdin='add 1 {"value": 2}\necho "x"\n')
        self.assertEqual((code, out), (0, '3\n"x"\n'), err)

    def test_rpc_error_keeps_its_code(self):
        self.assert_fails(self.call("--secret", self.SECRET, "fail", '"boom"'), 1, 'error: RPC_ERROR "boom"')

    def test_wrong_or_missing_secret(self):
        result = self.call("--secret", "not-the-secret", "add", 1, '{"value": 2}')
        self.assert_fails(result, 1, "error: AUTH_ERROR")
        self.assertNotIn("not-the-secret", result[2])
        self.assertNotIn(self.SECRET, result[2])
        result = self.call("add", 1, '{"value": 2}')
        self.assertEqual(result[0], 1, result)
        self.assertTrue(result[2].startswith("error: AUTH_ERROR"), result[2])


# ------------------------------------------------------------------------------------------------
# TLS: the quickstart server with a certificate from a test CA
# ------------------------------------------------------------------------------------------------

class Tls(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server([QUICKSTART_SERVER, "--tls-cert", cert("server.crt"), "--tls-key", cert("server.key")],
                            port_line=False)

    def test_verified_by_the_ca(self):
        self.assert_ok(self.call("--tls-ca", cert("ca.crt"), "add", 1, '{"value": 2}'), "3\n")
        self.assert_ok(self.call("--tls", "--tls-ca", cert("ca.crt"), "--tls-server-name", "localhost", "add", 1,
                                 '{"value": 2}'), "3\n")
        self.assert_ok(cli("--host", "localhost", "--port", self.server.port, "--tls-ca", cert("ca.crt"), "call", "add",
                           2, '{"value": 2}'), "4\n")

    def test_pinned_certificate(self):
        self.assert_ok(self.call("--tls-pinned", cert("server.crt"), "add", 1, '{"value": 2}'), "3\n")

    def test_refused_certificates_are_exit_3(self):
        code, out, err, _ = self.call("--tls-ca", cert("rogue.crt"), "add", 1, '{"value": 2}')
        self.assertEqual((code, out), (3, ""), err)
        self.assertTrue(err.startswith("greenrpc: TLS: "), err)
        code, out, err, _ = self.call("--tls-ca", cert("ca.crt"), "--tls-server-name", "elsewhere.example", "add", 1,
                                      '{"value": 2}')
        self.assertEqual((code, out), (3, ""), err)
        self.assertTrue(err.startswith("greenrpc: TLS: "), err)

    def test_plaintext_to_a_tls_port_fails(self):
        code, out, err, _ = self.call("add", 1, '{"value": 2}')
        self.assertNotEqual(code, 0)
        self.assertEqual(out, "")
        self.assertIn("TLS", err)


class MutualTls(CliTestCase):
    @classmethod
    def setUpClass(cls):
        # With --tls-ca the quickstart server requires a client certificate from that CA.
        cls.server = Server([QUICKSTART_SERVER, "--tls-cert", cert("server.crt"), "--tls-key", cert("server.key"),
                             "--tls-ca", cert("ca.crt")], port_line=False)

    def test_client_certificate(self):
        self.assert_ok(self.call("--tls-ca", cert("ca.crt"), "--tls-cert", cert("client.crt"), "--tls-key",
                                 cert("client.key"), "add", 1, '{"value": 2}'), "3\n")
        code, out, err, _ = self.call("--tls-ca", cert("ca.crt"), "add", 1, '{"value": 2}')
        self.assertEqual((code, out), (3, ""), err)
        self.assertTrue(err.startswith("greenrpc: "), err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
