#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what it needs, builds
# the plugin, upscales a real photograph ×3 with cfqpsr's embedded default
# model beside bicubic, then upscales footage made from that photograph to
# 1080p video.
#
#   sudo bash tools/demo/demo.sh
#
# Input: tests/data/images/demo-hr.png, a validation photograph (not trained
# on; see tools/pipeline/fetch_photos.py), the HR original.  Writes into
# $CFQP_BUILD_DIR/demo/:
#   Still: LR = HR downscaled ×3 with videoscale's Catmull-Rom (bicubic) kernel
#     lr.png  sr.png (cfqpsr ×3)  bicubic.png (LR upscaled ×3)  hr.png
#     side-by-side.png (bicubic | cfqpsr | original); prints PSNR against hr.
#   Footage: a slow pan of a 640x360 window across the photo at its native
#     resolution (diagonal, smoothstep), CFQP_DEMO_FRAMES frames (default 120,
#     4 s at 30 fps).  ONE gst-launch pipeline upscales it ×3 to 1920x1080 with
#     cfqpsr and with bicubic and encodes VP8/WebM:
#     pan.webm           the 640x360 input
#     sr.webm            cfqpsr, 1920x1080
#     side-by-side.webm  1920x1080: the same central 956x1080 of bicubic (left)
#                        and cfqpsr (right), 8 px black gap
#     sr-frame.png, side-by-side-frame.png  the frame at 2 s, decoded back
#   It decodes sr.webm back and counts its frames, then times cfqpsr alone on
#   the footage (raw file -> cfqpsr -> fakesink) and prints its fps.
# CFQP_DEMO_MODEL=file.onnx runs that model instead of the embedded one.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

bash tools/ci/install-deps.sh
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

# Footage: a 640x360 window panning across the HR photo (native pixels,
# integer offsets, smoothstep from the top-left to the bottom-right corner)
fw=640 fh=360
frames=${CFQP_DEMO_FRAMES:-120}
if [ "$W" -lt $fw ] || [ "$H" -lt $fh ]; then
  echo "demo: $src is smaller than ${fw}x${fh}" >&2; exit 1
fi
launch filesrc location="$out/hr.png" ! pngdec ! videoconvert ! video/x-raw,format=RGB \
  ! filesink location="$out/hr.rgb"
/usr/bin/python3 - "$out" "$W" "$H" $fw $fh "$frames" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
W, H, w, h, n = map(int, sys.argv[2:7])
hr = np.fromfile(f"{d}/hr.rgb", np.uint8).reshape(H, W, 3)
with open(f"{d}/pan.rgb", "wb") as f:
    for i in range(n):
        t = i / max(n - 1, 1)
        s = t * t * (3 - 2 * t)
        x, y = round(s * (W - w)), round(s * (H - h))
        f.write(np.ascontiguousarray(hr[y:y + h, x:x + w]).tobytes())
PY
rm -f "$out/hr.rgb"
echo "demo: footage: a ${fw}x${fh} window panning across $src, $frames frames at 30 fps"

OW=$((fw * 3)) OH=$((fh * 3))
half=$((OW / 2 - 4)) cut=$((OW / 4 + 2))   # two central crops 956 wide, 8 px gap
footage="filesrc location=$out/pan.rgb ! rawvideoparse format=rgb width=$fw height=$fh framerate=30/1"
vp8="videoconvert ! video/x-raw,format=I420 ! vp8enc deadline=1 cpu-used=16 threads=2 end-usage=vbr target-bitrate=10000000 keyframe-max-dist=60 ! webmmux"
rm -f "$out"/*.webm
t4=$(date +%s.%N)
# shellcheck disable=SC2086  # $footage, $vp8 and $bicubic are pipeline fragments
launch -e $footage ! tee name=t \
  t. ! queue ! $vp8 ! filesink location="$out/pan.webm" \
  t. ! queue ! cfqpsr scale-factor=3 "${model[@]}" ! video/x-raw,width=$OW,height=$OH ! tee name=s \
  s. ! queue max-size-buffers=4 ! $vp8 ! filesink location="$out/sr.webm" \
  s. ! queue max-size-buffers=4 ! videocrop left=$cut right=$cut ! c.sink_1 \
  t. ! queue max-size-buffers=$((frames + 1)) max-size-bytes=0 max-size-time=0 \
  ! $bicubic ! video/x-raw,width=$OW,height=$OH ! videocrop left=$cut right=$cut ! c.sink_0 \
  compositor name=c background=black sink_0::xpos=0 sink_1::xpos=$((OW - half)) \
  ! video/x-raw,width=$OW,height=$OH ! $vp8 ! filesink location="$out/side-by-side.webm"
t5=$(date +%s.%N)

# Check the videos: decode them back, count sr.webm's frames, keep the frame
# at 2 s of each (videorate to one frame every 2 s: frames at 0 s, 2 s, ...)
rm -f "$out"/.frame-*.png
got=$(gst-launch-1.0 -v filesrc location="$out/sr.webm" ! matroskademux ! vp8dec ! tee name=d \
  d. ! queue ! fakesink name=count silent=false sync=false \
  d. ! queue ! videorate drop-only=true ! video/x-raw,framerate=1/2 ! videoconvert ! video/x-raw,format=RGB ! pngenc \
  ! multifilesink location="$out/.frame-sr-%d.png" \
  filesrc location="$out/side-by-side.webm" ! matroskademux ! vp8dec \
  ! videorate drop-only=true ! video/x-raw,framerate=1/2 ! videoconvert ! video/x-raw,format=RGB ! pngenc \
  ! multifilesink location="$out/.frame-sbs-%d.png" \
  | grep -c 'count: last-message = chain' || true)
f=1; [ -f "$out/.frame-sr-1.png" ] || f=0
mv "$out/.frame-sr-$f.png" "$out/sr-frame.png"
mv "$out/.frame-sbs-$f.png" "$out/side-by-side-frame.png"
rm -f "$out"/.frame-*.png

# cfqpsr alone on the footage: all frames raw file -> cfqpsr -> fakesink, and
# the same pipeline on 1 frame, to take start-up (plugin and model load,
# first-frame set-up) out of the rate
t2=$(date +%s.%N)
# -m: cfqpsr says which calibration it runs (shipped, or self-calibrated
# from the first frames while FP32 runs) and from which frame
# shellcheck disable=SC2086
gst-launch-1.0 -m $footage ! cfqpsr scale-factor=3 "${model[@]}" ! fakesink sync=false \
  | sed -n 's/.*cfqpsr-calibration, source=(string)\([^,]*\),.*precision=(string)\([a-z0-9]*\), frame=(guint64)\([0-9]*\).*/demo: cfqpsr runs \2 with calibration \1 from frame \3/p'
t3=$(date +%s.%N)
launch filesrc location="$out/pan.rgb" num-buffers=1 blocksize=$((fw * fh * 3)) \
  ! rawvideoparse format=rgb width=$fw height=$fh framerate=30/1 \
  ! cfqpsr scale-factor=3 "${model[@]}" ! fakesink sync=false
t6=$(date +%s.%N)
rm -f "$out/pan.rgb"
/usr/bin/python3 - "$t0" "$t1" "$t2" "$t3" "$t6" "$t4" "$t5" "$frames" "$got" <<'PY'
import sys
t0, t1, t2, t3, t6, t4, t5 = map(float, sys.argv[1:8])
n, got = int(sys.argv[8]), int(sys.argv[9])
one, run = t6 - t3, t3 - t2
print(f"demo: one still image, decode+upscale+encode: {t1 - t0:.2f} s")
print(f"demo: video pipeline (cfqpsr, bicubic, 3 VP8 encodes in one gst-launch): "
      f"{n} frames in {t5 - t4:.2f} s = {n / (t5 - t4):.2f} fps; sr.webm decodes back to {got} frames")
print(f"demo: cfqpsr alone x3 640x360 -> 1920x1080 on the footage (raw file -> cfqpsr -> fakesink): "
      f"{n} frames in {run:.2f} s = {n / run:.2f} fps with start-up; "
      + (f"{(n - 1) / (run - one):.2f} fps without (a 1-frame run took {one:.2f} s)"
         if n > 1 and run > one else "(too few frames to take start-up out)"))
PY
for f in sr.png side-by-side.png pan.webm sr.webm side-by-side.webm sr-frame.png side-by-side-frame.png; do
  printf 'demo: wrote %s/%-22s %s\n' "$out" "$f" "$(du -h "$out/$f" | cut -f1)"
done
