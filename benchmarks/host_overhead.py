"""Where the host time of one TRTModule call goes, at batch 1 in fp16 (GPU):

    python benchmarks/host_overhead.py bert_base efficientnet_b0

For each model: host time (GPU idle before each call) and waited-call time of trt_model(x), of
trt_model.forward(x), of the engine call alone (context.execute_async_v3 with the addresses set), of the
pieces of forward, of the engine without CUDA graphs, and of torch's own CUDA graph of the eager fp16 model
for comparison. Medians of 300 calls.
"""
import os
import statistics
import sys
import time

import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import make_model
from torch2trt import torch2trt

torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
dev = torch.device("cuda")


def host(fn, n=300):
    ts = []
    for _ in range(n):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e6


def waited(fn, n=300):
    ts = []
    for _ in range(n):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); b.synchronize()
        ts.append(a.elapsed_time(b))
    return statistics.median(ts) * 1e3


def b2b(fn, n=100):
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(5): fn()
    a.record()
    for _ in range(n): fn()
    b.record(); b.synchronize()
    return a.elapsed_time(b) / n * 1e3


for name in sys.argv[1:] or ["bert_base"]:
    model, x = make_model(name, 1, dev, torch.float32)
    m = torch2trt(model, [x], fp16_mode=True)
    ctx = m.context
    with torch.no_grad():
        for _ in range(10): m(x)
        print(f"== {name} bs1 fp16")
        print(f"forward: host {host(lambda: m(x)):.1f} us, waited {waited(lambda: m(x)):.1f} us, back-to-back {b2b(lambda: m(x)):.1f} us; replayed={ctx.last_run_replayed} status='{ctx.graph_status}'")
        print(f"forward(): host {host(lambda: m.forward(x)):.1f} us")
        # The same calls interleaved (one of each per round), so that drifts of the host (clock, caches)
        # fall on all of them alike; and where Python spends the time of 200 calls.
        variants = {"m(x)": lambda: m(x), "m._call_impl(x)": lambda: m._call_impl(x), "m.forward(x)": lambda: m.forward(x)}
        rounds = {k: [] for k in variants}
        for _ in range(300):
            for k, f in variants.items():
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                f()
                rounds[k].append(time.perf_counter() - t0)
        print("interleaved host: " + ", ".join(f"{k} {statistics.median(v) * 1e6:.1f} us" for k, v in rounds.items()))
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(200):
            torch.cuda.synchronize()
            m(x)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
        iname, ishape, idt = m._inputs[0]
        oname, oshape, odt = m._outputs[0]
        y = torch.empty(oshape, dtype=odt, device=dev)
        ctx.set_tensor_address(iname, x.data_ptr()); ctx.set_tensor_address(oname, y.data_ptr())
        s = torch.cuda.current_stream().cuda_stream
        for _ in range(5): ctx.execute_async_v3(s)
        print(f"execute_async_v3 only: host {host(lambda: ctx.execute_async_v3(s)):.1f} us, waited {waited(lambda: ctx.execute_async_v3(s)):.1f} us, b2b {b2b(lambda: ctx.execute_async_v3(s)):.1f} us replayed={ctx.last_run_replayed}")
        print(f"torch.empty: {host(lambda: torch.empty(oshape, dtype=odt, device=dev)):.2f} us; check_input {host(lambda: m._check_input(0, iname, ishape, idt, x)):.2f} us; "
              f"set_tensor_address {host(lambda: ctx.set_tensor_address(oname, y.data_ptr())):.2f} us; contiguous {host(lambda: x.contiguous()):.2f}")
        # Every statement of forward's common path on its own.
        from torch2trt.module import _current_stream_handle
        names, dev_ = m._io_names, m._device
        addrs = [x.data_ptr(), y.data_ptr()]
        parts = {
            "x.dtype == dtype": lambda: x.dtype == idt,
            "x.shape == shape": lambda: x.shape == ishape,
            "x.device == device": lambda: x.device == dev_,
            "x.is_contiguous()": lambda: x.is_contiguous(),
            "x.data_ptr()": lambda: x.data_ptr(),
            "stream handle": lambda: _current_stream_handle(dev_),
            "execute_with_addresses": lambda: ctx.execute_with_addresses(names, addrs, s),
            "empty lambda": lambda: None,
        }
        print("forward's statements: " + ", ".join(f"{k} {host(f):.2f} us" for k, f in parts.items()))
        ctx.set_graphs_enabled(False)
        print(f"no graph: host {host(lambda: m(x)):.1f} us, waited {waited(lambda: m(x)):.1f} us, b2b {b2b(lambda: m(x)):.1f}")
        ctx.set_graphs_enabled(True)
        # torch's own graph of the eager fp16 model, as a reference for graph-launch cost
        mh = model.half() if x.dtype != torch.long else model.half()
        xh = x if x.dtype == torch.long else x.half()
        st = torch.cuda.Stream()
        st.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(st):
            for _ in range(3): mh(xh)
        torch.cuda.current_stream().wait_stream(st)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = mh(xh)
        for _ in range(5): g.replay()
        print(f"torch CUDAGraph of eager fp16: host {host(g.replay):.1f} us, waited {waited(g.replay):.1f} us, b2b {b2b(g.replay):.1f} us")
