"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD's update), and
ASGD (averaged SGD)."""
import numpy as np

from ..engine.backend import xp_of
from ..engine.function import note_inplace
from ..engine.ops.fused import elementwise
from ..engine.tensor import Tensor
from ..trace.hooks import HOOKS
from .optimizer import (_ABSENT, Optimizer, _raise_shape, apply_weight_decay,
                        check_nonnegative, impl_flags, lazy_state, required, scalar_state,
                        step_count)


class SGD(Optimizer):
    """Stochastic gradient descent; ``momentum_buffer`` is kept per parameter when momentum > 0.

    Update (torch): ``g += wd·w; b = μ·b + (1-τ)·g (b = g at the first step);
    g = g + μ·b if nesterov else b; w -= lr·g``.
    """

    _foreach_differentiable = True   # torch's foreach SGD has no such assert

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr is not required:
            check_nonnegative(("learning rate", lr))
        check_nonnegative(("momentum value", momentum), ("weight_decay value", weight_decay))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize,
                                      **impl_flags(foreach, fused, _ABSENT, differentiable)))

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        if closure is not None or HOOKS.listening or type(self)._update is not SGD._update:
            return super().step(closure)
        groups = self.param_groups
        for group in groups:
            if (group["momentum"] != 0 or group["weight_decay"] != 0 or group.get("maximize")
                    or group.get("differentiable")):
                return super().step(closure)
        # plain SGD, nothing listening: Optimizer.step's work with _update inlined
        states = self.state
        for group in groups:
            lr = group["lr"]
            if isinstance(lr, Tensor):
                lr = lr.item()
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                w = p._data
                g = grad._data
                if g.shape != w.shape:
                    _raise_shape(g, w)
                if p not in states:
                    states[p] = {}
                note_inplace(p)
                k = None if type(w) is np.ndarray else elementwise(xp_of(w), "sgd", g, w)
                if k is None:
                    w -= lr * g
                else:           # the GPU: one kernel, not two
                    k(g, lr, w)
        return None

    def _update(self, p, w, g, group, state):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        buf = state.get("momentum_buffer")
        if mu != 0 and buf is not None:
            b = buf._data
            name = "sgd_nesterov" if group["nesterov"] else "sgd_momentum"
            k = elementwise(xp_of(w), name, g, w, b)
            if k is not None:   # the GPU: the whole step below as one kernel
                k(g, wd, mu, 1 - group["dampening"], lr, w, b)
                return
        g = apply_weight_decay(w, g, lr, wd)
        if mu != 0:
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._wrap(g.copy())
            else:
                b = buf._data
                b *= mu
                b += (1 - group["dampening"]) * g
            g = g + mu * buf._data if group["nesterov"] else buf._data
        w -= lr * g


class ASGD(Optimizer):
    """Averaged SGD: ``w = w·(1 - λ·η) - η·g``; ``ax`` averages the iterates from step ``t0``
    on (``ax += μ·(w - ax)``); ``η = lr/(1 + λ·lr·t)^α``, ``μ = 1/max(1, t - t0)``.

    ``eta`` and ``mu`` are float32 scalars as in torch, kept on the host (torch reads them back
    with ``.item()`` each step)."""

    _capturable_what = "params, mus, etas, and state_steps"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_nonnegative(("learning rate", lr), ("weight_decay value", weight_decay))
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize,
                                      **impl_flags(foreach, _ABSENT, capturable,
                                                   differentiable)))

    def _update(self, p, w, g, group, state):
        lr, lambd = group["lr"], group["lambd"]
        if lazy_state(state, w, "ax"):
            state["eta"], state["mu"] = scalar_state(lr), scalar_state(1.0)
        step = step_count(state)
        g = apply_weight_decay(w, g, lr, group["weight_decay"])
        eta = float(state["eta"]._data)
        w *= 1 - lambd * eta
        w -= eta * g
        ax, mu = state["ax"]._data, float(state["mu"]._data)
        if mu != 1:
            ax += (w - ax) * mu
        else:
            ax[...] = w
        # torch stores float32 values (torch.as_tensor of a float; of lr's dtype for a tensor
        # lr) into the scalars, float32 or, after a load, the parameter's dtype
        dtype = state["eta"]._data.dtype
        eta = lr / ((1 + lambd * lr * step) ** group["alpha"])
        lr_tensor = group.get("lr_tensor")
        eta = np.float32(eta) if lr_tensor is None else lr_tensor._data.dtype.type(eta)
        state["eta"] = scalar_state(eta, dtype)
        state["mu"] = scalar_state(np.float32(1 / max(1, step - group["t0"])), dtype)
