"""Adafactor: Adam-like steps from a factored second moment (a row and a column average for
matrices), relative step sizes and update clipping, as torch.optim.Adafactor."""
import numpy as np

from ..engine.backend import xp_of
from .optimizer import (_ABSENT, ArgumentError, Optimizer, impl_flags, lazy_state, lerp_,
                        new_state, step_count)


def _norm(a):
    """The 2-norm of an array, on the host (torch reads these norms with ``.item()``)."""
    return float(xp_of(a).linalg.norm(a.reshape(-1)))


class Adafactor(Optimizer):
    """Adafactor: ``β2_t = 1 - t^beta2_decay``; matrices keep ``row_var``/``col_var`` (the
    means of g² over the last and second-last dims), vectors ``variance``;
    ``u = g / sqrt(max(v̂, eps1²))``, ``w -= max(eps2, rms(w))·min(lr, t^-½) · u /
    max(1, rms(u)/d)``; decoupled weight decay."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        for ok, what, value in ((0.0 <= lr, "Learning rate should be >= 0", lr),
                                (0.0 >= beta2_decay, "beta2_decay should be <= 0", beta2_decay),
                                (eps[0] is None or 0.0 <= eps[0], "epsilon1 should be >= 0",
                                 eps[0]),
                                (0.0 <= eps[1], "epsilon2 should be >= 0", eps[1]),
                                (1.0 <= d, "Clipping threshold d should be >= 1", d),
                                (0.0 <= weight_decay, "weight_decay should be >= 0",
                                 weight_decay)):
            if not ok:
                raise ArgumentError(f"{what} but is: {value}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, maximize=maximize,
                                      **impl_flags(foreach, _ABSENT, _ABSENT, _ABSENT)))

    def _update(self, p, w, g, group, state):
        lr, (eps1, eps2) = group["lr"], group["eps"]
        if lazy_state(state, w):
            if g.ndim > 1:   # shapes (..., m, 1) and (..., 1, n)
                state["row_var"] = new_state(w[..., :1])
                state["col_var"] = new_state(w[..., :1, :])
            else:
                state["variance"] = new_state(w)
        if eps1 is None:
            eps1 = np.finfo(w.dtype).eps
        step = step_count(state)
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, _norm(w) / w.size ** 0.5) * rho
        if group["weight_decay"] != 0:
            w *= 1 - lr * group["weight_decay"]
        xp = xp_of(w)
        if g.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            sq = g * g
            lerp_(row_var, sq.sum(axis=-1, keepdims=True) / g.shape[-1], one_minus_beta2)
            lerp_(col_var, sq.sum(axis=-2, keepdims=True) / g.shape[-2], one_minus_beta2)
            var = xp.matmul(row_var, col_var)
            var /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            lerp_(variance, g * g, one_minus_beta2)
            var = variance.copy()
        update = 1 / xp.sqrt(xp.maximum(var, eps1 * eps1))
        update *= g
        denom = max(1.0, _norm(update) / (update.size ** 0.5 * group["d"]))
        w -= (alpha / denom) * update
