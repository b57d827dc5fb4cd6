"""A REAL Prometheus (Debian's `prometheus` binary) scrapes test_server's /metrics under load.

The test starts its own Prometheus on 127.0.0.1:<free port> with a 1 s scrape interval and its
own temporary storage, drives typed calls through redis-py for a few seconds, then asks
Prometheus's HTTP API: the target is up, the request counter equals the calls made, and
rate(...) and histogram_quantile(...) over the latency histogram return the expected series.
Skipped when prometheus is not installed (scripts/install-deps.sh installs it).
"""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import HOST, ServerTestCase, main, pack, unpack

PROMETHEUS = shutil.which("prometheus")
LOAD_SECONDS = 5.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class PrometheusScrapeTest(ServerTestCase):
    server_args = ("--metrics-port", "0")

    def setUp(self):
        if PROMETHEUS is None:
            self.skipTest("prometheus is not installed (Debian package `prometheus`; scripts/install-deps.sh)")
        super().setUp()
        self.assertIsNotNone(self.server.metrics_port, "test_server printed no METRICS_PORT")
        self.tmp = tempfile.TemporaryDirectory(prefix="greenrpc-prometheus-")
        config = os.path.join(self.tmp.name, "prometheus.yml")
        with open(config, "w") as f:
            f.write(
                "global:\n"
                "  scrape_interval: 1s\n"
                "  scrape_timeout: 1s\n"
                "  evaluation_interval: 1s\n"
                "scrape_configs:\n"
                "  - job_name: greenrpc\n"
                "    static_configs:\n"
                "      - targets: ['%s:%d']\n" % (HOST, self.server.metrics_port))
        self.prom_port = free_port()
        self.prom_log = open(os.path.join(self.tmp.name, "prometheus.log"), "w+b")
        self.prom = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.tmp.name, "data"),
             "--web.listen-address=%s:%d" % (HOST, self.prom_port),
             "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.prom_log, stderr=self.prom_log)
        self._await_ready(30.0)

    def tearDown(self):
        prom = getattr(self, "prom", None)
        if prom is not None and prom.poll() is None:
            prom.send_signal(signal.SIGTERM)
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait(5)
        if getattr(self, "prom_log", None):
            self.prom_log.close()
        if getattr(self, "tmp", None):
            self.tmp.cleanup()
        super().tearDown()

    def prom_text(self, limit=3000):
        self.prom_log.flush()
        self.prom_log.seek(0)
        return self.prom_log.read().decode(errors="replace")[-limit:]

    def _get(self, path, timeout=5.0):
        url = "http://%s:%d%s" % (HOST, self.prom_port, path)
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()

    def _await_ready(self, limit):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.prom.poll() is not None:
                self.fail("prometheus exited (status %s):\n%s" % (self.prom.returncode, self.prom_text()))
            try:
                if self._get("/-/ready", 2.0)[0] == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.fail("prometheus not ready within %.0fs:\n%s" % (limit, self.prom_text()))

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = "%.3f" % at
        status, body = self._get("/api/v1/query?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200)
        reply = json.loads(body)
        self.assertEqual(reply["status"], "success", reply)
        self.assertEqual(reply["data"]["resultType"], "vector", reply)
        return reply["data"]["result"]

    def await_query(self, expr, accept, limit=20.0):
        """Polls `expr` until accept(result) holds (bounded); returns the last result."""
        deadline = time.monotonic() + limit
        result = None
        while time.monotonic() < deadline:
            result = self.query(expr)
            if accept(result):
                return result
            time.sleep(0.25)
        return result

    def test_prometheus_scrapes_counts_rates_and_quantiles(self):
        up = self.await_query('up{job="greenrpc"}', lambda r: len(r) == 1 and r[0]["value"][1] == "1")
        self.assertEqual(len(up), 1, up)
        self.assertEqual(up[0]["value"][1], "1", "target not up:\n%s" % self.prom_text())

        r = self.client()
        calls = 0
        started = time.time()
        while time.time() - started < LOAD_SECONDS:
            for _ in range(50):
                self.assertEqual(unpack(r.execute_command("add", pack(calls), pack({"value": 1}))), calls + 1)
                calls += 1
            time.sleep(0.005)  # a steady rate, not a CPU hog
        load_end = time.time()
        self.assertGreater(calls, 100)

        # The counter equals the calls made once a scrape after the load has landed.
        expr = 'sum(greenrpc_server_requests_total{command="add"})'
        total = self.await_query(expr, lambda res: len(res) == 1 and float(res[0]["value"][1]) == calls)
        self.assertEqual(len(total), 1, total)
        self.assertEqual(float(total[0]["value"][1]), calls, "Prometheus saw %s, %d calls were made" % (total, calls))
        ok = self.query('sum(greenrpc_server_requests_total{command="add",outcome="ok"})')
        self.assertEqual(float(ok[0]["value"][1]), calls)

        # Rates and quantiles over a window inside the load (evaluated at a time during it).
        during = load_end - 0.5
        rates = self.query("rate(greenrpc_server_requests_total[5s])", at=during)
        self.assertTrue(rates, "rate() returned nothing")
        add_rates = [s for s in rates if s["metric"].get("command") == "add"]
        self.assertEqual(len(add_rates), 1, rates)
        self.assertGreater(float(add_rates[0]["value"][1]), 0)
        self.assertEqual(add_rates[0]["metric"].get("job"), "greenrpc", "job is a target label Prometheus adds")
        self.assertEqual(add_rates[0]["metric"].get("instance"), "%s:%d" % (HOST, self.server.metrics_port))

        q = self.query("histogram_quantile(0.99, sum by (le, command) "
                       "(rate(greenrpc_server_request_duration_seconds_bucket[5s])))", at=during)
        p99 = [s for s in q if s["metric"].get("command") == "add"]
        self.assertEqual(len(p99), 1, q)
        value = float(p99[0]["value"][1])
        self.assertTrue(math.isfinite(value), "p99 of add is %r" % value)
        self.assertGreater(value, 0)
        self.assertLessEqual(value, 10.0, "within the histogram's buckets")


if __name__ == "__main__":
    main()
