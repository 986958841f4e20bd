"""Per-layer profile of a converted model: the slowest layers with their kernels and precision.

    python benchmarks/profile_layers.py --model efficientnet_b0 --batch 1 --fp16 --top 15
"""

import argparse
import sys
import os

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
    args = p.parse_args()
    device = torch.device(args.device)
    model, x = make_model(args.model, args.batch, device, torch.float32)
    trt_model = torch2trt(model, [x], fp16_mode=args.fp16)
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


if __name__ == "__main__":
    main()
