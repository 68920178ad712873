"""RMSprop, Adagrad and Adadelta: per-coordinate step sizes from running squared gradients."""
from ..engine.backend import xp_of
from ..engine.ops.fused import elementwise
from .optimizer import (_ABSENT, ArgumentError, Optimizer, apply_weight_decay,
                        check_nonnegative, impl_flags, lazy_state, new_state, scalar_state,
                        step_count)


class RMSprop(Optimizer):
    """RMSprop (torch's update, with optional momentum and centering).

    ``s = α·s + (1-α)·g²; d = sqrt(s - ḡ²) (centered) or sqrt(s); d += eps;
    b = μ·b + g/d, w -= lr·b (momentum) or w -= lr·g/d``.
    """

    _foreach_xla = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps),
                          ("momentum value", momentum), ("weight_decay value", weight_decay),
                          ("alpha value", alpha))
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      **impl_flags(foreach, _ABSENT, capturable,
                                                   differentiable)))

    def _update(self, p, w, g, group, state):
        lr, alpha, eps, wd, mu = (group["lr"], group["alpha"], group["eps"],
                                  group["weight_decay"], group["momentum"])
        if "square_avg" not in state:
            state["step"] = None
            state["square_avg"] = new_state(w)
            if mu > 0:
                state["momentum_buffer"] = new_state(w)
            if group["centered"]:
                state["grad_avg"] = new_state(w)
        step_count(state)
        s = state["square_avg"]._data
        xp = xp_of(w)
        k = None if mu > 0 or group["centered"] else elementwise(xp, "rmsprop", g, w, s)
        if k is not None:       # the GPU: the whole plain step below as one kernel
            k(g, wd, alpha, 1 - alpha, lr, eps, w, s)
            return
        g = apply_weight_decay(w, g, lr, wd)
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            ga = state["grad_avg"]._data
            ga += (1 - alpha) * (g - ga)
            avg = xp.sqrt(s - ga * ga)
        else:
            avg = xp.sqrt(s)
        avg += eps
        if mu > 0:
            buf = state["momentum_buffer"]._data
            buf *= mu
            buf += g / avg
            w -= lr * buf
        else:
            w -= lr * (g / avg)


class Adagrad(Optimizer):
    """Adagrad: ``sum += g²; w -= lr/(1+(t-1)·lr_decay) · g/(sqrt(sum)+eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_nonnegative(("learning rate", lr), ("lr_decay value", lr_decay),
                          ("weight_decay value", weight_decay),
                          ("initial_accumulator_value value", initial_accumulator_value),
                          ("epsilon value", eps))
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize,
                                      **impl_flags(foreach, fused, _ABSENT, differentiable)))
        # torch creates the state eagerly, so a fresh state_dict already holds it
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state.setdefault(p, {}), p._data)

    def _init_state(self, state, w):
        # torch fills ``sum`` with the constructor's initial_accumulator_value (the defaults'),
        # whatever a group says
        state["step"] = scalar_state(0.0)
        state["sum"] = new_state(w, self.defaults["initial_accumulator_value"])

    def _update(self, p, w, g, group, state):
        if not state:       # a parameter of a group added later: torch's lazy init
            self._init_state(state, w)
        step = step_count(state)
        g = apply_weight_decay(w, g, group["lr"], group["weight_decay"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        acc = state["sum"]._data
        acc += g * g
        std = xp_of(w).sqrt(acc)
        std += group["eps"]
        w -= clr * (g / std)


class Adadelta(Optimizer):
    """Adadelta: ``s = ρ·s + (1-ρ)·g²; δ = sqrt(a + eps)/sqrt(s + eps)·g;
    a = ρ·a + (1-ρ)·δ²; w -= lr·δ`` (``square_avg`` s, ``acc_delta`` a)."""

    _capturable_xla = False

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_nonnegative(("learning rate", lr))
        if not 0.0 <= rho <= 1.0:
            raise ArgumentError(f"Invalid rho value: {rho}")
        check_nonnegative(("epsilon value", eps), ("weight_decay value", weight_decay))
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize,
                                      **impl_flags(foreach, _ABSENT, capturable,
                                                   differentiable)))

    def _update(self, p, w, g, group, state):
        rho, eps = group["rho"], group["eps"]
        lazy_state(state, w, "square_avg", "acc_delta")
        step_count(state)
        g = apply_weight_decay(w, g, group["lr"], group["weight_decay"])
        s, a = state["square_avg"]._data, state["acc_delta"]._data
        s *= rho
        s += (1 - rho) * (g * g)
        xp = xp_of(w)
        delta = xp.sqrt(a + eps)
        delta /= xp.sqrt(s + eps)
        delta *= g
        a *= rho
        a += (1 - rho) * (delta * delta)
        w -= group["lr"] * delta
