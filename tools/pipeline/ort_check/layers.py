#!/usr/bin/python3
"""Layer-by-layer comparison of a QDQ export between the INT8 engine and ONNX
Runtime: where the two diverge, and which arithmetic makes them.

    /usr/bin/python3 tools/pipeline/ort_check/layers.py QDQ.onnx IN.u8:W:H[:ENGINE_OUT.u8] ...

For every quantised tensor V of the export (the pair V/q, V/dq):

* ORT's uint8 values: a copy of the model with every V/q as a graph output,
  run by dump.js (onnxruntime-node) at optimisation levels `all` and
  `disabled`;
* the engine's: a NumPy model of the `ref` arithmetic (quantization.md,
  engine/cfqp-int8.h: int32 accumulation, 31-bit multiplier from the double
  real scale, round half away from zero, Add in 2^-20 units).  It is checked
  against the engine's own output bytes (ENGINE_OUT, from `cfqp-qdq run`):
  the check fails loudly if the model is not bit-exact;
* the same step with ORT's CPU arithmetic at level `all` (QLinearConv: float32
  scale s_x*s_w/s_y, float32 product, round half to even; QLinearAdd and
  QLinearConcat in float32, round half to even).

Per tensor it prints: the free-running difference (engine vs ORT: bytes that
differ, max delta), and the *local* one: the op evaluated on ORT's own inputs
with the engine's arithmetic (where a difference is born, not carried), with
ORT's modelled arithmetic (0 when the model of ORT is right), and what the
engine would give with round-half-even or with ORT's float32 multiplier.
"""
import json, math, os, subprocess, sys, tempfile
import numpy as np
import onnx
from onnx import numpy_helper, helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
FRAC = 20


def from_real(real):
    """cfqp_requant_from_real: (m, shift) with real ~ m / 2^shift."""
    if real == 0:
        return 0, 31
    f, e = math.frexp(abs(real))
    m = math.floor(f * 2147483648.0 + 0.5)
    if m == 2147483648:
        m //= 2
        e += 1
    if 31 - e > 62:
        m = math.floor(abs(real) * 4611686018427387904.0 + 0.5)
        e = 31 - 62
    return (-m if real < 0 else m), 31 - e


def rshift_round(x, shift, even=False):
    """x / 2^shift rounded half away from zero (the engine) or half to even."""
    x = np.asarray(x, dtype=np.int64)
    half = np.int64(1) << np.int64(shift - 1)
    if not even:
        return np.where(x >= 0, (x + half) >> shift, -((-x + half) >> shift))
    q = x >> shift                       # floor
    r = x - (q << shift)
    up = (r > half) | ((r == half) & ((q & 1) == 1))
    return q + up


class Graph:
    def __init__(self, path):
        self.model = onnx.load(path)
        g = self.model.graph
        self.init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        for n in g.node:
            if n.op_type == 'Constant':
                self.init[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.producer = {o: n for n in g.node for o in n.output}
        self.qp = {}        # tensor V -> (scale, zero point) from its Q
        self.units = []     # (V, main node, [activation nodes]) in graph order
        for n in g.node:
            if n.op_type != 'QuantizeLinear' or not n.output[0].endswith('/q'):
                continue
            v = n.output[0][:-2]
            s = float(self.init[n.input[1]].reshape(-1)[0])
            z = int(self.init[n.input[2]].reshape(-1)[0]) if len(n.input) > 2 else 0
            self.qp[v] = (s, z)
            src, acts = n.input[0], []
            if src not in self.producer:       # the graph input
                continue
            node = self.producer[src]
            while node.op_type in ('Relu', 'Clip'):
                acts.insert(0, node)
                node = self.producer[node.input[0]]
            self.units.append((v, node, acts))

    def dq_source(self, name):
        """Activation input 'X/dq' -> 'X'; weight/bias DQ -> (int array, scale)."""
        n = self.producer.get(name)
        if n is None or n.op_type != 'DequantizeLinear':
            raise ValueError('%s is not dequantised' % name)
        if n.input[0] in self.init:
            return None, (self.init[n.input[0]].astype(np.int64),
                          self.init[n.input[1]].astype(np.float32).reshape(-1))
        return n.input[0][:-2], None


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def act_bounds(acts, graph, s, z):
    lo, hi = 0, 255
    for a in acts:
        if a.op_type == 'Relu':
            lo = max(lo, z)
        else:
            mn = graph.init[a.input[1]] if len(a.input) > 1 and a.input[1] else -np.inf
            mx = graph.init[a.input[2]] if len(a.input) > 2 and a.input[2] else np.inf
            if np.isfinite(mn):
                lo = max(lo, int(np.clip(round(float(mn) / s) + z, 0, 255)))
            if np.isfinite(mx):
                hi = min(hi, int(np.clip(round(float(mx) / s) + z, 0, 255)))
    return lo, hi


def conv_acc(x, z_in, w, b, node):
    """int64 accumulation b + sum w*(x - z_in), padding with z_in."""
    C, H, W = x.shape
    OC, ICg, KH, KW = w.shape
    g = attr(node, 'group', 1)
    pads = attr(node, 'pads', [0, 0, 0, 0])
    sh, sw = attr(node, 'strides', [1, 1])
    dh, dw = attr(node, 'dilations', [1, 1])
    xp = np.pad(x.astype(np.int64) - z_in, ((0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    OH = (H + pads[0] + pads[2] - dh * (KH - 1) - 1) // sh + 1
    OW = (W + pads[1] + pads[3] - dw * (KW - 1) - 1) // sw + 1
    out = np.zeros((OC, OH, OW), dtype=np.int64)
    OCg = OC // g
    for gi in range(g):
        xs = xp[gi * ICg:(gi + 1) * ICg]
        cols = np.empty((ICg, KH, KW, OH, OW), dtype=np.int64)
        for i in range(KH):
            for j in range(KW):
                cols[:, i, j] = xs[:, i * dh:i * dh + sh * (OH - 1) + 1:sh,
                                   j * dw:j * dw + sw * (OW - 1) + 1:sw]
        wg = w[gi * OCg:(gi + 1) * OCg].reshape(OCg, -1)
        out[gi * OCg:(gi + 1) * OCg] = (wg @ cols.reshape(ICg * KH * KW, -1)).reshape(OCg, OH, OW)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


def eval_unit(graph, v, node, acts, vals, mode):
    """One unit's uint8 output from the uint8 values of its inputs.
    mode: 'engine', 'engine-even' (engine, half-to-even shifts),
    'engine-f32' (engine with ORT's float32 conv multiplier), 'ort'."""
    s_out, z_out = graph.qp[v]
    lo, hi = act_bounds(acts, graph, s_out, z_out)
    even = mode == 'engine-even'
    op = node.op_type
    if op == 'Conv':
        xin, _ = graph.dq_source(node.input[0])
        s_in, z_in = graph.qp[xin]
        _, (w, ws) = graph.dq_source(node.input[1])
        b = graph.dq_source(node.input[2])[1][0] if len(node.input) > 2 and node.input[2] else None
        acc = conv_acc(vals[xin], z_in, w, b, node)
        out = np.empty(acc.shape, dtype=np.int64)
        for oc in range(acc.shape[0]):
            if mode in ('ort', 'engine-f32'):
                sc = np.float32(np.float32(s_in) * ws[oc]) / np.float32(s_out)
            if mode == 'ort':
                r = np.rint(acc[oc].astype(np.float32) * sc).astype(np.int64)
            else:
                real = float(sc) if mode == 'engine-f32' else float(np.float32(s_in)) * float(ws[oc]) / float(np.float32(s_out))
                m, sh = from_real(real)
                r = rshift_round(acc[oc] * m, sh, even)
            out[oc] = r + z_out
        return np.clip(out, lo, hi).astype(np.uint8)
    if op in ('Add', 'Sub'):
        ins = [graph.dq_source(i)[0] for i in node.input]
        (sa, za), (sb, zb) = graph.qp[ins[0]], graph.qp[ins[1]]
        a = vals[ins[0]].astype(np.int64) - za
        bb = vals[ins[1]].astype(np.int64) - zb
        sgn = -1 if op == 'Sub' else 1
        if mode == 'ort':
            ra, rb = np.float32(sa) / np.float32(s_out), np.float32(sb) / np.float32(s_out)
            t = a.astype(np.float32) * ra + np.float32(sgn) * (bb.astype(np.float32) * rb)
            out = np.rint(t).astype(np.int64) + z_out
        else:
            unit = float(1 << FRAC) / float(np.float32(s_out))
            m0, s0 = from_real(float(np.float32(sa)) * unit)
            m1, s1 = from_real(sgn * float(np.float32(sb)) * unit)
            t = rshift_round(a * m0, s0, even) + rshift_round(bb * m1, s1, even)
            out = rshift_round(t, FRAC, even) + z_out
        return np.clip(out, lo, hi).astype(np.uint8)
    if op == 'Concat':
        parts = []
        for i in node.input:
            src = graph.dq_source(i)[0]
            s_in, z_in = graph.qp[src]
            d = vals[src].astype(np.int64) - z_in
            if mode == 'ort':
                if (s_in, z_in) == (s_out, z_out):
                    r = d
                else:
                    r = np.rint((np.float32(s_in) * d.astype(np.float32)) / np.float32(s_out)).astype(np.int64)
            else:
                m, sh = from_real(float(np.float32(s_in)) / float(np.float32(s_out)))
                r = rshift_round(d * m, sh, even)
            parts.append(np.clip(r + z_out, lo, hi))
        return np.concatenate(parts, axis=0).astype(np.uint8)
    if op == 'DepthToSpace':
        src = graph.dq_source(node.input[0])[0]
        x = vals[src]
        bs = attr(node, 'blocksize', 1)
        mode_ = attr(node, 'mode', b'DCR')
        C, H, W = x.shape
        if mode_ in (b'DCR', 'DCR'):
            y = x.reshape(bs, bs, C // (bs * bs), H, W).transpose(2, 3, 0, 4, 1)
        else:
            y = x.reshape(C // (bs * bs), bs, bs, H, W).transpose(0, 3, 1, 4, 2)
        return np.ascontiguousarray(y.reshape(C // (bs * bs), H * bs, W * bs))
    raise NotImplementedError('%s (%s): op not modelled' % (v, op))


def unit_inputs(graph, node):
    out = []
    for i in node.input:
        if not i:
            continue
        try:
            src, const = graph.dq_source(i)
        except ValueError:
            continue
        if src is not None:
            out.append(src)
    return out


def run_ort(graph, path, img, w, h, c, level, tmp):
    m = onnx.load(path)
    names = [v + '/q' for v, _, _ in graph.units] + ['input/q']
    del m.graph.output[:]
    for n in names:
        m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.UINT8, None))
    p = os.path.join(tmp, 'all-outputs.onnx')
    onnx.save(m, p)
    d = os.path.join(tmp, 'ort-' + level)
    subprocess.run(['node', os.path.join(HERE, 'dump.js'), p, str(c), img, str(w), str(h), level, d],
                   check=True)
    vals = {}
    for e in json.load(open(os.path.join(d, 'index.json'))):
        a = np.fromfile(os.path.join(d, e['file']), dtype=np.uint8)
        vals[e['name'][:-2]] = a.reshape(e['dims'][1:])
    return vals


def main():
    path, items = sys.argv[1], sys.argv[2:]
    graph = Graph(path)
    inp = graph.model.graph.input[0]
    c = inp.type.tensor_type.shape.dim[1].dim_value
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for item in items:
            f = item.split(':')
            img, w, h = f[0], int(f[1]), int(f[2])
            x = np.fromfile(img, dtype=np.uint8).reshape(c, h, w)
            eng = {'input': x}
            for v, node, acts in graph.units:
                eng[v] = eval_unit(graph, v, node, acts, eng, 'engine')
            out_v = graph.units[-1][0]
            if len(f) > 3:
                ref = np.fromfile(f[3], dtype=np.uint8)
                bad = int(np.count_nonzero(ref != eng[out_v].reshape(-1)))
                if bad:
                    sys.exit('%s: the NumPy model of the engine differs from the engine in %d '
                             'bytes: fix the model first' % (img, bad))
            for level in ('all', 'disabled'):
                ort = run_ort(graph, path, img, w, h, c, level, tmp)
                for v, node, acts in graph.units:
                    ins = unit_inputs(graph, node)
                    row = report.setdefault((level, v), {'op': node.op_type + ''.join(
                        '+' + a.op_type for a in acts), 'n': 0, 'free': 0, 'free_max': 0,
                        'engine': 0, 'engine_max': 0, 'ort_model': 0, 'engine-even': 0,
                        'engine-f32': 0})
                    o = ort[v].astype(np.int64)
                    d = np.abs(eng[v].astype(np.int64) - o)
                    row['n'] += d.size
                    row['free'] += int(np.count_nonzero(d))
                    row['free_max'] = max(row['free_max'], int(d.max()))
                    for mode in ('engine', 'ort', 'engine-even', 'engine-f32'):
                        loc = np.abs(eval_unit(graph, v, node, acts, ort, mode).astype(np.int64) - o)
                        key = 'ort_model' if mode == 'ort' else mode
                        row[key] += int(np.count_nonzero(loc))
                        if mode == 'engine':
                            row['engine_max'] = max(row['engine_max'], int(loc.max()))
    print('model: %s; images: %d (engine model bit-exact with the engine on every image given '
          'an ENGINE_OUT)' % (os.path.basename(path), len(items)))
    for level in ('all', 'disabled'):
        print('\nORT level %s' % level)
        print('| tensor | op | elements | free-running: differ (max) | born here: engine '
              '(max) | ORT model | engine, half-even | engine, f32 multiplier |')
        print('|---|---|---|---|---|---|---|---|')
        for v, _, _ in graph.units:
            r = report[(level, v)]
            print('| %s | %s | %d | %d (%d) | %d (%d) | %d | %d | %d |' % (
                v, r['op'], r['n'], r['free'], r['free_max'], r['engine'], r['engine_max'],
                r['ort_model'], r['engine-even'], r['engine-f32']))


if __name__ == '__main__':
    main()
