"""Normalisation ops: BatchNorm (batch or running statistics) and LayerNorm."""
from ...engine.backend import on_graph
from ...engine.function import Function
from ._quiet import tolerant

__all__ = ["BatchNorm", "LayerNorm"]


def _norm_backward(xp, g, xhat, invstd, weight, axes, use_batch_stats):
    """dx of y = xhat * w + b, with xhat's mean and variance taken over ``axes`` when
    ``use_batch_stats`` (else they are constants)."""
    gw = g * weight if weight is not None else g
    if not use_batch_stats:
        return gw * invstd
    m1 = xp.mean(gw, axis=axes, keepdims=True)
    m2 = xp.mean(gw * xhat, axis=axes, keepdims=True)
    return (gw - m1 - xhat * m2) * invstd


def _xhat_on_graph(xp, x, xhat, invstd, axes, use_batch_stats, eps):
    """create_graph: (xhat, invstd) rebuilt from the input Tensor ``x`` (the saved ones are
    intermediates, constants to the graph). With running statistics invstd stays a constant
    and xhat's value is kept: xhat + (x - x.detach()) * invstd."""
    if not use_batch_stats:
        return xhat + (x - x.detach()) * invstd, invstd
    c = x - xp.mean(x, axis=axes, keepdims=True)
    invstd = 1 / xp.sqrt(xp.mean(c * c, axis=axes, keepdims=True) + eps)
    return c * invstd, invstd


@tolerant
class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over every axis but the channel (1)."""

    rule = "dx = (dxh - mean(dxh) - xh * mean(dxh * xh)) / sqrt(var + eps), dxh = dy * w " \
           "(eval: dx = dy * w / sqrt(running_var + eps))"
    torch_name = "NativeBatchNormBackward0"

    def forward(ctx, x, weight, bias, mean, var, training=True, eps=1e-5):
        xp = ctx.xp
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        invstd = (1 / xp.sqrt(xp.reshape(var, shape) + eps)).astype(x.dtype, copy=False)
        xhat = (x - xp.reshape(mean, shape).astype(x.dtype, copy=False)) * invstd
        out = xhat
        if weight is not None:
            out = out * xp.reshape(weight, shape)
        if bias is not None:
            out = out + xp.reshape(bias, shape)
        ctx.save_for_backward(xhat, invstd, weight, x)
        ctx.training, ctx.shape = training, shape
        return out

    def backward(ctx, g):
        xp = ctx.xp
        xhat, invstd, weight, x = ctx.saved
        nx, nw, nb = ctx.needs_input_grad[:3]
        axes = (0,) + tuple(range(2, g.ndim))
        if on_graph(xp):   # create_graph: xhat (and the batch's invstd) as functions of x
            xhat, invstd = _xhat_on_graph(xp, x, xhat, invstd, axes, ctx.training,
                                          ctx.attrs.get("eps", 1e-5))
        w = xp.reshape(weight, ctx.shape) if weight is not None else None
        dx = _norm_backward(xp, g, xhat, invstd, w, axes, ctx.training) if nx else None
        dw = xp.sum(g * xhat, axis=axes) if nw else None
        db = xp.sum(g, axis=axes) if nb else None
        return dx, dw, db, None, None


@tolerant
class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last ``len(weight.shape)`` axes."""

    rule = "dx = (dxh - mean(dxh) - xh * mean(dxh * xh)) / sqrt(var + eps), dxh = dy * w"
    torch_name = "NativeLayerNormBackward0"

    def forward(ctx, x, weight=None, bias=None, normalized_ndim=1, eps=1e-5):
        xp = ctx.xp
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mean = xp.mean(x, axis=axes, keepdims=True)
        c = x - mean
        var = xp.mean(c * c, axis=axes, keepdims=True)
        invstd = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = c * invstd
        out = xhat
        if weight is not None:
            out = out * weight
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(xhat, invstd, weight, x)
        ctx.axes = axes
        return out

    def backward(ctx, g):
        xp = ctx.xp
        xhat, invstd, weight, x = ctx.saved
        nx, nw, nb = ctx.needs_input_grad
        if on_graph(xp):   # create_graph: xhat and invstd as functions of x
            xhat, invstd = _xhat_on_graph(xp, x, xhat, invstd, ctx.axes, True,
                                          ctx.attrs.get("eps", 1e-5))
        lead = tuple(range(g.ndim - len(ctx.axes)))
        dx = _norm_backward(xp, g, xhat, invstd, weight, ctx.axes, True) if nx else None
        dw = xp.sum(g * xhat, axis=lead) if nw else None
        db = xp.sum(g, axis=lead) if nb else None
        return dx, dw, db
