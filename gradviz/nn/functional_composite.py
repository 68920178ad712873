"""``F.*`` functions composed of existing ops (no Function class of their own): the graph
shows the steps they are made of (``mish`` is Softplus, Tanh and Mul), each with its
gradient. Values and gradients match torch's."""
import math

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..engine.tensor_methods import where
from ..errors import ArgumentError, GradvizError, ShapeError

__all__ = ["selu", "celu", "mish", "hardsigmoid", "hardswish", "softsign", "glu",
           "threshold", "prelu", "cosine_similarity", "pairwise_distance", "group_norm",
           "interpolate"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _F():
    from . import functional  # noqa: PLC0415 - functional imports this module
    return functional


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _F().elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise GradvizError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _F().elu(input / alpha) * alpha


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return input * _F().softplus(input).tanh()


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _F().relu6(input + 3) / 6


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return input * hardsigmoid(input)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.ndim == 0 or input.shape[dim] % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {dim} is size "
                         f"{input.shape[dim] if input.ndim else 0}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    return where(input > threshold, input, value)


def prelu(input, weight):
    """x where x > 0, else weight * x; ``weight`` has 1 or C (= size of dim 1) entries."""
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0] if input.ndim else 0
        if channels != n:
            raise ShapeError(f"Mismatch of parameter numbers and input channel size. Found "
                             f"parameter numbers = {n} and channel size = {channels}.")
        if input.ndim >= 2:
            weight = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    return where(input > 0, input, weight * input)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / |x1| * x2 / |x2|) along ``dim`` (each norm at least ``eps``)."""
    n1 = x1.norm(dim=dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(dim=dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of ``num_groups`` groups of channels (dim 1) of each item, then scale
    and shift per channel."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ShapeError("group_norm expects an input of shape (N, C, *)")
    N, C = input.shape[0], input.shape[1]
    if C % num_groups:
        raise GradvizError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {tuple(input.shape)} and "
                           f"num_groups={num_groups}")
    x = input.reshape(N, num_groups, -1)
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, correction=0, keepdim=True)
    out = ((x - mean) / (var + eps).sqrt()).reshape(*input.shape)
    view = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


_SPATIAL_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_NO_CORNER_MODES = ("nearest", "nearest-exact", "area")
_CUBIC_A = -0.75   # torch's (and OpenCV's) cubic convolution kernel


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims (all after N, C) to ``size`` or by ``scale_factor``: modes
    'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear' (separable, one
    dim at a time: picks and weighted sums, so the gradient flows back through them) and
    'area' (adaptive average pooling to the output size); ``antialias`` (bilinear, bicubic)
    widens the filter when shrinking, as torch's."""
    spatial = input.ndim - 2
    if not 1 <= spatial <= 3:
        raise ShapeError(f"interpolate expects (N, C, *spatial) input with 1 to 3 spatial "
                         f"dims (3-D, 4-D or 5-D), got {input.ndim}-D")
    if mode not in (*_NO_CORNER_MODES, *_SPATIAL_MODES):
        raise GradvizError(f"interpolate: mode {mode!r} is not supported (nearest, "
                           "nearest-exact, area, linear, bilinear, bicubic, trilinear)")
    if mode in _SPATIAL_MODES and _SPATIAL_MODES[mode] != spatial:
        raise ShapeError(f"interpolate: mode {mode!r} expects {_SPATIAL_MODES[mode] + 2}-D "
                         f"input, got {input.ndim}-D")
    if mode in _NO_CORNER_MODES and align_corners is not None:
        raise GradvizError("align_corners option can only be set with the interpolating "
                           "modes: linear | bilinear | bicubic | trilinear")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ArgumentError("Anti-alias option is restricted to bilinear and bicubic modes and "
                           "requires a 4-D tensor as input")
    sizes_in = tuple(input.shape[2:])
    # torch's 'area' takes sizes only: a scale_factor gives floor(size * scale_factor)
    sizes_out, scales = _out_sizes(sizes_in, size, scale_factor,
                                   recompute_scale_factor or mode == "area")
    if mode == "area":
        return getattr(_F(), f"adaptive_avg_pool{spatial}d")(input, sizes_out)
    out = input
    resize = _resize_dim_aa if antialias else _resize_dim
    for d, (n_in, n_out, scale) in enumerate(zip(sizes_in, sizes_out, scales)):
        out = resize(out, 2 + d, n_in, n_out, scale, mode, bool(align_corners))
    return out


def _out_sizes(sizes_in, size, scale_factor, recompute):
    """Output sizes, and the input/output scale per dim that torch's kernels use."""
    n = len(sizes_in)
    if (size is None) == (scale_factor is None):
        raise GradvizError("only one of size or scale_factor should be defined")
    if size is not None:
        out = (int(size),) * n if isinstance(size, int) else tuple(int(s) for s in size)
        if len(out) != n:
            raise ShapeError(f"size shape must match input shape. Input is {n}D, size is "
                             f"{len(out)}")
        return out, [None] * n
    sf = (float(scale_factor),) * n if not isinstance(scale_factor, (tuple, list)) \
        else tuple(float(s) for s in scale_factor)
    if len(sf) != n:
        raise ShapeError(f"scale_factor shape must match input shape. Input is {n}D, "
                         f"scale_factor is {len(sf)}")
    out = tuple(int(math.floor(i * s)) for i, s in zip(sizes_in, sf))
    return out, [None if recompute else 1.0 / s for s in sf]


def _resize_dim(x, dim, n_in, n_out, scale, mode, align_corners):
    xp = xp_of(x._data)
    dst = xp.arange(n_out, dtype=xp.float64)
    lead = (slice(None),) * dim
    if mode.startswith("nearest"):
        s = n_in / n_out if scale is None else scale
        src = xp.floor((dst + 0.5) * s if mode == "nearest-exact" else dst * s)
        idx = xp.minimum(src.astype(xp.int64), n_in - 1)
        return x[lead + (Tensor._wrap(idx),)]
    cubic = mode == "bicubic"
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:   # pixel centres; linear modes clamp at the first one, cubic reads past it
        src = (dst + 0.5) * (n_in / n_out if scale is None else scale) - 0.5
        src = src if cubic else xp.maximum(src, 0.0)
    base = xp.minimum(xp.floor(src), n_in - 1)
    t = xp.clip(src - base, 0.0, 1.0)
    if cubic:   # taps base-1 .. base+2
        first, weights = -1, xp.stack([_cubic_far(t + 1), _cubic_near(t), _cubic_near(1 - t),
                                       _cubic_far(2 - t)], axis=1)
    else:       # taps base, base+1
        first, weights = 0, xp.stack([1 - t, t], axis=1)
    taps = weights.shape[1]
    # border: a tap outside the input reads the nearest edge pixel (torch's clamping)
    idx = xp.clip(base.astype(xp.int64)[:, None] + xp.arange(first, first + taps), 0, n_in - 1)
    w = weights.astype(x._data.dtype).reshape((n_out, taps) + (1,) * (x.ndim - dim - 1))
    return (x[lead + (Tensor._wrap(idx),)] * Tensor._wrap(w)).sum(dim + 1)


def _cubic_near(x):
    """The cubic kernel for |x| <= 1: ((a + 2) x - (a + 3)) x^2 + 1."""
    return ((_CUBIC_A + 2) * x - (_CUBIC_A + 3)) * x * x + 1


def _cubic_far(x):
    """The cubic kernel for 1 < |x| < 2: ((a x - 5a) x + 8a) x - 4a."""
    return ((_CUBIC_A * x - 5 * _CUBIC_A) * x + 8 * _CUBIC_A) * x - 4 * _CUBIC_A


def _resize_dim_aa(x, dim, n_in, n_out, scale, mode, align_corners):
    """Antialiased resize of one dim (torch's PIL-style kernel): when shrinking, the filter
    widens by the scale so every input pixel contributes; a fixed (n_out, n_in) weight
    matrix, applied with a matmul."""
    xp = xp_of(x._data)
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    elif scale is None:
        scale = n_in / n_out
    taps = 2 if mode == "bilinear" else 4
    support = taps * 0.5 * scale if scale >= 1.0 else taps * 0.5
    inv = 1.0 / scale if scale >= 1.0 else 1.0
    weights = xp.zeros((n_out, n_in), dtype=xp.float64)
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = _aa_filter((xp.arange(lo, hi) - center + 0.5) * inv, mode, xp)
        total = w.sum()
        weights[i, lo:hi] = w / total if total != 0.0 else w
    w = Tensor._wrap(weights.T.astype(x._data.dtype))
    return (x.movedim(dim, -1) @ w).movedim(-1, dim)


def _aa_filter(x, mode, xp):
    """Triangle (bilinear) or cubic with a = -0.5 (bicubic), as torch's antialias kernels."""
    x = xp.abs(x)
    if mode == "bilinear":
        return xp.where(x < 1.0, 1.0 - x, 0.0)
    a = -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return xp.where(x < 1.0, near, xp.where(x < 2.0, far, 0.0))
