#!/usr/bin/python3
"""The CFQP ablation, measured through the engine (tools/c/cfqp-eval).

    /usr/bin/python3 tools/bench/ablation.py --build build --scale 3 \
        --model clipped=models/abpn-x3-clipped.onnx \
        --model clipped+pass=models/abpn-x3-clipped.onnx:clip-free \
        --model clip-free=models/abpn-x3.onnx

For every model × RD situation (matched: training-photo crops; dim: the
same crops at exposure ×0.45) × augmentation (none, review, crops, range,
full) × observer (minmax, percentile, mse), INT8 is calibrated on the RD and
evaluated on the textured validation crops, plain and saturated.  Raw rows
go to docs/results/ablation-x<s>.jsonl; docs/cfqp.md gets the tables.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
ROOT = os.path.dirname(TOOLS)
AUGMENTS = ["none", "review", "crops", "range", "full"]
OBSERVERS = ["minmax", "percentile", "mse"]


def run_eval(build, model, clip_free, val, rd, backend):
    cmd = [os.path.join(build, "tools", "c", "cfqp-eval"), "--model", model, "--val", val,
           "--rd", rd, "--observers", ",".join(OBSERVERS), "--augments", ",".join(AUGMENTS),
           "--backend", backend]
    if clip_free:
        cmd.append("--clip-free")
    # each run is cached by its command line, the model's bytes and the
    # engine's (cfqp-eval's) bytes, so an interrupted ablation resumes where
    # it stopped and a changed engine is measured again
    digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    key = hashlib.sha256((" ".join(cmd) + digest(model) + digest(cmd[0])).encode()).hexdigest()[:16]
    cache = os.path.join(TOOLS, ".cache", "ablation", key + ".jsonl")
    if os.path.exists(cache):
        out = open(cache).read()
    else:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(cache + ".tmp", "w") as f:
            f.write(out)
        os.replace(cache + ".tmp", cache)
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return [r for r in rows if "method" in r], " ".join(cmd)


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--model", action="append", required=True, help="label=path[:clip-free]")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--observer", default="mse", help="observer of the paper-form table")
    ap.add_argument("--reuse", action="store_true",
                    help="re-tabulate docs/results/ablation-x<s>.jsonl without running")
    args = ap.parse_args()
    ev = os.path.join(TOOLS, ".cache", "eval", "x%d" % args.scale)
    if not os.path.exists(os.path.join(ev, "val.txt")):
        subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "pipeline", "eval_data.py"), "--scale",
                        str(args.scale)], check=True)

    rows, commands = [], []
    raw = os.path.join(ROOT, "docs", "results", "ablation-x%d.jsonl" % args.scale)
    if args.reuse:
        with open(raw) as f:
            for r in map(json.loads, f):
                if "command" in r:
                    commands.append(r["command"])
                elif "method" in r:
                    rows.append(r)
    for spec in ([] if args.reuse else args.model):
        label, path = spec.split("=", 1)
        clip_free = path.endswith(":clip-free")
        path = path[:-len(":clip-free")] if clip_free else path
        for content, val in (("plain", "val.txt"), ("saturated", "val-sat.txt")):
            for rd in ("matched", "dim"):
                print("…", label, content, rd, file=sys.stderr, flush=True)
                res, cmd = run_eval(args.build, path, clip_free, os.path.join(ev, val),
                                    os.path.join(ev, "rd-%s.txt" % rd), args.backend)
                commands.append(cmd)
                for r in res:
                    r.update(model=label, content=content, rd=rd)
                    rows.append(r)

    os.makedirs(os.path.join(ROOT, "docs", "results"), exist_ok=True)
    with open(raw, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for c in commands:
            f.write(json.dumps({"command": c}) + "\n")

    # mean over images per (model, content, rd, method, observer, augment)
    agg = defaultdict(list)
    for r in rows:
        rd = r["rd"] if r["method"] == "int8" else "-"
        agg[(r["model"], r["content"], rd, r["method"], r["observer"], r["augment"])].append(r)

    def m(key, field):
        return mean([r[field] for r in agg.get(key, [])])

    labels = [s.split("=", 1)[0] for s in args.model]
    out = []
    out.append("## ×%d: INT8 loss against FP32 (Y-PSNR dB, mean over %d textured validation crops)\n"
               % (args.scale, len({r["image"] for r in rows if r["content"] == "plain"}) // 1))
    out.append("Δ = INT8 − FP32 Y-PSNR (plain / saturated); q = PSNR(INT8, FP32) in dB on plain content.\n")
    for rd in ("matched", "dim"):
        out.append("\n### RD: %s\n" % ("matched (training-photo crops)" if rd == "matched"
                                       else "mismatched (the same crops at exposure ×0.45)"))
        out.append("| model | augmentation | " + " | ".join(
            "%s Δ plain / sat, q" % o for o in OBSERVERS) + " |")
        out.append("|---|---|" + "---|" * len(OBSERVERS))
        for lab in labels:
            for aug in AUGMENTS:
                cells = []
                for o in OBSERVERS:
                    d = []
                    for content in ("plain", "saturated"):
                        fp = m((lab, content, "-", "fp32", "", ""), "y_psnr")
                        d.append(m((lab, content, rd, "int8", o, aug), "y_psnr") - fp)
                    q = m((lab, "plain", rd, "int8", o, aug), "psnr_vs_fp32")
                    cells.append("%+.3f / %+.3f, %.1f" % (d[0], d[1], q))
                out.append("| %s | %s | %s |" % (lab, aug, " | ".join(cells)))

    out.append("\n### Absolute Y-PSNR (dB), plain / saturated\n")
    out.append("| model | bicubic | FP32 | INT8 plain RD (mse), matched | INT8 CFQP full (mse), matched "
               "| INT8 plain RD (mse), dim | INT8 CFQP full (mse), dim |")
    out.append("|---|---|---|---|---|---|---|")
    for lab in labels:
        def both(key_fn):
            return "%.2f / %.2f" % tuple(m(key_fn(c), "y_psnr") for c in ("plain", "saturated"))
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            lab,
            both(lambda c: (lab, c, "-", "bicubic", "", "")),
            both(lambda c: (lab, c, "-", "fp32", "", "")),
            both(lambda c: (lab, c, "matched", "int8", "mse", "none")),
            both(lambda c: (lab, c, "matched", "int8", "mse", "full")),
            both(lambda c: (lab, c, "dim", "int8", "mse", "none")),
            both(lambda c: (lab, c, "dim", "int8", "mse", "full"))))
    # the paper's form (Kalay et al., Table 1 style), for the chosen observer
    if "clipped" in labels and "clip-free" in labels:
        o = args.observer
        out.append("\n### In the paper's form (observer %s; Y-PSNR dB, plain / saturated)\n" % o)
        out.append("| | matched RD | dim RD |")
        out.append("|---|---|---|")
        def cell(model, method, rd, aug):
            return "%.3f / %.3f" % tuple(
                m((model, c, rd if method == "int8" else "-", method, o if method == "int8" else "",
                   aug if method == "int8" else ""), "y_psnr") for c in ("plain", "saturated"))
        for title, model, method, aug in (
                ("FP32 clipped", "clipped", "fp32", ""),
                ("FP32 clip-free", "clip-free", "fp32", ""),
                ("INT8 clipped, plain RD", "clipped", "int8", "none"),
                ("INT8 clip-free, plain RD", "clip-free", "int8", "none"),
                ("INT8 clip-free, CFQP (full)", "clip-free", "int8", "full")):
            out.append("| %s | %s | %s |" % (title, cell(model, method, "matched", aug),
                                             cell(model, method, "dim", aug)))
    out.append("\nProduced by:\n\n```\n/usr/bin/python3 tools/bench/ablation.py " +
               " ".join(sys.argv[1:]) + "\n```\n\nwhich ran, per model and set:\n\n```\n" +
               "\n".join(sorted(set(c.replace(ROOT + "/", "") for c in commands))) +
               "\n```\n\nRaw rows: `docs/results/ablation-x%d.jsonl`.\n" % args.scale)
    md = os.path.join(ROOT, "docs", "results", "ablation-x%d.md" % args.scale)
    with open(md, "w") as f:
        f.write("\n".join(out))
    print(md)


if __name__ == "__main__":
    main()
