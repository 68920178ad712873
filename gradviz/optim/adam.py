"""Adam (with AMSGrad) and AdamW, step for step as torch's single-tensor implementation;
the helpers Adam's variants (adam_variants.py) share."""
import math

from ..engine.backend import xp_of
from ..engine.ops.fused import elementwise
from ..engine.tensor import Tensor
from .optimizer import (ArgumentError, Optimizer, apply_weight_decay, check_nonnegative,
                        impl_flags, lazy_state, lerp_, new_state, step_count)


def check_adam(lr, eps, betas, wd):
    """torch's checks of lr, eps, betas and weight_decay (ValueError, in its order)."""
    check_nonnegative(("learning rate", lr), ("epsilon value", eps))
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ArgumentError(f"Invalid beta parameter at index {i}: {b}")
    check_nonnegative(("weight_decay value", wd))


def moments(state, g, beta1, beta2):
    """Update and return the moment arrays: ``m = lerp(m, g, 1-β1); v = β2·v + (1-β2)·g²``."""
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    lerp_(m, g, 1 - beta1)
    v *= beta2
    v += (1 - beta2) * (g * g)
    return m, v


class AdamBase(Optimizer):
    """The Adam family's hyper-parameters (lr, betas, eps, weight_decay), checked as torch."""

    def __init__(self, params, lr, betas, eps, weight_decay, **options):
        check_adam(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, **options))


class Adam(AdamBase):
    """Adam: moment estimates ``exp_avg`` (m) and ``exp_avg_sq`` (v) with bias correction.

    Update (torch): ``m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
    w -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)`` (v → running max with amsgrad).
    """

    _decoupled = False
    _foreach_capturable_first = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ArgumentError("lr as a Tensor is not supported for capturable=False and "
                                "foreach=True")
        check_adam(lr, eps, betas, weight_decay)
        if not (all(isinstance(b, float) for b in betas[:2])     # torch's Adam only
                or all(isinstance(b, Tensor) for b in betas[:2])):
            raise ArgumentError("betas must be either both floats or both Tensors")
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                         **impl_flags(foreach, fused, capturable, differentiable))

    def _update(self, p, w, g, group, state):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if lazy_state(state, w, "exp_avg", "exp_avg_sq") and group["amsgrad"]:
            state["max_exp_avg_sq"] = new_state(w)
        step = step_count(state)
        bias1 = 1 - beta1 ** step
        bias2_sqrt = math.sqrt(1 - beta2 ** step)
        xp = xp_of(w)
        wd, decoupled = group["weight_decay"], group.get("decoupled_weight_decay",
                                                          self._decoupled)
        if not group["amsgrad"] and isinstance(beta1, float):
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            k = elementwise(xp, "adam" if beta1 > 0.5 else "adam_lerp_high", g, w, m, v)
            if k is not None:   # the GPU: the whole step below as one kernel
                k(g, 0.0 if decoupled else wd, 1 - lr * wd if decoupled else 1.0, 1 - beta1,
                  beta2, 1 - beta2, lr / bias1, bias2_sqrt, eps, w, m, v)
                return
        g = apply_weight_decay(w, g, lr, wd, decoupled)
        m, v = moments(state, g, beta1, beta2)
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v) / bias2_sqrt
        denom += eps
        w -= (lr / bias1) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w *= 1 - lr·wd`` before the Adam step."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
