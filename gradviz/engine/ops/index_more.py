"""More writes by index: scatter_reduce, index_put, masked_scatter (index_copy is a Scatter)."""
import numpy as np

from ...errors import BackwardError
from ..backend import on_graph, xp_of
from ..function import Function
from .index import index_add, scatter
from .util import along, unbroadcast

__all__ = ["ScatterReduce", "ProdZerosGuard", "IndexPut", "MaskedScatter"]

_AT = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}   # the ufunc of each reduce


def _identity(xp, reduce, dtype):
    """The value a place starts from when ``include_self=False`` (it then counts for
    nothing)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -xp.inf if reduce == "amax" else xp.inf
    return xp.iinfo(dtype).min if reduce == "amax" else xp.iinfo(dtype).max


def _prod_at(xp, out, key, vals):
    """``out[key] *= vals`` with repeats, on CuPy (which has no multiply-at): zeros and
    signs counted, magnitudes multiplied as a sum of logs."""
    ft = out.dtype if out.dtype.kind == "f" else xp.float64
    zeros, negs, logs = (xp.zeros(out.shape, dtype=ft) for _ in range(3))
    xp.add.at(zeros, key, (vals == 0).astype(ft))
    xp.add.at(negs, key, (vals < 0).astype(ft))
    xp.add.at(logs, key, xp.log(xp.abs(xp.where(vals == 0, 1, vals))).astype(ft))
    factor = xp.where(zeros > 0, 0, (1 - 2 * (negs % 2)) * xp.exp(logs))
    out *= factor if out.dtype.kind == "f" else xp.rint(factor).astype(out.dtype)


def _flip(xp, b):
    """Float bits (as signed ints) <-> ints in the floats' order: a negative float's bits below
    the sign inverted. Its own inverse."""
    return b ^ ((b >> (b.dtype.itemsize * 8 - 1)) & xp.iinfo(b.dtype).max)


def _float_extreme_at(xp, reduce, out, key, vals):
    """max/min-at of floats on CuPy, exact and NaN-propagating as torch: done on the values'
    bits as ordered ints (CuPy's float maximum.at neither keeps float64 values exact nor
    lets NaN win); float16 through float32."""
    work = xp.float32 if out.dtype.itemsize == 2 else out.dtype
    ints = xp.dtype(f"int{xp.dtype(work).itemsize * 8}")
    nan = xp.nan if reduce == "amax" else -xp.nan   # NaN wins: above +inf / below -inf

    def ordered(a):
        return _flip(xp, xp.where(xp.isnan(a), nan, a).astype(work).view(ints))
    acc = ordered(out)
    getattr(xp, _AT[reduce]).at(acc, key, ordered(vals))
    out[...] = _flip(xp, acc).view(work).astype(out.dtype)


def reduce_at(xp, reduce, out, key, vals):
    """``out[key] = reduce(out[key], vals)`` in place, repeated places reduced once per
    occurrence (``ufunc.at``); mean is the sum."""
    reduce = "sum" if reduce == "mean" else reduce
    if reduce == "sum":
        index_add(xp, out, key, vals)
    elif xp is np:
        getattr(np, _AT[reduce]).at(out, key, vals)
    elif reduce == "prod":
        _prod_at(xp, out, key, vals)
    elif out.dtype.kind == "f":
        _float_extreme_at(xp, reduce, out, key, vals)
    else:
        getattr(xp, _AT[reduce]).at(out, key, vals)
    return out


def _counts(xp, shape, key, vals_shape, include_self, dtype):
    """How many values each place of a ``shape`` result is the mean of: those of ``key``
    (``vals_shape`` of them) that land there, plus itself with ``include_self``; at least 1."""
    n = index_add(xp, xp.full(shape, 1 if include_self else 0, dtype=dtype), key,
                  xp.ones(vals_shape, dtype=dtype))
    return xp.where(n == 0, 1, n)


def scatter_reduce(xp, x, key, vals, reduce, include_self):
    """torch's scatter_reduce on arrays: ``x`` with ``vals`` reduced into the places ``key``
    (along a dim, or any index tuple)."""
    out = x.copy()
    if not include_self:
        out[key] = _identity(xp, reduce, x.dtype)
    reduce_at(xp, reduce, out, key, vals)
    if reduce == "mean":
        n = _counts(xp, x.shape, key, vals.shape, include_self, x.dtype)
        out = out / n if x.dtype.kind == "f" else xp.floor_divide(out, n)
    return out


class ScatterReduce(Function):
    """``x`` with ``src`` reduced (sum, prod, mean, amax, amin) into ``index`` along
    ``dim``."""

    rule = ("sum: dx = dy, dsrc = dy[index] ; mean: both / count ; prod: dx = dy * out / x, "
            "dsrc = (dy * out)[index] / src ; amax/amin: dy shared evenly among ties")

    def forward(ctx, x, index, src, dim=0, reduce="sum", include_self=True):
        xp = ctx.xp
        ctx.key = along(index, dim)
        ctx.index, ctx.dim = index, dim
        ctx.reduce, ctx.include_self = reduce, include_self
        ctx.full_src = index.shape == src.shape
        # src itself when whole: create_graph then finds it among the inputs (prod's dx reads it)
        vals = src if ctx.full_src else src[tuple(slice(0, n) for n in index.shape)]
        hit = xp.zeros(x.shape, dtype=bool)
        hit[ctx.key] = True
        ctx.hit = hit
        out = scatter_reduce(xp, x, ctx.key, vals, reduce, include_self)
        ctx.save_for_backward(x, vals, out)
        return out

    def _again(ctx, x, vals):
        return scatter_reduce(ctx.xp, x, ctx.key, vals, ctx.reduce, ctx.include_self)

    def _sum_or_mean_grads(ctx, xp, g, x, vals, dtype):
        """dx, dsrc for sum (dy, dy[index]) and mean (the same over each place's count)."""
        key = ctx.key
        if ctx.reduce == "sum":
            return g, g[key]
        n = _counts(xp, x.shape, key, vals.shape, ctx.include_self, dtype)
        return g / n, g[key] / n[key]

    def backward(ctx, g):
        xp, key = ctx.xp, ctx.key
        if ctx.needs_input_grad[2] and not ctx.full_src:
            raise BackwardError("ScatterReduce: the gradient of src needs src.shape == "
                                "index.shape (as torch)")
        if on_graph(xp):
            return ctx.backward_on_graph(g)
        x, vals, out = ctx.saved
        if ctx.reduce in ("sum", "mean"):
            dx, dsrc = ctx._sum_or_mean_grads(xp, g, x, vals, g.dtype)
        elif ctx.reduce == "prod":
            nonzero_x = xp.where(x == 0, 1, x)
            dx = g * ctx._again(nonzero_x, vals) / nonzero_x
            src_zero = vals == 0
            zeros = index_add(xp, xp.zeros(x.shape, dtype=g.dtype), key,
                              src_zero.astype(g.dtype))
            single = src_zero & (zeros[key] == 1)   # the one zero of its place: d = the rest
            rest = ctx._again(x, xp.where(single, 1, vals))
            dsrc = xp.where(single, (g * rest)[key], (g * out)[key] / xp.where(src_zero, 1, vals))
        else:  # amax / amin: ties (self among them, as torch counts it) share dy evenly
            x_is = (x == out).astype(g.dtype)
            src_is = (vals == out[key]).astype(g.dtype)
            share = g / index_add(xp, x_is.copy(), key, src_is)
            dx, dsrc = x_is * share, src_is * share[key]
        if not ctx.include_self:
            dx = xp.where(ctx.hit, 0, dx)
        return dx, None, dsrc if ctx.needs_input_grad[2] else None

    def backward_on_graph(ctx, g):
        """create_graph, sum / mean / amax / amin: dy times weights that are constant (counts,
        the masks of the max) almost everywhere, so only dy's part is a graph."""
        key = ctx.key
        if ctx.reduce == "prod":
            return ctx._prod_on_graph(g)
        x, vals, out = (getattr(t, "_data", t) for t in ctx.saved)
        ax = xp_of(x)
        if ctx.reduce in ("sum", "mean"):
            dx, dsrc = ctx._sum_or_mean_grads(ax, g, x, vals, x.dtype)
        else:
            x_is = (x == out).astype(x.dtype)
            src_is = (vals == out[key]).astype(x.dtype)
            share = g / index_add(ax, x_is.copy(), key, src_is)
            dx, dsrc = share * x_is, share[key] * src_is
        if not ctx.include_self:
            dx = ctx.xp.where(ctx.hit, 0.0, dx)
        return dx, None, dsrc if ctx.needs_input_grad[2] else None


    def _prod_on_graph(ctx, g):
        """create_graph, prod: the plain formulas written with Tensor ops (the products of
        the others are ScatterReduce prods again), so that they are differentiable in x and
        src too; which src values are the one zero of their place is constant."""
        xp, key = ctx.xp, ctx.key
        x, vals, out = ctx.saved

        def again(x, vals):
            return ScatterReduce.apply(x, ctx.index, vals, dim=ctx.dim, reduce="prod",
                                       include_self=ctx.include_self)

        nonzero_x = xp.where(x == 0, 1.0, x)
        dx = g * again(nonzero_x, vals) / nonzero_x
        if not ctx.include_self:
            dx = xp.where(ctx.hit, 0.0, dx)
        if not ctx.needs_input_grad[2]:
            return dx, None, None
        raw = vals._data
        src_zero = raw == 0
        zeros = index_add(xp_of(raw), xp_of(raw).zeros(x.shape, dtype=raw.dtype), key,
                          src_zero.astype(raw.dtype))
        single = src_zero & (zeros[key] == 1)   # the one zero of its place: d = the rest
        rest = again(x, xp.where(single, 1.0, vals))
        dsrc = xp.where(single, (g * rest)[key], (g * out)[key] / xp.where(src_zero, 1.0, vals))
        if bool((zeros > 1).any()):   # the product of the others is 0 but not its derivative
            dsrc = ProdZerosGuard.apply(dsrc)
        return dx, None, dsrc


class ProdZerosGuard(Function):
    """Identity on scatter_reduce prod's src gradient when a place gets more than one zero
    from src: that gradient is right (0) but its derivative is not, so, as torch, a second
    backward through it raises."""

    rule = "dx = dy (raises: torch has no double backward here)"

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, g):
        raise BackwardError("scatter_reduce(): Double backward is unsupported for src when >1 "
                            "zeros in src are scattered to the same position in self")


class IndexPut(Function):
    """``x`` with ``values`` written (or added, ``accumulate``) at ``x[key]``, a tuple of
    integer index arrays."""

    rule = "dx = dy, 0 where written (dy if accumulate) ; dvalues = sum-to-shape(dy[key])"

    def forward(ctx, x, values, key=(), accumulate=False):
        xp = ctx.xp
        ctx.key, ctx.accumulate, ctx.values_shape = key, accumulate, values.shape
        out = x.copy()
        vals = xp.broadcast_to(values, out[key].shape)
        if accumulate:
            return index_add(xp, out, key, vals)
        keep = xp.ones(x.shape, dtype=bool)
        keep[key] = False
        ctx.keep = keep
        out[key] = vals
        return out

    def backward(ctx, g):
        xp = ctx.xp
        dx = None
        if ctx.needs_input_grad[0]:
            dx = g if ctx.accumulate else xp.where(ctx.keep, g, 0)
        dv = unbroadcast(xp, g[ctx.key], ctx.values_shape) if ctx.needs_input_grad[1] else None
        return dx, dv


class MaskedScatter(Function):
    """``x`` with the elements of ``source`` (flattened, in order) written where ``mask``
    holds."""

    rule = "dx = dy * !mask ; dsource[:count] = dy[mask], 0 after"

    def forward(ctx, x, source, mask):
        xp = ctx.xp
        flat = mask.reshape(-1)
        # the place of each element in source: how many True came before it (no host trip)
        pos = xp.clip(xp.cumsum(flat) - 1, 0, max(source.size - 1, 0))
        ctx.mask, ctx.pos, ctx.source_shape = mask, pos, source.shape
        if not source.size:
            return x.copy()
        return xp.where(mask, source.reshape(-1)[pos].reshape(x.shape), x)

    def backward(ctx, g):
        xp = ctx.xp
        dx = xp.where(ctx.mask, 0, g) if ctx.needs_input_grad[0] else None
        if not ctx.needs_input_grad[1]:
            return dx, None, None
        n = int(np.prod(ctx.source_shape))
        if on_graph(xp):   # create_graph: the scatter-add as the IndexAdd op
            picked = xp.reshape(xp.where(ctx.mask, g, 0.0), (-1,))
            ds = scatter(xp, (n,), (ctx.pos,), picked) if n else g.reshape(-1)[:0]
            return dx, xp.reshape(ds, ctx.source_shape), None
        ds = xp.zeros(n, dtype=g.dtype)
        if n:
            ds = index_add(xp, ds, ctx.pos, xp.where(ctx.mask, g, 0).reshape(-1))
        return dx, ds.reshape(ctx.source_shape), None
