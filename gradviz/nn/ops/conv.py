"""Convolutions in any number of spatial dims: im2col as a strided view, then one batched matmul."""
import math

from ...engine.function import Function
from ._quiet import tolerant
from .windows import crop, fold, pad, windows

__all__ = ["Conv", "ConvTranspose"]


def _prod(xs):
    return math.prod(int(v) for v in xs)


@tolerant
class Conv(Function):
    """Cross-correlation of x (N, C, *S) with weight (O, C/groups, *k), as torch's convNd."""

    rule = "dx = col2im(W^T @ dy) ; dW = dy @ cols^T ; db = sum(dy)"

    def forward(ctx, x, weight, bias=None, stride=(1,), padding=((0, 0),), dilation=(1,),
                groups=1):
        xp = ctx.xp
        n = x.ndim - 2
        k = tuple(weight.shape[2:])
        xpad = pad(xp, x, padding)
        o = tuple((xpad.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1
                  for i in range(n))
        N, C = x.shape[:2]
        G, O = groups, weight.shape[0]
        Cg, Og, K, P = C // G, O // G, _prod(k), _prod(o)
        win = windows(xp, xpad, k, stride, dilation, o)            # (N, C, *k, *o) view
        win = xp.reshape(win, (N, G, Cg) + k + o)
        cols = xp.ascontiguousarray(xp.swapaxes(win, 0, 1))       # (G, N, Cg, *k, *o): im2col
        cols = xp.reshape(cols, (G, N, Cg * K, P))
        wmat = xp.reshape(weight, (G, 1, Og, Cg * K))
        out = xp.matmul(wmat, cols)                                # (G, N, Og, P)
        out = xp.reshape(xp.swapaxes(out, 0, 1), (N, O) + o) if G > 1 \
            else xp.reshape(out, (N, O) + o)
        if bias is not None:
            out = out + xp.reshape(bias, (1, O) + (1,) * n)
        ctx.save_for_backward(cols, weight)
        ctx.geom = (x.shape, xpad.shape[2:], k, o, stride, padding, dilation, G)
        return out

    def backward(ctx, g):
        xp = ctx.xp
        cols, weight = ctx.saved
        xshape, full, k, o, stride, padding, dilation, G = ctx.geom
        nx, nw, nb = ctx.needs_input_grad
        N, C = xshape[:2]
        O = weight.shape[0]
        Cg, Og, K, P = C // G, O // G, _prod(k), _prod(o)
        g4 = xp.swapaxes(xp.reshape(g, (N, G, Og, P)), 0, 1)      # (G, N, Og, P)
        dx = dw = db = None
        if nx:
            wmat = xp.reshape(weight, (G, 1, Og, Cg * K))
            dcols = xp.matmul(xp.swapaxes(wmat, -1, -2), g4)       # (G, N, Cg*K, P)
            dcols = xp.reshape(xp.swapaxes(xp.reshape(dcols, (G, N, Cg) + k + o), 0, 1),
                               (N, C) + k + o)
            dx = crop(fold(xp, dcols, full, stride, dilation), padding)
        if nw:
            dw = xp.sum(xp.matmul(g4, xp.swapaxes(cols, -1, -2)), axis=1)  # (G, Og, Cg*K)
            dw = xp.reshape(dw, weight.shape)
        if nb:
            db = xp.sum(g, axis=(0,) + tuple(range(2, g.ndim)))
        return dx, dw, db


@tolerant
class ConvTranspose(Function):
    """Transposed convolution (the adjoint of Conv): x (N, Cin, *S), weight (Cin, Cout/groups, *k)."""

    rule = "dx = W @ im2col(dy) ; dW = x @ im2col(dy)^T ; db = sum(dy)"

    def forward(ctx, x, weight, bias=None, stride=(1,), padding=(0,), output_padding=(0,),
                dilation=(1,), groups=1):
        xp = ctx.xp
        n = x.ndim - 2
        k = tuple(weight.shape[2:])
        N, Cin = x.shape[:2]
        G = groups
        Cg, Og = Cin // G, weight.shape[1]
        K, P = _prod(k), _prod(x.shape[2:])
        full = tuple((x.shape[2 + i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1
                     + output_padding[i] for i in range(n))
        x4 = xp.swapaxes(xp.reshape(x, (N, G, Cg, P)), 0, 1)       # (G, N, Cg, P)
        wmat = xp.reshape(weight, (G, 1, Cg, Og * K))
        cols = xp.matmul(xp.swapaxes(wmat, -1, -2), x4)            # (G, N, Og*K, P)
        cols = xp.reshape(xp.swapaxes(xp.reshape(cols, (G, N, Og) + k + tuple(x.shape[2:])),
                                      0, 1), (N, G * Og) + k + tuple(x.shape[2:]))
        pads = tuple((p, p) for p in padding)
        out = crop(fold(xp, cols, full, stride, dilation), pads)
        if bias is not None:
            out = out + xp.reshape(bias, (1, G * Og) + (1,) * n)
        ctx.save_for_backward(x, weight)
        ctx.geom = (k, pads, stride, dilation, G)
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, weight = ctx.saved
        k, pads, stride, dilation, G = ctx.geom
        nx, nw, nb = ctx.needs_input_grad
        N, Cin = x.shape[:2]
        Cg, Og = Cin // G, weight.shape[1]
        K, P = _prod(k), _prod(x.shape[2:])
        gfull = pad(xp, g, pads)
        win = xp.reshape(windows(xp, gfull, k, stride, dilation, tuple(x.shape[2:])),
                         (N, G, Og) + k + tuple(x.shape[2:]))
        dcols = xp.reshape(xp.ascontiguousarray(xp.swapaxes(win, 0, 1)), (G, N, Og * K, P))
        dx = dw = db = None
        if nx:
            wmat = xp.reshape(weight, (G, 1, Cg, Og * K))
            dx = xp.reshape(xp.swapaxes(xp.matmul(wmat, dcols), 0, 1), x.shape)
        if nw:
            x4 = xp.swapaxes(xp.reshape(x, (N, G, Cg, P)), 0, 1)
            dw = xp.reshape(xp.sum(xp.matmul(x4, xp.swapaxes(dcols, -1, -2)), axis=1),
                            weight.shape)
        if nb:
            db = xp.sum(g, axis=(0,) + tuple(range(2, g.ndim)))
        return dx, dw, db
