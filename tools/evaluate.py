#!/usr/bin/python3
"""Quality of the shipped models through the engine → docs/results.md.

    /usr/bin/python3 tools/evaluate.py --build build

For every models/<name>.onnx (default-x* copies skipped) and its scale:
tools/cfqp-eval on the textured validation crops (tools/eval_data.py),
FP32 and INT8 — INT8 with the shipped calibration models/<name>.calib.json
when it exists, else calibrated on training-photo crops (MSE observer,
full CFQP).  Writes docs/results.md, docs/results/gain-vs-macs.png (gain
over bicubic against MACs per LR pixel) and docs/results/crops-x<s>.png
(bicubic | FP32 | INT8 | ground truth).
"""
import argparse
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def eval_model(build, model, scale, save_dir):
    ev = os.path.join(HERE, ".cache", "eval", "x%d" % scale)
    if not os.path.exists(os.path.join(ev, "val.txt")):
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "eval_data.py"), "--scale",
                        str(scale)], check=True)
    cmd = [os.path.join(build, "tools", "cfqp-eval"), "--model", model,
           "--val", os.path.join(ev, "val.txt"), "--save-dir", save_dir]
    calib = model[:-len(".onnx")] + ".calib.json"
    if os.path.exists(calib):
        cmd += ["--calibration", calib]
    else:
        cmd += ["--rd", os.path.join(ev, "rd-matched.txt"), "--observers", "mse",
                "--augments", "full"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return rows, " ".join(c.replace(ROOT + "/", "") for c in cmd)


def plot(points, path):
    """Gain over bicubic (dB) against MACs per LR pixel, log x; PIL only."""
    W, H, L, B = 720, 420, 70, 50
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    xs = [math.log10(p[1]) for p in points]
    ys = [p[2] for p in points] + [0.0]
    x0, x1 = min(xs) - 0.2, max(xs) + 0.2
    y0, y1 = min(ys) - 0.2, max(ys) + 0.3
    def px(x, y):
        return (L + (x - x0) / (x1 - x0) * (W - L - 20), H - B - (y - y0) / (y1 - y0) * (H - B - 20))
    d.line([px(x0, y0), px(x1, y0)], fill="black")
    d.line([px(x0, y0), px(x0, y1)], fill="black")
    for e in range(math.ceil(x0), math.floor(x1) + 1):
        d.text(px(e, y0), "1e%d" % e, fill="black")
    for t in range(math.ceil(y0), math.floor(y1) + 1):
        d.text((5, px(x0, t)[1] - 6), "%+d dB" % t, fill="black")
    d.line([px(x0, 0), px(x1, 0)], fill=(180, 180, 180))
    colours = {"fp32": (30, 90, 200), "int8": (220, 80, 30)}
    for name, macs, gain, kind in points:
        x, y = px(math.log10(macs), gain)
        d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colours[kind])
        if kind == "fp32":
            d.text((x + 6, y - 12), name, fill="black")
    d.text((L, 5), "Y-PSNR gain over bicubic vs MACs per LR pixel (blue FP32, orange INT8)",
           fill="black")
    img.save(path)


def crops(save_dir, image, names, path, box=96, zoom=2):
    tiles = []
    for n in names:
        im = Image.open(os.path.join(save_dir, n)).convert("RGB")
        cx, cy = im.width // 2, im.height // 2
        tiles.append(im.crop((cx - box // 2, cy - box // 2, cx + box // 2, cy + box // 2))
                     .resize((box * zoom, box * zoom), Image.NEAREST))
    out = Image.new("RGB", (len(tiles) * (box * zoom + 4), box * zoom + 16), "white")
    d = ImageDraw.Draw(out)
    for i, (t, label) in enumerate(zip(tiles, ["bicubic", "FP32", "INT8", "ground truth"])):
        out.paste(t, (i * (box * zoom + 4), 16))
        d.text((i * (box * zoom + 4) + 2, 2), label, fill="black")
    out.save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    models = sorted(f for f in os.listdir(os.path.join(ROOT, "models"))
                    if f.endswith(".onnx") and not f.startswith("default-"))
    res_dir = os.path.join(ROOT, "docs", "results")
    os.makedirs(res_dir, exist_ok=True)
    table, points, commands, crop_done = [], [], [], set()
    for f in models:
        path = os.path.join(ROOT, "models", f)
        name = f[:-5]
        save = os.path.join(HERE, ".cache", "eval-out", name)
        os.makedirs(save, exist_ok=True)
        print("…", name, file=sys.stderr, flush=True)
        rows, cmd = eval_model(args.build, path, int(name.split("-x")[1][0]), save)
        commands.append(cmd)
        info = rows[0]
        by = defaultdict(list)
        for r in rows[1:]:
            by[r["method"]].append(r)
        mean = {m: {k: sum(r[k] for r in rs) / len(rs) for k in ("y_psnr", "rgb_psnr", "ssim")}
                for m, rs in by.items()}
        q = sum(r["psnr_vs_fp32"] for r in by["int8"]) / max(1, len(by["int8"]))
        b = mean["bicubic"]
        table.append((name, info["scale"], info["macs_per_pixel"], b, mean["fp32"],
                      mean.get("int8"), q, "shipped" if "--calibration" in cmd else "RD"))
        for kind in ("fp32", "int8"):
            if kind in mean:
                points.append((name, info["macs_per_pixel"], mean[kind]["y_psnr"] - b["y_psnr"], kind))
        s = info["scale"]
        if s not in crop_done and by["int8"]:
            img = by["int8"][0]["image"]
            tag = "file-file" if "--calibration" in cmd else "mse-full"
            crops(save, img, ["%s-bicubic.ppm" % img, "%s-fp32.ppm" % img,
                              "%s-int8-%s.ppm" % (img, tag),
                              os.path.join(HERE, ".cache", "eval", "x%d" % s, img.replace("-hr.ppm", "-hr.ppm"))],
                  os.path.join(res_dir, "crops-x%d.png" % s))
            crop_done.add(s)
    plot(points, os.path.join(res_dir, "gain-vs-macs.png"))

    out = ["# Quality of the shipped models (through the engine)\n",
           "Textured validation crops (tools/eval_data.py: two 360×360 HR windows with the most "
           "detail from each validation photo; LR by PIL bicubic with antialias). Y-PSNR on "
           "BT.601 Y (16–235) with a border shave equal to the scale; SSIM on Y; outputs "
           "compared as the bytes the element writes. INT8 uses the shipped calibration when "
           "there is one (\"shipped\"), else one made on training-photo crops (\"RD\").\n",
           "| model | scale | MACs/px | bicubic Y-PSNR | FP32 Y-PSNR (gain) | FP32 SSIM | INT8 Y-PSNR (gain) | "
           "INT8 SSIM | PSNR(INT8, FP32) | calibration |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s, macs, b, f, i, q, cal in table:
        out.append("| %s | ×%d | %d | %.2f | %.2f (%+.2f) | %.4f | %s | %s | %s | %s |" % (
            name, s, macs, b["y_psnr"], f["y_psnr"], f["y_psnr"] - b["y_psnr"], f["ssim"],
            "%.2f (%+.2f)" % (i["y_psnr"], i["y_psnr"] - b["y_psnr"]) if i else "–",
            "%.4f" % i["ssim"] if i else "–", "%.1f dB" % q if i else "–", cal))
    out.append("\n![gain vs MACs](results/gain-vs-macs.png)\n")
    for s in sorted(crop_done):
        out.append("![crops x%d](results/crops-x%d.png)\n" % (s, s))
    out.append("Produced by `/usr/bin/python3 tools/evaluate.py %s`, which ran:\n\n```\n%s\n```\n" % (
        " ".join(sys.argv[1:]), "\n".join(commands)))
    with open(os.path.join(ROOT, "docs", "results.md"), "w") as fh:
        fh.write("\n".join(out))
    print("docs/results.md")


if __name__ == "__main__":
    main()
