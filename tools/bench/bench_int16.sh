#!/bin/bash
# INT16 beside FP32 and INT8 on the cpu backend, per ISA level, in one run:
# one line per level and model with the ms per frame of each precision
# (cfqp-bench-engine, shipped calibration, one thread): the median over
# ROUNDS runs (default 3) of each run's median frame, the precisions
# alternating within a round so that load on a shared machine hits them
# alike.
#
#   [ROUNDS=3] tools/bench/bench_int16.sh [BUILD] [W H] [LEVELS...]
#   tools/bench/bench_int16.sh build 320 180 avx512vnni avxvnni avx2
#
# FP32's kernels go up to AVX2+FMA at every level (no AVX-512 form), so
# the avx2 row is the one where both run the same vector width.
set -euo pipefail

build=${1:-build}
w=${2:-320}
h=${3:-180}
shift $(( $# < 3 ? $# : 3 ))
levels=${*:-avx512vnni avxvnni avx2}
rounds=${ROUNDS:-3}
models="xlsr-x2 xlsr-x3 bicubicpp-x2 bicubicpp-x3"

median () {
  tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "level model fp32_ms int8_ms int16_ms fp32_over_int16"
for isa in $levels; do
  for m in $models; do
    declare -A runs=([fp32]="" [int8]="" [int16]="")
    for ((r = 0; r < rounds; r++)); do
      for p in fp32 int8 int16; do
        v=$(CFQP_MAX_CPU_ISA=$isa "$build/tools/c/cfqp-bench-engine" "models/$m.onnx" "$w" "$h" \
            --threads 1 --frames 7 --calibration "models/$m.calib.json" --precision $p 2>&1 |
            sed -n 's/^median_ms=//p')
        runs[$p]="${runs[$p]} $v"
      done
    done
    f=$(echo "${runs[fp32]}" | median) i8=$(echo "${runs[int8]}" | median)
    i16=$(echo "${runs[int16]}" | median)
    echo "$isa $m $f $i8 $i16 $(awk -v a="$f" -v b="$i16" 'BEGIN { printf "%.2f", a / b }')"
  done
done
