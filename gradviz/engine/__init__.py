"""The tensor engine: Tensor, one Function class per op, and the backward pass."""
from . import dtypes
from .backend import device
from .function import Function
from .tensor import Size, Tensor


class _Layout:
    """``gv.strided``: the only layout (dense arrays)."""

    def __repr__(self):
        return "gradviz.strided"


strided = _Layout()


class memory_format:  # noqa: N801 - torch.memory_format
    """How a tensor's elements lie in memory: ``gv.contiguous_format`` (C order),
    ``gv.channels_last`` / ``channels_last_3d`` (the channel dim innermost, NHWC / NDHWC
    behind NCHW indexing) or ``gv.preserve_format`` (as the source)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"gradviz.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

__all__ = ["Tensor", "Size", "Function", "device", "dtypes", "strided", "memory_format",
           "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]
