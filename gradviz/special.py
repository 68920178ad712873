"""``gv.special``: torch.special's common functions. Most are thin calls of gv ops (so the graph
shows the op itself) or compositions of them (so it shows the steps, and gradients come from
the engine); ``erfc`` and ``i0`` are ops of their own, computed by SciPy on the host and
CuPy-X on a device. The rest of torch.special (Bessel, zeta, polynomials) is in special_more.py."""
import math

import numpy as np

from .engine.backend import on_graph
from .engine.function import Function
from .engine.ops.special_fns import I1, scipy_fn
from .engine.tensor import Tensor
from .engine.tensor_methods import _as_tensor
from .engine.tensor_reduce import _float
from . import special_more as _more
from .special_more import *  # noqa: F401,F403 - the Bessel family, zeta, the polynomials

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "ndtri", "log1p", "expm1", "exp2",
           "logsumexp", "softmax", "log_softmax", "xlogy", "xlog1py", "gammaln", "digamma", "psi",
           "multigammaln", "sinc", "entr", "ndtr", "log_ndtr", "log_expit", "i0", "round"]
__all__ += _more.__all__

_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _scipy_fn(xp, name, x, fallback):
    """scipy.special.<name> (cupyx.scipy.special on a device) of x. SciPy is not a gradviz
    dependency: without it, ``fallback`` per element on the host (None: a clear error)."""
    if xp is np and fallback is not None:
        try:
            import scipy.special  # noqa: PLC0415,F401 - optional
        except ImportError:
            return np.asarray(np.frompyfunc(fallback, 1, 1)(x), dtype=x.dtype)
    return scipy_fn(xp, name, x)


class Erfc(Function):
    """1 - erf(x) without the cancellation (exact far into the right tail)."""

    rule = "dx = -dy * 2 / sqrt(pi) * exp(-x^2)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _scipy_fn(ctx.xp, "erfc", x, math.erfc)

    def backward(ctx, g):
        x = ctx.saved[0]
        return g * (ctx.xp.exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


class I0(Function):
    """The modified Bessel function of the first kind, order 0."""

    rule = "dx = dy * i1(x)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _scipy_fn(ctx.xp, "i0", x, np.i0)

    def backward(ctx, g):
        if on_graph(ctx.xp):   # create_graph: i1 as the I1 op, so it differentiates again
            return g * I1.apply(ctx.saved[0])
        return g * _scipy_fn(ctx.xp, "i1", ctx.saved[0], None)


def _erfinv_one(y):
    """erfinv of one number, without SciPy."""
    from statistics import NormalDist  # noqa: PLC0415
    if abs(y) >= 1:
        return math.copysign(math.inf, y) if abs(y) == 1 else math.nan
    return NormalDist().inv_cdf((y + 1) / 2) * _SQRT_HALF


class Erfinv(Function):
    """The inverse of erf on (-1, 1)."""

    rule = "dx = dy * sqrt(pi) / 2 * exp(y^2)"

    def forward(ctx, x):
        y = _scipy_fn(ctx.xp, "erfinv", x, _erfinv_one)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        return g * (ctx.xp.exp(y * y) / _TWO_OVER_SQRT_PI)


def _t(x, like=None):
    if isinstance(x, Tensor):
        return x
    return _as_tensor(x, like) if like is not None else Tensor._wrap(np.asarray(float(x)))


def expit(input):
    """1 / (1 + exp(-x)) (the logistic sigmoid)."""
    return input.sigmoid()


def log_expit(input):
    """log(expit(x)) = -softplus(-x), finite for very negative x."""
    from .nn import functional as F  # noqa: PLC0415 - gv.nn loads on first use
    return F.logsigmoid(input)


def logit(input, eps=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] first when ``eps`` is given."""
    return input.logit(eps)


def erf(input):
    """The error function."""
    return input.erf()


def erfc(input):
    """1 - erf(x), accurate where erf(x) is close to 1."""
    return Erfc.apply(_float(input))


def erfinv(input):
    """The inverse error function (its gradient from the output: sqrt(pi)/2 exp(y^2))."""
    return Erfinv.apply(_float(input))


def ndtri(input):
    """The inverse of the standard normal CDF, sqrt(2) * erfinv(2p - 1)."""
    return erfinv(_float(input) * 2.0 - 1.0) * math.sqrt(2.0)


def i0(input):
    """The modified Bessel function of the first kind, order 0."""
    return I0.apply(_float(input))


def log1p(input):
    """log(1 + x)."""
    return input.log1p()


def expm1(input):
    """exp(x) - 1."""
    return input.expm1()


def exp2(input):
    """2 ** x."""
    return input.exp2()


def round(input, decimals=0):  # noqa: A001 - torch.special.round
    """Round half to even."""
    return input.round(decimals=decimals)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow."""
    return input.logsumexp(dim, keepdim=keepdim)


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) over ``dim``."""
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input, dim, dtype=None):
    """log(softmax(x)) over ``dim``."""
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)


def xlogy(input, other):
    """x * log(y), 0 where x is 0 (unless y is NaN); either may be a number."""
    if not isinstance(input, Tensor):
        input = _t(input, other)
    return input.xlogy(other)


def xlog1py(input, other):
    """x * log1p(y), 0 where x is 0 (unless y is NaN); either may be a number."""
    if not isinstance(input, Tensor):
        input = _t(input, other)
    a, b = _float(input), _float(_t(other, input))
    kept = (a._data != 0) | ~(b._data <= -1)   # 0 * log(0 or less) is 0, with no NaN gradient
    return a * b.where(Tensor._wrap(kept), 0.0).log1p()


def gammaln(input):
    """log|gamma(x)|."""
    return input.lgamma()


def digamma(input):
    """d/dx log gamma(x)."""
    return input.digamma()


psi = digamma


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension ``p``: p(p-1)/4 log(pi) + sum
    over j < p of lgamma(x - j/2) (x must exceed (p - 1) / 2, as torch checks)."""
    if not bool((input._data > (p - 1) / 2).all()):
        raise ValueError(f"All elements must be greater than {(p - 1) / 2}")
    x = _float(input)
    out = sum((x - j / 2).lgamma() for j in range(p))
    return out + p * (p - 1) / 4 * math.log(math.pi)


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    return input.sinc()


def entr(input):
    """-x log(x) elementwise: 0 at 0, -inf below 0."""
    x = _float(input)
    pos = Tensor._wrap(x._data > 0)
    out = -x * x.where(pos, 1.0).log()
    return out.where(pos | Tensor._wrap(x._data != x._data), 0.0).masked_fill(
        Tensor._wrap(x._data < 0), -math.inf)


def ndtr(input):
    """The standard normal CDF, 0.5 * erfc(-x / sqrt(2)) (exact in the left tail)."""
    return erfc(_float(input) * -_SQRT_HALF) * 0.5


_TAIL = -20.0   # below it the asymptotic series is exact to float64's precision


def log_ndtr(input):
    """log of the standard normal CDF, finite far into the left tail: log(ndtr(x)) above
    -20 (ndtr is exact there, down to ~1e-89, in float64), the asymptotic series
    -x^2/2 - log(-x) - log(2 pi)/2 + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8) below."""
    x = _float(input)
    xd = x.double()
    tail = Tensor._wrap(xd._data < _TAIL)
    body = ndtr(xd.where(~tail, 0.0)).log()
    z = xd.where(tail, _TAIL)
    r = 1.0 / (z * z)
    series = (1.0 - r * (1.0 - r * (3.0 - r * (15.0 - r * 105.0)))).log()
    asym = -0.5 * z * z - (-z).log() - 0.5 * math.log(2 * math.pi) + series
    return body.where(~tail, asym).to(x.dtype)
