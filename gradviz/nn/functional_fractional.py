"""``F.fractional_max_pool2d/3d`` (Graham, 2014): a gather of every window (Getitem) and a max
over it (MaxDim), as adaptive max pooling does; the window starts follow torch's formula, so
with the same ``_random_samples`` the results and indices are torch's."""
import math

from ..engine import creation
from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError, ShapeError
from ._pool_conv import ntuple

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]

_AXES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _ratios(value, n):
    """``output_ratio`` as n floats (a number is repeated), as torch's _pair/_triple."""
    value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return tuple(float(v) for v in (value * n if len(value) == 1 else value))


def _fractional_starts(xp, u, size, out, k):
    """(N, C, out) window starts along one axis, torch's formula in the samples' dtype:
    alpha = (size - k) / (out - 1), start_i = int((i + u) alpha) - int(u alpha), the last
    start size - k."""
    starts = xp.full(u.shape + (out,), size - k, dtype=xp.int64)
    if out > 1:
        alpha = u.dtype.type(size - k) / u.dtype.type(out - 1)
        i = xp.arange(out - 1).astype(u.dtype)
        starts[..., :-1] = (xp.floor((i + u[..., None]) * alpha).astype(xp.int64)
                            - xp.floor(u * alpha).astype(xp.int64)[..., None])
    return starts


def _fractional_max(input, kernel_size, output_size, output_ratio, return_indices, samples,
                    n):
    name = f"fractional_max_pool{n}d"
    if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2):
        raise ShapeError(f"{name}: expected {n + 1}D or {n + 2}D input, got "
                         f"{getattr(input, 'ndim', type(input).__name__)}D")
    k = ntuple(kernel_size, n, "kernel_size")
    spatial = tuple(input.shape[-n:])
    if output_size is None:
        if output_ratio is None:
            raise ArgumentError(f"{name} requires specifying either an output_size or an "
                                "output_ratio")
        ratio = _ratios(output_ratio, n)
        output_size = [int(s * r) for s, r in zip(spatial, ratio)]
    size = ntuple(output_size, n, "output_size")
    for axis, s_in, o, kk in zip(_AXES[n], spatial, size, k):
        if o + kk - 1 > s_in:
            raise GradvizError(f"{name}(): pool {axis} {kk} too large relative to input "
                               f"{axis} {s_in}")
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    N, C = x.shape[:2]
    if samples is None:   # torch draws them per call: one u per plane and axis
        samples = creation.rand(N, C, n, dtype=input.dtype, device=input.device)
    if samples.ndim != 3 or samples.shape[0] < N or samples.shape[2] != n:
        raise ShapeError(f"{name}: _random_samples must be ({N}, {C}, {n}), got "
                         f"{tuple(samples.shape)}")
    if samples.shape[1] != C:
        raise ShapeError("Expect _random_samples.size(1) equals to input channel size.")
    xp = xp_of(x._data)
    u = samples._data[:N]
    # torch's sample order: [w, h] in 2-D, [t, h, w] in 3-D
    axis_sample = (1, 0) if n == 2 else (0, 1, 2)
    key = [Tensor._wrap(xp.arange(N).reshape((N,) + (1,) * (2 * n + 1))),
           Tensor._wrap(xp.arange(C).reshape((1, C) + (1,) * (2 * n)))]
    pos = 0
    tables = []
    for j in range(n):   # index arrays broadcast to (N, C, o1, k1, o2, k2, ...)
        t = (_fractional_starts(xp, u[..., axis_sample[j]], spatial[j], size[j], k[j])[..., None]
             + xp.arange(k[j]))
        tables.append(t)
        shape = [N, C] + [1] * (2 * n)
        shape[2 + 2 * j: 4 + 2 * j] = t.shape[2:]
        key.append(Tensor._wrap(t.reshape(shape)))
        pos = pos + t.reshape(shape) * math.prod(spatial[j + 1:])
    order = [0, 1] + [2 + 2 * j for j in range(n)] + [3 + 2 * j for j in range(n)]
    win = x[tuple(key)].permute(*order)
    out, arg = win.reshape(N, C, *size, math.prod(k)).max(-1)   # first maximum, row-major
    idx = None
    if return_indices:
        flat = xp.transpose(pos, order).reshape(N, C, -1, math.prod(k))
        idx = xp.take_along_axis(flat, arg._data.reshape(N, C, -1, 1), -1)
        idx = Tensor._wrap(idx.reshape(out.shape).astype(xp.int64))
    if unbatched:
        out, idx = out.squeeze(0), (idx.squeeze(0) if idx is not None else None)
    return (out, idx) if return_indices else out


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over pseudo-random windows of size ``kernel_size`` placed to give ``output_size``
    (or ``output_ratio`` of the input), over (N, C, H, W) or (C, H, W)."""
    return _fractional_max(input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over pseudo-random windows of size ``kernel_size`` placed to give ``output_size``
    (or ``output_ratio`` of the input), over (N, C, D, H, W) or (C, D, H, W)."""
    return _fractional_max(input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples, 3)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """(output, indices) of fractional_max_pool2d, whatever ``return_indices``."""
    return _fractional_max(input, kernel_size, output_size, output_ratio, True,
                           _random_samples, 2)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """(output, indices) of fractional_max_pool3d, whatever ``return_indices``."""
    return _fractional_max(input, kernel_size, output_size, output_ratio, True,
                           _random_samples, 3)
