#!/usr/bin/python3
"""Mobile SR architectures for CFQP, each in a *clipped* and a *clip-free* form.

All models take one NCHW RGB tensor in [0, 1] and return the upscaled RGB
tensor.  Only these ONNX ops appear in the exports: Conv (incl. grouped),
Relu, LeakyRelu, Clip, Add, Concat, DepthToSpace (DCR or CRD), SpaceToDepth.

Published configurations (channel counts as in the papers):

* ``xlsr`` -- XLSR, Ayazoglu, "Extremely Lightweight Quantization Robust
  Real-Time Single-Image Super Resolution for Mobile Devices", CVPRW 2021.
  Four parallel 3x3 conv branches of 8 filters on the input (here one 3x3
  conv 3->32: the same thing, concatenated) + ReLU, 1x1 conv 32->32,
  3 Gblocks (grouped 3x3 conv 32->32 in 4 groups + ReLU, 1x1 conv 32->32),
  a side 3x3 conv 3->16 on the input, concat (48), 1x1 conv ->32 + ReLU,
  3x3 conv -> 3*s^2, depth-to-space (CRD), output activation: clipped ReLU
  (max 1) in the clipped form = Clip(0, 1); plain ReLU in the clip-free form.
* ``abpn`` -- ABPN, Du et al., "Anchor-based Plain Net for Mobile Image
  Super-Resolution", CVPRW 2021: 28 channels; 3x3 conv 3->28 + ReLU,
  4 x (3x3 conv 28->28 + ReLU), 3x3 conv 28->3s^2 + ReLU, 3x3 conv
  3s^2->3s^2; add the anchor (the input repeated s^2 times along channels,
  a Concat), depth-to-space (DCR order, as TF's depth_to_space), clamp(0,1)
  in the clipped form (Clip), nothing in the clip-free form.
* ``quicksrnet_s`` -- QuickSRNet-Small, Berger et al., "QuickSRNet: Plain
  Single-Image Super-Resolution Architecture for Faster Inference on Mobile
  Platforms", CVPRW 2023: 32 channels, 3x3 conv 3->32, 2 intermediate 3x3
  conv 32->32, 3x3 conv 32->3s^2, each hidden conv followed by Hardtanh(0,1)
  (Clip) in the clipped form or ReLU in the clip-free form; anchor (Concat),
  depth-to-space (DCR), final Clip(0,1) only in the clipped form.
* ``quicksrnet_s2d`` -- QuickSRNet-Small for the ratio 3/2 only (here, not
  published): SpaceToDepth 2, the x3 net's body with a 12-channel first conv,
  a learnt linear 3x3 conv 12->27 as the anchor, DepthToSpace 3 (DCR); even
  LR sides.  Trained from the x3 net (``--init-onnx``, ``load_parent``).
* ``bicubicpp`` -- Bicubic++, Bilecen & Ayazoglu, "Bicubic++: Slim, Slimmer,
  Slimmest - Designing an Industry-Grade Super-Resolution Network", CVPRW
  2023: space-to-depth by 2 (3->12 channels at half resolution), 3x3 conv
  12->32 + LeakyReLU(0.1), 3x3 conv 32->32 + LeakyReLU(0.1), 3x3 conv
  32->32 + LeakyReLU(0.1), 3x3 conv 32->3*(2s)^2, depth-to-space by 2s (CRD).
  No clip in either form (the clipped form adds a final Clip(0,1) only so
  that the clip-removal pass has something to remove). LR sides must be even.

Usage: /usr/bin/python3 tools/pipeline/sr_models.py  (prints parameters and MACs per
LR pixel of every model, and checks the ONNX export of each).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


# --- addressing ops with ONNX symbolics of our choosing ------------------

class _D2SDCR(torch.autograd.Function):
    """ONNX DepthToSpace, mode DCR: out[c, y*b+i, x*b+j] = in[(i*b+j)*C+c, y, x]."""

    @staticmethod
    def forward(ctx, x, b):
        n, cb, h, w = x.shape
        c = cb // (b * b)
        ctx.b = b
        return (x.reshape(n, b, b, c, h, w).permute(0, 3, 4, 1, 5, 2)
                .reshape(n, c, h * b, w * b))

    @staticmethod
    def backward(ctx, g):
        b = ctx.b
        n, c, hb, wb = g.shape
        h, w = hb // b, wb // b
        return (g.reshape(n, c, h, b, w, b).permute(0, 3, 5, 1, 2, 4)
                .reshape(n, b * b * c, h, w)), None

    @staticmethod
    def symbolic(g, x, b):
        return g.op("DepthToSpace", x, blocksize_i=b, mode_s="DCR")


def depth_to_space_dcr(x, b):
    return _D2SDCR.apply(x, b)


class _S2D(torch.autograd.Function):
    """ONNX SpaceToDepth: out[(i*b+j)*C+c, y, x] = in[c, y*b+i, x*b+j], the
    inverse of DCR depth-to-space."""

    @staticmethod
    def forward(ctx, x, b):
        n, c, hb, wb = x.shape
        h, w = hb // b, wb // b
        ctx.b = b
        return (x.reshape(n, c, h, b, w, b).permute(0, 3, 5, 1, 2, 4)
                .reshape(n, b * b * c, h, w))

    @staticmethod
    def backward(ctx, g):
        return depth_to_space_dcr(g, ctx.b), None

    @staticmethod
    def symbolic(g, x, b):
        return g.op("SpaceToDepth", x, blocksize_i=b)


def space_to_depth(x, b):
    return _S2D.apply(x, b)


def ridge_fit(conv_layer, inputs, target):
    """Set a 3x3 conv (with bias) to the ridge least-squares map from the
    3x3 neighbourhood of `inputs` to `target` (same spatial size)."""
    f = F.unfold(inputs, 3, padding=1)
    a = f.permute(0, 2, 1).reshape(-1, f.shape[1]).double()
    b = target.flatten(2).permute(0, 2, 1).reshape(-1, target.shape[1]).double()
    a = torch.cat([a, torch.ones(a.shape[0], 1, dtype=a.dtype)], 1)
    ata = a.T @ a
    ridge = 1e-3 * ata.diagonal().mean() * torch.eye(a.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(ata + ridge, a.T @ b)
    conv_layer.bias.copy_(w[-1].float())
    conv_layer.weight.copy_(w[:-1].T.reshape(conv_layer.weight.shape).float())


def anchor(x, s):
    """Input repeated s^2 times along channels (Concat): with DCR
    depth-to-space this is nearest-neighbour upsampling."""
    return torch.cat([x] * (s * s), dim=1)


def conv(cin, cout, k=3, groups=1):
    return nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups)


# --- architectures --------------------------------------------------------

@torch.no_grad()
def readout_init(last, feats, hr, block):
    """Set the last conv (3x3, CRD depth-to-space by `block` after it) to the
    ridge least-squares map from the 3x3 neighbourhood of `feats` to the HR
    sub-pixels: a net without an anchor then starts as a fitted linear
    interpolator instead of noise."""
    f = F.unfold(feats, 3, padding=1)                               # N, C*9, L
    t = F.pixel_unshuffle(hr, block).flatten(2)                     # N, 3*block^2, L (CRD)
    a = f.permute(0, 2, 1).reshape(-1, f.shape[1]).double()
    b = t.permute(0, 2, 1).reshape(-1, t.shape[1]).double()
    if last.bias is not None:
        a = torch.cat([a, torch.ones(a.shape[0], 1, dtype=a.dtype)], 1)
    ata = a.T @ a
    ridge = 1e-3 * ata.diagonal().mean() * torch.eye(a.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(ata + ridge, a.T @ b)
    if last.bias is not None:
        last.bias.copy_(w[-1].float())
        w = w[:-1]
    last.weight.copy_(w.T.reshape(last.weight.shape).float())


class XLSR(nn.Module):
    def __init__(self, scale, clipped=False, channels=32, gblocks=3, groups=4):
        super().__init__()
        self.scale, self.clipped = scale, clipped
        self.head = conv(3, channels, 3)          # 4 parallel 8-filter branches
        self.head_1x1 = conv(channels, channels, 1)
        self.side = conv(3, 16, 3)
        self.gconvs = nn.ModuleList([conv(channels, channels, 3, groups) for _ in range(gblocks)])
        self.g1x1 = nn.ModuleList([conv(channels, channels, 1) for _ in range(gblocks)])
        self.mix = conv(channels + 16, channels, 1)
        self.tail = conv(channels, 3 * scale * scale, 3)
        self.shuffle = nn.PixelShuffle(scale)     # CRD
        for m in self.modules():  # He normal with variance scale 0.1 (std sqrt(0.1/fan_in)), as XLSR
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                nn.init.normal_(m.weight, 0.0, (0.1 / fan_in) ** 0.5)
                nn.init.zeros_(m.bias)

    def features(self, x):
        m = self.head_1x1(F.relu(self.head(x)))
        for gc, pw in zip(self.gconvs, self.g1x1):
            m = pw(F.relu(gc(m)))
        return F.relu(self.mix(torch.cat([self.side(x), m], dim=1)))

    def forward(self, x):
        y = self.shuffle(self.tail(self.features(x)))
        return torch.clamp(y, 0.0, 1.0) if self.clipped else F.relu(y)

    @torch.no_grad()
    def data_init(self, lr, hr):
        """As BicubicPP.data_init: the side conv's first 3 filters and the
        mix's first 3 rows pass the input pixels through (positive, so the
        ReLU keeps them) and the tail is the least-squares readout."""
        for c in range(3):
            self.side.weight[c].zero_()
            self.side.weight[c, c, 1, 1] = 1.0
            self.side.bias[c] = 0.0
            self.mix.weight[c].zero_()
            self.mix.weight[c, c, 0, 0] = 1.0
            self.mix.bias[c] = 0.0
        readout_init(self.tail, self.features(lr), hr, self.scale)


class ABPN(nn.Module):
    def __init__(self, scale, clipped=False, channels=28, mid=4):
        super().__init__()
        self.scale, self.clipped = scale, clipped
        c3 = 3 * scale * scale
        self.body = nn.ModuleList([conv(3, channels)] + [conv(channels, channels) for _ in range(mid)]
                                  + [conv(channels, c3)])
        self.last = conv(c3, c3)

    def forward(self, x):
        y = x
        for c in self.body:
            y = F.relu(c(y))
        y = self.last(y) + anchor(x, self.scale)
        y = depth_to_space_dcr(y, self.scale)
        return torch.clamp(y, 0.0, 1.0) if self.clipped else y


class QuickSRNetSmall(nn.Module):
    def __init__(self, scale, clipped=False, channels=32, mid=2):
        super().__init__()
        self.scale, self.clipped = scale, clipped
        self.body = nn.ModuleList([conv(3, channels)] + [conv(channels, channels) for _ in range(mid)])
        self.last = conv(channels, 3 * scale * scale)

    def act(self, y):
        return torch.clamp(y, 0.0, 1.0) if self.clipped else F.relu(y)

    def features(self, x):
        y = x
        for c in self.body:
            y = self.act(c(y))
        return y

    def forward(self, x):
        y = self.last(self.features(x)) + anchor(x, self.scale)
        y = depth_to_space_dcr(y, self.scale)
        return torch.clamp(y, 0.0, 1.0) if self.clipped else y


class QuickSRNetSmallS2D(QuickSRNetSmall):
    """QuickSRNet-Small for the ratio 3/2: space-to-depth 2 at the input (a
    720p frame runs the body at 640x360 positions, the work of the x3 net on
    a 360p frame), the x3 net's body with a first conv of 12 input channels,
    depth-to-space 3 (DCR) at the output.  The anchor, nearest upsampling in
    the integer nets, cannot be a Concat here (an output cell's 3x3 pixels
    sit over 2x2 input pixels), so it is a learnt linear 3x3 conv 12->27 on
    the space-to-depth tensor, added before the depth-to-space."""

    IN_BLOCK, OUT_BLOCK = 2, 3

    def __init__(self, scale, clipped=False, channels=32, mid=2):
        # the x3 net's modules, with a first conv on the 12 channels
        super().__init__(self.OUT_BLOCK, clipped, channels, mid)
        assert float(scale) == 1.5, scale
        self.scale = scale
        cin, cout = 3 * self.IN_BLOCK ** 2, 3 * self.OUT_BLOCK ** 2
        self.body[0] = conv(cin, channels)
        self.anchor = conv(cin, cout)

    def forward(self, x):
        s = space_to_depth(x, self.IN_BLOCK)
        y = self.last(self.features(s)) + self.anchor(s)
        y = depth_to_space_dcr(y, self.OUT_BLOCK)
        return torch.clamp(y, 0.0, 1.0) if self.clipped else y

    @torch.no_grad()
    def load_parent(self, init):
        """Start from the x3 QuickSRNet-Small (its ONNX initializers by
        parameter name): the body and the last conv as they are, the first
        conv's 3 input channels spread over the 4 pixels of each
        space-to-depth cell (weights / 4), so the body first sees the cell's
        mean, the x3 net's LR pixel over the same 3x3 output pixels."""
        sd = self.state_dict()
        for k in sd:
            if k.startswith("anchor."):
                continue  # the parent has none: data_init fits it
            v = torch.from_numpy(init[k].copy())
            if k == "body.0.weight":
                v = v.repeat(1, self.IN_BLOCK ** 2, 1, 1) / self.IN_BLOCK ** 2
            if tuple(v.shape) != tuple(sd[k].shape):
                raise ValueError("parent parameter %s: shape %s, want %s" % (k, tuple(v.shape), tuple(sd[k].shape)))
            sd[k] = v
        self.load_state_dict(sd)

    @torch.no_grad()
    def data_init(self, lr, hr):
        """The anchor: the ridge least-squares linear map from the 3x3
        space-to-depth neighbourhood to the HR cell (a fitted interpolator);
        then the last conv: the same fit of what the anchor leaves (HR -
        anchor) from the body's features, as the parent's last conv was
        fitted to a nearest-neighbour anchor."""
        s = space_to_depth(lr, self.IN_BLOCK)
        t = space_to_depth(hr, self.OUT_BLOCK)
        ridge_fit(self.anchor, s, t)
        ridge_fit(self.last, self.features(s), t - self.anchor(s))


class BicubicPP(nn.Module):
    """Bicubic++ as published (aselsan-research-imaging-team/bicubic-plusplus):
    a stride-2 3x3 conv, two 3x3 convs, LeakyReLU(0.1) after each, a skip
    from the first activation to the third, a 3x3 conv to 3(2s)^2 channels
    and DepthToSpace 2s (CRD); no biases.  Needs even input sides."""

    def __init__(self, scale, clipped=False, channels=32):
        super().__init__()
        self.scale, self.clipped = scale, clipped
        self.conv0 = nn.Conv2d(3, channels, 3, stride=2, padding=1, bias=False)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv_out = nn.Conv2d(channels, 3 * (2 * scale) ** 2, 3, padding=1, bias=False)
        self.shuffle = nn.PixelShuffle(2 * scale)  # CRD

    def features(self, x):
        x0 = F.leaky_relu(self.conv0(x), 0.1)
        x1 = F.leaky_relu(self.conv1(x0), 0.1)
        return F.leaky_relu(self.conv2(x1), 0.1) + x0

    def forward(self, x):
        y = self.shuffle(self.conv_out(self.features(x)))
        return torch.clamp(y, 0.0, 1.0) if self.clipped else y

    @torch.no_grad()
    def data_init(self, lr, hr):
        """Start from an interpolator instead of noise: with no anchor the net
        must learn upsampling itself, which short CPU budgets do not allow
        (x3, 2000 steps, train.py's validation, in a scratch script not kept:
        -2.84 dB against bicubic from the default init, +0.45 dB from this
        one).  conv0's first 12 filters pass the 2x2 pixels under
        each output unchanged (positive, so LeakyReLU keeps them), conv2
        starts small so the skip keeps them, and conv_out is the ridge
        least-squares map from the 3x3 feature neighbourhood to the HR
        sub-pixels of the given patches (readout_init)."""
        w0 = self.conv0.weight
        for c in range(3):
            for k, (dy, dx) in enumerate(((1, 1), (1, 2), (2, 1), (2, 2))):
                w0[4 * c + k].zero_()
                w0[4 * c + k, c, dy, dx] = 1.0
        self.conv2.weight.mul_(0.1)
        readout_init(self.conv_out, self.features(lr), hr, 2 * self.scale)


ARCHS = {"xlsr": XLSR, "abpn": ABPN, "quicksrnet_s": QuickSRNetSmall, "bicubicpp": BicubicPP,
         "quicksrnet_s2d": QuickSRNetSmallS2D}
# archs whose clipped form differs from the clip-free one only in the output
# activation (Clip(0,1) against nothing or a ReLU): trained with the L1 loss
# on the clamped output (train.py --loss-on-clamp), the clip-free form sees
# the same forward values and gradients as its twin (but for an output of
# exactly 0, where the clamp passes the gradient and the ReLU does not)
OUTPUT_CLIP_ONLY = ("abpn", "xlsr", "bicubicpp")
# archs of one fractional scale only (the others take 2, 3, 4)
RATIO_ARCHS = {"quicksrnet_s2d": "1.5"}


def build(arch, scale, clipped=False):
    return ARCHS[arch](scale, clipped=clipped)


def model_name(arch, scale, clipped):
    return "%s-x%g%s" % (arch, float(scale), "-clipped" if clipped else "")


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def macs_per_lr_pixel(model, size=24):
    """Multiply-accumulates of the convolutions per LR input pixel."""
    total = [0]

    def hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += out.numel() // out.shape[0] * (m.in_channels // m.groups) * k

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.rand(1, 3, size, size))
    for h in hs:
        h.remove()
    return total[0] / (size * size)


def clean_onnx(g):
    """Keep the graph within the op set: Constant nodes become initializers,
    Identity nodes on initializers (the exporter's de-duplication of equal
    tensors) become copies of the initializer."""
    from onnx import numpy_helper
    inits = {t.name: t for t in g.graph.initializer}
    keep = []
    for n in g.graph.node:
        if n.op_type == "Constant":
            t = numpy_helper.to_array(n.attribute[0].t)
            g.graph.initializer.append(numpy_helper.from_array(t, n.output[0]))
        elif n.op_type == "Identity" and n.input[0] in inits:
            t = numpy_helper.to_array(inits[n.input[0]])
            g.graph.initializer.append(numpy_helper.from_array(t, n.output[0]))
        else:
            keep.append(n)
    del g.graph.node[:]
    g.graph.node.extend(keep)
    return g


def export_onnx(model, path, opset=13):
    """One NCHW RGB input 'input' in [0,1], output 'output', dynamic H/W."""
    import io
    import onnx
    model = model.eval()
    x = torch.rand(1, 3, 32, 32)
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {2: "height", 3: "width"},
                                    "output": {2: "height_out", 3: "width_out"}},
                      do_constant_folding=True)
    g = clean_onnx(onnx.load_from_string(f.getvalue()))
    onnx.checker.check_model(g)
    if isinstance(path, str):
        onnx.save(g, path)
    else:
        path.write(g.SerializeToString())
    return g


def onnx_eval_numpy(g, x):
    """Tiny NumPy evaluator of the op set above (ONNX semantics), used to
    check the exports independently of PyTorch."""
    import numpy as np
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t) for t in g.graph.initializer}
    env[g.graph.input[0].name] = x
    for n in g.graph.node:
        a = {at.name: at for at in n.attribute}
        i = [env[k] if k else None for k in n.input]
        t = n.op_type
        if t == "Conv":
            w = i[1]
            grp = a["group"].i if "group" in a else 1
            p = list(a["pads"].ints) if "pads" in a else [0, 0, 0, 0]
            xp = np.pad(i[0], ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
            kh, kw = w.shape[2:]
            sh, sw = list(a["strides"].ints) if "strides" in a else [1, 1]
            N, C, H, W = xp.shape
            oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
            cin, cout = C // grp, w.shape[0] // grp
            outs = []
            for gi in range(grp):
                xs = xp[:, gi * cin:(gi + 1) * cin]
                cols = np.stack([xs[:, :, dy:dy + sh * (oh - 1) + 1:sh, dx:dx + sw * (ow - 1) + 1:sw]
                                 for dy in range(kh) for dx in range(kw)], 2)
                wg = w[gi * cout:(gi + 1) * cout].reshape(cout, cin, kh * kw)
                outs.append(np.einsum("nckhw,ock->nohw", cols, wg))
            y = np.concatenate(outs, 1)
            if len(i) > 2 and i[2] is not None:
                y = y + i[2][None, :, None, None]
        elif t == "Relu":
            y = np.maximum(i[0], 0)
        elif t == "LeakyRelu":
            y = np.where(i[0] >= 0, i[0], i[0] * a["alpha"].f)
        elif t == "Clip":
            y = np.clip(i[0], i[1], i[2])
        elif t == "Add":
            y = i[0] + i[1]
        elif t == "Concat":
            y = np.concatenate(i, a["axis"].i)
        elif t == "DepthToSpace":
            b = a["blocksize"].i
            N, C, H, W = i[0].shape
            if a["mode"].s.decode() == "DCR":
                y = i[0].reshape(N, b, b, C // (b * b), H, W).transpose(0, 3, 4, 1, 5, 2)
            else:
                y = i[0].reshape(N, C // (b * b), b, b, H, W).transpose(0, 1, 4, 2, 5, 3)
            y = y.reshape(N, C // (b * b), H * b, W * b)
        elif t == "SpaceToDepth":
            b = a["blocksize"].i
            N, C, H, W = i[0].shape
            y = (i[0].reshape(N, C, H // b, b, W // b, b).transpose(0, 3, 5, 1, 2, 4)
                 .reshape(N, C * b * b, H // b, W // b))
        else:
            raise ValueError("op outside the CFQP set: " + t)
        env[n.output[0]] = y
    return env[g.graph.output[0].name]


def _selftest():
    import io
    import onnx
    torch.manual_seed(0)
    for arch in ARCHS:
        for s in ((RATIO_ARCHS[arch],) if arch in RATIO_ARCHS else (2, 3, 4)):
            for clipped in (False, True):
                m = build(arch, s, clipped)
                x = torch.rand(1, 3, 16, 20)
                y = m(x)
                f = float(s)
                assert y.shape == (1, 3, int(16 * f), int(20 * f)), y.shape
                f = io.BytesIO()
                export_onnx(m, f)
                g = onnx.load_from_string(f.getvalue())
                xb = torch.rand(1, 3, 8, 10)
                with torch.no_grad():
                    ref = m(xb).numpy()
                err = abs(onnx_eval_numpy(g, xb.numpy().astype("float64")) - ref).max()
                assert err < 1e-4, (arch, s, clipped, err)
                ops = sorted({n.op_type for n in g.graph.node})
                print("%-22s params %6d  MACs/LR px %7.0f  ops %s" % (
                    model_name(arch, s, clipped), count_params(m), macs_per_lr_pixel(m),
                    " ".join(ops)))
    # DCR addressing check against the definition
    b, c = 3, 2
    x = torch.arange(b * b * c * 4, dtype=torch.float32).reshape(1, b * b * c, 2, 2)
    y = depth_to_space_dcr(x, b)
    assert y[0, 1, 1 * b + 2, 0 * b + 1] == x[0, (2 * b + 1) * c + 1, 1, 0]
    # anchor + DCR = nearest upsampling
    x = torch.rand(1, 3, 5, 7)
    assert torch.equal(depth_to_space_dcr(anchor(x, 3), 3),
                       F.interpolate(x, scale_factor=3, mode="nearest"))
    print("ok")


if __name__ == "__main__":
    _selftest()
