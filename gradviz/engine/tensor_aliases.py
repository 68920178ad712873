"""More of torch's Tensor methods that ported scripts call: the in-place form of every
elementwise method (``t.log1p_()``, ``t.eq_(0)``, ``t.clip_(0, 1)`` ...), in-place shape
changes (``squeeze_``, ``t_`` ...), dtype shortcuts (``byte``, ``short``, ``char``), the
inverse hyperbolic functions, ``aminmax``, more random fills and small queries. In-place
forms follow ``tensor_inplace``'s rules (they join the graph when a graph is involved)."""
import collections

import numpy as np

from ..errors import BackwardError, GradvizError
from . import dtypes
from . import grad_mode
from . import ops as O
from .tensor import Tensor
from .tensor_inplace import _check_inplace, _fill_random, inplace_of
from .tensor_methods import _unary

# elementwise methods whose ``name_`` torch has: written back into the tensor
_ELEMENTWISE = (
    "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "erf", "sinh", "cosh", "tan", "asin",
    "acos", "atan", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "arcsin",
    "arccos", "arctan", "frac", "fix", "digamma", "lgamma", "logit", "nan_to_num", "clip",
    "fmod", "remainder", "floor_divide", "atan2", "arctan2", "hypot", "copysign", "xlogy",
    "true_divide", "float_power", "addmm", "addmv", "baddbmm", "cumsum", "cumprod", "renorm",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "logaddexp", "sgn",
    "negative", "absolute", "square", "multiply", "subtract", "divide")
# their results are bool in torch: the in-place form writes 1/0 in the tensor's dtype
_TESTS = ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
          "less_equal", "not_equal", "logical_not", "logical_and", "logical_or", "logical_xor")


def _in_place_of(method, cast):
    def compute(t, *args, **kwargs):
        out = getattr(Tensor, method)(t, *args, **kwargs)
        return out.to(t.dtype) if cast else out
    return inplace_of(method + "_", compute, f"In-place ``{method}``.")


def _reshape_in_place(name, method):
    """``t.<name>()``: t takes the new shape itself (a view of the same memory), as torch's
    in-place shape ops; refused on a tensor in a graph."""
    def reshape(self, *args, **kwargs):
        if grad_mode.enabled and self.requires_grad:
            raise BackwardError(f"{name}: changing the shape of a tensor that requires grad in "
                                f"place is not supported here; use t = t.{method}(...)")
        with grad_mode.no_grad():
            self._data = getattr(Tensor, method)(self, *args, **kwargs)._data
        return self
    reshape.__name__ = reshape.__qualname__ = name
    reshape.__doc__ = f"In-place ``{method}`` (the tensor's own shape changes)."
    return reshape


def byte(self):
    """The values as uint8."""
    return self.to(dtypes.uint8)


def char(self):
    """The values as int8."""
    return self.to(dtypes.int8)


def short(self):
    """The values as int16."""
    return self.to(dtypes.int16)


def aminmax(self, *, dim=None, keepdim=False):
    """(min, max) in one call (a named tuple), over ``dim`` or everything."""
    if dim is None:
        if keepdim:
            lo, hi = self.amin(dim=tuple(range(self.ndim)), keepdim=True), \
                self.amax(dim=tuple(range(self.ndim)), keepdim=True)
        else:
            lo, hi = self.amin(), self.amax()
    else:
        lo, hi = self.amin(dim=dim, keepdim=keepdim), self.amax(dim=dim, keepdim=keepdim)
    return _MinMax(lo, hi)


class _MinMax(collections.namedtuple("aminmax", ["min", "max"])):
    """torch.return_types.aminmax."""

    __slots__ = ()
    __module__ = "gradviz.return_types"

    def __repr__(self):
        return f"gradviz.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"


def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers drawn uniformly from [from, to) (to=None: [0, from) when one
    bound is given, else the dtype's range as torch)."""
    if to is None:
        lo, hi = (0, from_) if from_ else (0, _top(self))
    else:
        lo, hi = from_, to
    if hi <= lo:
        raise GradvizError(f"random_ expects 'from' to be less than 'to', but got from={lo} "
                           f">= to={hi}")
    return _fill_random(self, lambda g, shape: g.integers(lo, hi, shape), "random_",
                        generator)


def _top(t):
    kind = t._data.dtype
    if kind == np.bool_:
        return 2
    if kind.kind in "iu":
        return int(np.iinfo(kind).max) + 1
    return 2 ** np.finfo(kind).nmant + 1   # torch: [0, 2^mantissa] for floats


def geometric_(self, p, *, generator=None):
    """Fill with draws of the number of trials up to the first success (probability p)."""
    return _fill_random(self, lambda g, shape: g.geometric(p, shape), "geometric_",
                        generator)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp of N(mean, std²) draws."""
    return _fill_random(self, lambda g, shape: g.lognormal(mean, std, shape), "log_normal_",
                        generator)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) draws."""
    return _fill_random(self, lambda g, shape: median + sigma * g.standard_cauchy(shape),
                        "cauchy_", generator)


def map_(self, other, callable):
    """``self[i] = callable(self[i], other[i])`` for each element (CPU tensors that need no
    grad, as torch)."""
    if not isinstance(self._data, np.ndarray):
        raise GradvizError("map_ is only implemented on CPU tensors")
    o = np.broadcast_to(other._data if isinstance(other, Tensor) else np.asarray(other),
                        self._data.shape)
    vals = [callable(a, b) for a, b in zip(self._data.ravel().tolist(), o.ravel().tolist())]
    _check_inplace(self)
    self._data[...] = np.asarray(vals, dtype=self._data.dtype).reshape(self._data.shape)
    return self


def apply_(self, callable):
    """``self[i] = callable(self[i])`` for each element (CPU tensors, as torch)."""
    if not isinstance(self._data, np.ndarray):
        raise GradvizError("apply_ is only implemented on CPU tensors")
    vals = [callable(a) for a in self._data.ravel().tolist()]
    _check_inplace(self)
    self._data[...] = np.asarray(vals, dtype=self._data.dtype).reshape(self._data.shape)
    return self


def addr(self, vec1, vec2, *, beta=1, alpha=1):
    """beta * self + alpha * outer(vec1, vec2)."""
    out = vec1.outer(vec2)
    out = out * alpha if alpha != 1 else out
    return out if beta == 0 else (self * beta if beta != 1 else self) + out


def sum_to_size(self, *size):
    """Summed down to ``size`` (which ``self`` must broadcast from), as a gradient is."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    lead = self.ndim - len(size)
    if lead < 0 or any(s not in (1, n) for s, n in zip(size, self.shape[lead:])):
        raise GradvizError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, self.shape))}}}.")
    out = self.sum(dim=tuple(range(lead))) if lead else self
    dims = tuple(i for i, s in enumerate(size) if s == 1 and out.shape[i] != 1)
    return out.sum(dim=dims, keepdim=True) if dims else out


def diagflat(self, offset=0):
    """The flattened values on the ``offset`` diagonal of a square matrix."""
    return self.reshape(-1).diag(offset)


def _same(self, *args, **kwargs):
    return self


_METHODS = {
    "byte": byte, "char": char, "short": short, "aminmax": aminmax, "random_": random_,
    "geometric_": geometric_, "log_normal_": log_normal_, "cauchy_": cauchy_, "map_": map_,
    "apply_": apply_, "addr": addr, "sum_to_size": sum_to_size, "diagflat": diagflat,
    "asinh": _unary(O.Asinh), "acosh": _unary(O.Acosh), "atanh": _unary(O.Atanh),
    "arcsinh": _unary(O.Asinh), "arccosh": _unary(O.Acosh), "arctanh": _unary(O.Atanh),
    # (conj, resolve_conj, conj_physical, is_complex: tensor_complex.py) the sign bit views
    # are the tensor itself
    "resolve_neg": _same, "positive": _same, "pin_memory": _same, "to_dense": _same,
    "is_pinned": lambda self: False,
    "is_inference": lambda self: False, "is_shared": lambda self: False,
    "is_signed": lambda self: self._data.dtype.kind in "if",
    "isreal": lambda self: (self.imag == 0) if self._data.dtype.kind == "c" else
    Tensor._wrap(_ones_like_bool(self)),
    "storage_offset": lambda self: 0 if self._data.base is None else _offset(self),
    "dim_order": lambda self: tuple(sorted(range(self.ndim), key=lambda i: -abs(
        self._data.strides[i]))),
    "squeeze_": _reshape_in_place("squeeze_", "squeeze"),
    "unsqueeze_": _reshape_in_place("unsqueeze_", "unsqueeze"),
    "t_": _reshape_in_place("t_", "t"),
    "transpose_": _reshape_in_place("transpose_", "transpose"),
    "swapaxes_": _reshape_in_place("swapaxes_", "transpose"),
    "swapdims_": _reshape_in_place("swapdims_", "transpose"),
    "resize_as_": _reshape_in_place("resize_as_", "view_as"),
}


def _ones_like_bool(t):
    from .backend import xp_of
    return xp_of(t._data).ones(t._data.shape, dtype=bool)


def _offset(t):
    from .backend import address
    base = t._data.base
    return (address(t._data) - address(base)) // t._data.itemsize


def register():
    """Set these methods on Tensor (only names it lacks: others' own versions win)."""
    extra = dict(_METHODS)
    for m in _ELEMENTWISE:
        if hasattr(Tensor, m):
            extra.setdefault(m + "_", _in_place_of(m, False))
    for m in _TESTS:
        if hasattr(Tensor, m):
            extra.setdefault(m + "_", _in_place_of(m, True))
    for name, fn in extra.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    Tensor.H = property(lambda self: self.T.conj() if self.ndim <= 2 else _no_H(),
                        doc="Conjugate transpose of a matrix.")
    Tensor.mH = property(lambda self: self.mT.conj(),
                         doc="Conjugate transpose of the last two dims.")
    Tensor.itemsize = property(lambda self: self._data.itemsize, doc="Bytes per element.")
    Tensor.nbytes = property(lambda self: self._data.nbytes, doc="Bytes of all elements.")


def _no_H():
    raise GradvizError("tensor.H is only supported on matrices (2-D tensors).")


NAMES = ["asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "aminmax", "diagflat",
         "conj", "resolve_conj", "resolve_neg", "positive", "is_complex", "is_signed",
         "isreal", "addr"]   # gv.<name> too
