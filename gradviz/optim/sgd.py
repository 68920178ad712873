"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD's update)."""
from ..engine.tensor import Tensor
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """Stochastic gradient descent; ``momentum_buffer`` is kept per parameter when momentum > 0.

    Update (torch): ``g += wd·w; b = μ·b + (1-τ)·g (b = g at the first step);
    g = g + μ·b if nesterov else b; w -= lr·g``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, w, g, group, state):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * w
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._wrap(g.copy())
            else:
                b = buf._data
                b *= mu
                b += (1 - group["dampening"]) * g
            g = g + mu * buf._data if group["nesterov"] else buf._data
        w -= lr * g
