"""Tensor shape ops and indexing: reshape/view, transpose, expand, split, gather, x[key]."""
import builtins as _b

import numpy as np

from ..errors import DimError, GradvizError, ShapeError
from . import dtypes
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Tensor


def _keyword(fname, args, name, value):
    """``args`` or torch's keyword form (``reshape(shape=...)``), never both."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{fname}() got multiple values for argument '{name}'")
    return (value,)


def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _check_dim(dim, ndim):
    """Raise torch's error for a dim outside [-ndim, ndim) (a 0-d tensor takes 0 and -1)."""
    norm_dims(dim, ndim)


def _infer_shape(shape, numel):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise ShapeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise ShapeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise ShapeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def reshape(self, *args, shape=None):
    """The same values in a new shape (one -1 is inferred)."""
    shape = _infer_shape(_shape_args(_keyword("reshape", args, "shape", shape)),
                         self._data.size)
    return O.Reshape.apply(self, shape=shape)


def view(self, *args, size=None, dtype=None):
    """Like reshape; the result shares memory with self."""
    if dtype is not None or (len(args) == 1 and isinstance(args[0], dtypes.dtype)):
        raise GradvizError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_args(_keyword("view", args, "size", size)), self._data.size)
    return O.View.apply(self, shape=shape)


def view_as(self, other):
    """View with other's shape."""
    return view(self, tuple(other.shape))


def reshape_as(self, other):
    """Reshape to other's shape."""
    return reshape(self, tuple(other.shape))


def flatten(self, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    nd = self.ndim
    for d in (start_dim, end_dim):
        _check_dim(d, nd)
    if nd == 0:
        return O.Flatten.apply(self, shape=(1,))
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ShapeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = self._data.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return O.Flatten.apply(self, shape=shp[:s] + (n,) + shp[e + 1:])


def unflatten(self, dim, sizes):
    """Split dim into ``sizes``."""
    shp = self._data.shape
    d = dim % self.ndim
    sizes = _infer_shape(tuple(sizes), shp[d])
    return O.Unflatten.apply(self, shape=shp[:d] + sizes + shp[d + 1:])


def squeeze(self, dim=None):
    """Drop size-1 dims (or only ``dim`` when it has size 1)."""
    shp = self._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        for d in dims:
            _check_dim(d, self.ndim)
        dims = {d % _b.max(self.ndim, 1) for d in dims} if self.ndim else set()
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    out = O.Squeeze.apply(self, shape=new)
    if dim is not None and out.grad_fn is not None:   # torch's squeeze(dim) / squeeze(dims)
        out.grad_fn.torch_name = "SqueezeBackward1" if isinstance(dim, int) else \
            "SqueezeBackward2"
    return out


def unsqueeze(self, dim):
    """Insert a size-1 dim at ``dim``."""
    nd = self.ndim + 1
    if not -nd <= dim < nd:
        raise DimError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}],"
                         f" but got {dim})")
    d = dim % nd
    shp = self._data.shape
    return O.Unsqueeze.apply(self, shape=shp[:d] + (1,) + shp[d:])


def transpose(self, dim0, dim1):
    """Swap two dims."""
    return O.Transpose.apply(self, dim0=dim0, dim1=dim1)


swapaxes = transpose


def t(self):
    """Transpose a ≤2-D tensor."""
    if self.ndim > 2:
        raise ShapeError("t() expects a tensor with <= 2 dimensions")
    return self if self.ndim < 2 else transpose(self, 0, 1)


def permute(self, *args, dims=None):
    """Reorder dims."""
    dims = _shape_args(_keyword("permute", args, "dims", dims))
    if sorted(d % _b.max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
        raise ShapeError(f"permute: dims {dims} do not match a tensor of {self.ndim} dims")
    return O.Permute.apply(self, dims=dims)


def expand(self, *args, size=None):
    """Broadcast to a bigger shape without copying (-1 keeps a dim)."""
    sizes = _shape_args(_keyword("expand", args, "size", size))
    shp = (1,) * (len(sizes) - self.ndim) + self._data.shape
    if len(sizes) < self.ndim:
        raise ShapeError("expand: the number of sizes must be >= the number of dims")
    new = tuple(s if t == -1 else t for s, t in zip(shp, sizes))
    for s, t in zip(shp, new):
        if s != t and s != 1:
            raise ShapeError(f"The expanded size of the tensor ({t}) must match the existing "
                             f"size ({s}) at a non-singleton dimension")
    return O.Expand.apply(self, shape=new)


def expand_as(self, other):
    """Expand to other's shape."""
    return expand(self, tuple(other.shape))


def repeat(self, *args, repeats=None):
    """Tile along each dim."""
    repeats = _shape_args(_keyword("repeat", args, "repeats", repeats))
    if len(repeats) < self.ndim:
        raise ShapeError("Number of dimensions of repeat dims can not be smaller than number "
                         "of dimensions of tensor")
    return O.Repeat.apply(self, repeats=repeats)


def split(self, split_size, dim=0):
    """Chunks of a given size (or list of sizes) along ``dim`` (``Tensor.split``)."""
    if not self.ndim:
        raise DimError("split expects at least a 1-dimensional tensor")
    _check_dim(dim, self.ndim)
    d = dim % self.ndim
    n = self._data.shape[d]
    if isinstance(split_size, int):
        if split_size < 0:
            raise GradvizError(f"split expects split_size be non-negative, but got "
                               f"split_size={split_size}")
        if split_size == 0 and n:
            raise GradvizError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        step = split_size
        sizes = [_b.min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = [int(s) for s in split_size]
        if any(s < 0 for s in sizes):
            raise GradvizError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if _b.sum(sizes) != n:
            raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                             f"(input tensor's size at dimension {d}), but got "
                             f"split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(self[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def split_function(tensor, split_size_or_sections, dim=0):
    """``gv.split``: torch's function form, whose size argument has this longer name."""
    return tensor.split(split_size_or_sections, dim)


def chunk(self, chunks, dim=0):
    """Split into ``chunks`` nearly equal parts."""
    if chunks <= 0:
        raise GradvizError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if not self.ndim:
        raise DimError("chunk expects at least a 1-dimensional tensor")
    _check_dim(dim, self.ndim)
    n = self._data.shape[dim]
    size = -(-n // chunks)
    if size == 0:  # a zero-size dim: torch returns one empty chunk per requested chunk
        return tuple(split(self, [0] * chunks, dim))
    return split(self, size, dim)


def index_along(self, dim, index, what):
    """(dim as a non-negative int, the index array) for gather/scatter, checked as torch
    checks them: integer dtype, same number of dims, no larger than ``self`` apart from
    ``dim``, every index in [0, size) (NumPy would count negatives from the end)."""
    idx = index._data if isinstance(index, Tensor) else xp_of(self._data).asarray(index)
    if idx.dtype.kind not in "iu":
        raise GradvizError(f"{what}(): Expected dtype int64 for index")
    if idx.ndim != self.ndim:
        raise ShapeError(f"{what}(): Index tensor must have the same number of dimensions as "
                         "input tensor")
    _check_dim(dim, self.ndim)
    d = dim % _b.max(self.ndim, 1)
    for i, (n, m) in enumerate(zip(idx.shape, self._data.shape)):
        if i != d and n > m:
            raise ShapeError(f"{what}(): Size does not match at dimension {i} expected index "
                             f"{list(idx.shape)} to be smaller than self {list(self.shape)} "
                             f"apart from dimension {d}")
    size = self._data.shape[d] if self.ndim else 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise GradvizError(f"{what}(): index {bad} is out of bounds for dimension {d} with "
                           f"size {size}")
    return d, idx


def gather(self, dim, index):
    """Values at ``index`` along ``dim`` (torch.gather)."""
    _, idx = index_along(self, dim, index, "gather")
    if not self.ndim:   # a 0-d tensor gathers itself (as torch)
        return self.reshape(1).gather(0, Tensor._wrap(idx.reshape(1))).reshape(())
    return O.Gather.apply(self, idx, dim=dim)


def _index_key(key, like=None):
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
            if k.ndim == 0 and k.dtype.kind in "iu":
                k = int(k)
        elif isinstance(k, list):
            k = np.asarray(k)
        out.append(k)
    if like is not None and type(like._data) is not np.ndarray:  # index arrays follow the data
        from .backend import move
        out = [move(k, like.device) if getattr(k, "ndim", 0) else k for k in out]
    return tuple(out)


def getitem(self, key):
    """Indexing: ints, slices, None, Ellipsis, bool masks and integer tensors."""
    key = _index_key(key, self)
    if len(key) > 1 and _ints_and_arrays(key):
        first, rest = split_int_key(key)
        return getitem(getitem(self, first), rest)
    try:
        return O.Getitem.apply(self, key=key)
    except IndexError as exc:
        raise IndexError(str(exc)) from None


def split_int_key(key):
    """(ints, rest): a key that mixes ints with advanced indices, as two keys applied one
    after the other. torch selects the ints first (basic indexing), so they never join the
    advanced indices in NumPy's placement rule: x[0, :, [1, 2]] is (4, 2), not NumPy's
    (2, 4)."""
    first, rest = [], []
    for k in key:
        if _is_int(k):
            first.append(k)
        elif k is not None:
            first.extend((k,) if k is Ellipsis else (slice(None),) * _dims_used(k))
        if not _is_int(k):
            rest.append(k)
    return tuple(first), tuple(rest)


def torch_placed_key(data, key):
    """``key`` (ints mixed with advanced indices) as integer arrays, one per dim of ``data``,
    that select torch's elements in torch's layout (for writes: NumPy would place them
    differently)."""
    xp = xp_of(data)
    first, rest = split_int_key(key)
    flat = xp.arange(data.size).reshape(data.shape)[first][rest]
    return xp.unravel_index(flat, data.shape)


def _is_int(k):
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _dims_used(k):
    """Dims of the indexed tensor that one index entry consumes (a bool mask: its ndim)."""
    return k.ndim if getattr(k, "dtype", None) is not None and k.dtype == np.bool_ else 1


def _ints_and_arrays(key):
    """Whether an index mixes ints with advanced (array) indices."""
    return (any(_is_int(k) for k in key)
            and any(getattr(k, "ndim", 0) or getattr(k, "dtype", None) == np.bool_
                    for k in key if not _is_int(k)))
