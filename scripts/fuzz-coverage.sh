#!/usr/bin/env bash
# Line and branch coverage of the fuzz targets' sources reached by a corpus (clang source-based
# coverage): builds the targets with -fprofile-instr-generate -fcoverage-mapping (no sanitizer)
# in DIR once, replays each target's corpus without mutating it (-runs=0) and prints
# llvm-cov's report for the files that target exists to test.
#   scripts/fuzz-coverage.sh [DIR] [CORPUS_ROOT]
#   DIR          build dir (default build-fuzz-cov)
#   CORPUS_ROOT  holds <target>/ corpora (default: DIR/../build-asan/fuzz/work/<target>/corpus if
#                present, always plus the committed seeds in fuzz/corpus/<target>)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-build-fuzz-cov}"
corpora="${2:-}"
cxx="${SANITIZER_CXX:-clang++-14}"
cc="${SANITIZER_CC:-clang-14}"
profdata="$(command -v llvm-profdata-14 || command -v llvm-profdata)"
llvmcov="$(command -v llvm-cov-14 || command -v llvm-cov)"
if [ ! -f "$dir/build.ninja" ]; then
  CXX="$cxx" CC="$cc" meson setup "$dir" "$root" --buildtype=debug -Dcore_only=true -Dfuzz=true \
    -Dsamples=false -Dbench=false -Db_lundef=false \
    -Dcpp_args='-fprofile-instr-generate -fcoverage-mapping' \
    -Dcpp_link_args='-fprofile-instr-generate -fcoverage-mapping' >/dev/null
fi
declare -A sources=(
  [request_parser]="src/protocol/request_parser.cpp src/protocol/read_buffer.cpp"
  [reply_parser]="src/protocol/reply_parser.cpp"
  [codec_decode]="src/codec include/greenrpc/codec"
  [envelope]="src/envelope"
)
for t in request_parser reply_parser codec_decode envelope; do
  ninja -C "$dir" "fuzz/${t}_fuzzer" >/dev/null
  work="$dir/fuzz/cov/$t"
  rm -rf "$work"
  mkdir -p "$work"
  inputs=("$root/fuzz/corpus/$t")
  if [ -n "$corpora" ] && [ -d "$corpora/$t" ]; then inputs+=("$corpora/$t"); fi
  if [ -n "$corpora" ] && [ -d "$corpora/$t/corpus" ]; then inputs+=("$corpora/$t/corpus"); fi
  LLVM_PROFILE_FILE="$work/%p.profraw" "$dir/fuzz/${t}_fuzzer" -runs=0 "${inputs[@]}" >"$work/replay.log" 2>&1
  "$profdata" merge -sparse "$work"/*.profraw -o "$work/merged.profdata"
  files=()
  for s in ${sources[$t]}; do files+=("$root/$s"); done
  echo "== $t: $(grep -c . <(find "${inputs[@]}" -type f)) inputs"
  "$llvmcov" report "$dir/fuzz/${t}_fuzzer" -instr-profile="$work/merged.profdata" "${files[@]}" \
    | awk 'NR==1 || /TOTAL/ || /\.cpp|\.hpp/' | sed "s|$root/||"
done
