#!/usr/bin/env bash
# greenrpc vs redis-server, same redis-benchmark invocation against both, in the same run.
#
#   bench/run.sh [BUILD_DIR] [--write] [--reps N] [--secs S] [--sched fifo|nice|none]
#
#   BUILD_DIR  meson build dir holding bench/echo_server and bench/load_generator
#              (default: build; relative paths are tried from $PWD, then from the repo root)
#   --write    also write the results block into bench/RESULTS.md (between the run.sh markers)
#   --reps N   repetitions per workload and server (default 3; the median is reported)
#   --secs S   target seconds per redis-benchmark run (default 4; -n is sized from a probe)
#   --sched P  fifo (default): servers and clients run SCHED_FIFO (chrt -f 10); nice: nice -n -15;
#              none: as started. Same policy for both servers and every client. On a shared box,
#              other processes otherwise preempt the request/response loops and add ms of noise.
#
# Everything runs on 127.0.0.1 with bounded durations (every client command is under `timeout`).
# Both servers are pinned to CPU 0 and every benchmark client to CPU 1 (taskset), identically,
# because on a 2-core box redis-benchmark would otherwise compete with the server for a core.
#
# Workloads (redis-benchmark -q-equivalent, CSV output parsed):
#   W1  -c 1  -P 1   greenrpc: add <msgpack 1> <msgpack {"value":2}>   redis: INCRBY <key> 2
#   W2  -c 50 -P 1   greenrpc: echo <msgpack str8/16 payload>         redis: ECHO <raw payload>
#   W3  -c 50 -P 16  as W2
# payload = "😊 😊 😊" repeated 100 times (1,400 bytes of UTF-8; checked below).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORIG_ARGS="$*"
BUILD="build"
WRITE=0
REPS=3
SECS=4
SCHED=fifo
positional=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --write) WRITE=1 ;;
    --reps) REPS="$2"; shift ;;
    --secs) SECS="$2"; shift ;;
    --sched) SCHED="$2"; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) if [[ $positional -eq 0 ]]; then BUILD="$1"; positional=1; else echo "unexpected $1" >&2; exit 2; fi ;;
  esac
  shift
done
if [[ "$BUILD" != /* ]]; then
  if [[ -d "$PWD/$BUILD" ]]; then BUILD="$PWD/$BUILD"; else BUILD="$REPO/$BUILD"; fi
fi
SERVER_BIN="$BUILD/bench/echo_server"
LOADGEN_BIN="$BUILD/bench/load_generator"
for b in "$SERVER_BIN" "$LOADGEN_BIN"; do
  [[ -x "$b" ]] || { echo "missing $b (build with: meson setup $BUILD && ninja -C $BUILD)" >&2; exit 1; }
done
for t in redis-server redis-benchmark redis-cli taskset timeout; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install redis-server redis-tools util-linux coreutils)" >&2; exit 1; }
done
case "$SCHED" in
  fifo) PRIO=(chrt -f 10) ;;
  nice) PRIO=(nice -n -15) ;;
  none) PRIO=() ;;
  *) echo "--sched: fifo, nice or none" >&2; exit 2 ;;
esac
if [[ ${#PRIO[@]} -gt 0 ]] && ! "${PRIO[@]}" true 2>/dev/null; then
  echo "NOTE: cannot use '${PRIO[*]}' (needs CAP_SYS_NICE); running with --sched none" >&2
  SCHED=none; PRIO=()
fi
NPROC=$(nproc)
if [[ $NPROC -ge 2 ]]; then SERVER_CPU=0; CLIENT_CPU=1; else SERVER_CPU=0; CLIENT_CPU=0; fi

WORK="$(mktemp -d /tmp/greenrpc-bench.XXXXXX)"
REDIS_PID=""
GREEN_PID=""
cleanup() {
  local pid
  for pid in "$REDIS_PID" "$GREEN_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # a port nobody listens on, from a base
  local p=$1
  while ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  echo "$p"
}
REDIS_PORT=$(free_port $((16379 + RANDOM % 1000)))
GREEN_PORT=$(free_port $((18000 + RANDOM % 1000)))
[[ "$GREEN_PORT" != "$REDIS_PORT" ]] || GREEN_PORT=$(free_port $((GREEN_PORT + 1)))

# ---- payloads -----------------------------------------------------------------------------------
# Tino's payload: "😊 😊 😊" repeated 100 times. Built byte-exactly with printf (U+1F60A = F0 9F 98 8A).
unit=$'\xF0\x9F\x98\x8A \xF0\x9F\x98\x8A \xF0\x9F\x98\x8A'
PAYLOAD=""
for _ in $(seq 100); do PAYLOAD+="$unit"; done
printf '%s' "$PAYLOAD" > "$WORK/payload.raw"
PAYLOAD_BYTES=$(stat -c %s "$WORK/payload.raw")
if [[ $PAYLOAD_BYTES -ne 1400 ]]; then
  echo "NOTE: payload is $PAYLOAD_BYTES bytes of UTF-8, not 1,400" >&2
fi
# msgpack str: str8 (0xd9 n) up to 255 bytes, str16 (0xda hi lo) up to 65535. 1400 = 0x0578.
if [[ $PAYLOAD_BYTES -le 255 ]]; then
  hdr=$(printf '\\xd9\\x%02x' "$PAYLOAD_BYTES")
else
  hdr=$(printf '\\xda\\x%02x\\x%02x' $((PAYLOAD_BYTES >> 8)) $((PAYLOAD_BYTES & 255)))
fi
{ printf "$hdr"; cat "$WORK/payload.raw"; } > "$WORK/payload.msgpack"
MP_PAYLOAD="$(cat "$WORK/payload.msgpack")"   # no trailing newline to lose: ends in an emoji byte
if ! printf '%s' "$MP_PAYLOAD" | cmp -s - "$WORK/payload.msgpack"; then
  echo "msgpack payload does not survive a shell variable" >&2; exit 1
fi
if tr -d '\000' < "$WORK/payload.msgpack" | cmp -s - "$WORK/payload.msgpack"; then :; else
  echo "msgpack payload contains a NUL byte: cannot be passed in argv" >&2; exit 1
fi
MP_ONE=$'\x01'                       # msgpack positive fixint 1
MP_VALUE2=$'\x81\xa5value\x02'       # msgpack fixmap {fixstr "value": fixint 2}

# ---- servers ------------------------------------------------------------------------------------
"${PRIO[@]}" taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --loglevel warning > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!
"${PRIO[@]}" taskset -c "$SERVER_CPU" "$SERVER_BIN" --port "$GREEN_PORT" --workers 1 > "$WORK/greenrpc.log" 2>&1 &
GREEN_PID=$!

wait_ready() {  # port pid name
  for _ in $(seq 100); do
    if ! kill -0 "$2" 2>/dev/null; then echo "$3 died at startup:" >&2; cat "$WORK"/*.log >&2; exit 1; fi
    if [[ "$(timeout 2 redis-cli -p "$1" PING 2>/dev/null)" == "PONG" ]]; then return 0; fi
    sleep 0.1
  done
  echo "$3 did not answer PING on port $1" >&2; exit 1
}
wait_ready "$REDIS_PORT" "$REDIS_PID" redis-server
wait_ready "$GREEN_PORT" "$GREEN_PID" echo_server

# ---- workloads: name, clients, pipeline, redis command, greenrpc command ------------------------
# W1 compares add with INCRBY: both a 3-element RESP array, a lookup (key / command), integer
# parsing from the wire (string2ll / msgpack), one addition and a tiny reply. PING would be
# cheaper for Redis (no argument, no keyspace), SET costs an allocation; INCRBY is the closest
# "do one small addition" command Redis has.
REDIS_W1=(INCRBY greenrpc:bench:counter 2)
GREEN_W1=(add "$MP_ONE" "$MP_VALUE2")
REDIS_W2=(ECHO "$PAYLOAD")
GREEN_W2=(echo "$MP_PAYLOAD")

# ---- verify every command's reply before benchmarking --------------------------------------------
hexof() { od -An -v -tx1 | tr -d ' \n'; }
check() {  # name expected-hex actual-hex
  if [[ "$2" != "$3" ]]; then echo "verification failed for $1: expected $2, got ${3:0:80}" >&2; exit 1; fi
  echo "verified: $1"
}
# redis-cli prints raw replies (stdout is not a tty) followed by a newline.
timeout 5 redis-cli -p "$REDIS_PORT" DEL greenrpc:bench:counter > /dev/null
check "redis INCRBY -> 2" "$(printf '2\n' | hexof)" "$(timeout 5 redis-cli -p "$REDIS_PORT" "${REDIS_W1[@]}" | hexof)"
check "greenrpc add(1, {value: 2}) -> msgpack 3" "$(printf '\x03\n' | hexof)" \
  "$(timeout 5 redis-cli -p "$GREEN_PORT" "${GREEN_W1[@]}" | hexof)"
check "redis ECHO <payload> -> payload" "$( { cat "$WORK/payload.raw"; echo; } | hexof)" \
  "$(timeout 5 redis-cli -p "$REDIS_PORT" "${REDIS_W2[@]}" | hexof)"
check "greenrpc echo <msgpack payload> -> msgpack payload" "$( { cat "$WORK/payload.msgpack"; echo; } | hexof)" \
  "$(timeout 5 redis-cli -p "$GREEN_PORT" "${GREEN_W2[@]}" | hexof)"

# ---- running redis-benchmark ----------------------------------------------------------------------
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime of the whole process
CLK_TCK=$(getconf CLK_TCK)
cpu_busy() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }  # all but idle/iowait
alive() {  # pid name
  kill -0 "$1" 2>/dev/null || { echo "$2 (pid $1) is gone: killed from outside? Results so far are void." >&2; exit 1; }
}
RB_TIMEOUT=$(( SECS * 15 + 30 ))
# run_rb port pid clients pipeline n cmd...
#   -> prints "rps p50_ms p99_ms server_cpu_pct secs other_cpu_pct client_cpu_pct server_us_per_op"
#   other_cpu_pct: time CPU $SERVER_CPU spent on anything but the server process (interference);
#   client_cpu_pct: redis-benchmark's own CPU (user+sys, from rusage): ~100 = client-bound;
#   server_us_per_op: server CPU time per request (user+sys of the whole server process).
run_rb() {
  local port=$1 pid=$2 c=$3 p=$4 n=$5; shift 5
  local t0 t1 c0 c1 b0 b1 k out line
  alive "$REDIS_PID" redis-server; alive "$GREEN_PID" echo_server
  c0=$(cpu_ticks "$pid"); b0=$(cpu_busy "$SERVER_CPU"); t0=$(date +%s.%N)
  # In a subshell so that `times` reports exactly this redis-benchmark's CPU (children rusage).
  if ! ( timeout "$RB_TIMEOUT" "${PRIO[@]}" taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" -c "$c" -P "$p" -n "$n" --csv "$@" > "$WORK/rb.out" 2> "$WORK/rb.err"
         rc=$?; times > "$WORK/rb.times"; exit $rc ); then
    echo "redis-benchmark failed or timed out (port $port):" >&2; cat "$WORK/rb.err" >&2; exit 1
  fi
  out=$(cat "$WORK/rb.out")
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); b1=$(cpu_busy "$SERVER_CPU")
  # `times`, 2nd line: children user and sys as XmY.YYYs
  k=$(sed -n 2p "$WORK/rb.times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s/, "", a[2]); t += a[1] * 60 + a[2] } print t }')
  alive "$REDIS_PID" redis-server; alive "$GREEN_PID" echo_server
  line=$(printf '%s\n' "$out" | tail -n 1)
  # The test name holds the (binary) command; the 7 numeric fields are the last ones.
  if [[ "$line" == '"test"'* ]]; then echo "redis-benchmark printed no result (error reply?):" >&2; cat "$WORK/rb.err" >&2; exit 1; fi
  printf '%s\n' "$line" | awk -F'","' -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v k="$k" -v n="$n" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" '{
    gsub(/"/, "", $NF); secs = t1 - t0; srv = (c1 - c0) / hz / secs; other = (b1 - b0) / hz / secs - srv;
    if (other < 0) other = 0;
    printf "%s %s %s %.0f %.2f %.0f %.0f %.2f\n", $(NF-6), $(NF-3), $(NF-1), 100 * srv, secs, 100 * other, 100 * k / secs, 1e6 * (c1 - c0) / hz / n }'
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A N_FOR
declare -A RES   # RES[workload,server] = list of "rps p50 p99 cpu secs" lines
WORKLOADS=(W1 W2 W3)
declare -A WC=([W1]=1 [W2]=50 [W3]=50)
declare -A WP=([W1]=1 [W2]=1 [W3]=16)
rcmd() { case $1 in W1) echo REDIS_W1 ;; *) echo REDIS_W2 ;; esac; }
gcmd() { case $1 in W1) echo GREEN_W1 ;; *) echo GREEN_W2 ;; esac; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for w in "${WORKLOADS[@]}"; do
  declare -n rc="$(rcmd "$w")" gc="$(gcmd "$w")"
  c=${WC[$w]}; p=${WP[$w]}
  # Size -n from a short probe of both servers so that the faster one still runs >= SECS seconds.
  probe_n=$(( c * p * 200 )); [[ $probe_n -lt 20000 ]] && probe_n=20000
  r1=$(run_rb "$REDIS_PORT" "$REDIS_PID" "$c" "$p" "$probe_n" "${rc[@]}" | cut -d' ' -f1)
  r2=$(run_rb "$GREEN_PORT" "$GREEN_PID" "$c" "$p" "$probe_n" "${gc[@]}" | cut -d' ' -f1)
  n=$(awk -v a="$r1" -v b="$r2" -v s="$SECS" -v m=$((c * p)) 'BEGIN { r = (a > b ? a : b) * s; n = int(r / m + 1) * m; print n }')
  N_FOR[$w]=$n
  echo "$w: -c $c -P $p -n $n (probe: redis $r1/s, greenrpc $r2/s)" >&2
  for rep in $(seq "$REPS"); do
    # Alternate which server goes first, so slow drifts in the machine's state hit both equally.
    if (( rep % 2 )); then order=(redis greenrpc); else order=(greenrpc redis); fi
    for s in "${order[@]}"; do
      if [[ $s == redis ]]; then res=$(run_rb "$REDIS_PORT" "$REDIS_PID" "$c" "$p" "$n" "${rc[@]}")
      else res=$(run_rb "$GREEN_PORT" "$GREEN_PID" "$c" "$p" "$n" "${gc[@]}"); fi
      RES[$w,$s]+="$res"$'\n'
      echo "  $w rep $rep $s: $res  (rps p50_ms p99_ms server_cpu% secs other_cpu% client_cpu% server_us/op)" >&2
    done
  done
  unset -n rc gc
done

# ---- the greenrpc load generator against the greenrpc server (informational) --------------------
declare -A LG
for w in "${WORKLOADS[@]}"; do
  c=${WC[$w]}; p=${WP[$w]}
  if [[ $w == W1 ]]; then args=(--command add); else args=(--command echo --tino-payload); fi
  alive "$GREEN_PID" echo_server
  out=$(timeout "$RB_TIMEOUT" "${PRIO[@]}" taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --host 127.0.0.1 --port "$GREEN_PORT" \
        --connections "$c" --pipeline "$p" --duration "$SECS" --warmup 0.5 "${args[@]}" 2>&1) || {
    LG[$w]="failed: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; echo "  load_generator $w failed" >&2; continue; }
  LG[$w]=$(printf '%s\n' "$out" | grep '^RESULT' | sed -E 's/.* rps=([0-9.]+) p50_us=([0-9.]+) p99_us=([0-9.]+).*/\1 \2 \3/')
  echo "  load_generator $w: ${LG[$w]} (rps p50_us p99_us)" >&2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------
col() { printf '%s' "${RES[$1,$2]}" | awk -v k="$3" 'NF {print $k}'; }
fmt_int() { printf "%'.0f" "$1" 2>/dev/null || printf '%s' "$1"; }
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
REDIS_VERSION=$(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/')
RB_VERSION=$(redis-benchmark --version 2>/dev/null | head -n 1 || true)
GIT_STATE=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$( (cd "$REPO" && git status --porcelain --untracked-files=no -- src include 2>/dev/null || true) | wc -l)
{
  echo "### Results ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Command: \`bench/run.sh $ORIG_ARGS\` (build dir $BUILD; reps=$REPS, ~${SECS}s per run; median of $REPS runs per server, servers alternated)"
  echo
  echo "| workload | redis cmd | redis ops/s | greenrpc ops/s | ratio greenrpc/redis | redis p50 / p99 ms | greenrpc p50 / p99 ms | server CPU redis / greenrpc | server CPU µs/op redis / greenrpc | redis-benchmark CPU (vs redis / vs greenrpc) |"
  echo "|---|---|---:|---:|---:|---|---|---|---|---|"
  for w in "${WORKLOADS[@]}"; do
    rr=$(col "$w" redis 1 | median); gr=$(col "$w" greenrpc 1 | median)
    ratio=$(awk -v a="$gr" -v b="$rr" 'BEGIN { printf "%.2fx", a / b }')
    rp50=$(col "$w" redis 2 | median); rp99=$(col "$w" redis 3 | median)
    gp50=$(col "$w" greenrpc 2 | median); gp99=$(col "$w" greenrpc 3 | median)
    rcpu=$(col "$w" redis 4 | median); gcpu=$(col "$w" greenrpc 4 | median)
    rk=$(col "$w" redis 7 | median); gk=$(col "$w" greenrpc 7 | median)
    ru=$(col "$w" redis 8 | median); gu=$(col "$w" greenrpc 8 | median)
    case $w in W1) desc="W1 add, -c 1 -P 1"; rname="INCRBY k 2" ;; W2) desc="W2 echo 1400 B, -c 50 -P 1"; rname="ECHO <payload>" ;; W3) desc="W3 echo 1400 B, -c 50 -P 16"; rname="ECHO <payload>" ;; esac
    echo "| $desc | $rname | $(fmt_int "$rr") | $(fmt_int "$gr") | **$ratio** | $rp50 / $rp99 | $gp50 / $gp99 | ${rcpu}% / ${gcpu}% | $ru / $gu | ${rk}% / ${gk}% |"
  done
  echo
  echo "All runs, in order (ops/s, then the share of CPU $SERVER_CPU taken by other processes during the run; -n per workload: W1 ${N_FOR[W1]}, W2 ${N_FOR[W2]}, W3 ${N_FOR[W3]}):"
  echo
  for w in "${WORKLOADS[@]}"; do
    echo "- $w redis: $(printf '%s' "${RES[$w,redis]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')| greenrpc: $(printf '%s' "${RES[$w,greenrpc]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')"
  done
  echo
  echo "greenrpc load_generator against the same greenrpc server (informational; one run each, ${SECS}s, client on CPU $CLIENT_CPU):"
  echo
  echo "| workload | ops/s | p50 us | p99 us |"
  echo "|---|---:|---:|---:|"
  for w in "${WORKLOADS[@]}"; do
    if [[ "${LG[$w]:-}" == failed* || -z "${LG[$w]:-}" ]]; then echo "| $w | ${LG[$w]:-no result} | | |"
    else read -r a b c <<< "${LG[$w]}"; echo "| $w | $(fmt_int "$a") | $b | $c |"; fi
  done
  echo
  echo "Machine: nproc=$NPROC, CPU: $CPU_MODEL, kernel $(uname -r), redis-server $REDIS_VERSION ($RB_VERSION)."
  echo "Pinning: both servers on CPU $SERVER_CPU (\`taskset -c $SERVER_CPU\`, whole process), every client on CPU $CLIENT_CPU; scheduling: $SCHED${PRIO:+ (\`${PRIO[*]}\`)} for servers and clients alike. Payload: $PAYLOAD_BYTES bytes of UTF-8 (msgpack: $(stat -c %s "$WORK/payload.msgpack") bytes)."
  echo "greenrpc: commit $GIT_STATE with $GIT_DIRTY modified file(s) under src/ include/ at run time; 1 worker thread. Load average before/after: $LOAD_BEFORE / $LOAD_AFTER."
} > "$WORK/report.md"

cat "$WORK/report.md"

if [[ $WRITE -eq 1 ]]; then
  RESULTS="$REPO/bench/RESULTS.md"
  begin='<!-- BEGIN run.sh results -->'; end='<!-- END run.sh results -->'
  if [[ -f "$RESULTS" ]] && grep -qF "$begin" "$RESULTS"; then
    awk -v b="$begin" -v e="$end" -v f="$WORK/report.md" '
      $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$RESULTS" > "$WORK/RESULTS.md"
    cp "$WORK/RESULTS.md" "$RESULTS"
  else
    { [[ -f "$RESULTS" ]] && cat "$RESULTS" && echo; echo "$begin"; cat "$WORK/report.md"; echo "$end"; } > "$WORK/RESULTS.md"
    cp "$WORK/RESULTS.md" "$RESULTS"
  fi
  echo "written to $RESULTS" >&2
fi
