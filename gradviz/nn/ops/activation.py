"""Activation ops beyond the engine's (relu, sigmoid, tanh): leaky relu, elu, gelu, silu..."""
import math

import numpy as np

from ...engine.backend import on_graph
from ...engine.function import Function
from ...engine.ops.fused import kernel
from ._quiet import tolerant

__all__ = ["Elu", "Gelu", "Hardtanh", "LeakyRelu", "Silu", "Softplus", "erf"]


def erf(xp, x):
    """The error function on an xp array (SciPy/CuPy-X when present, else exact per element)."""
    if xp is np:
        try:
            from scipy.special import erf as _erf
        except ImportError:  # pragma: no cover - scipy is normally present
            return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
        return _erf(x).astype(x.dtype, copy=False)
    if on_graph(xp):  # the Tensor namespace under create_graph: the Erf op
        return x.erf()
    if hasattr(xp, "erf"):
        return xp.erf(x)
    from cupyx.scipy.special import erf as _cerf  # pragma: no cover - GPU only
    return _cerf(x)


@tolerant
class LeakyRelu(Function):
    rule = "dx = dy * (x > 0 ? 1 : negative_slope)"

    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return ctx.xp.where(x > 0, x, x * negative_slope)

    def backward(ctx, g):
        x = ctx.saved[0]
        return ctx.xp.where(x > 0, g, g * ctx.slope)


@tolerant
class Elu(Function):
    rule = "dx = dy * (x > 0 ? 1 : alpha * exp(x))"

    def forward(ctx, x, alpha=1.0):
        xp = ctx.xp
        ctx.alpha = alpha
        neg = (xp.exp(xp.minimum(x, 0)) - 1) * alpha
        ctx.save_for_backward(x)
        return xp.where(x > 0, x, neg).astype(x.dtype, copy=False)

    def backward(ctx, g):
        xp = ctx.xp
        x = ctx.saved[0]
        return xp.where(x > 0, g, g * xp.exp(xp.minimum(x, 0)) * ctx.alpha)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@tolerant
class Gelu(Function):
    rule = "dx = dy * (Phi(x) + x * phi(x))  ('tanh': derivative of the tanh form)"

    def forward(ctx, x, approximate="none"):
        xp = ctx.xp
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
            return (x * 0.5 * (1 + xp.tanh(inner))).astype(x.dtype, copy=False)
        return (x * 0.5 * (1 + erf(xp, x * _INV_SQRT_2))).astype(x.dtype, copy=False)

    def backward(ctx, g):
        xp = ctx.xp
        x = ctx.saved[0]
        k = kernel(xp, "gelu_tanh_grad" if ctx.approximate == "tanh" else "gelu_grad")
        if k is not None:  # one GPU kernel (plus erf's) instead of about a dozen
            return k(g, x) if ctx.approximate == "tanh" else k(g, x, erf(xp, x * _INV_SQRT_2))
        if ctx.approximate == "tanh":
            inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
            t = xp.tanh(inner)
            d_inner = (1 + x * x * (3 * 0.044715)) * _SQRT_2_OVER_PI
            return g * (0.5 * (1 + t) + x * 0.5 * (1 - t * t) * d_inner)
        cdf = (1 + erf(xp, x * _INV_SQRT_2)) * 0.5
        pdf = xp.exp(x * x * -0.5) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


@tolerant
class Silu(Function):
    rule = "dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x)"

    def forward(ctx, x):
        s = _sigmoid(ctx.xp, x).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, s)
        return x * s

    def backward(ctx, g):
        x, s = ctx.saved
        if on_graph(ctx.xp):   # create_graph: s is an intermediate, recompute it from x
            s = _sigmoid(ctx.xp, x)
        k = kernel(ctx.xp, "silu_grad")
        return g * s * (1 + x * (1 - s)) if k is None else k(g, x, s)


@tolerant
class Softplus(Function):
    rule = "dx = dy * sigmoid(beta * x)  (dy where beta * x > threshold)"

    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = ctx.xp
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        bx = x * beta
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    def backward(ctx, g):
        xp = ctx.xp
        x = ctx.saved[0]
        bx = x * ctx.beta
        return xp.where(bx > ctx.threshold, g, g * _sigmoid(xp, bx))


@tolerant
class Hardtanh(Function):
    rule = "dx = dy * (min_val < x < max_val)"

    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.bounds = min_val, max_val
        return ctx.xp.clip(x, min_val, max_val)

    def backward(ctx, g):
        x = ctx.saved[0]
        lo, hi = ctx.bounds
        return ctx.xp.where((x > lo) & (x < hi), g, 0)
