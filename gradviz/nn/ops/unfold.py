"""Unfold (im2col) and Fold (col2im) of (N, C, H, W) images: each the other's adjoint, so
each one's backward is the other (as an op under create_graph, for double backward)."""
from ...engine.backend import on_graph
from ...engine.function import Function
from .windows import crop, fold, out_size, pad, windows


def _blocks(shape, k, s, d, p):
    return tuple(out_size(shape[i], k[i], s[i], d[i], p[i], p[i]) for i in range(2))


def unfold_arrays(xp, x, k, s, d, p):
    """(N, C*kh*kw, L) columns of the (padded) image x (N, C, H, W)."""
    xpad = pad(xp, x, tuple((q, q) for q in p))
    o = _blocks(x.shape[2:], k, s, d, p)
    win = windows(xp, xpad, k, s, d, o)                      # (N, C, kh, kw, oh, ow) view
    return xp.reshape(xp.ascontiguousarray(win), (x.shape[0], -1, o[0] * o[1]))


def fold_arrays(xp, cols, size, k, s, d, p):
    """Sum the (N, C*kh*kw, L) columns back into (N, C, *size) (overlaps add up)."""
    full = tuple(size[i] + 2 * p[i] for i in range(2))
    o = _blocks(size, k, s, d, p)
    n, ckk, _ = cols.shape
    c = ckk // (k[0] * k[1])
    blocks = xp.reshape(cols, (n, c, k[0], k[1], o[0], o[1]))
    return crop(fold(xp, blocks, full, s, d), tuple((q, q) for q in p))


class Unfold(Function):
    rule = "dx = fold(dy) (overlapping windows add up)"
    torch_name = "Im2ColBackward0"

    def forward(ctx, x, kernel_size=(1, 1), dilation=(1, 1), padding=(0, 0), stride=(1, 1)):
        ctx.size, ctx.args = tuple(x.shape[2:]), (kernel_size, stride, dilation, padding)
        return unfold_arrays(ctx.xp, x, kernel_size, stride, dilation, padding)

    def backward(ctx, g):
        k, s, d, p = ctx.args
        if on_graph(ctx.xp):
            return Fold.apply(g, output_size=ctx.size, kernel_size=k, dilation=d, padding=p,
                              stride=s)
        return fold_arrays(ctx.xp, g, ctx.size, k, s, d, p)


class Fold(Function):
    rule = "dcols = unfold(dy)"
    torch_name = "Col2ImBackward0"

    def forward(ctx, cols, output_size=(1, 1), kernel_size=(1, 1), dilation=(1, 1),
                padding=(0, 0), stride=(1, 1)):
        ctx.args = (kernel_size, stride, dilation, padding)
        return fold_arrays(ctx.xp, cols, output_size, kernel_size, stride, dilation, padding)

    def backward(ctx, g):
        k, s, d, p = ctx.args
        if on_graph(ctx.xp):
            return Unfold.apply(g, kernel_size=k, dilation=d, padding=p, stride=s)
        return unfold_arrays(ctx.xp, g, k, s, d, p)
