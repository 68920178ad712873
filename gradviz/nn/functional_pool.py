"""Adaptive max pooling, ``F.max_poolNd_with_indices`` and power-average (LP) pooling,
composed of existing ops: adaptive max is a gather of every window (Getitem) and a max over
it (MaxDim), LP pooling is torch's avg_pool of x^p (Pow, AvgPool, ...)."""
import math

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ._pool_conv import _max_pool, adaptive_size, ntuple
from .functional_composite import _F

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "lp_pool1d", "lp_pool2d",
           "lp_pool3d"]


def _windows(xp, size, out):
    """(out, k) positions along one axis of each adaptive window, torch's
    [floor(i size / out), ceil((i + 1) size / out)); a short window repeats its last position
    (a repeat never changes a max, nor which position is the first maximum)."""
    k = max((-(-(i + 1) * size // out) - i * size // out for i in range(out)), default=1)
    i = xp.arange(out)
    start, end = i * size // out, -(-(i + 1) * size // out)
    return xp.minimum(start[:, None] + xp.arange(k), end[:, None] - 1)


def _adaptive_max(input, output_size, return_indices, n):
    size = adaptive_size(input, output_size, n, f"adaptive_max_pool{n}d")
    xp = xp_of(input._data)
    spatial = tuple(input.shape[input.ndim - n:])
    lead = tuple(input.shape[:input.ndim - n])
    tables = [_windows(xp, s, o) for s, o in zip(spatial, size)]
    key, pos = [], 0
    for j, t in enumerate(tables):   # index arrays broadcast to (o1, k1, o2, k2, ...)
        shape = [1] * (2 * n)
        shape[2 * j: 2 * j + 2] = t.shape
        key.append(Tensor._wrap(t.reshape(shape)))
        pos = pos + t.reshape(shape) * math.prod(spatial[j + 1:])
    order = [2 * j for j in range(n)] + [2 * j + 1 for j in range(n)]
    ksize = math.prod(t.shape[1] for t in tables)
    win = input[(Ellipsis, *key)].permute(*range(len(lead)), *(len(lead) + o for o in order))
    out, arg = win.reshape(*lead, *size, ksize).max(-1)   # the first maximum in window order
    if not return_indices:
        return out
    flat = xp.transpose(pos, order).reshape(math.prod(size), ksize)
    plane = xp.arange(math.prod(size)).reshape(size)
    return out, Tensor._wrap(flat[plane, arg._data])


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over each of ``output_size`` windows of (N, C, L) that tile it (torch's bounds)."""
    return _adaptive_max(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over the adaptive windows of (N, C, H, W) (None keeps that size)."""
    return _adaptive_max(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over the adaptive windows of (N, C, D, H, W)."""
    return _adaptive_max(input, output_size, return_indices, 3)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d and the flat index of each maximum in its input plane."""
    return _adaptive_max(input, output_size, True, 1)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool2d and the flat index of each maximum in its input plane."""
    return _adaptive_max(input, output_size, True, 2)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool3d and the flat index of each maximum in its input plane."""
    return _adaptive_max(input, output_size, True, 3)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """max_pool1d and the flat index of each maximum in its input plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 1)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """max_pool2d and the flat index of each maximum in its input plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 2)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """max_pool3d and the flat index of each maximum in its input plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 3)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, n):
    """(sum of x^p over each window)^(1/p), as torch: avg_pool of x^p times the window size;
    a window whose sum is 0 gets a zero gradient (Relu's, not 0 * inf); p = ±inf is a max."""
    F = _F()
    if norm_type in (math.inf, -math.inf):
        pool = getattr(F, f"max_pool{n}d")
        if norm_type > 0:
            return pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = getattr(F, f"avg_pool{n}d")(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    window = math.prod(ntuple(kernel_size, n, "kernel_size"))
    return (out.sign() * out.abs().relu() * window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L): (sum over each window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, H, W): (sum over each window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, D, H, W): (sum over each window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)
