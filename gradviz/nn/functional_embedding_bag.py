"""``F.embedding_bag``: the sum, mean or max of each bag of embedding rows, composed of
existing ops. The bags are laid out as a (bags, longest bag) grid of input positions, so
the graph shows one Embedding lookup of the grid and one reduction over it."""
from ..engine.backend import xp_of
from ..engine.function import note_inplace
from ..engine.tensor import Tensor
from ..engine.tensor_methods import where
from ..errors import ArgumentError, GradvizError, ShapeError
from .functional_composite import _F

__all__ = ["embedding_bag"]


def check_dense(name, sparse):
    """Refuse ``sparse=True``: gradviz has no sparse gradients."""
    if sparse:
        raise GradvizError(f"{name}: sparse=True (sparse gradients) is not supported by "
                           f"gradviz; use sparse=False, which gives the same values with a "
                           f"dense weight gradient")


def renorm_rows_(weight, idx, max_norm, norm_type):
    """torch's embedding_renorm_: rows of ``weight`` named in ``idx`` whose
    ``norm_type``-norm exceeds ``max_norm`` are scaled in place to max_norm / (norm + 1e-7)
    times themselves (no gradient, as torch does under no_grad)."""
    w = weight._data
    xp = xp_of(w)
    rows = xp.unique(xp.reshape(idx, (-1,)))
    if rows.size == 0:
        return
    sel = w[rows]
    p = float(norm_type)
    a = xp.abs(sel)
    if p == float("inf"):
        norm = a.max(axis=1)
    elif p == 0:
        norm = (a != 0).sum(axis=1).astype(w.dtype)
    else:
        norm = (a ** p).sum(axis=1) ** (1.0 / p)
    big = norm > max_norm
    if bool(big.any()):
        scale = (max_norm / (norm[big] + 1e-7)).astype(w.dtype)
        note_inplace(weight)
        w[rows[big]] = sel[big] * scale[:, None]


def scale_grad_by_freq_(rows, idx, n):
    """Divide the gradient reaching the looked-up ``rows`` by the count of each row's index
    in ``idx`` (torch's scale_grad_by_freq), so that weight row i gets sum(dy)/count(i)."""
    xp = xp_of(idx)
    flat = xp.reshape(idx, (-1,))
    counts = xp.bincount(flat.astype(xp.int64), minlength=n)
    shape = tuple(idx.shape) + (1,) * (rows.ndim - idx.ndim)
    inv = (1.0 / counts[flat]).astype(rows._data.dtype).reshape(shape)
    rows.register_hook(lambda g: g * Tensor._wrap(inv))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Reduce each bag of rows of ``weight`` ('sum', 'mean' or 'max'): the bags are the rows
    of a 2-D ``input``, or the runs of a 1-D ``input`` starting at ``offsets``; entries equal
    to ``padding_idx`` are left out, an empty bag gives zeros; ``per_sample_weights`` scale
    the rows ('sum' only); ``max_norm`` as in F.embedding; ``scale_grad_by_freq`` divides the
    weight's gradient by index counts ('sum' and 'mean', with torch's own rule)."""
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ArgumentError(f"embedding_bag: If per_sample_weights "
                            f"({per_sample_weights.shape}) is not None, then it must have the "
                            f"same shape as the input ({input.shape})")
    if weight.ndim != 2:
        raise ArgumentError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                            f"{weight.ndim}")
    idx, starts, end = _bags(input, offsets, include_last_offset)
    if mode not in ("sum", "mean", "max"):
        raise ArgumentError("mode has to be one of sum, mean or max")
    if mode == "max" and (scale_grad_by_freq or sparse):
        raise ArgumentError("max mode does not support " + (
            "scaling the gradient by the frequency" if scale_grad_by_freq else "sparse weights"))
    check_dense("embedding_bag", sparse)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    n = weight.shape[0]
    outside = (idx < 0) | (idx >= n)
    if bool(outside.any()):
        i = int(outside.argmax())
        raise GradvizError(f"Index {i} of input takes value {int(idx[i])} which is not in the "
                           f"valid range [0, {n})")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise GradvizError(f"padding_idx must be within the number of embeddings, {-n} "
                               f"through {n - 1}, but got {padding_idx}")
        padding_idx %= n
    grid, valid, count = _grid(idx, starts, end, padding_idx)
    if max_norm is not None:
        renorm_rows_(weight, idx, max_norm, norm_type)
    rows = _F().embedding(Tensor._wrap(idx[grid]), weight)       # (bags, longest, dim)
    if scale_grad_by_freq:
        _bag_grad_by_freq_(rows, idx, grid, n)

    mask = Tensor._wrap(valid[:, :, None])
    if mode == "max":
        best = where(mask, rows, -float("inf")).max(1)[0]
        return where(Tensor._wrap(count[:, None] > 0), best, 0.0)
    if per_sample_weights is not None:
        scale = where(Tensor._wrap(valid), per_sample_weights.reshape(-1)[Tensor._wrap(grid)],
                      0.0)
        return (rows * scale.unsqueeze(2)).sum(1)
    total = where(mask, rows, 0.0).sum(1)
    if mode == "sum":
        return total
    return total / Tensor._wrap(xp_of(count).maximum(count, 1)[:, None].astype(rows._data.dtype))


def _bag_grad_by_freq_(rows, idx, grid, n):
    """torch's (CPU) scale_grad_by_freq for bags: with s the sorted indices (all of them,
    padding and entries past the last bag too) and u_i the i-th distinct one, row u_i's
    gradient is divided by count(s[i]). torch's kernel reads s[i] where count(u_i) was
    surely meant; copied as it is, so that the gradients match torch's."""
    xp = xp_of(idx)
    s = xp.sort(idx.astype(xp.int64))
    counts = xp.bincount(s, minlength=n)
    uniq = xp.unique(s)
    scale = xp.zeros(n, dtype=rows._data.dtype)
    scale[uniq] = 1.0 / counts[s[:uniq.size]]
    factor = Tensor._wrap(scale[idx[grid]][:, :, None])
    rows.register_hook(lambda g: g * factor)


def _bags(input, offsets, include_last_offset):
    """(flat indices, each bag's first position, the end of the last bag), checked."""
    arr = input._data if isinstance(input, Tensor) else None
    if arr is None or arr.dtype.kind not in "iu":
        raise GradvizError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{getattr(input, 'dtype', type(input).__name__)} instead (while "
                           f"checking arguments for embedding_bag)")
    xp = xp_of(arr)
    if input.ndim == 2:
        if offsets is not None:
            raise ArgumentError(f"if input is 2D, then offsets has to be None, as input is "
                                f"treated is a mini-batch of fixed length sequences. However, "
                                f"found offsets of type {type(offsets)}")
        return arr.reshape(-1), xp.arange(arr.shape[0]) * arr.shape[1], arr.size
    if input.ndim != 1:
        raise ArgumentError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                            f"{input.ndim}")
    if offsets is None:
        raise ArgumentError("offsets has to be a 1D Tensor but got None")
    off = offsets._data if isinstance(offsets, Tensor) else xp.asarray(offsets)
    if off.ndim != 1:
        raise ArgumentError("offsets has to be a 1D Tensor")
    if off.size and int(off[0]) != 0:
        raise GradvizError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got "
                           f"{int(off[0])}")
    if off.size and int(off[-1]) > arr.size:
        raise GradvizError(f"offsets[-1] can not be greater than input's length {arr.size} "
                           f"but got offsets[-1] of {int(off[-1])}")
    if off.size > 1 and bool((off[1:] < off[:-1]).any()):
        raise ShapeError("embedding_bag: offsets must be non-decreasing")
    if include_last_offset:
        return arr, off[:-1], int(off[-1]) if off.size else 0
    return arr, off, arr.size


def _grid(idx, starts, end, padding_idx):
    """(bags, longest bag) positions of each bag's kept entries (not ``padding_idx``, before
    ``end``), whether each grid cell holds one, and each bag's count of them."""
    xp = xp_of(idx)
    pos = xp.arange(idx.size)
    keep = pos < end
    if padding_idx is not None:
        keep &= idx != padding_idx
    before = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(keep)])
    stops = xp.concatenate([starts[1:], xp.full(min(starts.size, 1), end, dtype=starts.dtype)])
    first = before[starts]
    count = before[stops] - first
    longest = int(count.max()) if count.size else 0
    slot = xp.arange(longest)
    # the k-th kept entry overall sits where the running count of kept entries reaches k + 1
    grid = xp.searchsorted(before[1:], first[:, None] + slot + 1, side="left")
    return xp.minimum(grid, max(idx.size - 1, 0)), slot < count[:, None], count
