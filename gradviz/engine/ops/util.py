"""Small helpers shared by op backward formulas (written against ``xp``)."""
from ..backend import xp_of


def unbroadcast(xp, g, shape):
    """Sum ``g`` down to ``shape``: undo NumPy/torch broadcasting in a gradient."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = xp.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return g


def along(index, dim):
    """The index tuple that picks ``index[..., i, ...]`` along ``dim`` and the index's own
    position on every other axis: ``a[along(idx, d)]`` is ``take_along_axis(a, idx, d)``
    and can be assigned to (NumPy's ``indices(sparse=True)``, which CuPy lacks)."""
    xp, nd = xp_of(index), index.ndim
    return tuple(index if d == dim else xp.arange(n).reshape((n,) + (1,) * (nd - 1 - d))
                 for d, n in enumerate(index.shape))


def positions(xp, n, dim, ndim):
    """0 .. n-1 (int64) along ``dim``, shaped to broadcast against an array of ``ndim``
    dims."""
    return xp.arange(n, dtype=xp.int64).reshape((n,) + (1,) * (ndim - 1 - dim))


def shape_of(a):
    """Shape of an array or a Python scalar (scalars are shape ())."""
    return getattr(a, "shape", ())


def norm_dims(dim, ndim):
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    elif len(dim) == 0:  # torch: sum(dim=()) / sum(dim=[]) reduce over every dim
        return tuple(range(ndim))
    out = []
    for d in dim:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            from ...errors import DimError
            raise DimError(f"Dimension out of range (expected to be in range of "
                           f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        if ndim:  # a 0-d tensor accepts dim 0 / -1 and has no axis to reduce
            if d % ndim in out:
                from ...errors import ShapeError
                raise ShapeError(f"dim {d % ndim} appears multiple times in the list of dims")
            out.append(d % ndim)
    return tuple(sorted(out))


def running_dim(dim, ndim):
    """The dim of a running op (cumsum...) as an axis, None for a 0-d input (which accepts
    dim 0 and -1, as torch, and stays 0-d)."""
    d = norm_dims(dim, ndim)
    return d[0] if d else None


def keep(xp, g, shape, axes, keepdim):
    """Reinsert reduced axes into ``g`` (when keepdim was False) so it broadcasts to shape."""
    if not keepdim and axes and len(shape):
        g = xp.reshape(g, tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return g


def cj(a):
    """conj(a) for a complex array or number; anything real is returned as it is (no copy)."""
    dt = getattr(a, "dtype", None)
    if dt is not None:
        return a.conj() if dt.kind == "c" else a
    return a.conjugate() if isinstance(a, complex) else a
