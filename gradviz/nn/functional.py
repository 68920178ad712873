"""gv.nn.functional (``F``): torch.nn.functional's names over gv.nn's Function classes."""
import numbers
import warnings

import numpy as np

from ..engine import dtypes
from ..engine import ops as EO
from ..engine.backend import xp_of
from ..engine.function import apply_unary
from ..engine.random import draws
from ..engine.tensor import Tensor
from ..engine.tensor_methods import _as_tensor
from ..errors import ArgumentError, GradvizError, ShapeError
from ..trace.hooks import HOOKS
from . import ops as O
from ._pool_conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
    sum_pool1d,
    sum_pool2d,
    sum_pool3d,
    fold,
    unfold,
)


def _t(x):
    return x if isinstance(x, Tensor) else _as_tensor(x)


def _same_dtype(what, *tensors):
    ts = [t for t in tensors if t is not None]
    kinds = {t._data.dtype for t in ts}
    if len(kinds) > 1:
        raise GradvizError(f"{what}: expected all tensors to have the same dtype, got "
                           + ", ".join(str(t.dtype) for t in ts))


# ---- affine ------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """y = input @ weight^T + bias."""
    input = _t(input)
    if input.ndim == 0 or weight.ndim not in (1, 2):
        raise ShapeError("linear: input must have at least 1 dim and weight 1 or 2 dims")
    if weight.ndim == 1:
        out = input.matmul(weight)
        return out + bias if bias is not None else out
    if input.shape[-1] != weight.shape[1]:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied "
                         f"({'x'.join(map(str, _2d(input.shape)))} and "
                         f"{weight.shape[1]}x{weight.shape[0]})")
    _same_dtype("linear", input, weight, bias)
    return O.Linear.apply(input, weight, bias)


def _2d(shape):
    if len(shape) == 1:
        return (1, shape[0])
    n = 1
    for s in shape[:-1]:
        n *= s
    return (n, shape[-1])


def bilinear(input1, input2, weight, bias=None):
    """y_k = input1^T weight_k input2 + bias_k."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError("bilinear(): input batch dimensions do not match: got "
                         f"{tuple(input1.shape[:-1])} and {tuple(input2.shape[:-1])}")
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] \
            or input2.shape[-1] != weight.shape[2]:
        raise ShapeError(f"bilinear(): weight of shape {tuple(weight.shape)} does not fit "
                         f"inputs with {input1.shape[-1]} and {input2.shape[-1]} features")
    _same_dtype("bilinear", input1, input2, weight, bias)
    return O.Bilinear.apply(input1, input2, weight, bias)


# ---- activations -----------------------------------------------------------------------------
def _float(x):
    x = _t(x)
    return x if x._data.dtype.kind == "f" else x.to(dtypes.get_default_dtype())


def relu(input, inplace=False):
    """max(x, 0)."""
    return apply_unary(EO.Relu, input if type(input) is Tensor else _t(input))


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return O.LeakyRelu.apply(_float(input), negative_slope=float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return O.Elu.apply(_float(input), alpha=float(alpha))


def gelu(input, approximate="none"):
    """x * Phi(x) (exact, with erf) or its tanh approximation (``approximate='tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise GradvizError(f"approximate argument must be either none or tanh, "
                           f"not {approximate!r}")
    return O.Gelu.apply(_float(input), approximate=approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    return O.Silu.apply(_float(input))


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return _float(input).sigmoid()


def tanh(input):
    """Hyperbolic tangent."""
    return _float(input).tanh()


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``."""
    return O.Softplus.apply(_float(input), beta=float(beta), threshold=float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val] (zero gradient at and beyond the bounds)."""
    if min_val > max_val:
        raise GradvizError("hardtanh: min_val cannot be greater than max_val")
    return O.Hardtanh.apply(_float(input), min_val=float(min_val), max_val=float(max_val))


def _softmax_dim(ndim, name, stacklevel):
    """torch's legacy implicit dim (0 for 0-, 1- and 3-D input, else 1), with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    input = _t(input)
    if dim is None:
        dim = _softmax_dim(input.ndim, "softmax", _stacklevel)
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    input = _t(input)
    if dim is None:
        dim = _softmax_dim(input.ndim, "log_softmax", _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x)."""
    input = _t(input)
    if dim is None:
        dim = _softmax_dim(input.ndim, "softmin", _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -softplus(-_t(input))


# ---- regularisation and normalisation ---------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    if p < 0 or p > 1:
        raise ArgumentError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = _t(input)
    if not training or p == 0:
        return input
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    keep = _uniform(input, tuple(input.shape)) >= p
    return O.Dropout.apply(input, _scaled_mask(input, keep, scale), p=float(p))


def _scaled_mask(input, keep, scale):
    """``keep * scale`` as an array of ``input``'s dtype (a 0-d array for a 0-d input)."""
    return xp_of(input._data).asarray((keep * scale).astype(input._data.dtype))


def _uniform(like, shape):
    """U[0, 1) draws of ``shape`` on ``like``'s device (``engine.random.draws``)."""
    return draws(like._data, "random", shape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise over every axis but the channel axis (1); updates running stats in training."""
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected at least 2-D input, got {input.ndim}-D")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"batch_norm: {name} should have shape ({c},) for input of shape "
                             f"{tuple(input.shape)}, got {tuple(t.shape)}")
    x = input._data
    if training:
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // c
        if count <= 1:
            raise ArgumentError(f"Expected more than 1 value per channel when training, got "
                               f"input size {list(input.shape)}")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        if running_mean is not None or running_var is not None:
            if HOOKS.listening:
                HOOKS.tracer.protect([b._data for b in (running_mean, running_var)
                                      if b is not None])
            m = momentum
            if running_mean is not None:
                rm = running_mean._data
                rm *= 1 - m
                rm += (m * mean).astype(rm.dtype, copy=False)
            if running_var is not None:
                rv = running_var._data
                rv *= 1 - m
                rv += (m * var * (count / (count - 1))).astype(rv.dtype, copy=False)
    else:
        if running_mean is None or running_var is None:
            raise GradvizError("batch_norm: running_mean and running_var are needed when "
                               "training=False")
        mean, var = running_mean._data, running_var._data
    return O.BatchNorm.apply(input, weight, bias, mean, var, training=bool(training),
                             eps=float(eps))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift."""
    k = len(_trailing_shape(input, normalized_shape))
    return O.LayerNorm.apply(input, weight, bias, normalized_ndim=k, eps=float(eps))


def _trailing_shape(input, normalized_shape):
    """``normalized_shape`` as a tuple, checked to be the input's trailing dims."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise ShapeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                         f"with shape [*, {', '.join(map(str, normalized_shape))}], but got "
                         f"input of size{list(input.shape)}")
    return normalized_shape


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along ``dim``."""
    # Tensor.norm knows p = inf / 0 / negative and has torch's zero gradient at a zero vector
    norm = input.norm(p, dim, keepdim=True)
    return input / norm.clamp(min=eps)


# ---- lookup, padding, encoding ------------------------------------------------------------------
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``.

    ``max_norm``: the looked-up rows of ``weight`` whose ``norm_type``-norm exceeds it are
    first rescaled in place (no gradient) to that norm; ``scale_grad_by_freq``: each row's
    gradient is divided by how often its index occurs in ``input``; ``sparse=True``
    (sparse gradients) is not supported."""
    from .functional_embedding_bag import check_dense, renorm_rows_, scale_grad_by_freq_
    idx = input if isinstance(input, Tensor) else Tensor._wrap(np.asarray(input))
    if idx._data.dtype.kind not in "iu":
        raise GradvizError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {idx.dtype} instead")
    n = weight.shape[0]
    if idx.numel() and (int(idx._data.min()) < 0 or int(idx._data.max()) >= n):
        raise IndexError(f"index out of range in self (indices must be in [0, {n}))")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise GradvizError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    check_dense("embedding", sparse)
    if max_norm is not None:
        renorm_rows_(weight, idx._data, max_norm, norm_type)
    out = O.Embedding.apply(idx, weight, padding_idx=padding_idx)
    if scale_grad_by_freq and out.requires_grad:
        scale_grad_by_freq_(out, idx._data, weight.shape[0])
    return out


def _reflect_index(n, lo, hi, mode):
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":  # torch crops by negative pads first, then wraps what is left
        start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % max(kept, 1)
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: pad = (last_lo, last_hi, prev_lo, prev_hi, ...)."""
    input = _t(input)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise GradvizError("Padding length must be divisible by 2 and at most twice the "
                           f"number of dimensions of the input, got {len(pad)}")
    pad = tuple(int(p) for p in pad)
    if mode == "constant":
        return O.Pad.apply(input, pad=pad, value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise GradvizError(f"Unrecognised padding mode {mode!r}")
    n_pad = len(pad) // 2
    if n_pad not in (1, 2, 3) or input.ndim not in (n_pad + 1, n_pad + 2):
        # torch's kernels only pad the spatial dims of a (batched or not) 1-3-D signal
        raise ShapeError(f"Padding size {len(pad)} is not supported for {input.ndim}D input "
                         "tensor.\nSupported combinations for non-constant padding:\n"
                         "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                         "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                         "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    out = input
    for i in range(len(pad) // 2):
        ax = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (lo >= input.shape[ax] or hi >= input.shape[ax]):
            raise GradvizError(f"Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {ax} "
                               f"of input {list(input.shape)}")
        size = input.shape[ax] + lo + hi
        if size < 0 or (size == 0 and mode != "circular"):
            raise GradvizError(f"input (size {input.shape[ax]} at dimension {ax}) is too small "
                               f"for padding ({lo}, {hi}): the output size would be {size}")
        if mode == "circular" and (lo > input.shape[ax] or hi > input.shape[ax]):
            raise GradvizError("Padding value causes wrapping around more than once.")
        idx = _reflect_index(input.shape[ax], lo, hi, mode)
        out = out[(slice(None),) * ax + (idx,)]
    return out


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last axis of ``num_classes`` (max + 1 when -1)."""
    arr = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if arr.dtype.kind not in "iu":
        raise GradvizError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = xp_of(arr)  # on the device: only min/max come back to the host
    if not arr.size and num_classes <= 0:
        raise GradvizError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(arr.max()) + 1
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= num_classes):
        raise GradvizError("Class values must be smaller than num_classes and non-negative.")
    return Tensor._wrap((arr[..., None] == xp.arange(num_classes)).astype(np.int64))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim."""
    return _t(input).flatten(start_dim, end_dim)


from .functional_losses import *
from .functional_losses import __all__ as _loss_all
from .functional_attention import scaled_dot_product_attention  # noqa: E402
from .functional_composite import *  # noqa: E402,F401,F403
from .functional_composite import __all__ as _composite_all  # noqa: E402
from .functional_losses_composite import *  # noqa: E402,F401,F403
from .functional_losses_composite import __all__ as _loss2_all  # noqa: E402
from .functional_more import *  # noqa: E402,F401,F403
from .functional_more import __all__ as _more_all  # noqa: E402
from .functional_norm import *  # noqa: E402,F401,F403
from .functional_norm import __all__ as _norm_all  # noqa: E402
from .functional_pool import *  # noqa: E402,F401,F403
from .functional_pool import __all__ as _pool_all  # noqa: E402
from .functional_embedding_bag import embedding_bag  # noqa: E402
from .functional_spatial import *  # noqa: E402,F401,F403
from .functional_spatial import __all__ as _spatial_all  # noqa: E402
from .functional_mha import multi_head_attention_forward  # noqa: E402
from .functional_fractional import *  # noqa: E402,F401,F403
from .functional_fractional import __all__ as _fractional_all  # noqa: E402

__all__ = ["linear", "bilinear", "relu", "relu6", "leaky_relu", "elu", "gelu", "silu",
           "sigmoid", "tanh", "softplus", "hardtanh", "softmax", "log_softmax", "softmin",
           "logsigmoid", "dropout", "batch_norm", "layer_norm", "normalize", "embedding", "pad",
           "one_hot", "flatten", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "avg_pool1d", "avg_pool2d", "avg_pool3d", "sum_pool1d", "sum_pool2d", "sum_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "scaled_dot_product_attention", "unfold", "fold", "embedding_bag", *_loss_all,
           *_composite_all, *_loss2_all, *_more_all, *_norm_all, *_pool_all,
           *_spatial_all, *_fractional_all, "multi_head_attention_forward"]
