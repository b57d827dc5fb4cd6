#!/usr/bin/env python3
"""RSS per idle connection: greenrpc's echo_server against redis-server, same run, same client.

    bench/idle_connections.py [BUILD_DIR] [--connections N] [--idle-seconds S] [--tls] [--key-type ec|rsa]

Starts each server on 127.0.0.1 (a free port), opens N plain TCP connections that each send one
PING and read its reply (so the server has served them once), then stay idle for S seconds (default 5: Redis
shrinks an idle client's query buffer in its cron after 2 s); reads the server's VmRSS from /proc
before and after and reports bytes per connection. Both servers are stopped at
the end. Bounded: every socket has a 5 s timeout and the whole run a few seconds per server.

--tls: the same over TLS, and the plaintext rows again in the same run for the difference. The
script makes a CA and a server certificate (SAN IP:127.0.0.1, DNS:localhost; --key-type ec: P-256,
the default, or rsa: 2048 bits) with the openssl CLI in a temporary directory and starts
`redis-server --port 0 --tls-port P --tls-cert-file … --tls-key-file … --tls-ca-cert-file …
--tls-auth-clients no` and `echo_server --tls-cert … --tls-key …`. Each client connection completes
its handshake (python ssl, verifying against the test CA and 127.0.0.1), sends one PING and reads
+PONG (so the session is fully established and served once, and TLS 1.3 session tickets, if the
server sends any, are read), then stays idle. The client is this process: N sockets here and N in
the server, so each process needs N + a few descriptors (the soft RLIMIT_NOFILE is raised to the
hard limit; the servers inherit it).
"""
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
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


def make_certs(directory, key_type):
    """A CA and a server certificate for 127.0.0.1 / localhost, with the openssl CLI."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if key_type == "ec" else ["-newkey", "rsa:2048"]

    def run(*argv):
        subprocess.run(["openssl", *argv], cwd=directory, check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    run("req", "-x509", "-new", "-nodes", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-sha256",
        "-subj", "/CN=greenrpc bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-new", "-nodes", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-sha256", "-extfile", "server.ext")
    return {k: os.path.join(directory, k) for k in ("ca.crt", "server.crt", "server.key")}


def measure(name, argv, port, n, idle, tls=None):
    """tls: an ssl.SSLContext for the client side, or None for plain TCP."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        time.sleep(0.3)
        before = rss_kib(proc.pid)
        socks = []
        t0 = time.time()
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if tls is not None:
                # Without TCP_NODELAY the PING written right after the client's Finished waits for the
                # server's ACK of it: up to 40 ms of delayed ACK from a server that sends nothing after
                # its handshake (greenrpc sends no session tickets). Opening 10,000 connections one at
                # a time would take minutes. Memory is the same either way.
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s = tls.wrap_socket(s, server_hostname="127.0.0.1")  # the handshake, bounded by the 5 s timeout
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            socks.append(s)
        for s in socks:
            got = b""
            while not got.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    raise RuntimeError(f"{name}: connection closed")
                got += chunk
        opened = time.time() - t0
        time.sleep(idle)
        after = rss_kib(proc.pid)
        per_conn = (after - before) * 1024 / n
        print(f"| {name} | {n} | {before / 1024:.1f} | {after / 1024:.1f} | {per_conn:,.0f} | {opened:.1f} |", flush=True)
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
    tls = False
    key_type = "ec"
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--connections":
            n = int(args.pop(0))
        elif a == "--idle-seconds":
            idle = float(args.pop(0))
        elif a == "--tls":
            tls = True
        elif a == "--key-type":
            key_type = args.pop(0)
            if key_type not in ("ec", "rsa"):
                sys.exit("--key-type: ec or rsa")
        elif a.startswith("-"):
            sys.exit(__doc__)
        else:
            build = a
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 64:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {n} connections + 64: lower --connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    echo = os.path.join(build if os.path.isabs(build) else os.path.join(repo, build), "bench", "echo_server")
    print(f"RLIMIT_NOFILE: soft {soft} -> {hard} (hard), per process (client and server are separate processes)")
    print(f"load average before: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print()
    print("| server | idle connections | RSS before (MiB) | RSS after (MiB) | bytes per connection | seconds to open |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    redis_plain = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", str(n + 100)]
    rp = free_port()
    redis = measure("redis-server", redis_plain[:1] + ["--port", str(rp)] + redis_plain[1:], rp, n, idle)
    gp = free_port()
    green = measure("greenrpc echo_server", [echo, "--port", str(gp)], gp, n, idle)
    if tls:
        certs_dir = tempfile.mkdtemp(prefix="greenrpc-idle-tls.")
        try:
            c = make_certs(certs_dir, key_type)
            ctx = ssl.create_default_context(cafile=c["ca.crt"])  # verifies the chain and 127.0.0.1
            rp = free_port()
            redis_tls = measure("redis-server TLS", redis_plain[:1] + [
                "--port", "0", "--tls-port", str(rp), "--tls-cert-file", c["server.crt"], "--tls-key-file", c["server.key"],
                "--tls-ca-cert-file", c["ca.crt"], "--tls-auth-clients", "no"] + redis_plain[1:], rp, n, idle, ctx)
            gp = free_port()
            green_tls = measure("greenrpc echo_server TLS", [echo, "--port", str(gp), "--tls-cert", c["server.crt"],
                                                             "--tls-key", c["server.key"]], gp, n, idle, ctx)
        finally:
            shutil.rmtree(certs_dir, ignore_errors=True)
    print(f"\ngreenrpc / redis per idle connection: {green / redis:.2f}x")
    if tls:
        print(f"TLS: greenrpc / redis per idle connection: {green_tls / redis_tls:.2f}x; "
              f"what TLS adds per idle connection: greenrpc {green_tls - green:,.0f} bytes, redis {redis_tls - redis:,.0f} bytes "
              f"({key_type} keys, {ssl.OPENSSL_VERSION} client)")
    print(f"load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main()
