#!/usr/bin/python3
"""Writes tests/data/elements/tiny-x{2,3,4}.onnx: tiny ESPCN-like SR networks
(conv 3x3 3->4 + ReLU, conv 3x3 4->3*s*s, DepthToSpace s) with dynamic H/W and
seeded weights, for the element tests; and tiny-x1.5.onnx, the same shape as
the x3/2 default (SpaceToDepth 2, conv 3x3 12->4 + ReLU, conv 3x3 4->27,
DepthToSpace 3).  The tests compare the element with
the engine run directly, so the weights only need to be non-trivial.

Run:  /usr/bin/python3 tests/elements/make-test-models.py [outdir]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_sr(scale, seed, in_block=1):
    """x scale/in_block: space-to-depth by in_block first when it is > 1."""
    rng = np.random.default_rng(seed)
    feat = 4
    cin = 3 * in_block * in_block
    w1 = (rng.standard_normal((feat, cin, 3, 3)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(feat) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((3 * scale * scale, feat, 3, 3)) * 0.3).astype(np.float32)
    # bias 0.5: outputs land around mid-grey, so saturation is not the norm
    b2 = np.full(3 * scale * scale, 0.5, np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    first = "input"
    nodes = []
    if in_block > 1:
        first = "s2d"
        nodes.append(helper.make_node("SpaceToDepth", ["input"], [first], name="s2d",
                                      blocksize=in_block))
    nodes += [
        helper.make_node("Conv", [first, "w1", "b1"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("DepthToSpace", ["c2"], ["output"], name="d2s",
                         blocksize=scale, mode="DCR"),
    ]
    ratio = scale if in_block == 1 else scale / in_block
    name = "tiny-x%s" % ratio
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                       [1, 3, "%sh" % ratio, "%sw" % ratio])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="cfqp-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "elements")
    os.makedirs(out, exist_ok=True)
    for scale in (2, 3, 4):
        path = os.path.join(out, f"tiny-x{scale}.onnx")
        onnx.save(tiny_sr(scale, 1000 + scale), path)
        print(path)
    path = os.path.join(out, "tiny-x1.5.onnx")
    onnx.save(tiny_sr(3, 1015, in_block=2), path)
    print(path)


if __name__ == "__main__":
    main()
