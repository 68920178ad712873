"""Adamax, NAdam and RAdam: Adam's moments with another step, as torch's single-tensor code.

Their scalar state (``step``, NAdam's ``mu_product``) lives on the host, as torch keeps it on
the CPU, so a step on a device copies nothing back.
"""
from ..engine.backend import xp_of
from .adam import AdamBase, moments
from .optimizer import (_ABSENT, apply_weight_decay, check_nonnegative, impl_flags,
                        lazy_state, lerp_, new_state, scalar_state, step_count)


class Adamax(AdamBase):
    """Adamax (Adam with the infinity norm): ``m = lerp(m, g, 1-β1);
    u = max(β2·u, |g| + eps); w -= lr/(1-β1^t) · m/u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        super().__init__(params, lr, betas, eps, weight_decay, maximize=maximize,
                         **impl_flags(foreach, _ABSENT, capturable, differentiable))

    def _update(self, p, w, g, group, state):
        lr, (beta1, beta2) = group["lr"], group["betas"]
        lazy_state(state, w, "exp_avg", "exp_inf")
        step = step_count(state)
        g = apply_weight_decay(w, g, lr, group["weight_decay"])
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(m, g, 1 - beta1)
        u *= beta2
        xp_of(w).maximum(u, abs(g) + group["eps"], out=u)
        w -= (lr / (1 - beta1 ** step)) * (m / u)


class NAdam(AdamBase):
    """NAdam (Adam with Nesterov momentum): the momentum schedule
    ``μ_t = β1·(1 - ½·0.96^(t·momentum_decay))`` and its running product ``mu_product``;
    ``w -= lr·(1-μ_t)/(1-Πμ)·g/d + lr·μ_{t+1}/(1-Πμ·μ_{t+1})·m/d``,
    ``d = sqrt(v/(1-β2^t)) + eps``."""

    _capturable_what = "params, mu_products and state_steps"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        super().__init__(params, lr, betas, eps, weight_decay, momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                         **impl_flags(foreach, _ABSENT, capturable, differentiable))
        check_nonnegative(("momentum_decay value", momentum_decay))   # after the rest, as torch

    def _update(self, p, w, g, group, state):
        lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
        if lazy_state(state, w):
            state["mu_product"] = scalar_state(1.0)
            state["exp_avg"], state["exp_avg_sq"] = new_state(w), new_state(w)
        step = step_count(state)
        g = apply_weight_decay(w, g, lr, group["weight_decay"],
                               group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product = state["mu_product"]._data
        mu_product *= mu                        # float32, as torch's CPU scalar tensor
        mu_product = float(mu_product)
        m, v = moments(state, g, beta1, beta2)
        denom = xp_of(w).sqrt(v / (1 - beta2 ** step))
        denom += group["eps"]
        w -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        w -= (lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)


class RAdam(AdamBase):
    """RAdam (rectified Adam): Adam's step scaled by the variance rectification
    ``r_t = sqrt((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))`` once ``ρ_t > 5``, momentum SGD
    (``w -= lr·m/(1-β1^t)``) before."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        super().__init__(params, lr, betas, eps, weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                         **impl_flags(foreach, _ABSENT, capturable, differentiable))

    def _update(self, p, w, g, group, state):
        lr, (beta1, beta2) = group["lr"], group["betas"]
        lazy_state(state, w, "exp_avg", "exp_avg_sq")
        step = step_count(state)
        g = apply_weight_decay(w, g, lr, group["weight_decay"],
                               group["decoupled_weight_decay"])
        m, v = moments(state, g, beta1, beta2)
        bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            root = xp_of(w).sqrt(v)
            root += group["eps"]
            w -= (m / bias1 * lr) * (bias2 ** 0.5 / root) * rect
        else:
            w -= m / bias1 * lr
