"""Reductions and normalisers: sum, mean, var, std, prod, max/min, logsumexp, softmax;
the running sums and products (cumsum, cumprod)."""
import numpy as np

from ..backend import on_graph
from ..function import Function
from .index import scatter
from .util import along, keep, norm_dims, running_dim

__all__ = ["Cumprod", "Norm", "AnyAll", "Sum", "Mean", "Var", "Std", "Prod", "Amax", "Amin",
           "MaxDim", "MinDim", "Argmax", "Argmin", "Logsumexp", "Softmax", "LogSoftmax",
           "Cumsum"]


class Sum(Function):
    rule = "dx = broadcast(dy)"

    def forward(ctx, x, dim=None, keepdim=False):
        if dim is not None:
            ctx.torch_name = "SumBackward1"   # torch's sum(dim=) overload
        ctx.shape = x.shape
        ctx.axes = norm_dims(dim, x.ndim)
        ctx.keepdim = keepdim
        return ctx.xp.sum(x, axis=ctx.axes, keepdims=keepdim)

    def backward(ctx, g):
        xp = ctx.xp
        return xp.broadcast_to(keep(xp, g, ctx.shape, ctx.axes, ctx.keepdim), ctx.shape)


class Mean(Function):
    rule = "dx = broadcast(dy) / N"

    def forward(ctx, x, dim=None, keepdim=False):
        if dim is not None:
            ctx.torch_name = "MeanBackward1"   # torch's mean(dim=) overload
        ctx.shape = x.shape
        ctx.axes = norm_dims(dim, x.ndim)
        ctx.keepdim = keepdim
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.n = n
        if not n:  # NumPy warns "Mean of empty slice" (an error under -W error); torch: nan
            return ctx.xp.sum(x, axis=ctx.axes, keepdims=keepdim) * x.dtype.type("nan")
        return ctx.xp.mean(x, axis=ctx.axes, keepdims=keepdim)

    def backward(ctx, g):
        xp = ctx.xp
        return xp.broadcast_to(keep(xp, g, ctx.shape, ctx.axes, ctx.keepdim) / ctx.n, ctx.shape)


def _real_of(x):
    """x's dtype, or its real counterpart for a complex x (var/std of complex are real)."""
    return x.real.dtype if x.dtype.kind == "c" else x.dtype


class Var(Function):
    rule = "dx = dy * 2 (x - mean) / (N - correction)"

    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        xp = ctx.xp
        ctx.axes = norm_dims(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.shape = x.shape
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.denom = max(n - correction, 0)
        ctx.save_for_backward(x)
        return xp.var(x, axis=ctx.axes, ddof=correction, keepdims=keepdim).astype(_real_of(x))

    def backward(ctx, g):
        xp = ctx.xp
        x = ctx.saved[0]
        mean = xp.mean(x, axis=ctx.axes, keepdims=True)
        # N <= correction: torch's 2 / 0 = inf, times x - mean = 0 gives nan
        scale = 2.0 / ctx.denom if ctx.denom else float("inf")
        return keep(xp, g, ctx.shape, ctx.axes, ctx.keepdim) * (x - mean) * scale


class Std(Function):
    rule = "dx = dy * (x - mean) / ((N - correction) * std)"

    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        xp = ctx.xp
        ctx.axes = norm_dims(dim, x.ndim)
        ctx.keepdim = keepdim
        ctx.shape = x.shape
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.denom = max(n - correction, 0)
        out = xp.std(x, axis=ctx.axes, ddof=correction, keepdims=keepdim).astype(_real_of(x))
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, out = ctx.saved
        mean = xp.mean(x, axis=ctx.axes, keepdims=True)
        s = keep(xp, out, ctx.shape, ctx.axes, ctx.keepdim)
        return keep(xp, g, ctx.shape, ctx.axes, ctx.keepdim) * (x - mean) / (s * ctx.denom)


class Prod(Function):
    """The product; its gradient is torch's: y / x_i while the input holds no zero (so an inf
    input gets NaN, as torch's), the product of the others when it does, and 0 for a full
    product with two zeros or more (first order)."""

    rule = "dx_i = dy * prod_{j != i} x_j (no zero in x: dy * y / x_i)"

    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, x.shape
        y = ctx.xp.prod(x) if dim is None else ctx.xp.prod(x, axis=dim, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        if not x.size:     # nothing to differentiate (and no element to leave out)
            return xp.zeros(ctx.shape, dtype=g.dtype)
        if not x.ndim:     # a 0-d input (dim 0 or -1 too) is its own product
            return g
        if ctx.dim is None:
            others = _exclusive_prod(xp, x.reshape(-1), 0).reshape(ctx.shape)
        else:
            d = ctx.dim % x.ndim
            others = _exclusive_prod(xp, x, d)
            g = keep(xp, g, ctx.shape, (d,), ctx.keepdim)
            y = keep(xp, y, ctx.shape, (d,), ctx.keepdim)
        zeros = xp.sum(xp.where(x == 0, 1, 0))   # 0-d, stays on the device
        if on_graph(xp):   # torch picks one formula (so no NaN leaks from the other)
            return g * others if int(zeros.item()) else g * y / x
        safe = g * others
        if ctx.dim is None:   # torch: two zeros or more give 0, whatever else x holds
            safe = xp.where(zeros > 1, xp.zeros(x.shape, dtype=safe.dtype), safe)
        return xp.where(zeros == 0, g * y / x, safe)


def _exclusive_prod(xp, x, axis):
    """prod of every element but one along ``axis`` (exact with zeros)."""
    if on_graph(xp):  # create_graph: (..., n, n) with ones on the diagonal
        import numpy as np
        x = xp.moveaxis(x, axis, -1)
        n = x.shape[-1]
        others = xp.prod(xp.where(np.eye(n, dtype=bool), 1.0, xp.expand_dims(x, -2)), -1)
        return xp.moveaxis(others, -1, axis)
    x = xp.moveaxis(x, axis, -1)
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([x[..., 1:], ones], axis=-1), -1), -1), -1)
    return xp.moveaxis(left * right, -1, axis)


class Amax(Function):
    rule = "dx = dy * [x == max] / count(max)"
    reduce = "max"

    def forward(ctx, x, dim=None, keepdim=False):
        xp = ctx.xp
        ctx.axes = norm_dims(dim, x.ndim)
        ctx.keepdim, ctx.shape = keepdim, x.shape
        out = getattr(xp, self_reduce(ctx))(x, axis=ctx.axes, keepdims=keepdim)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, out = ctx.saved
        mask = x == keep(xp, out, ctx.shape, ctx.axes, ctx.keepdim)
        count = xp.sum(mask, axis=ctx.axes, keepdims=True)
        return xp.where(mask, keep(xp, g, ctx.shape, ctx.axes, ctx.keepdim) / count, 0)


def self_reduce(ctx):
    return "amax" if type(ctx).reduce == "max" else "amin"


class Amin(Amax):
    rule = "dx = dy * [x == min] / count(min)"
    reduce = "min"


class MaxDim(Function):
    rule = "dx = scatter(dy, argmax)"
    pick = "argmax"
    torch_name = "MaxBackward0"   # torch's max(dim) overload

    def forward(ctx, x, dim=0, keepdim=False):
        xp = ctx.xp
        d = norm_dims(dim, x.ndim)  # checks the range (a 0-d input accepts 0 and -1)
        d = d[0] if d else 0
        idx = getattr(xp, type(ctx).pick)(x, axis=d) if x.ndim else xp.zeros((), dtype=xp.int64)
        idx = xp.expand_dims(idx, d) if x.ndim else idx
        ctx.indices = idx
        ctx.d, ctx.keepdim, ctx.shape = d, keepdim, x.shape
        out = xp.take_along_axis(x, idx, axis=d) if x.ndim else x
        if not keepdim and x.ndim:
            out = xp.squeeze(out, axis=d)
            ctx.out_indices = xp.squeeze(idx, axis=d)
        else:
            ctx.out_indices = idx
        return out

    def backward(ctx, g):
        xp = ctx.xp
        if not len(ctx.shape):
            return g
        gk = g if ctx.keepdim else xp.expand_dims(g, ctx.d)
        return scatter(xp, ctx.shape, along(ctx.indices, ctx.d), gk, unique=True)


class MinDim(MaxDim):
    rule = "dx = scatter(dy, argmin)"
    pick = "argmin"
    torch_name = "MinBackward0"


class Argmax(Function):
    """Index of the largest value (no gradient)."""

    differentiable = False

    def forward(ctx, x, dim=None, keepdim=False):
        xp = ctx.xp
        if dim is None:
            out = xp.argmax(x)
            return xp.reshape(out, (1,) * x.ndim) if keepdim else out
        return xp.argmax(x, axis=dim, keepdims=keepdim)


class Argmin(Function):
    """Index of the smallest value (no gradient)."""

    differentiable = False

    def forward(ctx, x, dim=None, keepdim=False):
        xp = ctx.xp
        if dim is None:
            out = xp.argmin(x)
            return xp.reshape(out, (1,) * x.ndim) if keepdim else out
        return xp.argmin(x, axis=dim, keepdims=keepdim)


class Logsumexp(Function):
    rule = "dx = dy * exp(x - logsumexp(x))"

    def forward(ctx, x, dim=None, keepdim=False):
        xp = ctx.xp
        ctx.axes = norm_dims(dim, x.ndim)
        ctx.keepdim, ctx.shape = keepdim, x.shape
        if x.size:
            m = xp.amax(x, axis=ctx.axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
        else:  # no max to shift by: the sum of no terms is 0, log 0 = -inf as torch
            m = xp.zeros(tuple(1 if i in ctx.axes else s for i, s in enumerate(x.shape)),
                         dtype=x.dtype)
        out = xp.log(xp.sum(xp.exp(x - m), axis=ctx.axes, keepdims=True)) + m
        out = out if keepdim else xp.squeeze(out, axis=ctx.axes)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, out = ctx.saved
        out = keep(xp, out, ctx.shape, ctx.axes, ctx.keepdim)
        return keep(xp, g, ctx.shape, ctx.axes, ctx.keepdim) * xp.exp(x - out)


def _shifted(xp, x, dim):
    """``x - max(x)`` along ``dim`` (a zero-size dim has no max and needs no shift)."""
    return x - xp.amax(x, axis=dim, keepdims=True) if dim is None or x.shape[dim] else x


class Softmax(Function):
    rule = "dx = y * (dy - sum(dy * y))"

    def forward(ctx, x, dim=-1):
        xp = ctx.xp
        ctx.dim = dim = running_dim(dim, x.ndim)   # None for a 0-d input (dim 0 or -1)
        e = xp.exp(_shifted(xp, x, dim))
        y = e / xp.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        return y * (g - ctx.xp.sum(g * y, axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    rule = "dx = dy - softmax(x) * sum(dy)"

    def forward(ctx, x, dim=-1):
        xp = ctx.xp
        ctx.dim = dim = running_dim(dim, x.ndim)   # None for a 0-d input (dim 0 or -1)
        s = _shifted(xp, x, dim)
        y = s - xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        xp = ctx.xp
        y = ctx.saved[0]
        return g - xp.exp(y) * xp.sum(g, axis=ctx.dim, keepdims=True)


class _Running(Function):
    """An op that runs along one dim (cumsum...): ``running(x)`` and ``running_grad(g)``
    see ``ctx.dim``; a 0-d input is its own result and passes its gradient, as torch."""

    def forward(ctx, x, dim=0):
        ctx.dim = running_dim(dim, x.ndim)
        return x.copy() if ctx.dim is None else ctx.running(x)

    def backward(ctx, g):
        return g if ctx.dim is None else ctx.running_grad(g)


class Cumsum(_Running):
    rule = "dx = reverse_cumsum(dy)"

    def running(ctx, x):
        return ctx.xp.cumsum(x, axis=ctx.dim, dtype=x.dtype if x.dtype.kind == "f" else None)

    def running_grad(ctx, g):
        xp = ctx.xp
        return xp.flip(xp.cumsum(xp.flip(g, ctx.dim), axis=ctx.dim), ctx.dim)


class AnyAll(Function):
    """``any``/``all`` over dims: a bool result, no gradient."""

    differentiable = False

    def forward(ctx, x, op="any", dim=None, keepdim=False):
        axes = norm_dims(dim, x.ndim)
        return getattr(ctx.xp, op)(x, axis=axes, keepdims=keepdim)


class Norm(Function):
    """Vector p-norm over ``dim`` (all elements when None): p = 2, 1, inf, -inf, 0 or any
    other number."""

    rule = "dx = dy * x |x|^(p-2) / ||x||^(p-1) (p=2: x/||x||, 0 where ||x|| = 0)"
    torch_name = "LinalgVectorNormBackward0"   # what torch.norm and Tensor.norm run

    def forward(ctx, x, p=2.0, dim=None, keepdim=False):
        xp = ctx.xp
        ctx.axes, ctx.p, ctx.keepdim = norm_dims(dim, x.ndim), p, keepdim
        a = xp.abs(x)
        if p == 2:
            n = xp.sqrt(xp.sum(x * x, axis=ctx.axes, keepdims=keepdim))
        elif p == 1:
            n = xp.sum(a, axis=ctx.axes, keepdims=keepdim)
        elif p in (float("inf"), float("-inf")):
            n = (xp.amax if p > 0 else xp.amin)(a, axis=ctx.axes, keepdims=keepdim)
        elif p == 0:
            n = xp.sum(x != 0, axis=ctx.axes, keepdims=keepdim).astype(x.dtype)
        else:
            n = xp.sum(a ** p, axis=ctx.axes, keepdims=keepdim) ** (1.0 / p)
        ctx.save_for_backward(x, n)
        return n

    def backward(ctx, g):
        xp = ctx.xp
        x, n = ctx.saved
        g = keep(xp, g, x.shape, ctx.axes, ctx.keepdim)
        n = keep(xp, n, x.shape, ctx.axes, ctx.keepdim)
        p = ctx.p
        if p == 0:
            return xp.zeros(tuple(x.shape), dtype=x.dtype)
        if p == 1:
            return g * xp.sign(x)
        if p in (float("inf"), float("-inf")):   # split evenly among the extreme elements
            hit = xp.where(xp.abs(x) == n, xp.sign(x), 0 * x)
            count = xp.sum(xp.abs(hit), axis=ctx.axes, keepdims=True)
            return g * hit / xp.where(count == 0, 1.0, count)
        scale = x if p == 2 else x * xp.abs(x) ** (p - 2) / n ** (p - 2)
        return xp.where(n == 0, 0.0, g * scale / xp.where(n == 0, 1.0, n))


class Cumprod(_Running):
    """torch's cumprod_backward: reverse_cumsum(y dy) / x before the first zero of each run,
    the product of the others at the first zero, 0 after it (so infs give torch's NaNs)."""

    rule = "dx_k = sum_{i>=k} dy_i * prod_{j<=i, j!=k} x_j (exact with zeros)"

    def running(ctx, x):
        y = ctx.xp.cumprod(x, axis=ctx.dim)
        ctx.save_for_backward(x, y)
        return y

    def running_grad(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        if x.shape[ctx.dim] <= 1:
            return g
        xm = xp.moveaxis(x, ctx.dim, -1)
        gm = xp.moveaxis(g, ctx.dim, -1)
        if on_graph(xp):
            if not bool(xp.sum(xp.where(xm == 0, 1.0, 0.0)).item()):   # torch: no zero
                w = xp.moveaxis(y, ctx.dim, -1) * gm
                return xp.moveaxis(xp.flip(xp.cumsum(xp.flip(w, -1), -1), -1) / xm, -1, ctx.dim)
            return xp.moveaxis(_cumprod_grad_graph(xp, xm, gm), -1, ctx.dim)
        ym = xp.moveaxis(y, ctx.dim, -1)
        zero = xm == 0
        seen = xp.cumsum(zero, axis=-1)                      # zeros up to and at k
        before = seen == 0
        w = xp.where(before, ym * gm, 0)
        dx_before = xp.flip(xp.cumsum(xp.flip(w, -1), -1), -1) / xp.where(before, xm, 1)
        first = zero & (seen == 1)
        between = (seen == 1) & ~zero                        # after the first zero, up to 2nd
        run = xp.cumprod(xp.where(between, xm, 1), axis=-1) * xp.where(seen == 1, gm, 0)
        ones = xp.ones(ym.shape[:-1] + (1,), dtype=ym.dtype)
        y_prev = xp.concatenate([ones, ym[..., :-1]], axis=-1)   # y_{k-1}
        dx_first = xp.sum(run, axis=-1, keepdims=True) * y_prev
        dx = xp.where(before, dx_before, xp.where(first, dx_first, 0))
        return xp.moveaxis(dx.astype(g.dtype, copy=False), -1, ctx.dim)


def _cumprod_grad_graph(xp, xm, gm):
    """dx along the last axis, O(n^2) with zeros allowed, built as a graph (create_graph)."""
    n = xm.shape[-1]
    after = np.triu(np.ones((n, n), dtype=bool), 1)     # [k, j]: j > k
    rows = xp.expand_dims(xm, -2)                        # (..., k, j) = x_j
    # left[k] = prod_{j<k} x_j ; upto[k, i] = prod_{k<j<=i} x_j (for i >= k)
    left = xp.prod(xp.where(after.T, rows, 1.0), -1)
    upto = xp.cumprod(xp.where(after, rows, 1.0), -1)
    return left * xp.sum(xp.where(~after.T, xp.expand_dims(gm, -2) * upto, 0.0), -1)
