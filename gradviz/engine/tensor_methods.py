"""Tensor's op methods: each is a thin call of one Function class (torch's names and args)."""
import builtins as _b
import collections
import numbers

import numpy as np

from ..errors import BackwardError, GradvizError, ShapeError
from . import dtypes, grad_mode
from . import ops as O
from .function import apply_binary as _apply2
from .tensor import Tensor

_FLOAT_KINDS = "f"
values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _coerce(a, b):
    """Promote two operands as torch does; returns (a, b) as tensors or Python scalars."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        target = dtypes.result_type(a._data, b._data)
        return (a if da == target.np else a.to(target)), (b if db == target.np else b.to(target))
    t, s = (a, b) if ta else (b, a)
    if isinstance(s, Tensor) or not isinstance(s, (numbers.Number, np.generic)):
        s = _as_tensor(s, t)
        return _coerce(a if ta else s, s if ta else b)
    kind = t._data.dtype.kind
    if isinstance(s, (bool, np.bool_)):
        s = bool(s)
    elif isinstance(s, numbers.Integral):
        s = int(s)
        if kind != "b":
            return (a, s) if ta else (s, b)
    elif isinstance(s, numbers.Real):
        s = float(s)
        if kind == "f":
            return (a, s) if ta else (s, b)
    else:
        raise GradvizError(f"unsupported operand {s!r}")
    target = dtypes.result_type(t._data, s)
    if t._data.dtype != target.np:
        t = t.to(target)
    return (t, s) if ta else (s, t)


def _as_tensor(x, like=None):
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if like is not None and type(like._data) is not np.ndarray:
        from .backend import move
        arr = move(arr, like.device)
    if arr.dtype == np.float64 and not isinstance(x, np.ndarray):
        arr = arr.astype(dtypes.get_default_dtype().np)
    return Tensor._wrap(arr)


def _binary(cls, a, b):
    # fast path: two tensors of one dtype need no promotion
    if type(b) is Tensor and type(a) is Tensor and a._data.dtype is b._data.dtype:
        return _apply2(cls, a, b)
    a, b = _coerce(a, b)
    return cls.apply(a, b)


def _binary_method(cls):
    """``Tensor.__add__``-style operator calling ``cls`` (the fast path of _binary inlined)."""
    apply = cls.apply

    def op(a, b):
        if type(b) is Tensor and type(a) is Tensor and a._data.dtype is b._data.dtype:
            return _apply2(cls, a, b)
        a, b = _coerce(a, b)
        return apply(a, b)
    return op


def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


# ---- arithmetic ---------------------------------------------------------------------------
def add(self, other, alpha=1):
    """self + alpha * other."""
    if alpha != 1:
        other = other * alpha
    return _binary(O.Add, self, other)


def sub(self, other, alpha=1):
    """self - alpha * other."""
    if alpha != 1:
        other = other * alpha
    return _binary(O.Sub, self, other)


def mul(self, other):
    """Elementwise product."""
    return _binary(O.Mul, self, other)


def div(self, other, rounding_mode=None):
    """True division (integer inputs give the default float, as torch)."""
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise GradvizError(f"rounding_mode must be None, 'floor' or 'trunc', "
                               f"not {rounding_mode!r}")
        q = div(self, other).detach()
        q = Tensor._wrap(np.floor(q._data) if rounding_mode == "floor" else np.trunc(q._data))
        if self.dtype.is_floating_point:
            return q
        return q.to(self.dtype)
    a, b = self, other
    fa = isinstance(a, Tensor) and a._data.dtype.kind == "f"
    if not fa and not (isinstance(b, Tensor) and b._data.dtype.kind == "f") \
            and not isinstance(b, float):
        a = a.to(dtypes.get_default_dtype())
    return _binary(O.Div, a, b)


def pow(self, exponent):
    """self ** exponent (tensor or number)."""
    return _binary(O.Pow, self, exponent)


def rpow(self, base):
    return _binary(O.Pow, base, self)


def matmul(self, other):
    """Matrix product with torch's rules for 1-D and batched operands."""
    if not isinstance(other, Tensor):
        other = _as_tensor(other, self)
    x, y = self._data, other._data
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError("both arguments to matmul need to be at least 1D")
    if x.dtype is y.dtype:
        a, b = self, other
    else:
        a, b = _coerce(self, other)
        x, y = a._data, b._data
    ka = x.shape[-1]
    sb = y.shape
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied "
                         f"({'x'.join(map(str, a.shape))} and {'x'.join(map(str, b.shape))})")
    return _apply2(O.Matmul, a, b)


def mm(self, other):
    """2-D matrix product."""
    if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
        raise ShapeError("mm expects two 2-D tensors")
    return matmul(self, other)


def bmm(self, other):
    """Batched (3-D) matrix product."""
    if self.ndim != 3 or getattr(other, "ndim", 0) != 3:
        raise ShapeError("bmm expects two 3-D tensors")
    if self.shape[0] != other.shape[0]:
        raise ShapeError("bmm expects the same batch size")
    return matmul(self, other)


def _unary(cls):
    def method(self):
        x = self if self._data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
        return cls.apply(x)
    method.__name__ = cls.__name__.lower()
    method.__doc__ = f"Elementwise {cls.__name__.lower()} ({cls.rule})."
    return method


def neg(self):
    """-self."""
    return O.Neg.apply(self)


def abs(self):
    """|self|."""
    return O.Abs.apply(self)


def relu(self):
    """max(self, 0)."""
    return O.Relu.apply(self)


def clamp(self, min=None, max=None):
    """Limit values to [min, max]."""
    if min is None and max is None:
        raise GradvizError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = self
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return O.Clamp.apply(self, min=min, max=max)


def maximum(self, other):
    """Elementwise maximum (ties split the gradient)."""
    return _binary(O.Maximum, self, other)


def minimum(self, other):
    """Elementwise minimum (ties split the gradient)."""
    return _binary(O.Minimum, self, other)


def where(condition, input, other):
    """``input`` where ``condition`` else ``other`` (broadcasting)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _as_tensor(input)
    a, b = _coerce(input, other)
    return O.Where.apply(cond, a, b)


def masked_fill(self, mask, value):
    """Replace values where ``mask`` is true."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise GradvizError(f"masked_fill only supports boolean masks, but got mask with dtype "
                           f"{m.dtype}")
    if isinstance(value, Tensor):
        value = value.item()
    return O.MaskedFill.apply(self, m, value=value)


def _compare(op):
    def method(self, other):
        a, b = _coerce(self, other)
        return O.Compare.apply(a, b, op=op)
    method.__name__ = op
    method.__doc__ = f"Elementwise {op} (a bool tensor, no gradient)."
    return method


# ---- reductions ------------------------------------------------------------------------
def _float(self):
    return self if self._data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())


def sum(self, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (all when None)."""
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(dtypes.int64)
    return O.Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(self, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim``."""
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind != "f":
        raise GradvizError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype.name}")
    return O.Mean.apply(x, dim=dim, keepdim=keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance (Bessel's correction by default, as torch)."""
    return O.Var.apply(_float(self), dim=dim, correction=_correction(unbiased, correction),
                       keepdim=keepdim)


def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """Standard deviation (Bessel's correction by default)."""
    return O.Std.apply(_float(self), dim=dim, correction=_correction(unbiased, correction),
                       keepdim=keepdim)


def prod(self, dim=None, keepdim=False):
    """Product over ``dim`` (all when None)."""
    return O.Prod.apply(self, dim=dim, keepdim=keepdim)


def max(self, dim=None, keepdim=False):
    """max() → the largest value; max(dim) → (values, indices); max(other) → maximum."""
    if isinstance(dim, Tensor):
        return maximum(self, dim)
    if dim is None:
        return O.Amax.apply(self)
    values = O.MaxDim.apply(self, dim=dim, keepdim=keepdim)
    return values_indices(values, Tensor._wrap(values.grad_fn.out_indices
                                               if values.grad_fn else
                                               self._data.argmax(axis=dim, keepdims=keepdim)))


def min(self, dim=None, keepdim=False):
    """min() → the smallest value; min(dim) → (values, indices); min(other) → minimum."""
    if isinstance(dim, Tensor):
        return minimum(self, dim)
    if dim is None:
        return O.Amin.apply(self)
    values = O.MinDim.apply(self, dim=dim, keepdim=keepdim)
    return values_indices(values, Tensor._wrap(values.grad_fn.out_indices
                                               if values.grad_fn else
                                               self._data.argmin(axis=dim, keepdims=keepdim)))


def amax(self, dim=(), keepdim=False):
    """Max over ``dim`` (all when empty); ties share the gradient."""
    return O.Amax.apply(self, dim=None if dim == () else dim, keepdim=keepdim)


def amin(self, dim=(), keepdim=False):
    """Min over ``dim`` (all when empty); ties share the gradient."""
    return O.Amin.apply(self, dim=None if dim == () else dim, keepdim=keepdim)


def argmax(self, dim=None, keepdim=False):
    """Index of the max (flattened when dim is None)."""
    return O.Argmax.apply(self, dim=dim, keepdim=keepdim)


def argmin(self, dim=None, keepdim=False):
    """Index of the min (flattened when dim is None)."""
    return O.Argmin.apply(self, dim=dim, keepdim=keepdim)


def logsumexp(self, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed stably."""
    return O.Logsumexp.apply(_float(self), dim=dim, keepdim=keepdim)


def softmax(self, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    x = _float(self) if dtype is None else self.to(dtype)
    return O.Softmax.apply(x, dim=dim)


def log_softmax(self, dim, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    x = _float(self) if dtype is None else self.to(dtype)
    return O.LogSoftmax.apply(x, dim=dim)


def cumsum(self, dim, dtype=None):
    """Running sum along ``dim``."""
    x = self if dtype is None else self.to(dtype)
    return O.Cumsum.apply(x, dim=dim)


# ---- shapes ----------------------------------------------------------------------------
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


def reshape(self, *shape):
    """The same values in a new shape (one -1 is inferred)."""
    shape = _infer_shape(_shape_args(shape), self._data.size)
    return O.Reshape.apply(self, shape=shape)


def view(self, *shape):
    """Like reshape; the result shares memory with self."""
    if len(shape) == 1 and (isinstance(shape[0], dtypes.dtype)):
        raise GradvizError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_args(shape), self._data.size)
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
        dims = {d % _b.max(self.ndim, 1) for d in dims} if self.ndim else set()
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return O.Squeeze.apply(self, shape=new)


def unsqueeze(self, dim):
    """Insert a size-1 dim at ``dim``."""
    nd = self.ndim + 1
    if not -nd <= dim < nd:
        raise ShapeError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}],"
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


def permute(self, *dims):
    """Reorder dims."""
    dims = _shape_args(dims)
    if sorted(d % _b.max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
        raise ShapeError(f"permute: dims {dims} do not match a tensor of {self.ndim} dims")
    return O.Permute.apply(self, dims=dims)


def expand(self, *sizes):
    """Broadcast to a bigger shape without copying (-1 keeps a dim)."""
    sizes = _shape_args(sizes)
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


def repeat(self, *repeats):
    """Tile along each dim."""
    repeats = _shape_args(repeats)
    if len(repeats) < self.ndim:
        raise ShapeError("Number of dimensions of repeat dims can not be smaller than number "
                         "of dimensions of tensor")
    return O.Repeat.apply(self, repeats=repeats)


def split(self, split_size_or_sections, dim=0):
    """Chunks of a given size (or list of sizes) along ``dim``."""
    n = self._data.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [_b.min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if _b.sum(sizes) != n:
            raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {n}")
    d = dim % self.ndim
    out, start = [], 0
    for s in sizes:
        out.append(self[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(self, chunks, dim=0):
    """Split into ``chunks`` nearly equal parts."""
    n = self._data.shape[dim]
    size = -(-n // chunks)
    return split(self, size, dim)


def gather(self, dim, index):
    """Values at ``index`` along ``dim`` (torch.gather)."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise GradvizError("gather(): Expected dtype int64 for index")
    if idx.ndim != self.ndim:
        raise ShapeError("Index tensor must have the same number of dimensions as input tensor")
    d = dim % _b.max(self.ndim, 1)
    for i, (n, m) in enumerate(zip(idx.shape, self._data.shape)):
        if i != d and n > m:
            raise ShapeError(f"Size does not match at dimension {i} expected index "
                             f"{list(idx.shape)} to be smaller than self {list(self.shape)} "
                             f"apart from dimension {d}")
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
    try:
        return O.Getitem.apply(self, key=key)
    except IndexError as exc:
        raise IndexError(str(exc)) from None


def setitem(self, key, value):
    """In-place assignment ``t[key] = value`` (only on tensors that need no grad)."""
    _check_inplace(self)
    key = _index_key(key, self)
    self._data[key] = value._data if isinstance(value, Tensor) else value


# ---- in place --------------------------------------------------------------------------
def _check_inplace(self):
    if grad_mode.enabled and self.requires_grad:
        if self.grad_fn is None:
            raise BackwardError("a leaf Variable that requires grad is being used in an "
                                "in-place operation.")
        raise BackwardError("in-place operations on tensors that are part of a graph are not "
                            "supported; use the out-of-place op")
    from ..trace.hooks import HOOKS
    if HOOKS.listening:
        HOOKS.tracer.protect([self._data])  # pending records keep the values they saw


def _other(self, other):
    if isinstance(other, Tensor):
        return other._data
    return other


def add_(self, other, alpha=1):
    """In-place add."""
    _check_inplace(self)
    o = _other(self, other)
    self._data += o * alpha if alpha != 1 else o
    return self


def sub_(self, other, alpha=1):
    """In-place subtract."""
    _check_inplace(self)
    o = _other(self, other)
    self._data -= o * alpha if alpha != 1 else o
    return self


def mul_(self, other):
    """In-place multiply."""
    _check_inplace(self)
    self._data *= _other(self, other)
    return self


def div_(self, other):
    """In-place divide."""
    _check_inplace(self)
    self._data /= _other(self, other)
    return self


def zero_(self):
    """Fill with zeros in place."""
    _check_inplace(self)
    self._data[...] = 0
    return self


def fill_(self, value):
    """Fill with a value in place."""
    _check_inplace(self)
    self._data[...] = _other(self, value)
    return self


def copy_(self, src):
    """Copy src's values into self in place (broadcasting)."""
    _check_inplace(self)
    from .backend import move
    arr = src._data if isinstance(src, Tensor) else np.asarray(src)
    self._data[...] = move(arr, self.device)
    return self


def clamp_(self, min=None, max=None):
    """Clamp in place."""
    _check_inplace(self)
    self._data[...] = self._data.clip(min, max)
    return self


_METHODS = {
    "add": add, "sub": sub, "mul": mul, "div": div, "true_divide": div, "pow": pow,
    "matmul": matmul, "mm": mm, "bmm": bmm, "neg": neg, "abs": abs, "relu": relu,
    "exp": _unary(O.Exp), "log": _unary(O.Log), "log1p": _unary(O.Log1p),
    "sqrt": _unary(O.Sqrt), "rsqrt": _unary(O.Rsqrt), "sin": _unary(O.Sin),
    "cos": _unary(O.Cos), "tanh": _unary(O.Tanh), "sigmoid": _unary(O.Sigmoid),
    "clamp": clamp, "clip": clamp, "maximum": maximum, "minimum": minimum,
    "masked_fill": masked_fill, "sum": sum, "mean": mean, "var": var, "std": std, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin,
    "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "cumsum": cumsum,
    "reshape": reshape, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "transpose": transpose, "swapaxes": swapaxes, "t": t, "permute": permute, "expand": expand,
    "expand_as": expand_as, "repeat": repeat, "split": split, "chunk": chunk, "gather": gather,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "zero_": zero_, "fill_": fill_,
    "copy_": copy_, "clamp_": clamp_,
    "eq": _compare("eq"), "ne": _compare("ne"), "lt": _compare("lt"), "le": _compare("le"),
    "gt": _compare("gt"), "ge": _compare("ge"),
    "__getitem__": getitem, "__setitem__": setitem,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.__add__ = Tensor.__radd__ = _binary_method(O.Add)
Tensor.__sub__ = _binary_method(O.Sub)
Tensor.__rsub__ = lambda a, b: _binary(O.Sub, b, a)
Tensor.__mul__ = Tensor.__rmul__ = _binary_method(O.Mul)
Tensor.__truediv__ = lambda a, b: div(a, b)
Tensor.__rtruediv__ = lambda a, b: div(_as_tensor(b, a) if not isinstance(b, Tensor) else b, a)
Tensor.__pow__ = lambda a, b: pow(a, b)
Tensor.__rpow__ = lambda a, b: rpow(a, b)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda a, b: matmul(_as_tensor(b, a), a)
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__eq__ = _compare("eq")
Tensor.__ne__ = _compare("ne")
Tensor.__lt__ = _compare("lt")
Tensor.__le__ = _compare("le")
Tensor.__gt__ = _compare("gt")
Tensor.__ge__ = _compare("ge")


def _inplace_or_new(inplace, outplace):
    """``a += b``: in place when allowed, a new graph node for non-leaf tensors (as torch)."""
    def method(a, b):
        if grad_mode.enabled and a.requires_grad and a.grad_fn is not None:
            return outplace(a, b)
        return inplace(a, b)
    return method


Tensor.__iadd__ = _inplace_or_new(add_, lambda a, b: _binary(O.Add, a, b))
Tensor.__isub__ = _inplace_or_new(sub_, lambda a, b: _binary(O.Sub, a, b))
Tensor.__imul__ = _inplace_or_new(mul_, lambda a, b: _binary(O.Mul, a, b))
Tensor.__itruediv__ = _inplace_or_new(div_, div)
Tensor.__hash__ = lambda self: id(self)
Tensor.__floordiv__ = lambda a, b: div(a, b, rounding_mode="floor")
Tensor.__invert__ = lambda a: Tensor._wrap(~a._data)
Tensor.__and__ = lambda a, b: Tensor._wrap(a._data & _other(a, b))
Tensor.__or__ = lambda a, b: Tensor._wrap(a._data | _other(a, b))
