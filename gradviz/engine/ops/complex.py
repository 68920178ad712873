"""Complex-number ops, and the list of ops that accept complex inputs.

Gradients follow torch's convention: for a real loss L the gradient of a complex tensor
z = x + iy is ``dL/dx + i dL/dy`` (the conjugate Wirtinger derivative), so a holomorphic
op f sends ``grad_out * conj(f'(z))`` back, and a real input of a complex output gets the
real part of that (the engine takes it). Every other op refuses complex inputs with an
error naming it (``Function.complex_ok``), instead of dropping the imaginary part.
The ``rule`` texts the debugger shows (filled in with numbers) stay written for real
tensors, as students read them: for complex inputs each factor is conjugated.

Ops that accept complex inputs (``COMPLEX_OPS``): the ones here (``Sgn``: torch's complex
sign z / |z|); + - * / neg pow exp log abs where; sin cos tan sinh cosh tanh, their inverses
(asin acos atan asinh acosh atanh), sqrt rsqrt sigmoid reciprocal, log2 log10 log1p expm1
(a complex exp2 is exp(z ln 2): Mul, Exp); sum mean var std; matmul (both operands of one
dtype, as torch); reshape and its views, transpose permute expand cat stack, indexing,
index_add, casts and copies; and the FFTs (ops/fft.py marks its own).
"""
import math

import numpy as np

from ...errors import GradvizError
from ..function import Function
from .graph_xp import _gxp
from .util import shape_of, unbroadcast

__all__ = ["Real", "Imag", "Conj", "Angle", "Sgn", "Complex", "Polar", "ViewAsReal",
           "ViewAsComplex"]


class Real(Function):
    rule = "dz = dy (+ 0i)"

    def forward(ctx, z):
        return z.real   # a view, as torch's (Tensor.real guards writes when grads flow)

    def backward(ctx, g):
        return g


class Imag(Function):
    rule = "dz = i dy"

    def forward(ctx, z):
        return z.imag

    def backward(ctx, g):
        return g * 1j


class Conj(Function):
    rule = "dz = conj(dy)"   # node ConjBackward0, as torch's z.conj()

    def forward(ctx, z):
        return z.conj()

    def backward(ctx, g):
        return g.conj()


class Angle(Function):
    rule = "dz = dy * i z / |z|^2 (0 at z = 0; a real input gets 0)"

    def forward(ctx, z):
        xp = ctx.xp
        ctx.save_for_backward(z)
        if z.dtype.kind == "c":
            return xp.angle(z)
        # torch: pi for negative reals, 0 otherwise (NaN stays NaN)
        return xp.where(z < 0, math.pi, xp.where(z == z, 0.0, z)).astype(z.dtype)

    def backward(ctx, g):
        xp = ctx.xp
        z = ctx.saved[0]
        if z.dtype.kind != "c":
            return g * 0   # torch: zeros (the graph namespace of double backward has no
                           # zeros_like; g is finite where this matters)
        mag2 = (z * z.conj()).real
        safe = xp.where(mag2 == 0, 1, mag2)
        return xp.where(mag2 == 0, 0, g * 1j * z / safe)


class Sgn(Function):
    rule = "dz = (dy - s Re(dy conj(s))) / |z|, s = z / |z| (0 at z = 0)"

    def forward(ctx, z):
        xp = ctx.xp
        mag = xp.abs(z)
        s = xp.where(mag == 0, 0, z / xp.where(mag == 0, 1, mag))
        ctx.save_for_backward(z, s)
        return s

    def backward(ctx, g):
        # only the part of dy along the unit circle's tangent moves s = z / |z|
        xp = ctx.xp
        z, s = ctx.saved
        mag = xp.abs(z)
        tangent = g - s * (g * s.conj()).real
        return xp.where(mag == 0, 0, tangent / xp.where(mag == 0, 1, mag))


def _floating_pair(name, a, b):
    if a.dtype != b.dtype or a.dtype.kind != "f" or a.dtype.itemsize < 4:
        raise GradvizError(f"{name}(): expected both inputs to be float32 or float64 tensors "
                           f"of one dtype, got {a.dtype} and {b.dtype}")


class Complex(Function):
    rule = "dreal = Re(dz) ; dimag = Im(dz)"

    def forward(ctx, real, imag):
        _floating_pair("complex", real, imag)
        ctx.shapes = shape_of(real), shape_of(imag)
        return real + imag * (1j if real.dtype.itemsize == 8 else np.complex64(1j))

    def backward(ctx, g):
        nr, ni = ctx.needs_input_grad
        sr, si = ctx.shapes
        xp = ctx.xp
        return (unbroadcast(xp, g.real, sr) if nr else None,
                unbroadcast(xp, g.imag, si) if ni else None)


class Polar(Function):
    rule = "dabs = Re(dz * conj(e^(i angle))) ; dangle = Re(dz * conj(i z))"

    def forward(ctx, r, theta):
        _floating_pair("polar", r, theta)
        out = r * _unit(ctx.xp, theta)
        ctx.save_for_backward(theta, out)   # inputs and output: double backward sees them
        ctx.shapes = shape_of(r), shape_of(theta)
        return out

    def backward(ctx, g):
        theta, out = ctx.saved
        unit = _unit(ctx.xp, theta)
        nr, nt = ctx.needs_input_grad
        sr, st = ctx.shapes
        xp = ctx.xp
        return (unbroadcast(xp, (g * unit.conj()).real, sr) if nr else None,
                unbroadcast(xp, (g * (out * 1j).conj()).real, st) if nt else None)


def _unit(xp, theta):
    """cos(theta) + i sin(theta), complex64 for a float32 theta."""
    return xp.cos(theta) + xp.sin(theta) * (1j if theta.dtype.itemsize == 8
                                            else np.complex64(1j))


class ViewAsReal(Function):
    rule = "dz = dy[..., 0] + i dy[..., 1]"

    def forward(ctx, z):
        if z.dtype.kind != "c":
            raise GradvizError("view_as_real is only supported for complex tensors")
        return ctx.xp.stack([z.real, z.imag], axis=-1)   # a copy (torch: a view)

    def backward(ctx, g):
        return g[..., 0] + g[..., 1] * 1j


class ViewAsComplex(Function):
    rule = "dx = stack(Re(dz), Im(dz), -1)"

    def forward(ctx, x):
        if x.dtype.kind != "f" or x.dtype.itemsize < 4:
            raise GradvizError("view_as_complex is only supported for float32 and float64 "
                               f"tensors, but got a tensor of scalar type: {x.dtype}")
        if x.ndim == 0 or x.shape[-1] != 2:
            raise GradvizError("Tensor must have a last dimension of size 2")
        out = ctx.xp.empty(x.shape[:-1], dtype="complex128" if x.dtype.itemsize == 8
                           else "complex64")
        out.real = x[..., 0]
        out.imag = x[..., 1]
        return out

    def backward(ctx, g):
        return _gxp(ctx.xp).concatenate([g.real[..., None], g.imag[..., None]], axis=-1)


def _allow_complex():
    """Mark the ops whose forward and backward are right for complex inputs (the rest raise
    a GradvizError naming the op when given one)."""
    from . import convert, elementwise as E, index, linalg, math_fns as M, reduce, shape
    ok = (Real, Imag, Conj, Angle, Sgn, ViewAsReal, E.Add, E.Sub, E.Mul, E.Div, E.Neg,
          E.Pow, E.Exp, E.Log, E.Log1p, E.Abs, E.Where, E.Sin, E.Cos, E.Tanh, E.Sqrt,
          E.Rsqrt, E.Sigmoid, E.Reciprocal, M.Tan, M.Sinh, M.Cosh, M.Asin, M.Acos, M.Atan,
          M.Asinh, M.Acosh, M.Atanh, M.Log2, M.Log10, M.Expm1, reduce.Sum, reduce.Mean,
          reduce.Var, reduce.Std, linalg.Matmul, shape.Reshape, shape.Transpose, shape.Permute,
          shape.Expand, shape.Cat, shape.Stack,
          index.Getitem, index.IndexAdd, convert.Cast, convert.Clone, convert.Contiguous,
          convert.ToDevice)   # Reshape's subclasses (View, Flatten, Squeeze ...) inherit it
    for cls in ok:
        cls.complex_ok = True
    return ok


COMPLEX_OPS = _allow_complex()
