#!/usr/bin/env bash
# Runs one libFuzzer target: run.sh FUZZER SECONDS SEED_CORPUS DICT WORKDIR [libFuzzer flags...]
# New inputs go to WORKDIR/corpus (the seeds are only read), crashes to WORKDIR/artifacts/.
set -euo pipefail
fuzzer=$1 seconds=$2 seeds=$3 dict=$4 work=$5
shift 5
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" "$work/corpus" "$seeds" -dict="$dict" -max_total_time="$seconds" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@"
