#!/usr/bin/python3
"""Speed of cfqpsr's fractional path against the ×3 work unit, same run.

    /usr/bin/python3 tools/bench/bench_fractional.py --build build [--frames 20] [--rounds 3]

Paths (RGB, INT8 with the shipped calibrations, n-threads=2, as a user
runs them: videotestsrc ! capsfilter ! cfqpsr ! capsfilter ! fakesink):
  x3       640×360 → 1920×1080: the ×3 network alone (the work unit)
  x1.5     1280×720 → 1920×1080: the embedded ×3/2 network alone (its body
           at 640×360 positions)
  x1.5-via-x2  the same sizes the way they ran before the ×3/2 network:
           the ×2 network on 720p, then the resample (model-file= the
           shipped models/default-x2.onnx, its calibration beside it)
  x2-net   1280×720 → 2560×1440: the ×2 network alone (x1.5-via-x2 minus
           this is about what the separate resample pass costs)
then build/tests/engine/bench-resample: the resampler alone, one thread.
--variant adds x1.5 runs with other properties (another ×2 model-file).
Each timing is (t(warm + frames) − t(warm)) / frames, wall clock and the
process's CPU time, so start-up, model load and warm-up frames cancel; the paths alternate within each round and
the median over rounds is printed, as a Markdown table with the ratio of
each path's frame rate to the ×3 one.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATHS = [
    ("x3", 640, 360, 1920, 1080, ""),
    ("x1.5", 1280, 720, 1920, 1080, ""),
    ("x1.5-via-x2", 1280, 720, 1920, 1080,
     "model-file=" + os.path.join(ROOT, "models", "default-x2.onnx")),
    ("x2-net", 1280, 720, 2560, 1440, ""),
]


def run(build, w, h, ow, oh, n, props=""):
    cmd = ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=%d" % n, "!",
           "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1" % (w, h), "!",
           "cfqpsr", "n-threads=2"] + props.split() + [
           "!", "video/x-raw,width=%d,height=%d" % (ow, oh), "!", "fakesink", "sync=false"]
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "gst"))
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env=env)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write", action="store_true",
                    help="write the table to docs/results/fractional-speed.md")
    ap.add_argument("--note", default="", help="a sentence on the machine, for --write")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL:PROPS",
                    help="also time x1.5 with extra cfqpsr properties, e.g. "
                    "'qsr:model-file=models/quicksrnet_s-x2.onnx' (repeatable)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    paths = list(PATHS)
    for v in args.variant:
        label, props = v.split(":", 1)
        paths.append(("x1.5 " + label, 1280, 720, 1920, 1080, props))
    ms = {p[0]: [] for p in paths}
    cpu = {p[0]: [] for p in paths}
    for r in range(args.rounds):
        for name, w, h, ow, oh, props in paths:
            t_warm, c_warm = run(build, w, h, ow, oh, args.warm, props)
            t_all, c_all = run(build, w, h, ow, oh, args.warm + args.frames, props)
            ms[name].append(1000.0 * (t_all - t_warm) / args.frames)
            cpu[name].append(1000.0 * (c_all - c_warm) / args.frames)
            print("round %d %s: %.1f ms/frame, %.1f CPU ms/frame" % (
                r, name, ms[name][-1], cpu[name][-1]), flush=True)
    med = {k: statistics.median(v) for k, v in ms.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    out = ["## Speed of the fractional path\n",
           "cfqpsr as a user runs it (`videotestsrc ! video/x-raw,format=RGB,... ! cfqpsr "
           "n-threads=2 ! video/x-raw,width=W,height=H ! fakesink`, INT8, shipped "
           "calibrations), %d frames after %d warm-up frames, start-up cancelled out, the paths "
           "alternating in each of %d rounds, median of the rounds; wall-clock ms per frame "
           "and CPU ms per frame (user + system of the process, both threads), the latter "
           "less sensitive to a shared machine. %s\n" % (
               args.frames, args.warm, args.rounds, args.note),
           "| path | sizes | ms/frame | fps | fps / ×3 fps | CPU ms/frame | ×3 CPU / CPU |",
           "|---|---|---|---|---|---|---|"]
    for name, w, h, ow, oh, props in paths:
        out.append("| %s%s | %d×%d → %d×%d | %.1f | %.2f | %.2f | %.1f | %.2f |" % (
            name, (" (`%s`)" % props.replace(ROOT + "/", "")) if props else "", w, h, ow, oh,
            med[name],
            1000.0 / med[name], med["x3"] / med[name], cmed[name], cmed["x3"] / cmed[name]))
    out.append("\nx1.5-via-x2 − x2-net (the separate resample pass, less packing the larger "
               "×2 frame): %.1f ms/frame wall, %.1f CPU ms/frame.\n" % (
                   med["x1.5-via-x2"] - med["x2-net"], cmed["x1.5-via-x2"] - cmed["x2-net"]))
    resample = subprocess.run([os.path.join(build, "tests", "engine", "bench-resample")],
                              check=True, capture_output=True, text=True).stdout.strip()
    out.append("The resampler alone (`%s/tests/engine/bench-resample`, the same run): %s\n" % (
        os.path.relpath(build), "; ".join(resample.splitlines())))
    out.append("Produced by `/usr/bin/python3 tools/bench/bench_fractional.py %s`.\n" % " ".join(
        a if " " not in a else "'%s'" % a for a in sys.argv[1:]))
    text = "\n".join(out)
    print()
    print(text)
    if args.write:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                            "results", "fractional-speed.md")
        with open(path, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
