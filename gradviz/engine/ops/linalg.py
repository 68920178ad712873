"""Matrix products."""
from ..function import Function
from .util import unbroadcast

__all__ = ["Matmul"]


class Matmul(Function):
    rule = "dx = dy @ y^T ; dy_in = x^T @ dy"
    saved_for = {0: (1,), 1: (0,)}   # x is read for y's gradient, y for x's

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.matmul(x, y)

    def backward(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        x2 = xp.reshape(x, (1,) + tuple(x.shape)) if x.ndim == 1 else x
        y2 = xp.reshape(y, tuple(y.shape) + (1,)) if y.ndim == 1 else y
        g2 = g
        if y.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if x.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        dx = dy = None
        if nx:
            dx = unbroadcast(xp, xp.matmul(g2, xp.swapaxes(y2, -1, -2)), x2.shape)
            dx = xp.reshape(dx, x.shape)
        if ny:
            dy = unbroadcast(xp, xp.matmul(xp.swapaxes(x2, -1, -2), g2), y2.shape)
            dy = xp.reshape(dy, y.shape)
        return dx, dy
