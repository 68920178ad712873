"""Attention in ``F``: ``scaled_dot_product_attention``, written with the engine's ops
(matmul, softmax, masked_fill, dropout), so the graph shows each step of it and the
inspector each one's gradient."""
import math

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..errors import GradvizError, ShapeError

__all__ = ["scaled_dot_product_attention", "causal_mask", "additive_mask", "safe_softmax"]

_NEG_INF = float("-inf")


def causal_mask(L, S, like):
    """(L, S) bool: True where query i may attend to key j (j <= i), on ``like``'s device."""
    xp = xp_of(like._data)
    return Tensor._wrap(xp.tril(xp.ones((L, S), dtype=bool)))


def additive_mask(mask, like, allowed):
    """A float mask to add to attention scores: 0 where attending is allowed, -inf where it
    is not. ``mask`` is bool (``allowed``: True means "may attend", as in
    scaled_dot_product_attention; False: True means "masked", as in MultiheadAttention) or
    float (returned as it is, in ``like``'s dtype)."""
    m = mask if isinstance(mask, Tensor) else Tensor._wrap(xp_of(like._data).asarray(mask))
    if m._data.dtype.kind == "b":
        xp = xp_of(m._data)
        blocked = ~m._data if allowed else m._data
        return Tensor._wrap(xp.where(blocked, _NEG_INF, 0.0).astype(like._data.dtype))
    if m._data.dtype.kind != "f":
        raise GradvizError(f"attention masks are bool or float, not {m.dtype}")
    return m.to(like.dtype) if m.dtype != like.dtype else m


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over the last two dims (torch's math).

    ``attn_mask``: bool (True = may attend) or float (added to the scores), broadcastable
    to (..., L, S); ``is_causal``: query i sees keys 0..i; ``enable_gqa``: fewer key/value
    heads than query heads (dim -3), each shared by a group of query heads."""
    from . import functional as F  # noqa: PLC0415 - F imports this module
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError("scaled_dot_product_attention expects query, key and value with at "
                         "least 2 dims (..., L, E)")
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    if key.shape[-1] != E or value.shape[-2] != S:
        raise ShapeError(f"scaled_dot_product_attention: query (..., {L}, {E}), key "
                         f"{tuple(key.shape)} and value {tuple(value.shape)} do not fit")
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = (_repeat_heads(t, query.shape[-3]) for t in (key, value))
    scores = query @ key.transpose(-2, -1) * (1 / math.sqrt(E) if scale is None else scale)
    if is_causal:
        if attn_mask is not None:
            raise GradvizError("scaled_dot_product_attention: an explicit attn_mask must not "
                               "be set when is_causal=True")
        scores = scores.masked_fill(~causal_mask(L, S, query), _NEG_INF)
    elif attn_mask is not None:
        scores = scores + additive_mask(attn_mask, scores, allowed=True)
    weights = safe_softmax(scores)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ value


def safe_softmax(scores):
    """softmax over the last dim, with 0 (not NaN) on rows whose scores are all -inf.

    torch 2.x's attention does the same (``_safe_softmax``): a query that may attend to no
    key gets a zero output, and no NaN reaches any gradient."""
    from . import functional as F  # noqa: PLC0415 - F imports this module
    xp = xp_of(scores._data)
    dead = xp.all(scores._data == _NEG_INF, axis=-1, keepdims=True)
    if not bool(dead.any()):
        return F.softmax(scores, dim=-1)
    dead = Tensor._wrap(dead)
    return F.softmax(scores.masked_fill(dead, 0.0), dim=-1).masked_fill(dead, 0.0)


def _repeat_heads(t, heads):
    """(..., Hk, S, E) -> (..., heads, S, E): each key/value head serves heads/Hk queries."""
    hk = t.shape[-3]
    if heads % hk:
        raise ShapeError(f"enable_gqa: {heads} query heads is not a multiple of {hk} key heads")
    lead = tuple(t.shape[:-3])
    g = heads // hk
    return t.unsqueeze(-3).expand(*lead, hk, g, *t.shape[-2:]).reshape(*lead, heads,
                                                                       *t.shape[-2:])
