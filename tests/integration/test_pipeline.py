"""Deep pipelines: every reply correct and in order."""
import threading

import redis

from harness import ServerTestCase, encode_command, main, pack, unpack

N = 10_000


class PipelineTest(ServerTestCase):
    def test_10000_pipelined_adds_with_redis_py(self):
        r = self.client()
        pipe = r.pipeline(transaction=False)
        for i in range(N):
            pipe.execute_command("add", pack(i), pack({"value": 3 * i - 5000}))
        replies = pipe.execute()
        self.assertEqual(len(replies), N)
        got = [unpack(x) for x in replies]
        self.assertEqual(got, [i + 3 * i - 5000 for i in range(N)])
        # The connection is still in a clean state.
        self.assertEqual(unpack(r.execute_command("add", pack(1), pack({"value": 1}))), 2)

    def test_mixed_pipeline_with_errors_keeps_order(self):
        r = self.client()
        pipe = r.pipeline(transaction=False)
        expected = []
        for i in range(N):
            kind = i % 5
            if kind == 0:
                pipe.execute_command("add", pack(i), pack({"value": 1}))
                expected.append(i + 1)
            elif kind == 1:
                pipe.execute_command("echo", pack("s%d-ü" % i))
                expected.append("s%d-ü" % i)
            elif kind == 2:
                pipe.execute_command("add", pack(i))
                expected.append("NUM_ARG_MISMATCH")
            elif kind == 3:
                pipe.execute_command("incr_counter")
                expected.append(i // 5 + 1)
            else:
                pipe.execute_command("bytes_roundtrip", pack(bytes([i % 256]) * (i % 50)))
                expected.append(bytes([i % 256]) * (i % 50))
        replies = pipe.execute(raise_on_error=False)
        self.assertEqual(len(replies), N)
        got = [str(x) if isinstance(x, redis.ResponseError) else unpack(x) for x in replies]
        self.assertEqual(got, expected)

    def test_10000_raw_pipelined_requests_in_one_write(self):
        conn = self.raw(timeout=20)
        batch = b"".join(encode_command("add", pack(i), pack({"value": i})) for i in range(N))
        # Read concurrently so that neither side can stall on a full socket buffer.
        replies, failure = [], []

        def reader():
            try:
                for _ in range(N):
                    replies.append(conn.read_raw())
            except Exception as e:  # reported by the main thread
                failure.append(e)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        conn.send(batch)
        t.join(30)
        self.assertFalse(t.is_alive(), "replies did not arrive within 30 s")
        self.assertEqual(failure, [])
        self.assertEqual(replies, [b"$%d\r\n%s\r\n" % (len(pack(2 * i)), pack(2 * i)) for i in range(N)])

    def test_large_replies_in_one_batch(self):
        # 48 x 1 MiB replies to one write: the server flushes mid-batch and keeps the order.
        conn = self.raw(timeout=30)
        blobs = [bytes([k]) * (1 << 20) for k in range(48)]
        replies, failure = [], []

        def reader():
            try:
                for _ in blobs:
                    replies.append(conn.read_raw())
            except Exception as e:
                failure.append(e)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        conn.send(b"".join(encode_command("bytes_roundtrip", pack(b)) for b in blobs))
        t.join(60)
        self.assertFalse(t.is_alive(), "large replies did not arrive within 60 s")
        self.assertEqual(failure, [])
        self.assertEqual(len(replies), len(blobs))
        for k, (raw, blob) in enumerate(zip(replies, blobs)):
            self.assertEqual(raw, b"$%d\r\n%s\r\n" % (len(pack(blob)), pack(blob)), "reply %d" % k)
        self.assertEqual(conn.call_raw("PING"), b"+PONG\r\n")

    def test_pipelines_on_parallel_connections(self):
        results, errors = {}, []

        def worker(k):
            try:
                r = self.client()
                pipe = r.pipeline(transaction=False)
                for i in range(2000):
                    pipe.execute_command("add", pack(k), pack({"value": i}))
                results[k] = [unpack(x) for x in pipe.execute()]
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        for k in range(8):
            self.assertEqual(results[k], [k + i for i in range(2000)])


if __name__ == "__main__":
    main()
