"""MultiheadAttention, TransformerEncoder(Layer), TransformerDecoder(Layer) and Transformer
(torch's parameters, state_dict keys, masks and shapes), built from the engine's ops so
every step of attention is a node in the graph."""
import copy
import math

from ...engine import creation
from ...engine.dtypes import bool_
from ...engine.grad_mode import is_grad_enabled
from ...engine.functional import cat
from ...errors import GradvizError, ShapeError
from .. import functional as F
from .. import init
from ..containers import ModuleList
from ..functional_attention import additive_mask, safe_softmax
from ..module import Module
from ..parameter import Parameter
from .activation import GELU, ReLU
from .dropout import Dropout
from .linear import Linear, NonDynamicallyQuantizableLinear
from .norm import LayerNorm


class MultiheadAttention(Module):
    """Multi-head attention: ``in_proj_weight`` (3E, E) maps query, key and value; each of
    ``num_heads`` heads attends over E / num_heads dims; ``out_proj`` maps back to E.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` → ``(output, weights or None)``, with
    inputs (L, N, E), or (N, L, E) when ``batch_first``, or unbatched (L, E). Masks as
    torch: bool True (or -inf) means "do not attend"; float masks are added.
    ``add_bias_kv``: learnt ``bias_k``, ``bias_v`` (1, 1, E) end every key and value sequence;
    ``add_zero_attn``: then a zero key and value too (both always attendable, as torch).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim % num_heads:
            raise GradvizError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim == self.vdim
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        kw = {"dtype": dtype, "device": device}
        if self._qkv_same_embed_dim:   # one (3E, E) matrix, as torch
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **kw))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:                          # key/value of other widths: one matrix each
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, dtype=dtype,
                                                         device=device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self):
        """torch's: xavier-uniform projections, zero biases, xavier-normal bias_k/bias_v."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``; returns (output, weights or None)."""
        if is_causal and attn_mask is None:
            raise GradvizError("MultiheadAttention: is_causal is a hint that attn_mask is the "
                               "causal mask; pass that mask as attn_mask too (as torch)")
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"MultiheadAttention: query, key and value must all be 3-D "
                             f"(batched) or 2-D (unbatched), got {query.ndim}-D, {key.ndim}-D "
                             f"and {value.ndim}-D")
        if not batched:   # (L, E) -> (L, 1, E)
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = self._attend(query, key, value, key_padding_mask, need_weights,
                                    attn_mask, average_attn_weights)
        if not batched:
            out = out.squeeze(1)
            weights = None if weights is None else weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask,
                average):
        L, N, E = query.shape
        S = key.shape[0]
        H, D = self.num_heads, self.head_dim
        if E != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim \
                or key.shape[:2] != value.shape[:2] or key.shape[1] != N:
            raise ShapeError(f"MultiheadAttention: query {tuple(query.shape)}, key "
                             f"{tuple(key.shape)}, value {tuple(value.shape)} do not fit "
                             f"embed_dim={self.embed_dim}, kdim={self.kdim}, "
                             f"vdim={self.vdim}")
        w = self.in_proj_weight.chunk(3) if self._qkv_same_embed_dim else (
            self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q, k, v = (F.linear(x, wi, bi) for x, wi, bi in zip((query, key, value), w, b))
        if self.bias_k is not None:   # one more key and value (S + 1, N, E)
            k = cat([k, self.bias_k.expand(1, N, E)])
            v = cat([v, self.bias_v.expand(1, N, E)])
        # (L, N, E) -> (N*H, L, D): one batch entry per (item, head)
        q = q.reshape(L, N * H, D).transpose(0, 1)
        k = k.reshape(k.shape[0], N * H, D).transpose(0, 1)
        v = v.reshape(v.shape[0], N * H, D).transpose(0, 1)
        if self.add_zero_attn:
            zero = creation.zeros(N * H, 1, D, dtype=k.dtype, device=k.device)
            k, v = cat([k, zero], 1), cat([v, zero], 1)
        scores = (q * math.sqrt(1.0 / D)) @ k.transpose(-2, -1)
        mask = self._mask(attn_mask, key_padding_mask, scores, N, L, S)
        if mask is not None:
            extra = k.shape[1] - S    # the added keys are never masked (torch pads with 0)
            scores = scores + (F.pad(mask, (0, extra)) if extra else mask)
        # torch: a query with every key masked gets zeros when no weights are returned (its
        # SDPA path), NaN weights when they are
        weights = F.softmax(scores, dim=-1) if need_weights else safe_softmax(scores)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, self.dropout, training=True)
        out = (weights @ v).transpose(0, 1).reshape(L * N, E)
        out = self.out_proj(out).reshape(L, N, E)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, H, L, k.shape[1])
        return out, (weights.mean(dim=1) if average else weights)

    def _mask(self, attn_mask, key_padding_mask, like, N, L, S):
        """One additive mask broadcastable to (N*H, L, S), or None."""
        H = self.num_heads
        mask = None
        if attn_mask is not None:
            mask = additive_mask(attn_mask, like, allowed=False)
            if mask.ndim == 2:
                if tuple(mask.shape) != (L, S):
                    raise ShapeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, "
                                     f"but should be {(L, S)}.")
            elif mask.ndim == 3:
                if tuple(mask.shape) != (N * H, L, S):
                    raise ShapeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, "
                                     f"but should be {(N * H, L, S)}.")
            else:
                raise ShapeError(f"attn_mask's dimension {mask.ndim} is not supported")
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (N, S):
                raise ShapeError(f"expecting key_padding_mask shape of {(N, S)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
            pad = additive_mask(key_padding_mask, like, allowed=False)
            pad = pad.reshape(N, 1, 1, S).expand(N, H, 1, S).reshape(N * H, 1, S)
            mask = pad if mask is None else mask + pad
        return mask


def _activation(activation):
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise GradvizError(f"activation should be relu/gelu, not {activation}")
        return F.relu if activation == "relu" else F.gelu
    return activation


class _TransformerLayer(Module):
    """What encoder and decoder layers share (torch's submodule names and order): self-
    attention (and, with ``cross``, attention to the memory), the feed-forward block, one
    LayerNorm and one Dropout per block."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                 batch_first, norm_first, bias, device, dtype, cross):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        if cross:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                     bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self._blocks = 3 if cross else 2
        for i in range(1, self._blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for i in range(1, self._blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=bool(is_causal), need_weights=False)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, f"dropout{self._blocks}")(x)


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward block, each with a residual and LayerNorm
    (``norm_first``: pre-norm), as ``torch.nn.TransformerEncoderLayer``."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype, cross=False)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """One encoder layer over ``src`` ((S, N, E), or (N, S, E) when batch_first)."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (then ``norm``, if given)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = bool(enable_nested_tensor)
        self.mask_check = bool(mask_check)
        self.use_nested_tensor = self.enable_nested_tensor and _fast_path_layer(encoder_layer)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run ``src`` through every layer. Where torch takes its nested-tensor path
        (inference with a key padding mask, see ``_padded_out``) the padded positions come
        out as zeros, as torch's do; the other positions are the same either way."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        pad = self._padded_out(src, mask, src_key_padding_mask)
        if pad is not None:
            x = x.masked_fill(pad.unsqueeze(-1), 0.0)
        return self.norm(x) if self.norm is not None else x

    def _padded_out(self, src, mask, key_padding_mask):
        """The padded positions (N, S) when torch would run on nested tensors, else None:
        inference (first layer in eval, no grad wanted), batched input, a key padding mask
        whose valid positions come first in each row (when mask_check), no ``mask``."""
        first = self.layers[0] if len(self.layers) else None
        if (not self.use_nested_tensor or first.training or src.ndim != 3
                or key_padding_mask is None or mask is not None):
            return None
        if is_grad_enabled() and (src.requires_grad or any(
                p.requires_grad for p in first.parameters())):
            return None
        kpm = key_padding_mask
        pad = kpm if kpm.dtype == bool_ else kpm != 0
        if self.mask_check and bool((~pad[:, 1:] & pad[:, :-1]).any()):
            return None   # a valid position after a padded one: torch's mask check fails
        return pad


def _fast_path_layer(layer):
    """torch's conditions on the encoder layer for its nested-tensor inference path."""
    if not isinstance(layer, TransformerEncoderLayer) or layer.norm_first:
        return False
    attn = layer.self_attn
    return (attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None
            and (layer.activation in (F.relu, F.gelu) or isinstance(layer.activation,
                                                                    (ReLU, GELU)))
            and attn.num_heads % 2 == 0
            and layer.norm1.eps == layer.norm2.eps)


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention over the target, attention to the encoder's ``memory``, then a
    feed-forward block; each with a residual and LayerNorm (``norm_first``: pre-norm)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype, cross=True)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """One decoder layer over ``tgt`` attending to ``memory``."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=bool(is_causal),
                                need_weights=False)[0]
        return self.dropout2(x)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (then ``norm``, if given)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run ``tgt`` through every layer, each attending to ``memory``."""
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """An encoder-decoder Transformer (torch.nn.Transformer's layers, names and init)."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        common = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                      layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                      norm_first=norm_first, bias=bias, **kw)
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **common), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **common), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():          # torch's: xavier-uniform every matrix
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode ``src``, then decode ``tgt`` attending to it."""
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (no peeking ahead)."""
        return creation.zeros(sz, sz, dtype=dtype, device=device).masked_fill(
            creation.ones(sz, sz, device=device).triu(1).bool(), float("-inf"))
