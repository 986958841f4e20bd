"""Benchmark torch2trt against PyTorch eager and torch.compile, in one process on one device.

    python benchmarks/bench.py --models resnet18,resnet50 --batches 1,32 --precisions fp16 \
        --compile-modes reduce-overhead --json benchmarks/results/h100_resnet.json
    python benchmarks/bench.py --report benchmarks/results/h100_*.json benchmarks/results/h200_fp32.json benchmarks/results/h200_autotune.json
                                        # docs/benchmarks.md (+ PNG): one table per GPU, the first file's GPU first

Every model uses random weights. Every method is built (and compiled) first; then all are timed in five
interleaved rounds that alternate their order (so drifting clocks or a compiler's background threads weigh
on all alike); times are medians of CUDA-event-timed calls after warm-up (host clock on the CPU). Each torch2trt output is compared with the fp32 eager output (relative L2).
Each row also records `torch2trt_engine_only_ms`, the engine call alone with its addresses bound once (no
Python forward), so the host time of a call can be told from the engine's; `--torch2trt-first` builds
torch2trt before torch.compile runs in the process.
"""

import argparse
import copy
import json
import os
import statistics
import sys
import time

import torch

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vit_b_16", "bert_base"]


def make_model(name, batch, device, dtype):
    if name == "bert_base":
        from transformers import BertConfig, BertModel

        cfg = BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                         attn_implementation="sdpa")
        model = BertModel(cfg, add_pooling_layer=False).eval()
        ids = torch.randint(0, cfg.vocab_size, (batch, 128))

        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids):
                return self.m(input_ids=input_ids).last_hidden_state

        model = Wrap(model).to(device=device, dtype=dtype)
        return model, ids.to(device)
    import torchvision

    model = getattr(torchvision.models, name)(weights=None).to(device=device, dtype=dtype)
    x = torch.randn(batch, 3, 224, 224, device=device, dtype=dtype)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    from demo import calibrate_batch_norm

    calibrate_batch_norm(model, x)
    if hasattr(model, "heads"):  # torchvision initialises the ViT head to zero: every output would be 0
        with torch.no_grad():
            torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    return model, x


def _samples(fn, x, device, runs):
    """ms of each of `runs` calls: CUDA events around each call (waited), or the host clock on the CPU."""
    times = []
    for _ in range(runs):
        if device.type == "cuda":
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn(x)
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b))
        else:
            t0 = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def time_interleaved(fns, x, device, warmup=10, runs=50, rounds=5, round_warmup=3):
    """Median ms per call of each of `fns` (name -> callable), timed in `rounds` rounds that alternate the
    order (forward, then backward), so that whatever drifts during a run -- clocks, a compiler's background
    threads, the allocator -- weighs on every method alike instead of on the one timed last."""
    samples = {k: [] for k in fns}
    with torch.no_grad():
        for fn in fns.values():
            for _ in range(warmup):
                fn(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        per = max(1, runs // rounds)
        for r in range(rounds):
            for k in (list(fns) if r % 2 == 0 else list(reversed(list(fns)))):
                # A few untimed calls first: the other methods' allocations may have moved this one's output
                # buffer, and a CUDA graph then re-records for the new address (torch2trt after two calls).
                _samples(fns[k], x, device, round_warmup)
                samples[k] += _samples(fns[k], x, device, per)
    return {k: statistics.median(v) for k, v in samples.items()}


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def engine_only(trt_model, x, device):
    """The engine call alone (addresses bound once, no Python forward): with torch2trt_ms it separates the
    host time of a call from the engine's."""
    ctx = trt_model.context
    outs = [torch.empty(shape, dtype=dt, device=device) for _, shape, dt in trt_model._outputs]
    for (name, _, _), t in zip(trt_model._inputs + trt_model._outputs, [x] + outs):
        ctx.set_tensor_address(name, t.data_ptr())
    stream = torch.cuda.current_stream(device).cuda_stream if device.type == "cuda" else 0
    return lambda _: ctx.execute_async_v3(stream)


def build_torch2trt(row, model32, x32, ref, precision):
    """The TRTModule (None on failure, recorded in the row) and its accuracy against the fp32 eager output."""
    from torch2trt import torch2trt

    t0 = time.perf_counter()
    try:
        trt_model = torch2trt(model32, [x32], fp16_mode=precision == "fp16")
        row["torch2trt_build_s"] = round(time.perf_counter() - t0, 1)
        with torch.no_grad():
            row["rel_l2_vs_fp32"] = rel_l2(trt_model(x32).float(), ref)
        return trt_model
    except Exception as e:
        row["torch2trt_ms"] = None
        row["torch2trt_error"] = f"{type(e).__name__}: {str(e)[:300]}"
        return None


def bench_one(name, batch, precision, compile_modes, device, runs, torch2trt_first=False):
    """One row: every method is built (and compiled) first, then all are timed in interleaved rounds."""
    dtype = torch.float16 if precision == "fp16" else torch.float32
    torch.manual_seed(0)
    model32, x32 = make_model(name, batch, device, torch.float32)
    with torch.no_grad():
        ref = model32(x32).float()
    model = copy.deepcopy(model32).to(dtype)  # Module.to is in place: keep the fp32 model for torch2trt
    x = x32 if x32.dtype == torch.long else x32.to(dtype)
    row = {"model": name, "batch": batch, "precision": precision, "device": str(device), "timing": "interleaved"}
    trt_model = None
    if torch2trt_first:  # built before torch.compile runs in the process (an order experiment)
        row["torch2trt_first"] = True
        trt_model = build_torch2trt(row, model32, x32, ref, precision)
    fns = {"eager": model}
    if precision != "fp32":
        with torch.no_grad():  # the reduced-precision error PyTorch itself makes, for comparison
            row["eager_rel_l2_vs_fp32"] = rel_l2(model(x).float(), ref)
    for mode in compile_modes:
        torch._dynamo.reset()
        t0 = time.perf_counter()
        try:
            compiled = torch.compile(model, mode=mode)
            with torch.no_grad():
                for _ in range(3):  # compiles (and, for reduce-overhead, records its CUDA graph)
                    compiled(x)
            fns[f"compile_{mode}"] = compiled
        except Exception as e:  # a compile failure is a result too
            row[f"compile_{mode}_ms"] = None
            row[f"compile_{mode}_error"] = f"{type(e).__name__}: {str(e)[:200]}"
        row[f"compile_{mode}_build_s"] = round(time.perf_counter() - t0, 1)
    if not torch2trt_first:
        trt_model = build_torch2trt(row, model32, x32, ref, precision)
    if trt_model is not None:
        fns["torch2trt"] = trt_model
        if len(trt_model._inputs) == 1:
            fns["torch2trt_engine_only"] = engine_only(trt_model, x32, device)
    # torch2trt takes the fp32 input (its engine casts); the others the input in their precision.
    timed = {k: (lambda _, f=f, inp=(x32 if k.startswith("torch2trt") else x): f(inp)) for k, f in fns.items()}
    for k, v in time_interleaved(timed, x, device, runs=runs).items():
        row[f"{k}_ms"] = v
    del timed, fns, trt_model
    torch._dynamo.reset()  # the compiled models' graphs and memory pools go with the row
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return row


def _merge(files):
    """Rows of several result files as one list: files measured for the same (model, batch, precision) merge
    into one row, a later file only adding what the earlier ones lack (another compile mode, say), never
    replacing a measurement."""
    rows = []
    for data in files:
        for r in data["rows"]:
            r = dict(r, _measured=data.get("measured", "not recorded"))
            same = [q for q in rows if (q["model"], q["batch"], q["precision"]) == (r["model"], r["batch"], r["precision"])]
            if same:
                for k, v in r.items():
                    same[0].setdefault(k, v)
            else:
                rows.append(dict(r))
    return rows


def _table(rows):
    modes = sorted({k[len("compile_"):-3] for r in rows for k in r if k.startswith("compile_") and k.endswith("_ms")})
    # Rows of runs on different days or commits say which run they come from.
    mixed = len({r["_measured"] for r in rows}) > 1
    lines = ["| model | batch | precision | eager ms | " + " | ".join(f"compile {m} ms" for m in modes)
             + " | torch2trt ms | speed-up vs best | rel L2 | eager rel L2 |" + (" measured |" if mixed else ""),
             "|---|---|---|---|" + "---|" * len(modes) + "---|---|---|---|" + ("---|" if mixed else "")]
    for r in rows:
        comp = [r.get(f"compile_{m}_ms", "not run") for m in modes]
        best = min([v for v in [r["eager_ms"]] + comp if isinstance(v, float)])
        t = r.get("torch2trt_ms")
        cells = [r["model"], str(r["batch"]), r["precision"], f"{r['eager_ms']:.3f}"]
        cells += [f"{v:.3f}" if isinstance(v, float) else ("failed" if v is None else "-") for v in comp]
        cells += [f"{t:.3f}" if t else "failed: " + r.get("torch2trt_error", "")[:80].replace("|", "/"),
                  f"x{best / t:.2f}" if t else "-", f"{r['rel_l2_vs_fp32']:.2e}" if t else "-",
                  f"{r['eager_rel_l2_vs_fp32']:.2e}" if "eager_rel_l2_vs_fp32" in r else "-"]
        if mixed:
            cells.append(r["_measured"])
        lines.append("| " + " | ".join(cells) + " |")
    return lines, modes


def report(paths, out_md):
    """docs/benchmarks.md from result files: one table per GPU (rows of different cards never share a
    table), the GPU of the first file first; the plot shows that first table."""
    groups = {}  # gpu -> files, in the order given
    for p in paths:
        with open(p) as f:
            data = json.load(f)
        data["path"] = p
        groups.setdefault(data["gpu"], []).append(data)
    lines = ["# Benchmarks", "",
             "Produced by `benchmarks/bench.py`; random weights; median ms per batch (CUDA events around each call, "
             "after warm-up); eager, torch.compile and torch2trt measured in the same process on the same GPU "
             "(rows recorded with `timing: interleaved` were timed in rounds alternating the methods' order; "
             "earlier rows timed eager, then torch.compile, then torch2trt). "
             "`speed-up` = best of eager/compile over torch2trt. `rel L2` compares torch2trt with the fp32 eager "
             "output (TF32 off); `eager rel L2` is PyTorch's own error at that precision."]
    first_rows = first_modes = None
    for i, (gpu, files) in enumerate(groups.items()):
        rows = _merge(files)
        table, modes = _table(rows)
        when = "; ".join(f"`{os.path.basename(d['path'])}`: {d.get('measured', 'date and commit not recorded')}"
                         for d in files)
        lines += ["", f"## {gpu}" + ("" if i == 0 else " (an earlier run: older code, see the dates)"), "",
                  f"Measured: {when}.", ""] + table
        if i == 0:
            first_rows, first_modes = rows, modes
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    try:
        plot(first_rows, first_modes, os.path.splitext(out_md)[0] + ".png")
    except ImportError:
        print("matplotlib not installed: no plot written")


def _measured():
    """Date and code version of a run, as the result file records them."""
    import datetime
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("T2T_COMMIT"):  # named by the caller: a copy of the tree may carry a stale .git
        return f"{datetime.date.today().isoformat()}, commit {os.environ['T2T_COMMIT']}"
    try:
        commit = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit = (commit + ("+uncommitted changes" if dirty else "")) if commit else ""
    except (OSError, subprocess.SubprocessError):
        commit = ""
    commit = commit or "unknown commit"
    return f"{datetime.date.today().isoformat()}, commit {commit}"


def plot(rows, modes, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['model']}\nbs{r['batch']} {r['precision']}" for r in rows]
    series = [("eager", [r["eager_ms"] for r in rows])]
    series += [(f"compile {m}", [r.get(f"compile_{m}_ms") or 0 for r in rows]) for m in modes]
    series += [("torch2trt", [r.get("torch2trt_ms") or 0 for r in rows])]
    fig, ax = plt.subplots(figsize=(max(8, len(rows) * 0.9), 4.5))
    w = 0.8 / len(series)
    for i, (name, vals) in enumerate(series):
        ax.bar([k + i * w for k in range(len(rows))], vals, w, label=name)
    ax.set_xticks([k + 0.4 - w / 2 for k in range(len(rows))], labels, fontsize=7)
    ax.set_ylabel("ms per batch (lower is better)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--batches", default="1,32")
    p.add_argument("--precisions", default="fp16,fp32")
    p.add_argument("--compile-modes", default="reduce-overhead", help="comma list; empty for none")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--json", help="write results here")
    p.add_argument("--torch2trt-first", action="store_true",
                   help="build torch2trt before torch.compile runs in each row (default: after it); timing is "
                        "interleaved either way")
    p.add_argument("--report", nargs="*", help="JSON files to merge into docs/benchmarks.md")
    p.add_argument("--md", default="docs/benchmarks.md")
    args = p.parse_args()
    if args.report:
        report(args.report, args.md)
        return
    device = torch.device(args.device)
    torch.backends.cudnn.allow_tf32 = False  # true float32 everywhere, PyTorch included
    torch.backends.cuda.matmul.allow_tf32 = False
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    modes = [m for m in args.compile_modes.split(",") if m]
    rows = []
    measured = _measured()
    for name in args.models.split(","):
        for batch in [int(b) for b in args.batches.split(",")]:
            for prec in args.precisions.split(","):
                row = bench_one(name, batch, prec, modes, device, args.runs, args.torch2trt_first)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump({"gpu": gpu, "torch": torch.__version__, "measured": measured, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
