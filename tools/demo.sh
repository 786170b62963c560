#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what it needs, builds
# the plugin and upscales a real photograph ×3 with cfqpsr's embedded default
# model, beside bicubic.
#
#   sudo bash tools/demo.sh
#
# Input: tests/data/images/demo-hr.png, a validation photograph (not trained
# on; see tools/fetch_photos.py), the HR original.  LR = HR downscaled ×3 with
# videoscale's Catmull-Rom (bicubic) kernel.  Writes into $CFQP_BUILD_DIR/demo/:
#   lr.png  sr.png (cfqpsr ×3)  bicubic.png (LR upscaled ×3)  hr.png
#   side-by-side.png  (bicubic | cfqpsr | original)
# and prints PSNR against the original and cfqpsr's frame rate on the speed
# work unit (x3 640x360 -> 1920x1080).
# CFQP_DEMO_MODEL=file.onnx runs that model instead of the embedded one.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash tools/install-deps.sh
build=${CFQP_BUILD_DIR:-build}
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build"
fi
ninja -C "$build"

export GST_PLUGIN_PATH="$top/$build/gst"
out="$build/demo"
mkdir -p "$out"
launch() { gst-launch-1.0 -q "$@"; }

src=tests/data/images/demo-hr.png
# HR size from the PNG header, cropped to multiples of the scale
read -r W0 H0 < <(/usr/bin/python3 -c 'import struct,sys; print(*struct.unpack(">II", open(sys.argv[1],"rb").read(24)[16:24]))' "$src")
W=$((W0 - W0 % 3)) H=$((H0 - H0 % 3))
w=$((W / 3)) h=$((H / 3))
echo "demo: input $src, HR ${W}x${H}, LR ${w}x${h}"

model=()
if [ -n "${CFQP_DEMO_MODEL:-}" ]; then
  model=(model-file="$CFQP_DEMO_MODEL")
elif [ ! -f models/default-x3.onnx ]; then
  echo "demo: models/default-x3.onnx is missing, so the plugin embeds no x3 model;" \
       "set CFQP_DEMO_MODEL=some-x3.onnx" >&2
  exit 1
fi
bicubic="videoscale method=catrom"

launch filesrc location="$src" ! pngdec ! videoconvert ! video/x-raw,format=RGB \
  ! videocrop right=$((W0 - W)) bottom=$((H0 - H)) \
  ! pngenc ! filesink location="$out/hr.png"
launch filesrc location="$out/hr.png" ! pngdec ! $bicubic ! video/x-raw,width=$w,height=$h \
  ! pngenc ! filesink location="$out/lr.png"

t0=$(date +%s.%N)
launch filesrc location="$out/lr.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB \
  ! cfqpsr scale-factor=3 "${model[@]}" ! videoconvert ! pngenc ! filesink location="$out/sr.png"
t1=$(date +%s.%N)
launch filesrc location="$out/lr.png" ! pngdec ! $bicubic ! video/x-raw,width=$W,height=$H \
  ! pngenc ! filesink location="$out/bicubic.png"

launch compositor name=c sink_1::xpos=$W sink_2::xpos=$((2 * W)) ! video/x-raw,width=$((3 * W)),height=$H \
  ! videoconvert ! pngenc ! filesink location="$out/side-by-side.png" \
  filesrc location="$out/bicubic.png" ! pngdec ! c.sink_0 \
  filesrc location="$out/sr.png" ! pngdec ! c.sink_1 \
  filesrc location="$out/hr.png" ! pngdec ! c.sink_2

# PSNR (RGB, and BT.601 Y with a 3-pixel border shave) against the original
for f in hr sr bicubic; do
  launch filesrc location="$out/$f.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB \
    ! filesink location="$out/$f.rgb"
done
/usr/bin/python3 - "$out" "$W" "$H" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
def load(n):
    return np.fromfile(f"{d}/{n}.rgb", np.uint8).reshape(int(sys.argv[3]), int(sys.argv[2]), 3).astype(np.float64)
def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2))
def y(a):
    return 16 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255
hr = load("hr")
for n in ("bicubic", "sr"):
    im = load(n)
    print(f"demo: PSNR vs original  {n:8s} RGB {psnr(im, hr):6.2f} dB   "
          f"Y {psnr(y(im)[3:-3, 3:-3], y(hr)[3:-3, 3:-3]):6.2f} dB")
PY
rm -f "$out"/*.rgb

# Frame rate on the speed work unit, x3 640x360 -> 1920x1080 RGB: the HR
# photo scaled to 640x360, repeated
frames=${CFQP_DEMO_FRAMES:-30}
launch filesrc location="$out/hr.png" ! pngdec ! $bicubic ! video/x-raw,width=640,height=360 \
  ! pngenc ! filesink location="$out/lr-640x360.png"
t2=$(date +%s.%N)
# -m: cfqpsr says which calibration it runs (shipped, or self-calibrated
# from the first frames while FP32 runs) and from which frame
gst-launch-1.0 -m filesrc location="$out/lr-640x360.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB \
  ! imagefreeze num-buffers="$frames" ! video/x-raw,framerate=30/1 \
  ! cfqpsr scale-factor=3 "${model[@]}" ! fakesink sync=false \
  | sed -n 's/.*cfqpsr-calibration, source=(string)\([^,]*\),.*precision=(string)\([a-z0-9]*\), frame=(guint64)\([0-9]*\).*/demo: cfqpsr runs \2 with calibration \1 from frame \3/p'
t3=$(date +%s.%N)
/usr/bin/python3 - "$t0" "$t1" "$t2" "$t3" "$frames" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5]); n = int(sys.argv[5])
print(f"demo: one still image, decode+upscale+encode: {t1 - t0:.2f} s")
print(f"demo: cfqpsr x3 640x360 -> 1920x1080: {n} frames in {t3 - t2:.2f} s = {n / (t3 - t2):.2f} fps")
PY
echo "demo: wrote $out/sr.png (${W}x${H}) and $out/side-by-side.png (bicubic | cfqpsr | original)"
