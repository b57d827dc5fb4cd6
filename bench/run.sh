#!/usr/bin/env bash
# greenrpc vs redis-server, same redis-benchmark invocation against both, in the same run.
#
#   bench/run.sh [BUILD_DIR] [--write] [--reps N] [--secs S] [--sched fifo|nice|none]
#                [--signed-secs S] [--only redis|signed|tls|metrics] [--tls-key-type ec|rsa]
#
#   BUILD_DIR  meson build dir holding bench/echo_server and bench/load_generator
#              (default: build; relative paths are tried from $PWD, then from the repo root)
#   --write    also write the results into bench/RESULTS.md: the redis comparison between the
#              "run.sh results" markers, the signed comparison between the "run.sh signed results"
#              markers, the TLS comparison between the "run.sh tls results" markers, the metrics
#              comparison between the "run.sh metrics results" markers (each block is replaced only
#              when its section ran)
#   --reps N   repetitions per workload and server (default 3; the median is reported)
#   --secs S   target seconds per redis-benchmark run (default 4; -n is sized from a probe)
#   --sched P  fifo (default): servers and clients run SCHED_FIFO (chrt -f 10); nice: nice -n -15;
#              none: as started. Same policy for both servers and every client. On a shared box,
#              other processes otherwise preempt the request/response loops and add ms of noise.
#   --signed-secs S  measured seconds per load_generator run in the signed section (default 4;
#              12 runs of S + 0.5 s warm-up: about 1 minute)
#   --only X   run only the redis comparison (W1-W3), only the signed comparison (W2s, W3s), only
#              the TLS comparison (W2t, W3t, Ct, below) or only the metrics comparison (W2m, W3m)
#   --tls-key-type K  the TLS section's CA and server keys: ec (P-256, ECDSA; the default) or rsa
#              (2048 bits)
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
#
# Signed section (after the redis comparison): redis-benchmark cannot sign (the envelope needs the
# connection's nonce, a sequence number and an HMAC), so it compares greenrpc with itself:
# load_generator -> echo_server unsigned vs load_generator --secret -> echo_server --secret, same
# flags, same pinning and scheduling, alternated (U,S / S,U / U,S), median of --reps.
# load_generator runs with --shared-loop (its callers are fibers on the clients' own loop: one
# thread, no hop), the mode where the client itself costs least, so signing's share shows fully.
# bench/sign_cost measures the floor on each CPU first: both HMAC tags of one request, alone.
#   W2s  echo <payload>, 50 connections, pipeline 1     W3s  the same with pipeline 16
# Two echo_server processes (one without, one with --secret) run side by side on the server CPU;
# the idle one costs nothing. Server CPU per request uses the server's own request count (INFO
# total_commands_processed) and load_generator's CPU comes from its rusage, as for redis-benchmark.
#
# TLS section (last): the script makes a CA and a server certificate (SAN IP:127.0.0.1,
# DNS:localhost) with the openssl CLI in its temporary directory and starts two more servers on
# CPU 0, like the others: redis-server --port 0 --tls-port P (TLS only, --tls-auth-clients no) and
# echo_server --tls-cert/--tls-key (TLS on its port). Same redis-benchmark flags against both, plus
# --tls --cacert ca.crt; the plaintext redis-server and echo_server run the same flags without
# --tls in the same loop, so TLS/plaintext ratios come from one run. Order per rep:
# redis-TLS, greenrpc-TLS, greenrpc, redis, then reversed; -n sized per pair (TLS, plaintext).
#   W2t  W2 over TLS (ECHO / echo <payload>, -c 50 -P 1)     W3t  the same with -P 16
#   Ct   new connections per second: PING with -k 0 (a new connection, and over TLS a full
#        handshake, for every request), -c 50 -P 1; server CPU per request = per connection
# load_generator --tls-ca runs W2t/W3t once each against echo_server TLS and plaintext
# (informational: greenrpc's own client over TLS).
#
# Metrics section (after TLS): greenrpc with metrics on against metrics off, same redis-benchmark
# flags as W2 and W3, in the same run: the plaintext echo_server of the first section (metrics off)
# and one more, `echo_server --metrics-port M` (metrics on, /metrics on 127.0.0.1:M), both on CPU 0.
# While the "on" server is measured, curl (on the client CPU) scrapes its /metrics once a second,
# so the cost of rendering scrapes is in the numbers. Alternated (off,on / on,off / ...), median of
# --reps. Goal: on/off >= 0.97.
#   W2m  echo <payload>, -c 50 -P 1     W3m  the same with -P 16
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORIG_ARGS="$*"
BUILD="build"
WRITE=0
REPS=3
SECS=4
SCHED=fifo
SIGNED_SECS=4
ONLY=all
TLS_KEY_TYPE=ec
positional=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --write) WRITE=1 ;;
    --reps) REPS="$2"; shift ;;
    --secs) SECS="$2"; shift ;;
    --sched) SCHED="$2"; shift ;;
    --signed-secs) SIGNED_SECS="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    --tls-key-type) TLS_KEY_TYPE="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) if [[ $positional -eq 0 ]]; then BUILD="$1"; positional=1; else echo "unexpected $1" >&2; exit 2; fi ;;
  esac
  shift
done
case "$ONLY" in all|redis|signed|tls|metrics) ;; *) echo "--only: redis, signed, tls or metrics" >&2; exit 2 ;; esac
case "$TLS_KEY_TYPE" in ec|rsa) ;; *) echo "--tls-key-type: ec or rsa" >&2; exit 2 ;; esac
RUN_REDIS=1; RUN_SIGNED=1; RUN_TLS=1; RUN_METRICS=1
if [[ $ONLY != all ]]; then
  RUN_REDIS=0; RUN_SIGNED=0; RUN_TLS=0; RUN_METRICS=0
  case "$ONLY" in redis) RUN_REDIS=1 ;; signed) RUN_SIGNED=1 ;; tls) RUN_TLS=1 ;; metrics) RUN_METRICS=1 ;; esac
fi
if [[ "$BUILD" != /* ]]; then
  if [[ -d "$PWD/$BUILD" ]]; then BUILD="$PWD/$BUILD"; else BUILD="$REPO/$BUILD"; fi
fi
SERVER_BIN="$BUILD/bench/echo_server"
LOADGEN_BIN="$BUILD/bench/load_generator"
SIGN_COST_BIN="$BUILD/bench/sign_cost"
declare -A SIGN_COST_LINE
for b in "$SERVER_BIN" "$LOADGEN_BIN" "$SIGN_COST_BIN"; do
  [[ -x "$b" ]] || { echo "missing $b (build with: meson setup $BUILD && ninja -C $BUILD)" >&2; exit 1; }
done
for t in redis-server redis-benchmark redis-cli taskset timeout $( [[ $RUN_TLS -eq 1 ]] && echo openssl ) $( [[ $RUN_METRICS -eq 1 ]] && echo curl ); do
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
SIGNED_PID=""
REDIS_TLS_PID=""
GREEN_TLS_PID=""
METRICS_PID=""
SCRAPER_PID=""
cleanup() {
  local pid
  for pid in "$SCRAPER_PID" "$REDIS_PID" "$GREEN_PID" "$SIGNED_PID" "$REDIS_TLS_PID" "$GREEN_TLS_PID" "$METRICS_PID"; do
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
SIGNED_PORT=$(free_port $((GREEN_PORT + 1)))
[[ "$SIGNED_PORT" != "$REDIS_PORT" ]] || SIGNED_PORT=$(free_port $((SIGNED_PORT + 1)))
REDIS_TLS_PORT=$(free_port $((REDIS_PORT + 1)))
while [[ " $GREEN_PORT $SIGNED_PORT " == *" $REDIS_TLS_PORT "* ]]; do REDIS_TLS_PORT=$(free_port $((REDIS_TLS_PORT + 1))); done
GREEN_TLS_PORT=$(free_port $((SIGNED_PORT + 1)))
while [[ " $REDIS_PORT $REDIS_TLS_PORT $GREEN_PORT " == *" $GREEN_TLS_PORT "* ]]; do GREEN_TLS_PORT=$(free_port $((GREEN_TLS_PORT + 1))); done
# The metrics section's server (metrics on) and its HTTP endpoint.
METRICS_PORT=$(free_port $((GREEN_TLS_PORT + 1)))
while [[ " $REDIS_PORT $REDIS_TLS_PORT $GREEN_PORT $SIGNED_PORT " == *" $METRICS_PORT "* ]]; do METRICS_PORT=$(free_port $((METRICS_PORT + 1))); done
METRICS_HTTP_PORT=$(free_port $((METRICS_PORT + 1)))
while [[ " $REDIS_PORT $REDIS_TLS_PORT $GREEN_PORT $SIGNED_PORT $GREEN_TLS_PORT " == *" $METRICS_HTTP_PORT "* ]]; do METRICS_HTTP_PORT=$(free_port $((METRICS_HTTP_PORT + 1))); done
# The shared secret of the signed section: 32 random bytes as hex (the length does not change the
# per-request cost: HmacKey hashes the padded key once, at start-up).
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

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

# ---- TLS certificates (the TLS section): a CA and a server certificate for 127.0.0.1/localhost ----
TLS_DIR="$WORK/tls"
if [[ $RUN_TLS -eq 1 ]]; then
  mkdir -p "$TLS_DIR"
  if [[ $TLS_KEY_TYPE == ec ]]; then KEYOPT=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1); KEY_DESC="ECDSA P-256"
  else KEYOPT=(-newkey rsa:2048); KEY_DESC="RSA 2048"; fi
  (
    cd "$TLS_DIR"
    timeout 60 openssl req -x509 -new -nodes "${KEYOPT[@]}" -keyout ca.key -out ca.crt -days 2 -sha256 \
      -subj "/CN=greenrpc bench CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    timeout 60 openssl req -new -nodes "${KEYOPT[@]}" -keyout server.key -out server.csr -subj "/CN=localhost"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > server.ext
    timeout 60 openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -sha256 \
      -extfile server.ext
    timeout 10 openssl verify -CAfile ca.crt server.crt
  ) > "$WORK/certs.log" 2>&1 || { echo "making the TLS certificates failed:" >&2; cat "$WORK/certs.log" >&2; exit 1; }
fi

# ---- servers ------------------------------------------------------------------------------------
"${PRIO[@]}" taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --loglevel warning > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!
"${PRIO[@]}" taskset -c "$SERVER_CPU" "$SERVER_BIN" --port "$GREEN_PORT" --workers 1 > "$WORK/greenrpc.log" 2>&1 &
GREEN_PID=$!
"${PRIO[@]}" taskset -c "$SERVER_CPU" "$SERVER_BIN" --port "$SIGNED_PORT" --workers 1 --secret "$SECRET" \
  > "$WORK/greenrpc-signed.log" 2>&1 &
SIGNED_PID=$!
CLI_TLS=(--tls --cacert "$TLS_DIR/ca.crt")   # redis-cli and redis-benchmark, against the TLS servers
if [[ $RUN_TLS -eq 1 ]]; then
  "${PRIO[@]}" taskset -c "$SERVER_CPU" redis-server --port 0 --tls-port "$REDIS_TLS_PORT" --bind 127.0.0.1 \
    --tls-cert-file "$TLS_DIR/server.crt" --tls-key-file "$TLS_DIR/server.key" --tls-ca-cert-file "$TLS_DIR/ca.crt" \
    --tls-auth-clients no --save '' --appendonly no --daemonize no --loglevel warning > "$WORK/redis-tls.log" 2>&1 &
  REDIS_TLS_PID=$!
  "${PRIO[@]}" taskset -c "$SERVER_CPU" "$SERVER_BIN" --port "$GREEN_TLS_PORT" --workers 1 \
    --tls-cert "$TLS_DIR/server.crt" --tls-key "$TLS_DIR/server.key" > "$WORK/greenrpc-tls.log" 2>&1 &
  GREEN_TLS_PID=$!
fi
if [[ $RUN_METRICS -eq 1 ]]; then
  "${PRIO[@]}" taskset -c "$SERVER_CPU" "$SERVER_BIN" --port "$METRICS_PORT" --workers 1 --metrics-port "$METRICS_HTTP_PORT" \
    > "$WORK/greenrpc-metrics.log" 2>&1 &
  METRICS_PID=$!
fi

wait_ready() {  # port pid name [redis-cli options]
  local port=$1 pid=$2 name=$3; shift 3
  for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then echo "$name died at startup:" >&2; cat "$WORK"/*.log >&2; exit 1; fi
    if [[ "$(timeout 2 redis-cli -p "$port" "$@" PING 2>/dev/null)" == "PONG" ]]; then return 0; fi
    sleep 0.1
  done
  echo "$name did not answer PING on port $port" >&2; exit 1
}
wait_ready "$REDIS_PORT" "$REDIS_PID" redis-server
wait_ready "$GREEN_PORT" "$GREEN_PID" echo_server
wait_ready "$SIGNED_PORT" "$SIGNED_PID" "echo_server --secret"
if [[ $RUN_TLS -eq 1 ]]; then
  wait_ready "$REDIS_TLS_PORT" "$REDIS_TLS_PID" "redis-server --tls-port" "${CLI_TLS[@]}"
  wait_ready "$GREEN_TLS_PORT" "$GREEN_TLS_PID" "echo_server --tls-cert" "${CLI_TLS[@]}"
fi
[[ $RUN_METRICS -eq 1 ]] && wait_ready "$METRICS_PORT" "$METRICS_PID" "echo_server --metrics-port"

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
# The signed server must refuse an unsigned request, so a signed run cannot silently measure
# unsigned traffic. (load_generator --secret itself checks one signed echo before it measures.)
unsigned_reply=$(timeout 5 redis-cli -p "$SIGNED_PORT" "${GREEN_W2[@]}" | head -c 40)
check "signed greenrpc refuses unsigned echo -> AUTH_ERROR" "AUTH_ERROR" "${unsigned_reply:0:10}"
declare -A TLS_SESSION   # TLS_SESSION[redis|greenrpc] = "protocol, ciphersuite, peer signature type" (openssl s_client)
if [[ $RUN_TLS -eq 1 ]]; then
  check "redis TLS ECHO <payload> -> payload" "$( { cat "$WORK/payload.raw"; echo; } | hexof)" \
    "$(timeout 5 redis-cli -p "$REDIS_TLS_PORT" "${CLI_TLS[@]}" "${REDIS_W2[@]}" | hexof)"
  check "greenrpc TLS echo <msgpack payload> -> msgpack payload" "$( { cat "$WORK/payload.msgpack"; echo; } | hexof)" \
    "$(timeout 5 redis-cli -p "$GREEN_TLS_PORT" "${CLI_TLS[@]}" "${GREEN_W2[@]}" | hexof)"
  # TLS is really on: a plaintext PING to either TLS port gets no PONG.
  for port in "$REDIS_TLS_PORT" "$GREEN_TLS_PORT"; do
    if [[ "$(timeout 3 redis-cli -p "$port" PING 2>/dev/null | head -c 4)" == "PONG" ]]; then
      echo "port $port answered a plaintext PING: TLS is not on" >&2; exit 1
    fi
  done
  echo "verified: plaintext PING on both TLS ports gets no PONG"
  for s in redis greenrpc; do
    if [[ $s == redis ]]; then port=$REDIS_TLS_PORT; else port=$GREEN_TLS_PORT; fi
    TLS_SESSION[$s]=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$TLS_DIR/ca.crt" -verify_return_error \
        -brief < /dev/null 2>&1 | awk -F': ' '/^Protocol version/ {p = $2} /^Ciphersuite/ {c = $2} /^Signature type/ {t = $2}
        /^Server Temp Key/ {k = $2} END { printf "%s, %s, %s signature, %s key exchange", p, c, t, k }')
    echo "verified: $s TLS session: ${TLS_SESSION[$s]}"
  done
fi
if [[ $RUN_METRICS -eq 1 ]]; then
  check "greenrpc (metrics on) echo <msgpack payload> -> msgpack payload" "$( { cat "$WORK/payload.msgpack"; echo; } | hexof)" \
    "$(timeout 5 redis-cli -p "$METRICS_PORT" "${GREEN_W2[@]}" | hexof)"
  # Metrics are really on: the echo just made is counted on the endpoint.
  scraped=$(timeout 5 curl -sf "http://127.0.0.1:$METRICS_HTTP_PORT/metrics" | grep -c '^greenrpc_server_requests_total{.*command="echo",outcome="ok"} 1$' || true)
  check "echo_server --metrics-port serves /metrics counting the echo" "1" "$scraped"
fi

# ---- running redis-benchmark ----------------------------------------------------------------------
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime of the whole process
CLK_TCK=$(getconf CLK_TCK)
cpu_busy() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }  # all but idle/iowait
alive() {  # pid name
  kill -0 "$1" 2>/dev/null || { echo "$2 (pid $1) is gone: killed from outside? Results so far are void." >&2; exit 1; }
}
alive_all() {
  alive "$REDIS_PID" redis-server; alive "$GREEN_PID" echo_server; alive "$SIGNED_PID" "echo_server --secret"
  if [[ -n "$REDIS_TLS_PID" ]]; then alive "$REDIS_TLS_PID" "redis-server --tls-port"; alive "$GREEN_TLS_PID" "echo_server --tls-cert"; fi
  if [[ -n "$METRICS_PID" ]]; then alive "$METRICS_PID" "echo_server --metrics-port"; fi
}
RB_TIMEOUT=$(( SECS * 15 + 30 ))
# run_rb port pid clients pipeline n cmd...
#   -> prints "rps p50_ms p99_ms server_cpu_pct secs other_cpu_pct client_cpu_pct server_us_per_op"
#   other_cpu_pct: time CPU $SERVER_CPU spent on anything but the server process (interference);
#   client_cpu_pct: redis-benchmark's own CPU (user+sys, from rusage): ~100 = client-bound;
#   server_us_per_op: server CPU time per request (user+sys of the whole server process).
# RB_OPTS (an array; empty by default): more redis-benchmark options (the TLS section's --tls,
# --cacert, -k 0), set in the $( ) subshell of one call.
RB_OPTS=()
run_rb() {
  local port=$1 pid=$2 c=$3 p=$4 n=$5; shift 5
  local t0 t1 c0 c1 b0 b1 k out line
  alive_all
  c0=$(cpu_ticks "$pid"); b0=$(cpu_busy "$SERVER_CPU"); t0=$(date +%s.%N)
  # In a subshell so that `times` reports exactly this redis-benchmark's CPU (children rusage).
  if ! ( timeout "$RB_TIMEOUT" "${PRIO[@]}" taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" "${RB_OPTS[@]}" -c "$c" -P "$p" -n "$n" --csv "$@" > "$WORK/rb.out" 2> "$WORK/rb.err"
         rc=$?; times > "$WORK/rb.times"; exit $rc ); then
    echo "redis-benchmark failed or timed out (port $port):" >&2; cat "$WORK/rb.err" >&2; exit 1
  fi
  out=$(cat "$WORK/rb.out")
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); b1=$(cpu_busy "$SERVER_CPU")
  # `times`, 2nd line: children user and sys as XmY.YYYs
  k=$(sed -n 2p "$WORK/rb.times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s/, "", a[2]); t += a[1] * 60 + a[2] } print t }')
  alive_all
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
[[ $RUN_REDIS -eq 1 ]] || WORKLOADS=()
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
  alive_all
  out=$(timeout "$RB_TIMEOUT" "${PRIO[@]}" taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --host 127.0.0.1 --port "$GREEN_PORT" \
        --connections "$c" --pipeline "$p" --duration "$SECS" --warmup 0.5 "${args[@]}" 2>&1) || {
    LG[$w]="failed: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; echo "  load_generator $w failed" >&2; continue; }
  LG[$w]=$(printf '%s\n' "$out" | grep '^RESULT' | sed -E 's/.* rps=([0-9.]+) p50_us=([0-9.]+) p99_us=([0-9.]+).*/\1 \2 \3/')
  echo "  load_generator $w: ${LG[$w]} (rps p50_us p99_us)" >&2
done
LOAD_MID=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- signed vs unsigned: greenrpc load_generator -> greenrpc echo_server (W2s, W3s) --------------
commands_of() { timeout 5 redis-cli -p "$1" INFO | tr -d '\r' | awk -F: '$1 == "total_commands_processed" {print $2}'; }
LG_TIMEOUT=$(awk -v s="$SIGNED_SECS" 'BEGIN { printf "%d", s * 3 + 30 }')
# run_lg port pid connections pipeline [--secret S]
#   -> "rps p50_us p99_us server_cpu_pct secs other_cpu_pct client_cpu_pct server_us_per_op client_us_per_op"
#   server_us_per_op = the server's CPU over the whole load_generator run / the requests it served
#   in that time (its INFO total_commands_processed, which counts the warm-up too); client_us_per_op
#   = load_generator's CPU (rusage, includes its start-up) / the same request count.
run_lg() {
  local port=$1 pid=$2 c=$3 p=$4; shift 4
  local t0 t1 c0 c1 b0 b1 k n0 n1 out line
  alive_all
  n0=$(commands_of "$port")
  c0=$(cpu_ticks "$pid"); b0=$(cpu_busy "$SERVER_CPU"); t0=$(date +%s.%N)
  if ! ( timeout "$LG_TIMEOUT" "${PRIO[@]}" taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --host 127.0.0.1 --port "$port" \
           --connections "$c" --pipeline "$p" --duration "$SIGNED_SECS" --warmup 0.5 --command echo --tino-payload --shared-loop "$@" \
           > "$WORK/lg.out" 2> "$WORK/lg.err"
         rc=$?; times > "$WORK/lg.times"; exit $rc ); then
    echo "load_generator failed or timed out (port $port):" >&2; cat "$WORK/lg.out" "$WORK/lg.err" >&2; exit 1
  fi
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); b1=$(cpu_busy "$SERVER_CPU")
  n1=$(commands_of "$port")
  alive_all
  k=$(sed -n 2p "$WORK/lg.times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s/, "", a[2]); t += a[1] * 60 + a[2] } print t }')
  line=$(grep '^RESULT' "$WORK/lg.out") || { echo "load_generator printed no RESULT line:" >&2; cat "$WORK/lg.out" "$WORK/lg.err" >&2; exit 1; }
  printf '%s\n' "$line" | awk -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v k="$k" -v n="$((n1 - n0 - 1))" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    if (f["errors"] != 0) { print "errors=" f["errors"] > "/dev/stderr"; exit 1 }
    secs = t1 - t0; srv = (c1 - c0) / hz / secs; other = (b1 - b0) / hz / secs - srv; if (other < 0) other = 0;
    printf "%s %s %s %.0f %.2f %.0f %.0f %.2f %.2f\n", f["rps"], f["p50_us"], f["p99_us"], 100 * srv, secs, 100 * other,
      100 * k / secs, 1e6 * (c1 - c0) / hz / n, 1e6 * k / n }'
}

SWORKLOADS=()
[[ $RUN_SIGNED -eq 1 ]] && SWORKLOADS=(W2s W3s)
declare -A SWP=([W2s]=1 [W3s]=16)
declare -A SRES   # SRES[workload,unsigned|signed] = lines of run_lg output
SIGNED_C=50
# The floor: both HMAC tags of one W2s/W3s request, alone (bench/sign_cost), on each benchmark CPU.
declare -A FLOOR_US   # FLOOR_US[cpu] = µs per request per side
if [[ $RUN_SIGNED -eq 1 ]]; then
  for cpu in "$SERVER_CPU" "$CLIENT_CPU"; do
    line=$(timeout 60 "${PRIO[@]}" taskset -c "$cpu" "$SIGN_COST_BIN" | grep '^RESULT') \
      || { echo "sign_cost failed on CPU $cpu" >&2; exit 1; }
    FLOOR_US[$cpu]=$(printf '%s\n' "$line" | sed -E 's/.*per_side_ns=([0-9.]+).*/\1/' | awk '{ printf "%.2f", $1 / 1000 }')
    SIGN_COST_LINE[$cpu]=$line
    echo "  sign_cost on CPU $cpu: $line" >&2
  done
fi
for w in "${SWORKLOADS[@]}"; do
  p=${SWP[$w]}
  for rep in $(seq "$REPS"); do
    if (( rep % 2 )); then order=(unsigned signed); else order=(signed unsigned); fi
    for v in "${order[@]}"; do
      if [[ $v == unsigned ]]; then res=$(run_lg "$GREEN_PORT" "$GREEN_PID" "$SIGNED_C" "$p")
      else res=$(run_lg "$SIGNED_PORT" "$SIGNED_PID" "$SIGNED_C" "$p" --secret "$SECRET"); fi
      SRES[$w,$v]+="$res"$'\n'
      echo "  $w rep $rep $v: $res  (rps p50_us p99_us server_cpu% secs other_cpu% client_cpu% server_us/op client_us/op)" >&2
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- TLS: greenrpc vs redis-server, both over TLS, and each against its plaintext self -----------
# Servers: redis-tls (redis-server --tls-port), greenrpc-tls (echo_server --tls-cert), and the
# plaintext greenrpc and redis of the first section, all on CPU $SERVER_CPU. Same redis-benchmark
# flags for all four; the TLS pair adds --tls --cacert ca.crt.
LOAD_TLS_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TWORKLOADS=()
[[ $RUN_TLS -eq 1 ]] && TWORKLOADS=(W2t W3t Ct)
declare -A TWC=([W2t]=50 [W3t]=50 [Ct]=50)
declare -A TWP=([W2t]=1 [W3t]=16 [Ct]=1)
declare -A TRES     # TRES[workload,server] = lines of run_rb output
declare -A TN_FOR   # TN_FOR[workload,tls|plain] = -n of that pair
# tls_rb server workload n -> run_rb's line. Ct: PING with -k 0 (a new connection per request).
tls_rb() {
  local s=$1 w=$2 n=$3 port pid
  local -a opts=() cmd=()
  case $s in
    redis-tls) port=$REDIS_TLS_PORT; pid=$REDIS_TLS_PID; opts=("${CLI_TLS[@]}") ;;
    greenrpc-tls) port=$GREEN_TLS_PORT; pid=$GREEN_TLS_PID; opts=("${CLI_TLS[@]}") ;;
    greenrpc) port=$GREEN_PORT; pid=$GREEN_PID ;;
    redis) port=$REDIS_PORT; pid=$REDIS_PID ;;
  esac
  if [[ $w == Ct ]]; then opts+=(-k 0); cmd=(PING)
  elif [[ $s == redis* ]]; then cmd=("${REDIS_W2[@]}")
  else cmd=("${GREEN_W2[@]}"); fi
  RB_OPTS=("${opts[@]}")
  run_rb "$port" "$pid" "${TWC[$w]}" "${TWP[$w]}" "$n" "${cmd[@]}"
}
size_n() {  # rate-a rate-b multiple -> an -n that keeps the faster one busy >= SECS seconds
  awk -v a="$1" -v b="$2" -v s="$SECS" -v m="$3" 'BEGIN { r = (a > b ? a : b) * s; print int(r / m + 1) * m }'
}
for w in "${TWORKLOADS[@]}"; do
  c=${TWC[$w]}; p=${TWP[$w]}
  if [[ $w == Ct ]]; then probe_n=3000; else probe_n=$(( c * p * 200 )); [[ $probe_n -lt 20000 ]] && probe_n=20000; fi
  declare -A probe=()
  for s in redis-tls greenrpc-tls greenrpc redis; do
    probe[$s]=$(tls_rb "$s" "$w" "$probe_n" | cut -d' ' -f1)
  done
  TN_FOR[$w,tls]=$(size_n "${probe[redis-tls]}" "${probe[greenrpc-tls]}" $((c * p)))
  TN_FOR[$w,plain]=$(size_n "${probe[redis]}" "${probe[greenrpc]}" $((c * p)))
  echo "$w: -c $c -P $p, TLS pair -n ${TN_FOR[$w,tls]}, plaintext pair -n ${TN_FOR[$w,plain]} (probe: redis-TLS ${probe[redis-tls]}/s, greenrpc-TLS ${probe[greenrpc-tls]}/s, greenrpc ${probe[greenrpc]}/s, redis ${probe[redis]}/s)" >&2
  for rep in $(seq "$REPS"); do
    if (( rep % 2 )); then order=(redis-tls greenrpc-tls greenrpc redis); else order=(redis greenrpc greenrpc-tls redis-tls); fi
    for s in "${order[@]}"; do
      if [[ $s == *-tls ]]; then n=${TN_FOR[$w,tls]}; else n=${TN_FOR[$w,plain]}; fi
      res=$(tls_rb "$s" "$w" "$n")
      TRES[$w,$s]+="$res"$'\n'
      echo "  $w rep $rep $s: $res  (rps p50_ms p99_ms server_cpu% secs other_cpu% client_cpu% server_us/op)" >&2
    done
  done
done
# greenrpc's own client over TLS (informational, one run each): load_generator [--tls-ca] -> echo_server.
declare -A TLG
for w in "${TWORKLOADS[@]}"; do
  [[ $w == Ct ]] && continue
  for s in greenrpc-tls greenrpc; do
    if [[ $s == greenrpc-tls ]]; then args=(--port "$GREEN_TLS_PORT" --tls-ca "$TLS_DIR/ca.crt"); else args=(--port "$GREEN_PORT"); fi
    alive_all
    out=$(timeout "$RB_TIMEOUT" "${PRIO[@]}" taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --host 127.0.0.1 "${args[@]}" \
          --connections "${TWC[$w]}" --pipeline "${TWP[$w]}" --duration "$SECS" --warmup 0.5 --command echo --tino-payload 2>&1) || {
      TLG[$w,$s]="failed: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; echo "  load_generator $w $s failed" >&2; continue; }
    TLG[$w,$s]=$(printf '%s\n' "$out" | grep '^RESULT' | sed -E 's/.* rps=([0-9.]+) p50_us=([0-9.]+) p99_us=([0-9.]+).*/\1 \2 \3/')
    echo "  load_generator $w $s: ${TLG[$w,$s]} (rps p50_us p99_us)" >&2
  done
done
LOAD_TLS_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- metrics on vs off: the same redis-benchmark W2/W3 flags, echo_server with and without metrics --
# Servers: greenrpc (the first section's plaintext echo_server, metrics off) and metrics
# (echo_server --metrics-port, metrics on), both on CPU $SERVER_CPU. During every "on" run a curl loop
# on CPU $CLIENT_CPU scrapes its /metrics once a second (as a Prometheus would), so rendering the
# scrapes is part of the server CPU measured.
LOAD_METRICS_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
MWORKLOADS=()
[[ $RUN_METRICS -eq 1 ]] && MWORKLOADS=(W2m W3m)
declare -A MWC=([W2m]=50 [W3m]=50)
declare -A MWP=([W2m]=1 [W3m]=16)
declare -A MRES      # MRES[workload,off|on] = lines of run_rb output
declare -A MN_FOR    # MN_FOR[workload] = -n
declare -A MSCRAPES  # MSCRAPES[workload] = scrapes answered 200 during its "on" runs
start_scraper() {  # scrapes /metrics once a second until stop_scraper; counts the 200s in $WORK/scrapes
  : > "$WORK/scrapes"
  ( while :; do
      code=$(timeout 3 taskset -c "$CLIENT_CPU" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
               "http://127.0.0.1:$METRICS_HTTP_PORT/metrics" 2>/dev/null || true)
      [[ "$code" == 200 ]] && echo x >> "$WORK/scrapes"
      sleep 1
    done ) &
  SCRAPER_PID=$!
}
stop_scraper() {
  if [[ -n "$SCRAPER_PID" ]]; then
    kill -TERM "$SCRAPER_PID" 2>/dev/null || true
    wait "$SCRAPER_PID" 2>/dev/null || true
    SCRAPER_PID=""
  fi
}
for w in "${MWORKLOADS[@]}"; do
  c=${MWC[$w]}; p=${MWP[$w]}
  probe_n=$(( c * p * 200 )); [[ $probe_n -lt 20000 ]] && probe_n=20000
  r1=$(run_rb "$GREEN_PORT" "$GREEN_PID" "$c" "$p" "$probe_n" "${GREEN_W2[@]}" | cut -d' ' -f1)
  r2=$(run_rb "$METRICS_PORT" "$METRICS_PID" "$c" "$p" "$probe_n" "${GREEN_W2[@]}" | cut -d' ' -f1)
  n=$(awk -v a="$r1" -v b="$r2" -v s="$SECS" -v m=$((c * p)) 'BEGIN { r = (a > b ? a : b) * s; n = int(r / m + 1) * m; print n }')
  MN_FOR[$w]=$n
  MSCRAPES[$w]=0
  echo "$w: -c $c -P $p -n $n (probe: metrics off $r1/s, on $r2/s)" >&2
  for rep in $(seq "$REPS"); do
    if (( rep % 2 )); then order=(off on); else order=(on off); fi
    for v in "${order[@]}"; do
      if [[ $v == off ]]; then res=$(run_rb "$GREEN_PORT" "$GREEN_PID" "$c" "$p" "$n" "${GREEN_W2[@]}")
      else
        start_scraper
        res=$(run_rb "$METRICS_PORT" "$METRICS_PID" "$c" "$p" "$n" "${GREEN_W2[@]}")
        stop_scraper
        MSCRAPES[$w]=$(( ${MSCRAPES[$w]} + $(wc -l < "$WORK/scrapes") ))
      fi
      MRES[$w,$v]+="$res"$'\n'
      echo "  $w rep $rep metrics $v: $res  (rps p50_ms p99_ms server_cpu% secs other_cpu% client_cpu% server_us/op)" >&2
    done
  done
done
LOAD_METRICS_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------
# med ARRAY WORKLOAD SIDE COLUMN: the median of one column over the runs of one side of a workload.
med() { local -n runs=$1; printf '%s' "${runs[$2,$3]}" | awk -v k="$4" 'NF {print $k}' | median; }
fmt_int() { printf "%'.0f" "$1" 2>/dev/null || printf '%s' "$1"; }
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
REDIS_VERSION=$(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/')
RB_VERSION=$(redis-benchmark --version 2>/dev/null | head -n 1 || true)
GIT_STATE=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$( (cd "$REPO" && git status --porcelain --untracked-files=no -- src include 2>/dev/null || true) | wc -l)
MACHINE_LINE="Machine: nproc=$NPROC, CPU: $CPU_MODEL, kernel $(uname -r), redis-server $REDIS_VERSION ($RB_VERSION)."
GREEN_LINE="greenrpc: commit $GIT_STATE with $GIT_DIRTY modified file(s) under src/ include/ at run time; 1 worker thread."
[[ $RUN_REDIS -eq 1 ]] && {
  echo "### Results ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Command: \`bench/run.sh $ORIG_ARGS\` (build dir $BUILD; reps=$REPS, ~${SECS}s per run; median of $REPS runs per server, servers alternated)"
  echo
  echo "| workload | redis cmd | redis ops/s | greenrpc ops/s | ratio greenrpc/redis | redis p50 / p99 ms | greenrpc p50 / p99 ms | server CPU redis / greenrpc | server CPU µs/op redis / greenrpc | redis-benchmark CPU (vs redis / vs greenrpc) |"
  echo "|---|---|---:|---:|---:|---|---|---|---|---|"
  for w in "${WORKLOADS[@]}"; do
    rr=$(med RES "$w" redis 1); gr=$(med RES "$w" greenrpc 1)
    ratio=$(awk -v a="$gr" -v b="$rr" 'BEGIN { printf "%.2fx", a / b }')
    rp50=$(med RES "$w" redis 2); rp99=$(med RES "$w" redis 3)
    gp50=$(med RES "$w" greenrpc 2); gp99=$(med RES "$w" greenrpc 3)
    rcpu=$(med RES "$w" redis 4); gcpu=$(med RES "$w" greenrpc 4)
    rk=$(med RES "$w" redis 7); gk=$(med RES "$w" greenrpc 7)
    ru=$(med RES "$w" redis 8); gu=$(med RES "$w" greenrpc 8)
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
  echo "$MACHINE_LINE"
  echo "Pinning: both servers on CPU $SERVER_CPU (\`taskset -c $SERVER_CPU\`, whole process), every client on CPU $CLIENT_CPU; scheduling: $SCHED${PRIO:+ (\`${PRIO[*]}\`)} for servers and clients alike. Payload: $PAYLOAD_BYTES bytes of UTF-8 (msgpack: $(stat -c %s "$WORK/payload.msgpack") bytes)."
  echo "$GREEN_LINE Load average before/after: $LOAD_BEFORE / $LOAD_MID."
} > "$WORK/report.md"

declare -A SIGN_COST  # SIGN_COST[workload] = "server unsigned, server signed, client unsigned, client signed" µs/op
[[ $RUN_SIGNED -eq 1 ]] && {
  echo "### Signed vs unsigned ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Command: \`bench/run.sh $ORIG_ARGS\` (build dir $BUILD). greenrpc \`load_generator\` -> greenrpc \`echo_server\`, unsigned vs both with \`--secret\` (HMAC-SHA256 envelope on every request and reply); same flags (\`--connections $SIGNED_C --command echo --tino-payload --shared-loop --duration $SIGNED_SECS --warmup 0.5\`), alternated U,S / S,U / ..., median of $REPS runs each. Target: signed >= 0.85x unsigned."
  echo
  echo "| workload | unsigned ops/s | signed ops/s | ratio signed/unsigned | unsigned p50 / p99 µs | signed p50 / p99 µs | server CPU unsigned / signed | server CPU µs/op unsigned / signed | load_generator CPU unsigned / signed | load_generator CPU µs/op unsigned / signed |"
  echo "|---|---:|---:|---:|---|---|---|---|---|---|"
  for w in "${SWORKLOADS[@]}"; do
    ur=$(med SRES "$w" unsigned 1); sr=$(med SRES "$w" signed 1)
    ratio=$(awk -v a="$sr" -v b="$ur" 'BEGIN { printf "%.2fx", a / b }')
    up50=$(med SRES "$w" unsigned 2); up99=$(med SRES "$w" unsigned 3)
    sp50=$(med SRES "$w" signed 2); sp99=$(med SRES "$w" signed 3)
    ucpu=$(med SRES "$w" unsigned 4); scpu=$(med SRES "$w" signed 4)
    ucl=$(med SRES "$w" unsigned 7); scl=$(med SRES "$w" signed 7)
    uu=$(med SRES "$w" unsigned 8); su=$(med SRES "$w" signed 8)
    uk=$(med SRES "$w" unsigned 9); sk=$(med SRES "$w" signed 9)
    SIGN_COST[$w]="$uu $su $uk $sk"
    case $w in W2s) desc="W2s echo 1400 B, 50 conns, pipeline 1" ;; W3s) desc="W3s echo 1400 B, 50 conns, pipeline 16" ;; esac
    echo "| $desc | $(fmt_int "$ur") | $(fmt_int "$sr") | **$ratio** | $up50 / $up99 | $sp50 / $sp99 | ${ucpu}% / ${scpu}% | $uu / $su | ${ucl}% / ${scl}% | $uk / $sk |"
  done
  echo
  echo "What signing costs against its floor. Cost = CPU µs/op signed minus unsigned (from the table above). Floor = one request tag plus one reply tag over these bytes, alone (\`bench/sign_cost\` on the same CPU: ${FLOOR_US[$SERVER_CPU]} µs on CPU $SERVER_CPU, ${FLOOR_US[$CLIENT_CPU]} µs on CPU $CLIENT_CPU), which each side must spend per request. Bound = the ratio a side would allow if it were the bottleneck and signing cost exactly the floor: unsigned / (unsigned + floor)."
  echo
  echo "| workload | signing cost server / load_generator µs | floor per side µs | above the floor server / load_generator µs | bound from the floor server / load_generator |"
  echo "|---|---:|---:|---:|---:|"
  for w in "${SWORKLOADS[@]}"; do
    read -r uu su uk sk <<< "${SIGN_COST[$w]}"
    awk -v w="$w" -v uu="$uu" -v su="$su" -v uk="$uk" -v sk="$sk" -v fs="${FLOOR_US[$SERVER_CPU]}" -v fc="${FLOOR_US[$CLIENT_CPU]}" 'BEGIN {
      printf "| %s | %+.2f / %+.2f | %.2f / %.2f | %+.2f / %+.2f | %.2fx / %.2fx |\n", w, su - uu, sk - uk, fs, fc,
        su - uu - fs, sk - uk - fc, uu / (uu + fs), uk / (uk + fc) }'
  done
  echo
  echo "sign_cost: CPU $SERVER_CPU \`${SIGN_COST_LINE[$SERVER_CPU]}\`; CPU $CLIENT_CPU \`${SIGN_COST_LINE[$CLIENT_CPU]}\`."
  echo
  echo "All runs, in order (ops/s, then the share of CPU $SERVER_CPU taken by other processes during the run):"
  echo
  for w in "${SWORKLOADS[@]}"; do
    echo "- $w unsigned: $(printf '%s' "${SRES[$w,unsigned]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')| signed: $(printf '%s' "${SRES[$w,signed]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')"
  done
  echo
  echo "Server CPU µs/op: the echo_server process's user+sys CPU during the whole load_generator run divided by the requests it served (INFO total_commands_processed, warm-up included); load_generator CPU µs/op: its rusage divided by the same count."
  echo "$MACHINE_LINE"
  echo "Pinning: both echo_servers on CPU $SERVER_CPU, load_generator on CPU $CLIENT_CPU; scheduling: $SCHED${PRIO:+ (\`${PRIO[*]}\`)} for servers and client alike."
  echo "$GREEN_LINE Load average before/after: $LOAD_MID / $LOAD_AFTER."
} > "$WORK/report-signed.md"

[[ $RUN_TLS -eq 1 ]] && {
  tdesc() { case $1 in W2t) echo "W2t echo 1400 B, -c 50 -P 1" ;; W3t) echo "W3t echo 1400 B, -c 50 -P 16" ;; Ct) echo "Ct new connections/s: PING, -k 0 -c 50 -P 1" ;; esac; }
  echo "### TLS ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Command: \`bench/run.sh $ORIG_ARGS\` (build dir $BUILD; reps=$REPS, ~${SECS}s per run; median of $REPS runs per server; order redis-TLS, greenrpc-TLS, greenrpc, redis, then reversed). The TLS servers: \`redis-server --port 0 --tls-port P --tls-cert-file server.crt --tls-key-file server.key --tls-ca-cert-file ca.crt --tls-auth-clients no --save '' --appendonly no\` and \`echo_server --workers 1 --tls-cert server.crt --tls-key server.key\`; redis-benchmark adds \`--tls --cacert ca.crt\` for both, and \`-k 0\` for Ct (a new connection, over TLS a full handshake, for every request; ops/s = connections/s). Certificates: made by the script with the openssl CLI, $KEY_DESC (CA and server key), SAN IP:127.0.0.1, DNS:localhost. Negotiated (openssl s_client): redis ${TLS_SESSION[redis]}; greenrpc ${TLS_SESSION[greenrpc]}."
  echo
  echo "Over TLS, greenrpc vs redis-server (same flags, same run). Target: ratio >= 1.0."
  echo
  echo "| workload | redis-TLS ops/s | greenrpc-TLS ops/s | ratio greenrpc-TLS/redis-TLS | redis p50 / p99 ms | greenrpc p50 / p99 ms | server CPU redis / greenrpc | server CPU µs/op redis / greenrpc | redis-benchmark CPU (vs redis / vs greenrpc) |"
  echo "|---|---:|---:|---:|---|---|---|---|---|"
  for w in "${TWORKLOADS[@]}"; do
    rr=$(med TRES "$w" redis-tls 1); gr=$(med TRES "$w" greenrpc-tls 1)
    ratio=$(awk -v a="$gr" -v b="$rr" 'BEGIN { printf "%.2fx", a / b }')
    echo "| $(tdesc "$w") | $(fmt_int "$rr") | $(fmt_int "$gr") | **$ratio** | $(med TRES "$w" redis-tls 2) / $(med TRES "$w" redis-tls 3) | $(med TRES "$w" greenrpc-tls 2) / $(med TRES "$w" greenrpc-tls 3) | $(med TRES "$w" redis-tls 4)% / $(med TRES "$w" greenrpc-tls 4)% | $(med TRES "$w" redis-tls 8) / $(med TRES "$w" greenrpc-tls 8) | $(med TRES "$w" redis-tls 7)% / $(med TRES "$w" greenrpc-tls 7)% |"
  done
  echo
  echo "TLS against plaintext, each server against itself (same run, same flags without \`--tls\`; the plaintext servers are the first section's)."
  echo
  echo "| workload | greenrpc plaintext ops/s | greenrpc TLS ops/s | greenrpc TLS/plaintext | greenrpc server µs/op plaintext / TLS | redis plaintext ops/s | redis TLS ops/s | redis TLS/plaintext | redis server µs/op plaintext / TLS | greenrpc/redis plaintext | redis-benchmark CPU plaintext (vs redis / vs greenrpc) |"
  echo "|---|---:|---:|---:|---|---:|---:|---:|---|---:|---|"
  for w in "${TWORKLOADS[@]}"; do
    gp=$(med TRES "$w" greenrpc 1); gt=$(med TRES "$w" greenrpc-tls 1); rp=$(med TRES "$w" redis 1); rt=$(med TRES "$w" redis-tls 1)
    echo "| $(tdesc "$w") | $(fmt_int "$gp") | $(fmt_int "$gt") | $(awk -v a="$gt" -v b="$gp" 'BEGIN { printf "%.2fx", a / b }') | $(med TRES "$w" greenrpc 8) / $(med TRES "$w" greenrpc-tls 8) | $(fmt_int "$rp") | $(fmt_int "$rt") | $(awk -v a="$rt" -v b="$rp" 'BEGIN { printf "%.2fx", a / b }') | $(med TRES "$w" redis 8) / $(med TRES "$w" redis-tls 8) | $(awk -v a="$gp" -v b="$rp" 'BEGIN { printf "%.2fx", a / b }') | $(med TRES "$w" redis 7)% / $(med TRES "$w" greenrpc 7)% |"
  done
  echo
  echo "All runs, in order (ops/s, then the share of CPU $SERVER_CPU taken by other processes during the run; -n TLS pair / plaintext pair: $(for w in "${TWORKLOADS[@]}"; do printf '%s %s / %s; ' "$w" "${TN_FOR[$w,tls]}" "${TN_FOR[$w,plain]}"; done | sed 's/; $//')):"
  echo
  for w in "${TWORKLOADS[@]}"; do
    line="- $w"
    for s in redis-tls greenrpc-tls greenrpc redis; do
      line+=" $s: $(printf '%s' "${TRES[$w,$s]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')|"
    done
    echo "${line%|}"
  done
  echo
  echo "greenrpc load_generator (\`--connections 50 --command echo --tino-payload\`, \`--tls-ca ca.crt\` for TLS) against echo_server TLS and plaintext (informational; one run each, ${SECS}s, client on CPU $CLIENT_CPU):"
  echo
  echo "| workload | plaintext ops/s | TLS ops/s | TLS/plaintext | plaintext p50 / p99 µs | TLS p50 / p99 µs |"
  echo "|---|---:|---:|---:|---|---|"
  for w in W2t W3t; do
    a=${TLG[$w,greenrpc]:-}; b=${TLG[$w,greenrpc-tls]:-}
    if [[ -z "$a" || -z "$b" || "$a" == failed* || "$b" == failed* ]]; then echo "| $w | ${a:-no result} | ${b:-no result} | | | |"; continue; fi
    read -r a1 a2 a3 <<< "$a"; read -r b1 b2 b3 <<< "$b"
    echo "| $w (pipeline ${TWP[$w]}) | $(fmt_int "$a1") | $(fmt_int "$b1") | $(awk -v x="$b1" -v y="$a1" 'BEGIN { printf "%.2fx", x / y }') | $a2 / $a3 | $b2 / $b3 |"
  done
  echo
  echo "$MACHINE_LINE OpenSSL: $(openssl version | cut -d' ' -f1-2) (CLI)."
  echo "Pinning: all four servers on CPU $SERVER_CPU, every client on CPU $CLIENT_CPU; scheduling: $SCHED${PRIO:+ (\`${PRIO[*]}\`)} for servers and clients alike."
  echo "$GREEN_LINE Load average before/after: $LOAD_TLS_BEFORE / $LOAD_TLS_AFTER."
} > "$WORK/report-tls.md"

[[ $RUN_METRICS -eq 1 ]] && {
  mdesc() { case $1 in W2m) echo "W2 echo 1400 B, -c 50 -P 1" ;; W3m) echo "W3 echo 1400 B, -c 50 -P 16" ;; esac; }
  echo "### Metrics on vs off ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Command: \`bench/run.sh $ORIG_ARGS\` (build dir $BUILD; reps=$REPS, ~${SECS}s per run; median of $REPS runs per server, alternated off,on / on,off). \`echo_server --workers 1\` (metrics off) against \`echo_server --workers 1 --metrics-port M\` (metrics on: per-worker counters and histograms, served on 127.0.0.1:M), the same redis-benchmark flags as W2 and W3 (\`echo <msgpack payload>\`). During every \"on\" run curl scraped /metrics once a second (on CPU $CLIENT_CPU), so the scrapes' cost is included. Goal: on/off >= 0.97."
  echo
  echo "| workload | metrics off ops/s | metrics on ops/s | ratio on/off | off p50 / p99 ms | on p50 / p99 ms | server CPU off / on | server CPU µs/op off / on | scrapes during the on runs |"
  echo "|---|---:|---:|---:|---|---|---|---|---:|"
  for w in "${MWORKLOADS[@]}"; do
    fr=$(med MRES "$w" off 1); nr=$(med MRES "$w" on 1)
    echo "| $(mdesc "$w") | $(fmt_int "$fr") | $(fmt_int "$nr") | **$(awk -v a="$nr" -v b="$fr" 'BEGIN { printf "%.3fx", a / b }')** | $(med MRES "$w" off 2) / $(med MRES "$w" off 3) | $(med MRES "$w" on 2) / $(med MRES "$w" on 3) | $(med MRES "$w" off 4)% / $(med MRES "$w" on 4)% | $(med MRES "$w" off 8) / $(med MRES "$w" on 8) | ${MSCRAPES[$w]} |"
  done
  echo
  echo "All runs, in order (ops/s, then the share of CPU $SERVER_CPU taken by other processes during the run; -n: $(for w in "${MWORKLOADS[@]}"; do printf '%s %s; ' "$w" "${MN_FOR[$w]}"; done | sed 's/; $//')):"
  echo
  for w in "${MWORKLOADS[@]}"; do
    echo "- $w off: $(printf '%s' "${MRES[$w,off]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')| on: $(printf '%s' "${MRES[$w,on]}" | awk 'NF {printf "%s (%s%%) ", $1, $6}')"
  done
  echo
  echo "$MACHINE_LINE"
  echo "Pinning: both echo_servers on CPU $SERVER_CPU, redis-benchmark and curl on CPU $CLIENT_CPU; scheduling: $SCHED${PRIO:+ (\`${PRIO[*]}\`)} for servers and clients alike."
  echo "$GREEN_LINE Load average before/after: $LOAD_METRICS_BEFORE / $LOAD_METRICS_AFTER."
} > "$WORK/report-metrics.md"

[[ $RUN_REDIS -eq 1 ]] && cat "$WORK/report.md"
[[ $RUN_REDIS -eq 1 && $RUN_SIGNED -eq 1 ]] && echo
[[ $RUN_SIGNED -eq 1 ]] && cat "$WORK/report-signed.md"
[[ $RUN_TLS -eq 1 && ( $RUN_REDIS -eq 1 || $RUN_SIGNED -eq 1 ) ]] && echo
[[ $RUN_TLS -eq 1 ]] && cat "$WORK/report-tls.md"
[[ $RUN_METRICS -eq 1 && ( $RUN_REDIS -eq 1 || $RUN_SIGNED -eq 1 || $RUN_TLS -eq 1 ) ]] && echo
[[ $RUN_METRICS -eq 1 ]] && cat "$WORK/report-metrics.md"

# write_block file begin-marker end-marker report: replace the block between the markers (append
# the markers and the report at the end of the file when the block does not exist yet).
write_block() {
  local results=$1 begin=$2 end=$3 report=$4
  if [[ -f "$results" ]] && grep -qF "$begin" "$results"; then
    awk -v b="$begin" -v e="$end" -v f="$report" '
      $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$results" > "$WORK/RESULTS.md"
  else
    { [[ -f "$results" ]] && cat "$results" && echo; echo "$begin"; cat "$report"; echo "$end"; } > "$WORK/RESULTS.md"
  fi
  cp "$WORK/RESULTS.md" "$results"
}
if [[ $WRITE -eq 1 ]]; then
  RESULTS="$REPO/bench/RESULTS.md"
  [[ $RUN_REDIS -eq 1 ]] && write_block "$RESULTS" '<!-- BEGIN run.sh results -->' '<!-- END run.sh results -->' "$WORK/report.md"
  [[ $RUN_SIGNED -eq 1 ]] && write_block "$RESULTS" '<!-- BEGIN run.sh signed results -->' '<!-- END run.sh signed results -->' "$WORK/report-signed.md"
  [[ $RUN_TLS -eq 1 ]] && write_block "$RESULTS" '<!-- BEGIN run.sh tls results -->' '<!-- END run.sh tls results -->' "$WORK/report-tls.md"
  [[ $RUN_METRICS -eq 1 ]] && write_block "$RESULTS" '<!-- BEGIN run.sh metrics results -->' '<!-- END run.sh metrics results -->' "$WORK/report-metrics.md"
  echo "written to $RESULTS" >&2
fi
