#!/usr/bin/env bash
# `make demo`: starts the quickstart server, calls it from the greenrpc client and from redis-cli,
# prints the results, stops the server. Everything on 127.0.0.1, every wait bounded.
set -euo pipefail
build="${1:-build}"
port="${DEMO_PORT:-7777}"
server="$build/samples/quickstart_server"
client="$build/samples/quickstart_client"

# Use the default port unless something else already listens there.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  port=$((20000 + RANDOM % 20000))
fi

"$server" --port "$port" > /tmp/greenrpc-demo.log 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" PING >/dev/null 2>&1 && break
  sleep 0.05
done

echo "== quickstart server on 127.0.0.1:$port"
echo
echo "== greenrpc client: $client --port $port"
timeout 30 "$client" --port "$port"
echo
echo "== redis-cli: PING"
redis-cli -p "$port" PING
echo
echo "== redis-cli: add 1 {\"value\": 2}   (arguments are msgpack: 0x01 and {\"value\": 2})"
printf '  reply bytes: '
redis-cli -p "$port" --no-raw add $'\x01' $'\x81\xa5value\x02'
echo
echo "== redis-cli: add with a wrong type for b   (a validation error, the connection stays open)"
printf '  '
redis-cli -p "$port" add $'\x01' $'\xa3two'
echo
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
echo "== server stopped"
