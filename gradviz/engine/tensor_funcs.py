"""torch's top-level tensor functions that user code reaches for (meshgrid, hstack ...,
searchsorted, isin, block_diag, cdist, tensordot, diag_embed ...) and a few Tensor methods
(unique_consecutive, erfinv, put and in-place forms: tril_, fill_diagonal_, addcmul_ ...).
Each is a composite of existing ops, so gradients follow; the searches and set tests are
integer answers with no gradient, as torch's."""
import itertools
import numbers

import numpy as np

from ..errors import ArgumentError, DimError, GradvizError, ShapeError
from . import creation
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Size, Tensor
from .tensor_inplace import inplace_of
from .tensor_methods import _as_tensor


def _tensors(tensors, what):
    """A list of Tensors from ``f(a, b)`` or ``f([a, b])``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return [t if isinstance(t, Tensor) else _as_tensor(t) for t in tensors]


def _cat(tensors, dim):
    from .functional import cat  # noqa: PLC0415 - functional imports this module
    return cat(tensors, dim)


# ---- grids and broadcasting ------------------------------------------------------------
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 0-D/1-D tensors: output i varies along dim i ('ij') or with
    the first two dims swapped ('xy', as NumPy's). Views of the inputs (expanded)."""
    ts = _tensors(tensors, "meshgrid")
    if indexing not in ("ij", "xy"):
        raise ArgumentError('torch.meshgrid: indexing must be one of "xy" or "ij", but '
                            f"received: {indexing}")
    if not ts:
        raise GradvizError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.ndim > 1:
            raise GradvizError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got a tensor of shape {list(t.shape)}")
        if t.dtype != ts[0].dtype:
            raise GradvizError("meshgrid expects all tensors to have the same dtype")
    at = list(range(len(ts)))   # where input i's values run in the output
    if indexing == "xy" and len(ts) > 1:
        at[0], at[1] = 1, 0
    shape = [0] * len(ts)
    for i, t in enumerate(ts):
        shape[at[i]] = t.numel()
    out = []
    for i, t in enumerate(ts):
        lone = [1] * len(ts)
        lone[at[i]] = -1
        out.append(t.reshape(lone).expand(*shape))
    return tuple(out)


def broadcast_shapes(*shapes):
    """The shape that tensors of these shapes broadcast to (a gv.Size)."""
    shapes = [(s,) if isinstance(s, numbers.Integral) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                         f"{[list(s) for s in shapes]}") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views, gradients summed)."""
    ts = _tensors(tensors, "broadcast_tensors")
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    except ValueError:
        raise ShapeError("broadcast_tensors: shapes cannot be broadcast together: "
                         f"{[list(t.shape) for t in ts]}") from None
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in ts)


# ---- stacking ------------------------------------------------------------------------------
def _at_least(n, lead):
    def fn(*tensors):
        one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
        ts = _tensors(tensors, fn.__name__)
        out = []
        for t in ts:
            if t.ndim < n:
                shape = list(t.shape)
                shape = lead[t.ndim](shape)
                t = t.reshape(shape)
            out.append(t)
        return out[0] if one else tuple(out)
    fn.__name__ = f"atleast_{n}d"
    fn.__doc__ = f"The tensor(s) with at least {n} dims (size-1 dims added as torch's)."
    return fn


atleast_1d = _at_least(1, {0: lambda s: [1]})
atleast_2d = _at_least(2, {0: lambda s: [1, 1], 1: lambda s: [1] + s})
atleast_3d = _at_least(3, {0: lambda s: [1, 1, 1], 1: lambda s: [1] + s + [1],
                           2: lambda s: s + [1]})


def _stack_list(tensors, what):
    ts = _tensors((tensors,) if isinstance(tensors, Tensor) else tuple(tensors), what)
    if not ts:
        raise GradvizError(f"{what} expects a non-empty TensorList")
    return ts


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors), 0-D ones as 1-D."""
    ts = atleast_1d(_stack_list(tensors, "hstack"))
    return _cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 0-D/1-D tensors as rows."""
    return _cat(atleast_2d(_stack_list(tensors, "vstack")), 0)


row_stack = vstack


def column_stack(tensors):
    """Concatenate along dim 1, 0-D/1-D tensors as columns."""
    ts = _stack_list(tensors, "column_stack")
    return _cat([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in ts], 1)


def dstack(tensors):
    """Concatenate along dim 2 (depth), tensors made at least 3-D first."""
    return _cat(atleast_3d(_stack_list(tensors, "dstack")), 2)


# ---- searches and set tests (integer answers: no gradient) --------------------------------
def _search(seq, vals, right):
    """Insertion places of ``vals`` (..., k) in the rows of ``seq`` (..., n) (sorted along
    the last dim): for batched rows, one stable sort of each row merged with its values."""
    xp = xp_of(seq)
    if seq.ndim == 1:
        return xp.asarray(xp.searchsorted(seq, vals, side="right" if right else "left"))
    n = seq.shape[-1]
    dt = xp.result_type(seq, vals)
    # ties: seq first puts a value after its equals (right), values first before (left)
    merged = xp.concatenate([seq, vals] if right else [vals, seq], axis=-1).astype(dt)
    place = xp.argsort(xp.argsort(merged, axis=-1, kind="stable"), axis=-1, kind="stable")
    k = vals.shape[-1]
    mine = place[..., n:] if right else place[..., :k]
    rank = xp.argsort(xp.argsort(vals, axis=-1, kind="stable"), axis=-1, kind="stable")
    return mine - rank   # places taken by the smaller values leave those taken by seq


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where ``values`` would go in ``sorted_sequence`` (1-D, or rows matching values' first
    dims) to keep it sorted: the first such place, or the last with ``right``."""
    what = "torch.searchsorted()"
    if side is not None:
        if side not in ("left", "right"):
            raise ArgumentError(f"{what}: side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise ArgumentError(f"{what}: side and right can't be set to opposites, got side "
                                "of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    if not seq.ndim:
        raise GradvizError(f"{what}: boundaries tensor should have positive dimension, but "
                           "got 0 dimension")
    xp = xp_of(seq)
    scalar = not isinstance(values, Tensor)
    vals = xp.asarray(values) if scalar else values._data
    if scalar and seq.ndim != 1:
        raise GradvizError(f"{what}: input value can be a scalar only when boundaries tensor "
                           f"dimension is 1, but we got boundaries tensor dim({seq.ndim})")
    if seq.ndim > 1 and seq.shape[:-1] != vals.shape[:-1]:
        raise GradvizError(f"{what}: boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must "
                           f"match, but we got boundaries tensor {list(seq.shape)} and input "
                           f"value tensor {list(vals.shape)}")
    if sorter is not None:
        order = sorter._data if isinstance(sorter, Tensor) else xp.asarray(sorter)
        if order.shape != seq.shape or order.dtype.kind not in "iu":
            raise GradvizError(f"{what}: sorter must be an integer tensor of boundaries' "
                               f"shape {list(seq.shape)}")
        seq = xp.take_along_axis(seq, order.astype(np.int64), axis=-1)
    out = _search(seq, vals, right)
    return Tensor._wrap(out.astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of ``input`` among the 1-D sorted ``boundaries``:
    boundaries[i-1] < x <= boundaries[i] (``<`` on the right side with ``right``)."""
    if boundaries.ndim != 1:
        raise GradvizError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is in ``test_elements`` (a bool tensor of elements'
    shape; one of the two may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise GradvizError("isin(): expected elements or test_elements to be a Tensor")
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = xp_of(like._data)
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else \
        xp.asarray(test_elements)
    return Tensor._wrap(xp.asarray(xp.isin(e, t.reshape(-1), invert=bool(invert))))


def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
    """The tensor with each run of equal consecutive elements (or slices along ``dim``)
    kept once, with the inverse indices and the run lengths if asked. No gradient."""
    x = self._data
    xp = xp_of(x)
    if dim is None:
        rows = x.reshape(-1, 1)
        inverse_shape = x.shape
    else:
        if not self.ndim:
            raise DimError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = norm_dims(dim, self.ndim)[0]
        rows = xp.moveaxis(x, d, 0).reshape(x.shape[d], x.size // max(x.shape[d], 1))
        inverse_shape = (x.shape[d],)
    n = rows.shape[0]
    starts = xp.concatenate([xp.ones(min(n, 1), dtype=bool),
                             (rows[1:] != rows[:-1]).any(axis=1)])
    keep = xp.nonzero(starts)[0]
    values = x.reshape(-1)[keep] if dim is None else xp.take(x, keep, axis=d)
    out = [Tensor._wrap(values)]
    if return_inverse:
        inverse = xp.cumsum(starts).astype(np.int64) - 1
        out.append(Tensor._wrap(inverse.reshape(inverse_shape)))
    if return_counts:
        ends = xp.concatenate([keep, xp.asarray([n], dtype=keep.dtype)])
        out.append(Tensor._wrap(xp.diff(ends).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# ---- building blocks and products ---------------------------------------------------------
def block_diag(*tensors):
    """A block-diagonal matrix of the 0-D/1-D/2-D tensors (1-D as rows), zeros elsewhere."""
    ts = _tensors(tensors, "block_diag")
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise ShapeError("torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                             f"Input {i} has {t.ndim} dimensions")
    ts = [t.reshape(1, -1) if t.ndim < 2 else t for t in ts]
    if not ts:
        return creation.zeros(1, 0)
    from .functional import _same  # noqa: PLC0415 - functional imports this module
    ts = _same(ts, "block_diag")
    width = sum(t.shape[1] for t in ts)
    rows, left = [], 0

    def zeros(n, m):
        return creation.zeros(n, m, dtype=ts[0].dtype, device=ts[0].device)
    for t in ts:
        n, m = t.shape
        rows.append(_cat([zeros(n, left), t, zeros(n, width - left - m)], 1))
        left += m
    return _cat(rows, 0)


def _vector(t, what):
    if t.ndim != 1:
        raise ShapeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    return t


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (the first tensor
    varies slowest); one tensor is returned as it is."""
    ts = [_vector(t, "cartesian_prod") for t in _tensors(tensors, "cartesian_prod")]
    if len(ts) == 1:
        return ts[0]
    from .functional import stack  # noqa: PLC0415 - functional imports this module
    return stack([g.reshape(-1) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the 1-D ``input``'s elements, as rows (itertools'
    order); a gather, so gradients reach the elements."""
    _vector(input, "combinations")
    if r < 0:
        raise GradvizError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input[:0]
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[Tensor._wrap(xp_of(input._data).asarray(idx))]


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M): shape (..., P, R), batch dims broadcast. Gradients are 0 where a distance
    is 0, as torch's."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise ShapeError(f"cdist only supports at least 2D tensors, {name} got: "
                             f"{x.ndim}D")
        if x._data.dtype.kind != "f":
            raise GradvizError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{x.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"X1 and X2 must have the same number of columns. X1: "
                         f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype != x2.dtype:
        raise GradvizError(f"cdist: expected both inputs to have one dtype, got {x1.dtype} "
                           f"and {x2.dtype}")
    if p < 0:
        raise GradvizError("cdist only supports non-negative p values")
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, dim=-1)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast), a 0-D tensor."""
    return (input - other).norm(p)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _dims_pair(dims):
    """tensordot's ``dims`` as (a's dims, b's dims), or an int."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise GradvizError(f"tensordot expects dims >= 0, but got dims={dims}")
        return int(dims)
    if len(dims) != 2:
        raise GradvizError("tensordot expects dims to be an int or a pair of dim lists")
    return tuple([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)


def tensordot(a, b, dims=2, out=None):
    """Sum of products over ``dims``: the last ``dims`` dims of a with the first of b, or the
    dims listed in the pair ``(a_dims, b_dims)``. One einsum (its gradient is einsums)."""
    if a.dtype != b.dtype:
        raise GradvizError("both inputs should have same dtype")
    pair = _dims_pair(dims)
    if isinstance(pair, int):
        if pair > min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: dims={pair} is more than the inputs' dims "
                             f"({a.ndim} and {b.ndim})")
        pair = (list(range(a.ndim - pair, a.ndim)), list(range(pair)))
    da = [norm_dims(d, a.ndim)[0] for d in pair[0]]
    db = [norm_dims(d, b.ndim)[0] for d in pair[1]]
    if len(da) != len(db):
        raise GradvizError("both dimension lists should have same length")
    if a.ndim + b.ndim > len(_LETTERS):
        raise GradvizError("tensordot: too many dims")
    sa = list(_LETTERS[:a.ndim])
    sb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"contracted dimensions need to match, but first has size "
                             f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                             f"dim {j}")
        sb[j] = sa[i]
    free = [s for i, s in enumerate(sa) if i not in da] + \
        [s for j, s in enumerate(sb) if j not in db]
    from .functional import einsum  # noqa: PLC0415 - functional imports this module
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(free)}", a, b)


def einsum_equation(args):
    """torch's sublist form ``(a, [0, 1], b, [1, 2], [0, 2])`` as (equation, operands):
    subscripts 0..51 become letters, ``...`` stays."""
    def letters(sub):
        out = ""
        for s in sub:
            if s is Ellipsis:
                out += "..."
            elif isinstance(s, numbers.Integral) and 0 <= s < len(_LETTERS):
                out += _LETTERS[s]
            else:
                raise ArgumentError("einsum(): subscript in subscript list is not within the "
                                    "valid range [0, 52)")
        return out
    operands, subs = list(args[0::2]), list(args[1::2])
    output = None
    if len(operands) > len(subs):   # an odd count: the last one is the output's
        output = operands.pop()
    equation = ",".join(letters(s) for s in subs)
    if output is not None:
        equation += "->" + letters(output)
    return equation, operands


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) planes have the last dim of ``input`` on their
    ``offset``-th diagonal (zeros elsewhere): one more dim than ``input``."""
    if not input.ndim:
        raise DimError("Dimension out of range (expected to be in range of [-1, 0], but got "
                       f"{dim1})")
    nd = input.ndim + 1
    d1, d2 = (norm_dims(d, nd)[0] for d in (dim1, dim2))
    if d1 == d2:
        raise ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    k = input.shape[-1]
    m = k + abs(offset)
    xp = xp_of(input._data)
    along = xp.arange(k)
    key = (along + max(-offset, 0), along + max(offset, 0))
    x = input.movedim(-1, 0)
    planes = O.IndexAdd.apply(x, shape=(m, m) + tuple(x.shape[1:]), key=key, unique=True)
    return planes.movedim((0, 1), (d1, d2))


# ---- function forms and Tensor methods ---------------------------------------------------
def erfinv(input):
    """The inverse error function (gv.special.erfinv)."""
    from .. import special  # noqa: PLC0415 - gv.special loads on first use
    return special.erfinv(input)


def clone(input, *, memory_format=None):
    """A copy of ``input`` that stays in the graph."""
    return input.clone(memory_format=memory_format)


def _fill_diagonal(self, fill_value, wrap=False):
    """``self`` with ``fill_value`` on its main diagonal (every dim's index equal); a tall
    matrix's diagonal starts again every N+1 rows with ``wrap``, as NumPy's."""
    if self.ndim < 2:
        raise ShapeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise ShapeError("all dimensions of input must be of equal length")
    xp = xp_of(self._data)
    shape = tuple(self.shape)
    step = sum(int(np.prod(shape[i + 1:])) for i in range(len(shape)))   # one along each
    end = self.numel() if wrap and self.ndim == 2 else min(shape) * step
    mask = xp.zeros(self.numel(), dtype=bool)
    mask[xp.arange(0, min(end, self.numel()), step)] = True
    return self.masked_fill(Tensor._wrap(mask.reshape(shape)), fill_value)


def put(self, index, source, accumulate=False):
    """``self`` (as if flat) with ``source``'s elements written (or added, ``accumulate``)
    at the flat places ``index`` (negatives count from the end)."""
    idx = index._data if isinstance(index, Tensor) else xp_of(self._data).asarray(index)
    if idx.dtype != np.int64:
        raise GradvizError(f"put_(): Expected a long tensor for index, but got {idx.dtype}")
    source = source if isinstance(source, Tensor) else _as_tensor(source, self)
    if source.dtype != self.dtype:
        raise GradvizError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {self.dtype} and source.dtype = {source.dtype}")
    if source.numel() != idx.size:
        raise DimError("put_(): Expected source and index to have the same number of "
                       f"elements, but got source.numel() = {source.numel()}, "
                       f"index.numel() = {idx.size}")
    n = self.numel()
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < -n else int(idx.max())
        raise DimError(f"out of range: tried to access index {bad} on a tensor of {n} "
                       "elements.")
    flat = self.reshape(-1)
    return flat.index_put((Tensor._wrap(idx.reshape(-1)),), source.reshape(-1),
                          accumulate=accumulate).reshape(self.shape)


def _inplace(name, compute):
    return inplace_of(name, compute, f"In-place ``{name[:-1]}``.")


METHODS = {
    "unique_consecutive": unique_consecutive, "erfinv": erfinv, "dist": dist,
    "diag_embed": diag_embed, "put": put,
    "put_": _inplace("put_", put),
    "tril_": _inplace("tril_", lambda t, diagonal=0: t.tril(diagonal)),
    "triu_": _inplace("triu_", lambda t, diagonal=0: t.triu(diagonal)),
    "fill_diagonal_": _inplace("fill_diagonal_", _fill_diagonal),
    "addcmul_": _inplace("addcmul_", lambda t, a, b, value=1: t.addcmul(a, b, value=value)),
    "addcdiv_": _inplace("addcdiv_", lambda t, a, b, value=1: t.addcdiv(a, b, value=value)),
    "lerp_": _inplace("lerp_", lambda t, end, weight: t.lerp(end, weight)),
}
for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)

NAMES = ["meshgrid", "broadcast_tensors", "broadcast_shapes", "hstack", "vstack", "row_stack",
         "column_stack", "dstack", "atleast_1d", "atleast_2d", "atleast_3d", "searchsorted",
         "bucketize", "isin", "unique_consecutive", "block_diag", "cartesian_prod",
         "combinations", "cdist", "dist", "tensordot", "diag_embed", "erfinv", "clone", "put"]
