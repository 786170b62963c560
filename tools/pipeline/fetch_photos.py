#!/usr/bin/python3
"""Fetch the real photographs used to train and validate CFQP's SR models.

Source: Debian packages only (no other download), fetched with
``apt-get download`` (the list is PACKAGES below) and unpacked with
``dpkg -x`` into ``tools/.cache/`` (git-ignored).  The training photos come
from plasma-workspace-wallpapers and mate-backgrounds; the validation set
adds the photographs of lomiri-wallpapers-16.04/-20.04 (CC-BY-4.0 /
CC-BY-SA-4.0, per their copyright files) and the colour photographs and
CC0 textures that python3-skimage ships as sample data (astronaut: NASA,
public domain; rocket: SpaceX, public domain; chelsea, coffee, brick,
grass, gravel: CC0, per skimage/data/_fetchers.py).

Only *photographs* are used (the list below was chosen by looking at every
wallpaper of both packages): the illustrations, renders and abstract art
(Altai, Autumn, Canopee, Cascade, Cluster, Elarum, Flow, FlyingKonqui,
Honeywave, IceCold, Kay, Kokkini, MilkyWay, Opal, PastelHills, Patak,
SafeLanding, Shell, Volna, all of mate/abstract and mate/desktop) are left out,
and so are the renders and edited composites of the other packages
(analogpattern, Infinite-Sea, Fossa, umang, Painting-Colors, all of
ukui-wallpapers and gnome-backgrounds 43, which hold no photographs).

The split (by photo) is the committed file ``tools/pipeline/photo-split.json``; both
sets hold textured scenes (foliage, grass, water, gravel, wood, architecture)
and a few smooth ones (bokeh, sky).

HR/LR pairs (deterministic, cached under ``tools/.cache/pairs/``):

* HR = the largest original, downscaled by 2 (the validation photos of the
  lomiri packages: by max(2, long side / 1280), so that they come out at
  about the size of the others; skimage's small lossless PNGs: not at all)
  with PIL ``Image.BICUBIC``
  (PIL's resize antialiases on downscale: the cubic kernel, a=-0.5, is
  stretched by the scale factor, like MATLAB's ``imresize``), which makes the
  JPEG artefacts of the originals vanish; then centre-cropped so that both
  sides are multiples of 24 (a multiple of 12, and the LR sizes for x2/x3/x4
  are then even, which space-to-depth models such as Bicubic++ need).
* LR = HR downscaled by s (2, 3, 4) with PIL ``Image.BICUBIC`` (antialiased,
  as above), rounded to 8-bit, stored as PNG.  The ×3/2 pair (kind ``x1.5``,
  for the ×3/2 net) is made the same way: HR sides are multiples of 24, so
  LR = HR·2/3 is whole (and even).

Test images (``--test-images``): writes ``tests/data/images/``: 120x120 HR
crops of validation photos (``<name>-hr.png``; 120 is a multiple of 24, so
the LR sides are even) with their LR versions ``<name>-x2/-x3/-x4/-x1.5.png``
made as above, and ``demo-hr.png``, a 960x540 crop of a validation photo's HR
(its LR is to be made by the user of it, e.g. 480x270 for x2, 320x180 for x3).

Usage: /usr/bin/python3 tools/pipeline/fetch_photos.py [--test-images]
"""
import hashlib
import json
import os
import subprocess
import sys
from fractions import Fraction

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
CACHE = os.path.join(TOOLS, ".cache")
DEBS = os.path.join(CACHE, "debs")
ROOT = os.path.join(CACHE, "root")
# CFQP_PAIRS: another folder of pairs, e.g. the training photos carried to a
# GPU machine that has no package registry (tools/pipeline/gpu_train.py)
PAIRS = os.environ.get("CFQP_PAIRS") or os.path.join(CACHE, "pairs")
SPLIT = os.path.join(HERE, "photo-split.json")
PACKAGES = ["plasma-workspace-wallpapers", "mate-backgrounds",
            "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "python3-skimage"]
SCALES = (2, 3, 4)
RATIOS = ("1.5",)  # fractional scales: pairs (x1.5) and test crops (<name>-x1.5.png)
HR_DOWN = 2      # original -> HR downscale factor
HR_MULTIPLE = 24

_PW = "usr/share/wallpapers/%s/contents/images/2560x1600.jpg"
_MN = "usr/share/backgrounds/mate/nature/%s.jpg"
_LO = "usr/share/backgrounds/%s.jpg"
_SK = "usr/lib/python3/dist-packages/skimage/data/%s"
LOMIRI_LONG_SIDE = 1280  # the HR long side the lomiri photos are brought to

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
    # validation only (photographs no model here was trained on)
    "Bridge":       (_LO % "Bridge_by_Sander_Klootwijk", "bridge cables, sand, sky"),
    "Dragonfly":    (_LO % "Dragonfly_by_Bolly", "ivy leaves against the sky"),
    "Fig":          (_LO % "Picture_0B_by_freespace", "fig in a red bowl, concrete"),
    "Brushes":      (_LO % "Picture_1A_by_freespace", "paint brushes, bristles"),
    "Wine":         (_LO % "Wine_by_Jakkub_Mede", "interior, wood, fabric"),
    "Aitzgorri":    (_LO % "aitzgorri_by_Aitzol_Berasategi", "mountains, autumn forest"),
    "Free":         (_LO % "free_by_Peter_Nerlich", "bird under lamps, smooth"),
    "Friends":      (_LO % "friends_by_Aitzol_Berasategi", "dogs at a fence, fur, wood"),
    "Greentock":    (_LO % "greentock_by_Peter_Nerlich", "clock face, smooth"),
    "Life":         (_LO % "life_by_Aitzol_Berasategi", "stream, rocks, foliage"),
    "Picos":        (_LO % "picosdeeuropa_by_Aitzol_Berasategi", "rock peaks, path, snow"),
    "Seeding":      (_LO % "seeding_by_Clements_Engelhardt", "dandelions, backlit grass"),
    "Sunset":       (_LO % "sunset_by_Aitzol_Berasategi", "sun over hills, saturated"),
    "Kleiber":      (_LO % "Kleiber_by_Lukas_Baubkus", "bird on bark, bokeh"),
    "Astronaut":    (_SK % "astronaut.png", "portrait, suit fabric, flag"),
    "Chelsea":      (_SK % "chelsea.png", "cat fur"),
    "Coffee":       (_SK % "coffee.png", "coffee cup, wood"),
    "Rocket":       (_SK % "rocket.jpg", "rocket on its pad, sky"),
    "Brick":        (_SK % "brick.png", "brick wall texture (grey)"),
    "Grass":        (_SK % "grass.png", "grass texture (grey)"),
    "Gravel":       (_SK % "gravel.png", "gravel texture (grey)"),
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
    for f in sorted(os.listdir(DEBS)):
        stamp = os.path.join(ROOT, ".unpacked-" + f)
        if f.endswith(".deb") and not os.path.exists(stamp):
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


def hr_down(name, size):
    """The original -> HR downscale factor of one photo (see the top)."""
    folder = os.path.dirname(PHOTOS[name][0])
    if folder == os.path.dirname(_SK):
        return 1
    if folder == os.path.dirname(_LO):
        return max(HR_DOWN, max(size) / LOMIRI_LONG_SIDE)
    return HR_DOWN


def make_hr(name):
    src = os.path.join(ROOT, PHOTOS[name][0])
    im = Image.open(src).convert("RGB")
    w, h = im.size
    d = hr_down(name, im.size)
    if d != 1:
        im = im.resize((round(w / d), round(h / d)), Image.BICUBIC)
    return _crop_multiple(im, HR_MULTIPLE)


def make_lr(hr, s):
    """s: an int or a ratio string such as "1.5" (LR = HR / s, whole)."""
    w, h = hr.size
    s = Fraction(s)
    assert (w / s).denominator == 1 and (h / s).denominator == 1, (w, h, s)
    return hr.resize((int(w / s), int(h / s)), Image.BICUBIC)


def pair_path(name, kind):
    """kind: 'hr' or 'x2'/'x3'/'x4'/'x1.5'."""
    return os.path.join(PAIRS, kind, name + ".png")


def prepare(sets=("train", "val"), kinds=None):
    """Make sure every HR/LR pair of the photos of these sets exists in the
    cache (kinds: only these, e.g. ("hr", "x2"); default all); returns the
    split."""
    split = load_split()
    names = [n for k in sets for n in split[k]]
    lr_kinds = ["x%d" % s for s in SCALES] + ["x" + r for r in RATIOS]
    need = ["hr"] + lr_kinds if kinds is None else list(kinds)
    todo = [n for n in names if not all(os.path.exists(pair_path(n, k)) for k in need)]
    if todo and os.environ.get("CFQP_PAIRS"):
        sys.exit("CFQP_PAIRS=%s lacks %s of %s" % (PAIRS, "/".join(need), ", ".join(todo)))
    if todo:
        fetch()
    for n in todo:
        hr = make_hr(n)
        for kind in ["hr"] + lr_kinds:
            os.makedirs(os.path.join(PAIRS, kind), exist_ok=True)
        tmp = pair_path(n, "hr") + ".tmp.png"
        hr.save(tmp)
        for kind in lr_kinds:
            t2 = pair_path(n, kind) + ".tmp.png"
            make_lr(hr, kind[1:]).save(t2)
            os.replace(t2, pair_path(n, kind))
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
        for s in SCALES + RATIOS:
            make_lr(hr, s).save(os.path.join(TESTS_DIR, "%s-x%s.png" % (name, s)), optimize=True)
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
