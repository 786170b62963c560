#!/usr/bin/python3
"""Per-channel activation grids folded into a copy of the float model
(activation equalisation), so that the unchanged engine measures them
(cfqp-eval) with real INT8 bytes.

Each ReLU/PReLU output that one conv produces and only convs consume is
rescaled per channel: y'_c = y_c / k_c, with the producing conv's output
channel c (weights and bias) divided by k_c and every consuming conv's input
channel c multiplied by k_c; ReLU and PReLU commute with a positive scale,
so the copy computes the same function in FP32.  A per-tensor grid on y' is
a per-channel grid on y, of step proportional to k_c.

    k_c = max(m_c / max_c' m_c', floor) ** alpha

m_c: the channel's maximum over the RD (FP32).  alpha 1 gives every channel
the same range; alpha 0.5 splits the gain between the activation's grid and
the consuming conv's weight grid (whose per-output-channel scale sees
w * k_c).

    build/tools/c/cfqp-qdq export --model M.onnx --calib M.calib.json --out Q.onnx
    /usr/bin/python3 tools/research/equalize.py --model M.onnx --qdq Q.onnx \
        --rd tools/.cache/eval/x2/rd-matched.txt --alpha 1 --out M-eq.onnx
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
    ap.add_argument("--qdq", required=True, help="cfqp-qdq export of --model (its float run records the activations)")
    ap.add_argument("--rd", required=True)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--floor", type=float, default=1 / 16)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    m = onnx.load(args.model)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}
    cands = []
    for n in g.node:
        if n.op_type not in ("Relu", "PRelu"):
            continue
        p = producer.get(n.input[0])
        cs = consumers.get(n.output[0], [])
        if (p is None or p.op_type != "Conv" or len(consumers[n.input[0]]) != 1 or not cs
                or n.output[0] in outputs or any(c.op_type != "Conv" or c.input[0] != n.output[0] for c in cs)):
            continue
        if n.op_type == "PRelu" and numpy_helper.to_array(inits[n.input[1]]).size not in (1,):
            pass  # per-channel slopes stay valid: a positive scale commutes with them
        cands.append((n, p, cs))
    net = QDQ(args.qdq, args.model)
    rd = [load(l.strip()) for l in open(args.rd) if l.strip()]
    hi = {}
    with torch.no_grad():
        for x in rd:
            rec = {}
            net.run(x, set(), set(), rec)
            for n, p, _ in cands:
                v = rec[p.output[0] + "/act"].amax(dim=(0, 2, 3))
                hi[n.output[0]] = torch.maximum(hi[n.output[0]], v) if n.output[0] in hi else v
    for n, p, cs in cands:
        mx = hi[n.output[0]].numpy()
        k = np.maximum(mx / mx.max(), args.floor) ** args.alpha
        w = inits[p.input[1]]
        a = numpy_helper.to_array(w).astype(np.float64) / k.reshape(-1, 1, 1, 1)
        w.CopyFrom(numpy_helper.from_array(a.astype(np.float32), w.name))
        if len(p.input) > 2 and p.input[2]:
            b = inits[p.input[2]]
            a = numpy_helper.to_array(b).astype(np.float64) / k
            b.CopyFrom(numpy_helper.from_array(a.astype(np.float32), b.name))
        for c in cs:
            w = inits[c.input[1]]
            a = numpy_helper.to_array(w).astype(np.float64) * k.reshape(1, -1, 1, 1)
            w.CopyFrom(numpy_helper.from_array(a.astype(np.float32), w.name))
        print("%s: k in [%.3f, %.3f], median %.3f" % (n.output[0], k.min(), k.max(), float(np.median(k))))
    onnx.save(m, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
