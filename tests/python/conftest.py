"""Shared pytest fixtures and helpers for the Python tests."""

import pytest
import torch
import torch2trt
import torch2trt.trt as trt


def rel_l2(actual, expected):
    """Relative L2 error ||a - e|| / ||e|| in float64 (0 when both are zero)."""
    a = actual.detach().double().cpu()
    e = expected.detach().double().cpu()
    assert a.shape == e.shape, f"shape {tuple(a.shape)} != {tuple(e.shape)}"
    denom = e.norm()
    diff = (a - e).norm()
    if denom == 0:
        return float(diff)
    return float(diff / denom)


@pytest.fixture
def isolated_converters():
    """Runs a test with an empty converter registry (restored afterwards), so a test's own
    converters decide exactly what is supported."""
    saved = dict(torch2trt.CONVERTERS)
    torch2trt.CONVERTERS.clear()
    try:
        yield torch2trt.CONVERTERS
    finally:
        torch2trt.CONVERTERS.clear()
        torch2trt.CONVERTERS.update(saved)


@pytest.fixture
def saved_converters():
    """Restores the converter registry after a test that registers or overrides converters."""
    saved = dict(torch2trt.CONVERTERS)
    try:
        yield torch2trt.CONVERTERS
    finally:
        torch2trt.CONVERTERS.clear()
        torch2trt.CONVERTERS.update(saved)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available() and trt.cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU and the CUDA backend")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
