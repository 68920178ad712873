"""Yet more of torch's Tensor methods: aliases (absolute ... flipud, stride), products (dot,
mv, addmm ..., inner, kron, cross) and elementwise math (nan_to_num, logaddexp ... exp2,
lgamma, digamma). Each is a thin call of one Function class (ops/extra.py) or a composition of
existing methods, so gradients follow. Pieces, index lists and order statistics (diff ...
unfold, nonzero, quantile, mode, nanmedian) are in tensor_pieces.py."""
import math
import operator

import numpy as np

from ..errors import GradvizError, ShapeError
from . import ops as O
from .backend import xp_of
from .ops.util import norm_dims
from .tensor import Tensor
from .tensor_methods import _as_tensor, _coerce, _int_divisor, _unary, _values
from .tensor_pieces import METHODS as _PIECES
from .tensor_pieces import dim_of, unfold
from .tensor_reduce import _float


def _tensor(x, like):
    return x if isinstance(x, Tensor) else _as_tensor(x, like)


# ---- aliases and layout ---------------------------------------------------------------------
def ravel(self):
    """The elements as a 1-D tensor."""
    return self.reshape(-1)


def is_contiguous(self, memory_format=None):
    """True when the elements lie in C order (False for transposed or expanded views), or
    in ``memory_format`` (``gv.channels_last`` ...) when given."""
    from .ops.convert import in_memory_format
    return in_memory_format(self._data, "contiguous_format" if memory_format is None
                            else memory_format.name)


def stride(self, dim=None):
    """Steps in elements between neighbours along each dim: the array's own (torch's for
    contiguous tensors and views alike); a size-1 dim made by ``None`` indexing steps over
    the rest, as torch's ``unsqueeze``."""
    d = self._data
    steps = [s // d.itemsize for s in d.strides]
    for i in reversed(range(d.ndim)):
        if d.shape[i] == 1 and not steps[i]:
            steps[i] = steps[i + 1] * max(d.shape[i + 1], 1) if i + 1 < d.ndim else 1
    return tuple(steps) if dim is None else steps[norm_dims(dim, self.ndim)[0]]


def msort(self):
    """Sorted along the first dim (the values of ``sort(0)``)."""
    return self.sort(0).values


def fliplr(self):
    """Reversed left to right (dim 1)."""
    if self.ndim < 2:
        raise ShapeError("Input must be >= 2-d.")
    return self.flip(1)


def flipud(self):
    """Reversed upside down (dim 0)."""
    if self.ndim < 1:
        raise ShapeError("Input must be >= 1-d.")
    return self.flip(0)


# ---- products ---------------------------------------------------------------------------------
def dot(self, other):
    """The inner product of two 1-D tensors of one dtype."""
    other = _tensor(other, self)
    if self.ndim != 1 or other.ndim != 1:
        raise ShapeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
    if self.dtype != other.dtype:
        raise GradvizError(f"dot : expected both vectors to have same dtype, but found "
                           f"{self.dtype} and {other.dtype}")
    if self.shape != other.shape:
        n, m = self.shape[0], other.shape[0]
        raise ShapeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                         f"have the same number of elements, but got {n} and {m} elements "
                         "respectively")
    return self.matmul(other)


def mv(self, vec):
    """Matrix (2-D) times vector (1-D)."""
    if self.ndim != 2 or vec.ndim != 1:
        raise ShapeError(f"vector + matrix @ vector expected, got {self.ndim}, {vec.ndim}")
    if self.shape[1] != vec.shape[0]:
        raise ShapeError(f"size mismatch, got mat ({self.shape[0]}x{self.shape[1]}), vec "
                         f"({vec.shape[0]})")
    return self.matmul(vec)


def _add_scaled(self, product, beta, alpha):
    """beta * self + alpha * product; with beta 0 ``self`` is ignored (its NaN and inf do
    not spread), as torch."""
    try:
        fits = np.broadcast_shapes(tuple(self.shape), product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"The input of shape {list(self.shape)} does not broadcast to the "
                         f"product's shape {list(product.shape)}")
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return (self if beta == 1 else self * beta) + out


def addmm(self, mat1, mat2, *, beta=1, alpha=1):
    """beta * self + alpha * (mat1 @ mat2)."""
    return _add_scaled(self, mat1.mm(mat2), beta, alpha)


def addmv(self, mat, vec, *, beta=1, alpha=1):
    """beta * self + alpha * (mat @ vec)."""
    return _add_scaled(self, mat.mv(vec), beta, alpha)


def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """beta * self + alpha * (batch1 @ batch2), batch by batch."""
    return _add_scaled(self, batch1.bmm(batch2), beta, alpha)


def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """beta * self + alpha * (the sum over the batch of batch1[i] @ batch2[i])."""
    return _add_scaled(self, batch1.bmm(batch2).sum(0), beta, alpha)


def inner(self, other):
    """Sums of products over the last dims (a product when either is 0-d)."""
    other = _tensor(other, self)
    if not self.ndim or not other.ndim:
        return self * other
    k = self.shape[-1]
    if other.shape[-1] != k:
        raise ShapeError(f"inner() the last dimension must match on both input tensors but "
                         f"got shapes {list(self.shape)} and {list(other.shape)}")
    out = self.matmul(other.reshape(-1, k).t())
    return out.reshape(tuple(self.shape[:-1]) + tuple(other.shape[:-1]))


def kron(self, other):
    """The Kronecker product: every element of ``self`` times the whole of ``other``."""
    other = _tensor(other, self)
    nd = max(self.ndim, other.ndim)
    a = (1,) * (nd - self.ndim) + tuple(self.shape)
    b = (1,) * (nd - other.ndim) + tuple(other.shape)
    spread = self.reshape(tuple(s for n in a for s in (n, 1))) * \
        other.reshape(tuple(s for n in b for s in (1, n)))
    return spread.reshape(tuple(n * m for n, m in zip(a, b)))


def cross(self, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (the first dim of size 3 when None, as
    torch.cross without dim)."""
    other = _tensor(other, self)
    if self.dtype != other.dtype:
        raise GradvizError(f"linalg.cross: expected input and other to have the same dtype, "
                           f"but got {self.dtype} and {other.dtype}")
    if self.ndim != other.ndim:
        raise ShapeError("linalg.cross: inputs must have the same number of dimensions.")
    if dim is None:
        dim = next((i for i, n in enumerate(self.shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"no dimension of size 3 in input of shape {list(self.shape)}")
    d = dim_of(self, dim, "cross")
    if self.shape[d] != 3 or other.shape[d] != 3:
        raise ShapeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                         f"{self.shape[d]} and {other.shape[d]}")
    xp = xp_of(self._data)
    nxt, prev = xp.asarray([1, 2, 0]), xp.asarray([2, 0, 1])
    return self.index_select(d, nxt) * other.index_select(d, prev) - \
        self.index_select(d, prev) * other.index_select(d, nxt)


# ---- elementwise math -------------------------------------------------------------------------
def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (the dtype's
    largest and lowest values by default); the gradient flows where the input is finite."""
    x = self._data
    if x.dtype.kind != "f":
        return self.clone()
    xp, info = xp_of(x), np.finfo(x.dtype)
    big = float(info.max if posinf is None else posinf)
    low = float(info.min if neginf is None else neginf)
    fill = xp.where(x != x, nan, xp.where(x > 0, big, low)).astype(x.dtype)
    return self.where(Tensor._wrap(xp.isfinite(x)), Tensor._wrap(fill))


def _floats(self, other, name, cast):
    """(self, other) promoted as torch; ints and bools cast to the default float when
    ``cast``, refused otherwise (torch has no integer kernel there)."""
    a, b = _coerce(self, other)   # a is a Tensor: self is
    if a._data.dtype.kind != "f":
        if not cast:
            raise GradvizError(f'"{name}" is not implemented for {a.dtype}; use a floating '
                               "point tensor")
        a, b = _float(a), _float(b) if isinstance(b, Tensor) else float(b)
    return a, b


def _float_binary(cls, name, cast=False):
    def method(self, other):
        return cls.apply(*_floats(self, other, name, cast))
    method.__name__ = name
    method.__doc__ = f"Elementwise {name} with broadcasting ({cls.rule})."
    return method


def _pick_not_nan(name, keep):
    """fmax / fmin: the larger (smaller) of the two, the other one where one is NaN; the
    gradient goes to the one picked (``self`` at ties), as torch's."""
    def method(self, other):
        a, b = _coerce(self, other)
        vb = _values(b)
        return a.where(Tensor._wrap(keep(a._data, vb) | (vb != vb)), b)
    method.__name__ = name
    method.__doc__ = f"Elementwise {name[1:]}imum that ignores NaN (NaN only when both are)."
    return method


def fmod(self, other):
    """The remainder of truncated division, with the sign of ``self`` (C's fmod)."""
    a, b = _coerce(self, other)
    if _int_divisor("fmod", a, b):
        return Tensor._wrap(xp_of(a._data).fmod(a._data, _values(b)))
    return O.Fmod.apply(a, b)


def heaviside(self, values):
    """0 where ``self`` < 0, 1 where > 0, ``values`` where 0 (no gradient, as torch)."""
    values = _tensor(values, self)
    if values.dtype != self.dtype:
        raise GradvizError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return O.Heaviside.apply(self, values)


def xlogy(self, other):
    """self * log(other), 0 where self is 0 (unless other is NaN).

    Gradients as torch's: d/dself = log(other), 0 where self == 0 and other <= 0;
    d/dother = self / other (NaN where both are 0)."""
    a, b = _floats(self, _tensor(other, self), "xlogy", True)
    kept = (a._data != 0) | ~(b._data <= 0)   # 0 * log(0 or less) is 0, with no NaN gradient
    from . import grad_mode  # noqa: PLC0415
    if b.requires_grad and grad_mode.enabled:
        dead = (a._data == 0) & (b._data == 0)
        if bool(dead.any()):   # torch's d/dother there is 0/0: NaN, which `where` would hide
            b = b.expand(*dead.shape)
            b.register_hook(lambda g: g.where(Tensor._wrap(~dead), float("nan")))
    return a * b.where(Tensor._wrap(kept), 1.0).log()


def logit(self, eps=None):
    """log(p / (1 - p)), ``self`` clamped to [eps, 1 - eps] first when ``eps`` is given."""
    p = _float(self)
    if eps is not None:
        p = p.clamp(eps, 1.0 - eps)
    return (p / (1.0 - p)).log()


def sinc(self):
    """sin(pi x) / (pi x), 1 at 0 (where its gradient is 0)."""
    x = _float(self)
    zero = Tensor._wrap(x._data == 0)
    px = x.masked_fill(zero, 1.0) * math.pi
    return (px.sin() / px).masked_fill(zero, 1.0)


def signbit(self):
    """Whether the sign bit is set (True for -0.0), a bool tensor."""
    if self._data.dtype.kind == "f":
        return O.Predicate.apply(self, op="signbit")
    return self.lt(0)


def _scaled(factor, name):
    def method(self):
        return _float(self) * factor
    method.__name__ = name
    method.__doc__ = f"Elementwise {name} (times {factor:.6g})."
    return method


def exp2(self):
    """2 ** self."""
    return 2.0 ** _float(self)


def float_power(self, exponent):
    """self ** exponent computed in float64 (a float64 result)."""
    return self.double() ** (exponent.double() if isinstance(exponent, Tensor) else exponent)


_METHODS = {
    "absolute": Tensor.abs, "negative": Tensor.neg, "multiply": Tensor.mul,
    "subtract": Tensor.sub, "divide": Tensor.div, "greater": Tensor.gt,
    "greater_equal": Tensor.ge, "less": Tensor.lt, "less_equal": Tensor.le,
    "not_equal": Tensor.ne, "swapdims": Tensor.transpose, "sgn": Tensor.sign,
    "ndimension": Tensor.dim, "ravel": ravel, "msort": msort, "fliplr": fliplr,
    "flipud": flipud, "dot": dot, "vdot": dot, "mv": mv, "addmm": addmm, "addmv": addmv,
    "addbmm": addbmm, "baddbmm": baddbmm, "inner": inner, "kron": kron, "cross": cross,
    "broadcast_to": Tensor.expand, "nan_to_num": nan_to_num,
    "logaddexp": _float_binary(O.Logaddexp, "logaddexp"),
    "logaddexp2": _float_binary(O.Logaddexp2, "logaddexp2"),
    "hypot": _float_binary(O.Hypot, "hypot"),
    "copysign": _float_binary(O.Copysign, "copysign", cast=True),
    "fmax": _pick_not_nan("fmax", operator.ge), "fmin": _pick_not_nan("fmin", operator.le),
    "fmod": fmod, "heaviside": heaviside, "xlogy": xlogy, "logit": logit, "sinc": sinc,
    "signbit": signbit, "deg2rad": _scaled(math.pi / 180.0, "deg2rad"),
    "rad2deg": _scaled(180.0 / math.pi, "rad2deg"), "exp2": exp2, "float_power": float_power,
    "lgamma": _unary(O.Lgamma), "digamma": _unary(O.Digamma),
    **_PIECES,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.is_contiguous = is_contiguous   # methods only: torch has no function form of these
Tensor.stride = stride
Tensor.unfold = unfold
# gv.<name> too; gv.multiply, subtract, divide and negative are functional.py's already
NAMES = [n for n in _METHODS if n not in ("multiply", "subtract", "divide", "negative",
                                          "ndimension")]
