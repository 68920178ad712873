"""More of torch's Tensor methods: tests (isnan, any, isclose...), rounding, more math
(log2 ... atan2), norm, small compositions (lerp, addcmul, outer...), running reductions
(cumprod, cummax/cummin, logcumsumexp), NaN-skipping and counting reductions (unique...),
sampling (bernoulli, multinomial), ``new_*`` constructors and in-place forms. Each is a thin
call of one Function class or of existing methods. Reordering, selection and index writes
are in tensor_select.py."""
import numbers

import numpy as np

from ..errors import DimError, GradvizError, ShapeError
from . import creation, dtypes
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Tensor
from .tensor_inplace import (_unary_, bernoulli_, exponential_, masked_fill_, normal_,
                             uniform_)
from .tensor_methods import _as_tensor, _binary, _coerce, _unary
from .tensor_reduce import _accumulator, values_indices


# ---- tests: bool results, no gradient ----------------------------------------------------
def _test(op, when_not_float):
    def method(self):
        if self._data.dtype.kind != "f":   # integers and bools are never NaN or infinite
            xp = xp_of(self._data)
            return Tensor._wrap(xp.full(self._data.shape, when_not_float, dtype=bool))
        return O.Predicate.apply(self, op=op)
    method.__name__ = op
    method.__doc__ = f"Elementwise {op} (a bool tensor, no gradient)."
    return method


def logical_not(self):
    """Elementwise not (zero is False), a bool tensor."""
    return O.Predicate.apply(self, op="logical_not")


def _logical(op):
    def method(self, other):
        return O.Predicate.apply(self, other, op=f"logical_{op}")
    method.__name__ = f"logical_{op}"
    method.__doc__ = f"Elementwise logical {op} (zero is False), a bool tensor."
    return method


def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|self - other| <= atol + rtol * |other|, elementwise (a bool tensor)."""
    a, b = _coerce(self, other)
    return O.Predicate.apply(a, b, op="isclose", rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (``isclose``); a Python bool."""
    return bool(isclose(self, other, rtol, atol, equal_nan)._data.all())


def equal(self, other):
    """True when both have the same shape and elements; a Python bool."""
    return tuple(self.shape) == tuple(other.shape) and bool((self == other)._data.all())


def _any_all(op):
    def method(self, dim=None, keepdim=False):
        out = O.AnyAll.apply(self, op=op, dim=dim, keepdim=keepdim)
        # torch keeps uint8 for uint8 input (a legacy of masks before bool)
        return out.to(dtypes.uint8) if self._data.dtype == np.uint8 else out
    method.__name__ = op
    method.__doc__ = f"Whether {op} element (over ``dim``) is non-zero; a bool tensor."
    return method


# ---- rounding: zero gradient, as torch ---------------------------------------------------
def _stepwise(cls):
    def method(self, **kw):
        if self._data.dtype.kind != "f":
            if self._data.dtype == np.bool_ and cls is not O.Sign:
                kernel = "round_cpu" if kw else f"{cls.__name__.lower()}_vml_cpu"
                raise GradvizError(f'"{kernel}" not implemented for \'Bool\'')
            if cls is not O.Sign or self._data.dtype == np.bool_:
                return self.clone()   # already whole, a bool its sign (torch returns a copy)
        return cls.apply(self, **kw)
    method.__name__ = cls.__name__.lower()
    method.__doc__ = f"Elementwise {method.__name__} (its gradient is zero, as torch's)."
    return method


_round = _stepwise(O.Round)


def round(self, decimals=0):
    """Round half to even, to ``decimals`` places (its gradient is zero, as torch's)."""
    return _round(self, decimals=decimals) if decimals else _round(self)


def frac(self):
    """self - trunc(self) (gradient 1)."""
    return O.Frac.apply(self)


def square(self):
    """self ** 2."""
    return self ** 2


def atan2(self, other):
    """The angle of (other, self) in (-pi, pi] (torch.atan2(input, other))."""
    a = self
    if self._data.dtype.kind != "f" and not (isinstance(other, Tensor)
                                             and other._data.dtype.kind == "f"):
        a = self.to(dtypes.get_default_dtype())   # int with int: the default float
    return _binary(O.Atan2, a, other if isinstance(other, Tensor) else _as_tensor(other, a))


# ---- norm ----------------------------------------------------------------------------------
def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (every element when None): p = 'fro' (2), a number, inf;
    p = 'nuc' is the nuclear norm of the matrices in ``dim`` (the last two when None)."""
    if p == "nuc":
        from ..linalg import matrix_norm
        return matrix_norm(self, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if p == "fro":
        p = 2.0
    elif isinstance(p, str) or not isinstance(p, numbers.Real):
        raise GradvizError(f"norm: p={p!r} is not supported (use a number, inf, 'fro' or 'nuc')")
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind != "f":
        raise GradvizError(f"norm(): input dtype should be floating point, but got "
                           f"{x.dtype}")
    return O.Norm.apply(x, p=float(p), dim=dim, keepdim=keepdim)


# ---- compositions of existing ops ----------------------------------------------------------
def clamp_min(self, min):
    """max(self, min)."""
    return self.clamp(min=min)


def clamp_max(self, max):
    """min(self, max)."""
    return self.clamp(max=max)


def lerp(self, end, weight):
    """self + weight * (end - self)."""
    return self + weight * (end - self)


def addcmul(self, tensor1, tensor2, value=1):
    """self + value * tensor1 * tensor2."""
    return self + tensor1 * tensor2 * value if value != 1 else self + tensor1 * tensor2


def addcdiv(self, tensor1, tensor2, value=1):
    """self + value * tensor1 / tensor2."""
    return self + tensor1 / tensor2 * value if value != 1 else self + tensor1 / tensor2


def outer(self, vec2):
    """The outer product of two 1-D tensors."""
    if self.ndim != 1 or vec2.ndim != 1:
        raise ShapeError("outer: expected two 1-D tensors")
    return self.unsqueeze(1) * vec2.unsqueeze(0)


def var_mean(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """(var, mean)."""
    return (self.var(dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
            self.mean(dim=dim, keepdim=keepdim))


def std_mean(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """(std, mean)."""
    return (self.std(dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
            self.mean(dim=dim, keepdim=keepdim))


def count_nonzero(self, dim=None):
    """How many elements (over ``dim``) are not zero (int64)."""
    return (self != 0).sum(dim=dim)


def bernoulli(self, p=None, *, generator=None):
    """0/1 samples: 1 with probability ``self`` (or ``p``), same shape and dtype."""
    out = self.detach().clone() if self._data.dtype.kind == "f" else self.float()
    return out.bernoulli_(self if p is None else p, generator=generator)


def _draw(g, r, num_samples, replacement):
    """One row's draws; without replacement, zero-probability categories come last."""
    live = int((r > 0).sum())
    if replacement or num_samples <= live:
        return g.choice(len(r), num_samples, replace=replacement, p=r / r.sum())
    first = g.choice(len(r), live, replace=False, p=r / r.sum())
    rest = g.permutation(np.flatnonzero(r == 0))
    return np.concatenate([first, rest])[:num_samples]


def multinomial(self, num_samples, replacement=False, *, generator=None):
    """Indices drawn with probabilities proportional to the rows of ``self`` (1-D or 2-D).

    Without replacement, once a row's non-zero categories are used up its zero-probability
    ones follow in random order (as torch); only more samples than categories is an error."""
    from .random import generator as _gen  # noqa: PLC0415
    w = self.detach().cpu().numpy().astype(np.float64)
    if w.ndim not in (1, 2):
        raise ShapeError("multinomial: prob_dist must be 1 or 2 dim")
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise GradvizError("multinomial: invalid probabilities (negative, inf, nan or a row "
                           "summing to 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise GradvizError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement (n_sample={num_samples}, prob_dist.size(-1)="
                           f"{rows.shape[1]})")
    g = _gen(generator)
    out = np.stack([_draw(g, r, num_samples, replacement) for r in rows]).astype(np.int64)
    return creation.tensor(out.reshape(w.shape[:-1] + (num_samples,)), device=self.device)


# ---- running products, extremes and logsumexp; NaN-skipping reductions ---------------------
def cumprod(self, dim, dtype=None):
    """Running product along ``dim`` (its gradient is exact with zeros in the input)."""
    return O.Cumprod.apply(_accumulator(self, dtype), dim=dim)


def _running_extreme(cls, name):
    def method(self, dim):
        indices = cls.apply(self, dim=dim)
        values = O.Gather.apply(self, indices, dim=dim) if self.ndim else self.clone()
        return values_indices(values, indices, name)
    method.__name__ = name
    method.__doc__ = (f"(values, indices) of the running {name[3:]} along ``dim`` (the last "
                      "place of equal values; NaN propagates); gradients reach the picked "
                      "places.")
    return method


def logcumsumexp(self, dim):
    """log(cumsum(exp(self))) along ``dim``, computed stably (a running logaddexp)."""
    if self._data.dtype.kind != "f":
        raise GradvizError(f"logcumsumexp(): not implemented for {self.dtype}; use a floating "
                           "point tensor")
    return O.Logcumsumexp.apply(self, dim=dim)


def nansum(self, dim=None, keepdim=False):
    """Sum treating NaN as zero."""
    return self.masked_fill(self.isnan(), 0).sum(dim=dim, keepdim=keepdim)


def nanmean(self, dim=None, keepdim=False):
    """Mean of the non-NaN elements."""
    count = (~self.isnan()).sum(dim=dim, keepdim=keepdim)
    return nansum(self, dim, keepdim) / count


# ---- repeats, uniques and counts --------------------------------------------------------------


def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or slices along ``dim``) in ascending order, with the inverse
    indices and counts if asked; NaNs are never equal. No gradient (as torch)."""
    if dim is not None:
        if not self.ndim:
            raise DimError(f"Dimension specified as {dim} but tensor has no dimensions")
        dim = norm_dims(dim, self.ndim)[0]
        if 0 in self.shape[:dim] + self.shape[dim + 1:]:
            raise GradvizError("There are 0 sized dimensions, and they aren't selected, so "
                               "unique cannot be applied")
    extra = []   # Unique's inverse and counts
    out = [O.Unique.apply(self, extra, dim=dim)]
    if return_inverse:
        out.append(Tensor._wrap(extra[0]))
    if return_counts:
        out.append(Tensor._wrap(extra[1]))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(self, weights=None, minlength=0):
    """How often each non-negative integer occurs (weighted sums with ``weights``)."""
    if self.ndim != 1 or self._data.dtype.kind not in "iu":
        raise GradvizError("bincount only supports 1-d non-negative integral inputs.")
    if self._data.size and int(self._data.min()) < 0:
        raise GradvizError("bincount only supports 1-d non-negative integral inputs.")
    xp = xp_of(self._data)
    w = None if weights is None else (weights._data if isinstance(weights, Tensor)
                                      else xp.asarray(weights))
    out = xp.bincount(self._data, weights=w, minlength=minlength)
    if w is None:
        return Tensor._wrap(out.astype(xp.int64))
    return Tensor._wrap(out.astype(w.dtype if w.dtype.kind == "f" else xp.float64))


def histc(self, bins=100, min=0, max=0):
    """A histogram of ``bins`` equal bins over [min, max] (the data's range when both are
    0); values outside are ignored. No gradient."""
    xp = xp_of(self._data)
    x = self._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi == 0 and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = xp.histogram(x, bins=int(bins), range=(lo, hi))
    return Tensor._wrap(counts.astype(self._data.dtype))


# ---- new_* constructors: this tensor's dtype and device unless told ------------------------
def _new(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad, **kw)
    method.__name__ = f"new_{fn.__name__}"
    method.__doc__ = f"``gv.{fn.__name__}`` with this tensor's dtype and device by default."
    return method


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """``gv.full`` with this tensor's dtype and device by default."""
    return creation.full(size, fill_value, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """``gv.tensor(data)`` with this tensor's dtype and device by default."""
    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)


def type_as(self, other):
    """This tensor cast to ``other``'s dtype."""
    return self.to(other.dtype)


_METHODS = {
    "isnan": _test("isnan", False), "isinf": _test("isinf", False),
    "isfinite": _test("isfinite", True), "logical_not": logical_not,
    "logical_and": _logical("and"), "logical_or": _logical("or"),
    "logical_xor": _logical("xor"), "isclose": isclose, "allclose": allclose, "equal": equal,
    "any": _any_all("any"), "all": _any_all("all"),
    "sign": _stepwise(O.Sign), "floor": _stepwise(O.Floor), "ceil": _stepwise(O.Ceil),
    "round": round, "trunc": _stepwise(O.Trunc), "frac": frac,
    "reciprocal": _unary(O.Reciprocal), "square": square, "norm": norm,
    "log2": _unary(O.Log2), "log10": _unary(O.Log10), "expm1": _unary(O.Expm1),
    "tan": _unary(O.Tan), "sinh": _unary(O.Sinh), "cosh": _unary(O.Cosh),
    "asin": _unary(O.Asin), "acos": _unary(O.Acos), "atan": _unary(O.Atan),
    "arcsin": _unary(O.Asin), "arccos": _unary(O.Acos), "arctan": _unary(O.Atan),
    "erf": _unary(O.Erf), "atan2": atan2, "arctan2": atan2,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "lerp": lerp, "addcmul": addcmul,
    "addcdiv": addcdiv, "outer": outer, "ger": outer, "var_mean": var_mean,
    "std_mean": std_mean, "count_nonzero": count_nonzero, "cumprod": cumprod,
    "cummax": _running_extreme(O.Cummax, "cummax"),
    "cummin": _running_extreme(O.Cummin, "cummin"), "logcumsumexp": logcumsumexp,
    "nansum": nansum, "nanmean": nanmean, "unique": unique, "bincount": bincount,
    "histc": histc, "bernoulli": bernoulli, "multinomial": multinomial,
    "new_zeros": _new(creation.zeros), "new_ones": _new(creation.ones),
    "new_empty": _new(creation.empty), "new_full": new_full, "new_tensor": new_tensor,
    "type_as": type_as,
    "uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_,
    "exponential_": exponential_, "masked_fill_": masked_fill_,
}
_METHODS.update({f"{m}_": _unary_(f"{m}_", m) for m in (
    "abs", "neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "pow",
    "floor", "ceil", "round", "trunc", "sign", "reciprocal", "square", "clamp_min",
    "clamp_max", "scatter", "scatter_add", "index_add", "index_fill")})
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
NAMES = [n for n in _METHODS if not n.startswith("new_") and not n.endswith("_")
         and n != "type_as"]   # gv.<name> too
