#!/usr/bin/env bash
# Two builds of bench/echo_server side by side, the same redis-benchmark load on each, alternated:
# ops/s and server CPU (utime+stime from /proc) per request, PING (multibulk) from 50 clients with
# pipeline 1 and 16. For "did this change cost anything on the connection path" between commits,
# less noisy than two separate bench/run.sh runs. SCHED_FIFO when allowed; servers on CPU 0,
# clients on CPU 1.
#   bench/ab_builds.sh OLD_BUILD_DIR NEW_BUILD_DIR [REPS]
set -euo pipefail
old="$1/bench/echo_server"; new="$2/bench/echo_server"; reps="${3:-3}"
rt=(); if chrt -f 10 true 2>/dev/null; then rt=(chrt -f 10); fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
po=$(free_port); pn=$(free_port)
"${rt[@]}" taskset -c 0 "$old" --host 127.0.0.1 --port "$po" --workers 1 >/dev/null 2>&1 & ao=$!
"${rt[@]}" taskset -c 0 "$new" --host 127.0.0.1 --port "$pn" --workers 1 >/dev/null 2>&1 & an=$!
trap 'kill $ao $an 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for p in $po $pn; do for _ in $(seq 50); do redis-cli -p "$p" PING >/dev/null 2>&1 && break; sleep 0.1; done; done
tck=$(getconf CLK_TCK)
run() {  # port pid pipeline n -> "ops/s µs"
  local c0 c1 r
  c0=$(cpu_ticks "$2")
  r=$("${rt[@]}" taskset -c 1 timeout 120 redis-benchmark -h 127.0.0.1 -p "$1" -c 50 -P "$3" -n "$4" -q --csv -t ping_mbulk 2>/dev/null |
      grep -v '^"test"' | tail -1 | cut -d, -f2 | tr -d '"')
  c1=$(cpu_ticks "$2")
  awk -v r="$r" -v d=$((c1 - c0)) -v t="$tck" -v n="$4" 'BEGIN{printf "%.0f %.2f", r, d * 1e6 / t / n}'
}
echo "| pipeline | rep | old ops/s | old µs/req | new ops/s | new µs/req |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for rep in $(seq "$reps"); do
  for p in 1 16; do
    n=$(( p == 1 ? 300000 : 2000000 ))
    read -r o_ops o_us <<<"$(run "$po" "$ao" "$p" "$n")"
    read -r n_ops n_us <<<"$(run "$pn" "$an" "$p" "$n")"
    echo "| $p | $rep | $o_ops | $o_us | $n_ops | $n_us |"
  done
done
