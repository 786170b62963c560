#!/usr/bin/python3
"""PyTorch fake-quant of a shipped ABPN model, to reconcile the engine's
ablation (docs/cfqp.md) with the quick fake-quant experiment of issue 4.

    /usr/bin/python3 tools/research/fakequant_check.py --model models/abpn-x3.onnx \
        --engine build/tools/c/cfqp-eval

Weights and biases come from the ONNX initializers (the net is rebuilt from
tools/pipeline/sr_models.py).  FP32 is checked against the NumPy ONNX evaluator of
sr_models (float, max |diff| < 1e-4) and, with --engine, against the C
engine's FP32 output bytes on one crop.

INT8 simulation (the arithmetic of /work/shared/design/quantization.md):
weights int8 symmetric per output channel ([-127, 127]), bias int32
round(b / (s_in s_w)), activations uint8 asymmetric per tensor from FP32
min/max over the RD (range widened to include 0), rounding half away from
zero; input and the graph output on the pixel grid (1/255, zero point 0),
the output saturating to [0, 255].  The anchor (Concat of the input) is a
copy of the input, so it stays on the pixel grid ("grid" mode); "anchor-rq"
mode additionally requantises the Concat output to its own observed
min/max range, as the engine's calibration table does (see docs/cfqp.md).

RDs (tools/pipeline/eval_data.py): matched (16 crops), dim (the same ×0.45),
dim-4 (the first 4 dim crops: the issue's "4 crops"), and dim + range
(each dim crop plus a range-targeted copy clamp(a·x + b), a and b chosen
from the FP32 output's 1st/99th percentiles so that f(x') spans [0, 1]).
Evaluation: the 10 textured validation crops, plain and saturated; Y-PSNR
BT.601 (16-235) on bytes, shave = scale, as tools/c/cfqp-eval measures it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOOLS, "pipeline"))
import sr_models  # noqa: E402

PIXEL = (1.0 / 255.0, 0)


def load_ppm(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def load_model(path):
    g = onnx.load(path)
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.graph.initializer}
    clipped = any(n.op_type == "Clip" for n in g.graph.node)
    c3 = inits["last.weight"].shape[0]
    scale = int(round((c3 // 3) ** 0.5))
    m = sr_models.ABPN(scale, clipped=clipped)
    m.load_state_dict({k: inits[k] for k in m.state_dict()}, strict=True)
    return g, m.eval(), scale


def rhaz(x):
    """Round half away from zero (the engine's rule)."""
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def qparams(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = (hi - lo) / 255.0 if hi > lo else 1.0
    return s, int(min(max(round(-lo / s), 0), 255))


def fq(x, qp):
    s, z = qp
    return (torch.clamp(rhaz(x / s) + z, 0, 255) - z) * s


def fq_weight(w):
    s = w.abs().amax(dim=(1, 2, 3)).clamp_min(1e-12) / 127.0
    return torch.clamp(rhaz(w / s[:, None, None, None]), -127, 127) * s[:, None, None, None], s


# --- FP32 with observation, and the fake-quant forward ---------------------

def forward_observe(m, x, ranges=None):
    """FP32 forward; updates ranges[tensor] = [min, max]."""
    def obs(name, t):
        if ranges is not None:
            lo, hi = float(t.min()), float(t.max())
            r = ranges.setdefault(name, [lo, hi])
            r[0], r[1] = min(r[0], lo), max(r[1], hi)
    y = x
    for i, c in enumerate(m.body):
        y = F.relu(c(y))
        obs("/body.%d/Conv_output_0" % i, y)
    r = m.last(y)
    obs("/last/Conv_output_0", r)
    a = sr_models.anchor(x, m.scale)
    obs("/Concat_output_0", a)
    y = r + a
    obs("/Add_output_0", y)
    y = sr_models.depth_to_space_dcr(y, m.scale)
    return torch.clamp(y, 0, 1) if m.clipped else y


def forward_fq(m, x, qp, anchor_rq=False):
    """Fake-quant forward in float64; x is on the pixel grid already."""
    x = x.double()
    s_in = PIXEL[0]
    y = x
    for i, c in enumerate(list(m.body) + [m.last]):
        w, s_w = fq_weight(c.weight.double())
        b = rhaz(c.bias.double() / (s_in * s_w)) * (s_in * s_w)
        y = F.conv2d(y, w, b, padding=1)
        name = "/body.%d/Conv_output_0" % i if c is not m.last else "/last/Conv_output_0"
        if c is not m.last:
            y = F.relu(y)
        y = fq(y, qp[name])
        s_in = qp[name][0]
    a = sr_models.anchor(x, m.scale)
    if anchor_rq:
        a = fq(a, qp["/Concat_output_0"])
    y = fq(y + a, PIXEL)              # the Add requantises onto the pixel grid
    return sr_models.depth_to_space_dcr(y, m.scale)


# --- metrics (as tools/c/cfqp-eval) -------------------------------------------

def to_bytes(y):
    return torch.clamp(torch.round(y.double() * 255.0), 0, 255)[0].numpy()


def luma(b):
    return 16.0 + (65.481 * b[0] + 128.553 * b[1] + 24.966 * b[2]) / 255.0


def psnr(mse):
    return 10.0 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def y_psnr(out, hr, shave):
    d = (luma(out) - luma(hr))[shave:-shave, shave:-shave]
    return psnr(float(np.mean(d * d)))


def bytes_psnr(a, b):
    return psnr(float(np.mean((a - b) ** 2)))


# --- RD construction ---------------------------------------------------------

def range_copy(m, x, steps=6):
    """clamp(a·x + b) with f(x') spanning [0, 1] (1st/99th percentiles)."""
    a, b = 1.0, 0.0
    for _ in range(steps):
        xp = torch.clamp(a * x + b, 0, 1)
        with torch.no_grad():
            y = forward_observe(m, xp)
        lo, hi = np.percentile(y.numpy(), [1, 99])
        if hi - lo < 1e-3:
            break
        g = 1.0 / (hi - lo)
        if abs(g - 1) < 0.01 and abs(lo) < 0.005:
            break
        a, b = min(a * g, 8.0), (b - lo) * g
    return torch.clamp(a * x + b, 0, 1)


def calibrate(m, images):
    ranges = {}
    with torch.no_grad():
        for x in images:
            forward_observe(m, x, ranges)
    return ranges, {k: qparams(*v) for k, v in ranges.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(os.path.dirname(TOOLS), "models", "abpn-x3.onnx"))
    ap.add_argument("--engine", help="tools/c/cfqp-eval binary: FP32 byte check and the engine's "
                    "dim-RD min/max calibration table for the range comparison")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    g, m, s = load_model(args.model)
    ev = os.path.join(TOOLS, ".cache", "eval", "x%d" % s)
    if not os.path.exists(os.path.join(ev, "val.txt")):
        subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "pipeline", "eval_data.py"), "--scale", str(s)],
                       check=True)

    def pairs(name):
        return [l.split() for l in open(os.path.join(ev, name)).read().split("\n") if l.strip()]

    val = {c: [(load_ppm(lr), to_bytes(load_ppm(hr)), os.path.basename(hr)) for lr, hr in pairs(f)]
           for c, f in (("plain", "val.txt"), ("saturated", "val-sat.txt"))}
    rd_m = [load_ppm(p) for p, in pairs("rd-matched.txt")]
    rd_d = [load_ppm(p) for p, in pairs("rd-dim.txt")]

    # FP32 checks
    x0 = val["plain"][0][0]
    with torch.no_grad():
        y0 = forward_observe(m, x0)
    err = float(np.abs(sr_models.onnx_eval_numpy(g, x0.numpy().astype(np.float64)) - y0.numpy()).max())
    print("FP32 torch vs NumPy ONNX evaluator, %s: max |diff| %.2e" % (val["plain"][0][2], err))
    assert err < 1e-4, err
    engine_calib = None
    if args.engine:
        with tempfile.TemporaryDirectory() as td:
            lst = os.path.join(td, "one.txt")
            open(lst, "w").write(" ".join(pairs("val.txt")[0]) + "\n")
            subprocess.run([args.engine, "--model", args.model, "--val", lst, "--rd",
                            os.path.join(ev, "rd-dim.txt"), "--observers", "minmax", "--augments",
                            "none", "--threads", "1", "--save-dir", td, "--calibration-out",
                            os.path.join(td, "dim.json")], check=True, capture_output=True)
            eng = np.asarray(Image.open(os.path.join(td, val["plain"][0][2] + "-fp32.ppm")),
                             dtype=np.float64).transpose(2, 0, 1)
            engine_calib = json.load(open(os.path.join(td, "dim.json")))
        ours = to_bytes(y0)
        print("FP32 engine vs torch output bytes: %d of %d differ, max |diff| %d"
              % (int((eng != ours).sum()), eng.size, int(np.abs(eng - ours).max())))

    fp32 = {}
    for c, vs in val.items():
        with torch.no_grad():
            outs = [to_bytes(forward_observe(m, x)) for x, _, _ in vs]
        fp32[c] = outs
        print("FP32 %-9s Y-PSNR %.3f dB" % (c, np.mean([y_psnr(o, hr, s) for o, (_, hr, _) in
                                                        zip(outs, vs)])))

    rds = [("matched", rd_m), ("dim", rd_d), ("dim-4", rd_d[:4]),
           ("dim + range", rd_d + [range_copy(m, x) for x in rd_d])]
    results, tables = [], {}
    for rd_name, imgs in rds:
        ranges, qp = calibrate(m, imgs)
        tables[rd_name] = ranges
        for mode in ("grid", "anchor-rq"):
            row = {"rd": rd_name, "mode": mode}
            for c, vs in val.items():
                with torch.no_grad():
                    outs = [to_bytes(forward_fq(m, x, qp, anchor_rq=(mode == "anchor-rq")))
                            for x, _, _ in vs]
                f = np.mean([y_psnr(o, hr, s) for o, (_, hr, _) in zip(fp32[c], vs)])
                q8 = np.mean([y_psnr(o, hr, s) for o, (_, hr, _) in zip(outs, vs)])
                row[c] = {"fp32": f, "int8": q8, "delta": q8 - f,
                          "q": np.mean([bytes_psnr(o, r) for o, r in zip(outs, fp32[c])])}
            results.append(row)
            print("%-12s %-9s " % (rd_name, mode) + "  ".join(
                "%s FP32 %.3f INT8 %.3f Δ %+.3f q %.1f" % (c, r["fp32"], r["int8"], r["delta"], r["q"])
                for c, r in ((c, row[c]) for c in ("plain", "saturated"))), flush=True)

    print("\nPer-tensor min/max (fake-quant FP32 observation) on the RDs:")
    names = list(tables["dim"])
    eng = {t["name"]: t for t in engine_calib["tensors"]} if engine_calib else {}
    print("%-24s %19s %19s %s" % ("tensor", "matched", "dim", "engine dim (min/max, scale, zp)"
                                  if eng else ""))
    for n in names:
        e = eng.get(n)
        print("%-24s %8.4f..%8.4f %8.4f..%8.4f %s" % (
            n, tables["matched"][n][0], tables["matched"][n][1], tables["dim"][n][0],
            tables["dim"][n][1], "%8.4f..%8.4f  %.6f %d" % (e["min"], e["max"], e["scale"],
                                                           e["zero_point"]) if e else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "ranges": tables,
                       "engine_dim_calibration": engine_calib}, f, indent=1)


if __name__ == "__main__":
    main()
