"""The op test table: one or more rows per Function class, checked against torch by test_ops.py.

A row says how to call an op in gradviz and in torch and which inputs to draw.
Other files add rows the same way: make a module ``tests/op_table_<topic>.py``
that defines ``ROWS = [OpRow(...), ...]`` (import the helpers from here);
test_ops.py collects every ``op_table*.py`` module and fails when a gradviz
Function class has no row.

Inputs of a case:
- ``X(shape, domain)``: a float tensor that requires grad (its values drawn from
  ``domain``: "real" (-2, 2), "pos" (0.5, 2), "unit" (-0.9, 0.9), "nonzero"
  ±(0.5, 2), "sep" (well separated, no ties: for max/min/sort-like ops));
- ``Z(shape, domain)``: a complex input that requires grad, real and imaginary parts each
  drawn from ``domain`` (complex64 in the float32 run, complex128 in the float64 one);
- ``T(array)``: a tensor that needs no grad (indices, masks), same values both sides;
- ``C(value)``: a Python constant passed as it is (a scalar, a tuple...).
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradviz as gv
from gradviz.engine import ops as O


@dataclass(frozen=True)
class X:
    """A differentiable float input of ``shape`` with values from ``domain``."""

    shape: tuple
    domain: str = "real"


@dataclass(frozen=True)
class Z:
    """A differentiable complex input of ``shape``; both parts' values from ``domain``."""

    shape: tuple
    domain: str = "real"


@dataclass(frozen=True)
class T:
    """A tensor input that needs no grad (int indices, bool masks)."""

    value: Any


@dataclass(frozen=True)
class C:
    """A constant passed unchanged to both libraries."""

    value: Any


@dataclass
class Case:
    """One call: positional inputs (X/T/C) and keyword arguments."""

    args: list
    kw: dict = field(default_factory=dict)


@dataclass
class OpRow:
    """One table row: ``gv(*args, **kw)`` must match ``th(*args, **kw)`` on every case."""

    name: str                   # test id
    fns: tuple                  # Function classes this row exercises (checked by events)
    gv: Callable
    th: Callable
    cases: Any                  # a hypothesis strategy of Case
    grad: bool = True           # compare gradients (and finite differences)
    fd: bool = True             # float64 finite-difference check
    dtypes: tuple = ("float32", "float64")
    tol: dict = field(default_factory=dict)   # per-dtype overrides {"float32": (atol, rtol)}


# ---- value generation ---------------------------------------------------------------------
def values(rng, shape, domain):
    """float64 values of ``shape`` from ``domain``."""
    return np.asarray(_values(rng, shape, domain), dtype=np.float64)


COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


def draw(rng, spec):
    """An input's values: float64 for ``X``, complex128 for ``Z``, a T/C spec's own value."""
    if isinstance(spec, Z):
        return np.asarray(values(rng, spec.shape, spec.domain)
                          + 1j * values(rng, spec.shape, spec.domain))
    return values(rng, spec.shape, spec.domain) if isinstance(spec, X) else spec.value


def input_dtype(spec, dt):
    """The dtype of a drawn X (``dt``) or Z (its complex twin) in the ``dt`` run."""
    return COMPLEX_OF[dt] if isinstance(spec, Z) else dt


def _values(rng, shape, domain):
    if domain == "real":
        return rng.uniform(-2.0, 2.0, shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "nonzero":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "sep":  # a random permutation of well-separated values: no ties
        n = int(np.prod(shape, dtype=np.int64))
        return (rng.permutation(n) * 0.25 - n * 0.125).reshape(shape).astype(np.float64)
    raise ValueError(f"unknown domain {domain!r}")


# ---- case strategies ------------------------------------------------------------------------
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SHAPES_ND = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def fixed(*cases):
    """A strategy choosing among hand-written cases."""
    return st.sampled_from(list(cases))


def unary(domain="real", **kw):
    """One input of any shape (0-d, size-1 dims included)."""
    return SHAPES.map(lambda s: Case([X(s, domain)], dict(kw)))


def binary(da="real", db="real", scalar=None):
    """Two mutually broadcastable inputs; ``scalar`` adds cases with a Python number as b."""
    pair = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
    tensors = pair.map(lambda bs: Case([X(bs.input_shapes[0], da), X(bs.input_shapes[1], db)]))
    if scalar is None:
        return tensors
    return st.one_of(tensors, SHAPES.map(lambda s: Case([X(s, da), C(scalar)])))


@st.composite
def reduce_dim(draw, domain="real", dims=True, none=True, keepdim=True, tuple_dims=False):
    """One input of ≥1 dims and a ``dim`` (int, tuple or None) with ``keepdim``."""
    shape = draw(SHAPES_ND)
    nd = len(shape)
    choices = []
    if none:
        choices.append(st.none())
    if dims:
        choices.append(st.integers(-nd, nd - 1))
    if tuple_dims:
        choices.append(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)
                       .map(tuple))
    dim = draw(st.one_of(*choices))
    kw = {}
    if dim is not None:
        kw["dim"] = dim
    if keepdim and dim is not None:
        kw["keepdim"] = draw(st.booleans())
    return Case([X(shape, domain)], kw)


@st.composite
def along_dim(draw, domain="real"):
    """One input of ≥1 dims and one int ``dim`` (softmax, cumsum...)."""
    shape = draw(SHAPES_ND)
    return Case([X(shape, domain)], {"dim": draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def where_cases(draw):
    """A bool condition and two inputs, all three mutually broadcastable."""
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                max_side=4))
    cond = draw(hnp.arrays(np.bool_, bs.input_shapes[0]))
    return Case([T(cond), X(bs.input_shapes[1]), X(bs.input_shapes[2])])


# ---- rows: elementwise ---------------------------------------------------------------------
def _u(name, cls, domain="real", method=None):
    method = method or name
    return OpRow(name, (cls,), lambda x: getattr(x, method)(),
                 lambda x: getattr(x, method)(), unary(domain))


ROWS = [
    OpRow("add", (O.Add,), lambda a, b: a + b, lambda a, b: a + b, binary(scalar=3)),
    OpRow("radd_alpha", (O.Add, O.Mul), lambda a, b: gv.add(a, b, alpha=2),
          lambda a, b: torch.add(a, b, alpha=2), binary()),
    OpRow("sub", (O.Sub,), lambda a, b: a - b, lambda a, b: a - b, binary(scalar=1.5)),
    OpRow("rsub", (O.Sub,), lambda a: 2.5 - a, lambda a: 2.5 - a, unary()),
    OpRow("mul", (O.Mul,), lambda a, b: a * b, lambda a, b: a * b, binary(scalar=3)),
    OpRow("rmul", (O.Mul,), lambda a: 0.5 * a, lambda a: 0.5 * a, unary()),
    OpRow("div", (O.Div,), lambda a, b: a / b, lambda a, b: a / b,
          binary("real", "nonzero", scalar=4)),
    OpRow("rdiv", (O.Div,), lambda a: 2 / a, lambda a: 2 / a, unary("nonzero")),
    OpRow("pow_scalar", (O.Pow,), lambda a, p: a ** p, lambda a, p: a ** p,
          st.one_of(SHAPES.map(lambda s: Case([X(s), C(2)])),
                    SHAPES.map(lambda s: Case([X(s, "pos"), C(0.5)])),
                    SHAPES.map(lambda s: Case([X(s, "nonzero"), C(-3)])))),
    OpRow("pow_tensor", (O.Pow,), lambda a, b: gv.pow(a, b), lambda a, b: torch.pow(a, b),
          binary("pos", "real")),
    OpRow("rpow", (O.Pow,), lambda a: 2 ** a, lambda a: 2 ** a, unary()),
    OpRow("neg", (O.Neg,), lambda a: -a, lambda a: -a, unary()),
    _u("abs", O.Abs, "nonzero"),
    _u("exp", O.Exp),
    _u("log", O.Log, "pos"),
    _u("log1p", O.Log1p, "unit"),
    _u("sqrt", O.Sqrt, "pos"),
    _u("rsqrt", O.Rsqrt, "pos"),
    _u("sin", O.Sin),
    _u("cos", O.Cos),
    _u("tanh", O.Tanh),
    _u("sigmoid", O.Sigmoid),
    _u("relu", O.Relu, "nonzero"),
    OpRow("sigmoid_fn", (O.Sigmoid,), gv.sigmoid, torch.sigmoid, unary()),
    OpRow("clamp", (O.Clamp,), lambda a, **k: a.clamp(**k), lambda a, **k: a.clamp(**k),
          st.one_of(unary(min=-0.5, max=0.7), unary(min=0.3), unary(max=-0.2))),
    OpRow("clip_fn", (O.Clamp,), lambda a: gv.clip(a, -1, 1), lambda a: torch.clip(a, -1, 1),
          unary()),
    OpRow("clamp_tensor", (O.Where,), lambda a, lo, hi: a.clamp(lo, hi),
          lambda a, lo, hi: a.clamp(lo, hi),
          fixed(Case([X((3, 4)), X((4,), "unit"), X((3, 1), "pos")]))),
    OpRow("maximum", (O.Maximum,), gv.maximum, torch.maximum, binary()),
    OpRow("minimum", (O.Minimum,), gv.minimum, torch.minimum, binary()),
    OpRow("max_binary", (O.Maximum,), lambda a, b: a.max(b), lambda a, b: a.max(b), binary()),
    OpRow("where", (O.Where,), gv.where, torch.where, where_cases()),
    OpRow("where_scalar", (O.Where,), lambda c, a: gv.where(c, a, 0.0),
          lambda c, a: torch.where(c, a, 0.0),
          fixed(Case([T(np.array([[True], [False]])), X((2, 3))]))),
    OpRow("masked_fill", (O.MaskedFill,), lambda a, m: a.masked_fill(m, -1.5),
          lambda a, m: a.masked_fill(m, -1.5),
          fixed(Case([X((3, 4)), T(np.array([True, False, True, False]))]),
                Case([X((2, 3)), T(np.array([[True, False, False], [False, True, True]]))]),
                Case([X(()), T(np.array(True))]))),
    OpRow("masked_fill_fn", (O.MaskedFill,), lambda a, m: gv.masked_fill(a, m, 2.0),
          lambda a, m: torch.masked_fill(a, m, 2.0),
          fixed(Case([X((2, 1)), T(np.array([[True], [False]]))]))),
    OpRow("compare", (O.Compare,),
          lambda a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b,
                        a.eq(b), a.ne(1.0), gv.lt(a, b), a.le(b), gv.gt(a, b), a.ge(0.5)),
          lambda a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b,
                        a.eq(b), a.ne(1.0), torch.lt(a, b), a.le(b), torch.gt(a, b), a.ge(0.5)),
          binary(), grad=False),
    OpRow("compare_self", (O.Compare,), lambda a: (a == a, a >= 1.0, a.lt(a)),
          lambda a: (a == a, a >= 1.0, a.lt(a)), unary(), grad=False),
]
