"""What the builder timed for each layer of a converted model, and what it chose.

    python benchmarks/tactic_report.py --model efficientnet_b0 --batch 1 --fp16
    python benchmarks/tactic_report.py --model bert_base --batch 1 --fp16 --kernel gemm_mma

Builds the model with T2T_LOG_TACTICS=1 (the builder then prints every timed layer's key, each tactic's
kernel and time, and its choice on stderr) and prints one line per timed layer: the chosen kernel and its
time, and the fastest tactic of every other kernel family (the kernel name without its epilogue parts and
tile shape). With
--kernel, only the layers that offered a kernel whose name contains that text.
"""

import argparse
import os
import re
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench import make_model  # noqa: E402

_HEAD = re.compile(r"^\[torch2trt tactics\] (\S+) '(.*)': (.*)$")
_TIMED = re.compile(r"^\[torch2trt tactics\]   (-?\d+) (\S+): (-?[\d.]+) ms$")
_CHOSE = re.compile(r"^\[torch2trt tactics\]   chose (-?\d+)$")


def parse(text):
    """Layers as dicts: kind, name, key, tactics [(id, kernel, ms)], chose (id or None)."""
    layers = []
    for line in text.splitlines():
        m = _HEAD.match(line)
        if m:
            layers.append({"kind": m.group(1), "name": m.group(2), "key": m.group(3), "tactics": [], "chose": None})
            continue
        m = _TIMED.match(line)
        if m and layers:
            layers[-1]["tactics"].append((int(m.group(1)), m.group(2), float(m.group(3))))
            continue
        m = _CHOSE.match(line)
        if m and layers:
            layers[-1]["chose"] = int(m.group(1))
    return layers


def family(kernel):
    """The kernel without its epilogue parts and tile shape: "gemm_mma_32x64_k64+bias" -> "gemm_mma"."""
    return re.sub(r"_\d+x\d+\w*", "", kernel.split("+")[0])


def report(layers, kernel_filter=None):
    lines = []
    for layer in layers:
        timed = [t for t in layer["tactics"] if t[2] >= 0]
        if not timed or (kernel_filter and not any(kernel_filter in t[1] for t in timed)):
            continue
        chosen = next((t for t in timed if t[0] == layer["chose"]), None)
        best = {}
        for t in timed:
            f = family(t[1])
            if f not in best or t[2] < best[f][2]:
                best[f] = t
        others = "  ".join(f"{t[1]} {t[2] * 1000:.1f}us" for f, t in sorted(best.items(), key=lambda kv: kv[1][2])
                           if not chosen or f != family(chosen[1]))
        head = f"{layer['kind']} {layer['name']}"
        picked = f"{chosen[1]} {chosen[2] * 1000:.1f}us" if chosen else "nothing (no tactic could run)"
        lines.append(f"{head[:60]:60s} chose {picked:48s} | {others}")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="efficientnet_b0")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--fp16", action="store_true")
    p.add_argument("--kernel", help="only layers that offered a kernel whose name contains this")
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("tactic_report.py: the builder times tactics on CUDA engines only, and no GPU is visible")
    os.environ["T2T_LOG_TACTICS"] = "1"  # read by the builder at its first timing
    from torch2trt import torch2trt

    model, x = make_model(args.model, args.batch, torch.device(args.device), torch.float32)
    # The builder writes to the process's stderr (file descriptor 2): catch it in a file.
    with tempfile.TemporaryFile(mode="w+") as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            torch2trt(model, [x], fp16_mode=args.fp16)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        text = log.read()
    layers = parse(text)
    print(f"{args.model} batch {args.batch} {'fp16' if args.fp16 else 'fp32'}: {len(layers)} layers timed")
    print("\n".join(report(layers, args.kernel)))


if __name__ == "__main__":
    main()
