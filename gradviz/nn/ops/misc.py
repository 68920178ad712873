"""Dropout, Embedding and constant padding."""
from ...engine.backend import on_graph
from ...engine.function import Function
from ...engine.ops.index import index_add, scatter
from ._quiet import tolerant

__all__ = ["Dropout", "Embedding", "Pad"]


@tolerant
class Dropout(Function):
    rule = "dx = dy * mask / (1 - p)"

    def forward(ctx, x, mask, p=0.5):
        # mask holds 0 or 1/(1-p) (drawn by the caller from gv's generator)
        ctx.save_for_backward(mask)
        return x * mask

    def backward(ctx, g):
        return g * ctx.saved[0], None


@tolerant
class Embedding(Function):
    rule = "dW[i] += dy[j] for each j with indices[j] = i (except padding_idx)"

    def forward(ctx, indices, weight, padding_idx=None):
        ctx.save_for_backward(indices)
        ctx.wshape = weight.shape
        ctx.padding_idx = padding_idx
        return weight[indices]

    def backward(ctx, g):
        xp = ctx.xp
        idx = ctx.saved[0]
        n, d = ctx.wshape
        flat = xp.reshape(idx, (-1,))
        g2 = xp.reshape(g, (-1, d))
        if on_graph(xp):   # create_graph: the scatter-add as the IndexAdd op
            if ctx.padding_idx is not None:
                g2 = xp.where(xp.expand_dims(flat == ctx.padding_idx, 1), 0.0, g2)
            return None, scatter(xp, (n, d), (getattr(flat, "_data", flat),), g2)
        dw = index_add(xp, xp.zeros((n, d), dtype=g.dtype), (flat,), g2)
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return None, dw


class Pad(Function):
    rule = "dx = dy[unpadded region]"
    torch_name = "ConstantPadNdBackward0"

    def forward(ctx, x, pad=(), value=0.0):
        xp = ctx.xp
        # torch order: (last_lo, last_hi, prev_lo, prev_hi, ...); negative pads crop
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        ctx.shape = x.shape
        crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(widths, x.shape))
        x = x[crop]
        pos = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        ctx.crop, ctx.pos = crop, pos
        return xp.pad(x, pos, mode="constant", constant_values=value)

    def backward(ctx, g):
        xp = ctx.xp
        inner = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(ctx.pos))
        dx = xp.zeros(ctx.shape, dtype=g.dtype)
        dx[ctx.crop] = g[inner]
        return dx
