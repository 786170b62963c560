#!/usr/bin/env bash
# Proof that a change left the INT8 and INT16 bytes alone: every shipped
# model (models/*.onnx with its shipped calibration) upscales a real crop
# (tests/data/images/boats-x<N>.png, N = 2, 3, 4 or 1.5) through cfqpsr on every backend and
# CPU kernel family, and on every CPU ISA level this machine can run
# (CFQP_MAX_CPU_ISA), in INT8 and in INT16 (precision=int16: the CPU's conv
# micro-kernel and requantisation per ISA level, and OpenCL's kernels, held
# to the stored cpu digest: its bytes are ref's by definition); the md5 of each
# output is compared with the digests stored in tests/data/digests/int8.md5
# and int16.md5.  All configurations of one model and precision must also
# give the same bytes as each other.
#
#   tools/ci/check_digests.sh [--build DIR] [--update] [--keep DIR]
#
# --update rewrites the stored digests (after a change that is meant to
# change bytes: a new model or calibration, a change of the arithmetic's
# definition).  --keep DIR keeps the raw outputs.  FP32 is not digested:
# its bytes depend on the CPU's FP32 kernels; the test suite bounds it.
# Exit status: 0 when every digest matches, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build update=0 keep=
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift ;;
    --update) update=1 ;;
    --keep) keep=$2; shift ;;
    *) echo "check_digests: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

out=${keep:-$(mktemp -d)}
mkdir -p "$out"
[ -n "$keep" ] || trap 'rm -rf "$out"' EXIT
export GST_PLUGIN_PATH=$(realpath "$build")/gst GST_REGISTRY=$out/registry.bin

# configurations: name, cfqpsr properties, CFQP_MAX_CPU_ISA, and optionally
# the stored configuration whose digest it must match (none of its own:
# --update leaves it out)
configs8=("cpu-auto|backend=cpu cpu-kernels=auto|"
          "cpu-orc|backend=cpu cpu-kernels=orc|"
          "cpu-native|backend=cpu cpu-kernels=native|")
configs16=("cpu|backend=cpu|")
for isa in avxvnni avx2 sse4.1 generic; do
  configs8+=("cpu-$isa|backend=cpu cpu-kernels=native|$isa")
  configs16+=("cpu-$isa|backend=cpu|$isa")
done
if gst-inspect-1.0 cfqpsr 2>/dev/null | grep opencl > /dev/null &&
   [ -n "$(ls /etc/OpenCL/vendors/*.icd 2>/dev/null)" ]; then
  configs8+=("opencl|backend=opencl device=0|")
  configs16+=("opencl|backend=opencl device=0||cpu")
fi

fail=0

# run PRECISION STORED CONFIG...: every model through every configuration,
# its digests in $out/PRECISION.md5, then checked against STORED (or
# written to it with --update)
run () {
  local precision=$1 stored=$2 now=$out/$1.md5
  shift 2
  local configs=("$@")
  local -A stored_as=()
  : > "$now"
  for model in models/*.onnx; do
    name=$(basename "$model" .onnx)
    scale=${name##*-x}; scale=${scale%%-*}
    img=tests/data/images/boats-x$scale.png
    # width and height from the PNG's IHDR (big-endian at bytes 16 and 20)
    read -r b0 b1 b2 b3 b4 b5 b6 b7 < <(od -An -tu1 -j16 -N8 "$img")
    w=$(( (b0 << 24) | (b1 << 16) | (b2 << 8) | b3 )) h=$(( (b4 << 24) | (b5 << 16) | (b6 << 8) | b7 ))
    # the net's own output size (scale 1.5: the x3/2 net; awk for the fraction)
    read -r ow oh < <(awk -v w="$w" -v h="$h" -v s="$scale" 'BEGIN { printf "%d %d\n", w * s, h * s }')
    first=
    for c in "${configs[@]}"; do
      IFS='|' read -r cname props isa as <<< "$c"
      [ -z "$as" ] || stored_as[$cname]=$as
      raw=$out/$name.$precision.$cname.raw
      log=$out/$name.$precision.$cname.log
      # shellcheck disable=SC2086  # props are separate properties
      if ! CFQP_MAX_CPU_ISA=$isa gst-launch-1.0 -m filesrc location="$img" ! pngdec ! \
          videoconvert ! video/x-raw,format=RGB ! \
          cfqpsr model-file="$model" calibration-file="${model%.onnx}.calib.json" \
            precision=$precision $props ! \
          video/x-raw,format=RGB,width=$ow,height=$oh ! \
          filesink location="$raw" > "$log" 2>&1; then
        echo "FAIL $name $precision $cname: gst-launch failed (see $log)"
        fail=1
        continue
      fi
      if ! grep -q "precision=(string)$precision" "$log"; then
        echo "FAIL $name $precision $cname: did not run $precision (see $log)"
        fail=1
        continue
      fi
      sum=$(md5sum < "$raw" | cut -d' ' -f1)
      echo "$sum  $name $cname" >> "$now"
      if [ -z "$first" ]; then
        first=$sum
      elif [ "$sum" != "$first" ]; then
        echo "FAIL $name $precision $cname: other bytes than ${configs[0]%%|*}"
        fail=1
      fi
    done
  done

  if [ $update -eq 1 ]; then
    mkdir -p "$(dirname "$stored")"
    awk -v skip=" ${!stored_as[*]} " 'index(skip, " " $3 " ") == 0' "$now" > "$stored"
    echo "check_digests: wrote $(wc -l < "$stored") digests to $stored"
    return
  fi
  # a configuration this machine cannot run (no OpenCL) is not a failure;
  # every digest it did compute must be the stored one
  local bad=0
  while read -r sum model cname; do
    want=$(awk -v m="$model" -v c="${stored_as[$cname]:-$cname}" \
      '$2 == m && $3 == c { print $1 }' "$stored")
    if [ -z "$want" ]; then
      echo "FAIL $model $precision $cname: no stored digest (run with --update if the model is new)"
      bad=1
    elif [ "$want" != "$sum" ]; then
      echo "FAIL $model $precision $cname: $sum, stored $want"
      bad=1
    fi
  done < "$now"
  [ $bad -eq 0 ] || fail=1
  echo "check_digests: $(wc -l < "$now") $precision outputs checked against $stored:" \
    "$([ $bad -eq 0 ] && echo all match || echo DIFFERENCES)"
}

run int8 tests/data/digests/int8.md5 "${configs8[@]}"
run int16 tests/data/digests/int16.md5 "${configs16[@]}"
exit $fail
