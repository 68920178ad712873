"""``F.instance_norm``, ``F.rms_norm`` and ``F.local_response_norm`` composed of existing ops
(BatchNorm, Mean, Rsqrt, AvgPool...), as torch composes them: values and gradients match."""
import math

import numpy as np

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError, ShapeError
from ..trace.hooks import HOOKS
from .functional_composite import _F

__all__ = ["instance_norm", "rms_norm", "local_response_norm"]


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (item, channel) plane of (N, C, *) over its own values: batch_norm of
    the input seen as one item with N * C channels, the running statistics (per channel)
    updated with the mean over the items, as torch."""
    if input.ndim < 2:
        raise ShapeError(f"instance_norm expects an input of shape (N, C, *), got "
                         f"{list(input.shape)}")
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ArgumentError(f"Expected more than 1 spatial element when training, got input "
                            f"size {input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise GradvizError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    b, c = input.shape[:2]
    stats = [None if t is None else Tensor._wrap(xp_of(t._data).tile(t._data, b))
             for t in (running_mean, running_var)]
    affine = [None if t is None else t.repeat(b) for t in (weight, bias)]
    out = _F().batch_norm(input.reshape(1, b * c, *input.shape[2:]), *stats, *affine,
                          training=use_input_stats, momentum=momentum, eps=eps)
    if use_input_stats:
        kept = [(t, s) for t, s in zip((running_mean, running_var), stats) if t is not None]
        if HOOKS.listening and kept:
            HOOKS.tracer.protect([t._data for t, _ in kept])
        for t, s in kept:
            t._data[...] = s._data.reshape(b, c).mean(axis=0)
    return out.reshape(*input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x²) + eps) over the trailing ``normalized_shape`` axes, times
    ``weight``; eps defaults to the machine epsilon of the input's float type (float32's for
    float16, as torch)."""
    shape = _F()._trailing_shape(input, normalized_shape)
    if weight is not None and tuple(weight.shape) != shape:
        raise ShapeError(f"Expected weight to be of same shape as normalized_shape, but got "
                         f"weight of shape {list(weight.shape)} and normalized_shape = "
                         f"{list(shape)}")
    if eps is None:
        eps = float(np.finfo(np.promote_types(input._data.dtype, np.float32)).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x² over ``size`` neighbouring channels)^beta (channels are
    dim 1; the window is zero-padded at the ends), as torch builds it from avg pooling."""
    dim = input.ndim
    if dim < 3:
        raise ShapeError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    F = _F()
    div = input * input
    ends = (size // 2, (size - 1) // 2)
    if dim == 3:
        div = F.pad(div.unsqueeze(1), (0, 0, *ends))
        div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        div = F.pad(div.reshape(sizes[0], 1, sizes[1], sizes[2], -1), (0, 0, 0, 0, *ends))
        div = F.avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).reshape(*sizes)
    return input / (div * alpha + k) ** beta
