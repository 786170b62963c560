// Runs a QDQ ONNX model through ONNX Runtime (CPU) on raw planar 8-bit images
// and compares the output bytes with the INT8 engine's (cfqp-qdq run).
//
//   node check.js MODEL.onnx C IN.u8:W:H:CFQP_OUT.u8 [...]
//
// For each image and each ORT graph optimisation level ("all": QDQ node
// units fused into QLinearConv & co, integer kernels; "disabled": the
// float reference semantics of Q/DQ), prints one JSON line with the max
// per-pixel difference and the share of output bytes that differ, then a
// summary line over all images.  Exits 1 when any difference exceeds 1 LSB
// at level "all" or "disabled".
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main () {
  const [model, cArg, ...items] = process.argv.slice(2);
  if (!model || !cArg || items.length === 0) {
    console.error('usage: node check.js MODEL.onnx C IN.u8:W:H:CFQP_OUT.u8 [...]');
    process.exit(2);
  }
  const C = parseInt(cArg, 10);
  let worstOverall = 0;
  const totals = {};
  for (const level of ['all', 'disabled']) {
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: level, executionProviders: ['cpu'], intraOpNumThreads: 1,
    });
    totals[level] = { max: 0, differ: 0, bytes: 0, hist: {} };
    for (const item of items) {
      const [inPath, w, h, cfqpPath] = item.split(':');
      const W = parseInt(w, 10), H = parseInt(h, 10);
      const input = fs.readFileSync(inPath);
      const ours = fs.readFileSync(cfqpPath);
      const x = new Float32Array(C * W * H);
      for (let k = 0; k < x.length; k++) x[k] = input[k] / 255;
      const feeds = {};
      feeds[session.inputNames[0]] = new ort.Tensor('float32', x, [1, C, H, W]);
      const out = (await session.run(feeds))[session.outputNames[0]];
      if (out.data.length !== ours.length) {
        console.error(`${item}: ORT gives ${out.data.length} values, cfqp ${ours.length} bytes`);
        process.exit(1);
      }
      let max = 0, differ = 0;
      const hist = {};
      for (let k = 0; k < ours.length; k++) {
        const v = Math.min(255, Math.max(0, Math.round(out.data[k] * 255)));
        const d = Math.abs(v - ours[k]);
        if (d > max) max = d;
        if (d) differ++;
        hist[d] = (hist[d] || 0) + 1;
      }
      const t = totals[level];
      t.max = Math.max(t.max, max);
      t.differ += differ;
      t.bytes += ours.length;
      for (const [d, n] of Object.entries(hist)) t.hist[d] = (t.hist[d] || 0) + n;
      console.log(JSON.stringify({ image: inPath.split('/').pop(), ort_opt: level, width: W,
        height: H, max_abs_diff: max, differ_pct: +(100 * differ / ours.length).toFixed(4) }));
    }
    worstOverall = Math.max(worstOverall, totals[level].max);
  }
  for (const [level, t] of Object.entries(totals))
    console.log(JSON.stringify({ summary: true, model: model.split('/').pop(), ort_opt: level,
      ort_version: require('onnxruntime-node/package.json').version, max_abs_diff: t.max,
      differ_pct: +(100 * t.differ / t.bytes).toFixed(4), bytes: t.bytes, diff_histogram: t.hist }));
  process.exit(worstOverall > 1 ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
