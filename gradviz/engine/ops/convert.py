"""Copies and conversions: dtype casts, device moves, clones, contiguous copies."""
from ...errors import GradvizError, ShapeError
from ..backend import device_of, move, on_graph
from ..function import Function

__all__ = ["Cast", "Clone", "Contiguous", "ToDevice"]

_CHANNELS_LAST_RANK = {"channels_last": 4, "channels_last_3d": 5}


def _channels_last_order(x, name):
    rank = _CHANNELS_LAST_RANK[name]
    if x.ndim != rank:
        raise ShapeError(f"required rank {rank} tensor to use {name} format, got shape "
                         f"{tuple(x.shape)}")
    return (0, *range(2, rank), 1)


def in_memory_format(x, name):
    """True when array ``x`` already lies in memory format ``name`` (a channels-last check
    looks at the array as NHWC, so size-1 dims do not matter, as torch's)."""
    if name not in _CHANNELS_LAST_RANK:
        return bool(x.flags.c_contiguous)
    return x.ndim == _CHANNELS_LAST_RANK[name] and bool(
        x.transpose(_channels_last_order(x, name)).flags.c_contiguous)


def in_axis_order(x, order):
    """A copy of ``x`` whose memory runs over the axes ``order`` (outermost first), seen
    through x's own axes: values and indexing do not change."""
    back = sorted(range(x.ndim), key=order.__getitem__)
    return x.transpose(order).copy().transpose(back)


def axis_order(x):
    """x's axes from the largest stride to the smallest: the order torch's preserve_format
    keeps (a transposed or channels-last tensor's copies stay so; NumPy's order "K")."""
    return sorted(range(x.ndim), key=lambda d: -abs(x.strides[d]))


def laid_out(x, name):
    """A copy of ``x`` laid out in memory format ``name``: C order, x's own axis order
    (preserve_format), or channels last (the NHWC array seen through NCHW axes)."""
    if name == "preserve_format":
        return x.copy(order="K")
    if name not in _CHANNELS_LAST_RANK:
        return x.copy()   # C order
    return in_axis_order(x, _channels_last_order(x, name))


class Cast(Function):
    rule = "dx = dy (cast back to x's dtype)"
    torch_name = "ToCopyBackward0"

    def forward(ctx, x, dtype=None):
        ctx.src = x.dtype
        if x.dtype.kind == "c" and getattr(dtype, "kind", "c") != "c":
            # torch warns and drops the imaginary part; gradviz never drops it silently
            raise GradvizError(f"cannot cast a complex tensor to {dtype}: it would drop the "
                               "imaginary part; take .real (or .abs()) first")
        return x.astype(dtype)

    def backward(ctx, g):
        xp = ctx.xp
        if g.dtype.kind == "c" and ctx.src.kind != "c":
            g = g.real   # a real input's share of a complex gradient
        return xp.astype(g, ctx.src) if on_graph(xp) else g.astype(ctx.src)  # no cupy.astype


class Clone(Function):
    rule = "dx = dy"

    def forward(ctx, x):
        return x.copy(order="K")   # torch's preserve_format: a transposed x's clone stays so

    def backward(ctx, g):
        return g


class Contiguous(Function):
    rule = "dx = dy"
    torch_name = "CloneBackward0"

    def forward(ctx, x, memory_format="contiguous_format"):
        return laid_out(x, memory_format)

    def backward(ctx, g):
        return g


class ToDevice(Function):
    rule = "dx = dy moved back to x's device"

    def forward(ctx, x, device=None):
        ctx.src = device_of(x)
        return move(x, device)

    def backward(ctx, g):
        if hasattr(g, "_data"):
            return g.to(ctx.src)
        return move(g, ctx.src)
