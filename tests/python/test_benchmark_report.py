"""benchmarks/bench.py --report: one table per GPU, rows of several files merged, speed-ups computed."""
import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_script(name):
    """A script of benchmarks/ as a module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "benchmarks", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bench():
    return load_script("bench")


def row(model, batch, prec, eager, t2t, **extra):
    r = {"model": model, "batch": batch, "precision": prec, "device": "cuda", "eager_ms": eager,
         "torch2trt_ms": t2t, "rel_l2_vs_fp32": 1e-3}
    r.update(extra)
    return r


def write(path, gpu, rows, measured=None):
    d = {"gpu": gpu, "torch": "x", "rows": rows}
    if measured:
        d["measured"] = measured
    path.write_text(json.dumps(d))
    return str(path)


def test_one_table_per_gpu_first_file_first(bench, tmp_path):
    a = write(tmp_path / "a.json", "GPU A", [row("resnet18", 1, "fp16", 2.0, 0.5, **{"compile_reduce-overhead_ms": 1.0})],
              "2026-12-07, commit abc")
    b = write(tmp_path / "b.json", "GPU B", [row("resnet18", 1, "fp32", 4.0, 8.0)])
    # Same GPU as a, same row: adds the max-autotune time, never replaces a's measurement.
    c = write(tmp_path / "c.json", "GPU A", [row("resnet18", 1, "fp16", 9.0, 9.0, **{"compile_max-autotune_ms": 0.25}),
                                             row("resnet18", 32, "fp16", 3.0, 1.0)])
    md = tmp_path / "out.md"
    bench.report([a, b, c], str(md))
    text = md.read_text()
    assert text.index("## GPU A") < text.index("## GPU B (an earlier run")
    section_a = text[text.index("## GPU A"):text.index("## GPU B")]
    assert "`a.json`: 2026-12-07, commit abc" in section_a
    assert "`c.json`: date and commit not recorded" in section_a
    line = [ln for ln in section_a.splitlines() if ln.startswith("| resnet18 | 1 | fp16")]
    assert len(line) == 1
    cells = [x.strip() for x in line[0].strip("|").split("|")]
    # modes sorted: max-autotune, reduce-overhead; best of eager/compile = 0.25 -> x0.50 against 0.5 ms
    assert cells[3:8] == ["2.000", "0.250", "1.000", "0.500", "x0.50"]
    # A table holding rows of differently recorded runs says which run each row comes from.
    assert cells[-1] == "2026-12-07, commit abc"
    assert "| resnet18 | 32 | fp16 | 3.000 | - | - | 1.000 | x3.00 | 1.00e-03 | - | not recorded |" in section_a
    section_b = text[text.index("## GPU B"):]
    assert "| resnet18 | 1 | fp32 | 4.000 | 8.000 | x0.50 |" in section_b
    assert "GPU A" not in section_b


def test_timing_rounds_alternate_the_order(bench):
    import torch

    calls = []
    fns = {name: (lambda _, name=name: calls.append(name)) for name in ("a", "b", "c")}
    t = bench.time_interleaved(fns, None, torch.device("cpu"), warmup=1, runs=4, rounds=2, round_warmup=1)
    assert set(t) == {"a", "b", "c"} and all(v >= 0 for v in t.values())
    rounds = calls[3:]  # after one warm-up call each; then per round and method one untimed call and two timed
    assert rounds == ["a"] * 3 + ["b"] * 3 + ["c"] * 3 + ["c"] * 3 + ["b"] * 3 + ["a"] * 3


def test_bench_one_builds_everything_then_times_every_method(bench, monkeypatch):
    import torch

    def tiny(name, batch, device, dtype):
        torch.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()).eval().to(device=device, dtype=dtype)
        return m, torch.randn(batch, 3, 16, 16, device=device, dtype=dtype)

    monkeypatch.setattr(bench, "make_model", tiny)
    row = bench.bench_one("tiny", 2, "fp32", [], torch.device("cpu"), runs=5)
    assert row["timing"] == "interleaved"
    for k in ("eager_ms", "torch2trt_ms", "torch2trt_engine_only_ms"):
        assert row[k] > 0, k
    assert row["rel_l2_vs_fp32"] < 1e-5


@pytest.fixture(scope="module")
def tactic_report():
    return load_script("tactic_report")


def test_tactic_report_reads_the_builder_log(tactic_report):
    log = "\n".join([
        "some other line",
        "[torch2trt tactics] Convolution 'Convolution_14': conv float16 nhwc n1 c16 k96 g1 act14 bias mma@H100",
        "[torch2trt tactics]   1 cudnn_conv_nhwc: 0.0080 ms",
        "[torch2trt tactics]   6 cudnn_conv_nhwc: 0.0095 ms",
        "[torch2trt tactics]   4194305 gemm_mma_64x64_nhwc: 0.0186 ms",
        "[torch2trt tactics]   4194304 gemm_mma_32x64_nhwc: 0.0196 ms",
        "[torch2trt tactics]   7 cudnn_conv_nhwc: -1.0000 ms",
        "[torch2trt tactics]   chose 1",
        "[torch2trt tactics] MatrixMultiply 'MatrixMultiply_43': matmul v3 float16 m128 n3072 k768 b1 tB ep4 mma@H100",
        "[torch2trt tactics]   0 cublaslt_matmul+bias+GELU_ERF+epilogue_kernel: 0.0078 ms",
        "[torch2trt tactics]   1048576 gemm_mma_64x64+bias+GELU_ERF: 0.0050 ms",
        "[torch2trt tactics]   chose 1048576",
    ])
    layers = tactic_report.parse(log)
    assert [(layer["kind"], layer["name"], layer["chose"], len(layer["tactics"])) for layer in layers] == [
        ("Convolution", "Convolution_14", 1, 5), ("MatrixMultiply", "MatrixMultiply_43", 1048576, 2)]
    lines = tactic_report.report(layers)
    assert len(lines) == 2
    # The choice, then the fastest of each other family (gemm_mma's tile shapes are one family).
    assert "chose cudnn_conv_nhwc 8.0us" in lines[0] and lines[0].endswith("| gemm_mma_64x64_nhwc 18.6us")
    assert "chose gemm_mma_64x64+bias+GELU_ERF 5.0us" in lines[1]
    assert lines[1].endswith("| cublaslt_matmul+bias+GELU_ERF+epilogue_kernel 7.8us")
    assert tactic_report.report(layers, "GELU") == lines[1:]
