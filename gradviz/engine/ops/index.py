"""Indexing ops: ``x[key]``, gather, masked_fill."""
import numpy as np

from ..function import Function

__all__ = ["Getitem", "Gather", "MaskedFill", "index_add"]


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


class Getitem(Function):
    rule = "dx = zeros_like(x); dx[key] += dy"

    def forward(ctx, x, key=None):
        ctx.key = key
        ctx.shape, ctx.dtype = x.shape, x.dtype
        return x[key]

    def backward(ctx, g):
        xp = ctx.xp
        dx = xp.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic(ctx.key):
            dx[ctx.key] = g
            return dx
        return index_add(xp, dx, ctx.key, g)


class Gather(Function):
    rule = "dx = zeros_like(x); dx[index along dim] += dy"

    def forward(ctx, x, index, dim=0):
        xp = ctx.xp
        ctx.dim = dim % x.ndim
        ctx.index, ctx.shape = index, x.shape
        return xp.take_along_axis(x, index, axis=ctx.dim)

    def backward(ctx, g):
        xp = ctx.xp
        dx = xp.zeros(ctx.shape, dtype=g.dtype)
        ix = list(xp.indices(ctx.index.shape, sparse=True))
        ix[ctx.dim] = ctx.index
        return index_add(xp, dx, tuple(ix), g), None


class MaskedFill(Function):
    rule = "dx = dy * !mask"

    def forward(ctx, x, mask, value=0.0):
        ctx.mask = mask
        return ctx.xp.where(mask, ctx.xp.asarray(value, dtype=x.dtype), x)

    def backward(ctx, g):
        return ctx.xp.where(ctx.mask, 0, g), None
