#!/usr/bin/env bash
# Per-channel activation steps measured through the engine (cfqp-eval: real
# INT8 bytes, cpu kernels) on the whole validation photos, plain and
# saturated (tools/pipeline/eval_data.py val-photos.txt, val-photos-sat.txt),
# calibrated by cfqpcalib's defaults (MSE, full CFQP, GPTQ, residuals on the
# pixel step) on the matched RD (rd-matched.txt):
#
#   none    the model as shipped, one grid per tensor (--activation-grids tensor)
#   eq1     its copy with steps (range ratio)^1 folded in by
#           tools/research/equalize.py, one grid per tensor of the copy
#   eq0.5   the same with the square root of the ratio
#   engine  the model as shipped with cfqp-eval's --activation-grids channel
#           (the engine's steps, the square root, kept only where INT8 errs
#           less on the RD's frames)
#
#   bash tools/research/equalize_ablation.sh BUILD_DIR MODEL...
#   VARIANTS="none eq0.5" bash tools/research/equalize_ablation.sh …
#
# Outputs in tools/.cache/equalize/ (a finished step is not redone).  Per
# model × variant × set: INT8 − FP32 Y-PSNR (mean over photos), the gain
# over none paired per photo with its 95 % bootstrap interval and the
# photos it wins / loses, and PSNR(INT8, FP32 of the model as shipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$1
shift
out=tools/.cache/equalize
variants=${VARIANTS:-none eq1 eq0.5 engine}
mkdir -p "$out"
for m in "$@"; do
  s=${m##*-x}; s=${s%%[!0-9]*}
  ev=tools/.cache/eval/x$s
  [ -f "$ev/val-photos-sat.txt" ] || /usr/bin/python3 tools/pipeline/eval_data.py --scale "$s" > /dev/null
  [ -f "$out/$m-qdq.onnx" ] || "$build/tools/c/cfqp-qdq" export --model "models/$m.onnx" \
      --calib "models/$m.calib.json" --out "$out/$m-qdq.onnx" > /dev/null
  for v in $variants; do
    model=models/$m.onnx grids=tensor
    case $v in
      eq*) model=$out/$m-$v.onnx
           [ -f "$model" ] || /usr/bin/python3 tools/research/equalize.py --model "models/$m.onnx" \
               --qdq "$out/$m-qdq.onnx" --rd "$ev/rd-matched.txt" --alpha "${v#eq}" --out "$model" \
               > /dev/null ;;
      engine) grids=channel ;;
    esac
    for set in val-photos val-photos-sat; do
      f=$out/$m-$v-$set.jsonl
      [ -s "$f" ] && continue
      "$build/tools/c/cfqp-eval" --threads 1 --model "$model" --clip-free \
          --rd "$ev/rd-matched.txt" --observers mse --augments full --activation-grids "$grids" \
          --val "$ev/$set.txt" --save-dir "$out/$m-$v-$set" > "$f.tmp"
      mv "$f.tmp" "$f"
    done
  done
done
/usr/bin/python3 - "$out" "$variants" "$@" <<'EOF'
import json, sys
import numpy as np
from PIL import Image
out, variants, models = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def rows(m, v, s, meth):
    rs = (json.loads(l) for l in open("%s/%s-%s-%s.jsonl" % (out, m, v, s))
          if l.startswith("{") and '"method"' in l)
    return {r["image"]: r["y_psnr"] for r in rs if r["method"] == meth}
rng = np.random.default_rng(0)
print("| model | variant | set | INT8 − FP32 | gain over none [95 %] | photos +/− | PSNR(INT8, FP32) |")
print("|---|---|---|---|---|---|---|")
for m in models:
    for s in ("val-photos", "val-photos-sat"):
        f32, base = rows(m, "none", s, "fp32"), rows(m, "none", s, "int8")
        ims = sorted(base)
        for v in variants:
            q8 = rows(m, v, s, "int8")
            d = np.array([q8[i] - f32[i] for i in ims])
            g = np.array([q8[i] - base[i] for i in ims])
            bs = [g[rng.integers(0, len(g), len(g))].mean() for _ in range(2000)]
            q = []
            for i in ims:
                a = np.asarray(Image.open("%s/%s-none-%s/%s-fp32.ppm" % (out, m, s, i)), np.float64)
                b = np.asarray(Image.open("%s/%s-%s-%s/%s-int8-mse-full.ppm" % (out, m, v, s, i)),
                               np.float64)
                q.append(10 * np.log10(255 ** 2 / max(((a - b) ** 2).mean(), 1e-12)))
            print("| %s | %s | %s | %+.3f | %+.3f [%+.3f, %+.3f] | %d / %d | %.2f dB |" % (
                m, v, "plain" if s == "val-photos" else "saturated", d.mean(), g.mean(),
                np.percentile(bs, 2.5), np.percentile(bs, 97.5), (g > 0).sum(), (g < 0).sum(),
                np.mean(q)), flush=True)
EOF
