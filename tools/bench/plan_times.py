#!/usr/bin/python3
"""The auto plan's kernel timings, over several processes: each run of
cfqp-bench-engine measures every conv kernel family that applies to each
layer shape once (a 2-row × 256-pixel stripe, thread CPU time, see
docs/performance.md "Which conv kernel"); this prints, per layer, the median
ms of each family over --runs processes and each family's time against the
fastest.

    /usr/bin/python3 tools/bench/plan_times.py [--build build] [--isa avx2]
                                               [--model models/abpn-x2.onnx] [--runs 7]

--isa sets CFQP_MAX_CPU_ISA for the runs (default: uncapped).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--isa")
    ap.add_argument("--model", default="models/abpn-x2.onnx")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    model = os.path.join(ROOT, args.model)
    calib = model[:-5] + ".calib.json"
    env = dict(os.environ, G_MESSAGES_DEBUG="cfqp-engine")
    if args.isa:
        env["CFQP_MAX_CPU_ISA"] = args.isa
    cmd = [os.path.join(ROOT, args.build, "tools", "c", "cfqp-bench-engine"), model, "64", "64",
           "--precision=int8", "--frames=1", "--threads=1"]
    if os.path.exists(calib):
        cmd.append("--calibration=" + calib)
    times = {}   # layer -> family -> [ms]
    order = []
    for _ in range(args.runs):
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        for line in (out.stdout + out.stderr).splitlines():
            m = re.search(r"node '([^']+)': conv .*\[measured: ([^\]]*?) ms", line)
            if not m:
                continue
            layer = m.group(1)
            if layer not in times:
                times[layer] = {}
                order.append(layer)
            for fam, ms in re.findall(r"(\w+) ([0-9.]+)", m.group(2)):
                times[layer].setdefault(fam, []).append(float(ms))
    if not times:
        sys.exit("no measured conv layers (every layer had one kernel, or the plan was cached)")
    print("isa %s, %s, %d runs: median ms per family (× the fastest)" % (
        args.isa or "uncapped", args.model, args.runs))
    for layer in order:
        med = {f: statistics.median(v) for f, v in times[layer].items()}
        best = min(med.values())
        print("%-24s %s" % (layer, ", ".join("%s %.3f (%.2f×)" % (f, ms, ms / best)
                                             for f, ms in med.items())))


if __name__ == "__main__":
    main()
