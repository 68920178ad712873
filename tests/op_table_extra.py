"""Op table rows for tensor_extra.py and tensor_pieces.py: aliases, products, elementwise
math (ops/extra.py's Function classes), pieces, index lists and order statistics."""
import numpy as np
import torch
from hypothesis import strategies as st
from op_table import SHAPES, SHAPES_ND, C, Case, OpRow, T, X, binary, fixed, unary

import gradviz as gv
from gradviz.engine import ops as O

NAN, INF = float("nan"), float("inf")


def _both(fn):
    """The same function for gradviz and torch (``lib`` is gv or torch)."""
    return (lambda *a, **k: fn(gv, *a, **k)), (lambda *a, **k: fn(torch, *a, **k))


def _row(name, fns, fn, cases, **kw):
    return OpRow(name, fns, *_both(fn), cases, **kw)


@st.composite
def quantile_cases(draw, nan=False):
    """An input (some NaN with ``nan``), q (a number or a list), dim, keepdim, interpolation."""
    shape = draw(SHAPES_ND)
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    q = draw(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0]),
                       st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), min_size=1,
                                max_size=3)))
    kw = {"dim": dim, "keepdim": draw(st.booleans()),
          "interpolation": draw(st.sampled_from(["linear", "lower", "higher", "midpoint",
                                                 "nearest"]))}
    holes = np.random.default_rng(draw(st.integers(0, 99))).random(shape) < (0.3 if nan else 0)
    return Case([X(shape, "sep"), T(np.where(holes, NAN, 0.0)), C(q)], kw)


def _quantile(name):
    def fn(lib, x, holes, q, **kw):
        q = lib.tensor(q, dtype=x.dtype, device=x.device) if isinstance(q, list) else q
        return getattr(x + holes.to(x.dtype), name)(q, **kw)
    return fn


def _off_poles(x):
    """(-0.8, -0.2) and (0.1, 20): both sides of 0, away from the poles of the gamma family
    (where a finite difference is far off)."""
    return (x.sigmoid() * 0.8 - 0.9, x.abs() * 10 + 0.1)


def _split(lib, x):
    return (*x.tensor_split(3), *lib.tensor_split(x, [1, 5, 2], dim=1),
            *x.tensor_split(lib.tensor([-1]), 2), *lib.hsplit(x, 2), *x.vsplit([1]),
            *lib.dsplit(x, [1, 1, 3]))


ROWS = [
    _row("extra_aliases", (O.Abs, O.Neg, O.Mul, O.Sub, O.Div),
         lambda lib, a, b: (lib.absolute(a), a.negative(), a.multiply(b), lib.multiply(a, b),
                            a.subtract(b, alpha=2), lib.subtract(a, b), a.divide(b),
                            lib.divide(a, b), a.true_divide(b), a.absolute()),
         binary("real", "nonzero")),
    _row("extra_compare_aliases", (O.Compare,),
         lambda lib, a, b: (a.greater(b), lib.greater_equal(a, b), a.less(b),
                            lib.less_equal(a, b), a.not_equal(b), lib.not_equal(a, 0.5)),
         binary(), grad=False),
    _row("extra_shape_aliases", (O.Transpose, O.Reshape, O.Flip, O.Gather, O.Expand),
         lambda lib, x: (x.swapdims(0, 2), lib.swapdims(x, 1, -1), x.ravel(), lib.ravel(x),
                         x.fliplr(), lib.flipud(x), x.msort(), lib.msort(x),
                         x.broadcast_to((2, *x.shape)), lib.broadcast_to(x, (2, -1, 3, -1))),
         fixed(Case([X((3, 1, 4), "sep")]))),
    _row("dot_mv_inner", (O.Matmul,),
         lambda lib, v, w, m, b: (v.dot(w), lib.vdot(v, w), m.mv(v), lib.mv(m, w),
                                  v.inner(w), lib.inner(m, b), b.inner(v), lib.inner(v[0], w)),
         fixed(Case([X((3,)), X((3,)), X((2, 3)), X((4, 2, 3))]))),
    _row("addmm_family", (O.Matmul, O.Add, O.Mul, O.Sum),
         lambda lib, s, m1, m2, v, b1, b2: (
             s.addmm(m1, m2), lib.addmm(s, m1, m2, beta=0.5, alpha=2), s[0].addmm(m1, m2),
             s[:, 0].addmv(m1, v), lib.addmv(s[:, 0], m1, v, beta=2, alpha=0.5),
             s.addbmm(b1, b2, alpha=3), lib.baddbmm(s, b1, b2, beta=-1)),
         fixed(Case([X((2, 4)), X((2, 3)), X((3, 4)), X((3,)), X((5, 2, 3)), X((5, 3, 4))])),
         tol={"float32": (1e-5, 1e-4)}),   # sums of 15 products: float32 cancels
    _row("kron", (O.Mul, O.Reshape), lambda lib, a, b: (a.kron(b), lib.kron(b, a)),
         fixed(Case([X((2, 3)), X((3, 2))]), Case([X((2,)), X((3, 1, 2))]),
               Case([X(()), X((2,))]), Case([X((1, 2, 2)), X((2, 1, 3))]))),
    _row("cross", (O.Getitem, O.Mul, O.Sub),
         lambda lib, a, b: (a.cross(b, dim=-1), lib.cross(b, a, dim=-1)),
         fixed(Case([X((3,)), X((3,))]), Case([X((2, 3)), X((1, 3))]),
               Case([X((4, 2, 3)), X((1, 2, 3))]))),
    _row("cross_dim", (O.Getitem,), lambda lib, a, b: lib.cross(a, b, dim=0),
         fixed(Case([X((3, 4)), X((3, 1))]))),
    _row("diff", (O.Getitem, O.Sub, O.Cat),
         lambda lib, x, p: (x.diff(), lib.diff(x, n=2, dim=0), x.diff(dim=-1, prepend=p),
                            lib.diff(x, append=p, n=3), x.diff(n=0), x.diff(n=9)),
         fixed(Case([X((4, 5)), X((4, 2))]), Case([X((3, 1)), X((3, 2))]))),
    _row("diff_bool", (), lambda lib, m: (m.diff(), lib.diff(m, dim=0)),
         fixed(Case([T(np.array([[True, False, False], [True, True, False]]))])), grad=False),
    _row("take_along_dim", (O.Gather, O.Expand),
         lambda lib, x, i, j: (x.take_along_dim(i, dim=1), lib.take_along_dim(x, j, dim=0),
                               lib.take_along_dim(x, j), x.take_along_dim(i[:1], dim=-1),
                               lib.take_along_dim(x[:1], i, dim=1)),
         fixed(Case([X((3, 4)), T(np.array([[0, 3], [1, 1], [2, 0]])),
                     T(np.array([[2, 0, 1, 2]]))]))),
    _row("take", (O.Getitem,), lambda lib, x, i: (x.take(i), lib.take(x, i[0])),
         fixed(Case([X((3, 4)), T(np.array([[0, -1, 5], [11, 5, -12]]))]),
               Case([X(()), T(np.array([[0], [-1]]))]))),
    _row("tensor_split", (O.Getitem,), _split, fixed(Case([X((2, 6, 4))]))),
    _row("select_rot90", (O.Getitem, O.Flip, O.Transpose),
         lambda lib, x: (x.select(1, -1), lib.select(x, 0, 1), x.rot90(), lib.rot90(x, 2),
                         x.rot90(-1, (2, 0)), lib.rot90(x, 3, [1, 2]), x.rot90(4)),
         fixed(Case([X((2, 3, 4))]))),
    _row("tensor_unfold", (O.Getitem, O.Permute),
         lambda lib, x: (x.unfold(1, 2, 1), x.unfold(-1, 3, 2), x.unfold(0, 1, 3),
                         x.unfold(1, 4, 1)),
         fixed(Case([X((2, 4, 5))]), Case([X((3, 4, 3))]))),
    _row("tensor_unfold_0d", (O.Reshape,), lambda lib, x: x.unfold(0, 1, 1),
         fixed(Case([X(())]))),
    _row("nan_to_num", (O.Where,),
         lambda lib, x, s: ((x + s.to(x.dtype)).nan_to_num(posinf=3.0, neginf=-2.0),
                            lib.nan_to_num(x + s.to(x.dtype), 1.5, 9.0, -7.0)),
         fixed(Case([X((2, 4)), T(np.array([0.0, NAN, INF, -INF]))]))),
    _row("nan_to_num_default", (O.Where,), lambda lib, s: s.nan_to_num(),   # untraced: the
         fixed(Case([T(np.array([0.0, NAN, INF, -INF]))])), grad=False,    # tracer's stats
         dtypes=("float32",)),                                             # overflow here
    _row("nan_to_num_int", (), lambda lib, i: (i.nan_to_num(), lib.nan_to_num(i.bool())),
         fixed(Case([T(np.array([3, -1]))])), grad=False),
    _row("logaddexp", (O.Logaddexp,), lambda lib, a, b: (a.logaddexp(b), lib.logaddexp(b, a)),
         binary()),
    _row("logaddexp2", (O.Logaddexp2,), lambda lib, a, b: lib.logaddexp2(a, b), binary()),
    _row("logaddexp_inf", (O.Logaddexp, O.Logaddexp2),
         lambda lib, s: (lib.logaddexp(s, s.flip(0)), lib.logaddexp2(s, s.flip(0))),
         fixed(Case([T(np.array([-INF, INF, 0.5, -INF, INF]))])), grad=False),
    _row("hypot", (O.Hypot,), lambda lib, a, b: (a.hypot(b), lib.hypot(b, a)),
         binary("nonzero", "nonzero")),
    _row("copysign", (O.Copysign,),
         lambda lib, a, b: (a.copysign(b), lib.copysign(a, -1.0), a.copysign(0.0)),
         binary("nonzero", "nonzero")),
    _row("copysign_int", (O.Copysign,), lambda lib, i: (i.copysign(-1), lib.copysign(i, i.neg())),
         fixed(Case([T(np.array([2, 0, -3]))])), grad=False),
    _row("fmod", (O.Fmod,), lambda lib, a, b: (a.fmod(b), lib.fmod(a, 0.7)),
         binary("real", "nonzero")),
    _row("fmod_int", (), lambda lib, i: (i.fmod(3), lib.fmod(i, i.abs() + 2), i.fmod(-2.5)),
         fixed(Case([T(np.array([7, -7, 0, 5]))])), grad=False),
    _row("fmax_fmin", (O.Where,), lambda lib, a, b: (a.fmax(b), lib.fmin(a, b)),
         binary()),
    _row("fmax_fmin_nan", (O.Where,),
         lambda lib, a, s: (a.fmax(s.to(a.dtype)), lib.fmin(s.to(a.dtype), a),
                            lib.fmax(s, s.flip(0))),
         fixed(Case([X((4,)), T(np.array([NAN, 1.0, NAN, -1.0]))]))),
    _row("heaviside", (O.Heaviside,),
         lambda lib, x, m, v: (x * m.to(x.dtype)).heaviside(v),
         fixed(Case([X((2, 3)), T(np.array([1.0, 0.0, 1.0])), X((3,))]),
               Case([X((4,)), T(np.array([0.0, 1.0, 1.0, 0.0])), X(())])), grad=False),
    _row("heaviside_int", (O.Heaviside,), lambda lib, i: lib.heaviside(i, i[:1]),
         fixed(Case([T(np.array([3, 0, -2, 0]))])), grad=False),
    _row("xlogy", (O.Mul, O.Log, O.Where),
         lambda lib, x, y, m: (x.xlogy(y), lib.xlogy(x * m.to(x.dtype), y), x.xlogy(2.5)),
         fixed(Case([X((2, 4)), X((4,), "pos"), T(np.array([0.0, 1.0, 0.0, 1.0]))]),
               Case([X(()), X((3,), "pos"), T(np.array(0.0))]))),
    _row("xlogy_zero", (O.Where,),
         lambda lib, x, y: lib.xlogy(x.to(y.dtype), y),
         fixed(Case([T(np.array([0, 0, 0, 2])), T(np.array([0.0, NAN, -1.0, 3.0]))])),
         grad=False),
    _row("logit", (O.Log, O.Div, O.Clamp),
         lambda lib, x: (x.sigmoid().logit(), lib.logit(x.sigmoid(), eps=0.2),
                         (x * 0.2 + 0.5).logit(1e-6)), unary()),
    _row("sinc", (O.Sin, O.Div, O.MaskedFill),
         lambda lib, x, m: (x.sinc(), lib.sinc(x * m.to(x.dtype))),
         fixed(Case([X((2, 3)), T(np.array([0.0, 1.0, 1.0]))]), Case([X(()), T(np.array(1.0))]))),
    _row("sgn_signbit", (O.Predicate, O.Sign),
         lambda lib, x, i: (x[:-1].sgn(), lib.sgn(i), x.signbit(), lib.signbit(i),
                            i.bool().signbit()),   # x[:-1]: torch's sign(NaN) is 0
         fixed(Case([T(np.array([-1.5, -0.0, 0.0, 2.0, -INF, NAN])), T(np.array([-2, 0, 3]))])),
         grad=False),
    _row("deg_rad_exp2", (O.Mul, O.Pow),
         lambda lib, x: (x.deg2rad(), lib.rad2deg(x), x.exp2(), lib.exp2(x)), unary()),
    _row("deg_rad_exp2_int", (), lambda lib, i: (i.deg2rad(), lib.rad2deg(i), i.exp2()),
         fixed(Case([T(np.array([-2, 0, 3]))])), grad=False),
    _row("float_power", (O.Pow,),
         lambda lib, x, y: (x.float_power(2), lib.float_power(x.abs(), y), x.float_power(-1.5)),
         binary("pos", "real")),
    _row("lgamma", (O.Lgamma,), lambda lib, x: (x.lgamma(), *map(lib.lgamma, _off_poles(x))),
         unary("pos")),
    _row("digamma", (O.Digamma,), lambda lib, x: (x.digamma(), *map(lib.digamma, _off_poles(x))),
         unary("pos")),
    _row("gamma_poles", (O.Lgamma, O.Digamma), lambda lib, s: (s.lgamma(), lib.digamma(s)),
         fixed(Case([T(np.array([0.0, -1.0, -2.0, INF, -INF, NAN, 1.0, 2.0, 170.5]))])),
         grad=False),
    _row("nonzero_argwhere", (),
         lambda lib, x: ((x > 0.5).nonzero(), *lib.nonzero(x > 0, as_tuple=True),
                         lib.argwhere(x < 0), *x.nonzero(as_tuple=True)),
         SHAPES.map(lambda s: Case([X(s)])), grad=False),
    OpRow("quantile", (O.Gather,), *_both(_quantile("quantile")), quantile_cases()),
    OpRow("nanquantile", (O.Gather,), *_both(_quantile("nanquantile")), quantile_cases(True),
          fd=False),   # NaN outputs
    _row("mode", (O.Gather,),
         lambda lib, x, i: (*x[:, i].mode(), *lib.mode(x[:, i], 0),
                            *x[:, i].mode(1, keepdim=True), *x[0, i].mode(), *lib.mode(x[0, 0])),
         fixed(Case([X((3, 4), "sep"), T(np.array([2, 0, 2, 1, 0, 3, 1]))]),
               Case([X((2, 3), "sep"), T(np.array([1, 1, 0, 0, 2]))]))),
    _row("mode_int", (), lambda lib, i: (*i.mode(), *lib.mode(i.t(), 1)),
         fixed(Case([T(np.array([[3, 1, 1, 3, 2], [5, 4, 4, 5, 4]]))])), grad=False),
    _row("nanmedian", (O.Gather,),
         lambda lib, x, s: (lib.nanmedian(x + s.to(x.dtype)), *(x + s.to(x.dtype)).nanmedian(1),
                            *lib.nanmedian(x + s.to(x.dtype), 0, keepdim=True), x.nanmedian(),
                            *x[0, 0].nanmedian(0)),
         fixed(Case([X((3, 4), "sep"), T(np.array([[0.0, NAN, 0.0, 0.0], [NAN, NAN, NAN, 0.0],
                                                   [0.0, 0.0, NAN, NAN]]))]),
               Case([X((2, 5), "sep"), T(np.zeros((2, 5)))])), fd=False),   # NaN outputs
]
