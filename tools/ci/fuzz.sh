#!/usr/bin/env bash
# Fuzzes every target in tests/fuzz for a fixed time each (libFuzzer +
# ASan + UBSan, clang), from the seed corpora, and prints each one's exec
# count.  Exit status non-zero when any target found a crash, leak or
# timeout; the input is left as $BUILD/tests/fuzz/{crash,leak,timeout}-*
# (copy it under tests/data/fuzz-regressions/<target>/ once fixed).
#   bash tools/ci/fuzz.sh [SECONDS per target, default 60] [TARGET...]
# Build directory: $CFQP_FUZZ_BUILD_DIR (default build-fuzz), set up with
# CC=${CFQP_FUZZ_CC:-clang-14}.  Extra libFuzzer flags: $CFQP_FUZZ_ARGS
# (e.g. -jobs=2 -workers=2).
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx calib)
build=${CFQP_FUZZ_BUILD_DIR:-build-fuzz}
cc=${CFQP_FUZZ_CC:-clang-14}
command -v "$cc" >/dev/null || { echo "fuzz.sh: $cc not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }

if [ ! -f "$build/build.ninja" ]; then
  # b_lundef=false: the plugin (not needed here) cannot link -z defs with a
  # sanitizer runtime that only the executables carry.
  CC=$cc meson setup "$build" -Dfuzzing=true -Db_lundef=false -Dtests=enabled \
    -Dopencl=disabled >/dev/null
fi
ninja -C "$build" $(printf 'tests/fuzz/fuzz-%s ' "${targets[@]}") >/dev/null

src=$PWD data=$PWD/tests/data
declare -A seeds=(
  [onnx]="$data/elements $data/refnets $data/qdq $data/fuzz-regressions/onnx $src/models"
  [calib]="$src/tests/fuzz/corpus/calib $data/fuzz-regressions/calib"
)
rc=0
summary=()
for t in "${targets[@]}"; do
  dir=$build/tests/fuzz
  log=$dir/fuzz-$t.log
  echo "fuzz.sh: fuzz-$t for ${secs}s (log: $log)"
  start=$(date +%s)
  # shellcheck disable=SC2086
  if CFQP_TEST_DATA=$data CFQP_FUZZ_SECONDS=$secs tests/fuzz/run-fuzz.sh \
      "$PWD/$dir/fuzz-$t" "$PWD/$dir/corpus-$t" ${seeds[$t]} >"$log" 2>&1; then
    verdict=ok
  else
    verdict=FAILED rc=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix)|Test unit written' "$log" >&2 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
  summary+=("fuzz-$t: $verdict, ${execs:-?} execs in $(( $(date +%s) - start ))s, $cov")
done
printf '%s\n' "${summary[@]}"
exit $rc
