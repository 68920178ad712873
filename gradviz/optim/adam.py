"""Adam (with AMSGrad) and AdamW, step for step as torch's single-tensor implementation."""
import math

from ..engine.backend import xp_of
from .optimizer import Optimizer, new_state, step_count


def _check(lr, eps, betas, weight_decay):
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Adam: moment estimates ``exp_avg`` (m) and ``exp_avg_sq`` (v) with bias correction.

    Update (torch): ``m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
    w -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)`` (v → running max with amsgrad).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        _check(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, w, g, group, state):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], \
            group["weight_decay"]
        if "exp_avg" not in state:
            state["step"] = None
            state["exp_avg"] = new_state(w)
            state["exp_avg_sq"] = new_state(w)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = new_state(w)
        step = step_count(state)
        if wd != 0:
            if self._decoupled:
                w *= 1 - lr * wd
            else:
                g = g + wd * w
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)
        bias1 = 1 - beta1 ** step
        bias2_sqrt = math.sqrt(1 - beta2 ** step)
        xp = xp_of(w)
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
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
