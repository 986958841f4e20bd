"""Per-layer profile of a converted model: the slowest layers with their kernels and precision.

    python benchmarks/profile_layers.py --model efficientnet_b0 --batch 1 --fp16 --top 15
    python benchmarks/profile_layers.py --model bert_base --batch 1 --fp16 --kernels
    python benchmarks/profile_layers.py --model efficientnet_b0 --batch 1 --fp16 --kernels --each se_gate

--kernels lists the GPU kernels of one forward as the CUDA profiler (CUPTI, through torch.profiler) records
them, with no per-layer synchronisation: their durations add up to the device time of a run, and the gap
between that sum and the wall time of a run is launch overhead.
"""

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench import make_model  # noqa: E402

from torch2trt import torch2trt  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet50")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--fp16", action="store_true")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--kernels", action="store_true", help="list GPU kernels (CUPTI) instead of timing layers")
    p.add_argument("--each", metavar="SUBSTRING",
                   help="with --kernels: also list every launch of one forward whose kernel name contains SUBSTRING, "
                        "in launch order (the instances a per-name sum hides)")
    args = p.parse_args()
    device = torch.device(args.device)
    model, x = make_model(args.model, args.batch, device, torch.float32)
    trt_model = torch2trt(model, [x], fp16_mode=args.fp16)
    if args.kernels:
        return kernel_profile(trt_model, x, args)
    ctx = trt_model.context
    ctx.profiling = True
    for _ in range(5):
        trt_model(x)
    rows = [r for r in ctx.layer_profile() if r.get("time_ms") is not None]
    total = sum(r["time_ms"] for r in rows)
    by_kind = {}
    for r in rows:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0.0) + r["time_ms"]
    print(f"{args.model} batch {args.batch} {'fp16' if args.fp16 else 'fp32'}: {len(rows)} layers, "
          f"{total:.3f} ms summed over layers (profiled, no graph replay)")
    print("by kind: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])))
    for r in sorted(rows, key=lambda r: -r["time_ms"])[: args.top]:
        print(f"  {r['time_ms']:.4f} ms  {r['kind']:<16} {r['kernel']:<22} {r['precision']:<9} {r['name']}")


def kernel_profile(trt_model, x, args, runs=20):
    """Kernels of one forward, summed by name, from the CUDA profiler."""
    from torch.profiler import profile, ProfilerActivity

    trt_model.context.set_graphs_enabled(False)  # every launch visible as itself
    for _ in range(3):
        trt_model(x)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(runs):
            trt_model(x)
        torch.cuda.synchronize()
    kernels = {}
    launches = 0
    each = []
    for e in prof.events():
        if e.device_type != torch.autograd.DeviceType.CUDA:
            continue
        name = e.name
        t = e.device_time if hasattr(e, "device_time") else e.cuda_time
        if args.each and args.each in name:
            each.append((e.time_range.start, t, name))
        k = kernels.setdefault(name, [0, 0.0])
        k[0] += 1
        k[1] += t
        launches += 1
    total_us = sum(v[1] for v in kernels.values()) / runs
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    trt_model.context.set_graphs_enabled(True)
    for _ in range(5):
        trt_model(x)
    start.record()
    for _ in range(50):
        trt_model(x)
    end.record()
    torch.cuda.synchronize()
    wall = start.elapsed_time(end) / 50
    # As benchmarks/bench.py times a call: events around one forward, waited for each time, so the host's
    # work in forward (binding, launching the graph) counts where the GPU waits for it.
    single, host = [], []
    for _ in range(50):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        t0 = time.perf_counter()
        trt_model(x)
        host.append((time.perf_counter() - t0) * 1e3)
        b.record()
        b.synchronize()
        single.append(a.elapsed_time(b))
    print(f"{args.model} batch {args.batch} {'fp16' if args.fp16 else 'fp32'}: {launches / runs:.0f} launches per run, "
          f"kernel time {total_us / 1000:.3f} ms, graph-replay wall {wall:.3f} ms back to back, "
          f"{statistics.median(single):.3f} ms per waited call (host {statistics.median(host):.3f} ms in forward)")
    for name, (n, t) in sorted(kernels.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"  {t / runs:8.1f} us  x{n / runs:5.1f}  {t / n:7.2f} us each  {name[:110]}")
    if args.each:
        each.sort()
        per_run = len(each) // runs if runs else 0
        print(f"launches of kernels named *{args.each}* in one forward (the last of {runs}), in order:")
        for i, (_, t, name) in enumerate(each[len(each) - per_run:]):
            print(f"  #{i:<3d} {t:8.2f} us  {name[:100]}")


if __name__ == "__main__":
    main()
