"""``multi_head_attention_forward``: torch's functional multi-head attention (the function
torch.nn.MultiheadAttention calls), every tensor passed in, written with the engine's ops."""
import math
import warnings

from ..engine import creation
from ..engine.functional import cat
from ..errors import GradvizError, ShapeError
from .functional_attention import additive_mask, causal_mask, safe_softmax

__all__ = ["multi_head_attention_forward"]


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True when batched (3-D query), False when unbatched (2-D), as torch checks them."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ShapeError("For batched (3-D) `query`, expected `key` and `value` to be 3-D "
                             f"but found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise ShapeError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                             f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor "
                             "instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ShapeError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                             f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ShapeError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                             f"2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                             "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise ShapeError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                             f"`None` or 1-D but found {key_padding_mask.ndim}-D tensor "
                             "instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise ShapeError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                 f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                 "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise ShapeError(f"Expected `attn_mask` shape to be {expected} but got "
                                 f"{tuple(attn_mask.shape)}")
        return False
    raise ShapeError(f"query should be unbatched 2D or batched 3D tensor but received "
                     f"{query.ndim}-D query tensor")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention of (L, N, E) query over (S, N, E) key/value (or unbatched (L, E)),
    with every weight given: returns (output, attention weights or None), as torch's.

    Masks: bool True means "do not attend", floats are added; ``attn_mask`` is (L, S) or
    (N*num_heads, L, S), ``key_padding_mask`` (N, S). ``static_k``/``static_v``: the
    projected keys/values (N*num_heads, S, E/num_heads) to use as they are."""
    from . import functional as F  # noqa: PLC0415 - F imports the attention modules
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:   # (L, E) -> (L, 1, E)
        query, key, value = (t.unsqueeze(1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    S = key.shape[0]
    if E != embed_dim_to_check:
        raise ShapeError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                         f"{E}")
    if E % num_heads:
        raise ShapeError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    D = E // num_heads
    if is_causal and attn_mask is None:
        raise GradvizError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise ShapeError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                             f"match value's {tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise GradvizError("use_separate_proj_weight is True but q_proj_weight, "
                               "k_proj_weight or v_proj_weight is None")
        w = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise ShapeError(f"key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)}")
        if in_proj_weight is None:
            raise GradvizError("use_separate_proj_weight is False but in_proj_weight is None")
        w = in_proj_weight.chunk(3)
    b = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    q, k, v = (F.linear(x, wi, bi) for x, wi, bi in zip((query, key, value), w, b))

    if key_padding_mask is not None and attn_mask is not None \
            and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", UserWarning, stacklevel=2)
    # torch: without a padding mask or weights to return, is_causal means the causal mask
    # itself (the attn_mask given is only a hint of it and is not read)
    causal = is_causal and key_padding_mask is None and not need_weights
    if causal:
        attn_mask = None
    mask = None
    if attn_mask is not None:
        mask = additive_mask(attn_mask, q, allowed=False)
        if mask.ndim == 2:
            if tuple(mask.shape) != (L, S):
                raise ShapeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but "
                                 f"should be {(L, S)}.")
            mask = mask.unsqueeze(0)
        elif tuple(mask.shape) != (N * num_heads, L, S):
            raise ShapeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but "
                             f"should be {(N * num_heads, L, S)}.")
    if key_padding_mask is not None:
        key_padding_mask = additive_mask(key_padding_mask, q, allowed=False)
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise GradvizError("bias cannot be added to static key/value.")
        k = cat([k, bias_k.expand(1, N, E)])
        v = cat([v, bias_v.expand(1, N, E)])
        mask = None if mask is None else F.pad(mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask,
                                                                        (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise GradvizError("bias_k and bias_v must both be given, or neither")

    # (L, N, E) -> (N*H, L, D): one batch entry per (item, head)
    q = q.reshape(L, N * num_heads, D).transpose(0, 1)
    k = _static_or(static_k, k, N * num_heads, D, "static_k")
    v = _static_or(static_v, v, N * num_heads, D, "static_v")
    if add_zero_attn:
        zero = creation.zeros(N * num_heads, 1, D, dtype=k.dtype, device=k.device)
        k, v = cat([k, zero], 1), cat([v, zero], 1)
        mask = None if mask is None else F.pad(mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask,
                                                                        (0, 1))
    src = k.shape[1]
    if causal:
        mask = additive_mask(causal_mask(L, src, q), q, allowed=True).unsqueeze(0)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, src):
            raise ShapeError(f"expecting key_padding_mask shape of {(N, src)}, but got "
                             f"{tuple(key_padding_mask.shape)}")
        pad = key_padding_mask.reshape(N, 1, 1, src).expand(N, num_heads, 1, src)\
            .reshape(N * num_heads, 1, src)
        mask = pad if mask is None else mask + pad
    if not training:
        dropout_p = 0.0
    scores = (q * math.sqrt(1.0 / D)) @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores + mask
    # torch: a query with every key masked gets NaN weights when they are returned, zeros
    # when they are not (its SDPA path)
    weights = F.softmax(scores, dim=-1) if need_weights else safe_softmax(scores)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    out = (weights @ v).transpose(0, 1).reshape(L * N, E)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, num_heads, L, src)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return out, (weights if batched else weights.squeeze(0))


def _static_or(static, projected, batch_heads, head_dim, name):
    """The projected keys/values as (N*H, S, D): ``static`` as given, else ``projected``."""
    if static is None:
        return projected.reshape(projected.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads or static.shape[2] != head_dim:
        raise ShapeError(f"expecting {name}.size(0) of {batch_heads} and {name}.size(2) of "
                         f"{head_dim}, but got {tuple(static.shape)}")
    return static
