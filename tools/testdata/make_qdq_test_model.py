#!/usr/bin/python3
"""QDQ ONNX test models made with onnx.helper, as a third-party tool would.

    /usr/bin/python3 tools/testdata/make_qdq_test_model.py [OUTDIR]   (default tests/data/qdq)

Writes
  tiny-qdq-x2.onnx        ×2 RGB: Q/DQ(input) → Conv(int8 per-channel, int32 bias)
                          → Q/DQ → Relu → Q/DQ → Conv → Q/DQ → DepthToSpace → Q/DQ,
                          opset 13, dynamic H/W, its own activation scales
  tiny-qdq-x2.in.u8       a 16×12 crop of tests/data/images/boats-x2.png, planar RGB bytes
  tiny-qdq-x2.out.u8      what the QDQ graph computes for it under ONNX semantics
                          (float conv of dequantised values, Q rounding half to even),
                          with Relu fused into the conv as the engine does (the pre-ReLU
                          pair only clamps), planar RGB bytes 32×24
  tiny-qdq-x2.qparams     the activation (scale, zero point) of each engine tensor
  bad-*.onnx              hostile variants (zero/negative/NaN scales, zero point out of
                          range, wrong axes, per-channel activations, Q/DQ mismatch)
Deterministic (seeded).  Needs Debian's python3-onnx, numpy and PIL.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
W, H = 16, 12


def quant(x, s, z, lo=0, hi=255):
    return np.clip(np.rint(x / s) + z, lo, hi)


def conv2d(x, w, b, pad):
    c, h, wd = x.shape
    oc, ic, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((oc, h, wd), np.float64)
    for ky in range(kh):
        for kx in range(kw):
            patch = xp[:, ky:ky + h, kx:kx + wd]
            out += np.einsum("oi,ihw->ohw", w[:, :, ky, kx], patch)
    return out + b[:, None, None]


def depth_to_space_dcr(x, r):
    c, h, w = x.shape
    return x.reshape(r, r, c // (r * r), h, w).transpose(2, 3, 0, 4, 1).reshape(c // (r * r), h * r, w * r)


class Spec:
    """The model's numbers: float weights quantised per channel, and scales."""

    def __init__(self):
        rng = np.random.default_rng(20240604)
        self.w1 = rng.normal(0, 0.25, (8, 3, 3, 3)).astype(np.float32)
        self.b1 = rng.normal(0, 0.05, 8).astype(np.float32)
        self.w2 = rng.normal(0, 0.12, (12, 8, 3, 3)).astype(np.float32)
        self.b2 = (rng.normal(0, 0.02, 12) + 0.4).astype(np.float32)
        # activation parameters the "other tool" chose (not the engine's)
        self.act = {
            "input": (np.float32(1 / 255), 0),
            "conv1": (np.float32(0.0123), 97),     # pre-ReLU, signed range
            "relu1": (np.float32(0.0071), 0),      # post-ReLU
            "conv2": (np.float32(1 / 255), 0),     # onto the pixel grid before the shuffle
            "output": (np.float32(1 / 255), 0),
        }
        # weight scales: max|w|/127 per output channel, stored as float
        self.ws1 = (np.abs(self.w1).reshape(8, -1).max(1) / 127).astype(np.float32)
        self.ws2 = (np.abs(self.w2).reshape(12, -1).max(1) / 127).astype(np.float32)
        self.wq1 = np.clip(np.rint(self.w1 / self.ws1[:, None, None, None]), -127, 127).astype(np.int8)
        self.wq2 = np.clip(np.rint(self.w2 / self.ws2[:, None, None, None]), -127, 127).astype(np.int8)
        self.bs1 = (self.act["input"][0] * self.ws1).astype(np.float32)
        self.bs2 = (self.act["relu1"][0] * self.ws2).astype(np.float32)
        self.bq1 = np.rint(self.b1 / self.bs1).astype(np.int32)
        self.bq2 = np.rint(self.b2 / self.bs2).astype(np.int32)


def build(spec, mutate=None):
    """mutate(name, dict) may change any initializer/attribute before building."""
    t = {}

    def init(name, arr, dtype=None):
        a = np.asarray(arr, dtype=dtype) if dtype is not None else np.asarray(arr)
        t[name] = a

    for k, (s, z) in spec.act.items():
        init(k + "_s", np.float32(s))
        init(k + "_z", np.uint8(z))
    init("w1_q", spec.wq1); init("w1_s", spec.ws1); init("w1_z", np.zeros(8, np.int8))
    init("b1_q", spec.bq1); init("b1_s", spec.bs1); init("b1_z", np.zeros(8, np.int32))
    init("w2_q", spec.wq2); init("w2_s", spec.ws2); init("w2_z", np.zeros(12, np.int8))
    init("b2_q", spec.bq2); init("b2_s", spec.bs2); init("b2_z", np.zeros(12, np.int32))
    attrs = {"w1_axis": 0, "w2_axis": 0, "dq_conv1_s": "conv1_s"}
    if mutate:
        mutate(t, attrs)

    def qdq(x, k, dq_scale=None):
        return [helper.make_node("QuantizeLinear", [x, k + "_s", k + "_z"], [k + "_q"], name=k + "/Q"),
                helper.make_node("DequantizeLinear", [k + "_q", dq_scale or k + "_s", k + "_z"],
                                 [k + "_dq"], name=k + "/DQ")]

    nodes = qdq("input", "input")
    nodes += [helper.make_node("DequantizeLinear", ["w1_q", "w1_s", "w1_z"], ["w1"], axis=attrs["w1_axis"]),
              helper.make_node("DequantizeLinear", ["b1_q", "b1_s", "b1_z"], ["b1"], axis=0),
              helper.make_node("Conv", ["input_dq", "w1", "b1"], ["conv1"], name="conv1",
                               kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    nodes += qdq("conv1", "conv1", attrs["dq_conv1_s"])
    nodes += [helper.make_node("Relu", ["conv1_dq"], ["relu1"], name="relu1")]
    nodes += qdq("relu1", "relu1")
    nodes += [helper.make_node("DequantizeLinear", ["w2_q", "w2_s", "w2_z"], ["w2"], axis=attrs["w2_axis"]),
              helper.make_node("DequantizeLinear", ["b2_q", "b2_s", "b2_z"], ["b2"], axis=0),
              helper.make_node("Conv", ["relu1_dq", "w2", "b2"], ["conv2"], name="conv2",
                               kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    nodes += qdq("conv2", "conv2")
    nodes += [helper.make_node("DepthToSpace", ["conv2_dq"], ["output"], name="d2s", blocksize=2,
                               mode="DCR")]
    nodes += qdq("output", "output")
    inits = [numpy_helper.from_array(v, k) for k, v in t.items()]
    graph = helper.make_graph(
        nodes, "tiny-qdq-x2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("output_dq", TensorProto.FLOAT, [1, 3, "H2", "W2"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="make_qdq_test_model.py")
    model.ir_version = 7
    return model


def reference(spec, img):
    """ONNX semantics of the graph above on planar uint8 RGB."""
    def qd(x, k):
        s, z = spec.act[k]
        return (quant(x, s, z) - z) * np.float64(s)

    x = qd(img.astype(np.float64) / 255.0, "input")
    w1 = spec.wq1.astype(np.float64) * spec.ws1[:, None, None, None]
    b1 = spec.bq1.astype(np.float64) * spec.bs1
    # The engine fuses Relu into the conv and keeps the post-activation
    # parameters (quantisation.md: fused activations are clamp bounds), so
    # the pre-ReLU Q/DQ pair is no rounding step of its own: only its range
    # could matter, and it is wider than the post-ReLU one here.
    y = conv2d(x, w1, b1, 1).astype(np.float32)
    s, z = spec.act["conv1"]
    y = np.clip(y, (0 - z) * s, (255 - z) * s)
    y = qd(np.maximum(y, 0), "relu1")
    w2 = spec.wq2.astype(np.float64) * spec.ws2[:, None, None, None]
    b2 = spec.bq2.astype(np.float64) * spec.bs2
    y = qd(conv2d(y, w2, b2, 1).astype(np.float32), "conv2")
    y = depth_to_space_dcr(y, 2)
    s, z = spec.act["output"]
    return quant(y, s, z).astype(np.uint8)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "qdq")
    os.makedirs(out, exist_ok=True)
    spec = Spec()
    model = build(spec)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "tiny-qdq-x2.onnx"))

    img = np.asarray(Image.open(os.path.join(ROOT, "tests", "data", "images", "boats-x2.png"))
                     .convert("RGB"))[20:20 + H, 30:30 + W].transpose(2, 0, 1).copy()
    img.astype(np.uint8).tofile(os.path.join(out, "tiny-qdq-x2.in.u8"))
    reference(spec, img).tofile(os.path.join(out, "tiny-qdq-x2.out.u8"))
    with open(os.path.join(out, "tiny-qdq-x2.qparams"), "w") as f:
        # engine tensor names after fusion: conv1 carries relu1's parameters
        for name, key in (("conv1", "relu1"),):
            s, z = spec.act[key]
            f.write("%s %.9g %d\n" % (name, s, z))
        f.write("w1_scale %s\n" % " ".join("%.9g" % v for v in spec.ws1))

    def variant(name, fn):
        onnx.save(build(spec, fn), os.path.join(out, "bad-%s.onnx" % name))

    def set_(key, value):
        def fn(t, attrs):
            t[key] = value
        return fn

    def set_attr(key, value):
        def fn(t, attrs):
            attrs[key] = value
        return fn

    ws_zero = spec.ws1.copy(); ws_zero[3] = 0
    ws_neg = spec.ws1.copy(); ws_neg[5] = -ws_neg[5]
    variant("weight-scale-zero", set_("w1_s", ws_zero))
    variant("weight-scale-negative", set_("w1_s", ws_neg))
    variant("act-scale-nan", set_("relu1_s", np.float32("nan")))
    variant("act-scale-zero", set_("conv1_s", np.float32(0)))
    variant("act-zero-point-300", set_("relu1_z", np.int32(300)))
    variant("weight-axis-3", set_attr("w1_axis", 3))
    variant("weight-axis-out-of-range", set_attr("w1_axis", 7))
    variant("act-per-channel", set_("conv1_s", np.full(8, 0.0123, np.float32)))

    def mismatch(t, attrs):
        t["conv1_s2"] = np.float32(0.02)
        attrs["dq_conv1_s"] = "conv1_s2"
    variant("qdq-mismatch", mismatch)
    print("wrote", out)


if __name__ == "__main__":
    main()
