"""The torch2trt engine with TensorRT's Python names.

A converter or script written for TensorRT ports by changing ``import tensorrt as trt`` to
``import torch2trt.trt as trt``. Engines built here run on the CPU and, where the CUDA backend is
built and a GPU is present, on NVIDIA GPUs.
"""

from torch2trt._C import *  # noqa: F401,F403
from torch2trt._C import DataType, Logger, Weights  # noqa: F401
from torch2trt import _C

__version__ = _C.__version__

# Module-level dtype aliases, as TensorRT has them.
float32 = DataType.FLOAT
float16 = DataType.HALF
bfloat16 = DataType.BF16
int8 = DataType.INT8
int32 = DataType.INT32
int64 = DataType.INT64
uint8 = DataType.UINT8
bool = DataType.BOOL  # noqa: A001 (TensorRT's name)
fp8 = DataType.FP8


class Dims(tuple):
    """A shape: a tuple of ints (-1 for an extent known only at run time)."""

    def __new__(cls, shape=()):
        return super().__new__(cls, (int(d) for d in shape))

    @property
    def nbDims(self):  # noqa: N802 (TensorRT's name)
        return len(self)


Dims2 = Dims3 = Dims4 = DimsHW = Dims


def nptype(dtype):
    """numpy type of a DataType (TensorRT's trt.nptype)."""
    import numpy as np

    return {
        DataType.FLOAT: np.float32,
        DataType.HALF: np.float16,
        DataType.INT8: np.int8,
        DataType.INT32: np.int32,
        DataType.INT64: np.int64,
        DataType.UINT8: np.uint8,
        DataType.BOOL: np.bool_,
    }[dtype]


def volume(shape):
    """Number of elements of a shape (TensorRT's trt.volume)."""
    n = 1
    for d in shape:
        n *= int(d)
    return n
