#!/usr/bin/env bash
# Bias correction and data-aware weight rounding measured through the engine (cfqp-eval, real INT8 bytes, cpu
# kernels): for each model, INT8 − FP32 Y-PSNR and PSNR(INT8, FP32) on the
# whole validation photos, plain and saturated (tools/pipeline/eval_data.py
# val-photos.txt, val-photos-sat.txt), calibrated by cfqpcalib's defaults (MSE,
# full CFQP, clip-free) on the matched RD (rd-matched.txt), for the model as
# shipped and for its bias-corrected copies (tools/research/bias_correct.py, modes
# weights and all, computed from the same RD through the FP32 model and the
# engine's QDQ export with the shipped calibration), and for its copy with
# GPTQ-rounded int8 weights (tools/research/gptq_weights.py, same RD; gptq-sat: the
# RD plus its copies at exposure ×1.6, only with VARIANTS naming it).
#
#   bash tools/research/bias_correct_ablation.sh BUILD_DIR MODEL...   (e.g. xlsr-x2 bicubicpp-x2)
#   VARIANTS="none gptq" bash tools/research/bias_correct_ablation.sh …   (a subset)
#
# Outputs go to tools/.cache/bias-correct/ (a finished step is not redone);
# one table row per model × variant; Δ and PSNR(INT8, FP32) are against the
# FP32 output of the model as shipped, not of the corrected copy.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$1
shift
out=tools/.cache/bias-correct
variants=${VARIANTS:-none weights all gptq}
mkdir -p "$out"
for m in "$@"; do
  s=${m##*-x}; s=${s%%[!0-9]*}
  ev=tools/.cache/eval/x$s
  [ -f "$ev/val-photos-sat.txt" ] || /usr/bin/python3 tools/pipeline/eval_data.py --scale "$s" > /dev/null
  [ -f "$out/$m-qdq.onnx" ] || "$build/tools/c/cfqp-qdq" export --model "models/$m.onnx" \
      --calib "models/$m.calib.json" --out "$out/$m-qdq.onnx" > /dev/null
  cmp -s "models/$m.onnx" "$out/$m-none.onnx" || cp "models/$m.onnx" "$out/$m-none.onnx"
  for mode in weights all; do
    case " $variants " in *" $mode "*) ;; *) continue ;; esac
    [ -f "$out/$m-$mode.onnx" ] || /usr/bin/python3 tools/research/bias_correct.py --model "models/$m.onnx" --qdq "$out/$m-qdq.onnx" \
        --rd "$ev/rd-matched.txt" --mode $mode --out "$out/$m-$mode.onnx" > /dev/null
  done
  [[ " $variants " != *" gptq "* ]] || [ -f "$out/$m-gptq.onnx" ] || /usr/bin/python3 tools/research/gptq_weights.py --model "models/$m.onnx" \
      --qdq "$out/$m-qdq.onnx" --rd "$ev/rd-matched.txt" --out "$out/$m-gptq.onnx" > /dev/null
  [[ " $variants " != *" gptq-sat "* ]] || [ -f "$out/$m-gptq-sat.onnx" ] ||
      /usr/bin/python3 tools/research/gptq_weights.py --model "models/$m.onnx" --qdq "$out/$m-qdq.onnx" \
      --rd "$ev/rd-matched.txt" --add-gain 1.6 --out "$out/$m-gptq-sat.onnx" > /dev/null
  for variant in $variants; do
    for v in val-photos val-photos-sat; do
      f="$out/$m-$variant-$v.jsonl"
      [ -s "$f" ] && [ "$f" -nt "$out/$m-$variant.onnx" ] && continue
      "$build/tools/c/cfqp-eval" --threads 1 --model "$out/$m-$variant.onnx" --clip-free \
          --rd "$ev/rd-matched.txt" --observers mse --augments full --val "$ev/$v.txt" \
          --save-dir "$out/$m-$variant-$v" > "$f.tmp"
      mv "$f.tmp" "$f"
    done
  done
done
/usr/bin/python3 - "$out" "$variants" "$@" <<'EOF'
import json, sys
import numpy as np
from PIL import Image
out, variants, models = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def rows(m, variant, v):
    return [json.loads(l) for l in open("%s/%s-%s-%s.jsonl" % (out, m, variant, v))
            if l.startswith("{") and '"method"' in l]
def mean(rs, meth):
    ys = [r["y_psnr"] for r in rs if r["method"] == meth]
    return sum(ys) / len(ys)
def q(m, variant, v):
    # PSNR(INT8 bytes of the variant, FP32 bytes of the model as shipped), all
    # bytes of each image, averaged over images: the corrected copies' own
    # FP32 is not the reference
    out_q = []
    for r in rows(m, "none", v):
        if r["method"] != "fp32":
            continue
        a = np.asarray(Image.open("%s/%s-none-%s/%s-fp32.ppm" % (out, m, v, r["image"])), np.float64)
        b = np.asarray(Image.open("%s/%s-%s-%s/%s-int8-mse-full.ppm" % (out, m, variant, v, r["image"])), np.float64)
        out_q.append(10 * np.log10(255 ** 2 / max(((a - b) ** 2).mean(), 1e-12)))
    return sum(out_q) / len(out_q)
print("| model | technique | INT8 − FP32, plain | saturated | PSNR(INT8, FP32), plain / saturated |")
print("|---|---|---|---|---|")
for m in models:
    for variant in variants:
        d = [mean(rows(m, variant, v), "int8") - mean(rows(m, "none", v), "fp32")
             for v in ("val-photos", "val-photos-sat")]
        print("| %s | %s | %+.3f dB | %+.3f dB | %.2f / %.2f dB |" % (
            m, variant, d[0], d[1], q(m, variant, "val-photos"), q(m, variant, "val-photos-sat")), flush=True)
EOF
