"""Copies and conversions: dtype casts, device moves, clones, contiguous copies."""
from ..backend import device_of, move, on_graph
from ..function import Function

__all__ = ["Cast", "Clone", "Contiguous", "ToDevice"]


class Cast(Function):
    rule = "dx = dy (cast back to x's dtype)"
    torch_name = "ToCopyBackward0"

    def forward(ctx, x, dtype=None):
        ctx.src = x.dtype
        return x.astype(dtype)

    def backward(ctx, g):
        xp = ctx.xp
        return xp.astype(g, ctx.src) if on_graph(xp) else g.astype(ctx.src)  # no cupy.astype


class Clone(Function):
    rule = "dx = dy"

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, g):
        return g


class Contiguous(Function):
    rule = "dx = dy"
    torch_name = "CloneBackward0"

    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x)

    def backward(ctx, g):
        return g


class ToDevice(Function):
    rule = "dx = dy moved back to x's device"

    def forward(ctx, x, device=None):
        ctx.src = device_of(x)
        return move(x, device)

    def backward(ctx, g):
        if hasattr(g, "_data"):
            return g.to(ctx.src)
        return move(g, ctx.src)
