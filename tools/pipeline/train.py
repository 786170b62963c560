#!/usr/bin/python3
"""Train one SR model of tools/pipeline/sr_models.py on the photo pairs of
tools/pipeline/fetch_photos.py, validate it (Y-PSNR / Y-SSIM beside bicubic) and export
it to ONNX.

Training: random LR patches (default 48x48) with their HR patches, random
flips and 90-degree rotations, L1 loss, Adam (lr 5e-4), cosine decay to 0,
batch 16.  Batch b of step i is drawn from a generator seeded with
(seed, i), so a run resumed from a checkpoint sees the same data as an
uninterrupted one.  The schedule's progress is max(step/steps,
train_seconds/(minutes*60)): with --minutes the cosine reaches 0 when the
time budget (summed over resumes) is spent, with only --steps it is
deterministic.  Checkpoints every --ckpt-minutes into tools/.cache/ckpt/<run>.pt
(atomic), resumed automatically; log in tools/.cache/logs/<run>.log.
--device cuda trains on a GPU (the data init, validation and export stay on
the CPU); --train-only stops after training, for a machine that holds only
the training photos (tools/pipeline/gpu_train.py runs the queue so).

Validation (tools/pipeline/photo-split.json "val"): full images; SR output rounded to
8 bits; bicubic = PIL Image.BICUBIC upscaling of the same 8-bit LR.
Y = BT.601 luma in 16-235 ((65.481 R + 128.553 G + 24.966 B)/255 + 16 with
RGB in [0,1]), border shave = scale; PSNR averaged over images; SSIM on Y
(Gaussian window 11, sigma 1.5, as Wang et al.). Results go to
models/records/<run>.json (committed with the model; tools/pipeline/model_cards.py
writes the model cards from them) and tools/.cache/results/<run>.json.

Examples:
  nice -n 10 /usr/bin/python3 tools/pipeline/train.py --arch abpn --scale 3 --minutes 25
  /usr/bin/python3 tools/pipeline/train.py --arch abpn --scale 3 --eval-only --export models/abpn-x3.onnx
"""
import argparse
import json
import math
import os
import sys
import time
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch_photos  # noqa: E402
import sr_models  # noqa: E402

CACHE = fetch_photos.CACHE
MODELS = os.path.join(os.path.dirname(fetch_photos.TOOLS), "models")
RECORDS = os.path.join(MODELS, "records")
# what a record says of its training recipe, and what --twin-weights
# compares (with init_onnx); gpu_train.py passes these on to train.py
RECIPE = ("steps", "minutes", "batch", "patch", "lr", "seed")


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def load_set(names, scale):
    return [(load_rgb(fetch_photos.pair_path(n, "hr")),
             load_rgb(fetch_photos.pair_path(n, "x%g" % scale))) for n in names]


def batch(data, scale, patch, bs, rng):
    """scale: an int or a Fraction p/q; LR patch offsets are multiples of q
    (and patch must be one) so that the HR patch starts on a whole pixel."""
    lrs, hrs = [], []
    q = Fraction(scale).denominator
    assert patch % q == 0, (patch, scale)
    weights = np.array([lr.shape[0] * lr.shape[1] for _, lr in data], dtype=np.float64)
    weights /= weights.sum()
    for _ in range(bs):
        hr, lr = data[rng.choice(len(data), p=weights)]
        y = q * int(rng.integers(0, (lr.shape[0] - patch) // q + 1))
        x = q * int(rng.integers(0, (lr.shape[1] - patch) // q + 1))
        l = lr[y:y + patch, x:x + patch]
        y, x, hp = int(y * scale), int(x * scale), int(patch * scale)
        h = hr[y:y + hp, x:x + hp]
        k = int(rng.integers(0, 8))
        if k & 1:
            l, h = l[:, ::-1], h[:, ::-1]
        if k & 2:
            l, h = l[::-1], h[::-1]
        if k & 4:
            l, h = l.transpose(1, 0, 2), h.transpose(1, 0, 2)
        lrs.append(np.ascontiguousarray(l))
        hrs.append(np.ascontiguousarray(h))
    f = lambda a: torch.from_numpy(np.stack(a)).permute(0, 3, 1, 2).float().div_(255.0)
    return f(lrs), f(hrs)


# --- metrics ----------------------------------------------------------------

def y_channel(rgb_u8):
    """BT.601 luma in [16, 235] from an HxWx3 uint8 array (float64)."""
    r = rgb_u8.astype(np.float64) / 255.0
    return 16.0 + 65.481 * r[..., 0] + 128.553 * r[..., 1] + 24.966 * r[..., 2]


def psnr(a, b, peak=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(peak * peak / max(mse, 1e-12))


def ssim(a, b):
    """SSIM of two float64 HxW images in [0, 255] (Gaussian 11, sigma 1.5)."""
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    g = torch.tensor(g / g.sum())
    x = torch.from_numpy(np.ascontiguousarray(a))[None, None]
    y = torch.from_numpy(np.ascontiguousarray(b))[None, None]
    flt = lambda t: F.conv2d(F.conv2d(t, g.view(1, 1, 1, 11)), g.view(1, 1, 11, 1))  # separable
    mx, my = flt(x), flt(y)
    sxx = flt(x * x) - mx * mx
    syy = flt(y * y) - my * my
    sxy = flt(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def metrics(sr_u8, hr_u8, s):
    s = math.ceil(s)  # border shave: the scale, rounded up for x3/2
    ys, yh = y_channel(sr_u8)[s:-s, s:-s], y_channel(hr_u8)[s:-s, s:-s]
    return {"y_psnr": psnr(ys, yh), "y_ssim": ssim(ys, yh),
            "rgb_psnr": psnr(sr_u8[s:-s, s:-s], hr_u8[s:-s, s:-s])}


def run_model(model, lr_u8):
    x = torch.from_numpy(np.ascontiguousarray(lr_u8)).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        y = model(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    return np.round(y * 255.0).astype(np.uint8)


def bicubic(lr_u8, s):
    h, w = lr_u8.shape[:2]
    return np.asarray(Image.fromarray(lr_u8).resize((int(w * s), int(h * s)), Image.BICUBIC))


def validate(model, names, scale):
    model.eval()
    per = {}
    for n in names:
        hr = load_rgb(fetch_photos.pair_path(n, "hr"))
        lr = load_rgb(fetch_photos.pair_path(n, "x%g" % scale))
        per[n] = {"model": metrics(run_model(model, lr), hr, scale),
                  "bicubic": metrics(bicubic(lr, scale), hr, scale)}
    mean = {k: {m: float(np.mean([per[n][k][m] for n in names])) for m in per[names[0]][k]}
            for k in ("model", "bicubic")}
    model.train()
    return {"mean": mean, "per_image": per}


# --- training ---------------------------------------------------------------

def onnx_initializers(path):
    import onnx
    from onnx import numpy_helper
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def onnx_state_dict(path, model):
    """The PyTorch parameters of an ONNX file written by sr_models.export_onnx
    (its initializers keep the parameter names); any missing or misshapen
    parameter is an error."""
    init = onnx_initializers(path)
    sd = {}
    for k, v in model.state_dict().items():
        if k not in init or tuple(init[k].shape) != tuple(v.shape):
            sys.exit("%s: no parameter %s of shape %s" % (path, k, tuple(v.shape)))
        sd[k] = torch.from_numpy(init[k].copy())
    return sd


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def write_record(run, rec):
    """The run's record, in the cache and in models/records/: the committed
    copy is what tools/pipeline/model_cards.py writes the cards from (a card
    must survive a lost cache)."""
    for d in (os.path.join(CACHE, "results"), RECORDS):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, run + ".json"), "w") as f:
            json.dump(rec, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(sr_models.ARCHS))
    ap.add_argument("--scale", required=True, choices=("1.5", "2", "3", "4"),
                    help="1.5 only for the ratio archs (quicksrnet_s2d)")
    ap.add_argument("--clipped", action="store_true")
    ap.add_argument("--loss-on-clamp", action="store_true",
                    help="L1 on the output clamped to [0,1], as the byte write shows it; the "
                    "net keeps no clip (its clip-free form trains as its clipped twin's loss sees)")
    ap.add_argument("--twin-weights", action="store_true",
                    help="with --loss-on-clamp, for a net whose clipped form differs only in the output "
                    "activation (sr_models.OUTPUT_CLIP_ONLY): take the weights of models/<twin>.onnx, "
                    "trained with this recipe's steps, batch, patch, lr and seed, instead of training "
                    "the same weights again (docs/cfqp.md, 'The second target at equal weights')")
    ap.add_argument("--steps", type=int, default=28000)
    ap.add_argument("--minutes", type=float, default=0.0, help="training time budget (0: none)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=48, help="LR patch side")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="where the net trains: cpu, cuda, cuda:N")
    ap.add_argument("--train-only", action="store_true",
                    help="train (or resume) to the end and stop: no validation, record or export; "
                    "needs only the training photos of this scale")
    ap.add_argument("--ckpt-minutes", type=float, default=3.0)
    ap.add_argument("--run", help="run name (default <arch>-x<s>[-clipped])")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--export", help="write the trained net as ONNX here")
    ap.add_argument("--revalidate", action="store_true",
                    help="validate models/<run>.onnx on the current validation photos and replace only "
                    "the validation figures of its record (after the photo split grew)")
    ap.add_argument("--init-onnx", help="start from the weights of this exported ONNX file (when no "
                    "checkpoint exists): fine-tune a shipped model, or --eval-only to re-validate it")
    args = ap.parse_args()

    ratio = sr_models.RATIO_ARCHS.get(args.arch)
    if args.scale not in ((ratio,) if ratio else ("2", "3", "4")):
        sys.exit("--arch %s takes --scale %s" % (args.arch, ratio or "2, 3 or 4"))
    scale = Fraction(args.scale) if ratio else int(args.scale)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run = args.run or sr_models.model_name(args.arch, scale, args.clipped)
    for d in ("ckpt", "logs", "results"):
        os.makedirs(os.path.join(CACHE, d), exist_ok=True)
    ckpt_path = os.path.join(CACHE, "ckpt", run + ".pt")
    log_f = open(os.path.join(CACHE, "logs", run + ".log"), "a")

    def log(*a):
        line = time.strftime("%H:%M:%S ") + " ".join(str(x) for x in a)
        print(line, flush=True)
        log_f.write(line + "\n")
        log_f.flush()

    if args.train_only and (args.eval_only or args.revalidate or args.export):
        sys.exit("--train-only trains and stops: no --eval-only, --revalidate or --export")
    device = torch.device(args.device)
    split = fetch_photos.prepare(sets=("train",) if args.train_only else ("train", "val"),
                                 kinds=None if not args.train_only else ("hr", "x%g" % scale))
    model = sr_models.build(args.arch, scale, args.clipped)
    step, train_s, done, inited, data, ck = 0, 0.0, False, False, None, None
    # what the weights trained on: a resumed checkpoint's or a twin's device
    # (a GPU run validated here), else this run's
    trained_on = device_name(device)
    if args.revalidate:
        r = json.load(open(os.path.join(RECORDS, run + ".json")))
        model.load_state_dict(onnx_state_dict(os.path.join(MODELS, run + ".onnx"), model))
        r.update(validate(model, split["val"], scale))
        r.update({"train_photos": split["train"], "val_photos": split["val"]})
        write_record(run, r)
        m, b = r["mean"]["model"], r["mean"]["bicubic"]
        log("revalidated %s on %d photos: Y-PSNR %.3f (bicubic %.3f, %+.3f dB)" % (
            run, len(split["val"]), m["y_psnr"], b["y_psnr"], m["y_psnr"] - b["y_psnr"]))
        return
    twin = None
    if args.twin_weights:
        twin = sr_models.model_name(args.arch, scale, True)
        if args.clipped or not args.loss_on_clamp or args.arch not in sr_models.OUTPUT_CLIP_ONLY:
            sys.exit("--twin-weights takes a clip-free net with --loss-on-clamp of an arch in %s"
                     % ", ".join(sr_models.OUTPUT_CLIP_ONLY))
        tr = json.load(open(os.path.join(RECORDS, twin + ".json")))
        for k in RECIPE + ("init_onnx",):
            if tr.get(k) != getattr(args, k):
                sys.exit("%s was trained with %s %s, this recipe asks %s" % (twin, k, tr.get(k), getattr(args, k)))
        model.load_state_dict(onnx_state_dict(os.path.join(MODELS, twin + ".onnx"), model))
        step, train_s, done, inited = tr["steps"], tr["train_minutes"] * 60.0, True, tr.get("data_init", False)
        trained_on = tr.get("device", "cpu")
        log("weights of", twin, "(its recipe: steps %d, seed %d)" % (step, args.seed))
    elif os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        step, train_s, done = ck["step"], ck["train_s"], ck.get("done", False)
        trained_on = ck.get("device_name", "cpu")
        # checkpoints older than this key: every such run of a net with a
        # data init had it
        inited = ck.get("data_init", hasattr(model, "data_init") and not ck["args"].get("init_onnx"))
        log("resumed", run, "at step", step, "train_s %.0f" % train_s, "done" if done else "")
    else:
        # a net with a parent (load_parent: the x3 net for x3/2) takes the
        # parent's weights, then still its data init
        parent = args.init_onnx and hasattr(model, "load_parent")
        if parent:
            model.load_parent(onnx_initializers(args.init_onnx))
        elif args.init_onnx:
            model.load_state_dict(onnx_state_dict(args.init_onnx, model))
        if hasattr(model, "data_init") and not args.eval_only and (parent or not args.init_onnx):
            # nets without an anchor start from a fitted interpolator: 256
            # patches drawn with their own seed, so resumes are unaffected
            data = load_set(split["train"], scale)
            x, y = batch(data, scale, args.patch, 256, np.random.default_rng([args.seed, 1 << 30]))
            model.data_init(x, y)
            inited = True
            log("data_init: least-squares readout from 256 patches")
        log("start", run, vars(args))

    # the optimizer is made once the parameters are where they train, so
    # that its state (resumed or new) lives there too
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    if ck is not None and "opt" in ck:
        opt.load_state_dict(ck["opt"])
    if device.type == "cuda":
        # full FP32 products, as on the CPU: TF32 convs round the inputs to 10 bits
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False

    def save(final=False):
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "train_s": train_s, "done": final, "data_init": inited, "args": vars(args),
                    "device_name": device_name(device)}, tmp)
        os.replace(tmp, ckpt_path)

    def progress():
        p = step / args.steps
        if args.minutes > 0:
            p = max(p, train_s / (args.minutes * 60.0))
        return p

    if not args.eval_only and not done:
        data = data or load_set(split["train"], scale)
        model.train()
        t_last, t_ck, loss_acc, n_acc = time.time(), time.time(), 0.0, 0
        while progress() < 1.0:
            lr_now = args.lr * 0.5 * (1 + math.cos(math.pi * min(progress(), 1.0)))
            for gparam in opt.param_groups:
                gparam["lr"] = lr_now
            rng = np.random.default_rng([args.seed, step])
            x, y = batch(data, scale, args.patch, args.batch, rng)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            out = model(x)
            loss = F.l1_loss(out.clamp(0.0, 1.0) if args.loss_on_clamp else out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            now = time.time()
            train_s += now - t_last
            t_last = now
            loss_acc += loss.detach()  # no float(): a GPU would wait for every step
            n_acc += 1
            if step % 500 == 0:
                log("step %d loss %.5f lr %.2e train_min %.1f progress %.3f" % (
                    step, float(loss_acc) / n_acc, lr_now, train_s / 60, progress()))
                loss_acc, n_acc = 0.0, 0
            if now - t_ck > args.ckpt_minutes * 60:
                save()
                t_ck = time.time()
                t_last = time.time()
        save(final=True)
        log("trained", run, "steps", step, "train_min %.1f" % (train_s / 60))
    if args.train_only:
        return

    model.to("cpu")
    res = validate(model, split["val"], scale)
    m, b = res["mean"]["model"], res["mean"]["bicubic"]
    log("val %s: Y-PSNR %.3f (bicubic %.3f, %+.3f dB)  Y-SSIM %.4f (bicubic %.4f)  RGB-PSNR %.3f (bicubic %.3f)" % (
        run, m["y_psnr"], b["y_psnr"], m["y_psnr"] - b["y_psnr"], m["y_ssim"], b["y_ssim"],
        m["rgb_psnr"], b["rgb_psnr"]))
    res.update({"run": run, "arch": args.arch, "scale": float(scale) if ratio else scale, "clipped": args.clipped,
                "steps": step, "minutes": args.minutes, "threads": args.threads,
                "device": trained_on, "train_minutes": round(train_s / 60, 1), "batch": args.batch,
                "patch": args.patch, "lr": args.lr, "seed": args.seed,
                "loss_on_clamp": args.loss_on_clamp, "twin_weights": twin,
                "data_init": inited, "init_onnx": args.init_onnx,
                "params": sr_models.count_params(model),
                "macs_per_lr_pixel": sr_models.macs_per_lr_pixel(model),
                "train_photos": split["train"], "val_photos": split["val"]})
    write_record(run, res)
    if args.export:
        sr_models.export_onnx(model, args.export)
        log("exported", args.export, os.path.getsize(args.export), "bytes")


if __name__ == "__main__":
    main()
