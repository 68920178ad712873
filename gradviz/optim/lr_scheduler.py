"""Learning-rate schedules (torch.optim.lr_scheduler): StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, LambdaLR, MultiplicativeLR, ConstantLR, LinearLR, PolynomialLR,
OneCycleLR and ReduceLROnPlateau here; SequentialLR and ChainedScheduler (lr_compose.py),
CosineAnnealingWarmRestarts and CyclicLR (lr_cycles.py) imported at the end.

Each ``step()`` moves ``last_epoch`` on by one and writes the new rate into every param
group, with torch's recursive ("chainable") formulas, so values match torch step by step.
OneCycleLR computes each rate from its phases (and cycles momentum or Adam's beta1);
ReduceLROnPlateau steps on a metric.
"""
import bisect
import collections
import math
import types

from ..engine.tensor import Tensor
from ..errors import GradvizError
from .optimizer import ArgumentError, Optimizer


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``state_dict()/load_state_dict()``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise GradvizError(f"param 'initial_lr' is not specified in "
                                       f"param_groups[{i}] when resuming a scheduler with "
                                       "last_epoch >= 0: load the optimizer state first")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The step a scheduler takes when made (SequentialLR repeats it when switching)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The rates for the current ``last_epoch`` (subclasses)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The rates set by the last ``step()``, one per param group."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch`` with the closed form) and set the rates."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._get_lr_called_within_step = False   # torch's flag (its state dicts hold it)
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            if isinstance(group["lr"], Tensor):   # torch keeps a tensor lr a tensor
                group["lr"].fill_(float(lr))
            else:
                group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (torch's layout)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` returned."""
        self.__dict__.update(state_dict)

    def _groups(self):
        return self.optimizer.param_groups


class _LRScheduler(LRScheduler):
    """The old base-class name; scripts still subclass it for custom schedules."""


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in self._groups()]
        return [g["lr"] * self.gamma for g in self._groups()]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return [g["lr"] for g in self._groups()]
        return [g["lr"] * self.gamma for g in self._groups()]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine from the base rate down to ``eta_min`` over ``T_max`` epochs (SGDR, no restarts)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups, eta, T = self._groups(), self.eta_min, self.T_max
        if self._is_initial:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and self.last_epoch > 0:
            return [eta + (b - eta) * (1 + math.cos(self.last_epoch * math.pi / T)) / 2
                    for b in self.base_lrs]
        if (self.last_epoch - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (b - eta) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / T))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / T)) * (g["lr"] - eta) + eta
                for g in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (b - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch in ``milestones``."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = collections.Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return [g["lr"] for g in self._groups()]
        return [g["lr"] * self.gamma ** self.milestones[self.last_epoch]
                for g in self._groups()]

    def _get_closed_form_lr(self):
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [b * self.gamma ** passed for b in self.base_lrs]


class _LambdaBase(LRScheduler):
    """``lr_lambda``: one function of the epoch, or one per param group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ArgumentError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """As the base; ``lr_lambdas`` holds None per plain function and a callable object's
        ``__dict__`` (torch's layout: functions themselves are not saved)."""
        sd = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        sd["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else f.__dict__.copy()
                            for f in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict):
        """Restore the state; the saved callable objects' attributes go back into them."""
        state_dict = dict(state_dict)
        saved = state_dict.pop("lr_lambdas", None) or []
        super().load_state_dict(state_dict)
        for f, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                f.__dict__.update(attrs)


class LambdaLR(_LambdaBase):
    """rate = initial rate * lr_lambda(epoch)."""

    def get_lr(self):
        return [b * f(self.last_epoch) for f, b in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaBase):
    """rate = previous rate * lr_lambda(epoch) (from epoch 1 on)."""

    def get_lr(self):
        if not self._is_initial:    # torch: also at a SequentialLR milestone (epoch 0)
            return [g["lr"] * f(self.last_epoch) for f, g in zip(self.lr_lambdas,
                                                                 self._groups())]
        return [g["lr"] for g in self._groups()]


class ConstantLR(LRScheduler):
    """rate = initial rate * ``factor`` until epoch ``total_iters``, then the initial rate."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ArgumentError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self._groups()
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return [g["lr"] for g in groups]
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _get_closed_form_lr(self):
        return [b * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for b in self.base_lrs]


class LinearLR(LRScheduler):
    """The rate's factor goes linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (a warm-up, usually)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ArgumentError("Starting multiplicative factor expected to be greater than 0 "
                                "and less or equal to 1; the ending one between 0 and 1.")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups, s, e, n = self._groups(), self.start_factor, self.end_factor, self.total_iters
        if self.last_epoch == 0:
            return [g["lr"] * s for g in groups]
        if self._is_initial or self.last_epoch > n:
            return [g["lr"] for g in groups]
        return [g["lr"] * (1.0 + (e - s) / (n * s + (self.last_epoch - 1) * (e - s)))
                for g in groups]

    def _get_closed_form_lr(self):
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [b * (s + (e - s) * min(n, self.last_epoch) / n) for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """rate = initial rate * (1 - epoch / total_iters) ** power, then held."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups, n = self._groups(), self.total_iters
        if self._is_initial or self.last_epoch > n:   # torch: not epoch 0 (a milestone)
            return [g["lr"] for g in groups]
        decay = ((1.0 - self.last_epoch / n) / (1.0 - (self.last_epoch - 1) / n)) ** self.power
        return [g["lr"] * decay for g in groups]

    def _get_closed_form_lr(self):
        n = self.total_iters
        return [b * (1.0 - min(n, self.last_epoch) / n) ** self.power for b in self.base_lrs]


class _MomentumCycle:
    """For schedulers that cycle momentum (or Adam's beta1) against the rate."""

    def _init_momentum(self, optimizer, cycle_momentum, base_momentum, max_momentum,
                       last_epoch):
        """Check the optimizer, start every group at ``max_momentum``; the per-group
        (base, max) lists, or None without ``cycle_momentum``."""
        self.cycle_momentum = cycle_momentum
        if not cycle_momentum:
            return None
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ArgumentError("optimizer must support momentum or beta1 with "
                                "`cycle_momentum` option enabled")
        self.use_beta1 = "betas" in optimizer.defaults
        groups = optimizer.param_groups
        lows = _per_group(base_momentum, groups, "base_momentum")
        highs = _per_group(max_momentum, groups, "max_momentum")
        if last_epoch == -1:
            for g, lo, hi in zip(groups, lows, highs):
                self._set_momentum(g, hi)
                g["max_momentum"], g["base_momentum"] = hi, lo
        return lows, highs

    def _set_momentum(self, group, value):
        """Set a group's momentum, or beta1 of its betas."""
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


class OneCycleLR(_MomentumCycle, LRScheduler):
    """The 1cycle policy: the rate rises from max_lr / div_factor to ``max_lr`` over
    ``pct_start`` of the steps, then anneals to its initial value / final_div_factor (three
    phases with ``three_phase``); momentum (or Adam's beta1) cycles the other way. Step it
    once per batch."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True,
                 base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ArgumentError(f"Expected positive integer total_steps, but got "
                                    f"{total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ArgumentError(f"Expected positive integer {name}, but got {value}")
            total_steps = epochs * steps_per_epoch
        else:
            raise ArgumentError("You must define either total_steps OR (epochs AND "
                                "steps_per_epoch)")
        self.total_steps = total_steps
        up = float(pct_start * total_steps) - 1
        # torch's state-dict layout: the phases as dicts naming the group keys they read
        phases = ([(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                   (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                    "base_momentum", "max_momentum"),
                   (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                    "max_momentum")] if three_phase else
                  [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                   (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")])
        self._schedule_phases = [dict(zip(("end_step", "start_lr", "end_lr", "start_momentum",
                                           "end_momentum"), phase)) for phase in phases]
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ArgumentError(f"Expected float between 0 and 1 pct_start, but got "
                                f"{pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"anneal_strategy must be one of 'cos' or 'linear', instead "
                                f"got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        groups = optimizer.param_groups
        max_lrs = _per_group(max_lr, groups, "max_lr")
        if last_epoch == -1:
            for g, m in zip(groups, max_lrs):
                g["initial_lr"] = m / div_factor
                g["max_lr"] = m
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self._init_momentum(optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ArgumentError(f"Tried to step {step} times. The specified number of total "
                                f"steps is {self.total_steps}")
        lrs = []
        for g in self._groups():
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(g[phase["start_lr"]], g[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(g, self._anneal(g[phase["start_momentum"]],
                                                           g[phase["end_momentum"]], pct))
                    break
                start_step = end_step
        return lrs


def _per_group(value, groups, name):
    """One value per param group: a list of them as given, or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ArgumentError(f"{name} must have the same length as optimizer.param_groups. "
                                f"{name} has {len(value)} values, param_groups has "
                                f"{len(groups)}.")
        return list(value)
    return [value] * len(groups)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when the metric given to ``step(metric)`` has not
    improved for ``patience`` epochs (then wait ``cooldown`` epochs)."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ArgumentError("Factor should be < 1.0.")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"mode must be 'min' or 'max' and threshold_mode 'rel' or "
                                f"'abs', got {mode!r} and {threshold_mode!r}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        self.min_lrs = _per_group(min_lr, optimizer.param_groups, "min_lr")
        # torch's state_dict also carries these two
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def step(self, metrics, epoch=None):
        """Take this epoch's metric; reduce the rates after ``patience`` bad epochs."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(float(g["lr"]) * self.factor, floor)
                if float(g["lr"]) - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _is_better(self, a):
        rel, best, t = self.threshold_mode == "rel", self.best, self.threshold
        if self.mode == "min":
            return a < best * (1 - t) if rel else a < best - t
        return a > best * (1 + t) if rel else a > best + t


__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LambdaLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
           "OneCycleLR", "ReduceLROnPlateau"]

# the other schedulers live in their own modules, on top of the classes above
from .lr_compose import ChainedScheduler, SequentialLR  # noqa: E402
from .lr_cycles import CosineAnnealingWarmRestarts, CyclicLR  # noqa: E402

__all__ += ["SequentialLR", "ChainedScheduler", "CosineAnnealingWarmRestarts", "CyclicLR"]
