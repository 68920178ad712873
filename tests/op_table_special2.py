"""Op table rows: ops/special_fns.py (erfcx, i0e, i1, i1e and zeta with gradients; the Bessel
family and the orthogonal polynomials, to which torch gives none). Edges are in
test_special_more.py."""
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import C, Case, OpRow, T, X, unary

import gradviz as gv
import gradviz.special as S
from gradviz.engine import ops as O

PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


@st.composite
def _zeta_cases(draw):
    """zeta(x, q): a constant x > 1 (torch has no gradient in x) broadcast against q > 0."""
    bs = draw(PAIRS)
    x = draw(hnp.arrays(np.float64, bs.input_shapes[0],
                        elements=st.floats(1.5, 4.0, allow_nan=False)))
    return Case([C(x), X(bs.input_shapes[1], "pos")])


@st.composite
def _degree_cases(draw):
    """P_n(x): x of one shape, an int64 degree n (-1 to 10) of a shape broadcast with it."""
    bs = draw(PAIRS)
    n = draw(hnp.arrays(np.int64, bs.input_shapes[1], elements=st.integers(-1, 10)))
    return Case([X(bs.input_shapes[0], "real"), T(n)])


def _gv_zeta(x, q):
    return S.zeta(gv.from_numpy(np.asarray(x)).to(q.dtype, device=q.device), q)


def _th_zeta(x, q):
    return torch.special.zeta(torch.from_numpy(np.asarray(x)).to(q.dtype), q)


def _unary_row(name, cls, domain="real", grad=False):
    return OpRow(f"special_{name}", (cls,), getattr(S, name), getattr(torch.special, name),
                 unary(domain), grad=grad)


def _poly_row(name, cls):
    return OpRow(f"special_{name}", (cls,), getattr(S, name), getattr(torch.special, name),
                 _degree_cases(), grad=False, tol={"float32": (1e-4, 1e-4)})


ROWS = [
    _unary_row("erfcx", O.Erfcx, grad=True),
    _unary_row("i0e", O.I0e, grad=True),
    _unary_row("i1", O.I1, grad=True),
    _unary_row("i1e", O.I1e, grad=True),
    OpRow("special_zeta", (O.Zeta,), _gv_zeta, _th_zeta, _zeta_cases()),
    _unary_row("airy_ai", O.AiryAi),
    _unary_row("bessel_j0", O.BesselJ0),
    _unary_row("bessel_j1", O.BesselJ1),
    _unary_row("bessel_y0", O.BesselY0, "pos"),
    _unary_row("bessel_y1", O.BesselY1, "pos"),
    _unary_row("modified_bessel_i0", O.ModifiedBesselI0),
    _unary_row("modified_bessel_i1", O.ModifiedBesselI1),
    _unary_row("modified_bessel_k0", O.ModifiedBesselK0, "pos"),
    _unary_row("modified_bessel_k1", O.ModifiedBesselK1, "pos"),
    _unary_row("scaled_modified_bessel_k0", O.ScaledModifiedBesselK0, "pos"),
    _unary_row("scaled_modified_bessel_k1", O.ScaledModifiedBesselK1, "pos"),
    _unary_row("spherical_bessel_j0", O.SphericalBesselJ0),
    _poly_row("chebyshev_polynomial_t", O.ChebyshevPolynomialT),
    _poly_row("chebyshev_polynomial_u", O.ChebyshevPolynomialU),
    _poly_row("chebyshev_polynomial_v", O.ChebyshevPolynomialV),
    _poly_row("chebyshev_polynomial_w", O.ChebyshevPolynomialW),
    _poly_row("shifted_chebyshev_polynomial_t", O.ShiftedChebyshevPolynomialT),
    _poly_row("shifted_chebyshev_polynomial_u", O.ShiftedChebyshevPolynomialU),
    _poly_row("shifted_chebyshev_polynomial_v", O.ShiftedChebyshevPolynomialV),
    _poly_row("shifted_chebyshev_polynomial_w", O.ShiftedChebyshevPolynomialW),
    _poly_row("hermite_polynomial_h", O.HermitePolynomialH),
    _poly_row("hermite_polynomial_he", O.HermitePolynomialHe),
    _poly_row("laguerre_polynomial_l", O.LaguerrePolynomialL),
    _poly_row("legendre_polynomial_p", O.LegendrePolynomialP),
]
