#!/usr/bin/python3
"""Where a shipped XLSR model loses to INT8: a PyTorch simulation of the
engine's arithmetic with the shipped calibration's activation parameters.

    /usr/bin/python3 tools/research/xlsr_int8_probe.py --model models/xlsr-x2.onnx --scale 2

Weights are int8 symmetric per output channel (max|w|/127), rounded either
to nearest or as the engine does since cfqp-int8-weights.c (each filter
keeping the rounded sum of its taps); activations are fake-quantised per
tensor with the scale and zero point of models/<name>.calib.json.  Biases
and the integer requantisation are not simulated, so the figures are near
the engine's (xlsr-x2, tap sums: 47.0 simulated, 48.1 dB in docs/results.md),
not its bytes.  Prints PSNR(INT8, FP32) on
the bytes of the textured validation crops (tools/pipeline/eval_data.py) with
everything quantised, weights only, activations only, and the weights of
one layer at a time.  ~2 min on one thread.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOOLS, "pipeline"))
import sr_models  # noqa: E402
from fakequant_check import fq, rhaz  # noqa: E402  (the engine's rounding and activation fake-quant)


def quantize_weight(w, tap_sums):
    s = (w.abs().flatten(1).max(1)[0].clamp(min=1e-12) / 127)[:, None, None, None]
    u = (w / s).double()
    q = rhaz(u).clamp(-127, 127)
    if tap_sums:
        # each (output, input) filter keeps round(sum of its exact taps): the
        # taps rounded farthest against the needed direction move one step
        qf, uf = q.flatten(2), u.flatten(2)
        for o in range(qf.shape[0]):
            for i in range(qf.shape[1]):
                need = int(rhaz(uf[o, i].sum()) - qf[o, i].sum())
                d = 1 if need > 0 else -1
                for _ in range(abs(need)):
                    r = d * (uf[o, i] - qf[o, i])
                    r[(qf[o, i] + d).abs() > 127] = -1
                    k = int(r.argmax())
                    if r[k] <= 0:
                        break
                    qf[o, i, k] += d
        q = qf.reshape(q.shape)
    return (q * s).float()


class Sim:
    def __init__(self, model, calib, tap_sums):
        self.m, self.cal, self.tap_sums = model, calib, tap_sums
        self.wq = {mod: quantize_weight(mod.weight, tap_sums)
                   for mod in model.modules() if isinstance(mod, torch.nn.Conv2d)}

    def act(self, x, name, acts):
        if not acts:
            return x
        t = self.cal[name]
        return fq(x, (t["scale"], t["zero_point"]))

    def conv(self, mod, x, name, acts, wset, relu):
        w = self.wq[mod] if mod in wset else mod.weight
        y = F.conv2d(x, w, mod.bias, padding=mod.padding, groups=mod.groups)
        return self.act(F.relu(y) if relu else y, name, acts)

    def forward(self, x, acts, wset):
        """XLSR's forward (tools/pipeline/sr_models.py) with the ONNX tensor names."""
        m = self.m
        x = self.act(x, "input", acts)
        h = self.conv(m.head, x, "/head/Conv_output_0", acts, wset, True)
        t = self.conv(m.head_1x1, h, "/head_1x1/Conv_output_0", acts, wset, False)
        for i, (gc, pw) in enumerate(zip(m.gconvs, m.g1x1)):
            g = self.conv(gc, t, "/gconvs.%d/Conv_output_0" % i, acts, wset, True)
            t = self.conv(pw, g, "/g1x1.%d/Conv_output_0" % i, acts, wset, False)
        side = self.conv(m.side, x, "/side/Conv_output_0", acts, wset, False)
        c = self.act(torch.cat([side, t], 1), "/Concat_output_0", acts)
        mix = self.conv(m.mix, c, "/mix/Conv_output_0", acts, wset, True)
        tail = self.conv(m.tail, mix, "/tail/Conv_output_0", acts, wset, not m.clipped)
        y = m.shuffle(tail)
        y = torch.clamp(y, 0, 1) if m.clipped else y
        return self.act(y, "/shuffle/DepthToSpace_output_0", acts)


def psnr_bytes(a, b):
    a, b = (torch.clamp(torch.round(t * 255), 0, 255) for t in (a, b))
    mse = float(((a - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--calibration", help="default: the model's .calib.json beside it")
    args = ap.parse_args()
    torch.set_num_threads(1)
    name = os.path.basename(args.model)[:-len(".onnx")]
    m = sr_models.build("xlsr", args.scale, name.endswith("-clipped"))
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(args.model).graph.initializer}
    m.load_state_dict({k: torch.from_numpy(init[k].copy()) for k in m.state_dict()})
    m.eval()
    calib = args.calibration or args.model[:-len(".onnx")] + ".calib.json"
    cal = {t["name"]: t for t in json.load(open(calib))["tensors"]}
    crops = sorted(glob.glob(os.path.join(TOOLS, ".cache", "eval", "x%d" % args.scale, "*[0-9]-lr.ppm")))
    if not crops:
        sys.exit("no validation crops: run /usr/bin/python3 tools/pipeline/eval_data.py --scale %d" % args.scale)
    lrs = [torch.from_numpy(np.asarray(Image.open(p).convert("RGB"), np.float32) / 255)
           .permute(2, 0, 1)[None] for p in crops]
    convs = [(n, mod) for n, mod in m.named_modules() if isinstance(mod, torch.nn.Conv2d)]
    print("%s, %d crops: PSNR(INT8, FP32) dB, simulated" % (name, len(lrs)))
    with torch.no_grad():
        ref = [m(x) for x in lrs]
        for tap_sums in (False, True):
            sim = Sim(m, cal, tap_sums)

            def score(acts, wset):
                return np.mean([psnr_bytes(sim.forward(x, acts, wset), r) for x, r in zip(lrs, ref)])
            allw = {mod for _, mod in convs}
            print("weights rounded %s:" % ("keeping tap sums" if tap_sums else "to nearest"))
            print("  everything %.1f, weights only %.1f, activations only %.1f" % (
                score(True, allw), score(False, allw), score(True, set())))
            print("  weights of one layer: " + ", ".join(
                "%s %.1f" % (n, score(False, {mod})) for n, mod in convs), flush=True)


if __name__ == "__main__":
    main()
