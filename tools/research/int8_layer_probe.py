#!/usr/bin/python3
"""Where INT8 error is born, layer by layer, for any model the engine runs.

    build/tools/c/cfqp-qdq export --model models/xlsr-x2.onnx \
        --calib models/xlsr-x2.calib.json --out /tmp/xlsr-x2-qdq.onnx
    /usr/bin/python3 tools/research/int8_layer_probe.py --qdq /tmp/xlsr-x2-qdq.onnx \
        --model models/xlsr-x2.onnx --scale 2 [--sets val-photos,val-photos-sat]

The QDQ file is the engine's own export (cfqp-qdq): the activation scales and
zero points as the engine resolves them (pixel grid at input and output, data
moves sharing), the int8 weights as the engine rounds them (tap sums kept)
and the int32 biases.  This script interprets it in PyTorch (float64 conv,
then the fake-quant of each QuantizeLinear, rounding half away from zero), so
its figures are near the engine's, not its bytes (the engine requantises with
31-bit fixed-point multipliers).  FP32 is the same graph with every Q/DQ pair
an identity and the float weights of --model.

On every image of the sets (tools/pipeline/eval_data.py lists: by default the whole
validation photos, plain and saturated ×1.6), prints:
  all INT8          PSNR(INT8, FP32) of the output bytes (the engine's metric)
  per tensor        cumulative: RMS error of the INT8 tensor against FP32 in
                    steps of its own grid, and the mean error (bias) in steps;
                    isolated: output PSNR with only this tensor's activation
                    quantised (everything else FP32); and with everything
                    quantised but this tensor (what fixing it alone would buy)
  per conv          isolated: output PSNR with only this conv's int8 weights and
                    int32 bias (activations FP32)
~1-3 min per model and set on one thread.
"""
import argparse
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


def rhaz(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


class QDQ:
    def __init__(self, qdq_path, float_path):
        g = onnx.load(qdq_path).graph
        self.nodes = list(g.node)
        self.init = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64))
                     for t in g.initializer}
        fg = onnx.load(float_path).graph
        finit = {t.name: numpy_helper.to_array(t) for t in fg.initializer}
        # the float weights and biases of each conv, by the conv's output name
        self.fw = {}
        for n in fg.node:
            if n.op_type in ("Conv", "ConvTranspose"):
                w = torch.from_numpy(finit[n.input[1]].astype(np.float64))
                b = torch.from_numpy(finit[n.input[2]].astype(np.float64)) if len(n.input) > 2 and n.input[2] else None
                self.fw[n.output[0]] = (w, b)
        self.out_name = g.output[0].name
        # activation quantisers: QuantizeLinear nodes on activations
        self.acts = [n.input[0] for n in self.nodes if n.op_type == "QuantizeLinear"]
        self.convs = [n.output[0] for n in self.nodes if n.op_type in ("Conv", "ConvTranspose")]
        self.qp = {n.input[0]: (float(self.init[n.input[1]]), float(self.init[n.input[2]]))
                   for n in self.nodes if n.op_type == "QuantizeLinear"}
        self.bias_delta = {}   # conv output name -> the bias correction added to it
        self.grids = {}        # activation name -> (scale, zero point) of --grids, (1, C, 1, 1)
        self.wide = set()      # activations of --wide: 16-bit grids over the same range
        self.wide_w = set()    # convs of --wide-weights: int16 taps per output channel

    def fold_channel_steps(self, calib_path):
        """Fold a calibration's channel steps into the float weights, as the
        engine's export folds them into the QDQ file (docs/int8-arithmetic.md,
        "Channel steps"): the conv computing a stepped tensor has its output
        channel c divided by k_c, every conv reading it its input channel c
        multiplied by k_c.  The float model then computes the same function
        on the QDQ file's grids, so float and int8 convs can be mixed."""
        import json
        steps = json.load(open(calib_path)).get("channel_steps", [])
        for st in steps:
            t, k = st["tensor"], torch.tensor(st["steps"], dtype=torch.float64)
            w, b = self.fw[t]
            self.fw[t] = (w / k.reshape(-1, 1, 1, 1), b / k if b is not None else None)
            for n in self.nodes:
                if n.op_type == "Conv" and n.input[0].startswith(t + "/"):
                    cw, cb = self.fw[n.output[0]]
                    g = attr(n, "group", 1)
                    cout, cin_g = cw.shape[0], cw.shape[1]
                    # w[o, j] reads input channel (o // (cout / g)) * cin_g + j
                    o = torch.arange(cout).reshape(-1, 1) // (cout // g)
                    idx = o * cin_g + torch.arange(cin_g).reshape(1, -1)
                    self.fw[n.output[0]] = (cw * k[idx].reshape(cout, cin_g, 1, 1), cb)
        return len(steps)

    def set_grids(self, rd, names, per_channel):
        """Min/max grids of the named activations from their FP32 values on the
        LR images rd, per channel or per tensor (the range always holds 0, as
        calib's observers make it)."""
        lo, hi = {}, {}
        for x in rd:
            rec = {}
            self.run(x, set(), set(), rec)
            for t in names:
                v = rec[t]
                mn, mx = v.amin(dim=(0, 2, 3)), v.amax(dim=(0, 2, 3))
                lo[t] = torch.minimum(lo[t], mn) if t in lo else mn
                hi[t] = torch.maximum(hi[t], mx) if t in hi else mx
        for t in names:
            l, h = torch.clamp(lo[t], max=0), torch.clamp(hi[t], min=0)
            if not per_channel:
                l, h = l.min().expand_as(l), h.max().expand_as(h)
            sc = torch.clamp((h - l) / 255, min=1e-12)
            self.grids[t] = (sc.reshape(1, -1, 1, 1), torch.round(-l / sc).reshape(1, -1, 1, 1))

    def run(self, x, qacts, qconvs, record=None, pre=None):
        """qacts: names of activations (QuantizeLinear inputs) quantised;
        qconvs: conv output names whose int8 weights/biases are used."""
        env = {"input": x}
        for n in self.nodes:
            op = n.op_type
            if op == "QuantizeLinear":
                v = env[n.input[0]]
                if n.input[0] in qacts:
                    if n.input[0] in self.grids:       # --grids: per-channel or RD ranges
                        s, z = self.grids[n.input[0]]
                    else:
                        s, z = float(self.init[n.input[1]]), float(self.init[n.input[2]])
                    top = 255
                    if n.input[0] in self.wide:        # same range, 257x finer steps
                        s, z, top = s / 257, z * 257, 65535
                    v = (torch.clamp(rhaz(v / s) + z, 0, top) - z) * s
                env[n.output[0]] = v
                if record is not None:
                    record[n.input[0]] = v
            elif op == "DequantizeLinear":
                if n.input[0] in self.init:      # weights or bias: computed in Conv
                    continue
                env[n.output[0]] = env[n.input[0]]
            elif op in ("Conv", "ConvTranspose"):
                name = n.output[0]
                if name in qconvs and name in self.wide_w:   # int16 taps, symmetric per channel
                    w, b = self.fw[name]
                    ws = torch.clamp(w.abs().amax(dim=tuple(range(1, w.dim())), keepdim=True) / 32767,
                                     min=1e-30)
                    w = rhaz(w / ws) * ws
                elif name in qconvs:
                    def dq(t):
                        q = self.init[t + "_q"]
                        s = self.init[t + "_scale"]
                        shape = [-1] + [1] * (q.dim() - 1)
                        return q * s.reshape(shape) if s.dim() else q * s
                    w = dq(n.input[1][:-len("/w")] + "/w")
                    b = dq(n.input[2][:-len("/b")] + "/b") if len(n.input) > 2 else None
                else:
                    w, b = self.fw[name]
                pads = attr(n, "pads", [0, 0, 0, 0])
                xin = env[n.input[0]]
                if pre is not None:
                    pre[name + "/in"] = xin
                xin = F.pad(xin, (pads[1], pads[3], pads[0], pads[2]))
                kw = dict(stride=tuple(attr(n, "strides", [1, 1])),
                          dilation=tuple(attr(n, "dilations", [1, 1])), groups=attr(n, "group", 1))
                env[name] = (F.conv2d if op == "Conv" else F.conv_transpose2d)(xin, w, b, **kw)
                if name in qconvs and name in self.bias_delta:
                    env[name] = env[name] + self.bias_delta[name].reshape(1, -1, 1, 1)
                if pre is not None:
                    pre[name] = env[name]
            elif op == "Relu":
                env[n.output[0]] = F.relu(env[n.input[0]])
            elif op == "LeakyRelu":
                env[n.output[0]] = F.leaky_relu(env[n.input[0]], attr(n, "alpha", 0.01))
            elif op == "PRelu":
                sl = self.init[n.input[1]]
                v = env[n.input[0]]
                env[n.output[0]] = torch.where(v >= 0, v, v * sl.reshape(1, -1, 1, 1))
            elif op == "Clip":
                lo = self.init[n.input[1]] if len(n.input) > 1 and n.input[1] else -np.inf
                hi = self.init[n.input[2]] if len(n.input) > 2 and n.input[2] else np.inf
                env[n.output[0]] = torch.clamp(env[n.input[0]], float(lo), float(hi))
            elif op == "Add":
                env[n.output[0]] = env[n.input[0]] + env[n.input[1]]
            elif op == "Mul":
                env[n.output[0]] = env[n.input[0]] * env[n.input[1]]
            elif op == "Concat":
                env[n.output[0]] = torch.cat([env[i] for i in n.input], attr(n, "axis", 1))
            elif op == "DepthToSpace":
                b = attr(n, "blocksize")
                v = env[n.input[0]]
                if attr(n, "mode", b"DCR") in (b"CRD", "CRD"):
                    env[n.output[0]] = F.pixel_shuffle(v, b)
                else:
                    N, C, H, W = v.shape
                    v = v.reshape(N, b, b, C // (b * b), H, W).permute(0, 3, 4, 1, 5, 2)
                    env[n.output[0]] = v.reshape(N, C // (b * b), H * b, W * b)
            elif op == "Identity":
                env[n.output[0]] = env[n.input[0]]
            else:
                raise SystemExit("unsupported op %s" % op)
        return env[self.out_name + "/dq"] if self.out_name + "/dq" in env else env[self.out_name]


def to_bytes(y):
    return torch.clamp(rhaz(y * 255), 0, 255)


def psnr(a, b):
    mse = float(((to_bytes(a) - to_bytes(b)) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def load(path):
    a = np.asarray(Image.open(path).convert("RGB"), np.float64) / 255
    return torch.from_numpy(a).permute(2, 0, 1)[None].contiguous()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qdq", required=True, help="the engine's QDQ export (cfqp-qdq export)")
    ap.add_argument("--model", required=True, help="the float model it was exported from")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--sets", default="val-photos,val-photos-sat")
    ap.add_argument("--summary", action="store_true", help="only the all-INT8 line per set")
    ap.add_argument("--bias-mode", choices=("all", "weights"), default="all",
                    help="correct the mean error of everything quantised upstream (all) or of "
                    "each conv's own weights on FP32 inputs (weights: needs only channel means)")
    ap.add_argument("--bias-correct", metavar="RD.txt",
                    help="simulate empirical bias correction from these LR images first")
    ap.add_argument("--grids", metavar="T1,T2,...",
                    help="give these activations min/max grids from --grids-rd instead of the "
                    "calibration's (the names the per-tensor lines print)")
    ap.add_argument("--grids-rd", metavar="RD.txt", help="LR images for --grids")
    ap.add_argument("--per-channel", action="store_true",
                    help="with --grids: one grid per channel (not what the engine runs: "
                    "its activation grids are per tensor)")
    ap.add_argument("--wide", metavar="T1,T2,...|all",
                    help="quantise these activations on 16-bit grids over the calibration's "
                    "range (what uint16 picture tensors would give)")
    ap.add_argument("--wide-weights", metavar="C1,C2,...|all",
                    help="give these convs (their output names) int16 taps per output channel "
                    "instead of the calibration's int8 ones, float biases")
    ap.add_argument("--calib", metavar="M.calib.json",
                    help="the calibration the QDQ file was exported with: its channel steps are "
                    "folded into the float weights (needed for a calibration with channel steps "
                    "wherever float weights meet the file's grids)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    net = QDQ(args.qdq, args.model)
    if args.calib:
        print("folded the channel steps of %d tensors" % net.fold_channel_steps(args.calib))
    if args.wide:
        net.wide = set(net.acts) if args.wide == "all" else set(args.wide.split(","))
        unknown = net.wide - set(net.acts)
        if unknown:
            raise SystemExit("--wide: no activation %s" % ", ".join(sorted(unknown)))
    if args.wide_weights:
        net.wide_w = set(net.convs) if args.wide_weights == "all" else set(args.wide_weights.split(","))
        unknown = net.wide_w - set(net.convs)
        if unknown:
            raise SystemExit("--wide-weights: no conv %s" % ", ".join(sorted(unknown)))
    if args.grids:
        rd = [load(l.split()[0]) for l in open(args.grids_rd) if l.strip()]
        with torch.no_grad():
            net.set_grids(rd, args.grids.split(","), args.per_channel)
        for t in args.grids.split(","):
            sc = net.grids[t][0].flatten()
            print("grid %s: %s, scale %.5f..%.5f" % (
                t, "per channel" if args.per_channel else "per tensor", float(sc.min()),
                float(sc.max())))
    if args.bias_correct:
        rd = [load(l.strip()) for l in open(args.bias_correct) if l.strip()]
        with torch.no_grad():
            fpre = []
            for x in rd:
                p = {}
                net.run(x, set(), set(), pre=p)
                fpre.append(p)
            for c in net.convs:     # topological order: earlier corrections seen downstream
                qpre = []
                for x in rd:
                    p = {}
                    if args.bias_mode == "weights":   # FP32 inputs, this conv's int8 weights only
                        net.run(x, set(), {c}, pre=p)
                    else:
                        net.run(x, set(net.acts), set(net.convs), pre=p)
                    qpre.append(p)
                d = sum((q[c] - f[c]).mean(dim=(0, 2, 3)) for q, f in zip(qpre, fpre)) / len(rd)
                net.bias_delta[c] = net.bias_delta.get(c, 0) - d
                print("bias correction %s: mean |delta| %.5f (max %.5f)" % (
                    c, float(d.abs().mean()), float(d.abs().max())), flush=True)
    allq = set(net.acts)
    allw = set(net.convs)
    ev = os.path.join(TOOLS, ".cache", "eval", "x%d" % args.scale)
    print("%s (%s)" % (os.path.basename(args.qdq), args.model))
    with torch.no_grad():
        for st in args.sets.split(","):
            lrs = [load(l.split()[0]) for l in open(os.path.join(ev, st + ".txt")) if l.strip()]
            ref, refrec = [], []
            for x in lrs:
                r = {}
                ref.append(net.run(x, set(), set(), r))
                refrec.append(r)

            def score(qa, qw, rec=None):
                out = []
                for i, x in enumerate(lrs):
                    r = {} if rec is not None else None
                    out.append(psnr(net.run(x, qa, qw, r), ref[i]))
                    if rec is not None:
                        rec.append(r)
                return float(np.mean(out))

            recs = []
            full = score(allq, allw, recs)
            print("\n[%s, %d images] all INT8: PSNR(INT8, FP32) %.2f dB; weights only %.2f, "
                  "activations only %.2f" % (st, len(lrs), full, score(set(), allw), score(allq, set())),
                  flush=True)
            if args.summary:
                continue
            print("%-36s %8s %8s %8s %8s %8s" % ("tensor", "scale", "rms/st", "mean/st", "only", "all-but"))
            for t in net.acts:
                s, _ = net.qp[t]
                err = torch.cat([(recs[i][t] - refrec[i][t]).flatten() for i in range(len(lrs))])
                print("%-36s %8.5f %8.3f %+8.3f %8.2f %8.2f" % (
                    t, s, float(err.pow(2).mean().sqrt()) / s, float(err.mean()) / s,
                    score({t}, set()), score(allq - {t}, allw)), flush=True)
            print("%-36s %8s %8s" % ("conv weights+bias", "only", "all-but"))
            for c in net.convs:
                print("%-36s %8.2f %8.2f" % (c, score(set(), {c}), score(allq, allw - {c})), flush=True)


if __name__ == "__main__":
    main()
