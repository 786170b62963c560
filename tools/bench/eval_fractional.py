#!/usr/bin/python3
"""Quality of cfqpsr at fractional scales (issue 19): Y-PSNR over bicubic.

    /usr/bin/python3 tools/bench/eval_fractional.py --build build [--ratios 3/2,9/4,8/3]

For each validation photo of tools/pipeline/photo-split.json (the whole photo, as
tools/pipeline/eval_data.py's val-photos.txt: HR as tools/pipeline/fetch_photos.py makes it)
and each ratio r = p/q:
  HR  the photo centre-cropped to multiples of p (so LR = HR·q/p is whole)
  LR  HR downscaled by PIL Image.BICUBIC (antialiased), as every LR here
  bicubic   LR upscaled to the HR size by PIL Image.BICUBIC
  cfqpsr    the element itself, as a user runs it: rawvideoparse ! cfqpsr
            n-threads=2 ! video/x-raw,width=W,height=H (INT8, the embedded
            default network it picks — the ×3/2 one for r ≤ 3/2, else the
            one for ⌈r⌉ — with its shipped calibration, clip-free, then its
            Catmull-Rom resample where the sizes differ)
  via ×⌈r⌉  (r ≤ 3/2 only) the same with model-file=models/default-x⌈r⌉.onnx:
            the integer network then the resample, as before the ×3/2 net
  lanczos   the issue's workaround for comparison: cfqpsr at the integer
            scale s = ⌈r⌉, then PIL Image.LANCZOS down to the HR size
--alt-x2 runs ×3/2 again with other ×2 model files (model-file=) and adds a
table of their mean gains; --write puts the section in
docs/results/fractional.md, which tools/bench/evaluate.py appends to
docs/results.md.
Y-PSNR: BT.601 luma on 16-235 from the RGB bytes, border shave ⌈r⌉, as
tools/c/cfqp-eval.  Prints a Markdown section (per-photo gains and the mean
over photos, the mean of per-photo dB as in docs/results.md) and, with
--json, one JSON line per photo and method.

Needs the photo cache (tools/pipeline/fetch_photos.py) and gst-launch-1.0.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pipeline"))
import fetch_photos  # noqa: E402


def luma(a):
    a = a.astype(np.float64)
    return 16.0 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255.0


def y_psnr(out, ref, shave):
    ya, yb = luma(out), luma(ref)
    if shave:
        ya, yb = ya[shave:-shave, shave:-shave], yb[shave:-shave, shave:-shave]
    mse = np.mean((ya - yb) ** 2)
    return 10.0 * math.log10(255.0 ** 2 / max(mse, 1e-10))


def crop_multiple(im, m):
    w, h = im.size
    W, H = w - w % m, h - h % m
    x0, y0 = (w - W) // 2, (h - H) // 2
    return im.crop((x0, y0, x0 + W, y0 + H))


def stride(w):
    return (w * 3 + 3) // 4 * 4    # GStreamer's default RGB row stride


def run_cfqpsr(build, lr, ow, oh, tmp, extra=""):
    """The element on one RGB frame; returns the HxWx3 uint8 output."""
    w, h = lr.size
    src, dst = os.path.join(tmp, "in.rgb"), os.path.join(tmp, "out.rgb")
    a = np.asarray(lr, dtype=np.uint8).reshape(h, w * 3)
    padded = np.zeros((h, stride(w)), np.uint8)
    padded[:, :w * 3] = a
    padded.tofile(src)
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + src, "!",
           "rawvideoparse", "width=%d" % w, "height=%d" % h, "format=rgb",
           "framerate=1/1", "!", "cfqpsr", "n-threads=2"] + extra.split() + [
           "!", "video/x-raw,width=%d,height=%d" % (ow, oh), "!",
           "filesink", "location=" + dst]
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "gst"))
    subprocess.run(cmd, check=True, env=env)
    out = np.fromfile(dst, np.uint8)
    assert out.size == stride(ow) * oh, (out.size, ow, oh)
    return out.reshape(oh, stride(ow))[:, :ow * 3].reshape(oh, ow, 3)


def network(r):
    """What cfqpsr runs for the ratio r with no model-file."""
    return "×3/2" if r <= Fraction(3, 2) else "×%d" % math.ceil(r)


def evaluate(build, split, ratios, props, tmp, as_json):
    """{(ratio, photo): (lw, lh, W, H, {method: Y-PSNR})}"""
    rows = {}
    for r in ratios:
        s = math.ceil(r)
        for name in split["val"]:
            hr = Image.open(fetch_photos.pair_path(name, "hr")).convert("RGB")
            hr = crop_multiple(hr, r.numerator)
            W, H = hr.size
            lw, lh = W * r.denominator // r.numerator, H * r.denominator // r.numerator
            lr = hr.resize((lw, lh), Image.BICUBIC)
            ref = np.asarray(hr, dtype=np.uint8)
            res = {
                "bicubic": np.asarray(lr.resize((W, H), Image.BICUBIC), np.uint8),
                "cfqpsr": run_cfqpsr(build, lr, W, H, tmp, props),
            }
            if r <= Fraction(3, 2) and "model-file" not in props:
                x_int = os.path.join(fetch_photos.TOOLS, "..", "models", "default-x%d.onnx" % s)
                res["via_int"] = run_cfqpsr(build, lr, W, H, tmp,
                                            props + " model-file=" + os.path.abspath(x_int))
            xs = run_cfqpsr(build, lr, lw * s, lh * s, tmp, props)
            res["lanczos"] = np.asarray(
                Image.fromarray(xs).resize((W, H), Image.LANCZOS), np.uint8)
            psnr = {k: y_psnr(v, ref, s) for k, v in res.items()}
            rows[(r, name)] = (lw, lh, W, H, psnr)
            if as_json:
                for k, v in psnr.items():
                    print(json.dumps({"ratio": str(r), "photo": name, "props": props,
                                      "lr": [lw, lh], "hr": [W, H], "method": k,
                                      "y_psnr": round(v, 4)}))
            print("%s %s %s %dx%d -> %dx%d: %s" % (props or "default", r, name, lw, lh, W, H,
                  ", ".join("%s %.2f" % kv for kv in psnr.items())), file=sys.stderr)
    return rows


def means(rows, r, photos):
    n = len(photos)
    get = lambda k: sum(rows[(r, p)][4][k] for p in photos) / n  # noqa: E731
    return get("bicubic"), get("cfqpsr"), get("lanczos")


def via_int_gain(p):
    return "%+.2f" % (p["via_int"] - p["bicubic"]) if "via_int" in p else "—"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--ratios", default="3/2,9/4,8/3")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--props", default="",
                    help="extra cfqpsr properties, e.g. model-file=models/xlsr-x2.onnx")
    ap.add_argument("--alt-x2", default="",
                    help="comma list of other x2 model files to compare at x3/2")
    ap.add_argument("--write", action="store_true",
                    help="write the section to docs/results/fractional.md")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    split = fetch_photos.prepare()
    photos = split["val"]
    ratios = [Fraction(r) for r in args.ratios.split(",")]
    alts = [m for m in args.alt_x2.split(",") if m]
    with tempfile.TemporaryDirectory() as tmp:
        rows = evaluate(build, split, ratios, args.props, tmp, args.json)
        alt_rows = {m: evaluate(build, split, [Fraction(3, 2)],
                                (args.props + " model-file=" + os.path.abspath(m)).strip(),
                                tmp, args.json) for m in alts}

    out = ["## Fractional scales (any output size)\n",
           "The whole validation photos (tools/pipeline/photo-split.json), each centre-cropped to a "
           "multiple of p for a ratio p/q; LR = PIL bicubic (antialiased) to q/p of that; "
           "bicubic = PIL bicubic back up; cfqpsr = the element as a user runs it "
           "(`rawvideoparse ! cfqpsr n-threads=2%s ! video/x-raw,width=W,height=H`: INT8 with "
           "the shipped calibration, clip-free, the embedded network it picks — ×3/2 for "
           "r ≤ 3/2, else ×⌈r⌉ — then its Catmull-Rom resample where the sizes differ); "
           "via ×⌈r⌉ = the same with `model-file=models/default-x⌈r⌉.onnx` (the integer "
           "network then the resample, as before the ×3/2 network); ×s + Lanczos = the "
           "element at ×⌈r⌉ then PIL Lanczos down (the workaround of issue 19), for the kernel. Y-PSNR on BT.601 Y (16–235), border "
           "shave ⌈r⌉; means are of per-photo dB.\n" % ((" " + args.props) if args.props else ""),
           "| ratio (network) | photo | LR → HR | bicubic Y-PSNR | cfqpsr | gain | "
           "via ×⌈r⌉ gain | ×s + Lanczos gain |",
           "|---|---|---|---|---|---|---|---|"]
    for r in ratios:
        for name in photos:
            lw, lh, W, H, p = rows[(r, name)]
            out.append("| ×%.4g (%s) | %s | %d×%d → %d×%d | %.2f | %.2f | %+.2f | %s | %+.2f |" % (
                float(r), network(r), name, lw, lh, W, H, p["bicubic"], p["cfqpsr"],
                p["cfqpsr"] - p["bicubic"], via_int_gain(p), p["lanczos"] - p["bicubic"]))
        b, c, l = means(rows, r, photos)
        vi = [rows[(r, p)][4] for p in photos]
        v = ("%+.2f" % (sum(x["via_int"] - x["bicubic"] for x in vi) / len(vi))
             if "via_int" in vi[0] else "—")
        out.append("| **×%.4g (%s)** | **mean of %d** | | %.2f | %.2f | **%+.2f** | %s | %+.2f |" % (
            float(r), network(r), len(photos), b, c, c - b, v, l - b))
    if alts:
        out += ["\nOther ×2 networks at ×1.5 (`model-file=`; same photos, mean gain over "
                "bicubic):\n",
                "| ×2 network | cfqpsr gain at ×1.5 | ×2 + Lanczos gain | worst photo |",
                "|---|---|---|---|"]
        b, c, l = means(rows, Fraction(3, 2), photos)
        worst = min(photos, key=lambda p: rows[(Fraction(3, 2), p)][4]["cfqpsr"] -
                    rows[(Fraction(3, 2), p)][4]["bicubic"])
        pw = rows[(Fraction(3, 2), worst)][4]
        out.append("| embedded default-x2 | %+.2f | %+.2f | %s %+.2f |" % (
            c - b, l - b, worst, pw["cfqpsr"] - pw["bicubic"]))
        for m in alts:
            ar = alt_rows[m]
            b, c, l = means(ar, Fraction(3, 2), photos)
            worst = min(photos, key=lambda p: ar[(Fraction(3, 2), p)][4]["cfqpsr"] -
                        ar[(Fraction(3, 2), p)][4]["bicubic"])
            pw = ar[(Fraction(3, 2), worst)][4]
            out.append("| %s | %+.2f | %+.2f | %s %+.2f |" % (
                os.path.basename(m), c - b, l - b, worst, pw["cfqpsr"] - pw["bicubic"]))
    out.append("\nProduced by `/usr/bin/python3 tools/bench/eval_fractional.py %s`.\n" % " ".join(
        sys.argv[1:]))
    text = "\n".join(out)
    print(text)
    if args.write:
        path = os.path.join(fetch_photos.TOOLS, "..", "docs", "results", "fractional.md")
        with open(path, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
