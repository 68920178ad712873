"""``gv.amp``: torch's automatic mixed precision API (``GradScaler``, ``autocast``).

``GradScaler`` runs torch's loss-scaling algorithm exactly (scale, unscale with an inf/NaN
check, skipped steps, back-off and growth), so code written for it trains the same way here.
``autocast`` is accepted and reports its state, but gradviz has no reduced-precision
kernels: inside it every op runs at its inputs' own dtype (cast with ``.half()`` yourself
to see float16 arithmetic).
"""
import functools
import threading
import warnings

import numpy as np

from .engine.backend import xp_of
from .engine.tensor import Tensor
from .errors import GradvizError

__all__ = ["GradScaler", "autocast", "is_autocast_enabled"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _cuda_available():
    from .engine.backend import cuda_available
    return cuda_available()


class GradScaler:
    """torch.amp.GradScaler: multiplies the loss by a scale so small float16 gradients do not
    underflow, divides the gradients back before the step, skips steps whose gradients hold
    inf/NaN (then multiplies the scale by ``backoff_factor``) and multiplies the scale by
    ``growth_factor`` after ``growth_interval`` clean steps in a row.

    ``enabled=False`` makes every method a pass-through; ``device='cuda'`` without a GPU warns
    and disables itself, as torch does.
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._device == "cuda" and self._enabled and not _cuda_available():
            warnings.warn("gradviz.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise GradvizError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise GradvizError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale = None   # a float32 number, set on the first scale() (as torch, lazily)
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker = None
        self._states = {}    # id(optimizer) -> {"stage": ..., "found_inf": float or None}

    def _state(self, optimizer):
        return self._states.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def _lazy_init(self):
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = int(self._init_growth_tracker)

    def _check(self, funcname):
        if self._scale is None:
            raise GradvizError(f"Attempted {funcname} but _scale is None.  This may indicate "
                               "your script did not use scaler.scale(loss or outputs) earlier "
                               "in the iteration.")

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples of them) times the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            self._lazy_init()
            return outputs * float(self._scale)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale in place (once per step) and note
        whether any of them holds inf or NaN."""
        if not self._enabled:
            return
        self._check("unscale_")
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise GradvizError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] == _STEPPED:
            raise GradvizError("unscale_() is being called after step().")
        # torch takes the reciprocal in float64, then rounds it to float32
        inv_scale = np.float32(1.0 / np.float64(self._scale))
        found_inf = 0.0
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if g.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                xp = xp_of(g)
                if not bool(xp.isfinite(g).all()):
                    found_inf = 1.0
                g *= g.dtype.type(inv_scale)
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``unscale_`` (unless done already) then ``optimizer.step()``, skipped when a
        gradient held inf/NaN; returns what ``optimizer.step`` returns (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise GradvizError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check("step")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise GradvizError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        out = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return out

    def update(self, new_scale=None):
        """Back the scale off after a skipped step, grow it after ``growth_interval`` clean
        steps in a row, or set it to ``new_scale``; then start a new iteration."""
        if not self._enabled:
            return
        self._check("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise GradvizError("new_scale should be a float or a 1-element tensor "
                                       "with requires_grad=False.")
                new_scale = new_scale.item()
            self._scale = np.float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._states.values() if s["found_inf"] is not None]
            if not found:
                raise GradvizError("No inf checks were recorded prior to update.")
            if sum(found):   # torch's _amp_update_scale_
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = np.float32(self._scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._states = {}

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self):
        """The factor the scale grows by."""
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Set the factor the scale grows by."""
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        """The factor the scale shrinks by after a skipped step."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Set the factor the scale shrinks by."""
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        """How many clean steps in a row grow the scale."""
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Set how many clean steps in a row grow the scale."""
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None \
            else self._growth_tracker

    def is_enabled(self):
        """True unless built with ``enabled=False`` (or for 'cuda' without a GPU)."""
        return self._enabled

    def state_dict(self):
        """scale, growth_factor, backoff_factor, growth_interval, _growth_tracker (an empty
        dict when disabled), as torch's."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` returned (a no-op when disabled)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise GradvizError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = np.float32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict["_growth_tracker"])


class _AutocastState(threading.local):
    """Per thread, as torch's: device type -> is autocast on."""

    def __init__(self):
        self.enabled = {}


_STATE = _AutocastState()
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "hpu", "xla", "meta", "mtia", "ipu", "maia")


def is_autocast_enabled(device_type=None):
    """torch.is_autocast_enabled: inside an enabled ``autocast`` for ``device_type`` (CUDA's
    when not given, as torch)."""
    return _STATE.enabled.get(device_type or "cuda", False)


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context
    manager and decorator that validates its arguments and records that autocast is on
    (``gv.is_autocast_enabled``). gradviz has no reduced-precision kernels, so ops inside
    run at their inputs' own dtype; results equal torch's with autocast off (so with
    ``dtype=bfloat16``, which gradviz has no tensors of, as with float16)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        from .engine import dtypes
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise GradvizError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at "
                               f"start of device string: {device_type}")
        self.device = device_type
        self.fast_dtype = dtypes.to_dtype(dtype) if dtype is not None else (
            dtypes.float16 if device_type == "cuda" else None)   # cpu: torch's bfloat16
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled
        if self._enabled and device_type == "cuda" and not _cuda_available():
            warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
            self._enabled = False
        if self._enabled and device_type == "cpu" and dtype is not None \
                and self.fast_dtype not in (dtypes.float16, dtypes.bfloat16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of bfloat16, "
                          "gradviz.float16 currently.", stacklevel=2)
            self._enabled = False
        self._prev = []

    def __enter__(self):
        self._prev.append(_STATE.enabled.get(self.device, False))
        _STATE.enabled[self.device] = self._enabled
        return self

    def __exit__(self, *exc):
        _STATE.enabled[self.device] = self._prev.pop()
        return False

    def __call__(self, func):
        """Use as a decorator: ``func`` runs inside this autocast."""
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper
