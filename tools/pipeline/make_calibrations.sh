#!/usr/bin/env bash
# Shipped calibrations, made the way a user makes one: cfqpcalib over a folder
# of training photographs (multifilesrc ! pngdec ! videoconvert).
#
#   bash tools/pipeline/make_calibrations.sh [BUILD_DIR] [MODEL.onnx ...]
#
# For every model (default: every models/*.onnx but the default-x* copies)
# writes models/<name>.calib.json with cfqpcalib's defaults (MSE observer,
# full CFQP augmentation; clip-free, except for the *-clipped twins), from
# the LR training photos of its scale (tools/pipeline/fetch_photos.py pairs cache,
# photo-split.json "train").  A default-xN.onnx that is a copy of a model
# gets that model's calibration as default-xN.calib.json (same content hash,
# so it matches).  update-interval=0: only the calibration at EOS, of all
# the photos, is computed (the one cfqpcalib publishes last anyway).
#
# WEIGHT_ROUNDING=nearest|gptq, RESIDUAL_GRID=calibrated|pixel and
# ACTIVATION_GRIDS=tensor|channel (default: cfqpcalib's) set the element's
# weight-rounding, residual-grid and activation-grids; OUT=DIR writes the calibrations there instead of models/
# (an ablation that leaves the shipped ones alone); PHOTOS=DIR calibrates from the PNGs of DIR,
# in name order, instead of the training photos (an RD of another make, e.g.
# tools/research/extremes_rd.py).  CLIP_FREE=true|false
# overrides the clip-free mode of every model (CLIP_FREE=true on a *-clipped
# twin: its weights through the clip-free pass, the equal-weights pair of
# tools/bench/eval_int8_gap.py --twin-pass).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
out=${OUT:-models}
props=()
[ -n "${WEIGHT_ROUNDING:-}" ] && props=(weight-rounding="$WEIGHT_ROUNDING")
[ -n "${RESIDUAL_GRID:-}" ] && props+=(residual-grid="$RESIDUAL_GRID")
[ -n "${ACTIVATION_GRIDS:-}" ] && props+=(activation-grids="$ACTIVATION_GRIDS")
mkdir -p "$out"
export GST_PLUGIN_PATH="$PWD/$build/gst"

models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  for m in models/*.onnx; do
    case $(basename "$m") in default-*) ;; *) models+=("$m") ;; esac
  done
fi

/usr/bin/python3 tools/pipeline/fetch_photos.py > /dev/null
for m in "${models[@]}"; do
  name=$(basename "$m" .onnx)
  s=${name##*-x}; s=${s%%[!0-9.]*}  # 2, 3, 4 or 1.5
  dir=$(mktemp -d)
  i=0
  if [ -n "${PHOTOS:-}" ]; then
    srcs=("$PHOTOS"/*.png)
  else
    srcs=()
    for photo in $(/usr/bin/python3 -c 'import json; print(" ".join(json.load(open("tools/pipeline/photo-split.json"))["train"]))'); do
      srcs+=("$PWD/tools/.cache/pairs/x$s/$photo.png")
    done
  fi
  for src in "${srcs[@]}"; do
    ln -s "$(realpath "$src")" "$(printf '%s/%04d.png' "$dir" $i)"
    i=$((i + 1))
  done
  # a clipped twin is calibrated in its published form, clips kept: it is
  # the baseline that clip-free nets are compared with (docs/results.md);
  # the clip-free pass on it is an ablation row of tools/bench/ablation.py
  clip_free=true
  case $name in *-clipped) clip_free=false ;; esac
  clip_free=${CLIP_FREE:-$clip_free}
  what="training photos"
  [ -n "${PHOTOS:-}" ] && what="images of $PHOTOS"
  echo "calibrating $name (x$s, clip-free=$clip_free) on $i $what"
  gst-launch-1.0 -q multifilesrc location="$dir/%04d.png" index=0 stop-index=$((i - 1)) \
      caps=image/png,framerate=1/1 ! pngdec ! videoconvert ! video/x-raw,format=RGB \
      ! cfqpcalib model-file="$m" clip-free=$clip_free update-interval=0 "${props[@]}" \
        location="$out/$name.calib.json"
  rm -rf "$dir"
  for d in models/default-x$s.onnx; do
    if [ -f "$d" ] && cmp -s "$d" "$m"; then
      cp "$out/$name.calib.json" "$out/default-x$s.calib.json"
    fi
  done
done
