#!/bin/bash
# A refactor's before/after in one run: cfqp-bench-engine ARGS from two
# build folders, alternating A, B ROUNDS times (nice -n 15), so that load
# on a shared machine hits both alike.  One line per run with its median
# process CPU ms per frame (wall time means little on a loaded machine),
# then the median of the runs per build.
#
#   tools/bench/bench_builds.sh BUILD_A BUILD_B ROUNDS ARGS...
#   tools/bench/bench_builds.sh /tmp/base/build build 3 models/abpn-x3.onnx 640 360 \
#       --threads 1 --frames 3 --precision int8 --backend cpu \
#       --calibration models/abpn-x3.calib.json
set -euo pipefail

if [ $# -lt 4 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
a=$1 b=$2 rounds=$3
shift 3

median () {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A runs
for ((r = 1; r <= rounds; r++)); do
  for build in "$a" "$b"; do
    bin=$build/tools/c/cfqp-bench-engine
    # a build from before the tools/ regrouping has it one folder up
    [ -x "$bin" ] || bin=$build/tools/cfqp-bench-engine
    ms=$(nice -n 15 "$bin" "$@" 2>&1 |
      sed -n 's/^median_cpu_ms=//p')
    echo "round $r $build median_cpu_ms=$ms"
    runs[$build]+="$ms"$'\n'
  done
done
for build in "$a" "$b"; do
  echo "$build: median of $rounds runs: $(printf '%s' "${runs[$build]}" | median) ms CPU/frame"
done
