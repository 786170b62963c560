// Runs a (QDQ) ONNX model through ONNX Runtime (CPU) on one raw planar
// 8-bit image and writes every graph output as raw bytes (uint8 outputs as
// they are, float outputs as little-endian float32) to OUT_DIR/<index>.bin,
// with OUT_DIR/index.json naming them.  layers.py adds the per-tensor
// quantised values of a QDQ export as graph outputs and reads them back.
//
//   node dump.js MODEL.onnx C IN.u8 W H all|disabled OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main () {
  const [model, cArg, inPath, w, h, level, outDir] = process.argv.slice(2);
  if (!outDir) {
    console.error('usage: node dump.js MODEL.onnx C IN.u8 W H all|disabled OUT_DIR');
    process.exit(2);
  }
  const C = parseInt(cArg, 10), W = parseInt(w, 10), H = parseInt(h, 10);
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: level, executionProviders: ['cpu'], intraOpNumThreads: 1,
  });
  const input = fs.readFileSync(inPath);
  const x = new Float32Array(C * W * H);
  for (let k = 0; k < x.length; k++) x[k] = input[k] / 255;
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', x, [1, C, H, W]);
  const res = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  const index = [];
  session.outputNames.forEach((name, i) => {
    const t = res[name];
    fs.writeFileSync(path.join(outDir, `${i}.bin`), Buffer.from(t.data.buffer, t.data.byteOffset,
      t.data.byteLength));
    index.push({ name, file: `${i}.bin`, type: t.type, dims: t.dims });
  });
  fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify(index));
}

main().catch((e) => { console.error(e); process.exit(1); });
