"""Op table rows with complex inputs (``Z``): the complex ops and every op that accepts complex.

Gradients are torch's (dL/dRe + i dL/dIm); test_ops.py also checks them by finite
differences along random complex directions. Branch cuts (log, angle) are avoided with
the "nonzero" domain, whose real and imaginary parts are both away from 0.
"""
import numpy as np
import torch
from hypothesis import strategies as st
from op_table import SHAPES, C, Case, OpRow, T, X, Z, binary, fixed, reduce_dim
from op_table_reduce import var_cases

import gradviz as gv
from gradviz.engine import ops as O


def _zz(da="real", db="real"):
    """Two broadcastable complex inputs."""
    return binary(da, db).map(lambda c: Case([Z(c.args[0].shape, c.args[0].domain),
                                              Z(c.args[1].shape, c.args[1].domain)]))


def _zx(da="real", db="real"):
    """A complex and a real input, broadcastable (real-input gradients are Re(...))."""
    return binary(da, db).map(lambda c: Case([Z(c.args[0].shape, c.args[0].domain),
                                              c.args[1]]))


def _z(domain="real", **kw):
    return SHAPES.map(lambda s: Case([Z(s, domain)], dict(kw)))


def _zdim():
    return reduce_dim().map(lambda c: Case([Z(c.args[0].shape)], c.kw))


def _zvar():
    """var/std cases (every reduced dim has >= 2 elements) on a complex input."""
    return var_cases().map(lambda c: Case([Z(c.args[0].shape)], c.kw))


def _m(name, *args):
    return lambda x, **k: getattr(x, name)(*args, **k)


def _rope(lib, cast=True):
    """The LLaMA rotary-embedding idiom, as written for torch (``cast``: with its
    ``xq.float()``, which makes the float64 run partly float32: no finite differences)."""
    def f(xq, freqs):
        freqs_cis = lib.polar(lib.ones_like(freqs), freqs)
        xq = xq.float() if cast else xq
        xq_ = lib.view_as_complex(xq.reshape(*xq.shape[:-1], -1, 2))
        return lib.view_as_real(xq_ * freqs_cis).flatten(3)
    return f


_MM = fixed(Case([Z((3, 4)), Z((4, 2))]), Case([Z((4,)), Z((4, 3))]), Case([Z((2, 3)), Z((3,))]),
            Case([Z((2, 2, 3)), Z((3, 2))]))   # torch refuses complex @ real

_ROPE = fixed(Case([X((2, 3, 2, 4)), X((3, 1, 2))]), Case([X((1, 4, 3, 6)), X((4, 1, 3))]))

ROWS = [
    OpRow("c_add", (O.Add,), lambda a, b: a + b, lambda a, b: a + b, _zz()),
    OpRow("c_add_real", (O.Add,), lambda a, b: a + b, lambda a, b: a + b, _zx()),
    OpRow("c_sub", (O.Sub,), lambda a, b: a - b, lambda a, b: a - b, _zx()),
    OpRow("c_rsub", (O.Sub,), lambda a: 1.5 - a, lambda a: 1.5 - a, _z()),
    OpRow("c_mul", (O.Mul,), lambda a, b: a * b, lambda a, b: a * b, _zz()),
    OpRow("c_mul_real", (O.Mul,), lambda a, b: b * a, lambda a, b: b * a, _zx()),
    OpRow("c_mul_scalar", (O.Mul,), lambda a, s: a * s, lambda a, s: a * s,
          st.one_of(_z().map(lambda c: Case(c.args + [C(2.5)])),
                    _z().map(lambda c: Case(c.args + [C(1 - 2j)])))),
    OpRow("c_real_times_complex_scalar", (O.Mul,), lambda x: (1 + 2j) * x,
          lambda x: (1 + 2j) * x, SHAPES.map(lambda s: Case([X(s)]))),
    OpRow("c_div", (O.Div,), lambda a, b: a / b, lambda a, b: a / b, _zz("real", "nonzero")),
    OpRow("c_div_real", (O.Div,), lambda a, b: b / a, lambda a, b: b / a,
          _zx("nonzero", "real")),
    OpRow("c_neg", (O.Neg,), lambda a: -a, lambda a: -a, _z()),
    OpRow("c_pow_scalar", (O.Pow,), lambda a, p: a ** p, lambda a, p: a ** p,
          st.one_of(_z().map(lambda c: Case(c.args + [C(2)])),
                    _z().map(lambda c: Case(c.args + [C(3.0)])),
                    _z("nonzero").map(lambda c: Case(c.args + [C(-1)])))),
    OpRow("c_exp", (O.Exp,), _m("exp"), _m("exp"), _z()),
    OpRow("c_log", (O.Log,), _m("log"), _m("log"), _z("nonzero")),
    OpRow("c_abs", (O.Abs,), _m("abs"), _m("abs"), _z("nonzero")),
    OpRow("c_sin", (O.Sin,), _m("sin"), _m("sin"), _z()),
    OpRow("c_cos", (O.Cos,), _m("cos"), _m("cos"), _z()),
    OpRow("c_tan", (O.Tan,), _m("tan"), _m("tan"), _z("unit")),      # poles at +-pi/2
    OpRow("c_tanh", (O.Tanh,), _m("tanh"), _m("tanh"), _z("unit")),  # poles at +-i pi/2
    OpRow("c_sinh", (O.Sinh,), _m("sinh"), _m("sinh"), _z()),
    OpRow("c_cosh", (O.Cosh,), _m("cosh"), _m("cosh"), _z()),
    OpRow("c_sqrt", (O.Sqrt,), _m("sqrt"), _m("sqrt"), _z("nonzero")),   # off the branch cut
    OpRow("c_rsqrt", (O.Rsqrt,), _m("rsqrt"), _m("rsqrt"), _z("nonzero")),
    OpRow("c_sigmoid", (O.Sigmoid,), _m("sigmoid"), _m("sigmoid"), _z()),
    OpRow("c_reciprocal", (O.Reciprocal,), _m("reciprocal"), _m("reciprocal"), _z("nonzero")),
    OpRow("c_square", (O.Pow,), _m("square"), _m("square"), _z()),
    OpRow("c_log2_log10", (O.Log2, O.Log10), lambda z: (z.log2(), z.log10()),
          lambda z: (z.log2(), z.log10()), _z("nonzero")),
    # the inverse functions' branch cuts lie on the axes beyond +-1 (+-i): "unit" stays inside
    OpRow("c_asin", (O.Asin,), _m("asin"), _m("asin"), _z("unit")),
    OpRow("c_acos", (O.Acos,), _m("acos"), _m("acos"), _z("unit")),
    OpRow("c_atan", (O.Atan,), _m("atan"), _m("atan"), _z("unit")),
    OpRow("c_asinh", (O.Asinh,), _m("asinh"), _m("asinh"), _z("unit")),
    OpRow("c_atanh", (O.Atanh,), _m("atanh"), _m("atanh"), _z("unit")),
    # acosh's cut is the real axis below 1: "nonzero" keeps |Im| >= 0.5, in all four quadrants
    # (where Re z < 0, 1 / sqrt(z^2 - 1) has the wrong sign)
    OpRow("c_acosh", (O.Acosh,), lambda z: (z.acosh(), gv.arccosh(z)),
          lambda z: (z.acosh(), torch.arccosh(z)), _z("nonzero")),
    OpRow("c_log1p", (O.Log1p,), _m("log1p"), _m("log1p"), _z("unit")),   # cut: z < -1
    OpRow("c_expm1", (O.Expm1,), _m("expm1"), _m("expm1"), _z()),
    OpRow("c_exp2", (O.Mul, O.Exp), lambda z: (z.exp2(), gv.exp2(z)),
          lambda z: (z.exp2(), torch.exp2(z)), _z()),
    OpRow("c_sgn", (O.Sgn,), lambda z: (z.sgn(), gv.sgn(z)), lambda z: (z.sgn(), torch.sgn(z)),
          _z("nonzero")),
    OpRow("c_var", (O.Var,), _m("var"), _m("var"), _zvar()),
    OpRow("c_std", (O.Std,), _m("std"), _m("std"), _zvar()),
    OpRow("c_angle", (O.Angle,), _m("angle"), _m("angle"), _z("nonzero")),
    OpRow("angle_real", (O.Angle,), gv.angle, torch.angle,
          SHAPES.map(lambda s: Case([X(s, "nonzero")]))),
    OpRow("c_real_imag", (O.Real, O.Imag), lambda z: (z.real, z.imag),
          lambda z: (z.real, z.imag), _z()),
    OpRow("c_real_fn", (O.Real,), gv.real, torch.real, _z()),
    OpRow("c_conj", (O.Conj,), lambda z: (z.conj().resolve_conj(), gv.conj_physical(z)),
          lambda z: (z.conj().resolve_conj(), torch.conj_physical(z)), _z()),
    OpRow("c_sum", (O.Sum,), _m("sum"), _m("sum"), _zdim()),
    OpRow("c_mean", (O.Mean,), _m("mean"), _m("mean"), _zdim()),
    OpRow("c_matmul", (O.Matmul,), lambda a, b: a @ b, lambda a, b: a @ b, _MM),
    OpRow("c_dot_vdot", (O.Matmul, O.Conj),   # vdot conjugates its first vector
          lambda a, b: (gv.dot(a, b), gv.vdot(a, b), a.vdot(b)),
          lambda a, b: (torch.dot(a, b), torch.vdot(a, b), a.vdot(b)),
          fixed(Case([Z((3,)), Z((3,))]), Case([Z((1,)), Z((1,))]))),
    OpRow("c_shape", (O.Reshape, O.View, O.Flatten, O.Unsqueeze, O.Transpose, O.Permute),
          lambda z: (z.reshape(3, 4), z.view(4, 3), z.flatten(), z.unsqueeze(1),
                     z.transpose(0, 2), z.permute(2, 0, 1)),
          lambda z: (z.reshape(3, 4), z.view(4, 3), z.flatten(), z.unsqueeze(1),
                     z.transpose(0, 2), z.permute(2, 0, 1)),
          fixed(Case([Z((2, 3, 2))]))),
    OpRow("c_getitem", (O.Getitem,), lambda z: (z[1], z[:, ::2], z[..., None, -1], z[[0, 2, 0]]),
          lambda z: (z[1], z[:, ::2], z[..., None, -1], z[[0, 2, 0]]),
          fixed(Case([Z((3, 4))]))),
    OpRow("c_copies", (O.Expand, O.Clone, O.Contiguous),
          lambda z: (z.expand(2, *z.shape), z.clone(), z.transpose(0, 1).contiguous()),
          lambda z: (z.expand(2, *z.shape), z.clone(), z.transpose(0, 1).contiguous()),
          fixed(Case([Z((3, 4))]), Case([Z((2, 3))]))),
    OpRow("c_where", (O.Where,), gv.where, torch.where,
          fixed(Case([T(np.array([[True], [False]])), Z((2, 3)), Z((3,))]),
                Case([T(np.array(True)), Z(()), Z((3,))]))),
    OpRow("c_cat_stack", (O.Cat, O.Stack), lambda a, b: (gv.cat([a, b]), gv.stack([a, b], 1)),
          lambda a, b: (torch.cat([a, b]), torch.stack([a, b], 1)),
          fixed(Case([Z((2, 3)), Z((2, 3))]))),
    OpRow("c_type_as", (O.Cast, O.Mul), lambda x, z: x.type_as(z) * z,
          lambda x, z: x.type_as(z) * z, fixed(Case([X((2, 3)), Z((2, 3))]),
                                                Case([X(()), Z((3,))]))),
    OpRow("c_complex", (O.Complex,), gv.complex, torch.complex, binary()),
    OpRow("c_polar", (O.Polar,), gv.polar, torch.polar, binary("pos", "real")),
    OpRow("c_view_as_real", (O.ViewAsReal,), gv.view_as_real, torch.view_as_real, _z()),
    OpRow("c_view_as_complex", (O.ViewAsComplex,), gv.view_as_complex, torch.view_as_complex,
          st.one_of(fixed(Case([X((2,))])), SHAPES.map(lambda s: Case([X(s + (2,))])))),
    OpRow("c_rope", (O.Polar, O.ViewAsComplex, O.ViewAsReal, O.Mul, O.Flatten), _rope(gv),
          _rope(torch), _ROPE, fd=False, tol={"float64": (1e-6, 1e-5)}),
    OpRow("c_rope_f64", (O.Polar, O.ViewAsComplex, O.ViewAsReal, O.Mul, O.Flatten),
          _rope(gv, cast=False), _rope(torch, cast=False), _ROPE),
]
