"""Indexing ops: ``x[key]``, gather, masked_fill."""
import numpy as np

from ..backend import on_graph
from ..function import Function
from .util import along

__all__ = ["Getitem", "Gather", "MaskedFill", "IndexAdd", "index_add", "scatter"]


def _is_basic(key):
    for k in key:
        if not (k is None or k is Ellipsis or isinstance(k, (int, slice))):
            return False
    return True


def index_add(xp, dx, key, g):
    """``dx[key] += g`` that adds repeated indices once per occurrence."""
    if xp is np:
        np.add.at(dx, key, g)
    else:  # CuPy
        import cupyx  # noqa: PLC0415
        cupyx.scatter_add(dx, key, g)
    return dx


def scatter(xp, shape, key, g, unique=False):
    """zeros(shape) with ``g`` added at ``key``; differentiable when ``xp`` is the Tensor
    namespace (create_graph), through :class:`IndexAdd`."""
    if on_graph(xp):
        return IndexAdd.apply(g, shape=tuple(shape), key=key, unique=unique)
    dx = xp.zeros(shape, dtype=g.dtype)
    if unique or _is_basic(key):
        dx[key] = g
        return dx
    return index_add(xp, dx, key, g)


class IndexAdd(Function):
    """``zeros(shape)[key] += g``: the backward of indexing, as an op so that it has a
    gradient itself (double backward through indexing, gather, max(dim))."""

    rule = "dg = dy[key]"

    def forward(ctx, g, shape=(), key=(), unique=False):
        ctx.key = key
        return scatter(ctx.xp, shape, key, g, unique)

    def backward(ctx, dy):
        return dy[ctx.key]


class Getitem(Function):
    rule = "dx = zeros_like(x); dx[key] += dy"

    def forward(ctx, x, key=None):
        ctx.key = key
        ctx.shape = x.shape
        return x[key]

    def backward(ctx, g):
        return scatter(ctx.xp, ctx.shape, ctx.key, g)


class Gather(Function):
    rule = "dx = zeros_like(x); dx[index along dim] += dy"

    def forward(ctx, x, index, dim=0):
        xp = ctx.xp
        ctx.dim = dim % x.ndim
        ctx.index, ctx.shape = index, x.shape
        if index.shape != x.shape:  # torch allows a smaller index outside ``dim``
            x = x[tuple(slice(None) if i == ctx.dim else slice(0, n)
                        for i, n in enumerate(index.shape))]
        return xp.take_along_axis(x, index, axis=ctx.dim)

    def backward(ctx, g):
        return scatter(ctx.xp, ctx.shape, along(ctx.index, ctx.dim), g), None


class MaskedFill(Function):
    rule = "dx = dy * !mask"

    def forward(ctx, x, mask, value=0.0):
        ctx.mask = mask
        return ctx.xp.where(mask, ctx.xp.asarray(value, dtype=x.dtype), x)

    def backward(ctx, g):
        return ctx.xp.where(ctx.mask, 0, g), None
