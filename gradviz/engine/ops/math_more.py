"""polygamma and the regularized incomplete gamma functions (igamma, igammac).

Values come from SciPy on the host (CuPy-X on a device), as gv.special's erfc and i0; SciPy is
not a gradviz dependency, so without it polygamma of order 0 and 1 uses the engine's own
series and the rest raise a clear error."""
import numpy as np

from ...errors import BackwardError, GradvizError
from ..backend import on_graph, xp_of
from ..function import Function
from .extra import digamma, trigamma
from .special_fns import scipy_fn
from .util import unbroadcast

__all__ = ["Polygamma", "Igamma", "Igammac"]


def _special(xp, name):
    """scipy.special (cupyx.scipy.special on a device), or None without SciPy."""
    if xp is not np:
        from cupyx.scipy import special as csp  # noqa: PLC0415 - device only
        return getattr(csp, name)
    try:
        from scipy import special as sp  # noqa: PLC0415 - optional
    except ImportError:
        return None
    return getattr(sp, name)


def polygamma(xp, n, x):
    """The n-th derivative of digamma at x, in x's dtype."""
    if n in (0, 1) and (xp is not np or _special(xp, "polygamma") is None):
        return (digamma if n == 0 else trigamma)(xp, x.astype(xp.float64)).astype(x.dtype)
    if n == 0:   # scipy's polygamma(0, x) is digamma: -inf at 0 as torch, not nan
        return xp.asarray(_special(xp, "digamma")(x), dtype=x.dtype)
    fn = _special(xp, "polygamma")
    if fn is None:
        raise GradvizError(f"polygamma of order {n} needs SciPy on the CPU (pip install scipy)")
    # n as an array: cupyx's polygamma takes no Python int (it calls cupy.where(n == 0, ...))
    return xp.asarray(fn(xp.asarray(n), x.astype(xp.float64)), dtype=x.dtype)


class Polygamma(Function):
    """psi^(n)(x), the n-th derivative of digamma."""

    rule = "dx = dy * polygamma(n + 1, x)"

    def forward(ctx, x, n=0):
        ctx.save_for_backward(x)
        return polygamma(ctx.xp, n, x)

    def backward(ctx, g):
        if on_graph(ctx.xp):   # create_graph: the next order as an op (it has a gradient)
            return g * Polygamma.apply(ctx.saved[0], n=ctx.attrs["n"] + 1)
        return g * polygamma(ctx.xp, ctx.attrs["n"] + 1, ctx.saved[0])




def _density(xp, a, x):
    """d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a), in logs so that large a does not overflow."""
    if on_graph(xp):   # create_graph: a gets no gradient, so log Gamma(a) is a constant
        lg = scipy_fn(xp_of(a._data), "gammaln", a._data)
        return xp.exp((a - 1) * xp.log(x) - x - lg)
    return xp.exp((a - 1) * xp.log(x) - x - scipy_fn(xp, "gammaln", a))


class Igamma(Function):
    """P(a, x): the regularized lower incomplete gamma function (gradient in x only)."""

    rule = "dx = dy * x^(a-1) e^(-x) / Gamma(a) ; da: not implemented (as torch)"

    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return scipy_fn(ctx.xp, "gammainc", a, x, dtype=x.dtype)

    def backward(ctx, g):
        a, x = ctx.saved
        if ctx.needs_input_grad[0]:
            raise BackwardError("the derivative for 'igamma: input' is not implemented.")
        return None, unbroadcast(ctx.xp, g * _density(ctx.xp, a, x), x.shape)


class Igammac(Function):
    """Q(a, x) = 1 - P(a, x): the regularized upper incomplete gamma function."""

    rule = "dx = -dy * x^(a-1) e^(-x) / Gamma(a) ; da: not implemented (as torch)"

    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return scipy_fn(ctx.xp, "gammaincc", a, x, dtype=x.dtype)

    def backward(ctx, g):
        a, x = ctx.saved
        if ctx.needs_input_grad[0]:
            raise BackwardError("the derivative for 'igammac: input' is not implemented.")
        return None, unbroadcast(ctx.xp, -g * _density(ctx.xp, a, x), x.shape)

