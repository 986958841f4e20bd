"""torch2trt: convert PyTorch modules to optimized engines that run on the CPU or NVIDIA GPUs."""

from torch2trt import trt  # noqa: F401
from torch2trt._C import __version__  # noqa: F401
from torch2trt.conversion import (  # noqa: F401
    CONVERTERS,
    ConversionContext,
    ConversionError,
    tensorrt_converter,
    torch2trt,
)
from torch2trt.module import TRTModule  # noqa: F401
from torch2trt.reporting import ConversionReport, report  # noqa: F401

# The built-in converters register themselves on import. The package may still be empty while
# it is being written; the framework works without it.
try:
    from torch2trt import converters  # noqa: F401
except ModuleNotFoundError as e:
    if e.name != "torch2trt.converters":
        raise
