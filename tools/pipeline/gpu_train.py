#!/usr/bin/python3
"""Train the shipped nets on a lent GPU machine in one short call, and bring
the weights back here, where they are validated and exported.

A GPU machine (the `device` tool: one H200, 16 cores, PyTorch, no package
registry, about 8 minutes per call) has neither the Debian photo packages
nor this machine's PyTorch, so the work is split in three steps:

  bundle   (here)   copy the training photos' pairs (HR, x2, x3, x4: about
                    25 MB) into tools/.cache/gpu-train/pairs, the folder
                    the call carries.
  train    (there)  train every queued net at once, one process each
                    (train.py --train-only --device cuda), all on the same
                    time budget, then pack each net's weights as NumPy
                    arrays with the checkpoint's facts (step, minutes, recipe,
                    GPU), with each net's output, into OUT/gpu-train.tar.gz,
                    beside a summary.
  import   (here)   turn each packed net back into a finished checkpoint
                    tools/.cache/ckpt/<net><suffix>.pt and run train.py on it:
                    validation on the 26 photos, a record
                    models/records/<net><suffix>.json, the ONNX file
                    tools/.cache/exp/<net><suffix>.onnx.  Weights travel as
                    arrays, not as the GPU machine's checkpoint, whose
                    PyTorch is newer than Debian's.

The device call, once bundled (its command fits the tool's 2,000
characters; 6.5 minutes of training per net, up to 90 s more for start-up
and the data inits, then packing, inside the call's 10 minutes):

  run(command="PYTHONUNBUFFERED=1 python3 tools/pipeline/gpu_train.py train
      --out $OUT", carry=["tools/.cache/gpu-train"], timeout_s=590)

then here: /usr/bin/python3 tools/pipeline/gpu_train.py import
/work/.device/.../gpu-train.tar.gz.  Compare each imported net with the shipped
one (tools/research/fp32_pairs.py --build build --scale S shipped=models/N.onnx
gpu=tools/.cache/exp/N-gpu.onnx) before shipping it:

  ship     (here)   models/<net>.onnx and models/records/<net>.json from an
                    imported net, its import record removed; for a clipped
                    ABPN or XLSR net also the clip-free net, from these
                    weights (train.py --twin-weights with the twin's recipe).
                    Then models/README.md (model_cards.py), the calibrations
                    (make_calibrations.sh), the digests and docs/results.md
                    (evaluate.py), as for any retrained net.

Delete the records of imported nets that are not shipped.

The queue is every net that train_all.sh trains rather than derives: the
clipped ABPN and XLSR nets (their clip-free nets take these weights), both
forms of QuickSRNet-Small, Bicubic++.  A time budget, not a step budget:
the cosine follows the minutes (train.py --minutes), so each record says how
many steps its net got.  Checked here on the CPU with `train --device cpu
--minutes 0.2 --only …` and `import`.
"""
import argparse
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fetch_photos  # noqa: E402

ROOT = os.path.dirname(fetch_photos.TOOLS)
CACHE = fetch_photos.CACHE
BUNDLE = os.path.join(CACHE, "gpu-train")
TRAIN = os.path.join(HERE, "train.py")

# (net, train.py arguments): train_all.sh's trained entries
QUEUE = [
    ("abpn-x2-clipped", ["--arch", "abpn", "--scale", "2", "--clipped"]),
    ("abpn-x3-clipped", ["--arch", "abpn", "--scale", "3", "--clipped"]),
    ("abpn-x4-clipped", ["--arch", "abpn", "--scale", "4", "--clipped"]),
    ("xlsr-x2-clipped", ["--arch", "xlsr", "--scale", "2", "--clipped"]),
    ("xlsr-x3-clipped", ["--arch", "xlsr", "--scale", "3", "--clipped"]),
    ("quicksrnet_s-x2", ["--arch", "quicksrnet_s", "--scale", "2", "--loss-on-clamp"]),
    ("quicksrnet_s-x2-clipped", ["--arch", "quicksrnet_s", "--scale", "2", "--clipped"]),
    ("quicksrnet_s-x3", ["--arch", "quicksrnet_s", "--scale", "3", "--loss-on-clamp"]),
    ("quicksrnet_s-x3-clipped", ["--arch", "quicksrnet_s", "--scale", "3", "--clipped"]),
    ("bicubicpp-x2", ["--arch", "bicubicpp", "--scale", "2"]),
    ("bicubicpp-x3", ["--arch", "bicubicpp", "--scale", "3"]),
]
KINDS = ("hr", "x2", "x3", "x4")


def recipe_args(r):
    """train.py's recipe options as a record (or a checkpoint's args) holds them."""
    import train as train_py  # torch: only where a net is validated or derived
    return [a for k in train_py.RECIPE for a in ("--" + k, str(r[k]))]


def queue(only):
    nets = dict(QUEUE)
    for n in only or []:
        if n not in nets:
            sys.exit("not in the queue: %s (queue: %s)" % (n, ", ".join(nets)))
    return [(n, a) for n, a in QUEUE if not only or n in only]


def bundle(args):
    split = fetch_photos.prepare(sets=("train",), kinds=KINDS)
    dst = os.path.join(args.dir, "pairs")
    size = 0
    for kind in KINDS:
        os.makedirs(os.path.join(dst, kind), exist_ok=True)
        for n in split["train"]:
            src = fetch_photos.pair_path(n, kind)
            shutil.copyfile(src, os.path.join(dst, kind, n + ".png"))
            size += os.path.getsize(src)
    print("bundled %d training photos (%s) in %s: %.1f MB" % (
        len(split["train"]), ", ".join(KINDS), dst, size / 1e6))


def add_file(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def read(path):
    return open(path, "rb").read() if os.path.exists(path) else b""


def pack_net(tar, net, ckpt):
    """The net's weights as .npz and its checkpoint's facts as .json."""
    import numpy as np
    import torch
    ck = torch.load(ckpt, map_location="cpu")
    arrays = {k: v.numpy() for k, v in ck["model"].items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    facts = {k: ck.get(k) for k in ("step", "train_s", "done", "data_init", "device_name")}
    facts["args"] = ck["args"]
    add_file(tar, net + ".npz", buf.getvalue())
    add_file(tar, net + ".json", json.dumps(facts, indent=1).encode())
    return facts


def train(args):
    pairs = os.path.join(args.bundle, "pairs")
    if not os.path.isdir(pairs):
        sys.exit("no %s: run `gpu_train.py bundle` where the photos are and carry %s"
                 % (pairs, os.path.relpath(args.bundle, ROOT)))
    nets = queue(args.only)
    old = [n for n, _ in nets if os.path.exists(os.path.join(CACHE, "ckpt", n + ".pt"))]
    if old:
        # train.py would resume them: this step is for a fresh copy of the tree
        sys.exit("checkpoints of %s exist in %s: train on a fresh copy of the tree"
                 % (", ".join(old), os.path.join(CACHE, "ckpt")))
    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ, CFQP_PAIRS=pairs, OMP_NUM_THREADS="1")
    for d in ("ckpt", "logs"):
        os.makedirs(os.path.join(CACHE, d), exist_ok=True)
    summary = open(os.path.join(args.out, "summary.txt"), "w")

    def say(line):
        print(line, flush=True)
        summary.write(line + "\n")
        summary.flush()

    if args.device.startswith("cuda"):
        try:
            smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
            say("gpu: " + (smi.stdout.strip() or smi.stderr.strip()))
        except OSError as e:
            say("gpu: nvidia-smi: %s" % e)
    jobs = []
    for net, a in nets:
        # the device call brings back 8 files: each net's output goes in the tarball
        out = open(os.path.join(CACHE, "logs", net + ".out"), "w")
        cmd = [sys.executable, TRAIN, *a, "--train-only", "--device", args.device, "--threads", "1",
               "--steps", str(args.steps), "--minutes", str(args.minutes), "--batch", str(args.batch),
               "--patch", str(args.patch), "--lr", str(args.lr), "--seed", str(args.seed),
               "--ckpt-minutes", "1"]
        jobs.append((net, subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT), out))
    say("started %s at %s: train.py --train-only %s" % (
        ", ".join(n for n, _, _ in jobs), time.strftime("%H:%M:%S"), " ".join(cmd[cmd.index("--device"):])))
    # the budget is training time; start-up (CUDA, photos, data init) and
    # the last checkpoint come on top
    deadline = time.time() + args.minutes * 60 + args.grace
    for net, p, out in jobs:
        try:
            p.wait(timeout=max(1.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            say("%s: killed at the deadline" % net)
        out.close()
    failed = 0
    tgz = os.path.join(args.out, "gpu-train.tar.gz")
    with tarfile.open(tgz, "w:gz") as tar:
        for net, p, _ in jobs:
            add_file(tar, net + ".out", read(os.path.join(CACHE, "logs", net + ".out")))
            ckpt = os.path.join(CACHE, "ckpt", net + ".pt")
            if not os.path.exists(ckpt):
                failed += 1
                say("%s: exit %s, no checkpoint (its output: %s.out in the tarball)" % (net, p.returncode, net))
                continue
            f = pack_net(tar, net, ckpt)
            failed += p.returncode != 0 or not f["done"]
            say("%s: exit %s, %s, %d steps in %.1f min on %s" % (
                net, p.returncode, "done" if f["done"] else "UNFINISHED", f["step"],
                f["train_s"] / 60, f["device_name"]))
    say("packed %s (%d bytes); %d of %d nets not done" % (tgz, os.path.getsize(tgz), failed, len(jobs)))
    return 1 if failed else 0


def import_(args):
    import numpy as np
    import torch
    work = os.path.join(CACHE, "gpu-import", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(work)
    with tarfile.open(args.tarball) as tar:
        for m in tar.getmembers():
            if not m.isfile() or "/" in m.name or m.name.startswith("."):
                sys.exit("%s: unexpected member %r" % (args.tarball, m.name))
        tar.extractall(work)
    nets = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(work, "*.out")))
    if args.only:
        nets = [n for n in nets if n in args.only]
    os.makedirs(os.path.join(CACHE, "ckpt"), exist_ok=True)
    os.makedirs(os.path.join(CACHE, "exp"), exist_ok=True)
    status = 0
    for net in nets:
        if not os.path.exists(os.path.join(work, net + ".json")):
            print("%s: no checkpoint came back; its output:\n%s" % (net, read(os.path.join(work, net + ".out")).decode()[-2000:]))
            status = 1
            continue
        facts = json.load(open(os.path.join(work, net + ".json")))
        if not facts["done"]:
            print("%s: unfinished on the GPU (%d steps), not imported" % (net, facts["step"]))
            status = 1
            continue
        run = net + args.suffix
        ckpt = os.path.join(CACHE, "ckpt", run + ".pt")
        if os.path.exists(ckpt) and not args.force:
            sys.exit("%s exists (another run of this name): --suffix or --force" % ckpt)
        with np.load(os.path.join(work, net + ".npz")) as z:
            model = {k: torch.from_numpy(z[k].copy()) for k in z.files}
        a = facts["args"]
        torch.save({"model": model, "step": facts["step"], "train_s": facts["train_s"], "done": True,
                    "data_init": facts["data_init"], "args": a, "device_name": facts["device_name"]}, ckpt)
        cmd = [sys.executable, TRAIN, "--arch", a["arch"], "--scale", a["scale"], "--run", run,
               "--threads", str(args.threads), "--export", os.path.join(CACHE, "exp", run + ".onnx")]
        cmd += [f for f, on in (("--clipped", a["clipped"]), ("--loss-on-clamp", a["loss_on_clamp"])) if on]
        cmd += recipe_args(a)
        print("+", " ".join(cmd[1:]), flush=True)
        status |= subprocess.call(cmd) != 0
    print("imported into tools/.cache/ckpt/ and tools/.cache/exp/ (%s); records in models/records/*%s.json"
          % (", ".join(n + args.suffix for n in nets), args.suffix))
    return status


def ship(args):
    import sr_models
    import train as train_py
    for net in args.nets:
        run = net + args.suffix
        src = os.path.join(CACHE, "exp", run + ".onnx")
        rec_src = os.path.join(train_py.RECORDS, run + ".json")
        if not os.path.exists(src) or not os.path.exists(rec_src):
            sys.exit("%s: no imported net (%s, %s): run import first" % (net, src, rec_src))
        r = json.load(open(rec_src))
        r["run"] = net
        shutil.copyfile(src, os.path.join(train_py.MODELS, net + ".onnx"))
        train_py.write_record(net, r)
        os.remove(rec_src)
        print("shipped %s: %d steps on %s" % (net, r["steps"], r.get("device")))
        if r["clipped"] and r["arch"] in sr_models.OUTPUT_CLIP_ONLY:
            free = sr_models.model_name(r["arch"], r["scale"], False)
            cmd = [sys.executable, TRAIN, "--arch", r["arch"], "--scale", str(r["scale"]), "--loss-on-clamp",
                   "--twin-weights", "--threads", str(r["threads"]),
                   "--export", os.path.join(train_py.MODELS, free + ".onnx")] + recipe_args(r)
            print("+", " ".join(cmd[1:]), flush=True)
            if subprocess.call(cmd) != 0:
                return 1
    return subprocess.call([sys.executable, os.path.join(HERE, "model_cards.py")])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundle", help="here: the training photos into the folder the device call carries")
    b.add_argument("--dir", default=BUNDLE)
    t = sub.add_parser("train", help="on the GPU machine: the queue, all nets at once")
    t.add_argument("--bundle", default=BUNDLE)
    t.add_argument("--out", default=os.environ.get("OUT") or os.path.join(CACHE, "gpu-out"))
    t.add_argument("--device", default="cuda")
    t.add_argument("--minutes", type=float, default=6.5, help="training time per net (all run at once)")
    t.add_argument("--grace", type=float, default=90.0,
                   help="seconds beyond it (start-up, data init, last checkpoint) before a net is killed")
    t.add_argument("--steps", type=int, default=10 ** 7, help="step cap (the minutes end a run first)")
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--patch", type=int, default=48)
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--only", nargs="+", metavar="NET")
    i = sub.add_parser("import", help="here: validate and export what a train call packed")
    i.add_argument("tarball")
    i.add_argument("--suffix", default="-gpu", help="appended to each net's run name (default -gpu)")
    i.add_argument("--threads", type=int, default=1)
    i.add_argument("--only", nargs="+", metavar="NET")
    i.add_argument("--force", action="store_true", help="overwrite checkpoints of the same run name")
    s = sub.add_parser("ship", help="here: imported nets become the shipped ones")
    s.add_argument("nets", nargs="+", metavar="NET")
    s.add_argument("--suffix", default="-gpu", help="the import's suffix (default -gpu)")
    args = ap.parse_args()
    if args.cmd == "ship":
        return ship(args)
    if args.cmd == "bundle":
        return bundle(args)
    if args.cmd == "train":
        return train(args)
    return import_(args)


if __name__ == "__main__":
    sys.exit(main())
