#!/usr/bin/python3
"""Data-aware rounding of the int8 conv weights (GPTQ, Frantar et al. 2023:
each tap rounded in turn, its error spread over the taps not yet rounded
through the inverse of the RD's input second moments, so that the conv's
output error on the RD, mean included, is least), folded into a copy of the
float model as weights already on the engine's grid: the engine's per
channel scale (max|w|/127) and tap-sum rounding then keep them exactly, so
cfqp-eval measures the technique with no change to the engine.

    /usr/bin/python3 tools/research/gptq_weights.py --model M.onnx --qdq /tmp/M-qdq.onnx \
        --rd tools/.cache/eval/x2/rd-matched.txt --out /tmp/M-gptq.onnx

Needs only the FP32 model and the RD (the conv inputs are the FP32 model's);
--qdq (cfqp-qdq export) only supplies the graph interpreter.  A channel whose
largest tap would not stay at ±127 keeps the engine's own rounding.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from int8_layer_probe import QDQ, attr, load, rhaz  # noqa: E402


def gptq_rows(W, s, H):
    """W: rows × d (float64), s: per-row step, H: d × d.  Returns integer taps."""
    W = W.clone()
    d = W.shape[1]
    H = H + torch.eye(d, dtype=H.dtype) * 0.01 * float(H.diagonal().mean() + 1e-12)
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.zeros_like(W)
    for i in range(d):
        w = W[:, i]
        q = torch.clamp(rhaz(w / s), -127, 127)
        Q[:, i] = q
        err = (w - q * s) / Hinv[i, i]
        W[:, i + 1:] -= err[:, None] * Hinv[i, i + 1:][None, :]
    return Q


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--qdq", required=True)
    ap.add_argument("--rd", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--add-gain", type=float, default=0,
                    help="also fit on every RD image at this exposure gain (bytes, clipped): "
                    "saturated highlights that a dim or matched RD lacks")
    args = ap.parse_args()
    torch.set_num_threads(1)
    net = QDQ(args.qdq, args.model)
    rd = [load(l.strip()) for l in open(args.rd) if l.strip()]
    if args.add_gain:
        rd += [torch.clamp(rhaz(x * 255 * args.add_gain), 0, 255) / 255 for x in rd]
    convs = {n.output[0]: n for n in net.nodes if n.op_type == "Conv"}
    new_w = {}
    with torch.no_grad():
        pres = []
        for x in rd:
            p = {}
            net.run(x, set(), set(), pre=p)
            pres.append(p)
        for c, n in convs.items():
            w, _ = net.fw[c]
            oc, icg, kh, kw = w.shape
            g = attr(n, "group", 1)
            pads = attr(n, "pads", [0, 0, 0, 0])
            s = torch.from_numpy((w.abs().flatten(1).max(1)[0].numpy() / 127.0).astype(np.float32).astype(np.float64))
            s = torch.where(s > 0, s, torch.ones_like(s))
            Q = torch.zeros(oc, icg * kh * kw, dtype=torch.float64)
            ocg = oc // g
            for gi in range(g):
                H = 0
                cnt = 0
                for p in pres:
                    xin = F.pad(p[c + "/in"][:, gi * icg:(gi + 1) * icg], (pads[1], pads[3], pads[0], pads[2]))
                    X = F.unfold(xin, (kh, kw), dilation=tuple(attr(n, "dilations", [1, 1])),
                                 stride=tuple(attr(n, "strides", [1, 1])))[0]   # d × L
                    H = H + X @ X.T
                    cnt += X.shape[1]
                H = H / cnt
                rows = slice(gi * ocg, (gi + 1) * ocg)
                Q[rows] = gptq_rows(w[rows].flatten(1), s[rows], H)
            keep = Q.abs().max(1)[0] == 127
            wq = (Q * s[:, None]).reshape(w.shape)
            wq[~keep] = w[~keep]
            new_w[n.input[1]] = wq.float().numpy()
            print("%s: %d of %d channels rounded by GPTQ" % (c, int(keep.sum()), oc), flush=True)
    m = onnx.load(args.model)
    fconv = {nd.output[0]: nd for nd in m.graph.node if nd.op_type == "Conv"}
    inits = {t.name: t for t in m.graph.initializer}
    for c, n in convs.items():
        t = inits[fconv[c].input[1]]
        t.CopyFrom(numpy_helper.from_array(new_w[n.input[1]], t.name))
    onnx.save(m, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
