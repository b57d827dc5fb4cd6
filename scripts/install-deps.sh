#!/usr/bin/env bash
# Installs the Debian 12 packages greenrpc needs to build, test and run its demo.
# Idempotent: silent and fast when everything is already installed.
#   --sanitizers: also clang-14 and libFuzzer, for the ASan/UBSan build and the fuzz targets
#                 (`make test` runs their smoke; `make fuzz`); `make build`/`make demo` skip them.
set -euo pipefail
packages=(
  g++ make pkg-config meson ninja-build
  libboost-fiber-dev libboost-context-dev libmsgpack-cxx-dev libssl-dev libgtest-dev
  libsqlite3-dev
  nlohmann-json3-dev libcli11-dev
  redis-tools redis-server python3 python3-redis python3-msgpack python3-pydantic python3-aioredis
  openssl
  prometheus
)
sanitizer_packages=(clang-14 libfuzzer-14-dev)
[ "${1:-}" = "--sanitizers" ] && packages+=("${sanitizer_packages[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# prometheus (the tests run their own on 127.0.0.1, with promtool) and redis-server are test peers only:
# forbid the package scripts from starting their system services while apt-get runs (policy-rc.d exit 101),
# and remove the policy again only if this script created it.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  $sudo sh -c "printf '#!/bin/sh\\nexit 101\\n' > $policy && chmod 755 $policy"
  created_policy=1
  trap 'if [ -n "$created_policy" ]; then $sudo rm -f "$policy"; fi' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -n "$created_policy" ]; then $sudo rm -f "$policy"; created_policy=""; fi
# redis-server is only a benchmark peer, prometheus only a test peer; never leave a system instance listening.
for service in redis-server prometheus; do
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
  $sudo service "$service" stop >/dev/null 2>&1 || true
done
