"""The rest of ``gv.special`` (torch.special's Bessel family, erfcx, the scaled Bessel
functions, polygamma, zeta, the incomplete gamma functions and the orthogonal polynomials);
gv.special imports these names. Each is one op of ops/special_fns.py or ops/math_more.py;
torch gives the Bessel family and the polynomials no gradient, and neither does gv."""
from .engine import ops as O
from .engine.tensor import Tensor
from .engine.tensor_methods import _as_tensor, _coerce
from .engine.tensor_reduce import _float
from .engine.tensor_specials import igamma, igammac
from .engine.tensor_specials import polygamma as _polygamma
from .errors import GradvizError

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "spherical_bessel_j0", "erfcx", "i0e", "i1", "i1e", "polygamma", "zeta", "gammainc",
           "gammaincc", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
           "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]


def _unary(cls, input):
    if not isinstance(input, Tensor):
        raise GradvizError(f"{cls.__name__}: expected a Tensor, got {type(input).__name__}")
    return cls.apply(_float(input))


def _pair(input, other):
    """Two operands (one may be a Python number) promoted as torch does, then to float."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise GradvizError("expected at least one Tensor argument")
    a, b = _coerce(input, other)
    a = a if isinstance(a, Tensor) else _as_tensor(a, b).to(b.dtype)
    b = b if isinstance(b, Tensor) else _as_tensor(b, a).to(a.dtype)
    return _float(a), _float(b)


def airy_ai(input):
    """The Airy function Ai(x) (no gradient, as torch)."""
    return _unary(O.AiryAi, input)


def bessel_j0(input):
    """The Bessel function of the first kind of order 0 (no gradient, as torch)."""
    return _unary(O.BesselJ0, input)


def bessel_j1(input):
    """The Bessel function of the first kind of order 1 (no gradient, as torch)."""
    return _unary(O.BesselJ1, input)


def bessel_y0(input):
    """The Bessel function of the second kind of order 0 (no gradient, as torch)."""
    return _unary(O.BesselY0, input)


def bessel_y1(input):
    """The Bessel function of the second kind of order 1 (no gradient, as torch)."""
    return _unary(O.BesselY1, input)


def modified_bessel_i0(input):
    """The modified Bessel function I_0 (no gradient, as torch; gv.special.i0 has one)."""
    return _unary(O.ModifiedBesselI0, input)


def modified_bessel_i1(input):
    """The modified Bessel function I_1 (no gradient, as torch; gv.special.i1 has one)."""
    return _unary(O.ModifiedBesselI1, input)


def modified_bessel_k0(input):
    """The modified Bessel function K_0 (no gradient, as torch)."""
    return _unary(O.ModifiedBesselK0, input)


def modified_bessel_k1(input):
    """The modified Bessel function K_1 (no gradient, as torch)."""
    return _unary(O.ModifiedBesselK1, input)


def scaled_modified_bessel_k0(input):
    """exp(x) K_0(x) (no gradient, as torch)."""
    return _unary(O.ScaledModifiedBesselK0, input)


def scaled_modified_bessel_k1(input):
    """exp(x) K_1(x) (no gradient, as torch)."""
    return _unary(O.ScaledModifiedBesselK1, input)


def spherical_bessel_j0(input):
    """sin(x) / x, the spherical Bessel function of order 0 (no gradient, as torch)."""
    return _unary(O.SphericalBesselJ0, input)


def erfcx(input):
    """exp(x^2) erfc(x), finite where erfc underflows."""
    return _unary(O.Erfcx, input)


def i0e(input):
    """exp(-|x|) i0(x)."""
    return _unary(O.I0e, input)


def i1(input):
    """The modified Bessel function of the first kind, order 1."""
    return _unary(O.I1, input)


def i1e(input):
    """exp(-|x|) i1(x)."""
    return _unary(O.I1e, input)


def polygamma(n, input):
    """psi^(n)(x), the n-th derivative of digamma."""
    return _polygamma(n, input)


def zeta(input, other):
    """The Hurwitz zeta function zeta(x, q) (gradient in q only, as torch)."""
    return O.Zeta.apply(*_pair(input, other))


def gammainc(input, other):
    """P(a, x), the regularized lower incomplete gamma function (gradient in x only)."""
    return igamma(input, other)


def gammaincc(input, other):
    """Q(a, x) = 1 - P(a, x), the regularized upper incomplete gamma (gradient in x only)."""
    return igammac(input, other)


def _poly(cls, input, n):
    return cls.apply(*_pair(input, n))


def chebyshev_polynomial_t(input, n):
    """T_n(x), the Chebyshev polynomial of the first kind (n cast to an integer; 0 if n < 0)."""
    return _poly(O.ChebyshevPolynomialT, input, n)


def chebyshev_polynomial_u(input, n):
    """U_n(x), the Chebyshev polynomial of the second kind."""
    return _poly(O.ChebyshevPolynomialU, input, n)


def chebyshev_polynomial_v(input, n):
    """V_n(x), the Chebyshev polynomial of the third kind."""
    return _poly(O.ChebyshevPolynomialV, input, n)


def chebyshev_polynomial_w(input, n):
    """W_n(x), the Chebyshev polynomial of the fourth kind."""
    return _poly(O.ChebyshevPolynomialW, input, n)


def shifted_chebyshev_polynomial_t(input, n):
    """T*_n(x) = T_n(2x - 1)."""
    return _poly(O.ShiftedChebyshevPolynomialT, input, n)


def shifted_chebyshev_polynomial_u(input, n):
    """U*_n(x) = U_n(2x - 1)."""
    return _poly(O.ShiftedChebyshevPolynomialU, input, n)


def shifted_chebyshev_polynomial_v(input, n):
    """V*_n(x) = V_n(2x - 1)."""
    return _poly(O.ShiftedChebyshevPolynomialV, input, n)


def shifted_chebyshev_polynomial_w(input, n):
    """W*_n(x) = W_n(2x - 1)."""
    return _poly(O.ShiftedChebyshevPolynomialW, input, n)


def hermite_polynomial_h(input, n):
    """H_n(x), the physicists' Hermite polynomial."""
    return _poly(O.HermitePolynomialH, input, n)


def hermite_polynomial_he(input, n):
    """He_n(x), the probabilists' Hermite polynomial."""
    return _poly(O.HermitePolynomialHe, input, n)


def laguerre_polynomial_l(input, n):
    """L_n(x), the Laguerre polynomial."""
    return _poly(O.LaguerrePolynomialL, input, n)


def legendre_polynomial_p(input, n):
    """P_n(x), the Legendre polynomial."""
    return _poly(O.LegendrePolynomialP, input, n)
