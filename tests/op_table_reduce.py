"""Op table rows: reductions, normalisers (softmax...), running reductions (cumsum, cummax,
logcumsumexp...), matrix products."""
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SHAPES_ND, Case, OpRow, T, X, along_dim, fixed, reduce_dim

import gradviz as gv
from gradviz.engine import ops as O


def _m(name):
    """Call the method ``name`` with the case's keyword arguments (same text both sides)."""
    return lambda x, **k: getattr(x, name)(**k)


@st.composite
def var_cases(draw):
    """var/std: every reduced dim has ≥2 elements (no zero degrees of freedom)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    nd = len(shape)
    kw = {}
    dim = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                         st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd,
                                  unique=True).map(tuple)))
    if dim is not None:
        kw["dim"] = dim
        kw["keepdim"] = draw(st.booleans())
    how = draw(st.sampled_from(["default", "unbiased", "correction"]))
    if how == "unbiased":
        kw["unbiased"] = draw(st.booleans())
    elif how == "correction":
        kw["correction"] = draw(st.sampled_from([0, 1]))
    return Case([X(shape)], kw)


@st.composite
def max_dim_cases(draw):
    """max/min(dim) → (values, indices) on tie-free values."""
    shape = draw(SHAPES_ND)
    nd = len(shape)
    return Case([X(shape, "sep")], {"dim": draw(st.integers(-nd, nd - 1)),
                                    "keepdim": draw(st.booleans())})


def _mask(rows):
    """A bool mask input."""
    return T(np.array(rows))


# (x, m): x + m has NaN or ±inf where m does
_RUN_NAN = [Case([X((5,)), T(np.array([0.0, np.nan, 0.0, np.nan, 0.0]))]),
            Case([X((5, 2)), T(np.array([[0.0, 0.0], [0.0, np.nan], [np.nan, 0.0], [0.0, 0.0],
                                         [0.0, np.nan]]))]),
            Case([X((4,)), T(np.array([np.nan, 0.0, 0.0, 0.0]))])]
_RUN_INF = [Case([X((4,)), T(np.array([-np.inf, -np.inf, 0.0, -np.inf]))]),
            Case([X((3, 2)), T(np.array([[np.inf, 0.0], [0.0, -np.inf], [-np.inf, 0.0]]))])]

_MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 1), (1, 1)),
           ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 2, 3), (3, 3, 2)),
           ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2))]

ROWS = [
    OpRow("sum", (O.Sum,), _m("sum"), _m("sum"), reduce_dim(tuple_dims=True)),
    OpRow("sum_fn", (O.Sum,), lambda x: gv.sum(x), lambda x: torch.sum(x), fixed(
        Case([X(())]), Case([X((2, 3))]))),
    OpRow("sum_dtype", (O.Sum, O.Cast), lambda x: x.float().sum(dtype=gv.float64),
          lambda x: x.float().sum(dtype=torch.float64), fixed(Case([X((2, 3))])),
          fd=False),
    OpRow("mean", (O.Mean,), _m("mean"), _m("mean"), reduce_dim(tuple_dims=True)),
    OpRow("mean_fn", (O.Mean,), lambda x, **k: gv.mean(x, **k),
          lambda x, **k: torch.mean(x, **k), fixed(Case([X((3, 4))], {"dim": 1}))),
    OpRow("var", (O.Var,), _m("var"), _m("var"), var_cases()),
    OpRow("std", (O.Std,), _m("std"), _m("std"), var_cases()),
    OpRow("var_fn", (O.Var, O.Std), lambda x: (gv.var(x, 0), gv.std(x, dim=1)),
          lambda x: (torch.var(x, 0), torch.std(x, dim=1)), fixed(Case([X((3, 4))]))),
    OpRow("prod", (O.Prod,), _m("prod"), _m("prod"), reduce_dim("nonzero")),
    OpRow("prod_zero", (O.Prod,), lambda x, m, **k: x.masked_fill(m, 0.0).prod(**k),
          lambda x, m, **k: x.masked_fill(m, 0.0).prod(**k),
          fixed(Case([X((2, 3)), _mask([[True, False, False], [False, False, False]])], {}),
                Case([X((2, 3)), _mask([[True, False, True], [False, False, False]])],
                     {"dim": 1}),
                Case([X((4,)), _mask([False, True, False, False])], {"dim": 0}))),
    OpRow("max_all", (O.Amax,), lambda x: x.max(), lambda x: x.max(),
          SHAPES_ND.map(lambda s: Case([X(s, "sep")]))),
    OpRow("min_all", (O.Amin,), lambda x: gv.min(x), lambda x: torch.min(x),
          SHAPES_ND.map(lambda s: Case([X(s, "sep")]))),
    OpRow("max_dim", (O.MaxDim,), lambda x, **k: x.max(**k), lambda x, **k: x.max(**k),
          max_dim_cases()),
    OpRow("min_dim", (O.MinDim,), lambda x, **k: gv.min(x, **k),
          lambda x, **k: torch.min(x, **k), max_dim_cases()),
    OpRow("max_dim_positional", (O.MaxDim, O.MinDim),
          lambda x: (*x.max(1), *x.min(0, True)), lambda x: (*x.max(1), *x.min(0, True)),
          fixed(Case([X((3, 4), "sep")]))),
    OpRow("amax", (O.Amax,), _m("amax"), _m("amax"),
          reduce_dim("sep", none=False, tuple_dims=True)),
    OpRow("amin", (O.Amin,), _m("amin"), _m("amin"),
          reduce_dim("sep", none=False, tuple_dims=True)),
    OpRow("amax_ties", (O.Amax, O.Amin), lambda x: (x.clamp(max=0.5).amax(1),
                                                    x.clamp(min=-0.5).amin()),
          lambda x: (x.clamp(max=0.5).amax(1), x.clamp(min=-0.5).amin()),
          fixed(Case([X((3, 4))]))),
    OpRow("argmax", (O.Argmax,), _m("argmax"), _m("argmax"), reduce_dim("sep"), grad=False),
    OpRow("argmin", (O.Argmin,), _m("argmin"), _m("argmin"), reduce_dim("sep"), grad=False),
    OpRow("argmax_fn", (O.Argmax, O.Argmin), lambda x: (gv.argmax(x), gv.argmin(x, 0)),
          lambda x: (torch.argmax(x), torch.argmin(x, 0)),
          fixed(Case([X((3, 4), "sep")])), grad=False),
    OpRow("logsumexp", (O.Logsumexp,), lambda x, **k: x.logsumexp(**k),
          lambda x, **k: x.logsumexp(**k), reduce_dim(none=False, tuple_dims=True)),
    OpRow("logsumexp_fn", (O.Logsumexp,), lambda x: gv.logsumexp(x, 0),
          lambda x: torch.logsumexp(x, 0), fixed(Case([X((3,))]), Case([X((2, 1, 3))]))),
    OpRow("softmax", (O.Softmax,), _m("softmax"), _m("softmax"), along_dim()),
    OpRow("softmax_fn", (O.Softmax,), lambda x: gv.softmax(x, -1),
          lambda x: torch.softmax(x, -1), fixed(Case([X((2, 5))]))),
    OpRow("log_softmax", (O.LogSoftmax,), _m("log_softmax"), _m("log_softmax"), along_dim()),
    OpRow("log_softmax_fn", (O.LogSoftmax,), lambda x: gv.log_softmax(x, dim=0),
          lambda x: torch.log_softmax(x, dim=0), fixed(Case([X((4, 2))]))),
    OpRow("cumsum", (O.Cumsum,), _m("cumsum"), _m("cumsum"), along_dim()),
    OpRow("cumsum_fn", (O.Cumsum,), lambda x: gv.cumsum(x, 1), lambda x: torch.cumsum(x, 1),
          fixed(Case([X((2, 3))]))),
    OpRow("cummax", (O.Cummax, O.Gather), _m("cummax"), _m("cummax"), along_dim()),
    OpRow("cummin", (O.Cummin, O.Gather), lambda x, **k: gv.cummin(x, **k),
          lambda x, **k: torch.cummin(x, **k), along_dim()),
    # equal values: the index (and the gradient) goes to the last of them, as torch
    OpRow("cummax_ties", (O.Cummax, O.Cummin, O.Gather),
          lambda x: (*gv.cat([x, x.flip(0)]).cummax(0), *gv.cat([x.flip(0), x]).cummin(0),
                     *(x > 0).cummax(-1), *x.clamp(-0.5, 0.5).cummin(dim=-1)),
          lambda x: (*torch.cat([x, x.flip(0)]).cummax(0), *torch.cat([x.flip(0), x]).cummin(0),
                     *(x > 0).cummax(-1), *x.clamp(-0.5, 0.5).cummin(dim=-1)),
          fixed(Case([X((4,))]), Case([X((3, 2))]))),
    # once a NaN is seen it is the running max and min (no finite differences through NaN)
    OpRow("cummax_nan", (O.Cummax, O.Cummin, O.Gather),
          lambda x, m: (*(x + m).cummax(0), *gv.cummin(x + m, 0)),
          lambda x, m: (*(x + m).cummax(0), *torch.cummin(x + m, 0)), fixed(*_RUN_NAN),
          fd=False),
    OpRow("cummax_0d", (O.Cummax, O.Cummin), lambda x: (*x.cummax(0), *gv.cummin(x, -1)),
          lambda x: (*x.cummax(0), *torch.cummin(x, -1)), fixed(Case([X(())]))),
    OpRow("logcumsumexp", (O.Logcumsumexp,), _m("logcumsumexp"), _m("logcumsumexp"),
          st.one_of(along_dim(), fixed(Case([X(())], {"dim": 0}), Case([X(())], {"dim": -1})))),
    OpRow("logcumsumexp_large", (O.Logcumsumexp,),   # exp(800) overflows even float64
          lambda x: ((x + 1000).logcumsumexp(0), gv.logcumsumexp(x * 400, -1),
                     (x - 1000).logcumsumexp(-1)),
          lambda x: ((x + 1000).logcumsumexp(0), torch.logcumsumexp(x * 400, -1),
                     (x - 1000).logcumsumexp(-1)),
          fixed(Case([X((4,))]), Case([X((3, 2))]))),
    OpRow("logcumsumexp_inf", (O.Logcumsumexp,), lambda x, m: (x + m).logcumsumexp(0),
          lambda x, m: (x + m).logcumsumexp(0), fixed(*_RUN_INF, *_RUN_NAN), fd=False),
    OpRow("matmul", (O.Matmul,), lambda a, b: a @ b, lambda a, b: a @ b,
          fixed(*[Case([X(a), X(b)]) for a, b in _MATMUL])),
    OpRow("matmul_fn", (O.Matmul,), gv.matmul, torch.matmul,
          fixed(*[Case([X(a), X(b)]) for a, b in _MATMUL[:6]])),
    OpRow("mm", (O.Matmul,), lambda a, b: a.mm(b), lambda a, b: a.mm(b),
          fixed(Case([X((2, 3)), X((3, 4))]), Case([X((1, 1)), X((1, 5))]))),
    OpRow("bmm", (O.Matmul,), gv.bmm, torch.bmm,
          fixed(Case([X((2, 2, 3)), X((2, 3, 4))]), Case([X((1, 1, 1)), X((1, 1, 2))]))),
]

