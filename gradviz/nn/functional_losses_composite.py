"""Losses composed of existing ops (the graph shows their steps): ranking, embedding and
margin losses, and the Poisson / Gaussian likelihoods, with torch's formulas and
``reduction`` ('none' | 'mean' | 'sum')."""
import math

import numpy as np

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..engine.tensor_methods import _as_tensor, where
from ..errors import GradvizError, ShapeError
from .functional_composite import _F
from .functional_losses import LossArgumentError, _reduction, legacy_reduction

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _t(x, like):
    return x if isinstance(x, Tensor) else _as_tensor(x, like)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    loss = (-_t(target, input1) * (input1 - input2) + margin).clamp_min(0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    target = _t(target, input)
    loss = where(target != 1, (margin - input).clamp_min(0), 0.0) \
        + where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    return _reduce(_F().softplus(-_t(target, input) * input), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    dim = input1.ndim - 1
    eps = 1e-12
    dot = (input1 * input2).sum(dim)
    cos = dot / (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    target = _t(target, input1)
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp_min(0),
                                                    0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-distance (with
    ``swap``: the smaller of d(anchor, negative) and d(positive, negative))."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    F = _F()
    d_pos = F.pairwise_distance(anchor, positive, p, eps)
    d_neg = F.pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(F.pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (``log_input``), or input - target * log(input + eps);
    ``full`` adds Stirling's term for targets above 1."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    target = _t(target, input)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        # the target is not detached: torch's Stirling term differentiates into the target
        big = target.detach() > 1
        safe = where(big, target, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) with ``full``); var is
    clamped at ``eps`` for the value only, as torch (the gradient passes unclamped)."""
    reduction = _reduction(reduction)
    if not isinstance(var, Tensor):
        # a float: one variance for everything, in the input's dtype (as torch's var * ones)
        var = input.new_full(tuple(input.shape), float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(var.shape) == tuple(input.shape[:-1]):
            var = var.unsqueeze(-1)                # one variance per item (homoscedastic)
        elif var.ndim != input.ndim or sum(
                v for i, v in zip(input.shape, var.shape) if i != v) != 1:
            # torch's rule: besides the cases above only one size-1 axis may broadcast
            raise LossArgumentError("var is of incorrect size")
    if (var._data < 0).any():
        raise LossArgumentError("var has negative entry/entries")
    var = var + (var.detach().clamp_min(eps) - var.detach())   # torch's no-grad clamp
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-(target log sigmoid(x) + (1 - target) log sigmoid(-x)), averaged over the classes."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    F = _F()
    target = _t(target, input)
    loss = -(target * F.logsigmoid(input) + (1 - target) * F.logsigmoid(-input))
    if weight is not None:
        loss = loss * _t(weight, input)
    return _reduce(loss.mean(dim=input.ndim - 1), reduction)


def _class_scores(input, target):
    """input as (N, C) scores (a 0-d or 1-d input is one item), after torch's checks of its
    rank and of the target's type (long)."""
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise ShapeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                         f"size, but got: {list(input.shape)}")
    if target._data.dtype != np.int64:
        raise GradvizError(f"expected scalar type Long but found {target.dtype}")
    return input.reshape(-1, input.shape[-1] if input.ndim else 1)


def _mean_or_sum(loss, reduction):
    """torch's reduction of these losses: the mean of no items is 0, not NaN."""
    if reduction == "mean" and loss.numel() == 0:
        return loss.sum()
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Per item, the sum over the classes j other than the target y of
    max(0, margin - x[y] + x[j])^p (times weight[y]), divided by the number of classes."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    if p not in (1, 2):
        raise LossArgumentError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise LossArgumentError("weight must be one-dimensional")
    x = _class_scores(input, target)
    if target.ndim > 1 or target.numel() != x.shape[0]:
        raise ShapeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                         f"the number of input samples (batch size). Expected target size "
                         f"[{x.shape[0]}], but got {list(target.shape)}. Input has shape "
                         f"{list(input.shape)}.")
    y = target.reshape(-1)
    c = x.shape[1]
    if y.numel() and (int(y._data.min()) < 0 or int(y._data.max()) >= c):
        raise GradvizError("target out of range")
    if weight is not None and tuple(weight.shape) != (c,):
        raise ShapeError(f"inconsistent weight size, expected {c} but got "
                         f"{list(weight.shape)}")
    z = (margin - x.gather(1, y.unsqueeze(1)) + x).relu()
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _t(weight, input).detach()[y].unsqueeze(1)   # no gradient, as torch
    other = Tensor._wrap(y._data[:, None] != xp_of(y._data).arange(c))
    loss = (where(other, z, 0.0).sum(1) / c).reshape(tuple(target.shape))
    return _mean_or_sum(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per item, the sum over its target classes j (the entries of ``target`` up to the first
    -1) and its other classes k of max(0, 1 - (x[j] - x[k])), divided by the number of
    classes."""
    reduction = _reduction(legacy_reduction(size_average, reduce, reduction))
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                         f"{list(input.shape)}")
    x = _class_scores(input, target)
    c = x.shape[1]
    t = target._data.reshape(x.shape)
    if t.size and (int(t.min()) < -1 or int(t.max()) >= c):
        raise GradvizError("argument #2 'target' is out of range")
    xp = xp_of(t)
    listed = xp.cumprod(t >= 0, axis=1).astype(bool)       # the entries before the first -1
    cls = xp.where(listed, t, 0)
    is_target = ((cls[:, :, None] == xp.arange(c)) & listed[:, :, None]).any(axis=1)
    pairs = Tensor._wrap(listed[:, :, None] & ~is_target[:, None, :])   # (item, entry, k)
    z = (1 - x.gather(1, Tensor._wrap(cls)).unsqueeze(2) + x.unsqueeze(1)).relu()
    loss = where(pairs, z, 0.0).sum((1, 2)) / c
    return _mean_or_sum(loss.reshape(tuple(input.shape[:-1])), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance function
    ``d`` (pairwise_distance by default); ``swap`` takes the smaller of d(anchor, negative)
    and d(positive, negative)."""
    reduction = _reduction(reduction)
    if margin <= 0:
        raise LossArgumentError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"The anchor, positive, and negative tensors are expected to have the "
                         f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                         f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    d = distance_function if distance_function is not None else _F().pairwise_distance
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(d(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)
