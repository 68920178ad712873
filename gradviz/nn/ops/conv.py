"""Convolutions in any number of spatial dims: im2col as a strided view, then one batched matmul."""
import math

from ...engine.backend import on_graph
from ...engine.function import Function
from ._quiet import tolerant
from .windows import crop, fold, pad, windows

__all__ = ["Conv", "ConvTranspose"]


def _prod(xs):
    return math.prod(int(v) for v in xs)


def _crop_to(t, shape):
    """t's leading corner of spatial ``shape`` (a Getitem when it is smaller)."""
    if tuple(t.shape[2:]) == tuple(shape):
        return t
    return t[(slice(None), slice(None)) + tuple(slice(0, v) for v in shape)]


def weight_grad_on_graph(x, g, k, stride, pads, dilation, G):
    """dW of Conv(x, W) for grad g, as a Conv of x with g (batch and channels swapped, stride
    and dilation swapped): ops on Tensors, so that it has gradients itself (create_graph)."""
    n = len(k)
    N, C = x.shape[:2]
    O = g.shape[1]
    Cg, Og = C // G, O // G
    sp = tuple(range(3, 3 + n))
    xt = x.reshape(N, G, Cg, *x.shape[2:]).permute(2, 1, 0, *sp)   # (Cg, G, N, *S)
    gt = g.reshape(N, G, Og, *g.shape[2:]).permute(1, 2, 0, *sp)   # (G, Og, N, *o)
    dw = Conv.apply(xt.reshape(Cg, G * N, *x.shape[2:]), gt.reshape(G * Og, N, *g.shape[2:]),
                    None, stride=tuple(dilation), padding=tuple(pads), dilation=tuple(stride),
                    groups=G)                                      # (Cg, O, *k + extra)
    return _crop_to(dw, k).transpose(0, 1)


@tolerant
class Conv(Function):
    """Cross-correlation of x (N, C, *S) with weight (O, C/groups, *k), as torch's convNd."""

    rule = "dx = col2im(W^T @ dy) ; dW = dy @ cols^T ; db = sum(dy)"
    torch_name = "ConvolutionBackward0"

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
        if on_graph(xp):
            return ctx.backward_on_graph(g)
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

    def backward_on_graph(ctx, g):
        """create_graph: the same gradients from ConvTranspose and Conv ops on Tensors (the
        saved im2col columns are no function of x, so they cannot serve)."""
        x, weight = ctx.inputs[:2]
        xshape, full, k, o, stride, padding, dilation, G = ctx.geom
        nx, nw, nb = ctx.needs_input_grad
        n = len(k)
        dx = dw = db = None
        if nx:  # the adjoint: a transposed conv onto the padded input, then the padding off
            extra = tuple(full[i] - (o[i] - 1) * stride[i] - dilation[i] * (k[i] - 1) - 1
                          for i in range(n))
            dpad = ConvTranspose.apply(g, weight, None, stride=stride, padding=(0,) * n,
                                       output_padding=extra, dilation=dilation, groups=G)
            dx = dpad[(slice(None), slice(None))
                      + tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, xshape[2:]))]
        if nw:
            dw = weight_grad_on_graph(x, g, k, stride, padding, dilation, G)
        if nb:
            db = g.sum(dim=(0,) + tuple(range(2, g.ndim)))
        return dx, dw, db


@tolerant
class ConvTranspose(Function):
    """Transposed convolution (the adjoint of Conv): x (N, Cin, *S), weight (Cin, Cout/groups, *k)."""

    rule = "dx = W @ im2col(dy) ; dW = x @ im2col(dy)^T ; db = sum(dy)"
    torch_name = "ConvolutionBackward0"

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
        if on_graph(xp):
            return ctx.backward_on_graph(g)
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

    def backward_on_graph(ctx, g):
        """create_graph: dx is a Conv of dy, dW a Conv of dy with x (ops on Tensors)."""
        x, weight = ctx.inputs[:2]
        k, pads, stride, dilation, G = ctx.geom
        nx, nw, nb = ctx.needs_input_grad
        dx = dw = db = None
        if nx:
            dx = _crop_to(Conv.apply(g, weight, None, stride=stride, padding=pads,
                                     dilation=dilation, groups=G), x.shape[2:])
        if nw:  # ConvTranspose's dW is Conv's dW with the roles of x and dy exchanged
            dw = weight_grad_on_graph(g, x, k, stride, pads, dilation, G)
        if nb:
            db = g.sum(dim=(0,) + tuple(range(2, g.ndim)))
        return dx, dw, db
