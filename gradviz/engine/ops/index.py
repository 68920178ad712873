"""Indexing ops: ``x[key]``, gather, masked_fill."""
import numpy as np

from ..backend import on_graph
from ..function import Function
from .util import along

__all__ = ["Getitem", "Gather", "MaskedFill", "IndexAdd", "Scatter", "ScatterAdd", "index_add",
           "scatter"]


def _is_basic(key):
    for k in key:
        if not (k is None or k is Ellipsis or isinstance(k, (int, slice))):
            return False
    return True


def index_add(xp, dx, key, g):
    """``dx[key] += g`` that adds repeated indices once per occurrence."""
    if xp is np or dx.dtype.kind != "c":
        xp.add.at(dx, key, g)
    else:  # CuPy's add.at takes real dtypes only: the real and imaginary parts apart
        re, im = dx.real.copy(), dx.imag.copy()
        xp.add.at(re, key, g.real)
        xp.add.at(im, key, g.imag)
        dx[...] = re + 1j * im
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


def torch_index_name(key):
    """torch's node for ``x[key]`` (a tuple): an array or bool index ends in ``index``, else the
    last int/slice/None applied names it (``...`` and full slices apply nothing, but a lone
    ``x[:]`` slices)."""
    name = "AliasBackward0"
    for k in key:
        if isinstance(k, bool) or hasattr(k, "shape"):
            return "IndexBackward0"
        if k is None:
            name = "UnsqueezeBackward0"
        elif isinstance(k, slice):
            if k != slice(None) or len(key) == 1:
                name = "SliceBackward0"
        elif k is not Ellipsis:
            name = "SelectBackward0"
    return name


class Getitem(Function):
    rule = "dx = zeros_like(x); dx[key] += dy"

    def forward(ctx, x, key=None):
        ctx.torch_name = torch_index_name(key)
        ctx.key = key
        ctx.shape = x.shape
        out = x[key]
        if not hasattr(out, "shape") or isinstance(out, np.generic):   # one element: NumPy
            out = x[(*key, Ellipsis)]   # gives a copy, torch a 0-d view (in-place ops see x)
        return out

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


def _src_part(index):
    """The leading block of ``src`` that ``index`` uses (torch: src may be larger)."""
    return tuple(slice(0, n) for n in index.shape)


def _grad_src(ctx, g):
    """d src: ``dy`` at the written places, in the leading block of src's shape."""
    return scatter(ctx.xp, ctx.src_shape, _src_part(ctx.index), g[ctx.key], unique=True)


class Scatter(Function):
    """``x`` with ``src`` (or ``value``) written at ``index`` along ``dim``."""

    rule = "dx = dy, 0 where written ; dsrc = dy[index along dim]"

    def forward(ctx, x, index, src=None, dim=0, value=0.0):
        if src is None:
            ctx.torch_name = "ScatterBackward1"   # torch's scatter(value=) overload
        ctx.key, ctx.index = along(index, dim % x.ndim), index
        ctx.src_shape = None if src is None else src.shape
        keep = ctx.xp.ones(x.shape, dtype=bool)
        keep[ctx.key] = False
        ctx.keep = keep
        out = x.copy()
        out[ctx.key] = value if src is None else src[_src_part(index)]
        return out

    def backward(ctx, g):
        dx = ctx.xp.where(ctx.keep, g, 0) if ctx.needs_input_grad[0] else None
        if ctx.src_shape is None:
            return dx, None
        return dx, None, _grad_src(ctx, g) if ctx.needs_input_grad[2] else None


class ScatterAdd(Function):
    """``x`` with ``src`` added at ``index`` along ``dim`` (repeated places add up)."""

    rule = "dx = dy ; dsrc = dy[index along dim]"

    def forward(ctx, x, index, src, dim=0):
        ctx.key, ctx.index, ctx.src_shape = along(index, dim % x.ndim), index, src.shape
        return index_add(ctx.xp, x.copy(), ctx.key, src[_src_part(index)])

    def backward(ctx, g):
        return g, None, _grad_src(ctx, g) if ctx.needs_input_grad[2] else None
