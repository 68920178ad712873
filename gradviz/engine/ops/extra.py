"""Elementwise ops where a composition of existing ops would round, overflow or give another
gradient than torch's: logaddexp, logaddexp2, hypot, copysign, fmod, heaviside (no
gradient, as torch), lgamma and digamma.

NumPy and CuPy have no gamma-family functions (SciPy is not a dependency), so lgamma,
digamma and trigamma are computed here with whole-array steps that run on either: the
reflection formula below 0, the recurrence up to 10, then the asymptotic series (terms
left out are below 1e-13 there). They work in float64 and return the input's dtype."""
import math

from ..backend import on_graph
from ..function import Function
from .util import shape_of, unbroadcast

__all__ = ["Logaddexp", "Logaddexp2", "Hypot", "Copysign", "Fmod", "Heaviside", "Lgamma",
           "Digamma"]

_LN2 = math.log(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SHIFT = 10.0   # the series are used from here up


class _Binary(Function):
    """``xp.<fn>(input, other)`` with broadcasting; subclasses give each input's gradient."""

    fn = ""

    def forward(ctx, x, y):
        out = getattr(ctx.xp, ctx.fn)(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    def backward(ctx, g):
        x, y, out = ctx.saved
        nx, ny = ctx.needs_input_grad
        xp = ctx.xp
        return (unbroadcast(xp, ctx.d_input(g, x, y, out), shape_of(x)) if nx else None,
                unbroadcast(xp, ctx.d_other(g, x, y, out), shape_of(y)) if ny else None)


class Logaddexp(_Binary):
    rule = "d(input) = dy * exp(input - out) ; d(other) = dy * exp(other - out)"
    fn = "logaddexp"

    def d_input(ctx, g, x, y, out):
        return g * ctx.xp.exp(x - out)

    def d_other(ctx, g, x, y, out):
        return g * ctx.xp.exp(y - out)


class Logaddexp2(_Binary):
    rule = "d(input) = dy * 2^(input - out) ; d(other) = dy * 2^(other - out)"
    fn = "logaddexp2"

    def d_input(ctx, g, x, y, out):
        return g * ctx.xp.exp((x - out) * _LN2)

    def d_other(ctx, g, x, y, out):
        return g * ctx.xp.exp((y - out) * _LN2)


class Hypot(_Binary):
    rule = "d(input) = dy * input / out ; d(other) = dy * other / out"
    fn = "hypot"

    def d_input(ctx, g, x, y, out):
        return g * x / out

    def d_other(ctx, g, x, y, out):
        return g * y / out


class Copysign(_Binary):
    rule = "d(input) = dy * out / input (0 where input == 0) ; d(other) = 0"
    fn = "copysign"

    def forward(ctx, x, y):
        if not hasattr(y, "shape"):
            ctx.torch_name = "CopysignBackward1"   # torch's copysign(Tensor, Scalar)
        return _Binary.forward(ctx, x, y)

    def d_input(ctx, g, x, y, out):
        return ctx.xp.where(x == 0, 0, g * out / x)

    def d_other(ctx, g, x, y, out):
        return ctx.xp.zeros(shape_of(y), dtype=g.dtype)


class Fmod(_Binary):
    rule = "d(input) = dy ; d(other) = -dy * trunc(input / other)"
    fn = "fmod"

    def forward(ctx, x, y):
        if hasattr(y, "shape"):
            ctx.torch_name = "FmodBackward1"   # torch's fmod(Tensor, Tensor)
        return _Binary.forward(ctx, x, y)

    def d_input(ctx, g, x, y, out):
        return g

    def d_other(ctx, g, x, y, out):
        if on_graph(ctx.xp):   # create_graph: the Trunc op (its gradient is 0)
            return -g * (x / y).trunc()
        return -g * ctx.xp.trunc(x / y)


class Heaviside(Function):
    """0 below zero, 1 above, ``values`` at zero. torch has no gradient for it: backward
    raises (the output still requires grad, as torch's does)."""

    rule = "no gradient (torch: not implemented)"

    def forward(ctx, x, values):
        xp = ctx.xp
        if x.dtype.kind == "f":
            return xp.heaviside(x, values)
        return xp.where(x == 0, values, x > 0).astype(x.dtype)


# ---- the gamma family, with whole-array steps ---------------------------------------------
def _shifted(xp, x, step):
    """(z, acc): z = x moved up by whole steps until >= _SHIFT, acc the sum of step(z) over
    the places it left (x >= 0; ten steps at most)."""
    acc = xp.zeros(x.shape, dtype=x.dtype)
    for _ in range(int(_SHIFT)):
        low = x < _SHIFT
        acc = acc + xp.where(low, step(xp.where(low, x, 1.0)), 0.0)
        x = xp.where(low, x + 1.0, x)
    return x, acc


def _poles(xp, x, value, out):
    """``value`` at 0 and the negative integers, where the gamma family has its poles."""
    return xp.where((x <= 0) & (x == xp.floor(x)), value, out)


def lgamma(xp, x):
    """log|gamma(x)| of a float64 array."""
    neg = x < 0.5
    z, acc = _shifted(xp, xp.where(neg, 1.0 - x, x), xp.log)
    zi = 1.0 / z
    zi2 = zi * zi
    series = zi * (1 / 12 - zi2 * (1 / 360 - zi2 * (1 / 1260 - zi2 * (1 / 1680 - zi2 / 1188))))
    out = (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + series - acc
    # gamma(x) gamma(1 - x) = pi / sin(pi x)
    out = xp.where(neg, math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * x))) - out, out)
    return xp.where(xp.isinf(x), math.inf, _poles(xp, x, math.inf, out))


def digamma(xp, x):
    """d/dx lgamma(x) of a float64 array (-inf at 0 and nan at the negative integers, as
    torch)."""
    neg = x < 0
    z, acc = _shifted(xp, xp.where(neg, 1.0 - x, x), lambda v: 1.0 / v)
    zi = 1.0 / z
    zi2 = zi * zi
    series = zi2 * (1 / 12 - zi2 * (1 / 120 - zi2 * (1 / 252 - zi2 * (1 / 240 - zi2 / 132))))
    out = xp.log(z) - 0.5 * zi - series - acc
    # psi(1 - x) - psi(x) = pi / tan(pi x)
    out = xp.where(neg, out - math.pi / xp.tan(math.pi * x), out)
    return xp.where(x == 0, -math.inf, _poles(xp, x, math.nan, out))


def trigamma(xp, x):
    """d/dx digamma(x) of a float64 array."""
    neg = x < 0
    z, acc = _shifted(xp, xp.where(neg, 1.0 - x, x), lambda v: 1.0 / (v * v))
    zi = 1.0 / z
    zi2 = zi * zi
    series = zi * (1.0 + zi * (0.5 + zi * (1 / 6 - zi2 * (1 / 30 - zi2 * (1 / 42 - zi2 / 30)))))
    out = series + acc
    # psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
    out = xp.where(neg, (math.pi / xp.sin(math.pi * x)) ** 2 - out, out)
    return _poles(xp, x, math.inf, out)


def _in_float64(fn, xp, x):
    return fn(xp, x.astype(xp.float64)).astype(x.dtype)


class _Series(Function):
    """``fn(x)`` by one of the series above, its gradient by the next one."""

    fn = derivative = None

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_float64(ctx.fn, ctx.xp, x)

    def backward(ctx, g):
        if on_graph(ctx.xp):   # create_graph: the derivative as an op (it has a gradient)
            return g * ctx.derivative_op(ctx.saved[0])
        return g * _in_float64(ctx.derivative, ctx.xp, ctx.saved[0])


class Lgamma(_Series):
    rule = "dx = dy * digamma(x)"
    fn, derivative = staticmethod(lgamma), staticmethod(digamma)

    @staticmethod
    def derivative_op(x):
        """digamma(x) as the Digamma op (create_graph)."""
        return Digamma.apply(x)


class Digamma(_Series):
    rule = "dx = dy * trigamma(x)"
    fn, derivative = staticmethod(digamma), staticmethod(trigamma)

    @staticmethod
    def derivative_op(x):
        """trigamma(x) as the Polygamma op of order 1 (create_graph)."""
        from .math_more import Polygamma  # noqa: PLC0415 - math_more imports this module
        return Polygamma.apply(x, n=1)
