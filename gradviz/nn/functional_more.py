"""``F.*`` shrink and randomised activations, their in-place forms, channel and alpha
dropout, pixel and channel shuffles, gumbel_softmax and conv_tbc, composed of existing ops
(the graph shows their steps). Random draws come from gv's generator on the host and from
CuPy's on a device (``F._uniform``), so nothing is uploaded."""
import math
import warnings

from ..engine.backend import xp_of
from ..engine.creation import zeros_like
from ..engine.tensor import Tensor
from ..engine.tensor_inplace import inplace_of
from ..errors import ArgumentError, GradvizError, ShapeError
from . import ops as O
from .functional_composite import _F

__all__ = ["hardshrink", "softshrink", "tanhshrink", "rrelu", "relu_", "elu_", "leaky_relu_",
           "hardtanh_", "selu_", "celu_", "threshold_", "rrelu_", "dropout1d", "dropout2d",
           "dropout3d", "alpha_dropout", "feature_alpha_dropout", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "gumbel_softmax",
           "conv_tbc"]


# ---- activations ----------------------------------------------------------------------------
def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return input.where(input.abs() > lambd, 0.0)


def softshrink(input, lambd=0.5):
    """x - clamp(x, -lambd, lambd): x - lambd above lambd, x + lambd below -lambd, else 0."""
    if lambd < 0:
        raise GradvizError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return input - input.clamp(-lambd, lambd)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """x for x > 0, a * x otherwise: a drawn from U(lower, upper) for each element in training,
    the mean slope (lower + upper) / 2 in eval."""
    if lower > upper:
        raise GradvizError("Lower bound should be less than or equal to the upper bound")
    F = _F()
    if not training:
        return F.leaky_relu(input, (lower + upper) / 2)
    x = input._data
    slope = lower + (upper - lower) * F._uniform(input, tuple(x.shape))
    noise = xp_of(x).where(x <= 0, slope, 1.0).astype(x.dtype)
    return input * Tensor._wrap(noise)


def _in_place(name):
    """``F.<name>_``: F.<name>'s values written into the input, under the engine's in-place
    rules (refused on a tensor that requires grad while grad mode is on; a graph that saved
    the input refuses its backward afterwards)."""
    return inplace_of(name + "_", lambda input, *a, **k: getattr(_F(), name)(input, *a, **k),
                      f"In-place ``F.{name}``.")


relu_, elu_, leaky_relu_, hardtanh_, selu_, celu_, threshold_, rrelu_ = (
    _in_place(name) for name in ("relu", "elu", "leaky_relu", "hardtanh", "selu", "celu",
                                 "threshold", "rrelu"))


# ---- channel and alpha dropout ------------------------------------------------------------
_SELU_SATURATION = 1.7580993408473766   # scale * alpha: SELU tends to minus this at -inf


def _check_p(p):
    if p < 0 or p > 1:
        raise ArgumentError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p, training, feature, alpha):
    """torch's _dropout_impl: keep ~ Bernoulli(1 - p), one per element or per (item, channel)
    plane (``feature``); x * keep / (1 - p), or with ``alpha`` x * a keep + b, which keeps
    SELU's zero mean and unit variance (dropped values go to SELU's saturation)."""
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if feature and input.ndim < 2:
        raise GradvizError("Feature dropout requires at least 2 dimensions in the input")
    F = _F()
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    keep = F._uniform(input, shape) >= p
    if p == 1 or not alpha:
        scale = 0.0 if p == 1 else 1 / (1 - p)
        return O.Dropout.apply(input, F._scaled_mask(input, keep, scale), p=float(p))
    a = 1 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    noise = F._scaled_mask(input, keep, 1.0)
    shift = (noise - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    return O.Dropout.apply(input, noise * a, p=float(p)) + Tensor._wrap(shift)


def _unbatched(input, batched, p, training):
    if batched or not training:
        return _dropout(input, p, training, True, False)
    return _dropout(input.unsqueeze(0), p, training, True, False).squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest by
    1/(1-p)."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise GradvizError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _unbatched(input, input.ndim == 3, p, training)


def _warn_rank(name, input, ranks, spatial):
    if input.ndim not in ranks:
        warnings.warn(
            f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {name} exists to provide "
            f"channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            f"dimension, and an optional batch dimension (i.e. {ranks[0]}D or {ranks[1]}D "
            "inputs).", UserWarning, stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest by 1/(1-p)
    (a 3-D input is taken as (N, C, L), as torch does, with a warning)."""
    _check_p(p)
    _warn_rank("dropout2d", input, (3, 4), 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _dropout(input, p, training, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p, scale the
    rest by 1/(1-p)."""
    _check_p(p)
    _warn_rank("dropout3d", input, (4, 5), 3)
    return _unbatched(input, input.ndim == 5, p, training)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalisation: dropped elements go to SELU's saturation
    value, then all are scaled and shifted back to zero mean and unit variance."""
    return _dropout(input, p, training, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (one draw per (item, channel) plane)."""
    return _dropout(input, p, training, True, True)


# ---- shuffles ---------------------------------------------------------------------------------
def _factor(name, input, factor, what):
    if input.ndim < 3:
        raise ShapeError(f"{name} expects input to have at least 3 dimensions, but got input "
                         f"with {input.ndim} dimension(s)")
    if factor <= 0:
        raise GradvizError(f"{name} expects a positive {what}, but got {factor}")
    return int(factor), tuple(input.shape[:-3]), tuple(input.shape[-3:])


def pixel_shuffle(input, upscale_factor):
    """(*, C r², H, W) -> (*, C, H r, W r): each group of r² channels becomes r x r blocks."""
    r, lead, (c, h, w) = _factor("pixel_shuffle", input, upscale_factor, "upscale_factor")
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                         f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                         f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r², H, W): the inverse of pixel_shuffle."""
    r, lead, (c, h, w) = _factor("pixel_unshuffle", input, downscale_factor,
                                 "downscale_factor")
    for side, size, d in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ShapeError(f"pixel_unshuffle expects {side} to be divisible by "
                             f"downscale_factor, but input.size({d})={size} is not divisible "
                             f"by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """(N, C, *) with the channels of ``groups`` groups interleaved: channel g * (C / groups)
    + i moves to i * groups + g."""
    if input.ndim <= 2:
        raise ShapeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                         f"sizes {list(input.shape)}")
    if groups <= 0:
        raise GradvizError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise ShapeError(f"Number of channels must be divisible by groups. Got {c} channels "
                         f"and {groups} groups.")
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(*input.shape)



def native_channel_shuffle(input, groups):
    """torch's kernel-level twin of ``channel_shuffle``: the same values, gradients and
    checks."""
    return channel_shuffle(input, groups)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution over (Time, Batch, C_in) with ``weight`` (K, C_in, C_out) and ``bias``
    (C_out,), ``pad`` steps of zeros at both ends of time: ``out[t] = bias + Σ_k
    x[t + k] @ weight[k]``, one matmul per kernel tap as torch's own kernel."""
    if not isinstance(bias, Tensor):
        raise TypeError("conv_tbc(): argument 'bias' (position 3) must be Tensor, not "
                        f"{type(bias).__name__}")
    if input.ndim != 3:
        raise ShapeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise ShapeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                         "out_channels.")
    if bias.ndim != 1:
        raise ShapeError("Bias must be 1-D")
    if bias.shape[0] != weight.shape[2]:
        raise ShapeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    if input.shape[2] != weight.shape[1]:
        raise ShapeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    time, batch, _ = input.shape
    width, _, c_out = weight.shape
    t_out = time + 2 * pad - width + 1
    if t_out < 0:
        raise GradvizError(f"Trying to create tensor with negative dimension {t_out}: "
                           f"[{t_out}, {batch}, {c_out}]")
    # a negative pad trims time steps (torch allows it); a positive one adds zeros
    x = _F().pad(input, (0, 0, 0, 0, pad, pad)) if pad > 0 else input[-pad:time + pad]
    out = bias.expand(t_out, batch, c_out)
    for k in range(width):
        out = out + x[k:k + t_out] @ weight[k]
    return out

# ---- sampling ---------------------------------------------------------------------------------
def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1) = -log(Exp(1)); ``hard``: the one-hot
    of its argmax, with the soft sample's gradient (straight through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning,
                      stacklevel=2)
    u = _F()._uniform(logits, tuple(logits.shape))
    xp = xp_of(u)
    gumbels = -xp.log(-xp.log1p(-u))          # -log(E), E = -log(1 - u) ~ Exp(1)
    y_soft = ((logits + Tensor._wrap(gumbels.astype(logits._data.dtype))) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
