"""More elementwise math: log2 log10 expm1 tan sinh cosh asin acos atan erf atan2.

Backward formulas use arithmetic and the functions the Tensor namespace has (exp, sqrt),
so they also build a graph under ``create_graph``."""
import math

from ..function import Function
from .util import cj, unbroadcast

__all__ = ["Log2", "Log10", "Expm1", "Tan", "Sinh", "Cosh", "Asin", "Acos", "Atan", "Erf",
           "Atan2", "Asinh", "Acosh", "Atanh"]

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Log2(Function):
    rule = "dx = dy / (x ln 2)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log2(x)

    def backward(ctx, g):
        return g / cj(ctx.saved[0] * _LN2)


class Log10(Function):
    rule = "dx = dy / (x ln 10)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log10(x)

    def backward(ctx, g):
        return g / cj(ctx.saved[0] * _LN10)


class Expm1(Function):
    rule = "dx = dy * (y + 1)"

    def forward(ctx, x):
        y = ctx.xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        return g * cj(ctx.saved[0] + 1)


class Tan(Function):
    rule = "dx = dy * (1 + y^2)"

    def forward(ctx, x):
        y = ctx.xp.tan(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        return g * cj(y * y + 1)


class Sinh(Function):
    rule = "dx = dy * cosh(x)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sinh(x)

    def backward(ctx, g):
        xp, x = ctx.xp, ctx.saved[0]
        return g * cj((xp.exp(x) + xp.exp(-x)) * 0.5)


class Cosh(Function):
    rule = "dx = dy * sinh(x)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cosh(x)

    def backward(ctx, g):
        xp, x = ctx.xp, ctx.saved[0]
        return g * cj((xp.exp(x) - xp.exp(-x)) * 0.5)


class Asin(Function):
    rule = "dx = dy / sqrt(1 - x^2)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arcsin(x)

    def backward(ctx, g):
        x = ctx.saved[0]
        return g / cj(ctx.xp.sqrt(1 - x * x))


class Acos(Function):
    rule = "dx = -dy / sqrt(1 - x^2)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arccos(x)

    def backward(ctx, g):
        x = ctx.saved[0]
        return -g / cj(ctx.xp.sqrt(1 - x * x))


class Atan(Function):
    rule = "dx = dy / (1 + x^2)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arctan(x)

    def backward(ctx, g):
        x = ctx.saved[0]
        return g / cj(x * x + 1)


class Erf(Function):
    rule = "dx = dy * 2 / sqrt(pi) * exp(-x^2)"

    def forward(ctx, x):
        from ...nn.ops.activation import erf  # noqa: PLC0415 - SciPy / CuPy-X / per element
        ctx.save_for_backward(x)
        return erf(ctx.xp, x)

    def backward(ctx, g):
        x = ctx.saved[0]
        return g * (ctx.xp.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


class Atan2(Function):
    rule = "d(input) = dy * other / r^2 ; d(other) = -dy * input / r^2, r^2 = input^2 + other^2"

    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return ctx.xp.arctan2(y, x)

    def backward(ctx, g):
        y, x = ctx.saved
        r2 = x * x + y * y
        ny, nx = ctx.needs_input_grad
        xp = ctx.xp
        return (unbroadcast(xp, g * x / r2, y.shape) if ny else None,
                unbroadcast(xp, -g * y / r2, x.shape) if nx else None)


class Asinh(Function):
    rule = "dx = dy / sqrt(x^2 + 1)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arcsinh(x)

    def backward(ctx, g):
        x = ctx.saved[0]
        return g / cj(ctx.xp.sqrt(x * x + 1))


class Acosh(Function):
    rule = "dx = dy / sqrt(x^2 - 1)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arccosh(x)

    def backward(ctx, g):
        x, xp = ctx.saved[0], ctx.xp
        if x.dtype.kind == "c":   # sqrt(x^2 - 1) takes the other branch where Re x < 0
            return g / cj(xp.sqrt(x - 1) * xp.sqrt(x + 1))
        return g / xp.sqrt(x * x - 1)


class Atanh(Function):
    rule = "dx = dy / (1 - x^2)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arctanh(x)

    def backward(ctx, g):
        x = ctx.saved[0]
        return g / cj(1 - x * x)
