#!/usr/bin/env python3
"""RSS per idle connection: greenrpc's echo_server against redis-server, same run, same client.

    bench/idle_connections.py [BUILD_DIR] [--connections N] [--idle-seconds S]

Starts each server on 127.0.0.1 (a free port), opens N plain TCP connections that each send one
PING and read its reply (so the server has served them once), then stay idle for S seconds (default 5: Redis
shrinks an idle client's query buffer in its cron after 2 s); reads the server's VmRSS from /proc
before and after and reports bytes per connection. Both servers are stopped at
the end. Bounded: every socket has a 5 s timeout and the whole run a few seconds per server.
"""
import os
import resource
import socket
import subprocess
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, deadline=5.0):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def measure(name, argv, port, n, idle):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        time.sleep(0.3)
        before = rss_kib(proc.pid)
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            socks.append(s)
        for s in socks:
            got = b""
            while not got.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    raise RuntimeError(f"{name}: connection closed")
                got += chunk
        time.sleep(idle)
        after = rss_kib(proc.pid)
        per_conn = (after - before) * 1024 / n
        print(f"| {name} | {n} | {before / 1024:.1f} | {after / 1024:.1f} | {per_conn:,.0f} |")
        for s in socks:
            s.close()
        return per_conn
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    build = "build"
    n = 10000
    idle = 5.0
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--connections":
            n = int(args.pop(0))
        elif a == "--idle-seconds":
            idle = float(args.pop(0))
        else:
            build = a
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    echo = os.path.join(build if os.path.isabs(build) else os.path.join(repo, build), "bench", "echo_server")
    print("| server | idle connections | RSS before (MiB) | RSS after (MiB) | bytes per connection |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rp = free_port()
    redis = measure("redis-server", ["redis-server", "--port", str(rp), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--maxclients", str(n + 100)], rp, n, idle)
    gp = free_port()
    green = measure("greenrpc echo_server", [echo, "--port", str(gp)], gp, n, idle)
    print(f"\ngreenrpc / redis per idle connection: {green / redis:.2f}x")


if __name__ == "__main__":
    main()
