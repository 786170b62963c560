#!/usr/bin/python3
"""Small reference SR networks (PyTorch, seeded weights) in the shapes of the
mobile SR families cfqp targets.  They exist to test the ONNX importer and the
FP32 executor against PyTorch, not to produce good images: channel counts are
kept small so that the exported files stay tiny.

Each entry of NETS builds a module; build(name) seeds torch and re-initialises
weights so that activations keep an O(1) range (default PyTorch init shrinks
them layer after layer, which would make a 1e-4 tolerance meaningless) and so
that per-channel parameters (PReLU slopes, biases) really differ per channel.

Ops whose ONNX form torch cannot emit on its own (DepthToSpace DCR,
SpaceToDepth) go through autograd Functions with a `symbolic`, so the export
holds exactly that node.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------
# Ops with a hand-written ONNX symbolic

class DepthToSpaceDCR(torch.autograd.Function):
    """ONNX DepthToSpace mode DCR (TensorFlow's depth_to_space): output
    channel c at offset (i, j) comes from input channel (i*s + j)*C + c.
    torch.nn.PixelShuffle is CRD, so this is the only way to get a DCR node."""

    @staticmethod
    def forward(ctx, x, s):
        n, cs2, h, w = x.shape
        c = cs2 // (s * s)
        y = x.reshape(n, s, s, c, h, w).permute(0, 3, 4, 1, 5, 2)
        return y.reshape(n, c, h * s, w * s)

    @staticmethod
    def symbolic(g, x, s):
        # mode appeared in opset 11; before that DCR was the only mode.
        from torch.onnx._globals import GLOBALS
        if GLOBALS.export_onnx_opset_version >= 11:
            return g.op("DepthToSpace", x, blocksize_i=s, mode_s="DCR")
        return g.op("DepthToSpace", x, blocksize_i=s)


class SpaceToDepthOnnx(torch.autograd.Function):
    """ONNX SpaceToDepth: output channel (i*s + j)*C + c takes input channel c
    at offset (i, j).  torch.pixel_unshuffle orders channels c*s*s + i*s + j
    and exports as Reshape/Transpose/Reshape, so it is kept separately."""

    @staticmethod
    def forward(ctx, x, s):
        n, c, h, w = x.shape
        y = x.reshape(n, c, h // s, s, w // s, s).permute(0, 3, 5, 1, 2, 4)
        return y.reshape(n, c * s * s, h // s, w // s)

    @staticmethod
    def symbolic(g, x, s):
        return g.op("SpaceToDepth", x, blocksize_i=s)


class ExpandChannels(torch.autograd.Function):
    """x.expand(N, reps, H, W) for a 1-channel x, exported as Expand fed by a
    Shape -> Gather -> Unsqueeze -> Concat -> Cast chain.  torch's own expand
    symbolic adds ConstantOfShape/Equal/Where (its -1 handling), which the
    importer's contract does not cover."""

    @staticmethod
    def forward(ctx, x, reps):
        n, _, h, w = x.shape
        return x.expand(n, reps, h, w)

    @staticmethod
    def symbolic(g, x, reps):
        from torch.onnx._globals import GLOBALS

        def const(v):
            return g.op("Constant", value_t=torch.tensor(v, dtype=torch.int64))

        shape = g.op("Shape", x)
        dims = []
        for axis in (0, 2, 3):
            d = g.op("Gather", shape, const(axis), axis_i=0)
            # Unsqueeze took axes as an attribute before opset 13.
            if GLOBALS.export_onnx_opset_version >= 13:
                dims.append(g.op("Unsqueeze", d, const([0])))
            else:
                dims.append(g.op("Unsqueeze", d, axes_i=[0]))
        target = g.op("Concat", dims[0], const([reps]), dims[1], dims[2], axis_i=0)
        # A Cast as converters often leave one (int64 -> int64 here).
        target = g.op("Cast", target, to_i=7)
        return g.op("Expand", x, target)


def conv(cin, cout, k, stride=1, groups=1, bias=True):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=bias)


# ---------------------------------------------------------------------------
# Networks.  `scale` and `channels` are read by the data generator.

class ESPCN(nn.Module):
    """ESPCN with ReLU, RGB x3, normalised input: (x - mean) / std in front and
    the inverse at the output (Sub, Div, Mul, Add by per-channel constants)."""
    scale, channels = 3, 3

    def __init__(self):
        super().__init__()
        s = self.scale
        self.register_buffer("mean", torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.2500, 0.2300, 0.2700]).view(1, 3, 1, 1))
        self.c1 = conv(3, 24, 5)
        self.c2 = conv(24, 12, 3)
        self.c3 = conv(12, 3 * s * s, 3)
        self.ps = nn.PixelShuffle(s)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = self.ps(self.c3(x))
        return x * self.std + self.mean


class FSRCNN(nn.Module):
    """FSRCNN, luma: feature extraction, shrinking, mapping, expanding with
    per-channel PReLU, ConvTranspose 9x9 head (stride = scale, output_padding
    so that the output is exactly scale times larger)."""
    channels = 1

    def __init__(self, scale=2, d=16, s=8, m=2):
        super().__init__()
        self.scale = scale
        layers = [conv(1, d, 5), nn.PReLU(d), nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [conv(s, s, 3), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.body = nn.Sequential(*layers)
        # (H-1)*scale - 2*4 + 9 + output_padding == scale*H
        self.head = nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1)

    def forward(self, x):
        return self.head(self.body(x))


class ABPN(nn.Module):
    """ABPN: conv3x3 stack with ReLU, anchor = input repeated scale^2 times
    along channels, add, pixel shuffle; optionally clamp(0,1).  `anchor`
    selects torch.cat of copies (Concat) or x.repeat (Tile)."""
    channels = 3

    def __init__(self, scale=3, feat=12, n_mid=3, anchor="cat", clip=False):
        super().__init__()
        self.scale, self.anchor, self.clip = scale, anchor, clip
        layers = [conv(3, feat, 3), nn.ReLU()]
        for _ in range(n_mid):
            layers += [conv(feat, feat, 3), nn.ReLU()]
        layers += [conv(feat, 3 * scale * scale, 3)]
        self.body = nn.Sequential(*layers)
        self.ps = nn.PixelShuffle(scale)

    def forward(self, x):
        s2 = self.scale * self.scale
        if self.anchor == "cat":
            a = torch.cat([x] * s2, dim=1)
        else:
            a = x.repeat(1, s2, 1, 1)
        y = self.ps(self.body(x) + a)
        return y.clamp(0.0, 1.0) if self.clip else y


class XLSR(nn.Module):
    """XLSR-like: parallel grouped convs (groups=4) concatenated, 1x1 convs,
    a depthwise 3x3, concat with the first features, DepthToSpace; the clipped
    variant ends in a ReLU capped at 1 (Clip)."""
    channels = 3

    def __init__(self, scale=2, clip=True):
        super().__init__()
        self.scale, self.clip = scale, clip
        self.stem_a = conv(3, 8, 3)
        self.stem_b = nn.Conv2d(3, 8, 1)
        self.g1 = conv(16, 16, 3, groups=4)
        self.g2 = conv(16, 16, 3, groups=4)
        self.p1 = nn.Conv2d(32, 16, 1)
        self.dw = conv(16, 16, 3, groups=16)
        self.p2 = nn.Conv2d(16, 16, 1, bias=False)
        self.out = conv(32, 3 * scale * scale, 3)
        self.ps = nn.PixelShuffle(scale)

    def forward(self, x):
        f = torch.cat([self.stem_a(x), self.stem_b(x)], dim=1)
        a, b = F.relu(self.g1(f)), F.relu(self.g2(f))
        y = F.relu(self.p1(torch.cat([a, b], dim=1)))
        y = F.relu(self.p2(self.dw(y)))
        y = self.ps(self.out(torch.cat([y, f], dim=1)))
        return torch.clamp(y, 0.0, 1.0) if self.clip else F.relu(y)


class QuickSRNetRGB(nn.Module):
    """QuickSRNet-small, RGB: conv3x3 + ReLU, anchor = concat of input copies
    followed by DepthToSpace DCR (so the anchor is a true nearest upsample),
    output Hardtanh(0, 1)."""
    channels = 3

    def __init__(self, scale=2, feat=16, n=2):
        super().__init__()
        self.scale = scale
        layers = [conv(3, feat, 3), nn.ReLU()]
        for _ in range(n):
            layers += [conv(feat, feat, 3), nn.ReLU()]
        layers += [conv(feat, 3 * scale * scale, 3)]
        self.body = nn.Sequential(*layers)
        self.act = nn.Hardtanh(0.0, 1.0)

    def forward(self, x):
        s2 = self.scale * self.scale
        y = self.body(x)
        # DCR order: channel (i*s+j)*3 + c, i.e. s2 whole copies of RGB.
        y = y + torch.cat([x] * s2, dim=1)
        return self.act(DepthToSpaceDCR.apply(y, self.scale))


class QuickSRNetLuma(nn.Module):
    """QuickSRNet-small, luma x4: the 1-channel anchor is x expanded to
    scale^2 channels (Expand whose target shape comes from a Shape/Gather/
    Unsqueeze/Concat/Cast chain), pixel shuffle, ReLU output."""
    channels = 1

    def __init__(self, scale=4, feat=12, n=2):
        super().__init__()
        self.scale = scale
        layers = [conv(1, feat, 3), nn.ReLU()]
        for _ in range(n):
            layers += [conv(feat, feat, 3), nn.ReLU()]
        layers += [conv(feat, scale * scale, 3)]
        self.body = nn.Sequential(*layers)
        self.ps = nn.PixelShuffle(scale)

    def forward(self, x):
        a = ExpandChannels.apply(x, self.scale * self.scale)
        return F.relu(self.ps(self.body(x) + a))


class SESR(nn.Module):
    """Collapsed SESR: 5x5 conv, a few 3x3 with (scalar) PReLU, long residual
    onto the first features, 3x3 conv to scale^2*3, pixel shuffle, plus a
    nearest-neighbour upsample of the input (Upsample/Resize)."""
    channels = 3

    def __init__(self, scale=4, feat=12, m=3):
        super().__init__()
        self.scale = scale
        self.first = conv(3, feat, 5)
        self.mid = nn.ModuleList(conv(feat, feat, 3) for _ in range(m))
        self.acts = nn.ModuleList(nn.PReLU() for _ in range(m + 1))
        self.last = conv(feat, 3 * scale * scale, 3)
        self.ps = nn.PixelShuffle(scale)

    def forward(self, x):
        f = self.acts[0](self.first(x))
        y = f
        for c, act in zip(self.mid, self.acts[1:]):
            y = act(c(y))
        y = self.ps(self.last(y + f))
        return y + F.interpolate(x, scale_factor=self.scale, mode="nearest")


class BicubicPPConv(nn.Module):
    """Bicubic++-like, x3: stride-2 conv downsample, LeakyReLU(0.1), a 1x5
    then 5x1 conv pair (non-square kernels and pads), conv to 3*(2*scale)^2,
    pixel shuffle by 2*scale.  Even input sizes."""
    channels, scale = 3, 3
    even_only = True

    def __init__(self, feat=8):
        super().__init__()
        u = 2 * self.scale
        self.down = conv(3, feat, 3, stride=2)
        self.c1h = nn.Conv2d(feat, feat, (1, 5), padding=(0, 2))
        self.c1v = nn.Conv2d(feat, feat, (5, 1), padding=(2, 0))
        self.up = conv(feat, 3 * u * u, 3)
        self.ps = nn.PixelShuffle(u)

    def forward(self, x):
        y = F.leaky_relu(self.down(x), 0.1)
        y = F.leaky_relu(self.c1v(self.c1h(y)), 0.1) + y
        return self.ps(self.up(y))


class BicubicPPUnshuffle(nn.Module):
    """Bicubic++-like, x2: pixel_unshuffle (Reshape/Transpose/Reshape at every
    opset), convs with LeakyReLU, ConvTranspose 4x4 stride 4 up, then
    1 - y: a Sub whose constant is the first operand.  Even sizes."""
    channels, scale = 3, 2
    even_only = True

    def __init__(self, feat=16):
        super().__init__()
        self.c0 = conv(12, feat, 3)
        self.c1 = conv(feat, feat, 3)
        self.up = nn.ConvTranspose2d(feat, 3, 4, stride=4)

    def forward(self, x):
        y = F.pixel_unshuffle(x, 2)
        y = F.leaky_relu(self.c0(y), 0.2)
        y = F.leaky_relu(self.c1(y), 0.2)
        return 1.0 - self.up(y)


class BicubicPPS2D(nn.Module):
    """Bicubic++-like, x4: SpaceToDepth node, conv with LeakyReLU, 1x1 conv +
    DepthToSpace CRD (PixelShuffle) by 8, then a scalar constant Add.
    Even sizes."""
    channels, scale = 3, 4
    even_only = True

    def __init__(self, feat=12):
        super().__init__()
        u = 2 * self.scale
        self.c0 = conv(12, feat, 3)
        self.c1 = nn.Conv2d(feat, 3 * u * u, 1)
        self.ps = nn.PixelShuffle(u)

    def forward(self, x):
        y = SpaceToDepthOnnx.apply(x, 2)
        y = F.leaky_relu(self.c0(y), 0.05)
        return self.ps(self.c1(y)) + 0.5


NETS = {
    "espcn-x3-norm": ESPCN,
    "fsrcnn-x2-luma": lambda: FSRCNN(scale=2),
    "fsrcnn-x3-luma": lambda: FSRCNN(scale=3, d=12, s=6, m=1),
    "abpn-x3-cat": lambda: ABPN(scale=3, anchor="cat"),
    "abpn-x3-tile-clip": lambda: ABPN(scale=3, anchor="repeat", clip=True),
    "xlsr-x2-clip": lambda: XLSR(scale=2, clip=True),
    "quicksrnet-x2-dcr": lambda: QuickSRNetRGB(scale=2),
    "quicksrnet-x4-luma": lambda: QuickSRNetLuma(scale=4),
    "sesr-x4-nearest": lambda: SESR(scale=4),
    "bicubicpp-x3-s2conv": BicubicPPConv,
    "bicubicpp-x2-unshuffle": BicubicPPUnshuffle,
    "bicubicpp-x4-s2d": BicubicPPS2D,
}


def reinit(net, gen):
    """He-normal conv weights (activations stay O(1) through the stack),
    visible biases, and PReLU slopes that differ per channel and can be
    negative, so that a slope broadcast on the wrong axis shows."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            w = m.weight
            fan_in = w[0].numel() if isinstance(m, nn.Conv2d) else w.shape[0] * w[0, 0].numel() / max(
                1, m.stride[0] * m.stride[1])
            with torch.no_grad():
                w.copy_(torch.randn(w.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_((torch.rand(m.bias.shape, generator=gen) - 0.5) * 0.2)
        elif isinstance(m, nn.PReLU):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 0.8 - 0.3)


def build(name, seed=1234):
    """The network called `name`, in eval mode, with deterministic weights."""
    torch.manual_seed(seed)
    net = NETS[name]()
    gen = torch.Generator().manual_seed(seed)
    reinit(net, gen)
    return net.eval()


def abpn_bench(scale=3, feat=28, seed=1234):
    """The ABPN-sized net of the speed work unit: 28 channels, 6 convs."""
    torch.manual_seed(seed)
    net = ABPN(scale=scale, feat=feat, n_mid=4, anchor="cat", clip=False)
    reinit(net, torch.Generator().manual_seed(seed))
    return net.eval()
