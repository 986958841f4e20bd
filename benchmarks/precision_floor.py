"""How far from the float32 model any float16 engine must land: the error of rounding only the weights
(or only the input) to float16, everything else computed in float64.

    python benchmarks/precision_floor.py --models resnet50 mobilenet_v2

The models are the benchmark's (benchmarks/bench.py: random weights, batch-norm statistics calibrated on
random data). An engine that stores its weights in float16 cannot be expected below the "weights" column,
whatever it computes in; benchmarks.md compares the fp16 rows' rel_l2_vs_fp32 with it. Runs on the CPU.
"""

import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench import MODELS, make_model, rel_l2  # noqa: E402


def floors(name, batch=1):
    torch.manual_seed(0)
    model, x = make_model(name, batch, torch.device("cpu"), torch.float32)
    m64 = copy.deepcopy(model).double()
    x64 = x if x.dtype == torch.long else x.double()
    with torch.no_grad():
        ref = m64(x64)
        out = {"model": name}
        if x.dtype != torch.long:
            out["input_fp16"] = rel_l2(m64(x.half().double()), ref)
        mw = copy.deepcopy(m64)
        for t in list(mw.parameters()) + [b for b in mw.buffers() if b.is_floating_point()]:
            t.copy_(t.half().double())
        out["weights_fp16"] = rel_l2(mw(x64), ref)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args()
    torch.set_grad_enabled(False)
    print("| model | weights rounded to fp16 | input rounded to fp16 |")
    print("| --- | --- | --- |")
    for name in args.models.split(","):
        r = floors(name)
        inp = f"{r['input_fp16']:.1e}" if "input_fp16" in r else "n/a (token ids)"
        print(f"| {name} | {r['weights_fp16']:.1e} | {inp} |", flush=True)


if __name__ == "__main__":
    main()
