#!/usr/bin/python3
"""Writes tests/data/refnets/: the reference networks of refnets.py exported
to ONNX at several opsets (with and without dynamic H/W), seeded inputs, the
PyTorch outputs for them, a few negative cases, and manifest.json, which
tests/refnets/test-refnets.c reads.

Every exported file is checked three ways before it is written: onnx.checker,
an op-type allow-list (the importer's contract: a net that exports to anything
else is a bug in this data, not in the engine), and an independent NumPy
evaluator of ONNX semantics (below) that must reproduce the PyTorch output.
The evaluator is what tells a wrong export (or a wrong hand-written symbolic)
from an engine bug.

Run:  /usr/bin/python3 tools/testdata/make_refnet_data.py [--out tests/data/refnets]
"""
import argparse
import hashlib
import io
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refnets  # noqa: E402

TOLERANCE = 1e-4
OPSETS = (9, 11, 13, 17)
# Static-shape exports bake H and W into Reshape/Resize constants, so they are
# only valid at the exported size.  Opset 9 static is where PixelShuffle
# becomes the plain Reshape/Transpose/Reshape pattern (its dynamic opset-9 form
# needs Unsqueeze/Squeeze, outside the contract).
STATIC_OPSETS = (9,)

SUPPORTED_OPS = {
    "Conv", "ConvTranspose", "Relu", "LeakyRelu", "PRelu", "Clip",
    "Add", "Sub", "Mul", "Div", "Concat", "DepthToSpace", "SpaceToDepth",
    "Reshape", "Transpose", "Resize", "Upsample", "Tile", "Expand",
    "Identity", "Constant", "Shape", "Gather", "Cast", "Unsqueeze",
}


# ---------------------------------------------------------------------------
# NumPy evaluator of the supported ONNX subset (float64 accumulation)

def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _conv_pads(attrs, in_hw, k_hw, stride):
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        p = attrs.get("pads", [0, 0, 0, 0])
        return [p[0], p[1]], [p[2], p[3]]
    if auto == "VALID":
        return [0, 0], [0, 0]
    begin, end = [], []
    for n, k, s in zip(in_hw, k_hw, stride):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        small, big = total // 2, total - total // 2
        # SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the start.
        begin.append(small if auto == "SAME_UPPER" else big)
        end.append(big if auto == "SAME_UPPER" else small)
    return begin, end


def np_conv(x, w, b, attrs):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    g = attrs.get("group", 1)
    assert attrs.get("dilations", [1, 1]) == [1, 1]
    s = attrs.get("strides", [1, 1])
    pb, pe = _conv_pads(attrs, (h, wd), (kh, kw), s)
    xp = np.pad(x, ((0, 0), (0, 0), (pb[0], pe[0]), (pb[1], pe[1])))
    oh = (xp.shape[2] - kh) // s[0] + 1
    ow = (xp.shape[3] - kw) // s[1] + 1
    out = np.zeros((n, m, oh, ow))
    mg = m // g
    for gi in range(g):
        xs = xp[:, gi * cg:(gi + 1) * cg]
        ws = w[gi * mg:(gi + 1) * mg]
        for ky in range(kh):
            for kx in range(kw):
                patch = xs[:, :, ky:ky + s[0] * (oh - 1) + 1:s[0], kx:kx + s[1] * (ow - 1) + 1:s[1]]
                out[:, gi * mg:(gi + 1) * mg] += np.einsum("mc,nchw->nmhw", ws[:, :, ky, kx], patch)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def np_conv_transpose(x, w, b, attrs):
    n, c, h, wd = x.shape
    _, mg, kh, kw = w.shape
    g = attrs.get("group", 1)
    s = attrs.get("strides", [1, 1])
    p = attrs.get("pads", [0, 0, 0, 0])
    op = attrs.get("output_padding", [0, 0])
    assert "output_shape" not in attrs and attrs.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    full = np.zeros((n, mg * g, (h - 1) * s[0] + kh + op[0], (wd - 1) * s[1] + kw + op[1]))
    cg = c // g
    for gi in range(g):
        xs = x[:, gi * cg:(gi + 1) * cg]
        for ky in range(kh):
            for kx in range(kw):
                contrib = np.einsum("cm,nchw->nmhw", w[gi * cg:(gi + 1) * cg, :, ky, kx], xs)
                full[:, gi * mg:(gi + 1) * mg, ky:ky + s[0] * (h - 1) + 1:s[0],
                     kx:kx + s[1] * (wd - 1) + 1:s[1]] += contrib
    oh = s[0] * (h - 1) + op[0] + kh - p[0] - p[2]
    ow = s[1] * (wd - 1) + op[1] + kw - p[1] - p[3]
    out = full[:, :, p[0]:p[0] + oh, p[1]:p[1] + ow]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def np_depth_to_space(x, bs, mode):
    n, c, h, w = x.shape
    if mode == "DCR":
        y = x.reshape(n, bs, bs, c // (bs * bs), h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, c // (bs * bs), bs, bs, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (bs * bs), h * bs, w * bs)


def np_space_to_depth(x, bs):
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // bs, bs, w // bs, bs).transpose(0, 3, 5, 1, 2, 4)
    return y.reshape(n, c * bs * bs, h // bs, w // bs)


def np_run(model, x):
    """Evaluates `model` on x (float64) following the ONNX operator spec."""
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)
    env[""] = None
    for node in model.graph.node:
        a = _attrs(node)
        i = [env[n] if n in env else None for n in node.input]
        t = node.op_type
        if t == "Conv":
            r = np_conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif t == "ConvTranspose":
            r = np_conv_transpose(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif t == "Relu":
            r = np.maximum(i[0], 0)
        elif t == "LeakyRelu":
            r = np.where(i[0] >= 0, i[0], i[0] * a.get("alpha", 0.01))
        elif t == "PRelu":
            r = np.where(i[0] >= 0, i[0], i[0] * i[1])
        elif t == "Clip":
            lo = a.get("min", -np.inf) if len(i) < 2 or i[1] is None else i[1]
            hi = a.get("max", np.inf) if len(i) < 3 or i[2] is None else i[2]
            r = np.minimum(np.maximum(i[0], lo), hi)
        elif t in ("Add", "Sub", "Mul", "Div"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[t]
            r = f(i[0], i[1])
            if i[0].dtype.kind == "i" and i[1].dtype.kind == "i":
                r = (i[0] // i[1]) if t == "Div" else r.astype(i[0].dtype)
        elif t == "Concat":
            r = np.concatenate(i, axis=a["axis"])
        elif t == "DepthToSpace":
            m = a.get("mode", b"DCR")
            r = np_depth_to_space(i[0], a["blocksize"], m.decode() if isinstance(m, bytes) else m)
        elif t == "SpaceToDepth":
            r = np_space_to_depth(i[0], a["blocksize"])
        elif t == "Reshape":
            shape = [d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1].tolist())]
            r = i[0].reshape(shape)
        elif t == "Transpose":
            r = i[0].transpose(a["perm"])
        elif t in ("Resize", "Upsample"):
            # Nearest with integer scales only (the contract); scales is
            # input 1 for Upsample-9, input 2 for Resize-11+, or sizes (3).
            assert a.get("mode", b"nearest") in (b"nearest", "nearest"), a
            sc = i[1] if t == "Upsample" else (i[2] if len(i) > 2 and i[2] is not None and i[2].size else None)
            if sc is None:
                sc = np.array(i[3], np.float64) / np.array(i[0].shape)
            r = i[0]
            for ax, f in enumerate(sc):
                assert float(f).is_integer(), sc
                r = np.repeat(r, int(f), axis=ax) if f != 1 else r
        elif t == "Tile":
            r = np.tile(i[0], i[1])
        elif t == "Expand":
            r = i[0] * np.ones(i[1].astype(np.int64), dtype=i[0].dtype)
        elif t == "Identity":
            r = i[0]
        elif t == "Constant":
            r = numpy_helper.to_array(a["value"])
        elif t == "Shape":
            r = np.array(i[0].shape, np.int64)
        elif t == "Gather":
            r = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif t == "Cast":
            r = i[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]) if hasattr(helper, "tensor_dtype_to_np_dtype")
                            else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
            if r.dtype == np.float32:
                r = r.astype(np.float64)
        elif t == "Unsqueeze":
            axes = a["axes"] if "axes" in a else i[1].tolist()
            r = i[0]
            for ax in sorted(axes):
                r = np.expand_dims(r, ax)
        # Off-contract ops that torch emits on its own (see off_contract_ops).
        elif t == "Squeeze":
            axes = a["axes"] if "axes" in a else i[1].tolist()
            r = np.squeeze(i[0], axis=tuple(axes))
        elif t == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            r = np.full(i[0].astype(np.int64), v.reshape(-1)[0], dtype=v.dtype)
        else:
            raise NotImplementedError(t)
        env[node.output[0]] = r
    return env[model.graph.output[0].name]


# ---------------------------------------------------------------------------
# Export and checks

def export(net, x, opset, dynamic):
    buf = io.BytesIO()
    kw = {}
    if dynamic:
        kw["dynamic_axes"] = {"input": {2: "height", 3: "width"}, "output": {2: "out_height", 3: "out_width"}}
    torch.onnx.export(net, x, buf, opset_version=opset, input_names=["input"], output_names=["output"],
                      do_constant_folding=True, **kw)
    return onnx.load_from_string(buf.getvalue())


def off_contract_ops(model):
    return sorted({n.op_type for n in model.graph.node} - SUPPORTED_OPS)


def fold_constant_of_shape(model):
    """torch exports x.repeat as Expand(x, ConstantOfShape(Constant[4])) ->
    Tile: a no-op Expand by ones.  Replaces each ConstantOfShape whose shape
    is a Constant node by the Constant tensor it evaluates to."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in m.graph.node if n.op_type == "Constant" and n.attribute[0].name == "value"}
    for k, n in enumerate(m.graph.node):
        if n.op_type == "ConstantOfShape" and n.input[0] in consts:
            a = _attrs(n)
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            arr = np.full(consts[n.input[0]].astype(np.int64), v.reshape(-1)[0], dtype=v.dtype)
            new = helper.make_node("Constant", [], [n.output[0]], name=n.name,
                                   value=numpy_helper.from_array(arr))
            m.graph.node[k].CopyFrom(new)
    # The shape Constant may now be dead; drop unused Constant nodes.
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
    keep = [n for n in m.graph.node if n.op_type != "Constant" or n.output[0] in used]
    del m.graph.node[:]
    m.graph.node.extend(keep)
    return m


def check(model, x, y_ref, label):
    """onnx.checker, then the NumPy evaluation must match PyTorch."""
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    y = np_run(model, x)
    err = float(np.abs(y - y_ref).max())
    if y.shape != y_ref.shape or err > TOLERANCE / 10:
        raise SystemExit(f"{label}: ONNX semantics disagree with PyTorch: shape {y.shape} vs "
                         f"{y_ref.shape}, max err {err:g}")
    return ops


def input_sizes(net):
    """(W, H) pairs: odd, non-square sizes catch stride/halo/transposition
    mistakes; a small square second size for dynamic exports.  Nets that
    halve first need even sizes.  Larger scales get smaller inputs so that the
    outputs stored stay small."""
    even = getattr(net, "even_only", False)
    first = {2: (37, 23), 3: (29, 17), 4: (23, 13)}[net.scale]
    if even:
        first = (first[0] + 1, first[1] + 1)
    return [first, (16, 16) if net.scale == 2 else (12, 12)]


def write_f32(path, arr):
    np.ascontiguousarray(arr, dtype="<f4").tofile(path)


class Writer:
    def __init__(self, out):
        self.out = out
        self.cases = []
        os.makedirs(out, exist_ok=True)

    def save_model(self, model, fname):
        # Fixed producer fields so that the files are byte-identical across
        # runs on machines with another torch version string.
        model.producer_name, model.producer_version = "cfqp-refnets", "1"
        with open(os.path.join(self.out, fname), "wb") as f:
            f.write(model.SerializeToString())

    def io_pair(self, stem, x, y):
        n, c, h, w = x.shape
        fin, fout = f"{stem}.in-{w}x{h}.f32", f"{stem}.out-{w}x{h}.f32"
        write_f32(os.path.join(self.out, fin), x)
        write_f32(os.path.join(self.out, fout), y)
        return fin, fout

    def positive(self, model_file, scale, channels, fin, fout, x, y, ops, extra):
        self.cases.append({
            "name": f"{model_file[:-5]}/{x.shape[3]}x{x.shape[2]}",
            "model": model_file, "scale": scale, "channels": channels,
            "input": fin, "input_shape": list(x.shape),
            "output": fout, "output_shape": list(y.shape),
            "tolerance": TOLERANCE, "ops": ops, "off_contract_ops": extra,
        })

    def negative(self, name, model_file, code, contains):
        self.cases.append({"name": name, "model": model_file, "error_code": code,
                           "error_contains": contains})


def write_model_cases(wr, model, model_file, net, pairs, extra):
    for x, y, fin, fout in pairs:
        ops = check(model, x, y, model_file)
        wr.positive(model_file, net.scale, net.channels, fin, fout, x, y, ops, extra)
    wr.save_model(model, model_file)
    print(f"{model_file}: {' '.join(ops)}" + (f"  [off contract: {' '.join(extra)}]" if extra else ""))


def seeded_input(seed, c, h, w):
    g = torch.Generator().manual_seed(seed)
    return torch.rand((1, c, h, w), generator=g)


def export_torch_nets(wr):
    for k, name in enumerate(refnets.NETS):
        net = refnets.build(name)
        ios = []
        for j, (w, h) in enumerate(input_sizes(net)):
            x = seeded_input(1000 + 10 * k + j, net.channels, h, w)
            with torch.no_grad():
                y = net(x)
            fin, fout = wr.io_pair(name, x, y)
            ios.append((x.numpy(), y.numpy(), fin, fout))
        variants = [(op, True) for op in OPSETS] + [(op, False) for op in STATIC_OPSETS]
        for opset, dynamic in variants:
            model_file = f"{name}-op{opset}{'' if dynamic else '-static'}.onnx"
            x0 = torch.from_numpy(ios[0][0])
            model = export(net, x0, opset, dynamic)
            pairs = ios if dynamic else ios[:1]
            extra = off_contract_ops(model)
            if extra:
                # Keep torch's own form as an off-contract case (the test skips
                # it when the importer says UNSUPPORTED), and use the folded
                # form as the in-contract one when folding removes the gap.
                # (Once per net: the raw forms differ only in that op.)
                folded = fold_constant_of_shape(model)
                if not off_contract_ops(folded):
                    if opset == 13 and dynamic:
                        raw_file = model_file[:-5] + "-torch.onnx"
                        write_model_cases(wr, model, raw_file, net, pairs, extra)
                    model = folded
                    extra = []
            write_model_cases(wr, model, model_file, net, pairs, extra)


# ---------------------------------------------------------------------------
# Hand-built graphs: what torch.onnx.export never emits

def _init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), name)


def _tensor(name, c, dims=("N", "C", "H", "W")):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, c, dims[2], dims[3]])


def samepad_net(wr):
    """auto_pad: SAME_UPPER 3x3, SAME_LOWER with an even (4x4) kernel, whose
    padding is asymmetric, and a stride-2 SAME_UPPER conv (asymmetric on even
    sizes); a 2x2 conv with explicit asymmetric pads; a Constant node and an
    Identity; DepthToSpace CRD x4 back up to x2.  The PyTorch reference pads
    explicitly with F.pad."""
    g = torch.Generator().manual_seed(77)

    def rw(*shape):
        fan = shape[1] * shape[2] * shape[3]
        return (torch.randn(shape, generator=g) * (2.0 / fan) ** 0.5).float()

    def rb(n):
        return ((torch.rand(n, generator=g) - 0.5) * 0.2).float()

    w1, b1 = rw(8, 3, 3, 3), rb(8)
    w2, b2 = rw(8, 8, 4, 4), rb(8)
    w3, b3 = rw(12, 8, 3, 3), rb(12)
    w4, b4 = rw(48, 12, 2, 2), rb(48)
    shift = torch.tensor([0.25], dtype=torch.float32)

    def ref(x):
        y = F.relu(F.conv2d(x, w1, b1, padding=1))
        y = F.leaky_relu(F.conv2d(F.pad(y, (2, 1, 2, 1)), w2, b2), 0.1)   # SAME_LOWER, k=4
        h, w = y.shape[2:]
        ph, pw = max((-(-h // 2) - 1) * 2 + 3 - h, 0), max((-(-w // 2) - 1) * 2 + 3 - w, 0)
        y = F.relu(F.conv2d(F.pad(y, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)), w3, b3, stride=2))
        y = F.conv2d(F.pad(y, (0, 1, 0, 1)), w4, b4) + shift
        return F.pixel_shuffle(y, 4)

    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv_same_upper", auto_pad="SAME_UPPER",
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv_same_lower_k4", auto_pad="SAME_LOWER",
                         kernel_shape=[4, 4]),
        helper.make_node("LeakyRelu", ["c2"], ["r2"], alpha=0.1),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv_same_upper_s2", auto_pad="SAME_UPPER",
                         kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["c3"], ["r3"]),
        helper.make_node("Conv", ["r3", "w4", "b4"], ["c4"], name="conv_2x2_pads_0011", pads=[0, 0, 1, 1]),
        helper.make_node("Constant", [], ["shift"], value=numpy_helper.from_array(shift.numpy(), "shift")),
        helper.make_node("Add", ["c4", "shift"], ["a4"]),
        helper.make_node("Identity", ["a4"], ["i4"]),
        helper.make_node("DepthToSpace", ["i4"], ["output"], blocksize=4, mode="CRD"),
    ]
    inits = [_init(n, t.numpy()) for n, t in
             [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2), ("w3", w3), ("b3", b3), ("w4", w4), ("b4", b4)]]
    graph = helper.make_graph(nodes, "samepad-x2", [_tensor("input", 3, ("N", "C", "height", "width"))],
                              [_tensor("output", 3, ("N", "C", "out_height", "out_width"))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    fname = "samepad-x2-op13.onnx"
    for j, (w, h) in enumerate([(38, 22), (16, 16)]):
        x = seeded_input(2000 + j, 3, h, w)
        y = ref(x)
        fin, fout = wr.io_pair("samepad-x2", x, y)
        ops = check(model, x.numpy(), y.numpy(), fname)
        wr.positive(fname, 2, 3, fin, fout, x.numpy(), y.numpy(), ops, [])
    wr.save_model(model, fname)
    print(f"{fname}: {' '.join(ops)}")


def negative_cases(wr):
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.2
    w1 = rng.standard_normal((12, 8, 3, 3)).astype(np.float32) * 0.2

    # An op outside the contract in the middle of an otherwise fine net.
    nodes = [
        helper.make_node("Conv", ["input", "w0"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
        helper.make_node("Softmax", ["c0"], ["sm"], name="softmax_mid", axis=1),
        helper.make_node("Conv", ["sm", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("DepthToSpace", ["c1"], ["output"], name="d2s", blocksize=2, mode="CRD"),
    ]
    graph = helper.make_graph(nodes, "neg-softmax", [_tensor("input", 3, ("N", "C", "h", "w"))],
                              [_tensor("output", 3, ("N", "C", "H", "W"))],
                              [_init("w0", w0), _init("w1", w1)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    wr.save_model(model, "neg-softmax.onnx")
    wr.negative("neg-softmax", "neg-softmax.onnx", "UNSUPPORTED", ["Softmax", "softmax_mid"])

    # Two graph inputs break the one-input SR convention.
    nodes = [
        helper.make_node("Add", ["input", "input2"], ["sum"], name="add_inputs"),
        helper.make_node("Conv", ["sum", "w1b"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("DepthToSpace", ["c1"], ["output"], blocksize=2, mode="CRD"),
    ]
    w1b = rng.standard_normal((12, 3, 3, 3)).astype(np.float32) * 0.2
    graph = helper.make_graph(nodes, "neg-two-inputs",
                              [_tensor("input", 3, ("N", "C", "h", "w")), _tensor("input2", 3, ("N", "C", "h", "w"))],
                              [_tensor("output", 3, ("N", "C", "H", "W"))], [_init("w1b", w1b)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    wr.save_model(model, "neg-two-inputs.onnx")
    wr.negative("neg-two-inputs", "neg-two-inputs.onnx", "INVALID", ["2 inputs"])

    # A real model cut inside its weights: the protobuf parse must fail.
    with open(os.path.join(wr.out, "abpn-x3-cat-op13.onnx"), "rb") as f:
        data = f.read()
    with open(os.path.join(wr.out, "neg-truncated.onnx"), "wb") as f:
        f.write(data[:len(data) * 2 // 3])
    wr.negative("neg-truncated", "neg-truncated.onnx", "PARSE", [])

    # Text is not protobuf ('t' = field 14, wire type 4: a stray end-group).
    with open(os.path.join(wr.out, "neg-not-onnx.onnx"), "wb") as f:
        f.write(b"this is not an onnx model\n")
    wr.negative("neg-not-onnx", "neg-not-onnx.onnx", "PARSE", [])

    wr.negative("neg-missing-file", "does-not-exist.onnx", "IO", ["does-not-exist.onnx"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "data", "refnets"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    wr = Writer(os.path.normpath(args.out))
    export_torch_nets(wr)
    samepad_net(wr)
    negative_cases(wr)
    with open(os.path.join(wr.out, "manifest.json"), "w") as f:
        json.dump({"version": 1, "cases": wr.cases}, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(wr.out, n)) for n in os.listdir(wr.out))
    digest = hashlib.sha256()
    for n in sorted(os.listdir(wr.out)):
        with open(os.path.join(wr.out, n), "rb") as f:
            digest.update(n.encode() + f.read())
    print(f"{len(wr.cases)} cases, {total / 1e6:.2f} MB, content sha256 {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
