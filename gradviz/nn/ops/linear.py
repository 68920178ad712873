"""Affine maps: Linear (x @ W^T + b) and Bilinear (x1^T A x2 + b)."""
import numpy as np

from ...engine.backend import on_graph
from ...engine.function import Function, link_output
from ...trace.hooks import HOOKS
from ._quiet import tolerant

__all__ = ["Bilinear", "Linear"]


def _flat2(xp, a):
    """Leading dims folded into one: (..., n) -> (prod(...), n)."""
    return a if a.ndim == 2 else xp.reshape(a, (-1, a.shape[-1]))


@tolerant
class Linear(Function):
    rule = "dx = dy @ W ; dW = dy^T @ x ; db = sum(dy)"
    saved_for = {0: (1,), 1: (0,)}   # x is read for dW, W for dx
    # torch's node by (input rank, capped at 3; bias given): addmm/mm, then a view
    torch_names = {(1, False): "SqueezeBackward4", (1, True): "ViewBackward0",
                   (2, False): "MmBackward0", (2, True): "AddmmBackward0",
                   (3, False): "UnsafeViewBackward0", (3, True): "ViewBackward0"}

    def forward(ctx, x, weight, bias=None):
        xp = ctx.xp
        ctx.torch_name = ctx.torch_names.get((min(x.ndim, 3), bias is not None))
        ctx.saved = (x, weight)  # save_for_backward's work, without the call
        out = xp.matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    def backward(ctx, g):
        xp = ctx.xp
        x, weight = ctx.saved
        nx, nw, nb = ctx.needs_input_grad
        dx = dw = db = None
        if nx:
            dx = xp.matmul(g, weight)
        if nw or nb:
            g2 = g if g.ndim == 2 else _flat2(xp, g)
            if nw:
                if x.ndim == 1:
                    dw = xp.matmul(xp.reshape(g, (-1, 1)), xp.reshape(x, (1, -1)))
                else:
                    dw = xp.matmul(g2.T, x if x.ndim == 2 else _flat2(xp, x))
            if nb:
                # np.add.reduce is what np.sum calls (same values), minus its Python wrapper
                db = g if g.ndim < 2 else np.add.reduce(g2, 0) if xp is np else xp.sum(g2, axis=0)
        return dx, dw, db


def apply_linear(x, weight, bias):
    """``Linear.apply(x, weight, bias)`` for NumPy Tensors (bias a Tensor or None) with
    nothing tracing: the same node and value without the generic argument loop and the
    tolerant wrapper's packing; a float warning raised as an error, a non-NumPy array or
    anything tracing takes ``Linear.apply`` (which then handles it as usual)."""
    xd = x._data
    wd = weight._data
    if HOOKS.on or type(xd) is not ndarray or type(wd) is not ndarray or (
            bias is not None and type(bias._data) is not ndarray):
        return Linear.apply(x, weight, bias)
    ctx = _new(Linear)
    try:
        out = _linear_forward(ctx, xd, wd, None if bias is None else bias._data)
    except (RuntimeWarning, FloatingPointError):
        return Linear.apply(x, weight, bias)
    if type(out) is not ndarray:
        return Linear.apply(x, weight, bias)
    return link_output(ctx, out, (x, weight, bias), x._requires_grad or weight._requires_grad
                       or (bias is not None and bias._requires_grad))


_linear_forward = Linear.forward.__wrapped__  # the undecorated forward
ndarray = np.ndarray
_new = object.__new__


@tolerant
class Bilinear(Function):
    rule = "dx1 = sum_k dy_k A_k x2 ; dx2 = sum_k dy_k A_k^T x1 ; dA_k = dy_k x1 x2^T ; db = sum(dy)"

    def forward(ctx, x1, x2, weight, bias=None):
        xp = ctx.xp
        lead = x1.shape[:-1]
        a, b = _flat2(xp, x1), _flat2(xp, x2)
        ctx.save_for_backward(a, b, weight)
        ctx.lead = lead
        # (B, i) x (k, i, j) -> (B, k, j); then contract j with x2
        t = xp.tensordot(a, weight, axes=([1], [1]))
        out = xp.einsum("bkj,bj->bk", t, b)
        if bias is not None:
            out = out + bias
        return xp.reshape(out, lead + (weight.shape[0],))

    def backward(ctx, g):
        xp = ctx.xp
        a, b, weight = ctx.saved
        n1, n2, nw, nb = ctx.needs_input_grad
        opt = {"optimize": True}
        if on_graph(xp):   # create_graph: the folded inputs from the input Tensors (the saved
            opt = {}       # ones may be views: constants), Einsum ops without ``optimize``
            a, b = (_flat2(xp, x) for x in ctx.inputs[:2])
        g2 = xp.reshape(g, (-1, weight.shape[0]))
        d1 = d2 = dw = db = None
        if n1:
            d1 = xp.reshape(xp.einsum("bk,kij,bj->bi", g2, weight, b, **opt),
                            ctx.lead + (a.shape[1],))
        if n2:
            d2 = xp.reshape(xp.einsum("bk,kij,bi->bj", g2, weight, a, **opt),
                            ctx.lead + (b.shape[1],))
        if nw:
            dw = xp.einsum("bk,bi,bj->kij", g2, a, b, **opt)
        if nb:
            db = xp.sum(g2, axis=0)
        return d1, d2, dw, db
