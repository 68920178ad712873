"""Padding modules: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad in
1d/2d/3d (each ``F.pad`` with its mode; an int pads every side by that much)."""
from .. import functional as F
from ..module import Module


class _PadNd(Module):
    """Pad the last ``dims`` dims: ``padding`` is an int or (left, right, top, bottom, ...)."""

    mode, dims = "constant", 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = (int(padding),) * (2 * self.dims) if isinstance(padding, int) \
            else tuple(int(p) for p in padding)
        self.value = value

    def forward(self, input):
        """Pad the input."""
        if self.mode == "constant":
            return F.pad(input, self.padding, value=self.value)
        return F.pad(input, self.padding, mode=self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pad with ``value``."""

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    """Pad with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class _ModePadNd(_PadNd):
    """Pad by reflecting, replicating or wrapping the edge values."""

    def __init__(self, padding):
        super().__init__(padding)


class ZeroPad1d(_ZeroPadNd):
    """Zero padding of the last 1 dim(s)."""

    dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Zero padding of the last 2 dim(s)."""

    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Zero padding of the last 3 dim(s)."""

    dims = 3


class ConstantPad1d(_ConstantPadNd):
    """Constant padding of the last 1 dim(s)."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Constant padding of the last 2 dim(s)."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Constant padding of the last 3 dim(s)."""

    dims = 3


class ReflectionPad1d(_ModePadNd):
    """Reflection padding of the last 1 dim(s)."""

    dims = 1
    mode = "reflect"


class ReflectionPad2d(_ModePadNd):
    """Reflection padding of the last 2 dim(s)."""

    dims = 2
    mode = "reflect"


class ReflectionPad3d(_ModePadNd):
    """Reflection padding of the last 3 dim(s)."""

    dims = 3
    mode = "reflect"


class ReplicationPad1d(_ModePadNd):
    """Replication padding of the last 1 dim(s)."""

    dims = 1
    mode = "replicate"


class ReplicationPad2d(_ModePadNd):
    """Replication padding of the last 2 dim(s)."""

    dims = 2
    mode = "replicate"


class ReplicationPad3d(_ModePadNd):
    """Replication padding of the last 3 dim(s)."""

    dims = 3
    mode = "replicate"


class CircularPad1d(_ModePadNd):
    """Circular padding of the last 1 dim(s)."""

    dims = 1
    mode = "circular"


class CircularPad2d(_ModePadNd):
    """Circular padding of the last 2 dim(s)."""

    dims = 2
    mode = "circular"


class CircularPad3d(_ModePadNd):
    """Circular padding of the last 3 dim(s)."""

    dims = 3
    mode = "circular"


__all__ = [
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
]
