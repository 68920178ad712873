"""Pooling: max (and its inverse, unpooling), average (and gv's sum) over strided windows;
adaptive average by matrices."""
import itertools
import math

import numpy as np

from ...engine.backend import on_graph, xp_of
from ...engine.function import Function
from ...engine.ops.fused import elementwise
from ...engine.ops.index import scatter
from ...engine.tensor import Tensor
from ._quiet import tolerant
from .conv import ConvTranspose
from .windows import crop, fold, pad, windows

__all__ = ["AdaptiveAvgPool", "AvgPool", "MaxPool", "MaxUnpool", "SumPool"]


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


def _first_inside(o, k, s, p, d):
    """Per output position, the first kernel offset (in window order) inside the input: where
    torch starts each window's max (it never looks at the padding)."""
    first = np.zeros((), dtype=np.int64)
    for j, (oo, kk, ss, pp, dd) in enumerate(zip(o, k, s, p, d)):
        f = -(-np.maximum(pp - np.arange(oo) * ss, 0) // dd)
        first = first[..., None] * kk + f.reshape((1,) * j + (oo,))
    return first


@tolerant
class MaxPool(Function):
    rule = "dx = dy routed to the argmax of each window"
    # torch's node by the number of pooled dims (1-d pools 2-d, then squeezes)
    torch_names = {1: "SqueezeBackward1", 2: "MaxPool2DWithIndicesBackward0",
                   3: "MaxPool3DWithIndicesBackward0"}

    def forward(ctx, x, kernel_size=(2,), stride=(2,), padding=(0,), dilation=(1,),
                ceil_mode=False):
        xp = ctx.xp
        ctx.torch_name = ctx.torch_names.get(len(kernel_size))
        k = tuple(kernel_size)
        o, pads = pool_geometry(x.shape[2:], k, stride, padding, dilation, ceil_mode)
        xpad = pad(xp, x, pads, -xp.inf)
        win = windows(xp, xpad, k, stride, dilation, o)           # (N, C, *k, *o) view
        # a running max over kernel offsets: K cheap passes, first maximum wins (as torch),
        # NaN propagates (as torch)
        offsets = list(itertools.product(*(range(kk) for kk in k)))
        itype = xp.int8 if len(offsets) < 128 else xp.int32
        if any(padding):  # start each window at its first offset inside the input, as torch
            first = xp.asarray(_first_inside(o, k, stride, padding, dilation).astype(itype))
            best = xp.full(win.shape[:2] + o, -xp.inf, dtype=x.dtype)
            idx = xp.array(xp.broadcast_to(first, best.shape))
            start = 0
        else:
            best = xp.array(win[(slice(None), slice(None)) + offsets[0]])
            idx = xp.zeros(best.shape, dtype=itype)
            start = 1
        take_kernel = elementwise(xp, "maxpool_take", best)   # the GPU: one launch an offset
        for i in range(start, len(offsets)):
            v = win[(slice(None), slice(None)) + offsets[i]]
            if take_kernel is not None:
                take_kernel(v, i, best, idx)
                continue
            take = (v > best) | xp.isnan(v)
            xp.copyto(best, v, where=take)
            xp.copyto(idx, i, where=take)
        ctx.save_for_backward(idx)
        ctx.geom = (xpad.shape[2:], k, o, stride, dilation, pads, offsets)
        return best

    def flat_indices(ctx, padded=False):
        """torch's ``return_indices``: each max's flat index into its (unpadded) input plane,
        int64, computed from the saved window offsets (into the padded plane if ``padded``)."""
        idx = getattr(ctx.saved[0], "_data", ctx.saved[0])   # a Tensor under create_graph
        xp = xp_of(idx)
        full, k, o, stride, dilation, pads, offsets = ctx.geom
        n = len(k)
        size = full if padded else tuple(f - lo - hi for f, (lo, hi) in zip(full, pads))
        mult = [math.prod(size[j + 1:]) for j in range(n)]
        base = xp.zeros(o, dtype=xp.int64)
        for j in range(n):  # window starts, one axis at a time
            start = xp.arange(o[j], dtype=xp.int64) * stride[j] - (0 if padded else pads[j][0])
            base = base + xp.reshape(start * mult[j], (1,) * j + (o[j],) + (1,) * (n - j - 1))
        step = xp.asarray([sum(off[j] * dilation[j] * mult[j] for j in range(n))
                           for off in offsets], dtype=xp.int64)
        return base + step[idx.astype(xp.int64)]

    def backward(ctx, g):
        xp = ctx.xp
        if on_graph(xp):
            return ctx.backward_on_graph(g)
        idx = ctx.saved[0]
        full, k, o, stride, dilation, pads, offsets = ctx.geom
        n = len(k)
        out = xp.zeros(tuple(g.shape[:2]) + tuple(full), dtype=g.dtype)
        route = elementwise(xp, "maxpool_route", g, out)   # the GPU: one launch an offset
        for i, off in enumerate(offsets):
            sl = (slice(None), slice(None)) + tuple(
                slice(off[j] * dilation[j], off[j] * dilation[j] + stride[j] * (o[j] - 1) + 1,
                      stride[j]) for j in range(n))
            if route is not None:
                route(g, idx, i, out[sl])
            else:
                out[sl] += xp.where(idx == i, g, 0)
        return crop(out, pads)

    def backward_on_graph(ctx, g):
        """create_graph: dy scattered to the argmax positions by an op that has a gradient
        itself (IndexAdd), on the padded planes, then the padding cropped off."""
        full, pads = ctx.geom[0], ctx.geom[5]
        N, C = g.shape[:2]
        flat = ctx.flat_indices(padded=True)
        planes = N * C
        key = (xp_of(flat).arange(planes)[:, None], flat.reshape(planes, -1))
        dx = scatter(ctx.xp, (planes, math.prod(full)), key, g.reshape(planes, -1))
        dx = dx.reshape(N, C, *full)
        return dx[(slice(None), slice(None))
                  + tuple(slice(lo, f - hi) for f, (lo, hi) in zip(full, pads))]


@tolerant
class MaxUnpool(Function):
    """Inverse of max pooling: x's values written at ``indices`` (flat, per plane) of a zero
    output whose last ``len(output_size)`` dims are ``output_size``, as torch's max_unpoolNd."""

    rule = "dx = dy[indices] (gathered per plane)"
    torch_names = {1: "SqueezeBackward1", 2: "MaxUnpool2DBackward0", 3: "MaxUnpool3DBackward0"}

    def forward(ctx, x, indices, output_size=(1,)):
        xp = ctx.xp
        ctx.torch_name = ctx.torch_names.get(len(output_size))
        n = len(output_size)
        lead = tuple(x.shape[:x.ndim - n])
        planes = math.prod(lead)
        flat_idx = xp.reshape(indices, (planes, -1))
        out = xp.zeros((planes, math.prod(output_size)), dtype=x.dtype)
        rows = xp.arange(planes)[:, None]
        out[rows, flat_idx] = xp.reshape(x, (planes, -1))   # a repeated index: the last wins
        ctx.save_for_backward(flat_idx)
        ctx.xshape = x.shape
        return xp.reshape(out, lead + tuple(output_size))

    def backward(ctx, g):
        xp = ctx.xp
        flat_idx = ctx.saved[0]
        g2 = xp.reshape(g, (flat_idx.shape[0], -1))
        if on_graph(xp):  # create_graph: the gather as a Getitem op
            flat_idx = flat_idx._data
            rows = xp_of(flat_idx).arange(flat_idx.shape[0])[:, None]
            return g2[rows, flat_idx].reshape(ctx.xshape), None
        return xp.reshape(xp.take_along_axis(g2, flat_idx, axis=1), ctx.xshape), None


@tolerant
class AvgPool(Function):
    rule = "dx = dy / divisor spread over each window"
    torch_names = {1: "SqueezeBackward1", 2: "AvgPool2DBackward0", 3: "AvgPool3DBackward0"}

    def forward(ctx, x, kernel_size=(2,), stride=(2,), padding=(0,), ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        xp = ctx.xp
        ctx.torch_name = ctx.torch_names.get(len(kernel_size))
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
        if on_graph(xp):
            return ctx.backward_on_graph(g)
        gd = (g / ctx.div).astype(g.dtype, copy=False)
        cols = xp.broadcast_to(xp.reshape(gd, tuple(g.shape[:2]) + (1,) * n + o),
                               tuple(g.shape[:2]) + k + o)
        return crop(fold(xp, cols, full, stride, (1,) * n), pads)

    def backward_on_graph(ctx, g):
        """create_graph: spreading dy / divisor over each window is a transposed conv of each
        plane with a kernel of ones (an op with a gradient itself), then the padding off."""
        full, k, o, stride, pads = ctx.geom
        n = len(k)
        N, C = g.shape[:2]
        div = ctx.div if isinstance(ctx.div, (int, float)) \
            else Tensor._wrap(xp_of(ctx.div).asarray(ctx.div, dtype=g._data.dtype))
        planes = (g / div).reshape(N * C, 1, *o)
        ones = Tensor._wrap(xp_of(g._data).ones((1, 1) + tuple(k), dtype=g._data.dtype))
        extra = tuple(full[i] - (o[i] - 1) * stride[i] - k[i] for i in range(n))
        dx = ConvTranspose.apply(planes, ones, None, stride=tuple(stride), padding=(0,) * n,
                                 output_padding=extra, dilation=(1,) * n, groups=1)
        return dx.reshape(N, C, *full)[
            (slice(None), slice(None))
            + tuple(slice(lo, f - hi) for f, (lo, hi) in zip(full, pads))]


class SumPool(AvgPool):
    """gv's sum pooling: the sum of each window (average pooling times the window size)."""

    rule = "dx = dy spread over each window"
    torch_names = {}   # no torch op: SumPoolBackward0

    def forward(ctx, x, kernel_size=(2,), stride=(2,), padding=(0,), ceil_mode=False):
        return AvgPool.forward(ctx, x, kernel_size, stride, padding, ceil_mode,
                               divisor_override=1)


def adaptive_matrix(xp, size, out, dtype):
    """(out, size) averaging matrix: row i averages input[floor(i*size/out):ceil((i+1)*size/out)]."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):  # loop over output positions of one axis, not over pixels
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return xp.asarray(m)


@tolerant
class AdaptiveAvgPool(Function):
    rule = "dx = A^T dy along each pooled axis"
    torch_names = {1: "SqueezeBackward1", 2: "AdaptiveAvgPool2DBackward0",
                   3: "AdaptiveAvgPool3DBackward0"}

    def forward(ctx, x, output_size=(1,)):
        xp = ctx.xp
        n = len(output_size)
        # torch takes a mean for an all-ones output size of 2 or 3 dims
        ctx.torch_name = ("MeanBackward1" if n > 1 and set(output_size) == {1}
                          else ctx.torch_names.get(n))
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
        graph = on_graph(xp)   # create_graph: matmuls on Tensors
        for i, a in enumerate(ctx.mats):
            ax = g.ndim - n + i
            if graph:
                g = xp.moveaxis(xp.matmul(xp.moveaxis(g, ax, -1), Tensor._wrap(a)), -1, ax)
            else:
                g = xp.moveaxis(xp.tensordot(g, a, axes=([ax], [0])), -1, ax)
        return g
