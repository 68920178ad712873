"""More of torch's writes by index: scatter_reduce, index_copy, index_put, masked_scatter and
their in-place forms (on tensors that need no grad, as torch's). Each is one Function class
(ops/index_more.py; index_copy is a Scatter with its index spread over source's shape)."""
import numpy as np

from ..errors import GradvizError, ShapeError
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Tensor
from .tensor_inplace import _unary_
from .tensor_methods import _as_tensor
from .tensor_select import _as_src
from .tensor_shape import index_along

REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _array(index, like):
    return index._data if isinstance(index, Tensor) else xp_of(like._data).asarray(index)


def _in_bounds(idx, size, dim, what, negative=False):
    """Refuse an index outside [0, size) (or [-size, size) when ``negative``), as torch."""
    if not idx.size:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < (-size if negative else 0) or hi >= size:
        bad = lo if lo < (-size if negative else 0) else hi
        raise GradvizError(f"{what}: index {bad} is out of bounds for dimension {dim} with "
                           f"size {size}")


def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
    """``self`` with ``src`` reduced into the places ``index`` along ``dim`` by ``reduce``
    ("sum", "prod", "mean", "amax", "amin"); ``include_self=False`` leaves self's values
    at those places out of the reduction."""
    if reduce not in REDUCES:
        raise GradvizError("reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    d, idx = index_along(self, dim, index, "scatter_reduce")
    src = _as_src(self, src, idx, "scatter_reduce")
    if not self.ndim:   # a 0-d tensor: as a 1-element one (as gather does)
        return scatter_reduce(self.reshape(1), 0, Tensor._wrap(idx.reshape(1)),
                              src.reshape(1), reduce, include_self=include_self).reshape(())
    return O.ScatterReduce.apply(self, idx, src, dim=d, reduce=reduce,
                                 include_self=bool(include_self))


def index_copy(self, dim, index, source):
    """``self`` with the slices ``index`` (1-D) along ``dim`` replaced by ``source``'s."""
    d = norm_dims(dim, max(self.ndim, 1))[0]
    idx = _array(index, self)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise GradvizError("index_copy_(): Index should have dimension 1 or 0 (got "
                           f"{idx.ndim}) and hold integers")
    source = source if isinstance(source, Tensor) else _as_tensor(source, self)
    if source.dtype != self.dtype:
        raise GradvizError("index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {self.dtype} and (source) {source.dtype}")
    if not self.ndim:
        return index_copy(self.reshape(1), 0, Tensor._wrap(idx.reshape(1)),
                          source.reshape(1)).reshape(())
    idx = idx.reshape(-1)
    if source.ndim != self.ndim or any(a != b for i, (a, b) in
                                       enumerate(zip(source.shape, self.shape)) if i != d):
        raise ShapeError("index_copy_(): Source/destination tensor must have same slice "
                         f"shapes. Destination {list(self.shape)}, source "
                         f"{list(source.shape)}, dim {d}")
    if source.shape[d] != idx.size:
        raise ShapeError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({source.shape[d]})")
    _in_bounds(idx, self.shape[d], d, "index_copy_()")
    shape = [1] * self.ndim
    shape[d] = -1
    spread = xp_of(idx).broadcast_to(idx.reshape(shape), tuple(source.shape))
    return O.Scatter.apply(self, spread, source, dim=d)


def _index_key(self, indices):
    """The tuple of integer arrays (bool masks as their nonzero places, negatives counted
    from the end) that ``indices`` name, checked as torch checks them."""
    key = []
    for t in indices:
        a = _array(t, self)
        if a.dtype.kind == "b":
            key.extend(xp_of(a).nonzero(a))
        elif a.dtype.kind in "iu":
            key.append(a)
        else:
            raise GradvizError("tensors used as indices must be long, int, byte or bool "
                               f"tensors, got {a.dtype}")
    if len(key) > self.ndim:
        raise GradvizError(f"too many indices for tensor of dimension {self.ndim} "
                           f"(got {len(key)})")
    out = []
    for i, a in enumerate(key):
        size = self.shape[i]
        _in_bounds(a, size, i, "index_put", negative=True)
        out.append(xp_of(a).where(a < 0, a + size, a))
    return tuple(out)


def index_put(self, indices, values, accumulate=False):
    """``self`` with ``values`` written at ``self[indices]`` (a tuple of integer tensors),
    or added there when ``accumulate`` (repeated places add up)."""
    key = _index_key(self, tuple(indices))
    values = values if isinstance(values, Tensor) else _as_tensor(values, self)
    if values.dtype != self.dtype:
        raise GradvizError("Index put requires the source and destination dtypes match, got "
                           f"{self.dtype} for the destination and {values.dtype} for the "
                           "source.")
    picked = np.broadcast_shapes(*(a.shape for a in key)) + tuple(self.shape[len(key):])
    try:
        ok = np.broadcast_shapes(tuple(values.shape), picked) == picked
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot "
                         f"be broadcast to indexing result of shape {list(picked)}")
    return O.IndexPut.apply(self, values, key=key, accumulate=bool(accumulate))


def masked_scatter(self, mask, source):
    """``self`` with ``source``'s elements, in order, written where the bool ``mask``
    (broadcast) holds."""
    m = _array(mask, self)
    if m.dtype.kind != "b":
        raise GradvizError(f"masked_scatter_: expected BoolTensor for mask, got {m.dtype}")
    source = source if isinstance(source, Tensor) else _as_tensor(source, self)
    if source.dtype != self.dtype:
        raise GradvizError("masked_scatter: expected self and source to have same dtypes "
                           f"but got {self.dtype} and {source.dtype}")
    shape = np.broadcast_shapes(tuple(self.shape), m.shape)   # shapes only: host-side
    x = self if tuple(self.shape) == shape else self.expand(*shape)
    m = m if m.shape == shape else xp_of(m).broadcast_to(m, shape)
    if int(m.sum()) > source.numel():
        raise GradvizError("masked_scatter: Number of elements of source < number of ones "
                           "in mask")
    return O.MaskedScatter.apply(x, source, m)


_METHODS = {
    "scatter_reduce": scatter_reduce, "index_copy": index_copy, "index_put": index_put,
    "masked_scatter": masked_scatter,
}
_METHODS.update({n + "_": _unary_(n + "_", n) for n in list(_METHODS)})
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
NAMES = list(_METHODS)   # gv.<name> too
