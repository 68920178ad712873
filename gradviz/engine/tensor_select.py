"""torch's Tensor methods that reorder, select and write by index: flip, roll, movedim,
unbind, tile, repeat_interleave, tril/triu, diagonal/diag/trace, sort/argsort/topk/kthvalue/
median, index_select/masked_select/narrow, scatter/scatter_add/index_add/index_fill. Each is a
thin call of one Function class or of existing methods, so gradients flow through them."""
import numbers

import numpy as np

from ..errors import DimError, GradvizError, ShapeError
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims, positions
from .tensor import Tensor
from .tensor_methods import _as_tensor
from .tensor_reduce import values_indices
from .tensor_shape import index_along


# ---- reordering and reshaping ---------------------------------------------------------
def _one_dim(self, dim, what):
    d = norm_dims(dim, self.ndim)
    if not self.ndim:
        raise DimError(f"{what}() cannot be applied to a 0-dim tensor")
    return d[0]


def _reduced_dim(self, dim, what):
    """``dim`` normalised (0 for a 0-d tensor), refused as torch when it has no elements."""
    if not self.ndim:
        norm_dims(dim, 1)
        return 0
    d = norm_dims(dim, self.ndim)[0]
    if not self.shape[d]:
        raise DimError(f"{what}(): Expected reduction dim {d} to have non-zero size.")
    return d


def flip(self, *dims, **kwargs):
    """Reverse the order of elements along ``dims`` (positional, a list, or ``dims=``)."""
    if kwargs:
        if dims or set(kwargs) != {"dims"}:
            raise TypeError(f"flip() got unexpected arguments {sorted(kwargs)}; pass the dims "
                            "positionally or as dims=")
        dims = (kwargs["dims"],)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return O.Flip.apply(self, dims=norm_dims(dims, self.ndim) if dims else ())


def roll(self, shifts, dims=None):
    """Shift elements along ``dims`` (the flattened tensor when None), wrapping around."""
    if dims is None:
        return roll(self.flatten(), shifts, 0).reshape(*self.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise GradvizError(f"roll: shifts and dims must align: {len(shifts)} vs {len(dims)}")
    out = self
    for s, d in zip(shifts, dims):
        d = norm_dims(d, self.ndim)[0]
        n = self._data.shape[d]
        k = s % n if n else 0
        if k:
            lead = (slice(None),) * d
            from .functional import cat  # noqa: PLC0415
            out = cat([out[lead + (slice(n - k, None),)], out[lead + (slice(0, n - k),)]], d)
    return out


def movedim(self, source, destination):
    """Move dims ``source`` to ``destination`` (ints or tuples), keeping the others' order."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise GradvizError("movedim: Invalid source or destination dims")
    src = [norm_dims(d, self.ndim)[0] for d in src]
    dst = [norm_dims(d, self.ndim)[0] for d in dst]
    order = [None] * self.ndim
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(self.ndim) if d not in src)
    return self.permute(*[o if o is not None else next(rest) for o in order])


def unbind(self, dim=0):
    """The slices along ``dim``, as a tuple."""
    d = _one_dim(self, dim, "unbind")
    return tuple(self[(slice(None),) * d + (i,)] for i in range(self._data.shape[d]))


def tile(self, *dims):
    """Repeat the whole tensor ``dims`` times per dim (leading 1s added as torch does)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    dims = (1,) * (self.ndim - len(dims)) + tuple(int(d) for d in dims)
    x = self.reshape((1,) * (len(dims) - self.ndim) + tuple(self.shape))
    return x.repeat(*dims)


def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along ``dim``) repeated ``repeats`` times in place; with no
    ``repeats``, self holds them: i repeated self[i] times (``torch.repeat_interleave(r)``)."""
    if repeats is None:
        if self.ndim != 1:
            raise ShapeError("repeat_interleave only accept 1D vector as repeat")
        _integer_repeats(self._data)
        return repeat_interleave(Tensor._wrap(xp_of(self._data).arange(self._data.shape[0])),
                                 self)
    x = self.reshape(-1) if dim is None else self
    d = 0 if dim is None else _one_dim(x, dim, "repeat_interleave")
    n = x._data.shape[d]
    xp = xp_of(x._data)
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise ShapeError("repeats must be 0-dim or 1-dim tensor")
        _integer_repeats(repeats._data)
        reps = repeats._data.reshape(-1).astype(xp.int64)
        if reps.size not in (1, n):
            raise ShapeError("repeats must have the same size as input along dim, but got "
                             f"repeats.size(0) = {reps.size} and input.size({d}) = {n} "
                             f"(give 1 or {n})")
        if bool((reps < 0).any()):
            raise GradvizError("repeats can not be negative")
    else:
        reps = xp.asarray(repeats, dtype=xp.int64).reshape(-1)
        if reps.size not in (1, n) or bool((reps < 0).any()):
            raise GradvizError(f"repeat_interleave: repeats must have 1 or {n} non-negative "
                               f"entries, got {int(reps.size)}")
    idx = xp.repeat(xp.arange(n), reps if reps.size == n else int(reps[0]))
    return x.index_select(d, Tensor._wrap(idx))


def _integer_repeats(reps):
    if reps.dtype.kind not in "iu":
        name = {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
            reps.dtype.name, reps.dtype.name.capitalize())
        raise GradvizError(f'"repeat_interleave_cpu" not implemented for \'{name}\'')


# ---- triangles and diagonals ----------------------------------------------------------
def _triangle(keep_lower):
    def method(self, diagonal=0):
        if self.ndim < 2:
            raise ShapeError(f"{method.__name__}: input tensor must have at least 2 "
                             "dimensions")
        xp = xp_of(self._data)
        n, m = self._data.shape[-2:]
        tri = xp.tri(n, m, k=diagonal, dtype=bool) if keep_lower else \
            ~xp.tri(n, m, k=diagonal - 1, dtype=bool)
        return self.masked_fill(Tensor._wrap(~tri), 0)
    method.__name__ = "tril" if keep_lower else "triu"
    method.__doc__ = ("Zero the elements above" if keep_lower else "Zero the elements below") \
        + " the ``diagonal``-th diagonal of the last two dims."
    return method


def diagonal(self, offset=0, dim1=0, dim2=1):
    """The ``offset``-th diagonal of the (dim1, dim2) planes, as the last dim (a pick)."""
    if self.ndim < 2:
        raise ShapeError("diagonal(): the input must have at least 2 dims")
    d1, d2 = (norm_dims(d, self.ndim)[0] for d in (dim1, dim2))
    if d1 == d2:
        raise ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = self.movedim((d1, d2), (-2, -1))
    n, m = x.shape[-2:]
    rows0, cols0 = (0, offset) if offset >= 0 else (-offset, 0)
    k = max(0, min(n - rows0, m - cols0))
    xp = xp_of(self._data)
    rows, cols = xp.arange(rows0, rows0 + k), xp.arange(cols0, cols0 + k)
    return x[(Ellipsis, Tensor._wrap(rows), Tensor._wrap(cols))]


def diag(self, diagonal=0):
    """1-D: a square matrix with ``self`` on the ``diagonal``-th diagonal; 2-D: that
    diagonal."""
    if self.ndim == 2:
        return self.diagonal(diagonal)
    if self.ndim != 1:
        raise ShapeError("diag(): expected a 1-D or 2-D tensor")
    n = self._data.shape[0]
    size = n + abs(diagonal)
    xp = xp_of(self._data)
    idx = xp.arange(n)
    key = (idx, idx + diagonal) if diagonal >= 0 else (idx - diagonal, idx)
    return O.IndexAdd.apply(self, shape=(size, size), key=key, unique=True)


def trace(self):
    """Sum of the main diagonal of a 2-D tensor."""
    if self.ndim != 2:
        raise ShapeError("trace(): expected a matrix")
    return self.diagonal().sum()


# ---- sorting (values are a gather, so their gradient flows) ----------------------------
def _order(self, dim, descending):
    """Indices that sort ``self`` along ``dim`` (stable: ties keep their order). NaN counts
    as larger than everything, as torch: last ascending, first descending."""
    d = norm_dims(dim, self.ndim)
    x = self._data
    xp = xp_of(x)
    if x.dtype.kind == "c":   # NumPy would order complex values lexicographically
        raise GradvizError("sort, argsort and topk do not support complex tensors (complex "
                           "numbers have no order); sort .abs() or .real instead")
    if not d:
        return x, 0, xp.zeros(x.shape, dtype="int64")
    d = d[0]
    if not descending:
        return x, d, xp.argsort(x, axis=d, kind="stable")   # NumPy and CuPy put NaN last
    if x.dtype.kind != "f":   # ~x reverses the order of ints and bools, with no overflow
        return x, d, xp.argsort(~x, axis=d, kind="stable")
    idx = xp.argsort(-x, axis=d, kind="stable")   # NaNs last: move them to the front
    n = x.shape[d]
    if not n:
        return x, d, idx
    nans = xp.sum(xp.isnan(x), axis=d, keepdims=True)
    return x, d, xp.take_along_axis(idx, (positions(xp, n, d, x.ndim) - nans) % n, axis=d)


def _picked(self, d, idx, name):
    """torch.return_types.<name>: the values at ``idx`` along ``d`` (a Gather, so gradients
    reach those places; the indices are ours: no bounds check, no trip to the host) and
    the indices."""
    values = O.Gather.apply(self, Tensor._wrap(idx), dim=d) if self.ndim else self.clone()
    return values_indices(values, Tensor._wrap(idx), name)


def sort(self, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; gradients flow to the values' places."""
    _, d, idx = _order(self, dim, descending)
    return _picked(self, d, idx, "sort")


def argsort(self, dim=-1, descending=False, stable=False):
    """The indices that sort ``self`` along ``dim``."""
    return Tensor._wrap(_order(self, dim, descending)[2])


def topk(self, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim``: (values, indices)."""
    x, d, idx = _order(self, dim, largest)
    size = x.shape[d] if x.ndim else 1
    if not 0 <= k <= size:
        raise GradvizError(f"topk: selected index k={k} out of range (size {size})")
    if x.ndim:
        idx = idx[(slice(None),) * d + (slice(0, k),)]
    return _picked(self, d, idx, "topk")


def _squeezed(picked, d, keepdim):
    """(values, indices) without their size-1 dim ``d`` unless ``keepdim``."""
    if keepdim or not picked.values.ndim:
        return picked
    return picked._replace(values=picked.values.squeeze(d), indices=picked.indices.squeeze(d))


def kthvalue(self, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (1-based): (values, indices)."""
    d = _reduced_dim(self, dim, "kthvalue")
    n = self._data.shape[d] if self.ndim else 1
    if not 1 <= k <= n:
        raise GradvizError(f"kthvalue(): selected number k out of range for dimension {d}")
    idx = _order(self, d, False)[2]
    if self.ndim:
        idx = idx[(slice(None),) * d + (slice(k - 1, k),)]
    return _squeezed(_picked(self, d, idx, "kthvalue"), d, keepdim)


def _middle(self, d):
    """Where the lower median sits along ``d`` (a size-1 dim there): the first NaN's place
    in a slice that has one, as torch (a median of data with NaN is NaN)."""
    x = self._data
    xp = xp_of(x)
    n = x.shape[d]
    nans = xp.sum(x != x, axis=d, keepdims=True)
    at = xp.where(nans > 0, n - nans, (n - 1) // 2)   # NaNs sort last, in their order
    return xp.take_along_axis(_order(self, d, False)[2], at, axis=d)


def median(self, dim=None, keepdim=False):
    """The lower median (of everything, or (values, indices) along ``dim``), as torch."""
    if self._data.dtype.kind == "b":
        raise GradvizError(f'"{"median_cpu" if dim is None else "median_out"}" not '
                           "implemented for 'Bool'")
    if dim is None:
        if not self.numel():
            return empty_median(self)
        return O.Median.apply(self)
    d = _reduced_dim(self, dim, "median")
    idx = _middle(self, d) if self.ndim else xp_of(self._data).zeros((), "int64")
    return _squeezed(_picked(self, d, idx, "median"), d, keepdim)


def empty_median(self):
    """torch's median of no elements: NaN (in the graph, an empty gradient), an integer
    type's lowest value."""
    if self._data.dtype.kind == "f":
        return self.sum() * float("nan")
    return Tensor._wrap(xp_of(self._data).asarray(np.iinfo(self._data.dtype).min,
                                                  dtype=self._data.dtype))


# ---- selection (through __getitem__: one Getitem node) -------------------------------
def index_select(self, dim, index):
    """The slices at ``index`` (1-D integers) along ``dim``."""
    d = _one_dim(self, dim, "index_select")
    idx = index._data if isinstance(index, Tensor) else xp_of(self._data).asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise GradvizError("index_select(): index must be a 1-D tensor of integers, got "
                           f"{idx.ndim}-D {idx.dtype}")
    return self[(slice(None),) * d + (Tensor._wrap(idx.reshape(-1)),)]


def masked_select(self, mask):
    """The elements where the (broadcast) bool ``mask`` holds, as a 1-D tensor."""
    m = mask._data if isinstance(mask, Tensor) else mask
    if getattr(m, "dtype", None) is None or m.dtype.kind != "b":
        raise GradvizError("masked_select: expected a bool mask")
    shape = np.broadcast_shapes(self._data.shape, m.shape)   # shapes only: host-side
    x = self if tuple(self.shape) == shape else self.expand(*shape)
    m = m if m.shape == shape else xp_of(m).broadcast_to(m, shape)
    return x[Tensor._wrap(m)]


def narrow(self, dim, start, length):
    """``length`` elements from ``start`` along ``dim`` (a view, as a slice)."""
    d = _one_dim(self, dim, "narrow")
    n = self._data.shape[d]
    start = int(start) + (n if int(start) < 0 else 0)
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise ShapeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return self[(slice(None),) * d + (slice(start, start + length),)]


# ---- scatter and index_add: the writes that gather and indexing read -------------------
def _as_src(self, src, idx, what):
    src = src if isinstance(src, Tensor) else _as_tensor(src, self)
    if src.dtype != self.dtype:
        raise GradvizError(f"{what}(): Expected self.dtype to be equal to src.dtype")
    if src.ndim != idx.ndim or any(n > m for n, m in zip(idx.shape, src._data.shape)):
        raise ShapeError(f"{what}(): Expected index {list(idx.shape)} to be smaller than src "
                         f"{list(src.shape)}")
    return src


def scatter(self, dim, index, src=None, value=None, reduce=None):
    """``self`` with ``src`` (a tensor) or ``value`` (a number) written at ``index`` along
    ``dim``: out[i][index[i][j]] = src[i][j] (dim 1). torch's older ``reduce="add"`` or
    ``"multiply"`` adds or multiplies instead (``scatter_reduce``'s sum or prod, with self)."""
    d, idx = index_along(self, dim, index, "scatter")
    if isinstance(src, numbers.Number) and value is None:
        src, value = None, src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise GradvizError("reduce argument must be either add or multiply.")
        if src is None:
            xp = xp_of(self._data)
            src = Tensor._wrap(xp.full(idx.shape, 0 if value is None else value,
                                       dtype=self._data.dtype))
        return self.scatter_reduce(dim, Tensor._wrap(idx), src,
                                   "sum" if reduce == "add" else "prod", include_self=True)
    if src is None:
        return O.Scatter.apply(self, idx, dim=d, value=0.0 if value is None else value)
    return O.Scatter.apply(self, idx, _as_src(self, src, idx, "scatter"), dim=d)


def scatter_add(self, dim, index, src):
    """``self`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    d, idx = index_along(self, dim, index, "scatter_add")
    return O.ScatterAdd.apply(self, idx, _as_src(self, src, idx, "scatter_add"), dim=d)


def index_add(self, dim, index, source, alpha=1):
    """``self`` with ``alpha * source`` added at the slices ``index`` (1-D) along ``dim``."""
    d = _one_dim(self, dim, "index_add")
    idx = index._data if isinstance(index, Tensor) else xp_of(self._data).asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise GradvizError("index_add(): index must be a 1-D tensor of integers")
    key = (slice(None),) * d + (idx.reshape(-1),)
    source = source * alpha if alpha != 1 else source
    return self + O.IndexAdd.apply(source, shape=tuple(self._data.shape), key=key)


def index_fill(self, dim, index, value):
    """``self`` with ``value`` at the slices ``index`` (1-D) along ``dim``."""
    d = _one_dim(self, dim, "index_fill")
    xp = xp_of(self._data)
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    mask = xp.zeros(self._data.shape[d], dtype=bool)
    mask[idx.reshape(-1)] = True
    shape = [1] * self.ndim
    shape[d] = -1
    return self.masked_fill(Tensor._wrap(mask.reshape(shape)), value)


_METHODS = {
    "flip": flip, "roll": roll, "movedim": movedim, "moveaxis": movedim, "unbind": unbind,
    "tile": tile, "repeat_interleave": repeat_interleave, "tril": _triangle(True),
    "triu": _triangle(False), "diagonal": diagonal, "diag": diag, "trace": trace,
    "sort": sort, "argsort": argsort, "topk": topk, "kthvalue": kthvalue, "median": median,
    "index_select": index_select, "masked_select": masked_select, "narrow": narrow,
    "scatter": scatter, "scatter_add": scatter_add, "index_add": index_add,
    "index_fill": index_fill,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
# gv.<name> too; not ``trace``: gv.trace is the tracer (use ``x.trace()``)
NAMES = [n for n in _METHODS if n != "trace"]
