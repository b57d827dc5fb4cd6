#!/usr/bin/env bash
# Server CPU per request for the three ways an idle connection can wait, in one run:
# echo_server with the default idle_fiber_linger (20 ms), with --idle-fiber-linger-ms 0 (a fiber
# start per request for ping-pong clients) and with --keep-idle-fibers (a parked fiber per
# connection). Same redis-benchmark load on each (PING, multibulk), alternated, SCHED_FIFO, server
# on CPU 0 and client on CPU 1 (as bench/run.sh). Prints µs of server CPU (utime+stime from
# /proc) per request: less sensitive to a shared box's scheduling noise than ops/s.
#   bench/idle_fiber_cpu.sh [BUILD_DIR] [REPS]     (default build, 3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"; [ -d "$build" ] || build="$root/$build"
reps="${2:-3}"
server="$build/bench/echo_server"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing (scripts/install-deps.sh)"; exit 1; }
rt=(); if chrt -f 10 true 2>/dev/null; then rt=(chrt -f 10); fi  # exec chains: $! stays the server's pid
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
modes=(linger20 linger0 keep)
declare -A args=([linger20]="" [linger0]="--idle-fiber-linger-ms 0" [keep]="--keep-idle-fibers")
declare -A port pid
for m in "${modes[@]}"; do
  port[$m]=$(free_port)
  # shellcheck disable=SC2086
  "${rt[@]}" taskset -c 0 "$server" --host 127.0.0.1 --port "${port[$m]}" --workers 1 ${args[$m]} >/dev/null 2>&1 &
  pid[$m]=$!
done
trap 'kill "${pid[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for m in "${modes[@]}"; do
  for _ in $(seq 50); do redis-cli -p "${port[$m]}" PING >/dev/null 2>&1 && break; sleep 0.1; done
done
tck=$(getconf CLK_TCK)
echo "| clients | mode | µs of server CPU per request, per rep |"
echo "| ---: | --- | --- |"
for c in 1 50; do
  n=$(( c == 1 ? 40000 : 300000 ))
  declare -A out=()
  for _ in $(seq "$reps"); do
    for m in "${modes[@]}"; do
      a=$(cpu_ticks "${pid[$m]}")
      "${rt[@]}" taskset -c 1 timeout 120 redis-benchmark -h 127.0.0.1 -p "${port[$m]}" -c "$c" -n "$n" -q -t ping_mbulk >/dev/null 2>&1
      b=$(cpu_ticks "${pid[$m]}")
      out[$m]+="$(awk -v d=$((b - a)) -v t="$tck" -v n="$n" 'BEGIN{printf "%.2f ", d * 1e6 / t / n}')"
    done
  done
  for m in "${modes[@]}"; do echo "| $c | $m | ${out[$m]}|"; done
done
