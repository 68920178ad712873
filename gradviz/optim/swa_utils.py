"""torch.optim.swa_utils: weight averaging (SWA, EMA) of a model during training.

``AveragedModel`` keeps a copy of a model whose parameters are the running average (or an
exponential moving average) of the trained model's; ``SWALR`` anneals each group's rate to
a fixed SWA rate; ``update_bn`` recomputes BatchNorm statistics for the averaged weights.
"""
import copy
import math

from ..engine import creation
from ..engine.grad_mode import no_grad
from ..errors import ArgumentError
from ..nn.layers.norm import _BatchNorm
from ..nn.module import Module
from .lr_scheduler import LRScheduler

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_avg_fn", "get_swa_avg_fn",
           "get_ema_multi_avg_fn", "get_swa_multi_avg_fn"]


def get_swa_avg_fn():
    """``avg + (new - avg) / (n + 1)``: the equal-weight running mean (SWA)."""
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``decay * avg + (1 - decay) * new``: an exponential moving average."""
    def ema_update(ema, current, num_averaged):
        return decay * ema + (1 - decay) * current
    return ema_update


def get_swa_multi_avg_fn():
    """The SWA mean applied to lists of tensors in place (float ones by ``lerp_``, others
    through a float result copied back, as torch)."""
    def swa_update(averaged_list, current_list, num_averaged):
        n = float(num_averaged.item() if hasattr(num_averaged, "item") else num_averaged)
        for avg, cur in zip(averaged_list, current_list):
            if avg.is_floating_point():
                avg.lerp_(cur, 1 / (n + 1))
            else:
                avg.copy_(avg + (cur - avg) / (n + 1))
    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """The EMA applied to lists of tensors in place (as ``get_swa_multi_avg_fn``)."""
    def ema_update(ema_list, current_list, num_averaged):
        for ema, cur in zip(ema_list, current_list):
            if ema.is_floating_point():
                ema.lerp_(cur, 1 - decay)
            else:
                ema.copy_(ema * decay + cur * (1 - decay))
    return ema_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and buffers, with ``use_buffers``) average the
    model's over the ``update_parameters`` calls: the equal-weight mean by default, or
    ``avg_fn(avg, new, n)`` / ``multi_avg_fn(avg_list, new_list, n)`` (EMA: see
    ``get_ema_multi_avg_fn``). Without ``use_buffers`` the buffers follow the model's."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ArgumentError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, device=device))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        """The averaged model's forward."""
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        if self.use_buffers:
            return list(model.parameters()) + list(model.buffers())
        return list(model.parameters())

    def update_parameters(self, model):
        """Fold ``model``'s current parameters into the average (the first call copies)."""
        mine, theirs = self._tensors(self.module), self._tensors(model)
        n = int(self.n_averaged.item())
        with no_grad():
            current = [t.detach().to(a.device) for a, t in zip(mine, theirs)]
            if n == 0:
                for a, c in zip(mine, current):
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a.detach() for a in mine], current, self.n_averaged)
            else:   # torch's CPU path: avg_fn (the SWA mean by default) per tensor
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for a, c in zip(mine, current):
                    a.copy_(avg_fn(a.detach(), c, self.n_averaged))
            if not self.use_buffers:   # keep the buffers (BatchNorm statistics) in sync
                for b, src in zip(self.module.buffers(), model.buffers()):
                    b.copy_(src.detach().to(b.device))
            self.n_averaged.add_(1)


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute every BatchNorm's running statistics with one pass over ``loader`` (the
    cumulative average of all batches), e.g. for an AveragedModel's weights."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's rate from its current value to ``swa_lr`` over
    ``anneal_epochs`` steps ("cos" or "linear"), then keeps it there (torch's SWALR)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else \
            [swa_lr] * len(optimizer.param_groups)
        if len(lrs) != len(optimizer.param_groups):
            raise ArgumentError(f"swa_lr must have the same length as optimizer.param_groups: "
                                f"swa_lr has {len(lrs)}, optimizer.param_groups has "
                                f"{len(optimizer.param_groups)}")
        for lr, group in zip(lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"anneal_strategy must by one of 'cos' or 'linear', instead "
                                f"got {anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ArgumentError(f"anneal_epochs must be equal or greater than 0, got "
                                f"{anneal_epochs}")
        self.anneal_epochs, self._anneal_strategy = anneal_epochs, anneal_strategy
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self):
        """Step ``k``: the rate ``anneal(k / anneal_epochs)`` of the way to ``swa_lr``."""
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        out = []
        for group in self.optimizer.param_groups:
            swa = group["swa_lr"]
            start = swa if prev == 1 else (group["lr"] - prev * swa) / (1 - prev)
            out.append(swa * alpha + start * (1 - alpha))
        return out
