#!/usr/bin/env bash
# `make test`: runs every suite with meson test, then prints the plain summary line
# "N passed, N failed" that CI reads.
set -uo pipefail
build="${1:-build}"
jobs="${2:-$(nproc)}"
log="$(mktemp)"
meson test -C "$build" --print-errorlogs --num-processes "$jobs" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
ok=$(awk '/^Ok:/ {print $2}' "$log")
expected_fail=$(awk '/^Expected Fail:/ {print $3}' "$log")
fail=$(awk '/^Fail:/ {print $2}' "$log")
unexpected_pass=$(awk '/^Unexpected Pass:/ {print $3}' "$log")
timeout=$(awk '/^Timeout:/ {print $2}' "$log")
rm -f "$log"
passed=$(( ${ok:-0} + ${expected_fail:-0} ))
failed=$(( ${fail:-0} + ${unexpected_pass:-0} + ${timeout:-0} ))
echo
echo "${passed} passed, ${failed} failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
