#!/usr/bin/python3
"""Fetch the real photographs used to train and validate CFQP's SR models.

Source: two Debian packages (no other download), fetched with
``apt-get download plasma-workspace-wallpapers mate-backgrounds`` and unpacked
with ``dpkg -x`` into ``tools/.cache/`` (git-ignored).

Only *photographs* are used (the list below was chosen by looking at every
wallpaper of both packages): the illustrations, renders and abstract art
(Altai, Autumn, Canopee, Cascade, Cluster, Elarum, Flow, FlyingKonqui,
Honeywave, IceCold, Kay, Kokkini, MilkyWay, Opal, PastelHills, Patak,
SafeLanding, Shell, Volna, all of mate/abstract and mate/desktop) are left out.

The split (by photo) is the committed file ``tools/pipeline/photo-split.json``; both
sets hold textured scenes (foliage, grass, water, gravel, wood, architecture)
and a few smooth ones (bokeh, sky).

HR/LR pairs (deterministic, cached under ``tools/.cache/pairs/``):

* HR = the largest original, downscaled by 2 with PIL ``Image.BICUBIC``
  (PIL's resize antialiases on downscale: the cubic kernel, a=-0.5, is
  stretched by the scale factor, like MATLAB's ``imresize``), which makes the
  JPEG artefacts of the originals vanish; then centre-cropped so that both
  sides are multiples of 24 (a multiple of 12, and the LR sizes for x2/x3/x4
  are then even, which space-to-depth models such as Bicubic++ need).
* LR = HR downscaled by s (2, 3, 4) with PIL ``Image.BICUBIC`` (antialiased,
  as above), rounded to 8-bit, stored as PNG.

Test images (``--test-images``): writes ``tests/data/images/``: 120x120 HR
crops of validation photos (``<name>-hr.png``; 120 is a multiple of 24, so
the LR sides are even) with their LR versions ``<name>-x2/-x3/-x4.png`` made
as above, and ``demo-hr.png``, a 960x540 crop of a validation photo's HR
(its LR is to be made by the user of it, e.g. 480x270 for x2, 320x180 for x3).

Usage: /usr/bin/python3 tools/pipeline/fetch_photos.py [--test-images]
"""
import hashlib
import json
import os
import subprocess
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
CACHE = os.path.join(TOOLS, ".cache")
DEBS = os.path.join(CACHE, "debs")
ROOT = os.path.join(CACHE, "root")
PAIRS = os.path.join(CACHE, "pairs")
SPLIT = os.path.join(HERE, "photo-split.json")
PACKAGES = ["plasma-workspace-wallpapers", "mate-backgrounds"]
SCALES = (2, 3, 4)
HR_DOWN = 2      # original -> HR downscale factor
HR_MULTIPLE = 24

_PW = "usr/share/wallpapers/%s/contents/images/2560x1600.jpg"
_MN = "usr/share/backgrounds/mate/nature/%s.jpg"

# name -> (path inside the unpacked packages, what it shows)
PHOTOS = {
    "BytheWater":   (_PW % "BytheWater", "wooden pier planks, lake, bokeh"),
    "ColdRipple":   (_PW % "ColdRipple", "wooden jetty in fog, water"),
    "ColorfulCups": (_PW % "ColorfulCups", "stacked plastic cups, edges"),
    "DarkestHour":  (_PW % "DarkestHour", "dark misty lake, smooth"),
    "EveningGlow":  (_PW % "EveningGlow", "rowing boats, gravel, water, clouds"),
    "FallenLeaf":   (_PW % "FallenLeaf", "autumn leaves, bokeh"),
    "Grey":         (_PW % "Grey", "architecture facade, stripes"),
    "Kite":         (_PW % "Kite", "sky with clouds, smooth"),
    "OneStandsOut": (_PW % "OneStandsOut", "dense fir seedlings, foliage"),
    "Path":         (_PW % "Path", "forest path, tree trunks, ferns"),
    "summer_1am":   (_PW % "summer_1am", "lake at dusk, reeds, smooth"),
    "Aqua":         (_MN % "Aqua", "water drop splash"),
    "Blinds":       (_MN % "Blinds", "leaf veins, macro"),
    "Dune":         (_MN % "Dune", "dune grass, sea"),
    "FreshFlower":  (_MN % "FreshFlower", "orange flower petals, macro"),
    "Garden":       (_MN % "Garden", "marigold, bokeh"),
    "GreenMeadow":  (_MN % "GreenMeadow", "dense grass blades"),
    "LadyBird":     (_MN % "LadyBird", "ladybird, forget-me-nots, grass"),
    "RainDrops":    (_MN % "RainDrops", "leaves with rain drops, grass"),
    "Storm":        (_MN % "Storm", "storm clouds over a road"),
    "TwoWings":     (_MN % "TwoWings", "dandelion seeds, bokeh"),
    "Wood":         (_MN % "Wood", "painted wood grain"),
    "YellowFlower": (_MN % "YellowFlower", "yellow flower petals, pollen"),
}


def run(cmd, cwd=None):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True)


def fetch():
    """apt-get download + dpkg -x the two packages (skipped when cached)."""
    os.makedirs(DEBS, exist_ok=True)
    os.makedirs(ROOT, exist_ok=True)
    have = os.listdir(DEBS)
    missing = [p for p in PACKAGES if not any(f.startswith(p + "_") for f in have)]
    if missing:
        run(["apt-get", "download"] + missing, cwd=DEBS)
    stamp = os.path.join(ROOT, ".unpacked")
    if not os.path.exists(stamp):
        for f in sorted(os.listdir(DEBS)):
            if f.endswith(".deb"):
                run(["dpkg", "-x", os.path.join(DEBS, f), ROOT])
        open(stamp, "w").close()


def load_split():
    with open(SPLIT) as f:
        return json.load(f)


def _crop_multiple(im, m):
    w, h = im.size
    W, H = w - w % m, h - h % m
    x0, y0 = (w - W) // 2, (h - H) // 2
    return im.crop((x0, y0, x0 + W, y0 + H))


def make_hr(name):
    src = os.path.join(ROOT, PHOTOS[name][0])
    im = Image.open(src).convert("RGB")
    w, h = im.size
    im = im.resize((round(w / HR_DOWN), round(h / HR_DOWN)), Image.BICUBIC)
    return _crop_multiple(im, HR_MULTIPLE)


def make_lr(hr, s):
    w, h = hr.size
    assert w % s == 0 and h % s == 0
    return hr.resize((w // s, h // s), Image.BICUBIC)


def pair_path(name, kind):
    """kind: 'hr' or 'x2'/'x3'/'x4'."""
    return os.path.join(PAIRS, kind, name + ".png")


def prepare():
    """Make sure every HR/LR pair exists in the cache; returns the split."""
    split = load_split()
    names = split["train"] + split["val"]
    todo = [n for n in names
            if not all(os.path.exists(pair_path(n, k))
                       for k in ["hr"] + ["x%d" % s for s in SCALES])]
    if todo:
        fetch()
    for n in todo:
        hr = make_hr(n)
        for kind in ["hr"] + ["x%d" % s for s in SCALES]:
            os.makedirs(os.path.join(PAIRS, kind), exist_ok=True)
        tmp = pair_path(n, "hr") + ".tmp.png"
        hr.save(tmp)
        for s in SCALES:
            t2 = pair_path(n, "x%d" % s) + ".tmp.png"
            make_lr(hr, s).save(t2)
            os.replace(t2, pair_path(n, "x%d" % s))
        os.replace(tmp, pair_path(n, "hr"))
        print("pair", n, hr.size, file=sys.stderr)
    return split


# (validation photo, left, top) of the 120x120 test crops, picked by eye
TEST_CROPS = {
    "boats": ("EveningGlow", 640, 420),
    "forest": ("Path", 240, 600),
    "grass": ("Dune", 300, 330),
}
DEMO = ("EveningGlow", 156, 252, 960, 540)
TESTS_DIR = os.path.join(os.path.dirname(TOOLS), "tests", "data", "images")


def write_test_images():
    split = prepare()
    os.makedirs(TESTS_DIR, exist_ok=True)
    for name, (photo, x, y) in sorted(TEST_CROPS.items()):
        assert photo in split["val"]
        hr = Image.open(pair_path(photo, "hr")).convert("RGB").crop((x, y, x + 120, y + 120))
        hr.save(os.path.join(TESTS_DIR, name + "-hr.png"), optimize=True)
        for s in SCALES:
            make_lr(hr, s).save(os.path.join(TESTS_DIR, "%s-x%d.png" % (name, s)), optimize=True)
    photo, x, y, w, h = DEMO
    assert photo in split["val"]
    hr = Image.open(pair_path(photo, "hr")).convert("RGB").crop((x, y, x + w, y + h))
    hr.save(os.path.join(TESTS_DIR, "demo-hr.png"), optimize=True)
    for f in sorted(os.listdir(TESTS_DIR)):
        print("%-20s %7d bytes" % (f, os.path.getsize(os.path.join(TESTS_DIR, f))))


def main():
    if "--test-images" in sys.argv[1:]:
        write_test_images()
        return
    split = prepare()
    for part in ("train", "val"):
        print(part, len(split[part]))
        for n in split[part]:
            p = pair_path(n, "hr")
            digest = hashlib.sha256(open(p, "rb").read()).hexdigest()[:12]
            print("  %-13s %s %s  (%s)" % (n, Image.open(p).size, digest,
                                          PHOTOS[n][1]))


if __name__ == "__main__":
    main()
