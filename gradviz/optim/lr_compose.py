"""Schedules made of schedules (torch.optim.lr_scheduler): SequentialLR (one after another at
milestones) and ChainedScheduler (all of them each step). Import them from
``gv.optim.lr_scheduler``."""
import bisect

from .lr_scheduler import LRScheduler, ReduceLROnPlateau
from .optimizer import ArgumentError


class _Composite(LRScheduler):
    """Holds ``_schedulers``; saves and restores their states with its own."""

    def _check(self, schedulers, optimizer):
        name = type(self).__name__
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {i} should have `optimizer` as its "
                                "attribute.")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ArgumentError(f"{name} does not support `ReduceLROnPlateau` scheduler "
                                    "as it requires additional kwargs to be specified when "
                                    f"calling `step`, but got one at index {i} in the given "
                                    "schedulers sequence.")
            if optimizer != scheduler.optimizer:
                raise ArgumentError(f"{name} expects all schedulers to belong to the same "
                                    f"optimizer, but got scheduler "
                                    f"{type(scheduler).__name__} at index {i} has "
                                    f"{scheduler.optimizer}, which is different from "
                                    f"{type(optimizer).__name__}.")
        self._schedulers = schedulers
        self.optimizer = optimizer

    def state_dict(self):
        """Its own state and, under ``_schedulers``, each scheduler's."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` returned, the schedulers' states included."""
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, s in zip(self._schedulers, saved):
            scheduler.load_state_dict(s)


class SequentialLR(_Composite):
    """``schedulers[i]`` sets the rate from ``milestones[i-1]`` on (each restarted at its
    milestone)."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ArgumentError(f"{type(self).__name__} expects at least one scheduler, but "
                                "got no scheduler.")
        self._check(schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ArgumentError("Sequential Schedulers expects number of schedulers provided "
                                "to be one more than the number of milestone points, but got "
                                f"number of schedulers {len(schedulers)} and the number of "
                                f"milestones to be equal to {len(milestones)}")
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        # making the schedulers stepped each once: undo that, then start the first one over
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect.bisect_right(milestones, 0)
        schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None):
        """Take one epoch back from every scheduler inside (their steps when made)."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        """Advance one epoch: the current scheduler steps (or the next one restarts)."""
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step every scheduler each step, in order (their factors multiply)."""

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ArgumentError(f"{type(self).__name__} expects at least one scheduler to be "
                                "chained, but got no scheduler.")
        self._check(schedulers, optimizer or schedulers[0].optimizer)
        self._last_lr = [g["lr"] for g in self._schedulers[-1].optimizer.param_groups]

    def step(self):
        """Step each scheduler in turn."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [g["lr"] for g in self._schedulers[-1].optimizer.param_groups]
