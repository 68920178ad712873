"""Losses composed of existing ops (the graph shows their steps): ranking, embedding and
margin losses, and the Poisson / Gaussian likelihoods, with torch's formulas and
``reduction`` ('none' | 'mean' | 'sum')."""
import math

from ..engine.tensor import Tensor
from ..engine.tensor_methods import _as_tensor, where
from .functional_composite import _F
from .functional_losses import LossArgumentError, _reduction, legacy_reduction

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "multilabel_soft_margin_loss"]


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
        t = target.detach()
        safe = where(t > 1, t, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) with ``full``); var is
    clamped at ``eps`` for the value only, as torch (the gradient passes unclamped)."""
    reduction = _reduction(reduction)
    var = _t(var, input)
    if var.ndim == input.ndim - 1 and tuple(var.shape) == tuple(input.shape[:-1]):
        var = var.unsqueeze(-1)                    # one variance per item (homoscedastic)
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
