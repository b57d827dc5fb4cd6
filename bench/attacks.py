#!/usr/bin/env python3
"""Issue 8's hostile-peer attacks, black box, against two greenrpc builds and redis-server.

    bench/attacks.py --before BUILD_DIR --after BUILD_DIR [--only NAME[,NAME...]] [--window S]
                     [--idle-connections N]

Attacks (NAME):
  bulk      20 connections, each sending `*2 ECHO $62914560` + 60 MiB of payload and never the
            final CRLF (quickstart_server; redis-server anchor). RSS after sending; whether and
            when each connection is closed, watched for --window seconds (default 40: the
            after build's frame_timeout of 30 s + 10 s).
  docs      `COMMAND DOCS add add ...` with 1,048,574 names (9.4 MB) on 6 connections that do not
            read (quickstart_server). Peak RSS over 5 s, then what each connection receives
            when it reads (up to 2 s or 64 MiB each). RSS "after" is 5 s after the last request
            was accepted, "end" after reading, the peak over both. Anchors: redis-server with the same bytes
            (it has no command `add`) and with the names `get` (a real command, same size).
  struct64  one legal 67 MB msgpack argument for add's NumberInput parameter: 4 x array32 of
            1,048,000 x [15 nils] (echo_server). Peak RSS, RSS 2 s after the reply, and the
            worst PING round trip on a second connection meanwhile (the worker's stall).
  nested    the same for 63 nested array32 headers (dd 00 0f ff ff) + 1 MiB of zeros.
  trickle   200 connections per server each sending one byte every 1.5 s of a request that
            never ends (quickstart_server, default options: max_connections is not settable
            from the samples). Both builds and redis-server at once, watched for --window s.
  manyargs  (not in the issue) 50 connections each sending one 6.3 MB request of 1,048,576 elements
            (PING + 1,048,575 empty bulks), reading the error, then staying idle: RSS per idle
            connection afterwards (quickstart_server; redis-server anchor).
  idle      RSS per idle connection at --idle-connections (10,000), through
            bench/idle_connections.py's measure(), for redis-server and both echo_servers.

Every server listens on 127.0.0.1 on a free port and is started and stopped by this script;
every socket has a timeout and every loop a bound. RSS is VmRSS from /proc in MB (10^6 bytes);
the peak is the larger of VmHWM (reset through /proc/PID/clear_refs before the attack) and
VmRSS sampled every 20 ms. Output: one Markdown table row per attack and server.
"""
import argparse
import contextlib
import importlib.util
import io
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
MB = 1e6


# ---------------------------------------------------------------- servers

def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """A server process on a free port; RSS sampling; stopped by stop() (or the context exit)."""

    def __init__(self, label, argv_for_port):
        self.label = label
        self.port = free_port()
        self.proc = subprocess.Popen(argv_for_port(self.port), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        end = time.time() + 10
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > end or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{label} did not start")
                time.sleep(0.05)
        time.sleep(0.3)
        self._peak_kb = 0
        self._sampling = None

    def rss_mb(self):
        return status_kb(self.proc.pid, "VmRSS") * 1024 / MB

    def alive(self):
        return self.proc.poll() is None

    def start_peak(self):
        """Resets VmHWM and samples VmRSS every 20 ms until peak_mb()."""
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        self._peak_kb = status_kb(self.proc.pid, "VmRSS")
        self._sampling = threading.Event()

        def sample():
            while not self._sampling.wait(0.02):
                self._peak_kb = max(self._peak_kb, status_kb(self.proc.pid, "VmRSS"))
        self._sampler = threading.Thread(target=sample, daemon=True)
        self._sampler.start()

    def peak_mb(self):
        if self._sampling is not None:
            self._sampling.set()
            self._sampler.join(timeout=5)
            self._sampling = None
        return max(self._peak_kb, status_kb(self.proc.pid, "VmHWM")) * 1024 / MB

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def greenrpc(build, label, binary):
    path = os.path.join(build, binary)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"missing {path} (ninja -C {build} {binary})")
    return lambda: Server(label, lambda port: [path, "--port", str(port)])


def redis(label="redis-server", maxclients=20000):
    return lambda: Server(label, lambda port: ["redis-server", "--port", str(port), "--bind", HOST,
                                               "--save", "", "--appendonly", "no", "--daemonize", "no",
                                               "--maxclients", str(maxclients)])


def connect(port, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def row(attack, server, before, peak, after, end=None, closed="", stall="", outcome=""):
    f = lambda v: "" if v is None else f"{v:,.0f}"
    return f"| {attack} | {server} | {f(before)} | {f(peak)} | {f(after)} | {f(end)} | {closed} | {stall} | {outcome} |"


def short(data, n=70):
    text = data[:n].decode("latin-1").replace("\r\n", "\\r\\n")
    return text + ("…" if len(data) > n else "")


class Closes:
    """Per-connection close times (seconds from t0) and the first bytes each one received."""

    def __init__(self, socks, t0):
        self.t0 = t0
        self.open = {s.fileno(): s for s in socks}
        self.total = len(socks)
        self.when = []
        self.got = {}        # fd -> first bytes received
        self.replies = {}    # what closed connections received -> count
        self.lock = threading.Lock()

    def closed(self, s):
        with self.lock:
            fd = s.fileno()
            if fd in self.open:
                del self.open[fd]
                self.when.append(time.time() - self.t0)
                data = self.got.pop(fd, b"")
                key = short(data, 60) if data else "(no reply bytes)"
                self.replies[key] = self.replies.get(key, 0) + 1

    def poll(self, timeout):
        """Reads what is readable; a connection that sends EOF or fails is closed."""
        with self.lock:
            socks = dict(self.open)
        if not socks:
            time.sleep(timeout)
            return
        poller = select.poll()
        for fd in socks:
            poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        for fd, _ in poller.poll(timeout * 1000):
            s = socks[fd]
            try:
                data = s.recv(65536)
            except (BlockingIOError, socket.timeout):
                continue
            except OSError:
                self.closed(s)
                continue
            if not data:
                self.closed(s)
            else:
                with self.lock:
                    old = self.got.get(fd, b"")
                    if len(old) < 200:
                        self.got[fd] = old + data[:200 - len(old)]

    def summary(self):
        if not self.when:
            return f"0/{self.total} closed"
        w = sorted(self.when)
        text = f"{len(w)}/{self.total} closed"
        early = [t for t in w if t < 5]
        late = [t for t in w if t >= 5]
        parts = []
        if early:
            parts.append(f"{len(early)} by {max(early):.1f} s")
        if late:
            parts.append(f"{len(late)} at {min(late):.1f}–{max(late):.1f} s")
        return text + " (" + ", ".join(parts) + ")"

    def reply_text(self):
        parts = [f"{n}× {k}" for k, n in self.replies.items()]
        still = set(short(d, 60) for fd, d in self.got.items() if fd in self.open)
        parts += ["still open, received: " + k for k in still]
        return "; ".join(parts)


# ---------------------------------------------------------------- attacks

def attack_bulk(make, args, conns=20, size=62914560):
    header = b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % size
    payload = memoryview(b"x" * size)
    chunk = 1 << 20
    with make() as srv:
        before = srv.rss_mb()
        srv.start_peak()
        t0 = time.time()
        socks = [connect(srv.port) for _ in range(conns)]
        closes = Closes(socks, t0)
        sent = [0] * conns

        def send(i, s):
            try:
                s.sendall(header)
                for off in range(0, size, chunk):
                    s.sendall(payload[off:off + chunk])
                    sent[i] += min(chunk, size - off)
            except OSError:
                closes.closed(s)
        threads = [threading.Thread(target=send, args=(i, s), daemon=True) for i, s in enumerate(socks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.1, t0 + 60 - time.time()))
        t_sent = time.time() - t0
        time.sleep(0.5)
        after = srv.rss_mb()
        while time.time() < t0 + args.window and closes.open:
            closes.poll(0.5)
        end = srv.rss_mb()
        peak = srv.peak_mb()
        for s in socks:
            s.close()
        full = sum(1 for n in sent if n == size)
        return row("bulk", srv.label, before, peak, after, end,
                   closes.summary() + f" in {args.window:.0f} s", "",
                   f"{full}/{conns} sent all {size / MB:.0f} MB (sending took {t_sent:.1f} s); {closes.reply_text()}")


def attack_docs(make, args, name=b"add", conns=6, names=1048574, label_suffix=""):
    req = (b"*%d\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n" % (names + 2)) + (b"$%d\r\n%s\r\n" % (len(name), name)) * names
    with make() as srv:
        before = srv.rss_mb()
        srv.start_peak()
        t0 = time.time()
        socks = [connect(srv.port, timeout=30) for _ in range(conns)]
        send_errors = []

        def send(s):
            try:
                s.sendall(req)
            except OSError as e:
                send_errors.append(type(e).__name__)
        threads = [threading.Thread(target=send, args=(s,), daemon=True) for s in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.1, t0 + 30 - time.time()))
        t_sent = time.time() - t0
        time.sleep(5)  # 5 s after the last request was accepted
        after = srv.rss_mb()
        # now read: up to 2 s or 64 MiB per connection
        received = []
        for s in socks:
            got, first, eof = 0, b"", False
            end_read = time.time() + 2
            s.settimeout(0.5)
            while time.time() < end_read and got < (64 << 20):
                try:
                    data = s.recv(1 << 20)
                except socket.timeout:
                    break
                except OSError:
                    eof = True
                    break
                if not data:
                    eof = True
                    break
                if len(first) < 80:
                    first += data[:80 - len(first)]
                got += len(data)
            received.append((got, first, eof))
        end = srv.rss_mb()
        peak = srv.peak_mb()
        for s in socks:
            s.close()
        firsts = sorted(set(short(f, 60) if f else "(nothing)" for _, f, _ in received))
        sizes = [g for g, _, _ in received]
        eofs = sum(1 for _, _, e in received if e)
        outcome = (f"sent {len(req) / MB:.1f} MB × {conns} in {t_sent:.1f} s"
                   + (f" ({len(send_errors)} send errors)" if send_errors else "")
                   + f"; read back {min(sizes):,}–{max(sizes):,} B per conn in ≤2 s, {eofs}/{conns} then closed; "
                   + "first bytes: " + " / ".join(firsts))
        return row("docs", srv.label + label_suffix, before, peak, after, end, "", "", outcome)


def attack_manyargs(make, args, conns=50, n=1048575):
    """Not in the issue: one request of 1,048,576 elements (PING + 1,048,575 empty bulks, 6.3 MB)
    per connection, its error reply read, the connection then left open and idle."""
    req = (b"*%d\r\n$4\r\nPING\r\n" % (n + 1)) + b"$0\r\n\r\n" * n
    with make() as srv:
        before = srv.rss_mb()
        srv.start_peak()
        socks, replies = [], set()
        for _ in range(conns):
            s = connect(srv.port, timeout=30)
            socks.append(s)
            try:
                s.sendall(req)
                replies.add(short(s.recv(200), 60))
            except OSError as e:
                replies.add(type(e).__name__)
        time.sleep(2)
        after = srv.rss_mb()
        closes = Closes(socks, time.time())
        closes.poll(0.2)
        for s in socks:
            s.close()
        time.sleep(2)
        end = srv.rss_mb()
        peak = srv.peak_mb()
        return row("manyargs", srv.label, before, peak, after, end, closes.summary() + " while idle 2 s", "",
                   f"{conns} conns × {len(req) / MB:.1f} MB request, reply read, then idle: "
                   f"{(after - before) / conns:,.1f} MB per idle connection; 'end' = 2 s after the client closed them; "
                   f"reply: {' / '.join(sorted(replies))}")


def struct_64mb():
    item = b"\x9f" + b"\xc0" * 15
    one = b"\xdd" + (1048000).to_bytes(4, "big") + item * 1048000
    return b"\x94" + one * 4


def nested_headers():
    return b"\xdd\x00\x0f\xff\xff" * 63 + b"\x00" * (1 << 20)


def attack_decode(make, args, name, arg):
    req = b"*3\r\n$3\r\nadd\r\n$1\r\n\x01\r\n$%d\r\n" % len(arg) + arg + b"\r\n"
    with make() as srv:
        probe = connect(srv.port, timeout=30)
        before = srv.rss_mb()
        stop = threading.Event()
        pings = []  # (start time, round trip s)

        def pinger():
            buf = b""
            while not stop.is_set():
                t = time.time()
                try:
                    probe.sendall(b"*1\r\n$4\r\nPING\r\n")
                    buf = b""
                    while not buf.endswith(b"+PONG\r\n"):
                        chunk = probe.recv(64)
                        if not chunk:
                            return
                        buf += chunk
                except OSError:
                    pings.append((t, float("inf")))
                    return
                pings.append((t, time.time() - t))
                time.sleep(0.002)
        p = threading.Thread(target=pinger, daemon=True)
        p.start()
        time.sleep(0.3)
        srv.start_peak()
        t0 = time.time()
        s = connect(srv.port, timeout=30)
        reply = b""
        try:
            s.sendall(req)
            t_sent = time.time()
            while not reply.endswith(b"\r\n") and len(reply) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except OSError as e:
            reply += f"({type(e).__name__})".encode()
            t_sent = time.time()
        t_reply = time.time()
        time.sleep(0.5)
        stop.set()
        p.join(timeout=35)
        peak = srv.peak_mb()
        after = srv.rss_mb()
        time.sleep(2)
        end = srv.rss_mb()
        s.close()
        probe.close()
        during = [rtt for t, rtt in pings if t0 - 0.1 <= t <= t_reply + 0.5]
        stall = max(during) * 1000 if during else float("nan")
        return row(name, srv.label, before, peak, after, end, "",
                   f"{stall:,.0f} ms",
                   f"{len(arg) / MB:.1f} MB arg; reply {(t_reply - t_sent) * 1000:,.0f} ms after the last byte: "
                   f"{short(reply, 70)}; {len(during)} PINGs meanwhile")


def attack_trickle(makers, args, conns=200, every=1.5):
    request = b"*2\r\n$4\r\nECHO\r\n$1000\r\n" + b"x" * 1000 + b"\r\n"
    servers = []
    try:
        for make in makers:
            servers.append(make())
        state = []
        for srv in servers:
            before = srv.rss_mb()
            srv.start_peak()
            socks = [connect(srv.port) for _ in range(conns)]
            state.append((srv, before, socks, Closes(socks, time.time())))
        t0 = time.time()
        for _, _, _, c in state:
            c.t0 = t0
        offset = 0
        liveness = {srv.label: [] for srv in servers}
        while time.time() < t0 + args.window and offset < len(request) - 1:
            tick = time.time()
            for srv, _, socks, closes in state:
                for s in socks:
                    if s.fileno() in closes.open:
                        try:
                            s.send(request[offset:offset + 1])
                        except OSError:
                            closes.closed(s)
            offset += 1
            # a fresh client is still served?
            if offset % 10 == 5:
                for srv, *_ in state:
                    try:
                        with connect(srv.port, timeout=2) as q:
                            q.sendall(b"*1\r\n$4\r\nPING\r\n")
                            liveness[srv.label].append(q.recv(16).startswith(b"+PONG"))
                    except OSError:
                        liveness[srv.label].append(False)
            while time.time() < tick + every:
                for _, _, _, closes in state:
                    closes.poll(0.05)
        rows = []
        for srv, before, socks, closes in state:
            end = srv.rss_mb()
            peak = srv.peak_mb()
            for s in socks:
                s.close()
            ok = liveness[srv.label]
            rows.append(row("trickle", srv.label, before, peak, None, end,
                            closes.summary() + f" in {args.window:.0f} s", "",
                            f"{offset} bytes sent per conn (1 per {every} s); fresh PING answered "
                            f"{sum(ok)}/{len(ok)}; {closes.reply_text()}"))
        return rows
    finally:
        for srv in servers:
            srv.stop()


def attack_idle(args, builds):
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("idle_connections", os.path.join(here, "idle_connections.py"))
    idle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(idle)
    n = args.idle_connections
    runs = [("redis-server", lambda p: ["redis-server", "--port", str(p), "--bind", HOST, "--save", "",
                                        "--appendonly", "no", "--maxclients", str(n + 100)])]
    for label, build in builds:
        path = os.path.join(build, "bench", "echo_server")
        runs.append((f"{label} echo_server", lambda p, path=path: [path, "--port", str(p)]))
    rows = []
    for label, argv in runs:
        port = free_port()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            per_conn = idle.measure(label, argv(port), port, n, 5.0)
        cells = [c.strip() for c in out.getvalue().strip().split("|")]
        before, after = float(cells[3]) * 1024 * 1024 / MB, float(cells[4]) * 1024 * 1024 / MB
        rows.append(row("idle", label, before, None, after, None, "", "",
                        f"{n:,} idle connections: **{per_conn:,.0f} bytes per connection**"))
    return rows


# ---------------------------------------------------------------- main

ALL = ["bulk", "docs", "struct64", "nested", "trickle", "idle", "manyargs"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="build dir of the code before (08eb7ca)")
    ap.add_argument("--after", required=True, help="build dir of the code after")
    ap.add_argument("--only", default=",".join(ALL), help="comma-separated subset of " + ",".join(ALL))
    ap.add_argument("--window", type=float, default=40.0,
                    help="seconds to watch bulk and trickle connections (default 40, at most 60)")
    ap.add_argument("--idle-connections", type=int, default=10000)
    args = ap.parse_args()
    args.window = min(args.window, 60.0)
    only = [x for x in args.only.split(",") if x]
    for x in only:
        if x not in ALL:
            ap.error(f"unknown attack {x}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    builds = [("before", os.path.abspath(args.before)), ("after", os.path.abspath(args.after))]

    def quick(label, build):
        return greenrpc(build, f"{label} quickstart_server", os.path.join("samples", "quickstart_server"))

    def echo(label, build):
        return greenrpc(build, f"{label} echo_server", os.path.join("bench", "echo_server"))

    print(f"# bench/attacks.py {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    print("| attack | server | RSS before (MB) | peak (MB) | after (MB) | end (MB) | connections closed | "
          "worst PING (stall) | outcome |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |", flush=True)
    for attack in only:
        if attack == "bulk":
            for label, build in builds:
                print(attack_bulk(quick(label, build), args), flush=True)
            print(attack_bulk(redis(), args), flush=True)
        elif attack == "docs":
            for label, build in builds:
                print(attack_docs(quick(label, build), args), flush=True)
            print(attack_docs(redis(), args, label_suffix=" (names `add`)"), flush=True)
            print(attack_docs(redis(), args, name=b"get", label_suffix=" (names `get`)"), flush=True)
        elif attack == "struct64":
            arg = struct_64mb()
            for label, build in builds:
                print(attack_decode(echo(label, build), args, "struct64", arg), flush=True)
        elif attack == "nested":
            arg = nested_headers()
            for label, build in builds:
                print(attack_decode(echo(label, build), args, "nested", arg), flush=True)
        elif attack == "trickle":
            for r in attack_trickle([quick(l, b) for l, b in builds] + [redis()], args):
                print(r, flush=True)
        elif attack == "manyargs":
            for label, build in builds:
                print(attack_manyargs(quick(label, build), args), flush=True)
            print(attack_manyargs(redis(), args), flush=True)
        elif attack == "idle":
            for r in attack_idle(args, builds):
                print(r, flush=True)
    print("\nbulk/trickle 'after' = right after sending, 'end' = at the end of the watch window; "
          "struct64/nested 'after' = 0.5 s after the reply, 'end' = 2 s later; "
          "docs 'after' = 5 s after the last request was accepted, 'end' = after reading.", flush=True)


if __name__ == "__main__":
    main()
