"""Loss functions with torch's signatures (``F.mse_loss`` ... ``F.ctc_loss``).

Each checks its arguments the way torch does, then runs one fused op from
``gradviz.nn.ops.loss_ops`` / ``gradviz.nn.ops.ctc``.
"""
import warnings

import numpy as np

from ..engine import tensor_methods as M
from ..engine.backend import CPU, gpu_index, move
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError, ShapeError
from .ops import loss_ops as L
from .ops.ctc import CTCLoss

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "ctc_loss"]


class LossArgumentError(ArgumentError):
    """A loss called with an argument it cannot take (reduction name, negative beta...)."""


# ---- argument helpers ---------------------------------------------------------------------------
def legacy_reduction(size_average, reduce, reduction):
    """torch's old ``size_average``/``reduce`` flags as a reduction name (they override it)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _reduction(reduction, extra=()):
    if reduction not in ("none", "mean", "sum") + tuple(extra):
        raise LossArgumentError(f"{reduction} is not a valid value for reduction")
    return reduction


def _pair(input, target, name):
    """input and target as Tensors of one dtype (torch's promotion)."""
    if not isinstance(input, Tensor):
        raise GradvizError(f"{name}(): argument 'input' must be Tensor, not "
                           f"{type(input).__name__}")
    return M._coerce(input, target if isinstance(target, Tensor) else M._as_tensor(target, input))


def _warn_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({_size(target)}) that is different to the input "
                      f"size ({_size(input)}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


def _size(t):
    return f"gradviz.Size({list(t.shape)})"


def _const(w, like, what="weight"):
    """A weight argument as a constant array of the input's dtype (or None)."""
    if w is None:
        return None
    arr = w._data if isinstance(w, Tensor) else np.asarray(w)
    if arr.dtype.kind not in "fiub":
        raise GradvizError(f"{what} must be a numeric tensor, got dtype {arr.dtype}")
    return _on(arr.astype(like._data.dtype, copy=False), like)


def _on(arr, like):
    """``arr`` on ``like``'s device (host arrays may not enter a CUDA op)."""
    return arr if type(like._data) is np.ndarray else move(arr, like.device)


def _weighted(loss, weight, reduction, plain_mean):
    """torch's elementwise ``weight`` for mse/l1 ('mean' divides by sum(weight)) and huber
    ('mean' is the plain mean of the weighted losses)."""
    if tuple(weight.shape) != tuple(loss.shape):
        raise LossArgumentError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if plain_mean else loss.sum() / weight.sum()


# ---- regression losses --------------------------------------------------------------------------
def _pointwise(cls, name, input, target, reduction, weight=None, **params):
    input, target = _pair(input, target, name)
    _warn_size(input, target)
    reduction = _reduction(reduction)
    if weight is not None:
        return _weighted(cls.apply(input, target, reduction="none", **params), weight, reduction,
                         cls is L.HuberLoss)
    return cls.apply(input, target, reduction=reduction, **params)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: (input - target)^2, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _pointwise(L.MSELoss, "mse_loss", input, target, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: |input - target|, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _pointwise(L.L1Loss, "l1_loss", input, target, reduction, weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise LossArgumentError("smooth_l1_loss does not support negative values for beta.")
    return _pointwise(L.SmoothL1Loss, "smooth_l1_loss", input, target, reduction,
                      beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target)."""
    if delta <= 0:
        raise LossArgumentError("huber_loss does not support non-positive values for delta.")
    return _pointwise(L.HuberLoss, "huber_loss", input, target, reduction, weight,
                      delta=float(delta))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with ``input`` as log-probabilities: target (log target - input)."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction), ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    input, target = _pair(input, target, "kl_div")
    if reduction == "batchmean":
        return L.KLDiv.apply(input, target, reduction="mean", log_target=bool(log_target),
                             batchmean=True)
    return L.KLDiv.apply(input, target, reduction=reduction, log_target=bool(log_target))


# ---- binary classification ----------------------------------------------------------------------
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x (logs clamped at -100)."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    input, target = _pair(input, target, "binary_cross_entropy")
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"Using a target size ({_size(target)}) that is different to the input "
                         f"size ({_size(input)}) is deprecated. Please ensure they have the same "
                         "size.")
    x = input._data
    if x.size and not bool(((x >= 0) & (x <= 1)).all()):
        raise GradvizError("all elements of input should be between 0 and 1")
    return L.BCELoss.apply(input, target, reduction=reduction, weight=_const(weight, input))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE on logits, computed stably; ``pos_weight`` weighs the positive term per class."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    input, target = _pair(input, target, "binary_cross_entropy_with_logits")
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"Target size ({_size(target)}) must be the same as input size "
                         f"({_size(input)})")
    return L.BCEWithLogits.apply(input, target, reduction=reduction, weight=_const(weight, input),
                                 pos_weight=_const(pos_weight, input, "pos_weight"))


# ---- multi-class ---------------------------------------------------------------------------------
def _class_args(name, input, target, weight, ignore_index, allow_prob):
    """Check (N, C, d...) / (C,) input against its target; returns (target, weight array)."""
    if not isinstance(input, Tensor):
        raise GradvizError(f"{name}(): argument 'input' must be Tensor")
    if input.ndim < 1:
        raise ShapeError(f"{name}: input must have at least 1 dimension (classes), got a scalar")
    target = target if isinstance(target, Tensor) else M._as_tensor(target, input)
    n_cls = input.shape[1] if input.ndim > 1 else input.shape[0]
    w = _const(weight, input)
    if w is not None and w.shape != (n_cls,):
        raise ShapeError(f"weight tensor should be defined either for all {n_cls} classes or no "
                         f"classes but got weight tensor of shape: {list(w.shape)}")
    kind = target._data.dtype.kind
    if kind == "f" and allow_prob:
        if tuple(target.shape) != tuple(input.shape):
            raise ShapeError(f"{name}: class-probability target of shape {list(target.shape)} "
                             f"does not match input of shape {list(input.shape)}")
        if ignore_index != -100:
            raise LossArgumentError("ignore_index is not supported for floating point target")
        return target.to(input.dtype) if target.dtype != input.dtype else target, w
    if kind not in "iu":
        raise GradvizError(f"{name}: expected class indices of an integer dtype as target, got "
                           f"{target.dtype}")
    want = (input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    if tuple(target.shape) != tuple(want):
        if input.ndim > 1 and (target.ndim == 0 or target.shape[0] != input.shape[0]):
            got = target.shape[0] if target.ndim else 0
            raise ShapeError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({got}).")
        raise ShapeError(f"{name}: expected target of shape {list(want)} for input of shape "
                         f"{list(input.shape)}, got {list(target.shape)}")
    t = target._data
    if t.size and not L.class_indices_below(t, n_cls):   # one reduction (one GPU sync)
        bad = (t != ignore_index) & ((t < 0) | (t >= n_cls))
        if bad.any():
            raise GradvizError(f"Target {int(t[bad].ravel()[0])} is out of bounds.")
    return target, w


def _plain_classes(input, target):
    """True for a float (N, C) input and (N,) integer targets all in [0, C) on the same
    device: the case that ``_class_args`` passes unchanged (the range checked with one
    reduction: on the GPU the step's one synchronisation, where torch asserts on the device)."""
    if type(input) is not Tensor or type(target) is not Tensor:
        return False
    x, t = input._data, target._data
    kind = type(x)
    if type(t) is not kind or kind is not np.ndarray and gpu_index(x) != gpu_index(t) \
            or x.ndim != 2 or x.dtype.type not in _FLOAT_TYPES or t.shape != x.shape[:1] \
            or not t.size:
        return False
    return L.class_indices_below(t, x.shape[1])


_FLOAT_TYPES = (np.float32, np.float64, np.float16)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-w[t] input[t] for log-probability input (N, C, d...) and class targets (N, d...)."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    target, w = _class_args("nll_loss", input, target, weight, ignore_index, False)
    return L.NLLLoss.apply(input, target, weight=w, ignore_index=int(ignore_index),
                           reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 then NLL (class indices) or -sum p log q (probability targets)."""
    if (weight is None and size_average is None and reduce is None and ignore_index == -100
            and label_smoothing == 0.0 and (reduction == "mean" or reduction == "sum")
            and _plain_classes(input, target)):
        # the usual call, already checked: the same op and attributes as below
        return L.cross_entropy_plain(input, target, reduction)
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise LossArgumentError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                                f"{label_smoothing}")
    target, w = _class_args("cross_entropy", input, target, weight, ignore_index, True)
    if input.dtype.name not in ("float16", "float32", "float64"):
        raise GradvizError(f"cross_entropy: expected a floating-point input, got {input.dtype}")
    return L.CrossEntropy.apply(input, target, weight=w, ignore_index=int(ignore_index),
                                label_smoothing=float(label_smoothing), reduction=reduction)


# ---- CTC -----------------------------------------------------------------------------------------
def _host(v):
    """Labels or lengths as a host array: they are read here to check and pad (one copy when a
    device tensor holds them; torch too reads the lengths on the CPU)."""
    return move(v._data, CPU) if isinstance(v, Tensor) else np.asarray(v)


def _lengths(v, n, what):
    arr = _host(v)
    if arr.dtype.kind not in "iu" and arr.size:
        raise GradvizError(f"ctc_loss: {what} must hold integers, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.int64).reshape(-1)
    if arr.shape != (n,):
        raise ShapeError(f"ctc_loss: {what} must have one entry per batch item ({n}), got "
                         f"{arr.shape[0]}")
    if (arr < 0).any():
        raise GradvizError(f"ctc_loss: {what} must be non-negative, got {arr.tolist()}")
    return arr


def _padded_targets(targets, target_lengths, batched):
    """Targets as a padded (N, S) int64 array (S = longest target)."""
    t = _host(targets)
    if t.size and t.dtype.kind not in "iu":
        raise GradvizError(f"ctc_loss: targets must hold integer class indices, got {t.dtype}")
    t = t.astype(np.int64)
    s = int(target_lengths.max()) if target_lengths.size else 0
    if not batched:
        t = t.reshape(1, -1)
    if t.ndim == 2:
        if s > t.shape[1]:
            raise ShapeError(f"Expected tensor to have size at least {s} at dimension 1, but got "
                             f"size {t.shape[1]} for targets")
        return t[:, :s]
    if t.ndim != 1:
        raise ShapeError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated, got "
                         f"shape {list(t.shape)}")
    total = int(target_lengths.sum())
    if total > t.shape[0]:
        raise ShapeError(f"ctc_loss: target_lengths sum to {total} but targets has only "
                         f"{t.shape[0]} labels")
    starts = np.cumsum(target_lengths) - target_lengths
    idx = starts[:, None] + np.arange(s)[None, :]
    inside = np.arange(s)[None, :] < target_lengths[:, None]
    return np.where(inside, t[np.minimum(idx, max(t.shape[0] - 1, 0))] if t.size else 0, 0)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss of log_probs (T, N, C) against label targets."""
    reduction = _reduction(reduction)
    if not isinstance(log_probs, Tensor) or log_probs.ndim not in (2, 3):
        raise ShapeError("ctc_loss: log_probs must be a Tensor of shape (T, N, C) or (T, C)")
    if log_probs.dtype.name not in ("float32", "float64"):
        raise GradvizError(f"ctc_loss: log_probs must be float32 or float64, got "
                           f"{log_probs.dtype}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise GradvizError(f"blank must be in label range: blank {blank} with {C} classes")
    il = _lengths(input_lengths, N, "input_lengths")
    tl = _lengths(target_lengths, N, "target_lengths")
    if (il > T).any():
        raise GradvizError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(il.max())}")
    padded = _padded_targets(targets, tl, batched)
    if padded.shape[0] != N:
        raise ShapeError(f"ctc_loss: targets have {padded.shape[0]} rows for a batch of {N}")
    inside = np.arange(padded.shape[1])[None, :] < tl[:, None]
    if ((padded < 0) | (padded >= C))[inside].any():
        raise GradvizError(f"ctc_loss: target labels must lie in [0, {C}), got "
                           f"{padded[inside].min()}..{padded[inside].max()}")
    out = CTCLoss.apply(lp, _on(padded, lp), _on(il, lp), _on(tl, lp), blank=int(blank),
                        reduction=reduction, zero_infinity=bool(zero_infinity))
    return out if batched or reduction != "none" else out.squeeze(0)
