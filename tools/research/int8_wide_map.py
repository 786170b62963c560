#!/usr/bin/python3
"""Which tensors and convs of a net would need 16 bits for INT8 to reach FP32:
the per-layer map behind docs/cfqp.md "16-bit grids would not be enough
either".

    build/tools/c/cfqp-qdq export --model models/xlsr-x2.onnx \
        --calib models/xlsr-x2.calib.json --out /tmp/xlsr-x2-qdq.onnx
    /usr/bin/python3 tools/research/int8_wide_map.py --qdq /tmp/xlsr-x2-qdq.onnx \
        --model models/xlsr-x2.onnx --calib models/xlsr-x2.calib.json --scale 2 \
        [--set val] [--only side+mix+tail ...]

Uses int8_layer_probe.py's interpreter (its QDQ class: fake-quant in float64,
the calibration's channel steps folded into the float weights).  "16-bit"
activations are the calibration's ranges on 65536 levels; 16-bit weights
are int16 taps, symmetric per output channel, with float biases.  PSNR(INT8,
FP32) of the output bytes, mean over the set's images.  Prints:
  all8 / allwide / acts16 / w16   everything at 8 bits, everything at 16,
                                  only the activations at 16, only the weights
  acts16 + w16 only C             activations at 16 bits, conv C's weights too
  allwide but w8 C                everything at 16 bits but conv C's weights
  allwide but a8 T                everything at 16 bits but activation T
With --only, just "acts16 + w16 of" each '+'-joined list of conv names (the
part between the first two slashes: side+mix+tail).  ~35 s per line on one
thread for 43 crops.
"""
import argparse
import importlib.util
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
_spec = importlib.util.spec_from_file_location("probe", os.path.join(HERE, "int8_layer_probe.py"))
P = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(P)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qdq", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--calib", required=True, help="the calibration the QDQ file was exported with")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--set", default="val", help="tools/.cache/eval/x<scale>/<SET>.txt")
    ap.add_argument("--only", nargs="*", metavar="C1+C2", help="just these sets of 16-bit convs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    net = P.QDQ(args.qdq, args.model)
    net.fold_channel_steps(args.calib)
    ev = os.path.join(TOOLS, ".cache", "eval", "x%d" % args.scale)
    lrs = [P.load(l.split()[0]) for l in open(os.path.join(ev, args.set + ".txt")) if l.strip()]
    acts, convs = set(net.acts), set(net.convs)
    with torch.no_grad():
        ref = [net.run(x, set(), set()) for x in lrs]

        def score(wide_acts, wide_convs):
            net.wide, net.wide_w = set(wide_acts), set(wide_convs)
            return float(np.mean([P.psnr(net.run(x, acts, convs), ref[i]) for i, x in enumerate(lrs)]))

        def named(spec):
            return {c for c in net.convs if any(c.startswith("/%s/" % k) for k in spec.split("+"))}

        print("%s, %s, %d images" % (os.path.basename(args.model), args.set, len(lrs)), flush=True)
        if args.only:
            for spec in args.only:
                print("acts16 + w16 of %-24s %.2f" % (spec, score(acts, named(spec))), flush=True)
            return
        print("all8 %.2f  allwide %.2f  acts16 %.2f  w16 %.2f" % (
            score(set(), set()), score(acts, convs), score(acts, set()), score(set(), convs)), flush=True)
        for c in net.convs:
            print("acts16 + w16 only %-30s %.2f" % (c, score(acts, {c})), flush=True)
        for c in net.convs:
            print("allwide but w8 %-30s %.2f" % (c, score(acts, convs - {c})), flush=True)
        for a in net.acts:
            print("allwide but a8 %-30s %.2f" % (a, score(acts - {a}, convs)), flush=True)


if __name__ == "__main__":
    main()
