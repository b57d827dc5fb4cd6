"""Green threads: 1000 connections sleeping 200 ms each on ONE worker thread finish together;
several workers share the load."""
import resource
import sys
import selectors
import socket
import threading
import time

from harness import HOST, ServerTestCase, encode_command, main, pack, unpack

N_CONNECTIONS = 1000
SLEEP_MS = 200


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# Before any test_server starts: it inherits the limit (it needs one fd per connection too).
FD_LIMIT = raise_fd_limit(4 * N_CONNECTIONS)


class Sockets:
    """n raw connections opened up front; call_all() sends one request on each at once."""

    def __init__(self, port, n):
        self.socks = []
        try:
            for _ in range(n):
                s = socket.create_connection((HOST, port), timeout=5)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.socks.append(s)
        except BaseException:
            self.close()
            raise

    def close(self):
        for s in self.socks:
            s.close()

    def call_all(self, request, expected, timeout=15.0):
        """Returns (seconds from the first send to the last reply, list of wrong replies)."""
        sel = selectors.DefaultSelector()
        try:
            bufs = {}
            for s in self.socks:
                s.setblocking(False)
            start = time.monotonic()
            for s in self.socks:
                s.send(request)  # tiny: always fits an empty send buffer
                bufs[s] = b""
                sel.register(s, selectors.EVENT_READ)
            pending, wrong = len(self.socks), []
            deadline = start + timeout
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
                    s = key.fileobj
                    chunk = s.recv(4096)
                    if chunk:
                        bufs[s] += chunk
                        if len(bufs[s]) < len(expected):
                            continue
                    if bufs[s] != expected:
                        wrong.append(bufs[s] if chunk else "closed after %r" % bufs[s])
                    sel.unregister(s)
                    pending -= 1
            elapsed = time.monotonic() - start
            if pending:
                wrong.append("%d replies missing after %.1fs" % (pending, timeout))
            return elapsed, wrong
        finally:
            sel.close()


def concurrent_calls(port, n, request, expected):
    socks = Sockets(port, n)
    try:
        return socks.call_all(request, expected)
    finally:
        socks.close()


class OneWorkerTest(ServerTestCase):
    server_args = ("--workers", "1")

    def test_1000_concurrent_sleeps_on_one_worker(self):
        self.assertGreaterEqual(FD_LIMIT, 2 * N_CONNECTIONS + 50, "cannot raise RLIMIT_NOFILE")
        request = encode_command("sleep_ms", pack(SLEEP_MS))
        expected = b"$2\r\n" + pack(SLEEP_MS) + b"\r\n"
        probe_conn = self.raw()
        socks = Sockets(self.port, N_CONNECTIONS)
        self._closers.append(socks.close)
        # While they all sleep, another connection on the same worker is served at once.
        probe_result = []

        def probe():
            time.sleep(0.05)
            t = time.monotonic()
            reply = probe_conn.call_raw("PING")
            probe_result.append((reply, time.monotonic() - t))

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        elapsed, wrong = socks.call_all(request, expected)
        prober.join(10)
        print("\n  %d x sleep_ms(%d) on one worker: %.3fs; probe %r" % (N_CONNECTIONS, SLEEP_MS, elapsed, probe_result),
              file=sys.stderr)
        self.assertEqual(wrong, [])
        self.assertGreaterEqual(elapsed, SLEEP_MS / 1000 * 0.9, "the handlers did not really sleep")
        self.assertLess(elapsed, 2.0, "1000 x sleep_ms(200) on one worker took %.2fs: sleeps are not green" % elapsed)
        self.assertEqual(len(probe_result), 1, "the probe got no answer")
        reply, latency = probe_result[0]
        self.assertEqual(reply, b"+PONG\r\n")
        self.assertLess(latency, 0.15, "PING waited %.3fs behind sleeping handlers" % latency)
        # Everything ran on the single worker.
        self.assertEqual(probe_conn.rpc("worker_index"), 0)


class TwoWorkersTest(ServerTestCase):
    server_args = ("--workers", "2")

    def test_many_connections_on_two_workers(self):
        n = 64
        clients = [self.client() for _ in range(n)]
        workers = set()
        for k, r in enumerate(clients):
            self.assertEqual(unpack(r.execute_command("add", pack(k), pack({"value": 1}))), k + 1)
            workers.add(unpack(r.execute_command("worker_index")))
            self.assertEqual(unpack(r.execute_command("incr_counter")), 1)
        self.assertEqual(workers, {0, 1}, "64 connections all landed on one worker")
        # Per-connection state and ids stay distinct across workers.
        ids = {unpack(r.execute_command("info_ctx")) for r in clients}
        self.assertEqual(len(ids), n)
        for r in clients:
            self.assertEqual(unpack(r.execute_command("incr_counter")), 2)
        info = clients[0].info()
        self.assertEqual(info["io_threads_active"], 2)

    def test_threads_calling_in_parallel(self):
        errors = []

        def worker(k):
            try:
                r = self.client()
                for i in range(300):
                    got = unpack(r.execute_command("add", pack(k), pack({"value": i})))
                    if got != k + i:
                        errors.append((k, i, got))
                        return
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])

    def test_concurrent_sleeps_on_two_workers(self):
        elapsed, wrong = concurrent_calls(self.port, 300, encode_command("sleep_ms", pack(SLEEP_MS)),
                                          b"$2\r\n" + pack(SLEEP_MS) + b"\r\n")
        self.assertEqual(wrong, [])
        self.assertLess(elapsed, 2.0)


if __name__ == "__main__":
    main()
