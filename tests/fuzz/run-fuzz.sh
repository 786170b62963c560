#!/usr/bin/env bash
# Fuzzes one target for a fixed time from its seeds.
#   run-fuzz.sh FUZZER WORK_CORPUS SEED_DIR... (seconds: $CFQP_FUZZ_SECONDS, default 20)
# The random seed is fixed ($CFQP_FUZZ_SEED, default 1) so that a test run
# replays the same mutations and a red run can be reproduced; finding new
# bugs is the job of the longer random-seed sessions of tools/ci/fuzz.sh.
# Seeds are copied into WORK_CORPUS (libFuzzer adds what it finds there); the
# seed folders themselves are never written.  A crash input lands in
# WORK_CORPUS/../ as crash-*/leak-*/timeout-* and fails the test.
set -euo pipefail
fuzzer=$(realpath "$1") work=$(realpath -m "$2")
shift 2
secs=${CFQP_FUZZ_SECONDS:-20} seed=${CFQP_FUZZ_SEED:-1}
mkdir -p "$work"
for d in "$@"; do
  [ -d "$d" ] || continue
  find "$d" -maxdepth 1 -type f \( -name '*.onnx' -o -name '*.json' -o -name 'seed-*' \) \
    -exec cp -n {} "$work"/ \;
done
dict=$(cd "$(dirname "$0")" && pwd)/$(basename "$fuzzer" | sed 's/^fuzz-//').dict
cd "$(dirname "$work")"
exec "$fuzzer" -seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 ${dict:+-dict="$dict"} ${CFQP_FUZZ_ARGS:-} "$work"
