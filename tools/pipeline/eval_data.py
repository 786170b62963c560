#!/usr/bin/python3
"""Evaluation and calibration sets for tools/c/cfqp-eval, as binary PPM files.

    /usr/bin/python3 tools/pipeline/eval_data.py --scale 3   # → tools/.cache/eval/x3/

Writes, for one scale:
  val.txt        "LR.ppm HR.ppm" lines: the textured validation crops
                 (HR 360×360 windows with the most detail, two per
                 validation photo), LR = PIL bicubic (antialiased) ÷ scale
  val-photos.txt the whole validation photos (HR as tools/pipeline/fetch_photos.py
                 makes it, up to 1272×792; LR its bicubic ÷ scale): the
                 issue's "validation photos", smooth parts included
  val-sat.txt    the saturated variant: HR × 1.6 clipped to [0,1] (an
                 overexposed camera frame), LR made from that
  val-photos-sat.txt  the whole validation photos, saturated the same way
  rd-matched.txt calibration crops (LR 64×64) from the training photos
  rd-dim.txt     the same crops at exposure × 0.45: a camera in a dark room
                 before the lights go on (the mismatched RD)
Deterministic; uses the pairs cache of tools/pipeline/fetch_photos.py.
"""
import argparse
import os
import random
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch_photos  # noqa: E402

HR_CROP = 360
RD_CROP = 64
SAT_GAIN = 1.6
DIM_GAIN = 0.45


def save_ppm(img, path):
    img.save(path, format="PPM")


def detail_windows(hr, n, size):
    """The n non-overlapping size×size windows (on a grid) with the most
    gradient energy: textured content, since smooth images hide differences."""
    a = np.asarray(hr.convert("L"), dtype=np.float32)
    g = np.abs(np.diff(a, axis=0))[:, :-1] + np.abs(np.diff(a, axis=1))[:-1, :]
    h, w = a.shape
    step = size // 2
    cands = []
    for y in range(0, h - size + 1, step):
        for x in range(0, w - size + 1, step):
            cands.append((float(g[y:y + size - 1, x:x + size - 1].mean()), x, y))
    cands.sort(reverse=True)
    chosen = []
    for _, x, y in cands:
        if all(abs(x - cx) >= size or abs(y - cy) >= size for cx, cy in chosen):
            chosen.append((x, y))
        if len(chosen) == n:
            break
    return chosen


def gain(img, k):
    a = np.asarray(img, dtype=np.float32) * k
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--rd-crops", type=int, default=16)
    args = ap.parse_args()
    s = args.scale
    split = fetch_photos.prepare()
    out = os.path.join(fetch_photos.TOOLS, ".cache", "eval", "x%d" % s)
    os.makedirs(out, exist_ok=True)

    val, val_sat, photos, photos_sat = [], [], [], []
    for name in split["val"]:
        hr = Image.open(fetch_photos.pair_path(name, "hr")).convert("RGB")
        for tag, img, lst in (("", hr, photos), ("-sat", gain(hr, SAT_GAIN), photos_sat)):
            base = os.path.join(out, "%s-photo%s" % (name, tag))
            save_ppm(img, base + "-hr.ppm")
            save_ppm(fetch_photos.make_lr(img, s), base + "-lr.ppm")
            lst.append("%s-lr.ppm %s-hr.ppm" % (base, base))
        for k, (x, y) in enumerate(detail_windows(hr, 2, HR_CROP)):
            crop = hr.crop((x, y, x + HR_CROP, y + HR_CROP))
            for tag, img, lst in (("", crop, val), ("-sat", gain(crop, SAT_GAIN), val_sat)):
                base = os.path.join(out, "%s%d%s" % (name, k, tag))
                save_ppm(img, base + "-hr.ppm")
                save_ppm(fetch_photos.make_lr(img, s), base + "-lr.ppm")
                lst.append("%s-lr.ppm %s-hr.ppm" % (base, base))

    rng = random.Random(1234 + s)
    matched, dim = [], []
    names = split["train"]
    for i in range(args.rd_crops):
        name = names[i % len(names)]
        lr = Image.open(fetch_photos.pair_path(name, "x%d" % s)).convert("RGB")
        x = rng.randrange(0, lr.width - RD_CROP + 1)
        y = rng.randrange(0, lr.height - RD_CROP + 1)
        crop = lr.crop((x, y, x + RD_CROP, y + RD_CROP))
        for img, lst, tag in ((crop, matched, ""), (gain(crop, DIM_GAIN), dim, "-dim")):
            p = os.path.join(out, "rd%02d%s.ppm" % (i, tag))
            save_ppm(img, p)
            lst.append(p)

    for fname, lines in (("val.txt", val), ("val-photos.txt", photos),
                         ("val-photos-sat.txt", photos_sat), ("val-sat.txt", val_sat),
                         ("rd-matched.txt", matched), ("rd-dim.txt", dim)):
        with open(os.path.join(out, fname), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(out)


if __name__ == "__main__":
    main()
