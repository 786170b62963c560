#!/usr/bin/python3
"""Write models/README.md (one model card per models/<run>.onnx) from the
training records that tools/pipeline/train.py writes to models/records/<run>.json
(committed beside each model, so the cards survive a lost training cache)."""
import glob
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(REPO, "models")
RESULTS = os.path.join(MODELS, "records")

ARCH_TEXT = {
    "abpn": "ABPN (Du et al., CVPRW 2021), 28 channels: 3x3 conv 3->28 + ReLU, 4 x 3x3 conv 28->28 + ReLU, "
            "3x3 conv 28->3s^2 + ReLU, 3x3 conv 3s^2->3s^2, + anchor (input concatenated s^2 times), "
            "DepthToSpace (DCR)",
    "xlsr": "XLSR (Ayazoglu, CVPRW 2021), 32 channels: 3x3 conv 3->32 (the 4 parallel 8-filter branches) + ReLU, "
            "1x1 conv, 3 Gblocks (grouped 3x3 conv, 4 groups, + ReLU, 1x1 conv), side 3x3 conv 3->16, concat, "
            "1x1 conv 48->32 + ReLU, 3x3 conv 32->3s^2, DepthToSpace (CRD)",
    "quicksrnet_s": "QuickSRNet-Small (Berger et al., CVPRW 2023), 32 channels: 3x3 conv 3->32, 2 x 3x3 conv 32->32, "
                    "3x3 conv 32->3s^2, + anchor (Concat), DepthToSpace (DCR)",
    "bicubicpp": "Bicubic++ (Bilecen & Ayazoglu, CVPRW 2023), 32 channels, no biases: 3x3 conv 3->32 stride 2, "
                 "2 x 3x3 conv 32->32, LeakyReLU(0.1) after each, skip from the first activation to the third, "
                 "3x3 conv 32->3(2s)^2, DepthToSpace 2s (CRD); even input sides",
    "quicksrnet_s2d": "QuickSRNet-Small for the ratio 3/2 (tools/pipeline/sr_models.py QuickSRNetSmallS2D): "
                      "SpaceToDepth 2 (3->12 channels on 2x2 input blocks), 3x3 conv 12->32, 2 x 3x3 conv "
                      "32->32, 3x3 conv 32->27, + anchor (a learnt linear 3x3 conv 12->27 on the "
                      "SpaceToDepth tensor), DepthToSpace 3 (DCR); even input sides; initialised from "
                      "quicksrnet_s-x3 (first conv's weights spread over the 2x2 block, anchor and last "
                      "conv least-squares fitted)",
}

CLIP_TEXT = {
    ("abpn", True): "clipped: final Clip(0,1)",
    ("abpn", False): "clip-free: no clamp",
    ("xlsr", True): "clipped: output clipped ReLU (max 1) = Clip(0,1)",
    ("xlsr", False): "clip-free: output plain ReLU",
    ("quicksrnet_s", True): "clipped: Hardtanh(0,1) (Clip) after each hidden conv and a final Clip(0,1)",
    ("quicksrnet_s", False): "clip-free: ReLU after each hidden conv, no clamp",
    ("bicubicpp", True): "clipped: final Clip(0,1) (not in the paper; only for the clip-removal ablation)",
    ("bicubicpp", False): "clip-free: no clamp (as the paper)",
    ("quicksrnet_s2d", False): "clip-free: ReLU after each hidden conv, no clamp",
}

HEAD = """# CFQP models

FP32 ONNX (opset 13, one NCHW RGB input `input` in [0,1], dynamic H/W, output
`output`). Trained by `tools/pipeline/train_all.sh` (which runs `tools/pipeline/train.py`) on the
photographs of the Debian packages `plasma-workspace-wallpapers` and
`mate-backgrounds` (`tools/pipeline/fetch_photos.py`, split in `tools/pipeline/photo-split.json`:
%(ntrain)d training photos, %(nval)d validation photos, split by photo).

HR = original downscaled by 2 (PIL `Image.BICUBIC`, antialiased) and cropped to
multiples of 24; LR = HR downscaled by s with PIL `Image.BICUBIC` (antialiased
cubic, a = -0.5, kernel stretched by s, as MATLAB `imresize`), 8-bit PNG.

**Metrics.** Measured by the PyTorch FP32 validation in `tools/pipeline/train.py` (the
same photos through the C engine, FP32 and INT8, are in docs/results.md,
written by `tools/bench/evaluate.py`): whole validation photos (%(val)s), model output rounded
to 8 bits; Y = BT.601 luma in 16-235; border shave = scale; PSNR averaged over
the images; SSIM on Y (Gaussian window 11, sigma 1.5). Bicubic = PIL
`Image.BICUBIC` upscaling of the same LR. Reproduce one card with
`/usr/bin/python3 tools/pipeline/train.py --arch ARCH --scale S [--clipped] --eval-only`
(needs the checkpoint in tools/.cache/ckpt/), or from the shipped file with
`... --eval-only --init-onnx models/NAME.onnx`; retrain with `tools/pipeline/train_all.sh`.
The first runs (ABPN, XLSR x3) had wall-time budgets on 2 CPU cores shared with
other jobs, so their step counts differ (the cosine followed the time budget);
later runs have step budgets (`--steps N --minutes 0`) and each clipped twin
the step count of its clip-free net, where the queue gave it one.
A clip-free net with a twin trains with its L1 loss on the output clamped
to [0, 1], as the byte write shows it (`--loss-on-clamp`); ABPN's and XLSR's
take their twins' weights, which that recipe trains (`--twin-weights`,
docs/cfqp.md "The shipped clip-free nets, trained on the clamped output").
These runs are short: they got %(steps)s steps of batch 16 on one or two
CPU threads each, where the reference point (ABPN-28 x3 clip-free, ~28k steps
in 25 min on 2 idle cores, same recipe) reached +1.86 dB Y-PSNR over bicubic on
unseen textured photos. More steps helped most nets retrained, by very
different amounts, but not ABPN x3 at the reference's own budget
(docs/results.md, "Targets", which also shows how much the gain depends on the
validation photo). Their gain is mostly in luma (green); on smooth photos their
R/B can be slightly worse than bicubic, so the RGB-PSNR gain is small.

Defaults embedded by the plugin: %(defaults)s.

"""


def crop_check(onnx_path, scale):
    """Y-PSNR of the ONNX file itself (NumPy evaluator of the graph, not
    PyTorch) on the committed test crops, beside bicubic."""
    import sys
    import numpy as np
    import onnx
    from PIL import Image
    sys.path.insert(0, HERE)
    import sr_models
    import train
    g = onnx.load(onnx_path)
    out = []
    for name in ("boats", "forest", "grass"):
        d = os.path.join(REPO, "tests", "data", "images")
        lr = np.asarray(Image.open(os.path.join(d, "%s-x%g.png" % (name, scale))).convert("RGB"))
        hr = np.asarray(Image.open(os.path.join(d, "%s-hr.png" % name)).convert("RGB"))
        y = sr_models.onnx_eval_numpy(g, lr.transpose(2, 0, 1)[None].astype(np.float64) / 255.0)
        sr = np.round(np.clip(y[0].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
        out.append("%s %.2f (bicubic %.2f)" % (name, train.metrics(sr, hr, scale)["y_psnr"],
                                               train.metrics(train.bicubic(lr, scale), hr, scale)["y_psnr"]))
    return "; ".join(out)


def on_gpu(r):
    """Whether the record's net trained on a GPU (tools/pipeline/gpu_train.py)."""
    return r.get("device", "cpu") != "cpu"


def trained_on(r):
    """Where the record's net trained: a GPU or this machine's shared cores."""
    if on_gpu(r):
        return "on %s" % r["device"]
    threads = r.get("threads", 2)
    return "on 2 shared cores, %d thread%s" % (threads, "" if threads == 1 else "s")


def command(r, run):
    """The card's command line: train.py's, or gpu_train.py's steps for a
    net trained on a GPU."""
    if on_gpu(r):
        return ("- Command: on a GPU machine `python3 tools/pipeline/gpu_train.py train --minutes %g --batch %d`, "
                "then here `gpu_train.py import` and `gpu_train.py ship %s` (tools/pipeline/gpu_train.py)" % (
                    r["minutes"], r["batch"], r.get("twin_weights") or run))
    return ("- Command: `nice -n 10 /usr/bin/python3 tools/pipeline/train.py --arch %s --scale %g%s %s%s "
            "--threads %d --export models/%s.onnx`" % (
                r["arch"], r["scale"], form_flags(r),
                ("--minutes %g --steps 1000000" % r["minutes"]) if r.get("minutes")
                else "--steps %d --minutes 0" % r["steps"],
                "".join(" --%s %s" % (k.replace("_", "-"), r[k]) for k in ("init_onnx",) if r.get(k))
                + ("" if r["batch"] == 16 else " --batch %d" % r["batch"])
                + ("" if r["patch"] == 48 else " --patch %d" % r["patch"])
                + ("" if r["lr"] == 5e-4 else " --lr %g" % r["lr"]),
                r.get("threads", 2), run))


def form_flags(r):
    """train.py's options for the record's form and loss."""
    if r["clipped"]:
        return " --clipped"
    if r.get("loss_on_clamp"):
        return " --loss-on-clamp" + (" --twin-weights" if r.get("twin_weights") else "")
    return ""


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    cards, results = [], {}
    for p in sorted(glob.glob(os.path.join(RESULTS, "*.json"))):
        r = json.load(open(p))
        results[r["run"]] = r
    defaults = []
    for s in (2, 3, 4, 1.5):
        d = os.path.join(MODELS, "default-x%g.onnx" % s)
        if os.path.exists(d):
            h = sha(d)
            same = [n for n in results if os.path.exists(os.path.join(MODELS, n + ".onnx"))
                    and sha(os.path.join(MODELS, n + ".onnx")) == h]
            defaults.append("`default-x%g.onnx` = `%s.onnx`" % (s, same[0] if same else "?"))
    split = None
    summary = ["| model | form | params | MACs/LR px | steps | Y-PSNR | bicubic | gain | Y-SSIM | bicubic |",
               "|---|---|---|---|---|---|---|---|---|---|"]
    for run in sorted(results, key=lambda n: (results[n]["clipped"], results[n]["scale"], n)):
        r = results[run]
        onnx_path = os.path.join(MODELS, run + ".onnx")
        if not os.path.exists(onnx_path):
            continue
        split = r
        m, b = r["mean"]["model"], r["mean"]["bicubic"]
        rows = ["| photo | Y-PSNR model | Y-PSNR bicubic | gain | Y-SSIM model | Y-SSIM bicubic |",
                "|---|---|---|---|---|---|"]
        for n, v in r["per_image"].items():
            rows.append("| %s | %.2f | %.2f | %+.2f | %.4f | %.4f |" % (
                n, v["model"]["y_psnr"], v["bicubic"]["y_psnr"],
                v["model"]["y_psnr"] - v["bicubic"]["y_psnr"], v["model"]["y_ssim"], v["bicubic"]["y_ssim"]))
        rows.append("| **mean** | **%.2f** | %.2f | **%+.2f** | **%.4f** | %.4f |" % (
            m["y_psnr"], b["y_psnr"], m["y_psnr"] - b["y_psnr"], m["y_ssim"], b["y_ssim"]))
        summary.append("| `%s` | %s | %d | %.0f | %d | %.2f | %.2f | %+.2f | %.4f | %.4f |" % (
            run, "clipped" if r["clipped"] else "clip-free", r["params"], r["macs_per_lr_pixel"], r["steps"],
            m["y_psnr"], b["y_psnr"], m["y_psnr"] - b["y_psnr"], m["y_ssim"], b["y_ssim"]))
        cards.append("\n".join([
            "## `%s.onnx`" % run,
            "",
            "- Architecture: %s; scale x%g." % (ARCH_TEXT[r["arch"]], r["scale"]),
            "- Form: %s." % CLIP_TEXT[(r["arch"], r["clipped"])],
            "- Parameters: %d; MACs per LR pixel: %.0f (convolutions)." % (r["params"], r["macs_per_lr_pixel"]),
            "- Training: %d steps (%.1f min %s), batch %d, %dx%d LR patches, flips/rotations, "
            "L1%s, Adam lr %g cosine to 0, seed %d%s%s." % (
                r["steps"], r["train_minutes"], trained_on(r),
                r["batch"], r["patch"], r["patch"],
                " on the output clamped to [0, 1]" if r.get("loss_on_clamp") else "", r["lr"], r["seed"],
                ("; the weights of `%s.onnx`, which this recipe trains (the two forms differ only in the "
                 "output activation: `--twin-weights`, docs/cfqp.md)" % r["twin_weights"]) if r.get("twin_weights")
                else "",
                ("; started from %s (`load_parent`) with the anchor and last conv least-squares fitted "
                 "to 256 patches (`data_init` in tools/pipeline/sr_models.py)" % r["init_onnx"]) if r.get("init_onnx")
                else "; started from a least-squares interpolator (`data_init` in tools/pipeline/sr_models.py: the "
                "input pixels passed through, the last conv fitted to 256 patches)" if r.get("data_init") else ""),
            "- Validation (PyTorch FP32): Y-PSNR %.2f dB vs bicubic %.2f dB (%+.2f dB); Y-SSIM %.4f vs %.4f; "
            "RGB-PSNR %.2f vs %.2f." % (m["y_psnr"], b["y_psnr"], m["y_psnr"] - b["y_psnr"], m["y_ssim"],
                                        b["y_ssim"], m["rgb_psnr"], b["rgb_psnr"]),
            command(r, run),
            "- ONNX file check (`tools/pipeline/model_cards.py`: NumPy evaluation of the exported graph on the "
            "120x120 crops in tests/data/images), Y-PSNR dB: %s." % crop_check(onnx_path, r["scale"]),
            "- File: %d bytes, sha256 `%s`." % (os.path.getsize(onnx_path), sha(onnx_path)[:16]),
        ] + (["- Record: %s." % r["record_note"]] if r.get("record_note") else []) + [
            "",
        ] + rows + [""]))
    carded = {r for r in results if os.path.exists(os.path.join(MODELS, r + ".onnx"))}
    others = sorted(os.path.basename(p) for p in glob.glob(os.path.join(MODELS, "*.onnx"))
                    if not os.path.basename(p).startswith("default-")
                    and os.path.basename(p)[:-5] not in carded)
    if others:
        cards.append("## Other files\n\n" + "\n".join(
            "- `%s`: not produced by `tools/pipeline/train_all.sh` on this checkout (no record in models/records/); "
            "see `git log -- models/%s`." % (o, o) for o in others) + "\n")
    steps = sorted(results[r]["steps"] for r in carded)
    head = HEAD % {"ntrain": len(split["train_photos"]) if split else 0,
                   "steps": "%d to %d" % (steps[0], steps[-1]) if steps else "no",
                   "nval": len(split["val_photos"]) if split else 0,
                   "val": ", ".join(split["val_photos"]) if split else "",
                   "defaults": "; ".join(defaults) if defaults else "none yet"}
    tmp = os.path.join(MODELS, "README.md.tmp")
    with open(tmp, "w") as f:
        f.write(head + "\n".join(summary) + "\n\n" + "\n".join(cards))
    os.replace(tmp, os.path.join(MODELS, "README.md"))


if __name__ == "__main__":
    main()
