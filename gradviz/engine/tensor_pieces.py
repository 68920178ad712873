"""torch's Tensor methods that cut a tensor into pieces or pick its elements: diff,
tensor_split/hsplit/vsplit/dsplit, select, take, take_along_dim, rot90, unfold (windows),
nonzero/argwhere, and the order statistics quantile/nanquantile, mode and nanmedian. Each
is a composition of existing ops (slices, Getitem, Gather, Flip...), so gradients reach the
picked places. Registered on Tensor by tensor_extra.py."""
import numbers

import numpy as np

from ..errors import DimError, GradvizError, ShapeError
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Tensor
from .tensor_reduce import values_indices


def dim_of(self, dim, what):
    """``dim`` as a non-negative int, for an op that needs at least one dimension."""
    if not self.ndim:
        raise DimError(f"{what}() cannot be applied to a 0-dim tensor")
    return norm_dims(dim, self.ndim)[0]


def _along(d, key):
    """The index tuple that applies ``key`` along dim ``d``."""
    return (slice(None),) * d + (key,)


def diff(self, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first);
    bool tensors give where neighbours differ."""
    if not self.ndim:
        raise ShapeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise GradvizError(f"order must be non-negative but got {n}")
    d = norm_dims(dim, self.ndim)[0]
    extra = [p for p in (prepend, append) if p is not None]
    if any(p.ndim != self.ndim for p in extra):
        raise ShapeError("diff expects prepend or append to be the same dimension as input")
    x = self
    if extra:
        from .functional import cat  # noqa: PLC0415 - functional imports this module
        x = cat([p for p in (prepend, self, append) if p is not None], d)
    for _ in range(n):
        hi, lo = x[_along(d, slice(1, None))], x[_along(d, slice(None, -1))]
        x = hi != lo if x._data.dtype.kind == "b" else hi - lo
    return x


def _sections(n, parts):
    if parts <= 0:
        raise GradvizError(f"number of sections must be larger than 0, got {parts}")
    size, more = divmod(n, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + size + (i < more))
    return bounds


def tensor_split(self, indices_or_sections, dim=0):
    """Views along ``dim``: ``n`` nearly equal parts (the first ones one longer), or the
    pieces between the given indices (as Python slices: clamped, possibly empty)."""
    if not self.ndim:
        raise DimError("tensor_split expected at least a 1-dimensional tensor, but got a "
                       "tensor with 0 dims")
    d = norm_dims(dim, self.ndim)[0]
    cut = indices_or_sections
    if isinstance(cut, Tensor):
        if cut._data.dtype.kind not in "iu" or cut.ndim > 1:
            raise GradvizError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor of integers")
        cut = cut.tolist()
    if isinstance(cut, numbers.Integral):
        bounds = _sections(self.shape[d], int(cut))
    else:
        bounds = [0] + [int(i) for i in cut] + [None]
    return tuple(self[_along(d, slice(a, b))] for a, b in zip(bounds, bounds[1:]))


def _split_at(name, dim, min_dims):
    def method(self, indices_or_sections):
        if self.ndim < min_dims:
            raise ShapeError(f"torch.{name} requires a tensor with at least {min_dims} "
                             f"dimension, but got a tensor with {self.ndim} dimensions!")
        d = 0 if self.ndim == 1 else dim
        parts = indices_or_sections
        if isinstance(parts, numbers.Integral) and parts > 0 and self.shape[d] % parts:
            raise GradvizError(f"torch.{name} attempted to split along dimension {d}, but "
                               f"the size of the dimension {self.shape[d]} is not divisible "
                               f"by the split_size {parts}!")
        return tensor_split(self, parts, d)
    method.__name__ = name
    method.__doc__ = f"``tensor_split`` along dim {dim} into equal parts or at indices."
    return method


def select(self, dim, index):
    """The slice at ``index`` along ``dim`` (that dim removed)."""
    d = dim_of(self, dim, "select")
    n, i = self.shape[d], int(index)
    if not -n <= i < n:
        raise DimError(f"select(): index {i} out of range for tensor of size "
                       f"{list(self.shape)} at dimension {d}")
    return self[_along(d, i)]


def take(self, index):
    """The elements at ``index`` of the flattened tensor (negative counts from the end);
    shaped as ``index``."""
    xp = xp_of(self._data)
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if idx.dtype.kind not in "iu":
        raise GradvizError(f"take(): Expected a long tensor for index, but got {idx.dtype}")
    n = self.numel()
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())   # torch checks the range too
        if lo < -n or hi >= n:
            raise DimError(f"out of range: tried to access index {hi if hi >= n else lo} on a "
                           f"tensor of {n} elements.")
    return self.reshape(-1)[Tensor._wrap(idx)]


def take_along_dim(self, indices, dim=None):
    """``gather`` along ``dim`` after broadcasting ``self`` and ``indices`` everywhere
    else (of the flattened tensor when dim is None)."""
    if dim is None:
        return self.reshape(-1).gather(0, indices.reshape(-1))
    if indices.ndim != self.ndim:
        raise ShapeError(f"torch.take_along_dim(): input and indices should have the same "
                         f"number of dimensions, but got {self.ndim} dimensions for input, "
                         f"and {indices.ndim} dimensions for indices")
    d = dim_of(self, dim, "take_along_dim")
    size = list(self.shape)
    size[d] = indices.shape[d]
    shape = list(np.broadcast_shapes(tuple(size), tuple(indices.shape)))
    idx = xp_of(indices._data).broadcast_to(indices._data, tuple(shape))
    shape[d] = self.shape[d]
    x = self if list(self.shape) == shape else self.expand(*shape)
    return x.gather(d, Tensor._wrap(idx))


def rot90(self, k=1, dims=(0, 1)):
    """Rotated by 90 degrees ``k`` times, from the first of ``dims`` towards the second."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise GradvizError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if self.ndim < 2:
        raise ShapeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
    d0, d1 = (norm_dims(d, self.ndim)[0] for d in dims)
    if d0 == d1:
        raise GradvizError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return self.flip(d1).transpose(d0, d1)
    if k == 2:
        return self.flip(d0, d1)
    if k == 3:
        return self.flip(d0).transpose(d0, d1)
    return self.clone()


def unfold(self, dimension, size, step):
    """The windows of ``size`` elements, ``step`` apart, along ``dimension``, in a new last
    dim (one index op: its gradient adds up where windows overlap)."""
    if size < 0 or step <= 0:
        raise GradvizError(f"unfold: size is {size} and step is {step}, but size must be >= 0 "
                           "and step > 0")
    if not self.ndim:
        if size > 1:
            raise ShapeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        return self.reshape(1)[:size]
    d = norm_dims(dimension, self.ndim)[0]
    n = self.shape[d]
    if size > n:
        raise ShapeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    xp = xp_of(self._data)
    starts = xp.arange(0, n - size + 1, step).reshape(-1, 1)
    return self[_along(d, Tensor._wrap(starts + xp.arange(size)))].movedim(d + 1, -1)


# ---- index lists ------------------------------------------------------------------------------
def nonzero(self, *, as_tuple=False):
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor
    per dim with ``as_tuple`` (a 0-d tensor counts as one element)."""
    x = self._data
    xp = xp_of(x)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(xp.int64)) for i in xp.nonzero(x.reshape(x.shape or 1)))
    if not x.ndim:
        return Tensor._wrap(xp.argwhere(x.reshape(1))[:, :0].astype(xp.int64))
    return Tensor._wrap(xp.argwhere(x).astype(xp.int64))


def argwhere(self):
    """The indices of the non-zero elements, an (n, ndim) int64 tensor."""
    return nonzero(self)


# ---- order statistics: a Gather of the picked places, so gradients reach them ---------------
def _pick(x, index, d):
    """``x`` at ``index`` along ``d`` (our own indices: no range check, no trip to the host)."""
    return O.Gather.apply(x, Tensor._wrap(index), dim=d)


_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(self, q, name):
    """q as a 1-D array of the input's dtype, and whether it was a scalar."""
    xp = xp_of(self._data)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ShapeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != self.dtype:
            raise GradvizError(f"{name}() q tensor must be same dtype as the input tensor")
        qs = q._data.reshape(-1)
        if bool(((qs < 0) | (qs > 1)).any()):   # torch checks on the host too
            raise GradvizError(f"{name}() q values must be in the range [0, 1]")
        return qs, q.ndim == 0
    if not 0 <= float(q) <= 1:
        raise GradvizError(f"{name}() q must be in the range [0, 1] but got {q}")
    return xp.asarray([float(q)], dtype=self._data.dtype), True


def _quantile(self, q, dim, keepdim, interpolation, skip_nan):
    name = "nanquantile" if skip_nan else "quantile"
    if self._data.dtype.kind != "f":
        raise GradvizError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _MODES:
        raise GradvizError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if not self.numel():
        raise GradvizError(f"{name}() input tensor must be non-empty")
    qs, scalar = _quantile_q(self, q, name)
    d = None if dim is None else norm_dims(dim, self.ndim)
    x = self.reshape(-1) if not d else self.movedim(d[0], -1)
    xp, v = xp_of(x._data), x._data
    order = x.argsort(-1)._data   # NaN last
    nans = (v != v).sum(-1, keepdims=True)
    n = v.shape[-1]
    if skip_nan:   # the ranks among the numbers; a row of NaN only gives NaN (rank 0)
        ranks = xp.maximum(qs * (n - 1 - nans).astype(v.dtype), 0)
    else:          # NaN anywhere gives NaN: the last rank, where the NaNs sort
        ranks = xp.where(nans > 0, n - 1, qs * (n - 1)).astype(v.dtype)
    if interpolation != "linear" and interpolation != "midpoint":
        ranks = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}[interpolation](ranks)
    below = ranks.astype(xp.int64)
    out = _pick(x, xp.take_along_axis(order, below, axis=-1), -1)
    if interpolation in ("linear", "midpoint"):
        above = _pick(x, xp.take_along_axis(order, xp.ceil(ranks).astype(xp.int64), axis=-1), -1)
        weight = 0.5 if interpolation == "midpoint" else Tensor._wrap(ranks - xp.floor(ranks))
        out = out + (above - out) * weight   # torch's lerp
    out = out.squeeze(-1) if scalar else out.movedim(-1, 0)
    if keepdim:
        kept = [1 if d is None or i == d[0] else n for i, n in enumerate(self.shape)]
        out = out.reshape(tuple(out.shape[:1]) * (not scalar) + tuple(kept))
    return out


def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles (q a number or a 1-D tensor in [0, 1], which then leads the
    result) of everything or along ``dim``; NaN gives NaN."""
    return _quantile(self, q, dim, keepdim, interpolation, False)


def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` of the numbers only (NaN where there are none)."""
    return _quantile(self, q, dim, keepdim, interpolation, True)


def _reduced(self, dim, keepdim, place, name):
    """(values, indices) at the place ``place(moved data, xp)`` picks (a size-1 last dim of
    the data with ``dim`` moved last); the whole tensor when it is 0-d."""
    xp = xp_of(self._data)
    if not self.ndim:
        norm_dims(dim, 0)
        return values_indices(self.clone(), Tensor._wrap(xp.zeros((), dtype=xp.int64)), name)
    d = norm_dims(dim, self.ndim)[0]
    if not self.shape[d]:
        raise DimError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    index = xp.moveaxis(place(xp.moveaxis(self._data, d, -1), xp), -1, d)
    out = values_indices(_pick(self, index, d), Tensor._wrap(index), name)
    if keepdim:
        return out
    return out._replace(values=out.values.squeeze(d), indices=out.indices.squeeze(d))


def _mode_place(v, xp):
    """The most frequent value's last place (the smallest such value at ties), as torch."""
    order = xp.argsort(v, axis=-1, kind="stable")   # equal values keep their order
    s = xp.take_along_axis(v, order, axis=-1)
    n = s.shape[-1]
    starts = xp.concatenate([xp.ones(s.shape[:-1] + (1,), dtype=bool),
                             s[..., 1:] != s[..., :-1]], axis=-1)
    run = (xp.cumsum(starts, axis=-1) - 1).reshape(-1, n)   # which run of equals, per row
    rows = run.shape[0]
    run = run + xp.arange(rows).reshape(-1, 1) * n
    length = xp.bincount(run.reshape(-1), minlength=rows * n)[run].reshape(s.shape)
    most = length.max(axis=-1, keepdims=True)
    last = xp.argmax(length == most, axis=-1)[..., None] + most - 1   # the first run's end
    return xp.take_along_axis(order, last, axis=-1)


def _nanmedian_place(v, xp):
    """The lower median of the numbers (the first NaN's place in a row of NaN only)."""
    count = (v == v).sum(-1, keepdims=True)
    at = xp.maximum((count - 1) // 2, 0)
    return xp.take_along_axis(xp.argsort(v, axis=-1, kind="stable"), at, axis=-1)


def mode(self, dim=-1, keepdim=False):
    """(values, indices) of the most frequent value along ``dim``: the smallest at ties, at
    its last place."""
    return _reduced(self, dim, keepdim, _mode_place, "mode")


def nanmedian(self, dim=None, keepdim=False):
    """The lower median of the non-NaN elements (of everything, or (values, indices) along
    ``dim``)."""
    if self._data.dtype.kind == "b":
        raise GradvizError(f'"{"median_cpu" if dim is None else "median_out"}" not '
                           "implemented for 'Bool'")
    if dim is None:
        if not self._data.size:
            from .tensor_select import empty_median
            return empty_median(self)
        return _reduced(self.reshape(-1), 0, False, _nanmedian_place, "nanmedian").values
    return _reduced(self, dim, keepdim, _nanmedian_place, "nanmedian")


METHODS = {
    "diff": diff, "tensor_split": tensor_split, "hsplit": _split_at("hsplit", 1, 1),
    "vsplit": _split_at("vsplit", 0, 2), "dsplit": _split_at("dsplit", 2, 3),
    "select": select, "take": take, "take_along_dim": take_along_dim, "rot90": rot90,
    "nonzero": nonzero, "argwhere": argwhere, "quantile": quantile,
    "nanquantile": nanquantile, "mode": mode, "nanmedian": nanmedian,
}
