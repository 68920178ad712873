"""Op table rows: tests (isnan, any...), rounding, reciprocal, norm, flip, sorting, selection."""
import numpy as np
import torch
from hypothesis import strategies as st
from op_table import (SHAPES, SHAPES_ND, C, Case, OpRow, T, X, along_dim, binary, fixed,
                      reduce_dim, unary)

import gradviz as gv
from gradviz.engine import ops as O

INF = float("inf")


def _m(name, *args):
    """Call the method ``name`` with ``args`` and the case's keywords (same text both sides)."""
    return lambda x, **k: getattr(x, name)(*args, **k)


def _special(s):
    """Inputs with NaN, ±Inf and zeros mixed in (for the tests)."""
    return s.map(lambda shape: Case([T(np.resize(np.array([0.5, np.nan, -np.inf, 0.0, np.inf,
                                                           -2.0]), shape))]))


@st.composite
def norm_cases(draw):
    """A p (2, 1, inf, -inf, 0, 3, 0.5, 'fro') with a dim (None, int or tuple) and keepdim."""
    p = draw(st.sampled_from([2, 1, INF, -INF, 0, 3, 0.5, "fro"]))
    case = draw(reduce_dim("nonzero" if p not in (INF, -INF) else "sep", tuple_dims=True))
    case.kw["p"] = p
    return case


@st.composite
def flip_cases(draw):
    shape = draw(SHAPES_ND)
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                         max_size=len(shape), unique_by=lambda d: d % len(shape)))
    return Case([X(shape), C(tuple(dims))])


@st.composite
def topk_cases(draw):
    case = draw(along_dim("sep"))
    shape = case.args[0].shape
    case.kw["k"] = draw(st.integers(0, shape[case.kw["dim"]]))
    case.kw["largest"] = draw(st.booleans())
    return case


@st.composite
def index_select_cases(draw):
    shape = draw(SHAPES_ND)
    d = draw(st.integers(-len(shape), len(shape) - 1))
    idx = draw(st.lists(st.integers(0, shape[d] - 1), min_size=0, max_size=5))
    return Case([X(shape), C(d), T(np.array(idx, dtype=np.int64))])


@st.composite
def narrow_cases(draw):
    shape = draw(SHAPES_ND)
    d = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[d]
    start = draw(st.integers(-n, n))
    length = draw(st.integers(0, n - (start % n if start < 0 else start)))
    return Case([X(shape), C(d), C(start), C(length)])


def _nan_at(rows):
    """A constant added to the input: NaN (or ±inf) in places, 0 elsewhere."""
    return T(np.array(rows))


_SORT_NAN = [Case([X((6,)), _nan_at([0.0, np.nan, np.inf, 0.0, np.nan, -np.inf])]),
             Case([X((3, 4)), _nan_at([[np.nan, 0.0, 0.0, np.nan], [0.0, 0.0, 0.0, 0.0],
                                       [0.0, -np.inf, np.nan, np.inf]])])]
_TOPK_NAN = [Case([X((5,)), _nan_at([0.0, 0.0, np.nan, 0.0, np.inf])]),
             Case([X((2, 4)), _nan_at([[0.0, np.nan, 0.0, 0.0], [0.0, 0.0, 0.0, np.nan]])])]
_INTS = np.array([3, -2 ** 63, 5, 3, 2 ** 63 - 1, 0, 5])
_ROWS = np.array([[1, 2, 1], [0, 5, 0], [1, 2, 1], [0, 1, 0]])


def _sort_forms(lib):
    return lambda x, m: (*(x + m).sort(), *(x + m).sort(0, descending=True),
                         *lib.sort(x + m, descending=True, stable=True),
                         (x + m).argsort(descending=True), lib.argsort(x + m, stable=True))


def _unique_forms(lib):
    return lambda a, **k: (*lib.unique(a, return_inverse=True, return_counts=True, **k),
                           a.unique(sorted=False, **k), *a.unique(return_counts=True, **k))


def _tests(x):
    return (x.isnan(), x.isinf(), gv.isfinite(x), x.logical_not(), x.any(), x.all(),
            x.isfinite().all(dim=-1) if x.ndim else x.all(), gv.logical_and(x, x > 0),
            x.logical_or(x < 0), x.logical_xor(x == 0), x.isclose(x * 1.0000001),
            gv.isclose(x, 0.5, atol=0.1), x.isclose(x, equal_nan=True))


def _torch_tests(x):
    return (x.isnan(), x.isinf(), torch.isfinite(x), x.logical_not(), x.any(), x.all(),
            x.isfinite().all(dim=-1) if x.ndim else x.all(), torch.logical_and(x, x > 0),
            x.logical_or(x < 0), x.logical_xor(x == 0), x.isclose(x * 1.0000001),
            torch.isclose(x, torch.tensor(0.5, dtype=x.dtype), atol=0.1),
            x.isclose(x, equal_nan=True))


def _fn(name, cls, domain="real"):
    """``gv.<name>(x)`` against ``torch.<name>(x)``."""
    return OpRow(name, (cls,), getattr(gv, name), getattr(torch, name),
                 SHAPES.map(lambda s: Case([X(s, domain)])))


ROWS = [
    _fn("log2", O.Log2, "pos"), _fn("log10", O.Log10, "pos"), _fn("expm1", O.Expm1),
    _fn("tan", O.Tan, "unit"), _fn("sinh", O.Sinh), _fn("cosh", O.Cosh),
    _fn("asin", O.Asin, "unit"), _fn("acos", O.Acos, "unit"), _fn("atan", O.Atan),
    _fn("erf", O.Erf),
    OpRow("asinh", (O.Asinh,), lambda x: x.asinh(), lambda x: x.asinh(), unary()),
    OpRow("acosh", (O.Acosh,), lambda x: (x + 1.5).arccosh(), lambda x: (x + 1.5).arccosh(),
          unary("pos")),
    OpRow("atanh", (O.Atanh,), lambda x: x.atanh(), lambda x: x.atanh(), unary("unit")),
    OpRow("atan2", (O.Atan2,), gv.atan2, torch.atan2, binary("real", "nonzero")),
    OpRow("math_methods", (O.Asin, O.Atan, O.Atan2),
          lambda x: (x.arcsin(), x.arctan(), x.arctan2(x + 2.0), x.atan2(0.5)),
          lambda x: (x.arcsin(), x.arctan(), x.arctan2(x + 2.0),
                     x.atan2(torch.tensor(0.5, dtype=x.dtype))),
          SHAPES.map(lambda s: Case([X(s, "unit")]))),
    OpRow("tril_triu", (O.MaskedFill,),
          lambda x: (x.tril(), x.triu(1), gv.tril(x, -1)),
          lambda x: (x.tril(), x.triu(1), torch.tril(x, -1)),
          st.sampled_from([(3, 4), (2, 3, 3), (4, 2)]).map(lambda s: Case([X(s)]))),
    OpRow("roll", (O.Cat,), lambda x, **k: x.roll(**k), lambda x, **k: x.roll(**k),
          fixed(Case([X((3, 4))], {"shifts": 1, "dims": 1}),
                Case([X((3, 4))], {"shifts": (2, -1), "dims": (0, 1)}),
                Case([X((2, 3))], {"shifts": 4}))),
    OpRow("movedim_unbind", (O.Permute, O.Getitem),
          lambda x: (x.movedim(0, -1), gv.movedim(x, (0, 1), (1, 0)), *x.unbind(1)),
          lambda x: (x.movedim(0, -1), torch.movedim(x, (0, 1), (1, 0)), *x.unbind(1)),
          fixed(Case([X((2, 3, 4))]))),
    OpRow("outer_lerp_addc", (O.Mul,),
          lambda a, b: (a.outer(b), a.lerp(b, 0.3), gv.lerp(a, b, b.sigmoid()),
                        a.addcmul(a, b, value=0.5), a.addcdiv(a, b + 3.0, value=2)),
          lambda a, b: (a.outer(b), a.lerp(b, 0.3), torch.lerp(a, b, b.sigmoid()),
                        a.addcmul(a, b, value=0.5), a.addcdiv(a, b + 3.0, value=2)),
          fixed(Case([X((4,)), X((4,))]))),
    OpRow("clamp_min_max", (O.Clamp,), lambda x: (x.clamp_min(0.2), gv.clamp_max(x, -0.1)),
          lambda x: (x.clamp_min(0.2), torch.clamp_max(x, -0.1)),
          SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("var_std_mean", (O.Var, O.Std, O.Mean),
          lambda x, **k: (*gv.var_mean(x, **k), *gv.std_mean(x, **k)),
          lambda x, **k: (*torch.var_mean(x, **k), *torch.std_mean(x, **k)),
          fixed(Case([X((3, 4))], {"dim": 1}), Case([X((3, 4))], {"dim": 0, "keepdim": True}),
                Case([X((3, 4))], {"correction": 0}))),
    OpRow("count_nonzero", (), lambda x: (gv.count_nonzero(x), x.count_nonzero(dim=0)),
          lambda x: (torch.count_nonzero(x), x.count_nonzero(dim=0)),
          fixed(Case([T(np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0]]))])), grad=False),
    OpRow("scatter", (O.Scatter,), lambda x, i, src: (x.scatter(1, i, src), x.scatter(1, i, 2.5)),
          lambda x, i, src: (x.scatter(1, i, src), x.scatter(1, i, 2.5)),
          fixed(Case([X((3, 5)), T(np.array([[0, 2, 4], [1, 0, 3], [4, 3, 2]])), X((3, 3))]),
                Case([X((2, 3)), T(np.array([[2], [0]])), X((2, 1))]))),
    OpRow("scatter_dim0", (O.Scatter,), lambda x, i, src: gv.scatter(x, 0, i, src),
          lambda x, i, src: torch.scatter(x, 0, i, src),
          fixed(Case([X((3, 2)), T(np.array([[2, 0], [0, 1]])), X((2, 2))]))),
    OpRow("scatter_add", (O.ScatterAdd,), lambda x, i, src: x.scatter_add(1, i, src),
          lambda x, i, src: x.scatter_add(1, i, src),
          fixed(Case([X((3, 5)), T(np.array([[0, 2, 2, 1], [1, 1, 3, 0], [4, 3, 4, 4]])),
                      X((3, 4))]))),
    OpRow("index_add_fill", (O.IndexAdd, O.MaskedFill),
          lambda x, i, src: (x.index_add(1, i, src, alpha=2), x.index_fill(0, i[:1], -1.0)),
          lambda x, i, src: (x.index_add(1, i, src, alpha=2), x.index_fill(0, i[:1], -1.0)),
          fixed(Case([X((3, 4)), T(np.array([1, 3, 1])), X((3, 3))]))),
    OpRow("einsum", (O.Einsum,), lambda *ops, eq: gv.einsum(eq, *ops),
          lambda *ops, eq: torch.einsum(eq, *ops),
          fixed(Case([X((3, 4)), X((4, 5))], {"eq": "ij,jk->ik"}),
                Case([X((2, 3, 4, 5)), X((2, 3, 6, 5))], {"eq": "...qd,...kd->...qk"}),
                Case([X((1, 2, 3)), X((4, 3, 2))], {"eq": "...ij,...jk->...ik"}),
                Case([X((3, 4))], {"eq": "ij->j"}), Case([X((3,)), X((4,))], {"eq": "i,j"}),
                Case([X((2, 3)), X((4, 3)), X((3,))], {"eq": "ij,kj,j->ik"}),
                Case([X((3, 4)), X((1,))], {"eq": "ab,b->ab"}))),
    OpRow("cumprod", (O.Cumprod,), lambda x, **k: x.cumprod(**k), lambda x, **k: x.cumprod(**k),
          along_dim()),
    OpRow("cumprod_zeros", (O.Cumprod,), lambda x, m: (x * m).cumprod(0),
          lambda x, m: (x * m).cumprod(0),
          fixed(Case([X((4,)), T(np.array([1.0, 0.0, 1.0, 1.0]))]),
                Case([X((5, 2)), T(np.array([[1.0], [0.0], [1.0], [0.0], [1.0]]))]))),
    OpRow("diag_trace", (O.Getitem, O.IndexAdd),
          lambda x: (x.diagonal(1), gv.diag(x, -1), x.trace(), gv.diag(x[0], 1),
                     x.diagonal(0, 1, 0)),
          lambda x: (x.diagonal(1), torch.diag(x, -1), x.trace(), torch.diag(x[0], 1),
                     x.diagonal(0, 1, 0)),
          fixed(Case([X((3, 4))]), Case([X((4, 2))]))),
    OpRow("median_nan", (O.Median, O.Gather),
          lambda x: (x.median(), x.median(1)[0], x.median(0, keepdim=True)[0],
                     x.median(0)[1], gv.nansum(x), x.nanmean(dim=0)),
          lambda x: (x.median(), x.median(1)[0], x.median(0, keepdim=True)[0],
                     x.median(0)[1], torch.nansum(x), x.nanmean(dim=0)),
          fixed(Case([X((3, 4), "sep")]), Case([X((4, 5), "sep")]))),
    OpRow("tile_repeat_interleave", (O.Repeat, O.Getitem),
          lambda x, r: (x.tile(2), x.tile((2, 1, 2)), x.repeat_interleave(2),
                        x.repeat_interleave(r, dim=0), gv.repeat_interleave(x, 3, dim=1)),
          lambda x, r: (x.tile(2), x.tile((2, 1, 2)), x.repeat_interleave(2),
                        x.repeat_interleave(r, dim=0), torch.repeat_interleave(x, 3, dim=1)),
          fixed(Case([X((2, 3)), T(np.array([1, 2]))]), Case([X((2, 1)), T(np.array([0, 3]))]))),
    OpRow("kthvalue", (O.Gather,), lambda x, **k: x.kthvalue(**k), lambda x, **k: x.kthvalue(**k),
          fixed(Case([X((3, 5), "sep")], {"k": 2, "dim": 1}),
                Case([X((4, 2), "sep")], {"k": 4, "dim": 0, "keepdim": True}))),
    OpRow("unique_counts", (O.Unique,),
          lambda i: (*gv.unique(i, return_inverse=True, return_counts=True), gv.bincount(i),
                     gv.bincount(i, minlength=7), i.float().histc(bins=3)),
          lambda i: (*torch.unique(i, return_inverse=True, return_counts=True),
                     torch.bincount(i), torch.bincount(i, minlength=7), i.float().histc(bins=3)),
          fixed(Case([T(np.array([3, 1, 3, 0, 1, 3]))]), Case([T(np.array([5, 5, 2]))])),
          grad=False),
    OpRow("unique", (O.Unique,), _unique_forms(gv), _unique_forms(torch),
          fixed(Case([T(np.array([2.5, np.nan, -0.0, 1.0, np.nan, 0.0, 2.5]))]),
                Case([T(np.array(3.5))]), Case([T(np.zeros((0, 2)))]),
                Case([T(_ROWS)], {"dim": 0}), Case([T(_ROWS)], {"dim": 1}),
                Case([T(_ROWS.reshape(2, 2, 3))], {"dim": -1}),
                Case([T(_ROWS.reshape(2, 3, 2) > 0)], {"dim": 1}),
                Case([T(np.array([[0.5, -1.0], [0.0, 2.0], [0.5, -1.0], [-0.0, 2.0]]))],
                     {"dim": 0}),
                Case([T(np.zeros((0, 3)))], {"dim": 0}), Case([T(np.zeros((2, 0)))], {"dim": 1})),
          grad=False),
    OpRow("unfold", (gv.nn.ops.Unfold,), lambda x, **k: gv.nn.functional.unfold(x, **k),
          lambda x, **k: torch.nn.functional.unfold(x, **k),
          fixed(Case([X((2, 3, 5, 6))], {"kernel_size": 3}),
                Case([X((1, 2, 5, 6))], {"kernel_size": (2, 3), "stride": 2, "padding": 1,
                                         "dilation": (1, 2)}),
                Case([X((3, 4, 4))], {"kernel_size": 2, "stride": 2}))),
    OpRow("fold", (gv.nn.ops.Fold,), lambda c, **k: gv.nn.functional.fold(c, **k),
          lambda c, **k: torch.nn.functional.fold(c, **k),
          fixed(Case([X((2, 27, 12))], {"output_size": (5, 6), "kernel_size": 3}),
                Case([X((1, 12, 6))], {"output_size": (5, 6), "kernel_size": (2, 3),
                                        "stride": 2, "padding": 1, "dilation": (1, 2)}))),
    OpRow("tests", (O.Predicate, O.AnyAll), _tests, _torch_tests, _special(SHAPES),
          grad=False),
    OpRow("any_all_dims", (O.AnyAll,), lambda x, **k: (x > 0).any(**k),
          lambda x, **k: (x > 0).any(**k), reduce_dim(tuple_dims=True), grad=False),
    OpRow("sign", (O.Sign,), _m("sign"), _m("sign"), SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("sign_nan", (O.Sign,), _m("sign"), _m("sign"),   # torch: the sign of NaN is 0
          fixed(Case([T(np.array([np.nan, -2.0, 0.0, 3.0]))])), fd=False),
    OpRow("floor", (O.Floor,), gv.floor, torch.floor, SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("ceil", (O.Ceil,), _m("ceil"), _m("ceil"), SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("trunc", (O.Trunc,), _m("trunc"), _m("trunc"), SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("round", (O.Round,), _m("round"), _m("round"),
          st.one_of(SHAPES.map(lambda s: Case([X(s)])),
                    SHAPES.map(lambda s: Case([X(s)], {"decimals": 1})))),
    OpRow("div_floor", (O.DivRounded,), lambda a, b: a.div(b, rounding_mode="floor"),
          lambda a, b: a.div(b, rounding_mode="floor"), binary(db="nonzero", scalar=0.75),
          fd=False),   # zero gradient, as torch's (// has none: tests/test_fuzz_parity2.py)
    OpRow("div_trunc", (O.DivRounded,), lambda a, b: a.div(b, rounding_mode="trunc"),
          lambda a, b: a.div(b, rounding_mode="trunc"), binary(db="nonzero"), fd=False),
    OpRow("frac", (O.Frac,), _m("frac"), _m("frac"), SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("reciprocal", (O.Reciprocal,), gv.reciprocal, torch.reciprocal,
          SHAPES.map(lambda s: Case([X(s, "nonzero")]))),
    OpRow("square", (O.Pow,), _m("square"), _m("square"), SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("norm", (O.Norm,), _m("norm"), _m("norm"), norm_cases()),
    OpRow("norm_fn_zero", (O.Norm,), lambda x: gv.norm(x * 0.0), lambda x: torch.norm(x * 0.0),
          fixed(Case([X((3,))]))),   # the gradient at 0 is 0, as torch's
    OpRow("flip", (O.Flip,), lambda x, d: x.flip(d), lambda x, d: x.flip(d), flip_cases()),
    OpRow("flip_fn", (O.Flip,), lambda x: gv.flip(x, (0,)), lambda x: torch.flip(x, (0,)),
          fixed(Case([X((3, 2))]))),
    OpRow("sort", (O.Gather,), _m("sort"), _m("sort"),
          st.one_of(along_dim("sep"),
                    along_dim("sep").map(lambda c: Case(c.args, {**c.kw, "descending": True})))),
    OpRow("argsort", (), _m("argsort"), _m("argsort"), along_dim("sep"), grad=False),
    # NaN is larger than everything: last ascending, first descending (no fd through NaN)
    OpRow("sort_nan", (O.Gather,), _sort_forms(gv), _sort_forms(torch), fixed(*_SORT_NAN),
          fd=False),
    OpRow("topk_nan", (O.Gather,), lambda x, m: (*(x + m).topk(2), *(x + m).topk(2, 0, False)),
          lambda x, m: (*(x + m).topk(2), *(x + m).topk(2, 0, False)), fixed(*_TOPK_NAN),
          fd=False),
    OpRow("sort_stable_ties", (O.Gather,),   # equal values keep their order, either way
          lambda x: (*gv.cat([x, x.flip(0), x]).sort(dim=0, stable=True),
                     *gv.cat([x, x.flip(0), x]).sort(dim=0, descending=True, stable=True)),
          lambda x: (*torch.cat([x, x.flip(0), x]).sort(dim=0, stable=True),
                     *torch.cat([x, x.flip(0), x]).sort(dim=0, descending=True, stable=True)),
          fixed(Case([X((3,))]), Case([X((2, 3))]))),
    OpRow("sort_ints_descending", (O.Gather,),   # no overflow at the int64 limits
          lambda i: (*i.sort(descending=True, stable=True), i.argsort(descending=True),
                     *(i > 2).sort(descending=True, stable=True),
                     *i.to(gv.uint8).sort(descending=True, stable=True)),
          lambda i: (*i.sort(descending=True, stable=True), i.argsort(descending=True),
                     *(i > 2).sort(descending=True, stable=True),
                     *i.to(torch.uint8).sort(descending=True, stable=True)),
          fixed(Case([T(_INTS)])), grad=False),
    # a median of data with NaN is NaN (and its index the first NaN's), as torch
    OpRow("median_kthvalue_nan", (O.Median, O.Gather),
          lambda x, m: ((x + m).median(), *(x + m).median(-1), *(x + m).kthvalue(3, 0)),
          lambda x, m: ((x + m).median(), *(x + m).median(-1), *(x + m).kthvalue(3, 0)),
          fixed(*_SORT_NAN[1:]), fd=False),
    OpRow("median_ties", (O.Median,), lambda x: gv.cat([x, x, x.flip(0)]).median(),
          lambda x: torch.cat([x, x, x.flip(0)]).median(),   # the equal values share dy
          fixed(Case([X((3,))]), Case([X((2, 2))]))),
    OpRow("topk", (O.Gather,), _m("topk"), _m("topk"), topk_cases()),
    OpRow("index_select", (O.Getitem,), lambda x, d, i: x.index_select(d, i),
          lambda x, d, i: x.index_select(d, i), index_select_cases()),
    OpRow("masked_select", (O.Getitem,), lambda x, m: gv.masked_select(x, m),
          lambda x, m: torch.masked_select(x, m),
          fixed(Case([X((3, 4)), T(np.array([True, False, True, True]))]),
                Case([X((2, 3)), T(np.array([[True, False, False], [False, True, True]]))]),
                Case([X((2, 1)), T(np.array([[True, False, True]]))]))),
    OpRow("narrow", (O.Getitem,), lambda x, d, s, n: x.narrow(d, s, n),
          lambda x, d, s, n: x.narrow(d, s, n), narrow_cases()),
]
