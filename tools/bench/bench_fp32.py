#!/usr/bin/python3
"""FP32 speed: cfqp's engine against PyTorch on the same ABPN-sized x3 net.

The net is refnets.abpn_bench() (28 channels, six 3x3 convs, concat anchor,
pixel shuffle; seeded random weights), exported to ONNX for the engine.
PyTorch runs it NCHW and channels_last; the engine runs through its CLI
(`cfqp-bench-engine MODEL W H --threads N`, which prints `median_ms=<x>` as its
last line).  All three run in the same process lifetime, interleaved round by
round, so that load from other jobs on this shared machine hits them alike;
each round's figure is a median after warm-up, and the table shows the median
over rounds.

Run:  /usr/bin/python3 tools/bench/bench_fp32.py [--engine build/tools/c/cfqp-bench-engine]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import torch

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOOLS, "testdata"))
import refnets  # noqa: E402


def export_model(net, path, channels):
    # Re-exported every run (a second): a cached file could outlive a change
    # to refnets.abpn_bench and time a different net than PyTorch runs.
    os.makedirs(os.path.dirname(path), exist_ok=True)
    x = torch.rand(1, channels, 36, 64)
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {2: "h", 3: "w"}, "output": {2: "oh", 3: "ow"}})


def torch_median_ms(net, x, warmup, iters):
    with torch.inference_mode():
        for _ in range(warmup):
            net(x)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            net(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def engine_median_ms(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    last = r.stdout.strip().splitlines()[-1]
    if not last.startswith("median_ms="):
        raise SystemExit(f"unexpected engine output: {last!r}")
    return float(last.split("=", 1)[1])


def main():
    root = os.path.dirname(TOOLS)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", default=os.path.join(root, "build", "tools", "c", "cfqp-bench-engine"))
    ap.add_argument("--model", default=os.path.join(TOOLS, ".cache", "bench", "abpn28-x3.onnx"))
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-engine", action="store_true", help="PyTorch only (engine CLI not built yet)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = refnets.abpn_bench()
    export_model(net, args.model, 3)
    x = torch.rand(1, 3, args.height, args.width)
    net_cl = refnets.abpn_bench().to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    engine_cmd = [args.engine, args.model, str(args.width), str(args.height), "--threads", str(args.threads)]

    runs = {"PyTorch FP32 NCHW": [], "PyTorch FP32 channels_last": []}
    if not args.no_engine:
        runs["cfqp FP32 (engine CLI)"] = []
    for r in range(args.rounds):
        runs["PyTorch FP32 NCHW"].append(torch_median_ms(net, x, args.warmup, args.iters))
        runs["PyTorch FP32 channels_last"].append(torch_median_ms(net_cl, x_cl, args.warmup, args.iters))
        if not args.no_engine:
            runs["cfqp FP32 (engine CLI)"].append(engine_median_ms(engine_cmd))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} ms" for k, v in runs.items()),
              file=sys.stderr)

    med = {k: statistics.median(v) for k, v in runs.items()}
    best_peer = min(v for k, v in med.items() if k.startswith("PyTorch"))
    macs = sum(m.weight.numel() for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    print(f"ABPN-sized x{net.scale} (28 ch, {macs} MACs/LR px), {args.width}x{args.height} -> "
          f"{args.width * net.scale}x{args.height * net.scale}, {args.threads} threads, "
          f"median of {args.rounds} rounds (each a median of {args.iters} after {args.warmup} warm-up)")
    print()
    print("| runner | ms/frame | GMAC/s | time / best PyTorch |")
    print("|---|---:|---:|---:|")
    for k, v in med.items():
        gmacs = macs * args.width * args.height / (v * 1e-3) / 1e9
        print(f"| {k} | {v:.1f} | {gmacs:.1f} | {v / best_peer:.2f} |")
    if not args.no_engine:
        print()
        print("engine command: " + " ".join(engine_cmd))


if __name__ == "__main__":
    main()
