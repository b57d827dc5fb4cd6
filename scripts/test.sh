#!/usr/bin/env bash
# `make test`: runs every suite with meson test, then the sanitizer build (scripts/sanitizer-build.sh:
# clang-14, ASan + UBSan) of the fiber-free suites (protocol, codec, envelope format) and a short
# smoke run of each libFuzzer target, and prints the plain summary line "N passed, N failed" that
# CI reads, counting both builds. GREENRPC_SANITIZERS=0 skips the sanitizer build.
set -uo pipefail
build="${1:-build}"
jobs="${2:-$(nproc)}"
asan_build="${ASAN_BUILD:-build-asan}"
passed=0
failed=0
status=0

# Adds a `meson test` log's counts to the totals.
count() {
  local log="$1" ok expected_fail fail unexpected_pass timeout
  ok=$(awk '/^Ok:/ {print $2}' "$log")
  expected_fail=$(awk '/^Expected Fail:/ {print $3}' "$log")
  fail=$(awk '/^Fail:/ {print $2}' "$log")
  unexpected_pass=$(awk '/^Unexpected Pass:/ {print $3}' "$log")
  timeout=$(awk '/^Timeout:/ {print $2}' "$log")
  passed=$(( passed + ${ok:-0} + ${expected_fail:-0} ))
  failed=$(( failed + ${fail:-0} + ${unexpected_pass:-0} + ${timeout:-0} ))
}

log="$(mktemp)"
meson test -C "$build" --print-errorlogs --num-processes "$jobs" 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
count "$log"

if [ "${GREENRPC_SANITIZERS:-1}" != 0 ]; then
  echo
  echo "== ASan + UBSan (clang-14, $asan_build): protocol, codec, envelope format; fuzz smoke =="
  if "$(dirname "$0")/sanitizer-build.sh" "$asan_build" "$jobs"; then
    meson test -C "$asan_build" --print-errorlogs --num-processes "$jobs" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    count "$log"
  else
    echo "sanitizer build failed"
    failed=$(( failed + 1 ))
    status=1
  fi
fi
rm -f "$log"
echo
echo "${passed} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
