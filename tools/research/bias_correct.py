#!/usr/bin/python3
"""Bias correction of the expected INT8 error per output channel, folded into
a copy of the float model, so that the engine measures it (cfqp-eval) with no
change to the engine: the int8 weights of the copy are those of the original
(the weights are untouched; only biases move, and a conv without bias gets
one), and every backend runs it bit-exact with ref.

    build/tools/c/cfqp-qdq export --model M.onnx --calib M.calib.json --out /tmp/M-qdq.onnx
    /usr/bin/python3 tools/research/bias_correct.py --model M.onnx --qdq /tmp/M-qdq.onnx \
        --rd tools/.cache/eval/x2/rd-matched.txt --mode weights --out /tmp/M-bc.onnx

Needs only the FP32 model and the RD (no ground truth, no training):
  weights  each conv's own weight-rounding error on its FP32 input, averaged
           per output channel over the RD: sum over inputs and taps of
           (w_int8 - w) * mean of the input channel (what a calibration
           holding per-channel input means could apply at program build)
  all      the mean error of the simulated INT8 net (tools/research/int8_layer_probe.py's
           interpreter of the QDQ export) at each conv's output, convs in
           order, each correction seen by the next (Nagel et al. 2019's
           empirical bias correction)
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from int8_layer_probe import QDQ, load  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--qdq", required=True, help="cfqp-qdq export of --model with its calibration")
    ap.add_argument("--rd", required=True, help="list of LR images (the representative dataset)")
    ap.add_argument("--mode", choices=("weights", "all"), default="weights")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    net = QDQ(args.qdq, args.model)
    rd = [load(l.strip()) for l in open(args.rd) if l.strip()]
    with torch.no_grad():
        fpre = []
        for x in rd:
            p = {}
            net.run(x, set(), set(), pre=p)
            fpre.append(p)
        for c in net.convs:
            d = 0
            for x, f in zip(rd, fpre):
                p = {}
                if args.mode == "weights":
                    net.run(x, set(), {c}, pre=p)
                else:
                    net.run(x, set(net.acts), set(net.convs), pre=p)
                d = d + (p[c] - f[c]).mean(dim=(0, 2, 3)) / len(rd)
            net.bias_delta[c] = net.bias_delta.get(c, 0) - d
            print("%s: mean |correction| %.5f, max %.5f" % (c, float(d.abs().mean()), float(d.abs().max())))
    m = onnx.load(args.model)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    for n in g.node:
        if n.op_type not in ("Conv", "ConvTranspose") or n.output[0] not in net.bias_delta:
            continue
        delta = net.bias_delta[n.output[0]].numpy()
        if len(n.input) > 2 and n.input[2]:
            t = inits[n.input[2]]
            b = numpy_helper.to_array(t).astype(np.float64) + delta
            t.CopyFrom(numpy_helper.from_array(b.astype(np.float32), t.name))
        else:
            name = n.output[0] + "/bias_correction"
            g.initializer.append(numpy_helper.from_array(delta.astype(np.float32), name))
            while len(n.input) < 2:
                raise SystemExit("conv without weights")
            if len(n.input) == 2:
                n.input.append(name)
            else:
                n.input[2] = name
    onnx.save(m, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
