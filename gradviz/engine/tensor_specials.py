"""torch names ported code still missed: special functions (erfc, i0, polygamma, mvlgamma,
igamma ...), integer helpers (gcd, lcm, shifts), the ``*_scatter`` copies, index_reduce and a
few aliases; and the registration of these and of tensor_stats.py's names on Tensor and gv.
Most are compositions of existing ops (so gradients follow); polygamma and igamma are ops of
their own (ops/math_more.py)."""
import math

import numpy as np

from ..errors import DimError, GradvizError, ShapeError
from . import creation, dtypes
from . import ops as O
from .ops.util import norm_dims
from .tensor import Tensor
from .tensor_inplace import inplace_of
from .tensor_methods import _as_tensor, _coerce, where
from .tensor_stats import _floating, _return_type, _t, _wrap, _xp
from .tensor_stats import (  # noqa: F401  (registered below)
    bartlett_window, blackman_window, corrcoef, cov, cumulative_trapezoid, gradient,
    hamming_window, hann_window, histogram, kaiser_window, trapezoid, trapz)


# ---- elementwise ------------------------------------------------------------------------------
def erfc(input):
    """1 - erf(x), exact far into the tail (gv.special.erfc)."""
    from .. import special  # noqa: PLC0415 - gv.special imports the engine
    return special.Erfc.apply(_floating(_t(input)))


def i0(input):
    """The modified Bessel function of the first kind, order 0."""
    from .. import special  # noqa: PLC0415
    return special.I0.apply(_floating(_t(input)))


def polygamma(n, input):
    """psi^(n)(x): the n-th derivative of digamma (torch.polygamma(n, x))."""
    if int(n) < 0:
        raise GradvizError("polygamma(n, x) does not support negative n.")
    return O.Polygamma.apply(_floating(_t(input)), n=int(n))


def _polygamma_method(self, n):
    """psi^(n)(self)."""
    return polygamma(n, self)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p:
    sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""
    if p < 1:
        raise GradvizError("p has to be greater than or equal to 1")
    x = _floating(_t(input))
    out = x.lgamma()
    for i in range(1, p):
        out = out + (x - i / 2).lgamma()
    return out + p * (p - 1) / 4 * math.log(math.pi)


def igamma(input, other):
    """P(input, other): the regularized lower incomplete gamma function."""
    a, x = _coerce(_floating(_t(input)), other)
    return O.Igamma.apply(a, _floating(_t(x, a)))


def igammac(input, other):
    """Q(input, other) = 1 - P(input, other), the regularized upper incomplete gamma."""
    a, x = _coerce(_floating(_t(input)), other)
    return O.Igammac.apply(a, _floating(_t(x, a)))


def _int_pair(name, input, other):
    a, b = _coerce(_t(input), other)
    b = b if isinstance(b, Tensor) else _as_tensor(b, a).to(a.dtype)   # a Python int: a's
    if a._data.dtype.kind not in "iub" or b._data.dtype.kind not in "iub":
        fl = a if a._data.dtype.kind not in "iub" else b
        kind = {np.float64: "Double", np.float16: "Half"}.get(fl._data.dtype.type, "Float")
        raise GradvizError(f'"{name}_cpu" not implemented for \'{kind}\'')
    return a, b


def gcd(input, other):
    """Elementwise greatest common divisor of integers."""
    a, b = _int_pair("gcd", input, other)
    return _wrap(_xp(a).gcd(a._data, b._data))


def lcm(input, other):
    """Elementwise least common multiple of integers."""
    a, b = _int_pair("lcm", input, other)
    return _wrap(_xp(a).lcm(a._data, b._data))


def bitwise_left_shift(input, other):
    """input << other (integers; shifts past the width give 0, as torch)."""
    a, b = _int_pair("lshift", input, other)
    xp, bits = _xp(a), a._data.dtype.itemsize * 8
    s = b._data
    out = xp.left_shift(a._data, xp.clip(s, 0, bits - 1).astype(a._data.dtype))
    return _wrap(xp.where(s >= bits, 0, out).astype(a._data.dtype))


def bitwise_right_shift(input, other):
    """input >> other (integers, arithmetic: the sign fills in, as torch)."""
    a, b = _int_pair("rshift", input, other)
    xp, bits = _xp(a), a._data.dtype.itemsize * 8
    s = xp.clip(b._data, 0, bits - 1).astype(a._data.dtype)
    return _wrap(xp.right_shift(a._data, s).astype(a._data.dtype))


def ldexp(input, other):
    """input * 2^other (a float result)."""
    x = _floating(_t(input))
    return x * 2.0 ** _floating(_t(other, x))


_Frexp = _return_type("frexp", ["mantissa", "exponent"])


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2^exponent, |mantissa| in [0.5, 1);
    the exponent is int32 and the mantissa's gradient is dy / 2^exponent."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        raise GradvizError("torch.frexp() only supports floating-point dtypes")
    xp = _xp(x)
    exp = xp.frexp(x._data)[1].astype(np.int32)
    scale = Tensor._wrap(xp.ldexp(xp.ones_like(x._data), -exp))
    return _Frexp(x * scale, Tensor._wrap(exp))


def nextafter(input, other):
    """The next float after input towards other (no gradient)."""
    a, b = _coerce(_t(input), other)
    return _wrap(_xp(a).nextafter(a._data, _t(b, a)._data))


def isposinf(input):
    """True where input is +inf."""
    x = _t(input)
    xp = _xp(x)
    return _wrap(xp.isposinf(x._data) if x._data.dtype.kind == "f"
                 else xp.zeros(x._data.shape, bool))


def isneginf(input):
    """True where input is -inf."""
    x = _t(input)
    xp = _xp(x)
    return _wrap(xp.isneginf(x._data) if x._data.dtype.kind == "f"
                 else xp.zeros(x._data.shape, bool))


def fix(input):
    """Rounded toward zero (trunc)."""
    return _t(input).trunc()


def hardshrink(self, lambd=0.5):
    """x where |x| > lambd, else 0 (F.hardshrink)."""
    from ..nn import functional as F  # noqa: PLC0415 - gv.nn loads on first use
    return F.hardshrink(self, lambd)


def prelu(self, weight):
    """max(0, x) + weight * min(0, x) (F.prelu)."""
    from ..nn import functional as F  # noqa: PLC0415
    return F.prelu(self, weight)


def is_nonzero(input):
    """bool of a one-element tensor (torch's errors for any other size)."""
    n = input.numel()
    if n != 1:
        raise GradvizError("Boolean value of Tensor with "
                           f"{'no values' if n == 0 else 'more than one value'} is ambiguous")
    return bool(input._data.reshape(()))


def is_same_size(input, other):
    """True when both have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def adjoint(input):
    """The conjugate transpose of the last two dims (the transpose: real dtypes)."""
    if input.ndim < 2:
        raise GradvizError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.ndim}-D tensor.")
    return input.transpose(-2, -1)


# ---- scatter copies --------------------------------------------------------------------------
def _scatter_at(input, positions, src):
    """``input`` with the elements at flat ``positions`` (an index array shaped as the slice)
    replaced by ``src``; the gradient of input is zero there, src's is the slice of it."""
    src = _t(src, input)
    if tuple(src.shape) != positions.shape:
        raise ShapeError("expected src to have a size equal to the slice of self. src size = "
                         f"{list(src.shape)}, slice size = {list(positions.shape)}")
    if src.dtype != input.dtype:
        src = src.to(input.dtype)
    flat = input.reshape(-1).index_put((Tensor._wrap(positions.reshape(-1)),),
                                       src.reshape(-1))
    return flat.reshape(input.shape)


def _positions(input):
    """The flat index of every element, shaped as input (on input's device)."""
    return _xp(input).arange(input.numel(), dtype=np.int64).reshape(tuple(input.shape))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with its ``offset`` diagonal over (dim1, dim2) set to ``src``."""
    return _scatter_at(input, _positions(input).diagonal(offset, dim1, dim2), src)


def select_scatter(input, src, dim, index):
    """``input`` with ``input.select(dim, index)`` set to ``src``."""
    d = norm_dims(dim, input.ndim)[0]
    n = input.shape[d]
    if not -n <= index < n:
        raise DimError(f"select(): index {index} out of range for tensor of size "
                       f"{list(input.shape)} at dimension {dim}")
    return _scatter_at(input, _xp(input).take(_positions(input), index, axis=d), src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``input[..., start:end:step, ...]`` (along dim) set to ``src``."""
    d = norm_dims(dim, input.ndim)[0]
    key = (slice(None),) * d + (slice(start, end, step),)
    return _scatter_at(input, _positions(input)[key], src)


def narrow_copy(input, dim, start, length):
    """A copy of ``input.narrow(dim, start, length)``."""
    return input.narrow(dim, start, length).clone()


def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of the given sizes along dim (they must add up to its length)."""
    d = norm_dims(dim, input.ndim)[0]
    if sum(split_sizes) != input.shape[d]:
        raise GradvizError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[d]} (input tensor's size at dimension {dim}), but "
                           f"got split_sizes={list(split_sizes)}")
    return input.split(list(split_sizes), dim)


def unsafe_chunk(input, chunks, dim=0):
    """chunk (torch's unsafe_ form only skips view checks)."""
    return input.chunk(chunks, dim)


def unsafe_split(input, split_size, dim=0):
    """split (torch's unsafe_ form only skips view checks)."""
    return input.split(split_size, dim)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with ``source``'s slices reduced into the slices ``index`` (1-D) along dim
    by ``reduce`` ("prod", "mean", "amax", "amin")."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise GradvizError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    source = _t(source, input)
    idx = _t(index, input)._data.reshape(-1)
    if input.ndim == 0:
        return index_reduce(input.reshape(1), 0, index, source.reshape(-1), reduce,
                            include_self=include_self).reshape(())
    d = norm_dims(dim, input.ndim)[0]
    src = source if source.ndim else source.reshape(1)
    if src.shape[d] != idx.size:
        raise GradvizError(f"index_reduce_(): Number of indices ({idx.size}) should be equal "
                           f"to source.size(dim): ({src.shape[d]}), for dim: {dim}")
    shape = [1] * src.ndim
    shape[d] = idx.size
    full = _xp(input).broadcast_to(idx.reshape(shape), tuple(src.shape)).copy()
    return input.scatter_reduce(d, Tensor._wrap(full), src, reduce, include_self=include_self)


# ---- small functions and aliases --------------------------------------------------------------
def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A 0-d tensor holding s (the default float dtype unless dtype is given)."""
    return creation.tensor(float(s) if dtype is None else s,
                           dtype=dtype or dtypes.get_default_dtype(),
                           requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    """Random integers in [low, high) shaped as input (``randint_like(x, high)`` too)."""
    if high is None:
        low, high = 0, low
    return creation.randint(low, high, tuple(input.shape), generator=generator,
                            dtype=dtype or input.dtype)


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    x = _t(input)
    return (other - x) if alpha == 1 else other - x * alpha


def chain_matmul(*matrices):
    """The product of the matrices, in the cheapest order (linalg.multi_dot)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise GradvizError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:
        return matrices[0].clone()
    from .. import linalg  # noqa: PLC0415 - gv.linalg imports the engine
    return linalg.multi_dot(list(matrices))


def concatenate(tensors, axis=0):
    """cat (NumPy's name, with ``axis``)."""
    from .functional import cat  # noqa: PLC0415
    return cat(tensors, axis)


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of singular values of the matrices over dim (default the last two)."""
    from .. import linalg  # noqa: PLC0415
    if isinstance(dim, bool):   # nuclear_norm(x, keepdim) positionally, as torch allows
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", dim=(-2, -1) if dim is None else tuple(dim),
                              keepdim=keepdim)


def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    """sqrt(sum of squares) over dim."""
    from .. import linalg  # noqa: PLC0415
    return linalg.vector_norm(input, 2, dim=tuple(dim) if isinstance(dim, (list, tuple))
                              else dim, keepdim=keepdim)


def renorm(input, p, dim, maxnorm):
    """input with each slice along dim whose p-norm exceeds maxnorm scaled down to maxnorm."""
    x = _floating(_t(input))
    if x.ndim < 2:
        raise GradvizError(f"renorm: input needs at least 2 dimensions, got {x.ndim} "
                           "dimensions")
    if p <= 0:
        raise GradvizError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise GradvizError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = norm_dims(dim, x.ndim)[0]
    others = tuple(i for i in range(x.ndim) if i != d)
    from .. import linalg  # noqa: PLC0415
    norms = linalg.vector_norm(x, p, dim=others, keepdim=True) if others else x.abs()
    big = Tensor._wrap(norms._data > maxnorm)
    # torch's factor: maxnorm / (norm + 1e-7) where the norm is over maxnorm, else 1
    factor = where(big, maxnorm / (norms + 1e-7), creation.ones_like(norms))
    return x * factor


# ---- registration ------------------------------------------------------------------------------
def _inplace(name, compute):
    return inplace_of(name, compute, f"In-place ``{name[:-1]}``.")


def _method_inplace(method):
    """``t.<method>_(...)``: the Tensor method, looked up when called, written back."""
    return _inplace(method + "_", lambda t, *a, **k: getattr(Tensor, method)(t, *a, **k))


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return index_reduce(self, dim, index, source, reduce, include_self=include_self)


METHODS = {
    "erfc": erfc, "i0": i0, "polygamma": _polygamma_method, "mvlgamma": mvlgamma,
    "igamma": igamma, "igammac": igammac, "gcd": gcd, "lcm": lcm, "ldexp": ldexp,
    "frexp": frexp, "nextafter": nextafter, "isposinf": isposinf, "isneginf": isneginf,
    "fix": fix, "bitwise_left_shift": bitwise_left_shift,
    "bitwise_right_shift": bitwise_right_shift, "hardshrink": hardshrink, "prelu": prelu,
    "is_nonzero": is_nonzero, "is_same_size": is_same_size, "adjoint": adjoint,
    "diagonal_scatter": diagonal_scatter, "select_scatter": select_scatter,
    "slice_scatter": slice_scatter, "narrow_copy": narrow_copy,
    "split_with_sizes": split_with_sizes, "unsafe_chunk": unsafe_chunk,
    "unsafe_split": unsafe_split, "index_reduce": index_reduce, "cov": cov,
    "corrcoef": corrcoef, "histogram": histogram, "renorm": renorm,
    "__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
    "__rlshift__": lambda self, other: bitwise_left_shift(_t(other, self), self),
    "__rrshift__": lambda self, other: bitwise_right_shift(_t(other, self), self),
    "index_reduce_": _inplace("index_reduce_", _index_reduce_),
    "polygamma_": _inplace("polygamma_", _polygamma_method),
}
# in-place forms written back into the tensor (their out-of-place methods exist by now)
_INPLACE = ("erfc", "i0", "mvlgamma", "igamma", "igammac", "gcd", "lcm", "ldexp",
            "nextafter", "fix", "heaviside", "sinc", "deg2rad", "rad2deg", "acosh", "asinh",
            "atanh", "arccosh", "arcsinh", "arctanh", "bitwise_left_shift",
            "bitwise_right_shift", "erfinv", "renorm")


def register():
    """Set these methods on Tensor (only names it lacks: others' own versions win)."""
    for name, fn in METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name in _INPLACE:
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _method_inplace(name))
    for op, name in (("__ilshift__", "bitwise_left_shift_"),
                     ("__irshift__", "bitwise_right_shift_")):
        if not hasattr(Tensor, op):
            setattr(Tensor, op, getattr(Tensor, name))


def _function_of_method(name):
    def f(input, *args, **kwargs):
        return getattr(_t(input), name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{name[:-1]}_()`` as a function (torch.{name})."
    return f


# gv.<name>: the functions above, and function forms of some in-place methods (torch has them)
NAMES = ["erfc", "i0", "polygamma", "mvlgamma", "igamma", "igammac", "gcd", "lcm", "ldexp",
         "frexp", "nextafter", "isposinf", "isneginf", "fix", "bitwise_left_shift",
         "bitwise_right_shift", "is_nonzero", "is_same_size", "adjoint", "diagonal_scatter",
         "select_scatter", "slice_scatter", "narrow_copy", "split_with_sizes", "unsafe_chunk",
         "unsafe_split", "index_reduce", "cov", "corrcoef", "histogram", "trapezoid", "trapz",
         "cumulative_trapezoid", "gradient", "hann_window", "hamming_window",
         "blackman_window", "bartlett_window", "kaiser_window", "scalar_tensor",
         "randint_like", "rsub", "chain_matmul", "concatenate", "nuclear_norm",
         "frobenius_norm", "renorm"]
INPLACE_NAMES = ["erfc_", "i0_", "gcd_", "lcm_", "ldexp_", "fix_", "sinc_", "deg2rad_",
                 "rad2deg_", "acosh_", "asinh_", "atanh_", "arccosh_", "arcsinh_", "arctanh_"]
FUNCTIONS = {**{n: globals()[n] for n in NAMES},
             **{n: _function_of_method(n) for n in INPLACE_NAMES}}
