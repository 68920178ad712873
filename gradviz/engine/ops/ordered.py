"""Ops that follow the order of elements along a dim: running max/min indices (cummax,
cummin), logcumsumexp, and the sort-based median (of everything) and unique."""
import numpy as np

from ..backend import on_graph
from ..function import Function
from .reduce import _Running
from .util import positions, running_dim

__all__ = ["Cummax", "Cummin", "Logcumsumexp", "Median", "Unique"]


def scan(xp, op, a, axis):
    """Inclusive prefix scan of ``a`` along ``axis`` with the associative ufunc ``op``, in
    log2(n) whole-array steps (Hillis-Steele): CuPy's ``ufunc.accumulate`` serves only add
    and multiply, and a loop over elements would run one kernel per element."""
    a = xp.moveaxis(a, axis, -1)
    k, n = 1, a.shape[-1]
    while k < n:
        a = xp.concatenate([a[..., :k], op(a[..., k:], a[..., :-k])], axis=-1)
        k *= 2
    return xp.moveaxis(a, -1, axis)


class Cummax(Function):
    """Indices of the running max along ``dim`` (torch's cummax indices: the last of equal
    maxima; a NaN, once seen, is the max). No gradient: the values are a Gather of these,
    so gradients flow to the picked places."""

    differentiable = False
    running = "maximum"

    def forward(ctx, x, dim=0):
        xp = ctx.xp
        d = running_dim(dim, x.ndim)
        if d is None:
            return xp.zeros((), dtype=xp.int64)
        best = scan(xp, getattr(xp, type(ctx).running), x, d)
        # the running max is (re)attained where x equals it; the last such place wins
        hit = x == best
        if x.dtype.kind == "f":
            hit |= xp.isnan(x)   # NaN != NaN, yet each new NaN is the max (torch)
        at = xp.where(hit, positions(xp, x.shape[d], d, x.ndim), 0)
        return scan(xp, xp.maximum, at, d)


class Cummin(Cummax):
    """Indices of the running min along ``dim`` (the last of equal minima; NaN wins, as
    torch). No gradient: the values are a Gather of these."""

    running = "minimum"


def _logcumsumexp(xp, a, dim):
    """logcumsumexp of ``a`` along ``dim``: a graph under create_graph, else an array."""
    if on_graph(xp):
        return Logcumsumexp.apply(a, dim=dim)
    return scan(xp, xp.logaddexp, a, dim)


class Logcumsumexp(_Running):
    rule = "dx_j = sum_{i>=j} dy_i * exp(x_j - y_i)"

    def running(ctx, x):
        ctx.lowest = np.finfo(x.dtype).min
        y = _logcumsumexp(ctx.xp, x, ctx.dim)   # logaddexp never overflows
        ctx.save_for_backward(x, y)
        return y

    def running_grad(ctx, g):
        xp, d = ctx.xp, ctx.dim
        x, y = ctx.saved
        # torch's stable form: the dy > 0 and dy < 0 parts as reverse logcumsumexps of
        # log|dy| - y (a finite "log 0" where dy has no part: no inf - inf there)
        log_g = xp.log(xp.where(g != 0, xp.abs(g), 1.0))
        parts = []
        for has in (g > 0, g < 0):
            logs = xp.where(has, log_g, ctx.lowest) - y
            parts.append(xp.exp(xp.flip(_logcumsumexp(xp, xp.flip(logs, d), d), d) + x))
        return parts[0] - parts[1]


class Median(Function):
    """The lower median of all elements; NaN when there is a NaN, as torch.median()."""

    rule = "dx = dy * [x == median] / count(x == median) (a NaN median: the NaNs share dy)"

    def forward(ctx, x):
        xp = ctx.xp
        ordered = xp.sort(x.reshape(-1))   # NaNs last
        n, nans = ordered.size, xp.sum(ordered != ordered)
        out = ordered[xp.where(nans > 0, n - nans, (n - 1) // 2)]   # the first NaN if any
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, out = ctx.saved
        hit = (x == out) | ((x != x) & (out != out))
        return xp.where(hit, g / xp.sum(hit), 0)


class Unique(Function):
    """torch.unique: the distinct elements (or slices along ``dim``) in ascending order
    (NaNs are never equal: each is its own, last). Its two other outputs, the inverse
    indices and the counts, go into the list ``extra``. No gradient rule, as torch."""

    def forward(ctx, x, extra, dim=None):
        xp = ctx.xp
        if dim is None:
            rows = x.reshape(-1, 1)
        else:
            n = x.shape[dim]
            rows = xp.moveaxis(x, dim, 0).reshape(n, x.size // n if n else 0)
        order = xp.arange(rows.shape[0], dtype=xp.int64)
        for j in range(rows.shape[1] - 1, -1, -1):   # stable sorts, last column first
            order = order[xp.argsort(rows[order, j], kind="stable")]
        ordered = rows[order]
        new = xp.ones(rows.shape[0], dtype=bool)   # starts a run of equal rows
        new[1:] = xp.any(ordered[1:] != ordered[:-1], axis=1)
        inverse = xp.empty(rows.shape[0], dtype=xp.int64)
        inverse[order] = xp.cumsum(new, dtype=xp.int64) - 1
        starts = xp.nonzero(new)[0]   # how many: the one host sync (data-dependent shape)
        bounds = xp.concatenate([starts, xp.full((1,), rows.shape[0], dtype=starts.dtype)])
        extra.extend([inverse.reshape(x.shape) if dim is None else inverse,
                      xp.diff(bounds).astype(xp.int64)])
        first = order[starts]   # each run's first place in x: torch keeps that one's -0.0
        return x.reshape(-1)[first] if dim is None else xp.take(x, first, axis=dim)
