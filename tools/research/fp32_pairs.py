#!/usr/bin/python3
"""FP32 of several trainings of one net, paired per photo (issue #20, target 2).

Runs tools/c/cfqp-eval --fp32-only (the engine's FP32, output bytes as
cfqpsr writes them) for every NAME=MODEL.onnx on the whole validation photos
of the scale, plain and saturated (tools/pipeline/eval_data.py), and prints
each net's gain over bicubic and its difference from the first net, paired
per photo, as the mean and its 95 % bootstrap interval (the same bootstrap
as tools/bench/eval_int8_gap.py), with the photos won / lost.

    /usr/bin/python3 tools/research/fp32_pairs.py --build build --scale 2 \\
        clip-free=models/quicksrnet_s-x2.onnx \\
        clipped=models/quicksrnet_s-x2-clipped.onnx \\
        loss-on-clamp=tools/.cache/exp/quicksrnet_s-x2-lossclamp.onnx

The third net there is tools/pipeline/train.py --arch quicksrnet_s --scale 2
--steps 12000 --minutes 0 --threads 1 --loss-on-clamp --run
quicksrnet_s-x2-lossclamp --export tools/.cache/exp/quicksrnet_s-x2-lossclamp.onnx
(the clip-free net's recipe with the L1 loss on its output clamped to
[0,1]).  Rows are cached in tools/.cache/fp32-pairs/ by the model file's
hash, so a re-run only evaluates new nets.
"""
import argparse
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOOLS, "bench"))
from eval_int8_gap import SETS, boot, cached_rows, diffs, fmt  # noqa: E402

CACHE = os.path.join(TOOLS, ".cache", "fp32-pairs")


def fp32_rows(build, path, scale, listfile, threads):
    """{photo: {method: y_psnr}} (bicubic and fp32) of one net on one photo list."""
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]
    out = os.path.join(CACHE, "%s-x%d-%s.jsonl" % (digest, scale, listfile.split(".")[0]))
    ev = os.path.join(TOOLS, ".cache", "eval", "x%d" % scale)
    if not os.path.exists(os.path.join(ev, listfile)):
        subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "pipeline", "eval_data.py"),
                        "--scale", str(scale)], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(CACHE, exist_ok=True)
    return cached_rows([os.path.join(build, "tools", "c", "cfqp-eval"), "--model", path, "--val",
                        os.path.join(ev, listfile), "--fp32-only", "--threads", str(threads)],
                       out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("nets", nargs="+", metavar="NAME=MODEL.onnx")
    args = ap.parse_args()
    nets = [n.split("=", 1) for n in args.nets]
    if any(len(n) != 2 for n in nets):
        sys.exit("each net is NAME=MODEL.onnx")

    print("### FP32 on the whole validation photos, paired per photo against %s "
          "(Y-PSNR dB; mean [95 %% interval])\n" % nets[0][0])
    print("| net | set | FP32 − bicubic | − %s | photos won / lost |" % nets[0][0])
    print("|---|---|---|---|---|")
    for which, listfile in reversed(SETS):
        first = fp32_rows(args.build, nets[0][1], args.scale, listfile, args.threads)
        for name, path in nets:
            rows = fp32_rows(args.build, path, args.scale, listfile, args.threads)
            _, gain = diffs(rows, rows, "fp32", "bicubic")
            _, d = diffs(rows, first, "fp32", "fp32")
            print("| %s | %s | %s | %s | %d / %d |" % (
                name, which, fmt(boot(gain)), fmt(boot(d)) if name != nets[0][0] else "—",
                sum(x > 0 for x in d), sum(x < 0 for x in d)), flush=True)


if __name__ == "__main__":
    main()
