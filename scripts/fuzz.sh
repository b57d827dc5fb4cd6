#!/usr/bin/env bash
# `make fuzz`: builds the sanitizer build dir and runs each libFuzzer target in turn for
# FUZZ_SECONDS (default 60) with its seed corpus (fuzz/corpus/<target>, only read) and dictionary.
# New inputs collect in DIR/fuzz/work/<target>/corpus, crashes in .../artifacts/.
#   scripts/fuzz.sh [DIR] [SECONDS] [JOBS] [TARGET...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-build-asan}"
seconds="${2:-60}"
jobs="${3:-$(nproc)}"
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request_parser reply_parser codec_decode envelope)
"$root/scripts/sanitizer-build.sh" "$dir" "$jobs"
failed=()
for t in "${targets[@]}"; do
  case "$t" in request_parser|reply_parser) dict=resp.dict ;; *) dict=msgpack.dict ;; esac
  echo "== $t: ${seconds}s"
  log="$dir/fuzz/work/$t.log"
  mkdir -p "$dir/fuzz/work"
  rc=0
  "$root/fuzz/run.sh" "$dir/fuzz/${t}_fuzzer" "$seconds" "$root/fuzz/corpus/$t" "$root/fuzz/$dict" \
    "$dir/fuzz/work/$t" >"$log" 2>&1 || rc=$?
  grep -E '^#[0-9]+ +(INITED|DONE)|ERROR|SUMMARY|invariant|^stat::number_of_executed' "$log" || true
  [ "$rc" -eq 0 ] || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashed: ${failed[*]} (inputs in $dir/fuzz/work/<target>/artifacts/)"
  exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds}s without a finding"
