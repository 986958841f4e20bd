"""torch2trt: convert PyTorch modules to optimized engines that run on the CPU or NVIDIA GPUs."""

from torch2trt import trt  # noqa: F401
from torch2trt._C import __version__  # noqa: F401
