"""torch2trt demo: convert a torchvision model (random weights), compare with PyTorch, time both,
save the engine and load it back.

    python examples/demo.py                      # resnet18, batch 1, on the GPU if there is one
    python examples/demo.py --model mobilenet_v2 --batch 4 --device cpu
"""

import argparse
import os
import statistics
import tempfile
import time

import torch
import torchvision

from torch2trt import TRTModule, torch2trt


def median_ms(fn, x, device, warmup=3, runs=20):
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def calibrate_batch_norm(model, x, steps=4):
    """Random weights make activations shrink or grow layer after layer (to float16 underflow in deep
    nets); running the batch-norm statistics over random data first gives the activations a trained
    model's scale. Leaves the model in eval mode."""
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(max(2, x.shape[0]), *x.shape[1:], device=x.device, dtype=x.dtype))
    model.eval()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet18", help="a torchvision.models classification model name")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--fp16", action="store_true", help="build with fp16_mode=True (GPU)")
    args = p.parse_args()

    torch.manual_seed(0)
    device = torch.device(args.device)
    model = getattr(torchvision.models, args.model)(weights=None).to(device)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    calibrate_batch_norm(model, x)
    # The reference is computed in true float32 (PyTorch uses TF32 for float32 convolutions by default).
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    t0 = time.perf_counter()
    model_trt = torch2trt(model, [x], fp16_mode=args.fp16)
    build_s = time.perf_counter() - t0

    with torch.no_grad():
        y = model(x)
        y_trt = model_trt(x)
    err = float((y_trt.float() - y).norm() / y.norm())
    print(f"model {args.model}, input {tuple(x.shape)}, device {device}: converted in {build_s:.1f} s")
    print(f"max abs difference {float((y_trt.float() - y).abs().max()):.3g}, relative L2 error {err:.3g}")

    with torch.no_grad():
        t_torch = median_ms(model, x, device)
        t_trt = median_ms(model_trt, x, device)
    print(f"PyTorch eager: {t_torch:.2f} ms   torch2trt: {t_trt:.2f} ms   speed-up x{t_torch / t_trt:.2f}")

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, f"{args.model}_trt.pth")
        torch.save(model_trt.state_dict(), path)
        loaded = TRTModule()
        loaded.load_state_dict(torch.load(path))
        with torch.no_grad():
            same = torch.equal(loaded(x), y_trt)
        print(f"saved to {os.path.basename(path)} ({os.path.getsize(path) / 1e6:.1f} MB) and reloaded: "
              f"outputs {'identical' if same else 'DIFFER'}")
    tol = 1e-4
    if args.fp16:
        # Random-weight deep nets can be ill-conditioned in float16: accept what PyTorch's own float16
        # run gets (with some margin), and never more than 1e-2 where PyTorch is better than that.
        import copy

        with torch.no_grad():
            y16 = copy.deepcopy(model).half()(x.half()).float()
        err16 = float((y16 - y).norm() / y.norm())
        tol = max(1e-2, 1.5 * err16)
        print(f"PyTorch's own float16 relative L2 error: {err16:.3g}")
    if err > tol or not same:
        raise SystemExit(f"demo failed: relative error {err:.3g} (limit {tol}) or reloaded outputs differ")


if __name__ == "__main__":
    main()
