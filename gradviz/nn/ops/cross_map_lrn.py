"""CrossMapLRN2d: torch's legacy (Lua Torch) cross-channel local response normalisation, with
its own forward recurrence and its own backward formula, both as torch runs them."""
from ...engine.function import Function
from ...errors import GradvizError
from ._quiet import tolerant

__all__ = ["CrossMapLRN2d"]


@tolerant
class CrossMapLRN2d(Function):
    """y = x * (k + alpha / size * sum of x² over a window of channels)^-beta.

    The window is the one torch's running-sum recurrence gives: it is centred for the first
    channels, but the recurrence starts removing squares one channel late, so later
    windows keep one extra early channel (torch's values, reproduced)."""

    rule = "dx = dy * scale^-beta - 2 * alpha * beta / size * x * " \
           "sum over the centred window of (dy * y / scale)  (torch's formula)"

    def forward(ctx, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
        xp = ctx.xp
        channels = x.shape[1]
        sq = x * x
        pre_pad = int((size - 1) / 2 + 1)
        delta = xp.zeros_like(x)   # scale[c] - scale[c - 1], summed up below
        delta[:, 0] = sq[:, :min(pre_pad, channels)].sum(axis=1)
        for c in range(1, channels):
            if c < channels - pre_pad + 1:
                delta[:, c] += sq[:, c + pre_pad - 1]
            if c > pre_pad:
                delta[:, c] -= sq[:, c - pre_pad]
        scale = xp.cumsum(delta, axis=1) * (alpha / size) + k
        out = xp.power(scale, -beta) * x
        ctx.save_for_backward(x, out, scale)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, out, scale = ctx.saved
        size, channels = ctx.size, x.shape[1]
        lead = int(size - (size - 1) / 2)
        if lead + channels > channels + size - 1:   # size 1: torch's backward fails so
            raise GradvizError(f"start ({lead}) + length ({channels}) exceeds dimension size "
                               f"({channels + size - 1}).")
        padded = xp.zeros((x.shape[0], channels + size - 1) + x.shape[2:], dtype=x.dtype)
        padded[:, lead:lead + channels] = g * out / scale
        # accum at channel c: padded[c .. c + size - 1], a running window sum
        csum = xp.concatenate([xp.zeros_like(padded[:, :1]), xp.cumsum(padded, axis=1)], axis=1)
        window = csum[:, size:size + channels] - csum[:, :channels]
        dx = xp.power(scale, -ctx.beta) * g \
            - (2 * ctx.alpha * ctx.beta / size) * x * window
        return (dx,)
