#!/usr/bin/python3
"""Representative datasets that add saturated highlights and deep shadows to
the training photos, for the calibration ablation of issue 20 (docs/cfqp.md,
"Augmentations aimed at the extremes").

CFQP's own `range` augmentation stretches a whole frame so that the FP32
output spans [0, 1]. The issue asks for two finer forms, and this writes an
RD for each: every LR training photo of the scale, then one added image per
photo.

  extremes  a tone curve that leaves the mid-tones alone and pushes only
            the ends: above the photo's 80th percentile (of the channel
            maximum) values are stretched so that its 97th percentile
            reaches 1, below the 20th (of the channel minimum) compressed so
            that its 3rd reaches 0. So about 3 % of the pixels saturate at
            each end and the rest is the photo as it was.
  tiles     range targeting per patch: the photo cut into 4 x 4 tiles, each
            stretched so that its own 1st and 99th percentiles reach 0 and
            1 (gain at most 4), so every region gets its own highlights and
            shadows, not only the frame's brightest.

Like the calibrator, it needs no ground truth: only the input pixels. The
calibrator then augments every image, these included, as always.

  /usr/bin/python3 tools/research/extremes_rd.py --scale 2 --variant tiles --out DIR
  PHOTOS=DIR OUT=CALIBS bash tools/pipeline/make_calibrations.sh build models/xlsr-x2.onnx
"""
import argparse
import os
import shutil
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pipeline"))
import fetch_photos  # noqa: E402


def extremes(x):
    hi_ref, lo_ref = x.max(axis=2), x.min(axis=2)
    t_hi, q_hi = np.percentile(hi_ref, [80, 97])
    t_lo, q_lo = np.percentile(lo_ref, [20, 3])
    y = x.copy()
    if q_hi > t_hi and q_hi < 1.0:
        up = x > t_hi
        y[up] = t_hi + (x[up] - t_hi) * (1.0 - t_hi) / (q_hi - t_hi)
    if t_lo > q_lo and q_lo > 0.0:
        down = x < t_lo
        y[down] = t_lo - (t_lo - x[down]) * t_lo / (t_lo - q_lo)
    return y


def tiles(x, n=4, max_gain=4.0):
    y = np.empty_like(x)
    h, w = x.shape[:2]
    for i in range(n):
        for j in range(n):
            sl = (slice(i * h // n, (i + 1) * h // n), slice(j * w // n, (j + 1) * w // n))
            t = x[sl]
            lo, hi = np.percentile(t, [1, 99])
            gain = min(max_gain, 1.0 / max(hi - lo, 1e-6))
            # centred on the tile's range, so a flat tile is not pushed to one end
            y[sl] = (t - (lo + hi) / 2) * gain + 0.5
    return y


VARIANTS = {"extremes": extremes, "tiles": tiles}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", required=True, choices=("2", "3", "4"))
    ap.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    ap.add_argument("--out", required=True, help="folder for NNNN.png (emptied first)")
    args = ap.parse_args()
    split = fetch_photos.prepare(sets=("train",), kinds=("x" + args.scale,))
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):
        if f.endswith(".png"):
            os.remove(os.path.join(args.out, f))
    # the photos first, then the added images: an added image right after
    # its photo could differ from it too little for the calibrator's scene
    # test (a 16x16 thumbnail within 0.02 on average) and be skipped
    n = len(split["train"])
    for i, name in enumerate(split["train"]):
        src = fetch_photos.pair_path(name, "x" + args.scale)
        shutil.copyfile(src, os.path.join(args.out, "%04d.png" % i))
        x = np.asarray(Image.open(src).convert("RGB"))
        y = np.clip(VARIANTS[args.variant](x.astype(np.float64) / 255.0), 0.0, 1.0)
        yb = np.round(y * 255.0).astype(np.uint8)
        Image.fromarray(yb).save(os.path.join(args.out, "%04d.png" % (n + i)))
        sat = float(np.mean((yb == 255) | (yb == 0)))
        print("%s: %.1f %% of values changed, %.1f %% at 0 or 255" % (name, 100 * np.mean(yb != x), 100 * sat))
    print("wrote %d images to %s" % (2 * n, args.out))


if __name__ == "__main__":
    main()
