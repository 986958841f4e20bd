"""torch2trt(timing_cache=...): the builder's tactic choices saved to a file and reused."""

import os

import pytest
import torch

import torch2trt.trt as trt
from torch2trt import torch2trt


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(32, 32, 3, padding=1)).eval()


def test_cache_file_written_and_read_back(tmp_path):
    path = tmp_path / "timing.cache"
    m, x = _model(), torch.randn(2, 16, 12, 12)
    t = torch2trt(m, [x], timing_cache=str(path))
    assert path.exists()
    cache = trt.Builder().create_builder_config().create_timing_cache(path.read_bytes())
    assert len(cache) == 0  # CPU engines have no tactics to time
    t2 = torch2trt(m, [x], timing_cache=path)  # os.PathLike works too
    torch.testing.assert_close(t2(x), m(x), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(t(x), m(x), rtol=1e-4, atol=1e-4)


def test_corrupt_cache_file_names_the_file(tmp_path):
    path = tmp_path / "bad.cache"
    path.write_bytes(b"not a cache at all")
    with pytest.raises(ValueError, match=r"timing_cache .*bad\.cache.*not a torch2trt timing cache.*delete the file"):
        torch2trt(_model(), [torch.randn(1, 16, 8, 8)], timing_cache=str(path))


def test_cache_object_and_wrong_type():
    config = trt.Builder().create_builder_config()
    cache = config.create_timing_cache(b"")
    m, x = _model(), torch.randn(1, 16, 8, 8)
    t = torch2trt(m, [x], timing_cache=cache)
    torch.testing.assert_close(t(x), m(x), rtol=1e-4, atol=1e-4)
    with pytest.raises(TypeError, match="timing_cache must be a file path or a trt.ITimingCache, got int"):
        torch2trt(m, [x], timing_cache=3)


def test_cache_bytes_round_trip_and_truncation():
    config = trt.Builder().create_builder_config()
    data = config.create_timing_cache(b"").serialize()
    assert len(config.create_timing_cache(data)) == 0
    for n in range(1, len(data)):
        with pytest.raises(ValueError, match="timing cache"):
            config.create_timing_cache(data[:n])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_second_build_reuses_the_cache(tmp_path):
    path = tmp_path / "gpu.cache"
    m, x = _model().cuda(), torch.randn(4, 16, 28, 28, device="cuda")
    t1 = torch2trt(m, [x], fp16_mode=True, timing_cache=str(path))
    first = path.read_bytes()
    cache = trt.Builder().create_builder_config().create_timing_cache(first)
    assert len(cache) >= 1
    t2 = torch2trt(m, [x], fp16_mode=True, timing_cache=str(path))
    assert path.read_bytes() == first  # every choice came from the cache: nothing new was measured
    with torch.no_grad():
        ref = m(x)
        for t in (t1, t2):
            out = t(x).float()
            assert float((out - ref).norm() / ref.norm()) < 1e-2


def _cache_bytes(entries):
    """A cache file with the given {key: (tactic, ms)} entries (the format of TimingCache::serialize)."""
    import struct

    out = b"T2TTCACH" + struct.pack("<I", 1) + struct.pack("<Q", len(entries))
    for key, (tactic, ms) in entries.items():
        k = key.encode()
        out += struct.pack("<Q", len(k)) + k + struct.pack("<q", tactic) + struct.pack("<d", ms)
    return out


def test_combine_refuses_another_device_unless_asked():
    config = trt.Builder().create_builder_config()
    a = config.create_timing_cache(_cache_bytes({"conv x@GPU A": (3, 0.5)}))
    b = config.create_timing_cache(_cache_bytes({"conv x@GPU B": (1, 0.4), "conv y@GPU B": (2, 0.1)}))
    same = config.create_timing_cache(_cache_bytes({"conv z@GPU A": (0, 0.2)}))
    assert len(a) == 1
    a.combine(same)
    assert len(a) == 2
    with pytest.raises(ValueError, match=r"measured on 'GPU B', this one on 'GPU A'; pass ignore_mismatch=True"):
        a.combine(b)
    assert len(a) == 2
    a.combine(b, ignore_mismatch=True)
    assert len(a) == 4
    assert trt.Builder().create_builder_config().create_timing_cache(a.serialize()).serialize() == a.serialize()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_set_timing_cache_refuses_another_device_unless_asked():
    config = trt.Builder().create_builder_config()
    config.default_device_type = trt.DeviceType.GPU
    other = config.create_timing_cache(_cache_bytes({"conv x@Some Other GPU": (3, 0.5)}))
    with pytest.raises(ValueError, match="measured on 'Some Other GPU'"):
        config.set_timing_cache(other)
    config.set_timing_cache(other, ignore_mismatch=True)
