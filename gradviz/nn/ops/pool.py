"""Pooling: max, average (and gv's sum) over strided windows; adaptive average by matrices."""
import itertools
import math

from ...engine.function import Function
from ._quiet import tolerant
from .windows import crop, fold, pad, windows

__all__ = ["AdaptiveAvgPool", "AvgPool", "MaxPool", "SumPool"]


def pool_geometry(shape, k, s, p, d, ceil_mode):
    """Output sizes and the (lo, hi) padding each spatial axis needs (torch's rules)."""
    o, pads = [], []
    for size, kk, ss, pp, dd in zip(shape, k, s, p, d):
        span = size + 2 * pp - dd * (kk - 1) - 1
        n = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (n - 1) * ss >= size + pp:
            n -= 1  # the last window must start inside the input or the left padding
        extra = max(0, (n - 1) * ss + dd * (kk - 1) + 1 - (size + 2 * pp))
        o.append(n)
        pads.append((pp, pp + extra))
    return tuple(o), tuple(pads)


@tolerant
class MaxPool(Function):
    rule = "dx = dy routed to the argmax of each window"

    def forward(ctx, x, kernel_size=(2,), stride=(2,), padding=(0,), dilation=(1,),
                ceil_mode=False):
        xp = ctx.xp
        k = tuple(kernel_size)
        o, pads = pool_geometry(x.shape[2:], k, stride, padding, dilation, ceil_mode)
        xpad = pad(xp, x, pads, -xp.inf)
        win = windows(xp, xpad, k, stride, dilation, o)           # (N, C, *k, *o) view
        # a running max over kernel offsets: K cheap passes, first maximum wins (as torch),
        # NaN propagates (as torch)
        offsets = list(itertools.product(*(range(kk) for kk in k)))
        best = xp.array(win[(slice(None), slice(None)) + offsets[0]])
        idx = xp.zeros(best.shape, dtype=xp.int8 if len(offsets) < 128 else xp.int32)
        for i, off in enumerate(offsets[1:], 1):
            v = win[(slice(None), slice(None)) + off]
            take = (v > best) | xp.isnan(v)
            xp.copyto(best, v, where=take)
            xp.copyto(idx, i, where=take)
        ctx.save_for_backward(idx)
        ctx.geom = (xpad.shape[2:], k, o, stride, dilation, pads, offsets)
        return best

    def backward(ctx, g):
        xp = ctx.xp
        idx = ctx.saved[0]
        full, k, o, stride, dilation, pads, offsets = ctx.geom
        n = len(k)
        out = xp.zeros(tuple(g.shape[:2]) + tuple(full), dtype=g.dtype)
        for i, off in enumerate(offsets):
            sl = (slice(None), slice(None)) + tuple(
                slice(off[j] * dilation[j], off[j] * dilation[j] + stride[j] * (o[j] - 1) + 1,
                      stride[j]) for j in range(n))
            out[sl] += xp.where(idx == i, g, 0)
        return crop(out, pads)


@tolerant
class AvgPool(Function):
    rule = "dx = dy / divisor spread over each window"

    def forward(ctx, x, kernel_size=(2,), stride=(2,), padding=(0,), ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        xp = ctx.xp
        n = len(kernel_size)
        k = tuple(kernel_size)
        ones = (1,) * n
        o, pads = pool_geometry(x.shape[2:], k, stride, padding, ones, ceil_mode)
        xpad = pad(xp, x, pads)
        win = windows(xp, xpad, k, stride, ones, o)
        total = xp.sum(win, axis=tuple(range(2, 2 + n)))
        div = ctx.divisor(xp, x.shape[2:], k, stride, o, pads, padding, count_include_pad,
                          divisor_override)
        ctx.div = div
        ctx.geom = (xpad.shape[2:], k, o, stride, pads)
        out = total / div
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def divisor(xp, shape, k, stride, o, pads, padding, count_include_pad, divisor_override):
        """Window sizes as torch counts them: a number, or an array over output positions."""
        if divisor_override:
            return divisor_override
        exact = all(lo == hi for lo, hi in pads)
        if exact and (count_include_pad or not any(padding)):
            return math.prod(k)
        n = len(k)
        inner = tuple((p, p) if count_include_pad else (0, 0) for p in padding)
        region = xp.ones((1, 1) + tuple(s + lo + hi for s, (lo, hi) in zip(shape, inner)))
        rest = tuple((lo - a, hi - b) for (lo, hi), (a, b) in zip(pads, inner))
        region = pad(xp, region, rest)
        counts = xp.sum(windows(xp, region, k, stride, (1,) * n, o), axis=tuple(range(2, 2 + n)))
        return counts[0, 0]

    def backward(ctx, g):
        xp = ctx.xp
        full, k, o, stride, pads = ctx.geom
        n = len(k)
        gd = (g / ctx.div).astype(g.dtype, copy=False)
        cols = xp.broadcast_to(xp.reshape(gd, tuple(g.shape[:2]) + (1,) * n + o),
                               tuple(g.shape[:2]) + k + o)
        return crop(fold(xp, cols, full, stride, (1,) * n), pads)


class SumPool(AvgPool):
    """gv's sum pooling: the sum of each window (average pooling times the window size)."""

    rule = "dx = dy spread over each window"

    def forward(ctx, x, kernel_size=(2,), stride=(2,), padding=(0,), ceil_mode=False):
        return AvgPool.forward(ctx, x, kernel_size, stride, padding, ceil_mode,
                               divisor_override=1)


def adaptive_matrix(xp, size, out, dtype):
    """(out, size) averaging matrix: row i averages input[floor(i*size/out):ceil((i+1)*size/out)]."""
    import numpy as np
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):  # loop over output positions of one axis, not over pixels
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return xp.asarray(m)


@tolerant
class AdaptiveAvgPool(Function):
    rule = "dx = A^T dy along each pooled axis"

    def forward(ctx, x, output_size=(1,)):
        xp = ctx.xp
        n = len(output_size)
        mats = []
        out = x
        for i, os_ in enumerate(output_size):
            ax = x.ndim - n + i
            a = adaptive_matrix(xp, x.shape[ax], os_, x.dtype)
            mats.append(a)
            out = xp.moveaxis(xp.tensordot(out, a, axes=([ax], [1])), -1, ax)
        ctx.mats = mats
        return out

    def backward(ctx, g):
        xp = ctx.xp
        n = len(ctx.mats)
        for i, a in enumerate(ctx.mats):
            ax = g.ndim - n + i
            g = xp.moveaxis(xp.tensordot(g, a, axes=([ax], [0])), -1, ax)
        return g
