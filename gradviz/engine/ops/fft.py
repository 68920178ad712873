"""Discrete Fourier transforms (torch.fft): one Function class per transform family.

Each op runs the n-dimensional transform over ``axes`` with signal lengths ``s`` (the input
is first cut or zero-padded to them, as in torch and NumPy). The transforms are linear, so
the gradient (torch's convention, dL/dRe + i dL/dIm) is the adjoint: the opposite transform
with the dual normalisation, then the cut or padding undone.
"""
import numpy as np

from ...errors import GradvizError
from ..backend import on_graph
from ..function import Function
from .graph_xp import _gxp

__all__ = ["FFT", "RFFT", "IRFFT"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _complex_of(dtype):
    return "complex128" if dtype in ("float64", "complex128") else "complex64"


def _resize(xp, a, axes, sizes):
    """``a`` cut or zero-padded (at the end) to ``sizes`` along ``axes``."""
    for ax, n in zip(axes, sizes):
        have = a.shape[ax]
        if have > n:
            a = a[(slice(None),) * ax + (slice(0, n),)]
        elif have < n:
            shape = list(a.shape)
            shape[ax] = n - have
            a = _gxp(xp).concatenate([a, xp.zeros(tuple(shape), dtype=a.dtype)], axis=ax)
    return a


def _fftn(xp, a, axes, norm, inverse):
    """The (inverse) c2c transform of a plain array or, under create_graph, of a Tensor."""
    if on_graph(xp):   # the op itself: its backward builds the next order
        return FFT.apply(a, s=tuple(a.shape[ax] for ax in axes), axes=axes, norm=norm,
                         inverse=inverse)
    fn = xp.fft.ifftn if inverse else xp.fft.fftn
    return fn(a, axes=axes, norm=norm).astype(_complex_of(a.dtype), copy=False)


class FFT(Function):
    rule = "dx = conj(F)^T dy: the opposite transform, dual norm, cut or padded back to x"
    complex_ok = True

    def forward(ctx, x, s, axes, norm, inverse):
        ctx.in_shape, ctx.axes, ctx.norm, ctx.inverse = x.shape, axes, norm, inverse
        ctx.real_in = x.dtype.kind != "c"
        fn = ctx.xp.fft.ifftn if inverse else ctx.xp.fft.fftn
        return fn(x, s=s, axes=axes, norm=norm).astype(_complex_of(x.dtype), copy=False)

    def backward(ctx, g):
        xp = ctx.xp
        gi = _fftn(xp, g, ctx.axes, _DUAL[ctx.norm], not ctx.inverse)
        gi = gi.real if ctx.real_in else gi   # a real input gets Re (under create_graph too)
        return _resize(xp, gi, ctx.axes, [ctx.in_shape[a] for a in ctx.axes])


class RFFT(Function):
    rule = "dx = Re(conj(F)^T [dy, 0...]): the half spectrum zero-filled to n, then as FFT"
    complex_ok = True   # marked so that a complex input meets torch's message below

    def forward(ctx, x, s, axes, norm):
        if x.dtype.kind == "c":
            raise GradvizError(f"rfft expects a real input tensor, but got {x.dtype}")
        ctx.in_shape, ctx.s, ctx.axes, ctx.norm = x.shape, s, axes, norm
        return ctx.xp.fft.rfftn(x, s=s, axes=axes, norm=norm).astype(_complex_of(x.dtype),
                                                                     copy=False)

    def backward(ctx, g):
        xp = ctx.xp
        full = _resize(xp, g, ctx.axes[-1:], ctx.s[-1:])   # the bins above n//2 get nothing
        gi = _fftn(xp, full, ctx.axes, _DUAL[ctx.norm], True).real
        return _resize(xp, gi, ctx.axes, [ctx.in_shape[a] for a in ctx.axes])


class IRFFT(Function):
    rule = "dz = rfft(dy) (dual norm), bins 1 .. n - n//2 - 1 doubled (their mirror images)"
    complex_ok = True

    def forward(ctx, z, s, axes, norm):
        ctx.in_shape, ctx.axes, ctx.norm = z.shape, axes, norm
        ctx.real_in = z.dtype.kind != "c"
        out = ctx.xp.fft.irfftn(z, s=s, axes=axes, norm=norm)
        return out.astype("float64" if z.dtype in ("float64", "complex128") else "float32",
                          copy=False)

    def backward(ctx, g):
        xp = ctx.xp
        ax = ctx.axes[-1]
        n = g.shape[ax]
        if on_graph(xp):
            gi = RFFT.apply(g, s=tuple(g.shape[a] for a in ctx.axes), axes=ctx.axes,
                            norm=_DUAL[ctx.norm])
        else:
            gi = xp.fft.rfftn(g, axes=ctx.axes, norm=_DUAL[ctx.norm]).astype(
                _complex_of(g.dtype), copy=False)
        # a bin whose mirror (n - k) lies outside the half spectrum stands for both
        doubled = n - (n // 2 + 1)
        if doubled > 0:
            scale = np.ones((n // 2 + 1,) + (1,) * (g.ndim - 1 - ax))
            scale[1:1 + doubled] = 2
            if on_graph(xp):
                from ..creation import tensor
                scale = tensor(scale, dtype=g.dtype, device=g.device)
            else:
                scale = xp.asarray(scale, dtype=g.dtype)
            gi = gi * scale
        gi = gi.real if ctx.real_in else gi
        return _resize(xp, gi, ctx.axes, [ctx.in_shape[a] for a in ctx.axes])
