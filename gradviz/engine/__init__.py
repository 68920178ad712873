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

__all__ = ["Tensor", "Size", "Function", "device", "dtypes", "strided"]
