"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and shrink
when it flips (torch's update, the iRprop- variant)."""
from ..engine.backend import xp_of
from .optimizer import _ABSENT, ArgumentError, Optimizer, check_nonnegative, impl_flags, \
    lazy_state, new_state, step_count


class Rprop(Optimizer):
    """Rprop: ``f = η+ if g·prev > 0, η- if < 0, else 1; step_size = clip(step_size·f,
    *step_sizes)``; where the sign flipped g counts as 0; ``w -= sign(g)·step_size;
    prev = g``."""

    _foreach_xla = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_nonnegative(("learning rate", lr))
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ArgumentError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      maximize=maximize,
                                      **impl_flags(foreach, _ABSENT, capturable,
                                                   differentiable)))

    def _update(self, p, w, g, group, state):
        (eta_minus, eta_plus), (size_min, size_max) = group["etas"], group["step_sizes"]
        if lazy_state(state, w, "prev"):
            state["step_size"] = new_state(w, group["lr"])
        step_count(state)
        prev, size = state["prev"]._data, state["step_size"]._data
        xp, typed = xp_of(w), w.dtype.type      # factors in w's dtype, as torch's sign tensor
        sign = xp.sign(g * prev)
        factor = xp.where(sign > 0, typed(eta_plus),
                          xp.where(sign < 0, typed(eta_minus), typed(1)))
        size *= factor
        xp.clip(size, size_min, size_max, out=size)
        g = xp.where(factor == typed(eta_minus), typed(0), g)
        w -= xp.sign(g) * size
        prev[...] = g
