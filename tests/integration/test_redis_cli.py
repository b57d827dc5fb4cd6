"""redis-cli as a peer: one-shot commands, msgpack bytes from the shell, auth, stdin mode, --pipe."""
import subprocess

from harness import REDIS_CLI, ServerTestCase, encode_command, main, pack


class RedisCliTest(ServerTestCase):
    def cli(self, *args, stdin=b"", timeout=20, check=True):
        """redis-cli's stdout (it is not a tty, so replies are printed raw)."""
        cmd = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *args]
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check:
            self.assertEqual(p.returncode, 0, "%r failed: %r %r" % (args, p.stdout, p.stderr))
        return p.stdout

    def bash(self, script, stdin=b"", timeout=20):
        """Runs `script` in bash with $PORT and $CLI set; returns (status, stdout, stderr)."""
        env = {"PORT": str(self.port), "CLI": REDIS_CLI, "PATH": "/usr/bin:/bin"}
        p = subprocess.run(["bash", "-c", script], input=stdin, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def test_ping(self):
        self.assertEqual(self.cli("PING"), b"PONG\n")
        self.assertEqual(self.cli("ping", "hi there"), b"hi there\n")

    def test_typed_call_with_bash_ansi_c_quoting(self):
        status, out, err = self.bash("""$CLI -p "$PORT" add $'\\x01' $'\\x81\\xa5value\\x02'""")
        self.assertEqual((status, out), (0, b"\x03\n"), err)
        # --no-raw shows the msgpack bytes escaped, as redis-cli does for a terminal.
        status, out, err = self.bash("""$CLI -p "$PORT" --no-raw add $'\\x28' $'\\x81\\xa5value\\x02'""")
        self.assertEqual((status, out), (0, b'"*"\n'), err)  # 40 + 2 = 42 = '*'
        status, out, err = self.bash("""$CLI -p "$PORT" --no-raw echo $'\\xa6h\\xc3\\xa9llo'""")
        self.assertEqual((status, out), (0, b'"\\xa6h\\xc3\\xa9llo"\n'), err)

    def test_typed_call_with_stdin_argument(self):
        # -x: the last argument is read from stdin (here the NumberInput map).
        status, out, err = self.bash("""printf '\\x81\\xa5value\\x02' | $CLI -p "$PORT" -x add $'\\x05'""")
        self.assertEqual((status, out), (0, b"\x07\n"), err)
        # Bytes with a NUL cannot be an argv argument, but can come from stdin.
        out = self.cli("-x", "bytes_roundtrip", stdin=pack(b"\x00\x01\x00"))
        self.assertEqual(out, pack(b"\x00\x01\x00") + b"\n")
        out = self.cli("-x", "bytes_len", stdin=pack(b"\x00" * 300))
        self.assertEqual(out, b"\xcd\x01\x2c\n")

    def test_auth_with_password(self):
        self.assertEqual(self.cli("--no-auth-warning", "-a", "secret", "whoami"), b"\xa5alice\n")
        status, out, err = self.bash("""$CLI -p "$PORT" -a secret whoami""")
        self.assertEqual((status, out), (0, b"\xa5alice\n"), err)
        self.assertEqual(self.cli("--user", "bob", "--pass", "pw2", "--no-auth-warning", "whoami"), b"\xa3bob\n")

    def test_errors_are_printed(self):
        # (redis-cli ends a raw error with an extra empty line.)
        out = self.cli("whoami", check=False)
        self.assertEqual(out.rstrip(b"\n"), b"PERMISSION_DENIED")
        out = self.cli("nosuchcommand", "x", check=False)
        self.assertEqual(out.rstrip(b"\n"), b"INVALID_COMMAND nosuchcommand")
        p = subprocess.run([REDIS_CLI, "-p", str(self.port), "--no-auth-warning", "-a", "wrong", "whoami"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        self.assertIn(b"PERMISSION_DENIED", p.stdout)
        self.assertNotIn(b"alice", p.stdout)

    def test_builtins(self):
        self.assertEqual(self.cli("client", "setname", "cli"), b"OK\n")
        self.assertRegex(self.cli("client", "id"), rb"^[1-9][0-9]*\n$")
        info = self.cli("info")
        self.assertIn(b"role:master", info)
        self.assertIn(b"loading:0", info)
        self.assertIn(b"tcp_port:%d" % self.port, info)
        self.assertEqual(self.cli("select", "0"), b"OK\n")
        self.assertRegex(self.cli("command", "count"), rb"^[0-9]+\n$")

    def test_stdin_lines_share_one_connection(self):
        script = b"PING\nCLIENT SETNAME from-stdin\nCLIENT GETNAME\nincr_counter\nincr_counter\nincr_counter\n"
        self.assertEqual(self.cli(stdin=script), b"PONG\nOK\nfrom-stdin\n\x01\n\x02\n\x03\n")

    def test_repeat_keeps_connection_state(self):
        self.assertEqual(self.cli("-r", "4", "incr_counter"), b"\x01\n\x02\n\x03\n\x04\n")


class RedisCliPipeTest(ServerTestCase):
    """--pipe ends with a built-in ECHO of a random marker, so use the server without a user echo."""

    server_args = ("--no-echo",)

    def test_pipe_mode(self):
        n = 2000
        payload = b"".join(encode_command("add", pack(i), pack({"value": 1})) for i in range(n))
        p = subprocess.run([REDIS_CLI, "-p", str(self.port), "--pipe", "--pipe-timeout", "10"], input=payload,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"errors: 0, replies: %d" % n, p.stdout)


if __name__ == "__main__":
    main()
