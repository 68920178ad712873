"""torch.special's scaled Bessel functions, erfcx and zeta (ops with gradients), the Bessel
family torch gives no gradient (ops whose output never needs grad) and the orthogonal
polynomials of an integer degree n (the same).

Values come from SciPy on the host (cupyx.scipy.special on a device), as gv.special's erfc
and i0; SciPy is not a gradviz dependency, so without it these raise a clear error. The
polynomials are torch's own recurrences, written against ``xp``."""
import math

import numpy as np

from ...errors import BackwardError, GradvizError
from ..backend import on_graph
from ..function import Function
from .util import unbroadcast

__all__ = ["Erfcx", "I0e", "I1", "I1e", "Zeta", "AiryAi", "BesselJ0", "BesselJ1", "BesselY0",
           "BesselY1", "ModifiedBesselI0", "ModifiedBesselI1", "ModifiedBesselK0",
           "ModifiedBesselK1", "ScaledModifiedBesselK0", "ScaledModifiedBesselK1",
           "SphericalBesselJ0", "ChebyshevPolynomialT", "ChebyshevPolynomialU",
           "ChebyshevPolynomialV", "ChebyshevPolynomialW", "ShiftedChebyshevPolynomialT",
           "ShiftedChebyshevPolynomialU", "ShiftedChebyshevPolynomialV",
           "ShiftedChebyshevPolynomialW", "HermitePolynomialH", "HermitePolynomialHe",
           "LaguerrePolynomialL", "LegendrePolynomialP"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def scipy_fn(xp, name, *args, dtype=None):
    """scipy.special.<name>(*args) (cupyx.scipy.special on a device), in ``dtype`` (the first
    argument's by default). SciPy is not a gradviz dependency: without it, a clear error.
    The one way gradviz reaches SciPy (gv.special, these ops, gamma draws' gradients)."""
    dtype = args[0].dtype if dtype is None else dtype
    if xp is np:
        try:
            from scipy import special as sp  # noqa: PLC0415 - optional
        except ImportError:
            raise GradvizError(f"gv.special needs SciPy for {name} on the CPU "
                               "(pip install scipy)") from None
        return np.asarray(getattr(sp, name)(*args), dtype=dtype)
    from cupyx.scipy import special as csp  # noqa: PLC0415 - device only
    return xp.asarray(getattr(csp, name)(*args), dtype=dtype)


# ---- with gradients ---------------------------------------------------------------------------
class Erfcx(Function):
    """exp(x^2) erfc(x), the scaled complementary error function."""

    rule = "dx = dy * (2 x erfcx(x) - 2 / sqrt(pi))"
    torch_name = "SpecialErfcxBackward0"   # torch.special's node

    def forward(ctx, x):
        y = scipy_fn(ctx.xp, "erfcx", x)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved
        return g * (2 * x * y - _TWO_OVER_SQRT_PI)


class I0e(Function):
    """exp(-|x|) i0(x), the exponentially scaled modified Bessel function of order 0."""

    rule = "dx = dy * (i1e(x) - sgn(x) i0e(x))"
    torch_name = "SpecialI0EBackward0"   # torch.special's node

    def forward(ctx, x):
        y = scipy_fn(ctx.xp, "i0e", x)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved
        if on_graph(ctx.xp):   # create_graph: i1e as the I1e op
            return g * (I1e.apply(x) - ctx.xp.sign(x) * y)
        return g * (scipy_fn(ctx.xp, "i1e", x) - ctx.xp.sign(x) * y)


class I1(Function):
    """The modified Bessel function of the first kind, order 1."""

    rule = "dx = dy * (i0(x) - i1(x) / x), 1/2 at x = 0"
    torch_name = "SpecialI1Backward0"   # torch.special's node

    def forward(ctx, x):
        y = scipy_fn(ctx.xp, "i1", x)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        zero = x == 0
        if on_graph(xp):   # create_graph: i0 as gv.special's I0 op
            from ...special import I0  # noqa: PLC0415 - gradviz.special imports the engine
            return g * xp.where(zero, 0.5, I0.apply(x) - y / xp.where(zero, 1.0, x))
        safe = xp.where(zero, 1, x).astype(x.dtype)    # the limit at 0 without a 0/0
        return g * xp.where(zero, 0.5, scipy_fn(xp, "i0", x) - y / safe).astype(x.dtype)


class I1e(Function):
    """exp(-|x|) i1(x), the exponentially scaled modified Bessel function of order 1."""

    rule = "dx = dy * (i0e(x) - i1e(x) (sgn(x) + 1 / x)), 1/2 at x = 0"
    torch_name = "SpecialI1EBackward0"   # torch.special's node

    def forward(ctx, x):
        y = scipy_fn(ctx.xp, "i1e", x)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        zero = x == 0
        if on_graph(xp):   # create_graph: i0e as the I0e op
            d = I0e.apply(x) - y * (xp.sign(x) + 1 / xp.where(zero, 1.0, x))
            return g * xp.where(zero, 0.5, d)
        safe = xp.where(zero, 1, x).astype(x.dtype)
        d = scipy_fn(xp, "i0e", x) - y * (xp.sign(x) + 1 / safe)
        return g * xp.where(zero, 0.5, d).astype(x.dtype)


class Zeta(Function):
    """The Hurwitz zeta function sum over k >= 0 of (k + q)^-x (gradient in q only)."""

    rule = "dq = -dy * x * zeta(x + 1, q) ; dx: not implemented (as torch)"
    torch_name = "SpecialZetaBackward0"   # torch.special's node

    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        return scipy_fn(ctx.xp, "zeta", x, q)

    def backward(ctx, g):
        x, q = ctx.saved
        if ctx.needs_input_grad[0]:
            raise BackwardError("the derivative for 'zeta' is not implemented.")
        if on_graph(ctx.xp):   # create_graph: zeta(x + 1, q) as this op (a gradient in q)
            dq = -g * x * Zeta.apply(x + 1, q)
        else:
            dq = -g * x * scipy_fn(ctx.xp, "zeta", x + 1, q)
        return None, unbroadcast(ctx.xp, dq, q.shape)


# ---- values only (torch gives these no gradient) ----------------------------------------------
class _Valued(Function):
    """An op whose output never needs grad: scipy.special.<scipy> of its input."""

    differentiable = False
    rule = "none (torch defines no derivative)"
    scipy = ""

    def forward(ctx, x):
        return scipy_fn(ctx.xp, ctx.scipy, x)


def _valued(name, scipy, doc):
    return type(name, (_Valued,), {"scipy": scipy, "__doc__": doc, "__module__": __name__})


BesselJ0 = _valued("BesselJ0", "j0", "The Bessel function of the first kind, order 0.")
BesselJ1 = _valued("BesselJ1", "j1", "The Bessel function of the first kind, order 1.")
BesselY0 = _valued("BesselY0", "y0", "The Bessel function of the second kind, order 0.")
BesselY1 = _valued("BesselY1", "y1", "The Bessel function of the second kind, order 1.")
ModifiedBesselI0 = _valued("ModifiedBesselI0", "i0", "The modified Bessel function I_0.")
ModifiedBesselI1 = _valued("ModifiedBesselI1", "i1", "The modified Bessel function I_1.")
ModifiedBesselK0 = _valued("ModifiedBesselK0", "k0", "The modified Bessel function K_0.")
ModifiedBesselK1 = _valued("ModifiedBesselK1", "k1", "The modified Bessel function K_1.")
ScaledModifiedBesselK0 = _valued("ScaledModifiedBesselK0", "k0e", "exp(x) K_0(x).")
ScaledModifiedBesselK1 = _valued("ScaledModifiedBesselK1", "k1e", "exp(x) K_1(x).")


class AiryAi(Function):
    """The Airy function Ai(x)."""

    differentiable = False
    rule = "none (torch defines no derivative)"

    def forward(ctx, x):
        xp = ctx.xp
        host = x if xp is np else xp.asnumpy(x)   # cupyx.scipy.special has no airy
        try:
            from scipy import special as sp  # noqa: PLC0415 - optional
        except ImportError:
            raise GradvizError("gv.special needs SciPy for airy_ai (pip install scipy)") from None
        ai = np.asarray(sp.airy(host)[0], dtype=x.dtype)
        # Ai underflows to 0 past ~104 (SciPy says NaN there once Bi overflows; torch 0, and
        # NaN at inf)
        ai = np.where((host > 104) & (host < np.inf), 0, ai).astype(x.dtype)
        return ai if xp is np else xp.asarray(ai)


class SphericalBesselJ0(Function):
    """sin(x) / x, 1 at 0 and 0 at +-inf (as torch)."""

    differentiable = False
    rule = "none (torch defines no derivative)"

    def forward(ctx, x):
        xp = ctx.xp
        zero, inf = x == 0, xp.isinf(x)
        safe = xp.where(zero | inf, 1, x).astype(x.dtype)
        out = xp.sin(safe) / safe
        return xp.where(zero, 1, xp.where(inf, 0, out)).astype(x.dtype)


# ---- orthogonal polynomials of degree n (torch: n cast to int64, n < 0 gives 0) --------------
def _degree(xp, n):
    """n truncated to int64 as torch's static_cast; NaN, inf and out of range give -1 (torch
    gets INT64_MIN there, also a negative degree)."""
    ok = xp.isfinite(n) & (xp.abs(n) < 2.0 ** 62)
    return xp.where(ok, n, -1).astype(xp.int64)


def _recur(xp, x, n, p0, p1, step, out):
    """Fill ``out`` with P_n(x) from P_0 = p0, P_1 = p1(x) and P_(j+1) = step(j, x, P_(j-1),
    P_j), for every element whose ``out`` is still NaN (no shortcut set it)."""
    todo = xp.isnan(out)   # a NaN x too: torch gives P_0(NaN) = 1
    if not bool(todo.any()):
        return out
    xs, ns = x[todo], n[todo]
    p, q = xp.ones_like(xs) * p0, p1(xs)
    res = xp.where(ns == 0, p, q)
    for j in range(1, int(ns.max())):
        p, q = q, step(j, xs, p, q)
        res = xp.where(ns == j + 1, q, res)
        # once overflow has made every unfinished element NaN they stay NaN (each step
        # multiplies P_j): stop there, not after n (up to 2^62) steps
        if j % 64 == 0 and not bool((~xp.isnan(q) & (ns > j + 1)).any()):
            res = xp.where(ns > j + 1, xp.nan, res)
            break
    out[todo] = res
    return out


class _Polynomial(Function):
    """P_n(x) of a floating x and integer-valued n (broadcast together); no gradient."""

    differentiable = False
    rule = "none (torch defines no derivative)"

    def forward(ctx, x, n):
        xp = ctx.xp
        x, n = xp.broadcast_arrays(x, n)
        n = _degree(xp, n)
        out = xp.full(x.shape, xp.nan, dtype=x.dtype)
        out = xp.where(n < 0, 0, out).astype(x.dtype)
        out = ctx.closed_form(xp, x, n, out)
        return _recur(xp, x, n, 1, ctx.first, ctx.step, out)

    def closed_form(ctx, xp, x, n, out):
        """Where torch takes a shortcut (|x| = 1, high degree); the rest stays NaN."""
        return out


def _fill(xp, out, where, value):
    """out where it is set already, else ``value`` where ``where``."""
    return xp.where(xp.isnan(out) & where, value, out).astype(out.dtype)


def _chebyshev_step(j, x, p, q):
    """The first-kind to fourth-kind Chebyshev recurrence P_(j+1) = 2x P_j - P_(j-1)."""
    return (x + x) * q - p


def _odd_sign(xp, n):
    return xp.where(n % 2 == 0, 1, -1)


class ChebyshevPolynomialT(_Polynomial):
    """T_n(x): T_(j+1) = 2x T_j - T_(j-1); cos(n acos x) for n > 6 inside (-1, 1)."""

    @staticmethod
    def first(x):
        return x

    step = staticmethod(_chebyshev_step)

    def closed_form(ctx, xp, x, n, out):
        out = _fill(xp, out, x == 1, 1)
        out = _fill(xp, out, x == -1, _odd_sign(xp, n))
        inside = (n > 6) & (xp.abs(x) < 1)
        return _fill(xp, out, inside, xp.cos(n.astype(x.dtype) * xp.arccos(xp.clip(x, -1, 1))))


class ChebyshevPolynomialU(_Polynomial):
    """U_n(x): U_(j+1) = 2x U_j - U_(j-1); sin((n+1) t) / sin(t), t = acos x, for n > 8."""

    @staticmethod
    def first(x):
        return x + x

    step = staticmethod(_chebyshev_step)

    def closed_form(ctx, xp, x, n, out):
        out = _fill(xp, out, x == 1, n + 1)
        out = _fill(xp, out, x == -1, _odd_sign(xp, n) * (n + 1))
        t, nf = xp.arccos(xp.clip(x, -1, 1)), n.astype(x.dtype)
        s = xp.sin(t)
        safe = xp.where(s != 0, s, 1)
        trig = xp.where(s != 0, xp.sin((nf + 1) * t) / safe,
                        (nf + 1) * xp.cos((nf + 1) * t) / xp.where(x != 0, x, 1))
        return _fill(xp, out, (n > 8) & (xp.abs(x) < 1), trig)


class ChebyshevPolynomialV(_Polynomial):
    """V_n(x): V_1 = 2x - 1, then V_(j+1) = 2x V_j - V_(j-1); cos((n+1/2) t) / cos(t/2)."""

    @staticmethod
    def first(x):
        return x + x - 1

    step = staticmethod(_chebyshev_step)

    def closed_form(ctx, xp, x, n, out):
        out = _fill(xp, out, x == 1, 1)
        out = _fill(xp, out, x == -1, _odd_sign(xp, n) * (n + n + 1))
        t, nf = xp.arccos(xp.clip(x, -1, 1)), n.astype(x.dtype)
        c = xp.cos(t / 2)
        trig = xp.where(xp.sin(t / 2) != 1, xp.cos((nf + 0.5) * t) / xp.where(c != 0, c, 1),
                        _odd_sign(xp, n) * (n + n + 1))
        return _fill(xp, out, (n > 8) & (xp.abs(x) < 1), trig)


class ChebyshevPolynomialW(_Polynomial):
    """W_n(x): W_1 = 2x + 1, then W_(j+1) = 2x W_j - W_(j-1); sin((n+1/2) t) / sin(t/2)."""

    @staticmethod
    def first(x):
        return x + x + 1

    step = staticmethod(_chebyshev_step)

    def closed_form(ctx, xp, x, n, out):
        out = _fill(xp, out, x == 1, n + n + 1)
        out = _fill(xp, out, x == -1, _odd_sign(xp, n))
        t, nf = xp.arccos(xp.clip(x, -1, 1)), n.astype(x.dtype)
        s = xp.sin(t / 2)
        trig = xp.where(xp.cos(t / 2) != 1, xp.sin((nf + 0.5) * t) / xp.where(s != 0, s, 1),
                        xp.where(x > 0, n + n + 1, _odd_sign(xp, n)))
        return _fill(xp, out, (n > 8) & (xp.abs(x) < 1), trig)


def _shifted(base):
    """base's polynomial of 2x - 1 (torch's shifted_* kernels compute x + x - 1 the same)."""

    def forward(ctx, x, n):
        return base.forward(ctx, x + x - 1, n)

    kind = base.__name__[-1]
    return type("Shifted" + base.__name__, (base,), {
        "forward": forward, "__doc__": f"{kind}*_n(x) = {kind}_n(2x - 1).",
        "__module__": __name__})


ShiftedChebyshevPolynomialT = _shifted(ChebyshevPolynomialT)
ShiftedChebyshevPolynomialU = _shifted(ChebyshevPolynomialU)
ShiftedChebyshevPolynomialV = _shifted(ChebyshevPolynomialV)
ShiftedChebyshevPolynomialW = _shifted(ChebyshevPolynomialW)


class HermitePolynomialH(_Polynomial):
    """The physicists' Hermite polynomial: H_(j+1) = 2x H_j - 2j H_(j-1)."""

    @staticmethod
    def first(x):
        return x + x

    @staticmethod
    def step(j, x, p, q):
        return (x + x) * q - (j + j) * p


class HermitePolynomialHe(_Polynomial):
    """The probabilists' Hermite polynomial: He_(j+1) = x He_j - j He_(j-1)."""

    @staticmethod
    def first(x):
        return x

    @staticmethod
    def step(j, x, p, q):
        return x * q - j * p


class LaguerrePolynomialL(_Polynomial):
    """L_n(x): L_(j+1) = ((2j + 1 - x) L_j - j L_(j-1)) / (j + 1); 1 at x = 0."""

    @staticmethod
    def first(x):
        return 1 - x

    @staticmethod
    def step(j, x, p, q):
        return ((j + j + (1 - x)) * q - j * p) / (j + 1)

    def closed_form(ctx, xp, x, n, out):
        return _fill(xp, out, x == 0, 1)


class LegendrePolynomialP(_Polynomial):
    """P_n(x): P_(j+1) = ((2j + 1) x P_j - j P_(j-1)) / (j + 1); (+-1)^n at x = +-1."""

    @staticmethod
    def first(x):
        return x

    @staticmethod
    def step(j, x, p, q):
        return ((j + j + 1) * x * q - j * p) / (j + 1)

    def closed_form(ctx, xp, x, n, out):
        out = _fill(xp, out, x == 1, 1)
        return _fill(xp, out, x == -1, _odd_sign(xp, n))
