"""The reparameterisation gradient of standard gamma draws (torch's _standard_gamma_grad): a
draw x ~ Gamma(alpha, 1) held fixed at its quantile u = P(alpha, x) moves with alpha as
dx/dalpha = -(dP/dalpha)(alpha, x) / p(x; alpha), P the regularised incomplete gamma
function. dP/dalpha has no closed form: a central difference of SciPy's gammainc (gammaincc
in the right tail, where P is near 1) gives it to about 1e-9 in float64.

Under create_graph the factor is an op of its own (StandardGammaGrad, torch's
_standard_gamma_grad): the first gradient is a graph in the incoming gradient, and
differentiating it again with respect to alpha raises as torch does."""
import numpy as np

from ..engine.backend import on_graph
from ..engine.function import Function
from ..engine.ops.special_fns import scipy_fn
from ..errors import BackwardError


def standard_gamma_grad(xp, alpha, x):
    """dx/dalpha at fixed quantile, elementwise, computed in float64 (0 where undefined)."""
    a, x64 = alpha.astype(np.float64), x.astype(np.float64)
    h = xp.minimum(1e-5 * xp.maximum(a, 1.0), a / 2)
    upper = scipy_fn(xp, "gammainc", a, x64) > 0.5   # the tail where 1 - P keeps its digits
    lo = xp.where(upper, -scipy_fn(xp, "gammaincc", a - h, x64),
                  scipy_fn(xp, "gammainc", a - h, x64))
    hi = xp.where(upper, -scipy_fn(xp, "gammaincc", a + h, x64),
                  scipy_fn(xp, "gammainc", a + h, x64))
    dp_da = (hi - lo) / (2 * h)
    log_pdf = (a - 1) * xp.log(x64) - x64 - _gammaln(xp, a)
    out = -dp_da / xp.exp(log_pdf)
    return xp.where(xp.isfinite(out), out, 0.0).astype(x.dtype)


def _gammaln(xp, a):
    if xp is np:
        from scipy import special as sp  # noqa: PLC0415 - present: gammainc needed it
        return sp.gammaln(a)
    from cupyx.scipy import special as csp  # noqa: PLC0415 - device only
    return csp.gammaln(a)


class DerivativeNotImplemented(BackwardError, NotImplementedError):
    """A derivative torch does not implement either: a BackwardError and, as torch raises,
    a NotImplementedError."""


class StandardGammaGrad(Function):
    """torch's ``_standard_gamma_grad(alpha, x)``: dx/dalpha of a standard gamma draw ``x`` at
    fixed quantile. It has no derivative (nor has torch's): its backward raises."""

    rule = "not implemented (torch: NotImplementedError)"

    def forward(ctx, alpha, x):
        return standard_gamma_grad(ctx.xp, alpha, x)

    def backward(ctx, g):
        raise DerivativeNotImplemented(
            "the derivative for '_standard_gamma_grad' is not implemented.")


class GammaSample(Function):
    """Identity on a standard gamma draw ``x``, carrying its gradient back to ``alpha``."""

    rule = "dalpha = dy * -(dP/dalpha)(alpha, x) / p(x; alpha)"

    def forward(ctx, alpha, x):
        ctx.save_for_backward(alpha, x)
        return x.copy()

    def backward(ctx, g):
        alpha, x = ctx.saved
        if on_graph(ctx.xp):   # create_graph: the factor as an op (torch's raises in backward)
            return g * StandardGammaGrad.apply(alpha, x), None
        return g * standard_gamma_grad(ctx.xp, alpha, x), None


def rsample_standard_gamma(concentration, draws):
    """``draws`` (a standard gamma sample of ``concentration`` expanded to its shape) as a
    function of ``concentration``, for reparameterised gamma, Dirichlet, Beta and Student-t
    samples."""
    return GammaSample.apply(concentration.expand(tuple(draws.shape)), draws.detach())
