"""AUTH: the App's auth function, per connection, through raw RESP and redis-py."""
import redis

from harness import ServerTestCase, main, pack, unpack

DENIED = b"-PERMISSION_DENIED\r\n"  # Tino's bare refusal
WRONG = b"-PERMISSION_DENIED\r\n"


class AuthTest(ServerTestCase):
    def test_flow_on_one_connection(self):
        c = self.raw()
        self.assertEqual(c.call_raw("PING"), b"+PONG\r\n")
        self.assertEqual(c.call_raw("whoami"), DENIED)
        self.assertIsNone(c.rpc("maybe_user"))
        # A wrong password is refused and the connection stays usable (and unauthenticated).
        self.assertEqual(c.call_raw("AUTH", "wrong"), WRONG)
        self.assertEqual(c.call_raw("PING"), b"+PONG\r\n")
        self.assertEqual(c.call_raw("whoami"), DENIED)
        self.assertEqual(c.rpc("add", 1, {"value": 2}), 3)
        # AUTH <password> authenticates user "default" → "alice".
        self.assertEqual(c.call_raw("AUTH", "secret"), b"+OK\r\n")
        self.assertEqual(c.call_raw("whoami"), b"$6\r\n\xa5alice\r\n")
        self.assertEqual(c.rpc("whoami"), "alice")
        self.assertEqual(c.rpc("maybe_user"), "alice")
        self.assertEqual(c.rpc("secret_add", 1), 1001)
        # A later failed AUTH keeps the earlier identity (as Redis does).
        self.assertEqual(c.call_raw("AUTH", "bob", "wrong"), WRONG)
        self.assertEqual(c.rpc("whoami"), "alice")
        # AUTH <user> <password> switches identity.
        self.assertEqual(c.call_raw("AUTH", "bob", "pw2"), b"+OK\r\n")
        self.assertEqual(c.rpc("whoami"), "bob")

    def test_two_argument_form(self):
        c = self.raw()
        self.assertEqual(c.call_raw("AUTH", "bob", "pw2"), b"+OK\r\n")
        self.assertEqual(c.rpc("whoami"), "bob")
        d = self.raw()
        self.assertEqual(d.call_raw("AUTH", "default", "secret"), b"+OK\r\n")
        self.assertEqual(d.rpc("whoami"), "alice")
        e = self.raw()
        # The password alone belongs to "default": bob's password is not alice's.
        self.assertEqual(e.call_raw("AUTH", "pw2"), WRONG)
        self.assertEqual(e.call_raw("AUTH", "bob", "secret"), WRONG)
        self.assertEqual(e.call_raw("whoami"), DENIED)

    def test_named_argument_after_auth_required(self):
        c = self.raw()
        self.assertEqual(c.call_raw("secret_add", pack("x")), DENIED)
        self.assertEqual(c.call_raw("AUTH", "secret"), b"+OK\r\n")
        self.assertEqual(c.call_raw("secret_add", pack("x")),
                         b'-VALIDATION_ERROR ["command", "x"] "value is not a valid integer" "type_error.integer"\r\n')
        self.assertEqual(c.call_raw("secret_add"), b"-NUM_ARG_MISMATCH\r\n")

    def test_auth_function_failure(self):
        c = self.raw()
        self.assertEqual(c.call_raw("AUTH", "crash", "x"), b'-UNEXPECTED_ERROR "auth function failed: auth backend down"\r\n')
        self.assertEqual(c.call_raw("whoami"), DENIED)
        self.assertEqual(c.call_raw("PING"), b"+PONG\r\n")

    def test_auth_arity(self):
        c = self.raw()
        self.assertEqual(c.call_raw("AUTH"), b"-ERR wrong number of arguments for 'auth' command\r\n")
        self.assertEqual(c.call_raw("AUTH", "a", "b", "c"), b"-ERR wrong number of arguments for 'auth' command\r\n")
        self.assertEqual(c.call_raw("PING"), b"+PONG\r\n")

    def test_auth_is_per_connection(self):
        a, b = self.raw(), self.raw()
        self.assertEqual(a.call_raw("AUTH", "secret"), b"+OK\r\n")
        self.assertEqual(a.rpc("whoami"), "alice")
        self.assertEqual(b.call_raw("whoami"), DENIED)
        self.assertIsNone(b.rpc("maybe_user"))
        # A new connection starts unauthenticated again.
        a.close()
        self.assertEqual(self.raw().call_raw("whoami"), DENIED)

    def test_inline_auth(self):
        c = self.raw()
        c.send(b"AUTH secret\r\n")
        self.assertEqual(c.read_raw(), b"+OK\r\n")
        self.assertEqual(c.rpc("whoami"), "alice")

    def test_hello_auth(self):
        c = self.raw()
        reply = c.call("HELLO", "2", "AUTH", "bob", "pw2")
        self.assertEqual(dict(zip(reply[::2], reply[1::2]))[b"proto"], 2)
        self.assertEqual(c.rpc("whoami"), "bob")
        d = self.raw()
        self.assertEqual(d.call_raw("HELLO", "2", "AUTH", "bob", "nope"), WRONG)
        self.assertEqual(d.call_raw("whoami"), DENIED)

    def test_redis_py_password(self):
        r = self.client(password="secret")
        self.assertEqual(unpack(r.execute_command("whoami")), "alice")
        self.assertTrue(r.ping())

    def test_redis_py_username_password(self):
        r = self.client(username="bob", password="pw2")
        self.assertEqual(unpack(r.execute_command("whoami")), "bob")
        self.assertEqual(unpack(r.execute_command("secret_add", pack(5))), 1005)

    def test_redis_py_without_password(self):
        r = self.client()
        with self.assertRaises(redis.ResponseError) as cm:
            r.execute_command("whoami")
        self.assertEqual(str(cm.exception), "PERMISSION_DENIED")
        self.assertIsNone(unpack(r.execute_command("maybe_user")))

    def test_redis_py_wrong_password_fails_to_connect(self):
        r = self.client(password="wrong")
        with self.assertRaises(redis.RedisError) as cm:
            r.ping()
        self.assertIn("PERMISSION_DENIED", str(cm.exception))


if __name__ == "__main__":
    main()
