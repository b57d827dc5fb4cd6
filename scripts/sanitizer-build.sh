#!/usr/bin/env bash
# Sets up (once) and builds the sanitizer build dir: clang-14 with ASan + UBSan, only the
# fiber-free layers (protocol, codec, envelope), their test suites and the libFuzzer targets.
# Debian's Boost.Context is not ASan-aware, so nothing with fibers is built here.
#   scripts/sanitizer-build.sh [DIR] [JOBS]   (default build-asan, nproc)
set -euo pipefail
dir="${1:-build-asan}"
jobs="${2:-$(nproc)}"
cxx="${SANITIZER_CXX:-clang++-14}"
cc="${SANITIZER_CC:-clang-14}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "sanitizer build: $cxx not found (scripts/install-deps.sh --sanitizers installs it)" >&2
  exit 1
fi
if [ ! -f "$dir/build.ninja" ]; then
  CXX="$cxx" CC="$cc" meson setup "$dir" --buildtype=debugoptimized \
    -Dcore_only=true -Dfuzz=true -Dsamples=false -Dbench=false \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$dir" -j "$jobs"
