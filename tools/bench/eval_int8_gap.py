#!/usr/bin/python3
"""INT8 against FP32, per photo, with confidence intervals (issue #20).

Runs tools/c/cfqp-eval (the engine: real INT8 bytes, the cpu backend, the
shipped calibration) for every shipped model on the whole validation photos,
plain and saturated (tools/pipeline/eval_data.py val-photos.txt / val-photos-sat.txt),
and prints markdown tables:

  1. per model: FP32 and INT8 Y-PSNR gain over bicubic, INT8 − FP32 plain and
     saturated: the mean over photos, its 95 % interval, the per-photo spread
     (worst and best photo), and whether the −0.02 dB target holds;
  2. INT8 clip-free (+ CFQP, shipped calibration) against its INT8 clipped
     twin on the saturated photos, per pair;
  3. per scale, the INT8 gain of every clip-free net against the embedded
     default's, paired per photo: a "tie" is a 95 % interval that holds 0;
  4. per model, the INT8 error as a floor: the error INT8 adds on each photo
     (MSE(INT8) − MSE(FP32) against the original, as a PSNR), its median over
     photos, the mean loss a constant floor at that median predicts, and the
     floor the −0.02 dB target needs on this photo set (the loss a constant
     added error causes grows with the photo's FP32 PSNR, so the smoothest
     photos set it).

The intervals are percentile bootstraps of the mean over photos (10,000
resamples of the photos, fixed seed, so a re-run prints the same table):
photos differ far more from each other than the nets do, so differences
are always paired per photo before the bootstrap.

    /usr/bin/python3 tools/bench/eval_int8_gap.py --build build-eval [--threads 2]

cfqp-eval's JSON rows are kept in tools/.cache/int8-gap/, each with the
SHA-256 of the model, calibration and photo list it was made from (rows are
re-run when one of them changed; --fresh re-runs all).  --calib-dir DIR evaluates the
calibrations in DIR instead of models/ (an ablation: tools/pipeline/make_calibrations.sh
with OUT=DIR), its rows kept apart in tools/.cache/int8-gap/<DIR's name>/;
with --against models [--models M ...] it prints only those calibrations
against the shipped ones, paired per photo.

    /usr/bin/python3 tools/bench/eval_int8_gap.py --build build --threads 1 \
        --precision int16 [--models xlsr-x2 ...]

runs the same calibrations as INT16 (16-bit activations and weights,
docs/int8-arithmetic.md "16-bit programs") instead, by default for the
anchorless clip-free nets, its rows in tools/.cache/int8-gap/int16/, and
prints INT16 − FP32 beside INT8 − FP32 (table 1's columns), then, for those
with a clipped twin, INT16 clip-free against the twin's INT8 and INT16 on
the saturated photos (table 2 with INT16 as the clip-free net's arithmetic).

    OUT=tools/.cache/calib-twin-pass CLIP_FREE=true \
        bash tools/pipeline/make_calibrations.sh build models/*-clipped.onnx
    /usr/bin/python3 tools/bench/eval_int8_gap.py --build build \
        --twin-pass tools/.cache/calib-twin-pass

prints table 2 at equal weights instead: every clipped twin through the
clip-free pass with its own clip-free calibration (full CFQP) against the same
twin clipped, with its shipped calibration, plain and saturated, INT8 (and
INT16 for the anchorless XLSR pairs): the clip against the calibration, with
training out of the comparison.
"""
import argparse
import hashlib
import json
import math
import os
import random
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
ROOT = os.path.dirname(TOOLS)
CACHE = os.path.join(TOOLS, ".cache", "int8-gap")
CLIP_FREE = ["abpn-x2", "abpn-x3", "abpn-x4", "quicksrnet_s-x2", "quicksrnet_s-x3",
             "xlsr-x2", "xlsr-x3", "bicubicpp-x2", "bicubicpp-x3"]
TARGET = -0.02
SETS = (("plain", "val-photos.txt"), ("sat", "val-photos-sat.txt"))


def scale_of(model):
    return int(model.rsplit("-x", 1)[1].split("-")[0])


def rows_of(build, model, which, listfile, threads, fresh, calib_dir=None, precision="int8"):
    """{photo: {method: y_psnr}} of one model on one photo list."""
    models = os.path.join(ROOT, "models")
    if calib_dir and os.path.realpath(calib_dir) == os.path.realpath(models):
        calib_dir = None  # the shipped calibrations: one set of rows, however named
    cache = os.path.join(CACHE, os.path.basename(os.path.normpath(calib_dir))) if calib_dir else CACHE
    if precision != "int8":
        cache = os.path.join(cache, precision)
    calib_dir = calib_dir or models
    os.makedirs(cache, exist_ok=True)
    out = os.path.join(cache, "%s-%s.jsonl" % (model, which))
    s = scale_of(model)
    ev = os.path.join(TOOLS, ".cache", "eval", "x%d" % s)
    if not os.path.exists(os.path.join(ev, listfile)):
        subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "pipeline", "eval_data.py"),
                        "--scale", str(s)],
                       check=True, stdout=subprocess.DEVNULL)
    onnx, calib, photos = (os.path.join(models, model + ".onnx"),
                           os.path.join(calib_dir, model + ".calib.json"), os.path.join(ev, listfile))
    cmd = [os.path.join(build, "tools", "c", "cfqp-eval"), "--model", onnx, "--val", photos,
           "--calibration", calib, "--backend", "cpu", "--threads", str(threads),
           "--precision", precision]
    return cached_rows(cmd, out, fresh, content_key(onnx, calib, photos))


def content_key(*paths):
    """SHA-256 of the files a row set was made from: rows are reused only for
    the same model, calibration and photo list, whatever their names."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def cached_rows(cmd, out, fresh=False, key=None):
    """{photo: {method: y_psnr}} from cfqp-eval's JSON rows, run as cmd into
    out unless out exists, was made from the same files (key, kept in
    out.key) and fresh is not asked."""
    key_file = out + ".key"
    stale = False
    if key is not None:
        try:
            with open(key_file) as f:
                stale = f.read().strip() != key
        except FileNotFoundError:
            stale = True
    if fresh or stale or not os.path.exists(out):
        print("+", " ".join(c.replace(ROOT + "/", "") for c in cmd), file=sys.stderr)
        res = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        with open(out + ".tmp", "w") as f:
            f.write(res)
        os.replace(out + ".tmp", out)
        if key is not None:
            with open(key_file, "w") as f:
                f.write(key + "\n")
    table = {}
    with open(out) as f:
        for line in f:
            if line.startswith("{") and '"image"' in line:
                r = json.loads(line)
                table.setdefault(r["image"], {})[r["method"]] = r["y_psnr"]
    return table


def boot(values, n=10000, seed=20):
    """(mean, low, high): the mean and its 95 % percentile-bootstrap interval."""
    rng = random.Random(seed)
    k = len(values)
    means = sorted(sum(values[rng.randrange(k)] for _ in range(k)) / k for _ in range(n))
    return sum(values) / k, means[int(0.025 * n)], means[int(0.975 * n) - 1]


def fmt(t):
    return "%+.3f [%+.3f, %+.3f]" % t


def diffs(a, b, ma, mb):
    """Per-photo a[ma] − b[mb] over the photos both have, in photo order."""
    photos = sorted(set(a) & set(b))
    return photos, [a[p][ma] - b[p][mb] for p in photos]


def loss_at(floor, fp32):
    """The mean INT8 − FP32 (dB) over photos whose FP32 Y-PSNRs are fp32, if INT8
    added the same independent error everywhere, of PSNR floor."""
    return sum(-10 * math.log10(1 + 10 ** ((p - floor) / 10)) for p in fp32) / len(fp32)


def floor_rows(table):
    """Per photo (FP32 Y-PSNR, INT8 − FP32, PSNR of the added error; inf where
    INT8 is as good as FP32 or better)."""
    out = []
    for v in table.values():
        added = 10 ** (-v["int8"] / 10) - 10 ** (-v["fp32"] / 10)
        out.append((v["fp32"], v["int8"] - v["fp32"],
                    -10 * math.log10(added) if added > 0 else math.inf))
    return out


def floor_needed(fp32, target):
    lo, hi = 20.0, 120.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if loss_at(mid, fp32) < target else (lo, mid)
    return hi


def compare(res, base, models, name, base_name):
    """INT8 of res − INT8 of base per model and set, paired per photo."""
    print("### INT8 with %s − INT8 with %s, paired per photo (Y-PSNR dB; mean [95 %% interval])\n"
          % (name, base_name))
    print("| model | plain | photos won / lost | saturated | photos won / lost "
          "| INT8 − FP32 plain, before → after | saturated, before → after |")
    print("|---|---|---|---|---|---|---|")
    for m in models:
        cells = []
        for which, _ in SETS:
            _, d = diffs(res[(m, which)], base[(m, which)], "int8", "int8")
            cells += [fmt(boot(d)), "%d / %d" % (sum(x > 0 for x in d), sum(x < 0 for x in d))]
        for which, _ in SETS:
            _, a = diffs(base[(m, which)], base[(m, which)], "int8", "fp32")
            _, b = diffs(res[(m, which)], res[(m, which)], "int8", "fp32")
            cells.append("%+.3f → %+.3f" % (sum(a) / len(a), sum(b) / len(b)))
        print("| %s | %s |" % (m, " | ".join(cells)))


def wide_table(args):
    """INT16 − FP32 beside INT8 − FP32, per model, plain and saturated."""
    models = args.models or [m for m in CLIP_FREE if m.startswith(("xlsr", "bicubicpp"))]
    print("### INT16 and INT8 − FP32 on the whole validation photos, the shipped calibrations "
          "(mean [95 % interval], worst photo)\n")
    print("| model | set | INT8 − FP32 | worst | INT16 − FP32 | worst | INT16 ≥ %.2f dB |" % TARGET)
    print("|---|---|---|---|---|---|---|")
    for m in models:
        for which, listfile in SETS:
            r8 = rows_of(args.build, m, which, listfile, args.threads, args.fresh, args.calib_dir)
            r16 = rows_of(args.build, m, which, listfile, args.threads, args.fresh, args.calib_dir,
                          "int16")
            _, d8 = diffs(r8, r8, "int8", "fp32")
            _, d16 = diffs(r16, r16, "int16", "fp32")
            print("| %s | %s | %s | %+.3f | %s | %+.3f | %s |" % (
                m, which, fmt(boot(d8)), min(d8), fmt(boot(d16)), min(d16),
                "yes" if sum(d16) / len(d16) >= TARGET else "no"), flush=True)

    # the second target with INT16 as the clip-free net's arithmetic: its
    # INT16 against the clipped twin's INT8 (and the twin's INT16)
    pairs = [m for m in models
             if os.path.exists(os.path.join(ROOT, "models", m + "-clipped.onnx"))]
    if not pairs:
        return
    print("\n### INT16 clip-free − clipped twin, saturated photos (mean [95 % interval], "
          "photos won / lost against the twin's INT8)\n")
    print("| pair | FP32 − FP32 | INT16 − INT8 | won / lost | INT16 − INT16 |")
    print("|---|---|---|---|---|")
    for m in pairs:
        listfile = dict(SETS)["sat"]
        a = rows_of(args.build, m, "sat", listfile, args.threads, args.fresh, args.calib_dir,
                    "int16")
        b8 = rows_of(args.build, m + "-clipped", "sat", listfile, args.threads, args.fresh,
                     args.calib_dir)
        b16 = rows_of(args.build, m + "-clipped", "sat", listfile, args.threads, args.fresh,
                      args.calib_dir, "int16")
        _, d32 = diffs(a, b8, "fp32", "fp32")
        _, d = diffs(a, b8, "int16", "int8")
        _, dd = diffs(a, b16, "int16", "int16")
        print("| %s | %s | %s | %d / %d | %s |" % (m, fmt(boot(d32)), fmt(boot(d)),
                                                  sum(x > 0 for x in d), sum(x < 0 for x in d),
                                                  fmt(boot(dd))), flush=True)


def twin_pass_table(args):
    """Table 2 at equal weights: each twin's clip-free pass + CFQP − the twin clipped."""
    twins = [m + "-clipped" for m in CLIP_FREE
             if os.path.exists(os.path.join(ROOT, "models", m + "-clipped.onnx"))]
    print("### Clipped twin through the clip-free pass + CFQP − the same twin clipped "
          "(equal weights; mean [95 % interval], photos won / lost)\n")
    print("| twin | set | FP32 pass − clipped | INT8 pass − INT8 clipped | won / lost "
          "| INT16 pass − INT8 clipped | won / lost | INT8 − FP32 of the pass |")
    print("|---|---|---|---|---|---|---|---|")
    # saturated first: the second target is about saturated content
    for which, listfile in reversed(SETS):
        for t in twins:
            a = rows_of(args.build, t, which, listfile, args.threads, args.fresh, args.twin_pass)
            b = rows_of(args.build, t, which, listfile, args.threads, args.fresh)
            _, d32 = diffs(a, b, "fp32", "fp32")
            _, d8 = diffs(a, b, "int8", "int8")
            _, loss = diffs(a, a, "int8", "fp32")
            wide = ["—", "—"]
            if t.startswith("xlsr"):
                a16 = rows_of(args.build, t, which, listfile, args.threads, args.fresh,
                              args.twin_pass, "int16")
                _, d16 = diffs(a16, b, "int16", "int8")
                wide = [fmt(boot(d16)), "%d / %d" % (sum(x > 0 for x in d16),
                                                     sum(x < 0 for x in d16))]
            print("| %s | %s | %s | %s | %d / %d | %s | %s | %s |" % (
                t, which, fmt(boot(d32)), fmt(boot(d8)), sum(x > 0 for x in d8),
                sum(x < 0 for x in d8), wide[0], wide[1], fmt(boot(loss))), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--calib-dir", help="calibrations to evaluate (default: models/)")
    ap.add_argument("--against", metavar="DIR",
                    help="only compare: INT8 with the calibrations of --calib-dir (or models/) "
                    "against INT8 with those of DIR, paired per photo")
    ap.add_argument("--precision", choices=("int8", "int16"), default="int8")
    ap.add_argument("--models", nargs="*", help="--precision int16 or --against: only these "
                    "(default: the anchorless nets for int16, every net for --against)")
    ap.add_argument("--twin-pass", metavar="DIR",
                    help="only table 2 at equal weights: the clipped twins with the clip-free "
                    "calibrations of DIR against themselves clipped")
    args = ap.parse_args()

    if args.twin_pass:
        twin_pass_table(args)
        return
    if args.precision == "int16":
        wide_table(args)
        return
    models = CLIP_FREE + [m + "-clipped" for m in CLIP_FREE if "abpn" in m or "quick" in m
                          or "xlsr" in m]
    if args.against and args.models:
        models = args.models
    elif args.models:
        sys.exit("--models goes with --precision int16 or --against")
    res = {}
    for m in models:
        for which, listfile in SETS:
            res[(m, which)] = rows_of(args.build, m, which, listfile, args.threads, args.fresh,
                                      args.calib_dir)
    if args.against:
        base = {(m, w): rows_of(args.build, m, w, lf, args.threads, args.fresh, args.against)
                for m in models for w, lf in SETS}
        compare(res, base, models, args.calib_dir or "models", args.against)
        return

    n_photos = len(res[(CLIP_FREE[0], "plain")])
    print("### INT8 − FP32 on %d whole validation photos (mean [95 %% interval], worst / best photo)\n"
          % n_photos)
    print("| model | FP32 − bicubic | INT8 − bicubic | INT8 − FP32 plain | worst / best "
          "| INT8 − FP32 saturated | worst / best | ≥ %.2f dB |" % TARGET)
    print("|---|---|---|---|---|---|---|---|")
    for m in CLIP_FREE:
        plain, sat = res[(m, "plain")], res[(m, "sat")]
        _, g32 = diffs(plain, plain, "fp32", "bicubic")
        _, g8 = diffs(plain, plain, "int8", "bicubic")
        _, dp = diffs(plain, plain, "int8", "fp32")
        _, ds = diffs(sat, sat, "int8", "fp32")
        ok = "yes" if min(sum(dp) / len(dp), sum(ds) / len(ds)) >= TARGET else "no"
        print("| %s | %s | %s | %s | %+.3f / %+.3f | %s | %+.3f / %+.3f | %s |" % (
            m, fmt(boot(g32)), fmt(boot(g8)), fmt(boot(dp)), min(dp), max(dp),
            fmt(boot(ds)), min(ds), max(ds), ok))

    print("\n### INT8 clip-free + CFQP − INT8 clipped twin, saturated photos\n")
    print("| pair | FP32 clip-free − clipped | INT8 clip-free − clipped | photos won / lost |")
    print("|---|---|---|---|")
    for m in CLIP_FREE:
        if (m + "-clipped", "sat") not in res:
            continue
        a, b = res[(m, "sat")], res[(m + "-clipped", "sat")]
        _, d32 = diffs(a, b, "fp32", "fp32")
        _, d8 = diffs(a, b, "int8", "int8")
        print("| %s | %s | %s | %d / %d |" % (m, fmt(boot(d32)), fmt(boot(d8)),
                                             sum(d > 0 for d in d8), sum(d < 0 for d in d8)))

    print("\n### INT8 gain over the embedded default, paired per photo (plain photos)\n")
    print("| scale | default | net | net − default | verdict |")
    print("|---|---|---|---|---|")
    for s in (2, 3, 4):
        default = os.path.join(ROOT, "models", "default-x%d.onnx" % s)
        same = [m for m in CLIP_FREE if scale_of(m) == s and open(default, "rb").read()
                == open(os.path.join(ROOT, "models", m + ".onnx"), "rb").read()]
        if not same:
            continue
        d = same[0]
        for m in CLIP_FREE:
            if scale_of(m) != s or m == d:
                continue
            _, g = diffs(res[(m, "plain")], res[(d, "plain")], "int8", "int8")
            mean, lo, hi = boot(g)
            verdict = "tie" if lo <= 0 <= hi else ("better" if lo > 0 else "worse")
            print("| ×%d | %s | %s | %s | %s |" % (s, d, m, fmt((mean, lo, hi)), verdict))

    print("\n### The INT8 error as a floor (PSNR of the error INT8 adds, per photo)\n")
    print("| model | set | floor, median [quartiles] | mean loss it predicts | measured "
          "| floor for ≥ %.2f dB | short by |" % TARGET)
    print("|---|---|---|---|---|---|---|")
    for m in CLIP_FREE:
        for which, _ in SETS:
            rows = floor_rows(res[(m, which)])
            fl = sorted(r[2] for r in rows)
            k = len(fl)
            med, q1, q3 = statistics.median(fl), fl[k // 4], fl[(3 * k) // 4]
            fp32 = [r[0] for r in rows]
            need = floor_needed(fp32, TARGET)
            print("| %s | %s | %.1f [%.1f, %.1f] dB | %+.3f | %+.3f | %.1f dB | %s |" % (
                m, which, med, q1, q3, loss_at(med, fp32), sum(r[1] for r in rows) / k, need,
                "%.1f dB" % (need - med) if need > med else "—"))


if __name__ == "__main__":
    main()
