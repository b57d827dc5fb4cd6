#!/usr/bin/env bash
# `meson install` into a temporary root, then build and run the quickstart against it through
# pkg-config only — what another project does with `pkg-config --cflags --libs greenrpc`.
set -euo pipefail
source_root="$1"
build_root="$2"
tmp="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

meson install -C "$build_root" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
pc="$(find "$tmp/root" -name greenrpc.pc | head -1)"
[ -n "$pc" ] || { echo "greenrpc.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
libdir="$(dirname "$(find "$tmp/root" -name 'libgreenrpc.so' | head -1)")"

for part in server client; do
  c++ -std=c++20 -O1 -o "$tmp/$part" "$source_root/samples/quickstart/$part.cpp" \
    $(pkg-config --cflags --libs greenrpc) -Wl,-rpath,"$libdir"
done

# A port the kernel just called free (not a random guess that may hit another test's listener).
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$tmp/server" --port "$port" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do  # up to 15 s for the server to listen on a loaded machine
  out="$(timeout 10 "$tmp/client" --port "$port" 2>/dev/null)" && break
  sleep 0.05
done
echo "$out"
grep -q '^add(1, NumberInput{2}) = 3$' <<<"$out"
echo "1 passed, 0 failed"
