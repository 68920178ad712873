"""Sliding windows as strided views (im2col) and their adjoint (col2im), for conv and pooling.

``windows`` is a view, no copy; ``fold`` sums windows back into an image with
one vectorised add per kernel offset (never a loop over pixels or batch items).
"""
import itertools

import numpy as np


def as_strided(xp, a, shape, strides):
    """A read-only strided view of ``a`` (NumPy or CuPy)."""
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)  # pragma: no cover - GPU only


def out_size(size, k, s, d, lo, hi):
    """Number of windows along one axis of ``size`` padded by (lo, hi)."""
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def windows(xp, x, k, s, d, o):
    """View (N, C, *k, *o) of x (N, C, *S): window ``o`` at offset ``k`` (stride s, dilation d)."""
    st = x.strides
    n = len(k)
    shape = tuple(x.shape[:2]) + tuple(k) + tuple(o)
    strides = tuple(st[:2]) + tuple(st[2 + i] * d[i] for i in range(n)) \
        + tuple(st[2 + i] * s[i] for i in range(n))
    return as_strided(xp, x, shape, strides)


def fold(xp, cols, full, s, d, out=None):
    """Adjoint of ``windows``: sum cols (N, C, *k, *o) into an array (N, C, *full)."""
    n = len(full)
    k = cols.shape[2:2 + n]
    o = cols.shape[2 + n:]
    if out is None:
        out = xp.zeros(tuple(cols.shape[:2]) + tuple(full), dtype=cols.dtype)
    for off in itertools.product(*(range(kk) for kk in k)):
        sl = (slice(None), slice(None)) + tuple(
            slice(off[i] * d[i], off[i] * d[i] + s[i] * (o[i] - 1) + 1, s[i]) for i in range(n))
        out[sl] += cols[(slice(None), slice(None)) + off]
    return out


def pad(xp, x, pads, value=0):
    """x (N, C, *S) padded by ``pads`` = ((lo, hi), ...) on the spatial axes."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return xp.pad(x, ((0, 0), (0, 0)) + tuple(pads), mode="constant", constant_values=value)


def crop(x, pads):
    """Undo ``pad``: the inner region of x (N, C, *S)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return x[(slice(None), slice(None))
             + tuple(slice(lo, x.shape[2 + i] - hi) for i, (lo, hi) in enumerate(pads))]
