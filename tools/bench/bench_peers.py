#!/usr/bin/python3
"""Peers in one run: the CFQP engine and plugin beside PyTorch, ONNX Runtime,
OpenCV DNN and videoscale, on the same frames and the same ONNX model.

    /usr/bin/python3 tools/bench/bench_peers.py [--scales 3,2] [--rounds 5] [--frames 3]
                                          [--build build-bench] [--doc] [--chart]
    /usr/bin/python3 tools/bench/bench_peers.py --isa LEVEL [--only PEERS] [...] [--doc]
    /usr/bin/python3 tools/bench/bench_peers.py --isa-table [--doc]

--isa LEVEL (avx512vnni, avxvnni, avx2, sse4.1, generic) caps the engine and
cfqpsr (CFQP_MAX_CPU_ISA=LEVEL) and PyTorch's oneDNN (ONEDNN_MAX_CPU_ISA, its
name for the level: ISA_LEVELS) in the same run, so a CPU with AVX-512 VNNI
also stands in for the narrower levels.  Peers without such a cap (ONNX
Runtime, OpenCV, videoscale) run uncapped and are marked so.  Only --only's
peers run (default ISA_PEERS); the results go to
tools/.cache/bench/peers-isa-LEVEL.json and --doc rewrites the per-level
table ("### ISA levels: peers per level") of docs/performance.md from every
level's saved file.  --isa-table only re-tabulates those files.

For each work unit (x3 640x360 -> 1920x1080, x2 960x540 -> 1920x1080) every
peer runs --frames timed frames per round, the peers one after the other
(A B C ... A B C ...) for --rounds rounds; each peer is warmed up first
(in-process peers: 2 frames before the first round; one-shot processes:
2 warm-up frames inside every run).  Reported: the median over all timed
frames of wall ms/frame and of process CPU ms/frame.  The machine is shared,
so ratios from this one interleaved run are the figures to compare.

Peers (2 threads each):
  engine-int8-cpu  build/tools/c/cfqp-bench-engine --precision int8 --backend cpu
                   with the shipped calibration (packed RGB bytes in and out)
  engine-int8-native  the same with --cpu-kernels native: the level's direct
                   kernels forced (no Winograd), for the --isa table
  engine-fp32      the same tool, --precision fp32 (planar float in and out)
  torch-fp32 / torch-fp32-cl   PyTorch FP32, NCHW / channels_last
  torch-int8       torch.ao.quantization eager mode, oneDNN engine, every conv
                   (fused with its ReLU) quantized, calibrated on the frames
  ort-fp32 / ort-int8   onnxruntime-node (tools/bench/ort_bench.js), the INT8
                   model being our own QDQ export of the parameters the engine runs
  opencv-fp32      cv2.dnn on a static-shape copy of the ONNX model
  videoscale       gst-launch-1.0 ... videoscale method=catrom ... (difference
                   of two runs of different lengths: steady-state per frame)
  cfqpsr           gst-launch-1.0 ... cfqpsr model-file=... calibration-file=...
                   n-threads=2 (same difference method)
Also the cost of a clip as its own pass (the clipped model: the same graph
plus Clip(0,1) on the output, in PyTorch and ORT FP32; a clamp of a
1x3x1080x1920 float tensor in NumPy, PyTorch and ORT) and the u8*s8 peak of
build/tools/c/cfqp-peak.

Raw results: tools/.cache/bench/peers.json; --doc rewrites the section
"## Peers (one run)" of docs/performance.md, --chart draws
docs/results/peers-x3.png (and peers-x2.png).
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "pipeline"))
CACHE = os.path.join(ROOT, "tools", ".cache", "bench")
THREADS = 2
RUN_CMD = ["/usr/bin/python3 tools/bench/bench_peers.py"]
WARMUP = 2

UNITS = {3: (640, 360), 2: (960, 540)}

# CFQP_MAX_CPU_ISA level -> oneDNN's ONEDNN_MAX_CPU_ISA (oneDNN has no
# generic level: SSE41 is its lowest)
ISA_LEVELS = {"avx512vnni": "AVX512_CORE_VNNI", "avxvnni": "AVX2_VNNI", "avx2": "AVX2",
              "sse4.1": "SSE41", "generic": "SSE41"}
# peers the --isa run caps; the others run uncapped
CAPPED = {"engine-int8-cpu", "engine-int8-native", "engine-fp32", "cfqpsr", "torch-fp32", "torch-fp32-cl",
          "torch-int8", "engine-int8-ref@128x72", "engine-int8-cpu@128x72"}
ISA_PEERS = "engine-int8-cpu,engine-int8-native,torch-int8,torch-fp32-cl,ort-int8"
# the u8·s8 peak cfqp-peak prints for each level (GMAC/s of one core)
ISA_PEAK = {"avx512vnni": "peak_avx512vnni_zmm", "avxvnni": "peak_avxvnni_ymm",
            "avx2": "peak_avx2_maddubs_ymm", "sse4.1": "peak_sse41_maddwd_xmm",
            "i8mm": "peak_i8mm_usdot_q", "dotprod": "peak_dotprod_sdot_q",
            "neon": "peak_neon_smull_q"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --- frames and models -------------------------------------------------------

def make_frame(w, h):
    """A real photo (validation photo EveningGlow when the photo cache exists,
    else the repo's test image), centre-cropped to 16:9 and resized (PIL
    bicubic) to w x h: packed RGB uint8 H x W x 3."""
    from PIL import Image
    cands = [os.path.join(ROOT, "tools/.cache/pairs/hr/EveningGlow.png"),
             os.path.join(ROOT, "tests/data/images/boats-hr.png")]
    src = next(p for p in cands if os.path.exists(p))
    im = Image.open(src).convert("RGB")
    W, H = im.size
    ch = min(H, W * 9 // 16)
    cw = ch * 16 // 9
    im = im.crop(((W - cw) // 2, (H - ch) // 2, (W - cw) // 2 + cw, (H - ch) // 2 + ch))
    return np.asarray(im.resize((w, h), Image.BICUBIC), dtype=np.uint8).copy(), src


def model_for_scale(scale):
    """(onnx path, calibration path or None, description): the shipped ABPN
    of the scale (the PyTorch peers rebuild ABPN-family graphs only, so the
    embedded default, which the evaluation's rule may make another net, is
    not used)."""
    p = os.path.join(ROOT, "models/abpn-x%d.onnx" % scale)
    if os.path.exists(p):
        c = p[:-len(".onnx")] + ".calib.json"
        return p, c if os.path.exists(c) else None, "models/abpn-x%d.onnx (trained)" % scale
    import torch
    import sr_models
    os.makedirs(CACHE, exist_ok=True)
    out = os.path.join(CACHE, "abpn-x%d-untrained.onnx" % scale)
    torch.manual_seed(1)
    sr_models.export_onnx(sr_models.build("abpn", scale), out)
    return out, None, "ABPN-28 x%d of tools/pipeline/sr_models.py (untrained, seed 1)" % scale


def onnx_static(src, dst, w, h, scale):
    import onnx
    g = onnx.load(src)
    for d, v in zip(g.graph.input[0].type.tensor_type.shape.dim, (1, 3, h, w)):
        d.ClearField("dim_param")
        d.dim_value = v
    for d, v in zip(g.graph.output[0].type.tensor_type.shape.dim, (1, 3, h * scale, w * scale)):
        d.ClearField("dim_param")
        d.dim_value = v
    del g.graph.value_info[:]
    g = onnx.shape_inference.infer_shapes(g)
    onnx.save(g, dst)


def onnx_with_clip(src, dst):
    """The same graph with Clip(0,1) on its output: the clipped form."""
    import onnx
    from onnx import helper, numpy_helper
    g = onnx.load(src)
    out = g.graph.output[0].name
    g.graph.node[-1].output[0] = out + "_unclipped"
    g.graph.initializer.extend([numpy_helper.from_array(np.array(0, np.float32), "clip_lo"),
                                numpy_helper.from_array(np.array(1, np.float32), "clip_hi")])
    g.graph.node.append(helper.make_node("Clip", [out + "_unclipped", "clip_lo", "clip_hi"], [out]))
    onnx.save(g, dst)


def onnx_clip_only(dst, shape):
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    g = helper.make_graph(
        [helper.make_node("Clip", ["input", "lo", "hi"], ["output"])], "clip",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(shape))],
        [numpy_helper.from_array(np.array(0, np.float32), "lo"),
         numpy_helper.from_array(np.array(1, np.float32), "hi")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), dst)


# --- PyTorch from the ONNX file ----------------------------------------------

def torch_from_onnx(path):
    """The ABPN-family graph of the file (Conv[+Relu] chain, anchor Concat of
    the input, Add, DepthToSpace, optional Clip) as a PyTorch module with the
    file's weights; checked against onnx_eval_numpy of tools/pipeline/sr_models.py."""
    import onnx
    import torch
    import torch.nn as nn
    from onnx import numpy_helper
    g = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in g.graph.initializer}
    nodes = list(g.graph.node)
    convs, relu_after, d2s, clip = [], [], None, False
    for i, n in enumerate(nodes):
        if n.op_type == "Conv":
            w = inits[n.input[1]]
            b = inits[n.input[2]] if len(n.input) > 2 else None
            a = {x.name: helper_attr(x) for x in n.attribute}
            c = nn.Conv2d(w.shape[1] * a.get("group", 1), w.shape[0], w.shape[2:],
                          padding=tuple(a.get("pads", [0, 0, 0, 0])[:2]), groups=a.get("group", 1),
                          bias=b is not None)
            with torch.no_grad():
                c.weight.copy_(torch.from_numpy(w.copy()))
                if b is not None:
                    c.bias.copy_(torch.from_numpy(b.copy()))
            convs.append(c)
            relu_after.append(any(m.op_type == "Relu" and m.input[0] == n.output[0] for m in nodes))
        elif n.op_type == "DepthToSpace":
            a = {x.name: helper_attr(x) for x in n.attribute}
            d2s = (a["blocksize"], a.get("mode", b"DCR"))
        elif n.op_type == "Clip":
            clip = True
        elif n.op_type not in ("Relu", "Concat", "Add"):
            raise ValueError("bench_peers: op %s not in the ABPN family" % n.op_type)
    assert d2s and not relu_after[-1]
    return ABPNModule(convs, relu_after, d2s[0], d2s[1] in (b"DCR", "DCR"), clip)


def helper_attr(a):
    from onnx import helper
    v = helper.get_attribute_value(a)
    return v if isinstance(v, (int, float, bytes, str)) else list(v)


def _import_torch_classes():
    import torch
    import torch.nn as nn

    class ABPN(nn.Module):
        def __init__(self, convs, relu_after, scale, dcr, clip):
            super().__init__()
            self.body = nn.ModuleList([nn.Sequential(c, nn.ReLU()) if r else nn.Sequential(c)
                                       for c, r in zip(convs[:-1], relu_after[:-1])])
            self.last = convs[-1]
            self.scale, self.dcr, self.clip = scale, dcr, clip
            self.quant = torch.ao.quantization.QuantStub()
            self.dequant = torch.ao.quantization.DeQuantStub()
            self.cat = torch.ao.nn.quantized.FloatFunctional()
            self.add = torch.ao.nn.quantized.FloatFunctional()

        def forward(self, x):
            x = self.quant(x)
            y = x
            for m in self.body:
                y = m(y)
            y = self.add.add(self.last(y), self.cat.cat([x] * (self.scale ** 2), 1))
            y = self.dequant(y)
            n, c, h, w = y.shape
            s = self.scale
            if self.dcr:
                y = y.reshape(n, s, s, c // (s * s), h, w).permute(0, 3, 4, 1, 5, 2)
            else:
                y = y.reshape(n, c // (s * s), s, s, h, w).permute(0, 1, 4, 2, 5, 3)
            y = y.reshape(n, c // (s * s), h * s, w * s)
            return torch.clamp(y, 0.0, 1.0) if self.clip else y
    return ABPN


def ABPNModule(*a):
    return _import_torch_classes()(*a)


def torch_int8(fp32_module, frames_nchw):
    import copy
    import torch
    torch.backends.quantized.engine = "onednn"
    m = copy.deepcopy(fp32_module).eval()
    for seq in m.body:
        if len(seq) == 2:
            torch.ao.quantization.fuse_modules(seq, [["0", "1"]], inplace=True)
    m.qconfig = torch.ao.quantization.get_default_qconfig("onednn")
    torch.ao.quantization.prepare(m, inplace=True)
    with torch.no_grad():
        for f in frames_nchw:
            m(f)
    torch.ao.quantization.convert(m, inplace=True)
    n_q = sum(1 for x in m.modules() if type(x).__name__ in ("Conv2d", "ConvReLU2d")
              and "quantized" in type(x).__module__)
    n_c = sum(1 for x in fp32_module.modules() if isinstance(x, torch.nn.Conv2d))
    assert n_q == n_c, "not every conv quantized (%d of %d)" % (n_q, n_c)
    return m, n_q


# --- peers ---------------------------------------------------------------------

class InProcess:
    """fn() runs one frame; warm-up before the first round."""

    def __init__(self, name, fn, command, note=""):
        self.name, self.fn, self.command, self.note = name, fn, command, note
        self.wall, self.cpu = [], []
        self.warm = False

    def round(self, n):
        if not self.warm:
            for _ in range(WARMUP):
                self.fn()
            self.warm = True
        for _ in range(n):
            c0, t0 = time.process_time(), time.perf_counter()
            self.fn()
            t1, c1 = time.perf_counter(), time.process_time()
            self.wall.append((t1 - t0) * 1e3)
            self.cpu.append((c1 - c0) * 1e3)

    def close(self):
        pass


class OrtPeer:
    def __init__(self, name, model, frame_f32, w, h, command, note=""):
        self.name, self.command, self.note = name, command, note
        self.wall, self.cpu = [], []
        self.argv = ["node", os.path.join(ROOT, "tools/bench/ort_bench.js"), model, frame_f32,
                     str(w), str(h), str(THREADS)]
        self.p = None     # started on the first round: a filtered-out peer never starts
        self.warm = False

    def _run(self, n):
        if self.p is None:
            self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
            self.version = json.loads(self.p.stdout.readline()).get("version")
        self.p.stdin.write("run %d\n" % n)
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def round(self, n):
        if not self.warm:
            self._run(WARMUP)
            self.warm = True
        r = self._run(n)
        self.wall += r["wall_ms"]
        self.cpu += r["cpu_ms"]

    def close(self):
        if self.p is None:
            return
        self.p.stdin.write("quit\n")
        self.p.stdin.flush()
        self.p.wait()


class EnginePeer:
    """cfqp-bench-engine, one process per round (2 warm-up frames inside)."""

    def __init__(self, name, argv, n_override=None, note=""):
        self.name, self.argv, self.note = name, argv, note
        self.n_override = n_override
        self.wall, self.cpu = [], []
        self.command = " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
                                for a in argv) + " --frames N"
        self.macs = None

    def round(self, n):
        n = self.n_override or n
        out = subprocess.run(self.argv + ["--frames", str(n)], check=True, capture_output=True,
                             text=True).stdout
        m = re.search(r"(\d+) MACs/pixel", out)
        self.macs = int(m.group(1))
        self.backend = re.search(r"backend (\S+),", out).group(1)
        for w, c in re.findall(r"frame \d+: ([\d.]+) ms \(cpu ([\d.]+) ms\)", out):
            self.wall.append(float(w))
            self.cpu.append(float(c))

    def close(self):
        pass


class GstPeer:
    """gst-launch-1.0, steady state per frame = difference of the "Execution
    ended after" times (and of the child CPU times) of a long and a short run."""

    def __init__(self, name, pipeline_fmt, env, short=2, mult=1, note=""):
        self.name, self.fmt, self.env, self.short, self.note = name, pipeline_fmt, env, short, note
        self.mult = mult
        self.wall, self.cpu = [], []
        self.command = ("%sgst-launch-1.0 %s" % ("GST_PLUGIN_PATH=%s " % os.path.relpath(
            env["GST_PLUGIN_PATH"], ROOT) if "GST_PLUGIN_PATH" in env else "",
            pipeline_fmt.replace(ROOT + "/", "").format(n="N")))

    def _one(self, n):
        e = dict(os.environ)
        e.update(self.env)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(["gst-launch-1.0"] + self.fmt.format(n=n).split(), env=e, check=True,
                             capture_output=True, text=True).stdout
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        m = re.search(r"Execution ended after (\d+):(\d+):([\d.]+)", out)
        t = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) * 1e3
        c = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1e3
        return t, c

    def round(self, n):
        n = max(n, 2)
        ts, cs = self._one(self.short)
        tl, cl = self._one(self.short + n * self.mult)
        for _ in range(n):   # one value per frame of this round
            self.wall.append((tl - ts) / (n * self.mult))
            self.cpu.append((cl - cs) / (n * self.mult))

    def close(self):
        pass


def med(v):
    return statistics.median(v) if v else float("nan")


# --- one work unit -------------------------------------------------------------

def run_unit(scale, args, peak):
    import torch
    import cv2
    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)   # no denormal slow paths for the FP32 peer
    cv2.setNumThreads(THREADS)
    w, h = UNITS[scale]
    model, calib, model_desc = model_for_scale(scale)
    b = os.path.join(ROOT, args.build)
    d = os.path.join(CACHE, "x%d" % scale)
    os.makedirs(d, exist_ok=True)
    frame, frame_src = make_frame(w, h)
    frame_path = os.path.join(d, "frame.rgb")
    frame.tofile(frame_path)
    x = torch.from_numpy(frame.transpose(2, 0, 1).astype(np.float32) / 255.0)[None].contiguous()
    x.numpy().tofile(os.path.join(d, "frame.f32"))
    bench = os.path.join(b, "tools/c/cfqp-bench-engine")
    calib_args = ["--calibration", calib] if calib else []
    qdq = os.path.join(d, "qdq.onnx")
    # the QDQ export of exactly the parameters the engine runs
    subprocess.run([bench, model, str(w), str(h), "--precision", "int8", "--backend", "cpu",
                    "--threads", str(THREADS), "--frames", "1", "--frame", frame_path,
                    "--qdq-out", qdq] + calib_args, check=True, capture_output=True)
    static = os.path.join(d, "static.onnx")
    onnx_static(model, static, w, h, scale)
    clipped = os.path.join(d, "clipped.onnx")
    onnx_with_clip(model, clipped)
    clip_only = os.path.join(d, "clip-only.onnx")
    hr_shape = (1, 3, h * scale, w * scale)
    onnx_clip_only(clip_only, hr_shape)

    # PyTorch, checked against the NumPy evaluator of the ONNX file on a crop
    import onnx
    import sr_models
    tm = torch_from_onnx(model).eval()
    tmc = torch_from_onnx(clipped).eval()
    crop = x[:, :, :24, :32]
    with torch.no_grad():
        ref = sr_models.onnx_eval_numpy(onnx.load(model), crop.numpy())
        err = float(np.abs(tm(crop).numpy() - ref).max())
    assert err < 1e-4, "PyTorch copy of %s differs from the ONNX graph by %g" % (model, err)
    cal_frames = [x] + [torch.from_numpy(make_frame(w, h)[0][::-1].transpose(2, 0, 1).astype(
        np.float32) / 255.0)[None].contiguous()]
    tq, n_q = torch_int8(tm, cal_frames)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    tm_cl = torch_from_onnx(model).eval().to(memory_format=torch.channels_last)
    tmc_cl = torch_from_onnx(clipped).eval().to(memory_format=torch.channels_last)
    with torch.no_grad():
        yq, y32 = tq(x_cl), tm(x)
    int8_vs_fp32_psnr = float(10 * np.log10(1.0 / torch.mean((yq.clamp(0, 1) - y32.clamp(0, 1)) ** 2)))

    net = cv2.dnn.readNetFromONNX(static)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    blob = x.numpy()

    def cv_run():
        net.setInput(blob)
        return net.forward()

    def nograd(f):
        def g():
            with torch.no_grad():
                return f()
        return g

    py = RUN_CMD[0] + ": in-process"
    eng = [bench, model, str(w), str(h), "--threads", str(THREADS), "--frame", frame_path]
    env = {"GST_PLUGIN_PATH": os.path.join(b, "gst")}
    seq = os.path.join(d, "frames.rgb")
    n_max = 2 + args.frames
    with open(seq, "wb") as f:
        for _ in range(n_max):
            f.write(frame.tobytes())
    src = ("filesrc location=%s blocksize=%d num-buffers={n} ! rawvideoparse format=rgb width=%d "
           "height=%d framerate=30/1" % (seq, w * h * 3, w, h))
    # without a shipped calibration cfqpsr would self-calibrate (and run FP32
    # meanwhile): give it the QDQ export, which runs INT8 with the engine's
    # parameters from frame 0
    calib_prop = " calibration-file=%s" % calib if calib else ""
    sr_model = model if calib else qdq
    peers = [
        EnginePeer("engine-int8-cpu", eng + ["--precision", "int8", "--backend", "cpu"] + calib_args,
                   note="packed RGB u8 in/out"),
        EnginePeer("engine-int8-native", eng + ["--precision", "int8", "--backend", "cpu",
                   "--cpu-kernels", "native"] + calib_args, note="direct kernels forced"),
        EnginePeer("engine-fp32", eng + ["--precision", "fp32"], n_override=max(1, args.frames // 2),
                   note="planar float in/out"),
        InProcess("torch-fp32", nograd(lambda: tm(x)), py + " (torch %s, NCHW)" % torch.__version__),
        InProcess("torch-fp32-cl", nograd(lambda: tm_cl(x_cl)),
                  py + " (torch %s, channels_last)" % torch.__version__),
        InProcess("torch-int8", nograd(lambda: tq(x_cl)),
                  py + " (torch %s, eager, onednn, %d convs quantized)" % (torch.__version__, n_q),
                  note="channels_last input; d2s after dequant"),
        OrtPeer("ort-fp32", model, os.path.join(d, "frame.f32"), w, h,
                "node tools/bench/ort_bench.js %s" % os.path.relpath(model, ROOT)),
        OrtPeer("ort-int8", qdq, os.path.join(d, "frame.f32"), w, h,
                "node tools/bench/ort_bench.js (QDQ from cfqp-bench-engine --qdq-out)"),
        InProcess("opencv-fp32", cv_run, py + " (cv2 %s dnn, static-shape ONNX)" % cv2.__version__),
        GstPeer("videoscale", "videotestsrc num-buffers={n} ! video/x-raw,format=RGB,width=%d,"
                "height=%d ! videoscale method=catrom ! video/x-raw,width=1920,height=1080 ! "
                "fakesink" % (w, h), {}, short=10, mult=20, note="Catmull-Rom cubic; incl. videotestsrc"),
        GstPeer("cfqpsr", src + " ! cfqpsr model-file=%s%s n-threads=%d ! fakesink"
                % (sr_model, calib_prop, THREADS), env, note="incl. filesrc/parse"),
        # the clip as its own pass
        InProcess("torch-fp32-cl+clip", nograd(lambda: tmc_cl(x_cl)), py + " (clipped graph)"),
        OrtPeer("ort-fp32+clip", clipped, os.path.join(d, "frame.f32"), w, h,
                "node tools/bench/ort_bench.js (clipped graph)"),
    ]
    big = np.random.default_rng(0).random(hr_shape, dtype=np.float32) * 1.2 - 0.1
    big_t = torch.from_numpy(big.copy())
    big.tofile(os.path.join(d, "hr.f32"))
    clamp_peers = [
        InProcess("clamp-numpy", lambda: np.clip(big, 0.0, 1.0), py + " (np.clip, new array)"),
        InProcess("clamp-torch", lambda: torch.clamp(big_t, 0.0, 1.0), py + " (torch.clamp)"),
        OrtPeer("clamp-ort", clip_only, os.path.join(d, "hr.f32"), w * scale, h * scale,
                "node tools/bench/ort_bench.js (Clip-only graph)"),
    ]
    if scale == 3:
        tiny = [bench, model, "128", "72", "--threads", str(THREADS), "--precision", "int8"] + calib_args
        peers += [EnginePeer("engine-int8-ref@128x72", tiny + ["--backend", "ref"], n_override=1),
                  EnginePeer("engine-int8-cpu@128x72", tiny + ["--backend", "cpu"])]
    peers += clamp_peers
    if not args.isa:   # the direct-kernel twin is for the per-level table only
        peers = [p for p in peers if p.name != "engine-int8-native"]
    if args.only:
        only = set(args.only.split(",")) | {"engine-int8-cpu"}   # its MAC count is needed
        peers = [p for p in peers if p.name in only]
    if args.isa:
        for p in peers:
            if p.name not in CAPPED:
                p.note = (p.note + "; " if p.note else "") + "uncapped"
    for r in range(args.rounds):
        for p in peers:
            log("x%d round %d: %s" % (scale, r + 1, p.name))
            p.round(args.frames)
    for p in peers:
        p.close()
    macs = peers[0].macs
    res = {"scale": scale, "w": w, "h": h, "model": os.path.relpath(model, ROOT),
           "model_desc": model_desc, "calibration": os.path.relpath(calib, ROOT) if calib else None,
           "frame_src": os.path.relpath(frame_src, ROOT), "macs_per_px": macs,
           "torch_int8_vs_fp32_psnr": int8_vs_fp32_psnr, "peers": {}}
    for p in peers:
        res["peers"][p.name] = {"ms": med(p.wall), "cpu_ms": med(p.cpu), "n": len(p.wall),
                                "command": p.command, "note": p.note,
                                "min_ms": min(p.wall), "max_ms": max(p.wall)}
    return res


def onednn_isa():
    """What oneDNN says it runs under the environment's cap (its verbose
    "isa:" line from one quantized conv in a child process)."""
    code = ("import torch\n"
            "torch.backends.quantized.engine = 'onednn'\n"
            "x = torch.quantize_per_tensor(torch.randn(1, 8, 16, 16), 0.1, 128, torch.quint8)\n"
            "torch.ao.nn.quantized.Conv2d(8, 8, 3)(x)\n")
    env = dict(os.environ, ONEDNN_VERBOSE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout
    m = re.search(r"onednn_verbose,info,cpu,isa:(.*)", out)
    return m.group(1).strip() if m else "unknown"


def isa_table(results_by_level):
    """The per-level table: engine INT8 against PyTorch INT8 at the same cap."""
    rows = ["| ISA level (cap; oneDNN reports) | unit | engine INT8 ms/frame | CPU ms/frame | PyTorch INT8 ms/frame "
            "(oneDNN, same cap) | ratio (wall) | ratio (CPU) | GMAC/s per CPU-s | of the "
            "level's u8·s8 peak | ONNX Runtime INT8 ms/frame (uncapped) | engine, direct kernels "
            "forced (`native`) ms/frame |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for level in ISA_LEVELS:
        if level not in results_by_level:
            continue
        saved = results_by_level[level]
        peak = saved["peak"].get(ISA_PEAK.get(level, ""), 0)
        for res in saved["results"]:
            P = res["peers"]
            e, t = P["engine-int8-cpu"], P.get("torch-int8")
            macs = res["macs_per_px"] * res["w"] * res["h"]
            gc = macs / e["cpu_ms"] / 1e6
            rows.append("| %s (%s; %s) | ×%d %d×%d | %.1f | %.1f | %s | %s | %s | %.1f | %s | %s | %s |" % (
                level, ISA_LEVELS[level], saved.get("onednn_isa", "?"), res["scale"], res["w"], res["h"], e["ms"], e["cpu_ms"],
                "%.1f" % t["ms"] if t else "—", "%.2f×" % (t["ms"] / e["ms"]) if t else "—",
                "%.2f×" % (t["cpu_ms"] / e["cpu_ms"]) if t else "—", gc,
                "%.0f %% of %.0f" % (100 * gc / peak, peak) if peak else "—",
                "%.1f" % P["ort-int8"]["ms"] if "ort-int8" in P else "—",
                "%.1f" % P["engine-int8-native"]["ms"] if "engine-int8-native" in P else "—"))
    return "\n".join(rows)


def write_isa_doc(text):
    path = os.path.join(ROOT, "docs/performance.md")
    with open(path) as f:
        doc = f.read()
    m = re.search(r"^### ISA levels: peers per level\n.*?(?=^##|\Z)", doc, flags=re.S | re.M)
    assert m, "docs/performance.md has no '### ISA levels: peers per level' section"
    doc = doc[:m.start()] + text + "\n" + doc[m.end():]
    with open(path, "w") as f:
        f.write(doc)


def isa_section(cmds):
    by_level = {}
    for level in ISA_LEVELS:
        path = os.path.join(CACHE, "peers-isa-%s.json" % level)
        if os.path.exists(path):
            with open(path) as f:
                by_level[level] = json.load(f)
    s = ["### ISA levels: peers per level", "",
         "Made by one run per level (each line below; the engine and PyTorch capped the same way "
         "in each, 2 threads, machine load average at the start in brackets):", "", "```"]
    s += ["%s   # load %s" % (by_level[l]["command"], by_level[l]["load"]) for l in by_level]
    s += ["```", "", isa_table(by_level), ""]
    return "\n".join(s)


def run_peak(args):
    out = subprocess.run([os.path.join(ROOT, args.build, "tools/c/cfqp-peak")], check=True,
                         capture_output=True, text=True).stdout
    return {k: float(v) for k, v in re.findall(r"(\S+)_gmacs=([\d.]+)", out)}, out


# --- report ------------------------------------------------------------------

MODEL_PEERS = ["engine-int8-cpu", "engine-fp32", "torch-fp32", "torch-fp32-cl", "torch-int8",
               "ort-fp32", "ort-int8", "opencv-fp32", "cfqpsr"]
SR_PEERS = ["torch-fp32", "torch-fp32-cl", "torch-int8", "ort-fp32", "ort-int8", "opencv-fp32"]


def table(res, peak_core):
    P = res["peers"]
    best = min(SR_PEERS, key=lambda k: P[k]["ms"])
    macs = res["macs_per_px"] * res["w"] * res["h"]
    rows = ["| run | wall ms/frame | fps | CPU ms/frame | fps ÷ best peer's (%s) | GMAC/s (wall) | "
            "GMAC/s per CPU-s | of u8·s8 peak |" % best,
            "|---|---|---|---|---|---|---|---|"]
    for k in MODEL_PEERS + ["videoscale"]:
        p = P[k]
        fps = 1e3 / p["ms"]
        ratio = P[best]["ms"] / p["ms"]
        if k == "videoscale":
            g = gc = frac = "—"
        else:
            g = "%.1f" % (macs / p["ms"] / 1e6)
            gc = "%.1f" % (macs / p["cpu_ms"] / 1e6)
            frac = "%.0f %%" % (100 * macs / p["cpu_ms"] / 1e6 / peak_core) if "int8" in k or k == "cfqpsr" else "—"
        rows.append("| %s%s | %.1f | %.2f | %.1f | %.2f× | %s | %s | %s |" % (
            "**%s**" % k if k in ("engine-int8-cpu", "cfqpsr") else k,
            " (%s)" % p["note"] if p["note"] else "", p["ms"], fps, p["cpu_ms"], ratio, g, gc, frac))
    return "\n".join(rows), best


def clip_table(res):
    P = res["peers"]
    rows = ["| clip as its own pass | wall ms | CPU ms | vs. the model's frame (wall) |", "|---|---|---|---|"]
    for a, b, label in (("torch-fp32-cl", "torch-fp32-cl+clip", "PyTorch FP32 channels_last, clipped − clip-free graph"),
                        ("ort-fp32", "ort-fp32+clip", "ORT FP32, clipped − clip-free graph")):
        dw, dc = P[b]["ms"] - P[a]["ms"], P[b]["cpu_ms"] - P[a]["cpu_ms"]
        rows.append("| %s | %+.1f | %+.1f | %+.1f %% (its frames spread over %.0f–%.0f ms: below this run's noise) |" % (
            label, dw, dc, 100 * dw / P[a]["ms"], P[a]["min_ms"], P[a]["max_ms"]))
    for k, label in (("clamp-numpy", "np.clip of 1×3×%d×%d float32"), ("clamp-torch", "torch.clamp of the same"),
                     ("clamp-ort", "ORT Clip-only graph on the same (mostly onnxruntime-node's JS-heap copies in and out)")):
        rows.append("| %s | %.1f | %.1f | %.1f %% of engine INT8 |" % (
            label % (res["h"] * res["scale"], res["w"] * res["scale"]) if "%" in label else label,
            P[k]["ms"], P[k]["cpu_ms"], 100 * P[k]["ms"] / P["engine-int8-cpu"]["ms"]))
    rows.append("| engine INT8: clamp fused in the requantisation (saturation to 0…255) | 0 | 0 | 0 % |")
    return "\n".join(rows)


def chart(res, path):
    from PIL import Image, ImageDraw, ImageFont
    P = res["peers"]
    keys = sorted(MODEL_PEERS + ["videoscale"], key=lambda k: P[k]["ms"])
    W, rowh, left = 980, 34, 260
    H = 70 + rowh * len(keys)
    im = Image.new("RGB", (W, H), "white")
    dr = ImageDraw.Draw(im)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 15)
        bold = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 16)
    except OSError:
        font = bold = ImageFont.load_default()
    dr.text((10, 10), "x%d %dx%d -> %dx%d, 2 threads, fps (median, one interleaved run; higher is better)"
            % (res["scale"], res["w"], res["h"], res["w"] * res["scale"], res["h"] * res["scale"]),
            fill="black", font=bold)
    top = max(1e3 / P[k]["ms"] for k in keys if k != "videoscale")
    room = W - left - 230
    for i, k in enumerate(keys):
        fps = 1e3 / P[k]["ms"]
        y = 45 + i * rowh
        col = ("#d62728" if k in ("engine-int8-cpu", "cfqpsr") else "#1f77b4" if k == "engine-fp32"
               else "#7f7f7f" if k == "videoscale" else "#2ca02c")
        L = min(fps / top * room, room * 1.04)
        dr.rectangle([left, y, left + L, y + rowh - 8], fill=col)
        dr.text((10, y + 5), k, fill="black", font=font)
        dr.text((left + L + 6, y + 5), "%.2f fps%s" % (fps, " (bar cut)" if fps / top * room > L else ""),
                fill="black", font=font)
    im.save(path)


def section(results, peak, peak_out, args, cmd):
    peak_core = peak.get("peak_avx512vnni_zmm") or peak.get("peak_avxvnni_ymm")
    s = ["## Peers (one run)", "",
         "Produced by one command, which measured every number below in **one run**:", "",
         "```", cmd, "```", "",
         "The machine (2 vCPUs, AMD EPYC, AVX-512 VNNI) is shared with other jobs (load average %s "
         "at the start of this run). So every peer ran in "
         "the same run, on the same frame and the same ONNX file, in interleaved rounds (A B C … A B C "
         "…, %d rounds × %d frames, each peer warmed up first), and the figures to compare are the "
         "**ratios**; wall ms/frame is the median over all timed frames, CPU ms/frame the median "
         "process CPU time (all threads) of the same frames, steadier than wall time when other jobs "
         "take the cores. 2 threads everywhere (`torch.set_num_threads(2)`, ORT `intraOpNumThreads: 2`, "
         "`cv2.setNumThreads(2)`, engine `--threads 2`, cfqpsr `n-threads=2`)." % (
             args.load, args.rounds, args.frames), ""]
    for res in results:
        P = res["peers"]
        tab, best = table(res, peak_core)
        s += ["### ×%d %d×%d → %d×%d" % (res["scale"], res["w"], res["h"], res["w"] * res["scale"],
                                         res["h"] * res["scale"]), "",
              "Model `%s` (%s), %d MACs per LR pixel = %.2f GMAC/frame; INT8 parameters: %s. Frame: "
              "`%s` centre-cropped to 16:9 and resized (PIL bicubic). GMAC/s per CPU-s and the share "
              "of the u8·s8 peak use CPU time (peak: one core's `vpdpbusd` zmm rate, %.0f GMAC/s, "
              "measured by `cfqp-peak` in this run)." % (
                  res["model"], res["model_desc"], res["macs_per_px"],
                  res["macs_per_px"] * res["w"] * res["h"] / 1e9,
                  "`%s` (the engine, cfqpsr and the ORT QDQ export all run it)" % res["calibration"]
                  if res["calibration"] else "min/max of the frame (no shipped calibration)",
                  res["frame_src"], peak_core), "", tab, "",
              "![×%d: fps of each peer, this run](results/peers-x%d.png)" % (res["scale"], res["scale"]),
              ""]
        s += ["Commands (N = frames per round; `build-bench` = `meson setup build-bench "
              "--buildtype=release -Dtests=disabled && ninja -C build-bench`):", ""]
        for k in MODEL_PEERS + ["videoscale"]:
            s.append("- %s: `%s`" % (k, P[k]["command"]))
        s += ["", "Notes: the engine INT8 rows take and return packed RGB bytes (the pixel "
              "conversions are inside the time); the PyTorch, ORT and OpenCV rows take a float "
              "tensor already in NCHW and return one (conversions outside the time), engine FP32 "
              "planar floats. ORT runs through onnxruntime-node, which copies the input into and "
              "the output (%.1f MB float32) out of the JS heap each run. PyTorch INT8: eager mode, "
              "oneDNN engine (`fbgemm`/`x86` are not built into Debian's 1.13), convs fused with "
              "their ReLU, per-channel weights, histogram observer on 2 frames, the anchor concat "
              "and add quantized (`FloatFunctional`), depth-to-space after the dequant; its output "
              "is %.1f dB PSNR from PyTorch FP32 (a sanity check of that calibration). videoscale "
              "has no `bicubic` method in GStreamer 1.22: `catrom` is the Catmull-Rom cubic "
              "(a = −0.5, the usual \"bicubic\"). gst-launch rows: the difference of the "
              "\"Execution ended after\" times (and of the child CPU times) of a long and a short "
              "run, divided by the extra frames, so start-up and model loading drop out." % (
                  3 * res["w"] * res["h"] * res["scale"] ** 2 * 4 / 1e6,
                  res["torch_int8_vs_fp32_psnr"]), ""]
        s += ["Clip as its own pass (×%d output, 1×3×%d×%d float32). The clipped graph is the "
              "same ONNX file with `Clip(0, 1)` appended to its output (same weights, so the "
              "difference is the clip alone; `models/abpn-x3-clipped.onnx` is a separately "
              "trained twin). In the float peers the clip is one more pass over the %.0f MB output, as the standalone clamps below show; in the INT8 engine the clamp costs nothing: it is the saturation "
              "to 0…255 that the requantisation does anyway." % (
            res["scale"], res["h"] * res["scale"], res["w"] * res["scale"],
            3 * res["w"] * res["h"] * res["scale"] ** 2 * 4 / 1e6), "", clip_table(res), ""]
        if "engine-int8-ref@128x72" in P:
            s += ["Engine `ref` kernels only at 128×72 (they are ~100× slower): %.1f ms vs `cpu` "
                  "%.2f ms at the same size (%.0f×); CPU %.1f vs %.2f ms." % (
                      P["engine-int8-ref@128x72"]["ms"], P["engine-int8-cpu@128x72"]["ms"],
                      P["engine-int8-ref@128x72"]["ms"] / P["engine-int8-cpu@128x72"]["ms"],
                      P["engine-int8-ref@128x72"]["cpu_ms"], P["engine-int8-cpu@128x72"]["cpu_ms"]), ""]
    s += ["`cfqp-peak` of this run: " + ", ".join("%s %.0f" % kv for kv in peak.items()) + " GMAC/s.", ""]
    # targets
    s += ["### Issue 5 targets", ""]
    for res in results:
        P = res["peers"]
        _, best = table(res, peak_core)
        e = P["engine-int8-cpu"]
        r_best = P[best]["ms"] / e["ms"]
        r_best_cpu = P[best]["cpu_ms"] / e["cpu_ms"]
        r_fp = P["engine-fp32"]["ms"] / e["ms"]
        r_fp_cpu = P["engine-fp32"]["cpu_ms"] / e["cpu_ms"]
        if res["scale"] == 3:
            s.append("- INT8 ≥ 1.5× the best peer's fps (ABPN-28 ×3): engine INT8 %.2f× %s (wall), "
                     "%.2f× in CPU time: **%s**." % (r_best, best, r_best_cpu,
                                                      "met" if r_best >= 1.5 else "missed by %.0f %%" % (100 * (1 - r_best / 1.5))))
        s.append("- INT8 ≥ 3× our own FP32 (×%d): %.2f× (wall), %.2f× (CPU): **%s**." % (
            res["scale"], r_fp, r_fp_cpu, "met" if r_fp >= 3 else "missed by %.0f %%" % (100 * (1 - r_fp / 3))))
    s.append("- XLSR ×3 360p→1080p ≥ 30 fps: not part of this run; measured with cfqp-bench-engine "
             "in the section \"XLSR ×3\" above.")
    s += ["", "Caveats: the cfqpsr rows are differences of two gst-launch runs (long − short), so "
          "they are noisier than the engine rows and can come out a little faster than the bare "
          "engine; read the two as the same figure. Where a model has no shipped calibration the "
          "INT8 parameters are min/max of the timed frame (the engine tool's default) and cfqpsr "
          "runs the QDQ export of them, so it neither self-calibrates nor runs FP32 meanwhile. "
          "Debian's PyTorch FP32 is far slower on the ×2 net than on the ×3 one (3–7 GMAC/s vs "
          "12–24); that is what this build does on these shapes, not a setting of the script "
          "(2 threads, denormals flushed).", ""]
    return "\n".join(s)


def write_doc(text):
    path = os.path.join(ROOT, "docs/performance.md")
    with open(path) as f:     # re-read right before editing: others edit other sections
        doc = f.read()
    m = re.search(r"^## Peers \(one run\)\n.*?(?=^## |\Z)", doc, flags=re.S | re.M)
    if m:
        doc = doc[:m.start()] + text + ("\n" if doc[m.end():] else "") + doc[m.end():]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="3,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=3, help="timed frames per peer per round")
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--doc", action="store_true", help="rewrite '## Peers (one run)' in docs/performance.md")
    ap.add_argument("--chart", action="store_true", help="draw docs/results/peers-x<s>.png")
    ap.add_argument("--reuse", action="store_true", help="re-tabulate tools/.cache/bench/peers.json")
    ap.add_argument("--isa", choices=list(ISA_LEVELS), help="cap cfqp (CFQP_MAX_CPU_ISA) and "
                    "PyTorch (ONEDNN_MAX_CPU_ISA) at this level; results per level")
    ap.add_argument("--only", help="comma-separated peers to run (default with --isa: %s)" % ISA_PEERS)
    ap.add_argument("--isa-table", action="store_true", help="re-tabulate the --isa runs' files")
    args = ap.parse_args()
    if args.isa_table:
        text = isa_section(None)
        print(text)
        if args.doc:
            write_isa_doc(text)
        return
    if args.isa:
        # before torch is imported: oneDNN reads its cap once
        os.environ["CFQP_MAX_CPU_ISA"] = args.isa
        os.environ["ONEDNN_MAX_CPU_ISA"] = ISA_LEVELS[args.isa]
        if args.only is None:
            args.only = ISA_PEERS
    cmd = "/usr/bin/python3 tools/bench/bench_peers.py " + " ".join(sys.argv[1:])
    RUN_CMD[0] = cmd
    raw = os.path.join(CACHE, "peers-isa-%s.json" % args.isa if args.isa else "peers.json")
    if args.reuse:
        with open(raw) as f:
            saved = json.load(f)
        cmd = saved["command"]
        results, peak, peak_out = saved["results"], saved["peak"], saved["peak_out"]
        args.rounds, args.frames, args.load = saved["rounds"], saved["frames"], saved["load"]
    else:
        os.makedirs(CACHE, exist_ok=True)
        args.load = "%.1f" % os.getloadavg()[0]
        peak, peak_out = run_peak(args)
        results = [run_unit(int(s), args, peak) for s in args.scales.split(",")]
        with open(raw, "w") as f:
            json.dump({"command": cmd, "results": results, "peak": peak, "peak_out": peak_out,
                       "rounds": args.rounds, "frames": args.frames, "load": args.load,
                       "onednn_isa": onednn_isa() if args.isa else None}, f, indent=1)
    if args.isa:
        text = isa_section(None)
        print(peak_out + "\n" + text)
        if args.doc:
            write_isa_doc(text)
        return
    text = section(results, peak, peak_out, args, cmd)
    print(text)
    if args.chart:
        for res in results:
            chart(res, os.path.join(ROOT, "docs/results/peers-x%d.png" % res["scale"]))
    if args.doc:
        write_doc(text)


if __name__ == "__main__":
    main()
