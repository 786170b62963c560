#!/bin/sh
# QDQ export checked in ONNX Runtime: calibrate a reference model on real
# photos, export it as QDQ ONNX, run the same photos through ORT (CPU) and
# through the INT8 engine (the exported file re-imported, its own scales),
# compare the output bytes.
#
#   tools/pipeline/ort_check/run.sh [BUILD_DIR] [MODEL.onnx[:CALIB.json] ...]
#
# MODEL.onnx:CALIB.json exports MODEL with that calibration (e.g. a shipped
# models/*.calib.json: the clip-free copy if it is clip-free, as cfqpsr runs
# it) instead of calibrating it here, and checks that the engine gives the
# same bytes on the export as on MODEL with CALIB (cfqpsr's INT8 path).
# PRECISION=int16 exports the 16-bit program (opset 21: uint16 activations,
# int16 weights) and compares ORT with the engine's INT16 path on MODEL with
# CALIB (every item needs its :CALIB.json; the engine does not import a
# 16-bit file).
# ORT_CHECK_KEEP=DIR keeps each model's export, inputs and engine outputs in
# DIR/NAME, with DIR/NAME/items the image list for tools/pipeline/ort_check/layers.py:
#   layers.py DIR/NAME/qdq.onnx $(cat DIR/NAME/items)
#
# Needs: BUILD_DIR/tools/c/cfqp-qdq, /usr/bin/python3 with PIL and numpy, and
# `npm install --ignore-scripts` done in tools/pipeline/ort_check (CPU binding only).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
models=${*:-"$root/tests/data/refnets/xlsr-x2-clip-op13.onnx $root/tests/data/refnets/abpn-x3-cat-op13.onnx"}
precision=${PRECISION:-int8}
tmp=$(mktemp -d)
status=0
trap 'rm -rf "$tmp"' EXIT

for item in $models; do
  model=${item%%:*}
  calib=
  [ "$model" != "$item" ] && calib=${item#*:}
  name=$(basename "$model" .onnx)
  scale=$(echo "$name" | sed -n 's/.*-x\([0-9]\)\(-.*\)*$/\1/p')
  # LR photos: the shipped ×scale crops, and two 160×120 windows of the demo
  # photo; RD (calibration): the demo photo's other windows and the crops.
  /usr/bin/python3 - "$root/tests/data/images" "$scale" "$tmp/$name" <<'PY'
import glob, os, sys
import numpy as np
from PIL import Image
src, s, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
def save(img, tag, kind):
    a = np.asarray(img.convert("RGB")).transpose(2, 0, 1).copy()
    a.tofile(os.path.join(out, "%s.u8" % tag))
    with open(os.path.join(out, kind), "a") as f:
        f.write("%s %d %d\n" % (os.path.join(out, "%s.u8" % tag), a.shape[2], a.shape[1]))
for p in sorted(glob.glob(os.path.join(src, "*-x%d.png" % s))):
    im = Image.open(p)
    save(im, os.path.basename(p)[:-4], "test")
    save(im, "rd-" + os.path.basename(p)[:-4], "rd")
demo = Image.open(os.path.join(src, "demo-hr.png"))
for i, (x, y) in enumerate([(40, 30), (600, 380), (300, 200), (700, 60)]):
    save(demo.crop((x, y, x + 160, y + 120)), "demo-%d" % i, "test" if i < 2 else "rd")
PY
  rd=$(awk '{printf "%s%s:%s:%s", (NR > 1 ? "," : ""), $1, $2, $3}' "$tmp/$name/rd")
  if [ -n "$calib" ]; then
    "$build/tools/c/cfqp-qdq" export --model "$model" --out "$tmp/$name/qdq.onnx" --calib "$calib" \
      --precision "$precision"
  elif [ "$precision" = int8 ]; then
    "$build/tools/c/cfqp-qdq" export --model "$model" --out "$tmp/$name/qdq.onnx" --rd "$rd"
  else
    echo "$name: PRECISION=$precision needs MODEL.onnx:CALIB.json" >&2
    exit 2
  fi
  items=""
  while read -r path w h; do
    if [ "$precision" != int8 ]; then
      # the engine's 16-bit path on the float model with the calibration
      "$build/tools/c/cfqp-qdq" run --model "$model" --calib "$calib" --in "$path" \
        --width "$w" --height "$h" --out "$path.cfqp" --precision "$precision"
      items="$items $path:$w:$h:$path.cfqp"
      continue
    fi
    "$build/tools/c/cfqp-qdq" run --model "$tmp/$name/qdq.onnx" --in "$path" --width "$w" \
      --height "$h" --out "$path.cfqp"
    if [ -n "$calib" ]; then
      "$build/tools/c/cfqp-qdq" run --model "$model" --calib "$calib" --in "$path" \
        --width "$w" --height "$h" --out "$path.direct"
      cmp -s "$path.cfqp" "$path.direct" ||
        { echo "$name: $(basename "$path"): the export runs differently from $calib"; status=1; }
    fi
    items="$items $path:$w:$h:$path.cfqp"
  done < "$tmp/$name/test"
  echo "== $name"
  if [ -n "${ORT_CHECK_KEEP:-}" ]; then
    mkdir -p "$ORT_CHECK_KEEP" && rm -rf "$ORT_CHECK_KEEP/$name" && cp -r "$tmp/$name" "$ORT_CHECK_KEEP/"
    echo "$items" | sed "s#$tmp/#$ORT_CHECK_KEEP/#g" > "$ORT_CHECK_KEEP/$name/items"
  fi
  node "$here/check.js" "$tmp/$name/qdq.onnx" 3 $items || status=1
done
exit $status
