"""Elementwise ops: arithmetic, unary math, activations, comparisons."""
import numpy as np

from ...errors import BackwardError, GradvizError
from ..backend import on_graph
from ..function import Function
from .fused import kernel
from .util import cj, shape_of, unbroadcast

__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Exp", "Log", "Log1p", "Sqrt",
           "Rsqrt", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Clamp", "Maximum", "Minimum",
           "Where", "Compare", "Reciprocal", "Sign", "Floor", "Ceil", "Round", "Trunc", "Frac",
           "DivRounded", "Predicate"]


class Add(Function):
    rule = "dx = dy ; dy_in = dy"

    def forward(ctx, x, y):
        return x + y  # input shapes are read from ctx.inputs at backward (saves per-op work)

    def backward(ctx, g):
        nx, ny = ctx.needs_input_grad
        sx, sy = _input_shapes(ctx)
        return (unbroadcast(ctx.xp, g, sx) if nx else None,
                unbroadcast(ctx.xp, g, sy) if ny else None)


def _input_shapes(ctx):
    """Shapes of a binary op's two inputs (Tensors or constants), read at backward time."""
    return [shape_of(getattr(a, "_data", a)) for a in ctx.inputs]


class Sub(Function):
    rule = "dx = dy ; dy_in = -dy"

    def forward(ctx, x, y):
        if not hasattr(x, "shape"):
            ctx.torch_name = "RsubBackward1"   # 2 - x: torch's rsub(Tensor, Scalar)
        return x - y

    def backward(ctx, g):
        nx, ny = ctx.needs_input_grad
        sx, sy = _input_shapes(ctx)
        return (unbroadcast(ctx.xp, g, sx) if nx else None,
                unbroadcast(ctx.xp, -g, sy) if ny else None)


class Mul(Function):
    rule = "dx = dy * y ; dy_in = dy * x"
    saved_for = {0: (1,), 1: (0,)}   # x is read for y's gradient, y for x's

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    def backward(ctx, g):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        return (unbroadcast(ctx.xp, g * cj(y), shape_of(x)) if nx else None,
                unbroadcast(ctx.xp, g * cj(x), shape_of(y)) if ny else None)


class Div(Function):
    rule = "dx = dy / y ; dy_in = -dy * x / y^2"

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    def backward(ctx, g):
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        return (unbroadcast(ctx.xp, g / cj(y), shape_of(x)) if nx else None,
                unbroadcast(ctx.xp, -g * cj(x / (y * y)), shape_of(y)) if ny else None)


class Pow(Function):
    rule = "dx = dy * p * x^(p-1) ; dp = dy * x^p * log(x)"

    def forward(ctx, x, p):
        if (_is_complex(x) or _is_complex(p)) and not (
                hasattr(x, "shape") and isinstance(p, (int, float))):
            raise GradvizError("pow: complex tensors are supported only with a real Python "
                               "number as the exponent (z ** 2.0)")
        if not hasattr(x, "shape"):     # torch numbers pow's overloads: Tensor ** Scalar is 0
            ctx.torch_name = "PowBackward2"            # Scalar ** Tensor
        elif hasattr(p, "shape"):
            ctx.torch_name = "PowBackward1"            # Tensor ** Tensor
        try:
            out = x ** p
        except ValueError:   # NumPy refuses integers to negative integer tensor powers
            if not hasattr(p, "shape"):
                raise        # (torch refuses a negative Python int exponent too)
            out = _int_pow(ctx.xp, x, p)
        ctx.save_for_backward(x, p, out)
        return out

    def backward(ctx, g):
        x, p, out = ctx.saved
        xp = ctx.xp
        nx, npow = ctx.needs_input_grad
        dx = None
        if nx:
            dx = g * cj(p * x ** (p - 1))
            if not isinstance(p, (int, float)) or p == 0:
                dx = xp.where(p == 0, 0, dx)  # d(x^0)/dx = 0, also at x = 0 (not 0 * inf)
            dx = unbroadcast(xp, dx, shape_of(x))
        dp = None
        if npow:
            # torch: 0 where x == 0 and p >= 0, else out * log(x) (nan for x < 0)
            dp = xp.where((x == 0) & (p >= 0), 0, g * out * xp.log(x))
            dp = unbroadcast(xp, dp, shape_of(p))
        return dx, dp


def _is_complex(a):
    return isinstance(a, complex) or getattr(getattr(a, "dtype", None), "kind", "") == "c"


def _int_pow(xp, x, p):
    """Integer x ** p with negative p as torch computes it: 1 ** p = 1, (-1) ** p = +-1
    and 0 for any other base (the quotient truncated), 0 ** p included."""
    neg = p < 0
    pos = x ** xp.where(neg, 0, p)
    odd = (p % 2) != 0
    small = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0)).astype(pos.dtype)
    return xp.where(neg, small, pos)


class Neg(Function):
    rule = "dx = -dy"

    def forward(ctx, x):
        return -x

    def backward(ctx, g):
        return -g


class Abs(Function):
    rule = "dx = dy * sign(x)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    def backward(ctx, g):
        x, xp = ctx.saved[0], ctx.xp
        if x.dtype.kind == "c":   # x / |x|, 0 at 0
            mag = xp.abs(x)
            return g * xp.where(mag == 0, 0, x / xp.where(mag == 0, 1, mag))
        return g * xp.sign(x)


class Exp(Function):
    rule = "dx = dy * exp(x)"

    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        return g * cj(ctx.saved[0])


class Log(Function):
    rule = "dx = dy / x"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    def backward(ctx, g):
        return g / cj(ctx.saved[0])


class Log1p(Function):
    rule = "dx = dy / (1 + x)"
    torch_name = "Log1PBackward0"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    def backward(ctx, g):
        return g / cj(ctx.saved[0] + 1)


class Sqrt(Function):
    rule = "dx = dy / (2 * sqrt(x))"

    def forward(ctx, x):
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        return g / cj(ctx.saved[0] * 2)


class Rsqrt(Function):
    rule = "dx = -dy / 2 * x^(-3/2)"

    def forward(ctx, x):
        y = 1 / ctx.xp.sqrt(x)
        ctx.save_for_backward(x, y)
        return y.astype(x.dtype, copy=False) if hasattr(y, "astype") else y

    def backward(ctx, g):
        x, y = ctx.saved
        if on_graph(ctx.xp):   # create_graph: y from x (a 0-d y is a NumPy scalar, not the
            y = 1 / ctx.xp.sqrt(x)   # output's array, so it would be a constant)
        return g * cj(y * y * y) * -0.5


class Sin(Function):
    rule = "dx = dy * cos(x)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    def backward(ctx, g):
        return g * cj(ctx.xp.cos(ctx.saved[0]))


class Cos(Function):
    rule = "dx = -dy * sin(x)"

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    def backward(ctx, g):
        return -g * cj(ctx.xp.sin(ctx.saved[0]))


class Tanh(Function):
    rule = "dx = dy * (1 - tanh(x)^2)"

    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        if y.dtype.kind == "c":
            return g * cj(1 - y * y)
        k = kernel(ctx.xp, "tanh_grad")  # one GPU kernel instead of three
        return g * (1 - y * y) if k is None else k(g, y)


class Sigmoid(Function):
    rule = "dx = dy * s * (1 - s), s = sigmoid(x)"

    def forward(ctx, x):
        xp = ctx.xp
        if x.dtype.kind == "c":   # torch's 1 / (1 + e^-x) (no sign split for complex)
            y = 1 / (1 + xp.exp(-x))
            ctx.save_for_backward(y)
            return y
        k = kernel(xp, "sigmoid")
        if k is not None:  # the same formula as one GPU kernel
            y = k(x)
            ctx.save_for_backward(y)
            return y
        # split by sign so that exp never overflows
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        if y.dtype.kind == "c":
            return g * cj(y * (1 - y))
        k = kernel(ctx.xp, "sigmoid_grad")
        return g * y * (1 - y) if k is None else k(g, y)


class Relu(Function):
    rule = "dx = dy * (x > 0)"

    def forward(ctx, x):
        y = ctx.xp.maximum(x, 0)
        if y.dtype is not x.dtype and x.dtype == np.bool_:   # bool became int64
            raise GradvizError("Boolean inputs not supported for relu")
        ctx.saved = (y,)  # save_for_backward's work, without the call
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        if type(g) is np.ndarray and g.size > 1024 and g.dtype.kind == "f":
            # the same values as where(y > 0, g, 0) (bit for bit, NaN and -0.0 included),
            # but branch-free: where's select is several times slower on mixed signs
            it = _BITS.get(g.dtype.itemsize)
            if it is not None:
                return np.bitwise_and(g.view(it), np.negative(y > 0, dtype=it)).view(g.dtype)
        return ctx.xp.where(y > 0, g, 0)


class Clamp(Function):
    rule = "dx = dy * (min <= x <= max)"
    torch_name = "ClampBackward1"   # torch's clamp(Tensor, Scalar, Scalar) (tensor bounds: Where)

    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = min, max
        return ctx.xp.clip(x, min, max)

    def backward(ctx, g):
        x = ctx.saved[0]
        lo, hi = ctx.bounds
        xp = ctx.xp
        if lo is not None:
            g = xp.where(x >= lo, g, 0)
        if hi is not None:
            g = xp.where(x <= hi, g, 0)
        return g


class Maximum(Function):
    rule = "dx = dy * [x > y] + dy/2 * [x == y] ; dy_in likewise"

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.maximum(x, y)

    def backward(ctx, g):
        x, y = ctx.saved
        xp = ctx.xp
        w = xp.where(x > y, 1.0, xp.where(x == y, 0.5, 0.0))
        nx, ny = ctx.needs_input_grad
        return (unbroadcast(xp, g * w, shape_of(x)) if nx else None,
                unbroadcast(xp, g * (1 - w), shape_of(y)) if ny else None)


class Minimum(Function):
    rule = "dx = dy * [x < y] + dy/2 * [x == y] ; dy_in likewise"

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.minimum(x, y)

    def backward(ctx, g):
        x, y = ctx.saved
        xp = ctx.xp
        w = xp.where(x < y, 1.0, xp.where(x == y, 0.5, 0.0))
        nx, ny = ctx.needs_input_grad
        return (unbroadcast(xp, g * w, shape_of(x)) if nx else None,
                unbroadcast(xp, g * (1 - w), shape_of(y)) if ny else None)


class Where(Function):
    rule = "dx = dy * cond ; dy_in = dy * !cond"

    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        ctx.shapes = shape_of(x), shape_of(y)
        return ctx.xp.where(cond, x, y)

    def backward(ctx, g):
        cond = ctx.saved[0]
        xp = ctx.xp
        _, nx, ny = ctx.needs_input_grad
        zero = 0
        return (None,
                unbroadcast(xp, xp.where(cond, g, zero), ctx.shapes[0]) if nx else None,
                unbroadcast(xp, xp.where(cond, zero, g), ctx.shapes[1]) if ny else None)


class Compare(Function):
    """``eq ne lt le gt ge``: boolean results, no gradient."""

    differentiable = False
    OPS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
           "gt": "greater", "ge": "greater_equal"}

    def forward(ctx, x, y, op="eq"):
        return getattr(ctx.xp, Compare.OPS[op])(x, y)


_BITS = {2: np.int16, 4: np.int32, 8: np.int64}  # float itemsize -> same-size int


class Predicate(Function):
    """``isnan isinf isfinite logical_not logical_and/or/xor isclose``: booleans, no gradient."""

    differentiable = False

    def forward(ctx, *arrays, op="isnan", **kw):
        return getattr(ctx.xp, op)(*arrays, **kw)


class Reciprocal(Function):
    rule = "dx = -dy * y^2"

    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y = ctx.saved[0]
        return -g * cj(y * y)


class _Stepwise(Function):
    """A piecewise-constant function of x: torch gives it a zero gradient everywhere."""

    rule = "dx = 0"
    fn = "sign"

    def forward(ctx, x, **kw):
        return getattr(ctx.xp, ctx.fn)(x, **kw)

    def backward(ctx, g):
        return ctx.xp.zeros(tuple(g.shape), dtype=g.dtype)   # zeros even where dy is NaN


class Sign(_Stepwise):
    fn = "sign"
    complex_ok = True   # marked so that a complex input meets torch's message below

    def forward(ctx, x):
        if x.dtype.kind == "c":
            raise GradvizError("Unlike NumPy, sign is not intended to support complex numbers. "
                               "Please use sgn (z / |z|) instead.")
        s = ctx.xp.sign(x)   # torch's (0 < x) - (x < 0): NaN has sign 0
        return ctx.xp.nan_to_num(s, nan=0.0) if s.dtype.kind == "f" else s


class Floor(_Stepwise):
    fn = "floor"


class Ceil(_Stepwise):
    fn = "ceil"


class Round(_Stepwise):
    fn = "round"

    def forward(ctx, x, **kw):
        if "decimals" in kw:
            ctx.torch_name = "RoundBackward1"   # torch's round(decimals=) overload
        return _Stepwise.forward(ctx, x, **kw)


class Trunc(_Stepwise):
    fn = "trunc"


class DivRounded(Function):
    """x / y rounded down ('floor'; 'floor_divide' for // and torch.floor_divide) or toward
    zero ('trunc'), on floats."""

    rule = "dx = 0 ; dy_in = 0"
    torch_name = "DivBackward2"   # torch's div(rounding_mode=) overload

    def forward(ctx, x, y, mode="floor"):
        ctx.mode = mode
        if mode != "trunc":
            return x // y   # fmod-based, as torch and Python: 1.0 // 0.1 == 9.0
        return ctx.xp.trunc(x / y)

    def backward(ctx, g):
        if ctx.mode == "floor_divide":   # torch has no derivative for // (div has one)
            raise BackwardError("derivative for aten::floor_divide is not implemented; "
                                "use div(..., rounding_mode='floor') for a zero gradient")
        # zeros, not 0 * dy: torch's gradient stays 0 where dy or the quotient is inf
        sx, sy = _input_shapes(ctx)
        zeros = ctx.xp.zeros
        nx, ny = ctx.needs_input_grad
        return (zeros(sx, dtype=g.dtype) if nx else None,
                zeros(sy, dtype=g.dtype) if ny else None)


class Frac(Function):
    rule = "dx = dy"

    def forward(ctx, x):
        return x - ctx.xp.trunc(x)

    def backward(ctx, g):
        return g
