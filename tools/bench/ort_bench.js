// ONNX Runtime (CPU) peer of tools/bench/bench_peers.py: a session kept warm and
// driven over stdin, so that the caller can interleave it with other peers.
//
//   node ort_bench.js MODEL.onnx FRAME.f32 W H THREADS
//
// FRAME.f32: the input tensor, float32 NCHW 1×3×H×W (little endian).
// Prints "ready" once the session is created, then for each stdin line
// "run N" runs N frames and prints one JSON line
// {"wall_ms": [...], "cpu_ms": [...]} (cpu: process user+system time).
// "quit" ends it.  onnxruntime-node is taken from tools/bench/node_modules,
// else from tools/pipeline/ort_check/node_modules.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

function loadOrt () {
  for (const dir of [__dirname, path.join(__dirname, '..', 'pipeline', 'ort_check')]) {
    try {
      return require(path.join(dir, 'node_modules', 'onnxruntime-node'));
    } catch (e) { /* next */ }
  }
  return require('onnxruntime-node');
}

async function main () {
  const [model, framePath, w, h, threads] = process.argv.slice(2);
  if (!threads) {
    console.error('usage: node ort_bench.js MODEL.onnx FRAME.f32 W H THREADS');
    process.exit(2);
  }
  const ort = loadOrt();
  const W = parseInt(w, 10), H = parseInt(h, 10);
  const buf = fs.readFileSync(framePath);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  if (x.length !== 3 * W * H) throw new Error('frame is not 3×H×W float32');
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all',
    intraOpNumThreads: parseInt(threads, 10), interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', x, [1, 3, H, W]);
  console.log(JSON.stringify({ ready: true, version: ort.env.versions ? ort.env.versions.common : null }));
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, n] = line.trim().split(/\s+/);
    if (cmd === 'quit') break;
    if (cmd !== 'run') continue;
    const wall = [], cpu = [];
    for (let i = 0; i < parseInt(n, 10); i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const out = await session.run(feeds);
      const t1 = process.hrtime.bigint();
      const c1 = process.cpuUsage(c0);
      if (!out[session.outputNames[0]]) throw new Error('no output');
      wall.push(Number(t1 - t0) / 1e6);
      cpu.push((c1.user + c1.system) / 1e3);
    }
    console.log(JSON.stringify({ wall_ms: wall, cpu_ms: cpu }));
  }
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
