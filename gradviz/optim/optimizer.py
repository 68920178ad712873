"""Optimizer: the base of every gv.optim class (torch.optim.Optimizer's API and layout).

Parameters are updated in place on their arrays (``p._data``), so a parameter keeps its
identity and any view of it (``p.data``, ``p.numpy()``) sees the new values. When a tracer
listens, ``step()`` flushes pending events first (they reference arrays that are about to
change) and then emits one ``param_update`` event per parameter (EVENTS.md).
"""
import math

import numpy as np

from ..engine.function import note_inplace
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError
from ..trace import HOOKS


class _Required:
    """Marks a hyper-parameter that has no default (torch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


def check_nonnegative(*named):
    """Raise torch's ``Invalid <name>: <value>`` for the first ``(name, value)`` below 0
    (and, as torch first, ``Tensor lr must be 1-element`` for a learning-rate tensor)."""
    for name, value in named:
        if name == "learning rate" and isinstance(value, Tensor) and value.numel() != 1:
            raise ArgumentError("Tensor lr must be 1-element")
        if not 0.0 <= value:
            raise ArgumentError(f"Invalid {name}: {value}")


def impl_flags(foreach=None, fused=None, capturable=None, differentiable=False):
    """torch's implementation flags as hyper-parameters (those not passed as ``_ABSENT``).

    gradviz has one implementation, so ``foreach``, ``fused``, ``capturable`` and
    ``differentiable`` change nothing; they are kept in the groups as torch keeps them and
    the combinations torch refuses are refused (RuntimeError, torch's message): ``fused``
    with ``foreach`` or ``differentiable`` by ``Optimizer.__init__`` (after the parameters,
    as torch), ``capturable`` without an accelerator and ``differentiable`` on parameters
    that require grad by ``step`` (``Optimizer._refuse_flags``)."""
    flags = {"foreach": foreach}
    if differentiable is not _ABSENT:
        flags["differentiable"] = differentiable
    if fused is not _ABSENT:
        flags["fused"] = fused
    if capturable is not _ABSENT:
        flags["capturable"] = capturable
    return flags


_ABSENT = _Required()


class Optimizer:
    """Base class: holds ``param_groups`` (list of dicts) and per-parameter ``state``."""

    # torch's kernels' refusals of the implementation flags (see _refuse_flags)
    _capturable_what = "params and state_steps"   # what torch's message names
    _capturable_xla = True        # whether torch's list of devices names xla
    _foreach_xla = False          # ... in its foreach kernel
    _foreach_differentiable = False   # torch's foreach kernel assert not differentiable
    _foreach_capturable_first = False   # ... after its capturable check (Adam's)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise GradvizError("params argument given to the optimizer should be an iterable of "
                               f"Tensors or dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise GradvizError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)
        if self.defaults.get("fused"):
            if self.defaults.get("differentiable"):
                raise GradvizError("`fused` does not support `differentiable`")
            if self.defaults.get("foreach"):
                raise GradvizError("`fused` and `foreach` cannot be `True` together.")

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise GradvizError(f"param_group must be a dict, but got {type(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise GradvizError("optimizer parameters need to be organized in ordered "
                               "collections, but the ordering of tensors in sets will change "
                               "between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        params = self._named(group, params)
        for p in params:
            if not isinstance(p, Tensor):
                raise GradvizError("optimizer can only optimize Tensors, but one of the params "
                                   f"is {type(p).__name__}")
            if not p.is_leaf:
                raise GradvizError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise GradvizError(f"parameter group didn't specify a value of required "
                                   f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise GradvizError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            raise GradvizError("a parameter group holds the same parameter twice")
        self.param_groups.append(group)

    def _named(self, group, params):
        """torch 2.x's named parameters (``model.named_parameters()``): the names go to the
        group's ``param_names``; a group, and every group, is all named or all not."""
        named = [isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                 for p in params]
        if any(named) and not all(named):
            raise ArgumentError("all optimizer params should be with/without names. Some param "
                                "names are missing")
        if self.param_groups and ("param_names" in self.param_groups[0]) != bool(
                params and all(named)):
            with_names = "with" if all(named) and params else "without"
            raise ArgumentError(f"all optimizer param groups should be with/without names. "
                                f"cannot add param group {with_names} names to the optimizer")
        if params and all(named):
            group["param_names"] = [name for name, _ in params]
            return [p for _, p in params]
        return params

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, as torch)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    if HOOKS.listening:
                        HOOKS.tracer.protect([p.grad._data])
                    p.grad._data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = None
        if closure is not None:
            from ..engine.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        listening = HOOKS.listening
        if listening:  # pending events still reference the values about to change
            HOOKS.tracer.protect([a for group in self.param_groups for p in group["params"]
                                  for a in (p._data, p.grad._data if p.grad is not None
                                            else None) if a is not None])
        update = self._update
        states = self.state
        for group in self.param_groups:
            if isinstance(group.get("lr"), Tensor):
                # the update formulas work on arrays: a tensor lr (torch allows one) is read
                # as its value, and the group keeps the tensor for schedulers / state_dict
                group = {**group, "lr": group["lr"].item(), "lr_tensor": group["lr"]}
            maximize = group.get("maximize", False)
            if group.get("capturable") or group.get("differentiable"):
                self._refuse_flags(group)
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                w = p._data
                g = grad._data
                if g.shape != w.shape:
                    _raise_shape(g, w)
                if maximize:
                    g = -g
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                note_inplace(p)   # a graph still holding the old values must not use them
                if listening:
                    before = w.copy()
                    update(p, w, g, group, state)
                    self._emit(p, before, group, state)
                else:
                    update(p, w, g, group, state)
        return loss

    def _refuse_flags(self, group):
        """torch's refusals at step time: ``capturable=True`` needs its parameters on an
        accelerator; ``differentiable=True`` runs the step with grad enabled, which an in-place
        update of a leaf that requires grad (or a foreach kernel) refuses."""
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        foreach, differentiable = group.get("foreach"), group.get("differentiable")
        if (foreach and differentiable and not self._foreach_differentiable
                and not self._foreach_capturable_first):
            raise GradvizError("_foreach ops don't support autograd")
        if (group.get("capturable") and not group.get("fused")
                and any(p.device.type != "cuda" for p in params)):
            # most of torch's foreach kernels leave xla out of the list; NAdam's words differ
            what = self._capturable_what
            xla = self._foreach_xla if foreach else self._capturable_xla
            if foreach:
                what = what.replace("mu_products and", "mu_products, and")
            devices = ["cuda", "xpu", "hpu", "privateuseone"] + ["xla"] * xla
            raise GradvizError(f"If capturable=True, {what} must be on "
                               f"supported devices: {devices}.")
        if differentiable:
            if foreach and not self._foreach_differentiable:
                raise GradvizError("_foreach ops don't support autograd")
            if self.defaults.get("differentiable") and any(p.requires_grad for p in params):
                raise GradvizError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")

    def _update(self, p, w, g, group, state):
        """Update the array ``w`` in place from gradient ``g`` (subclasses)."""
        raise NotImplementedError

    # ---- events ------------------------------------------------------------------------
    def _emit(self, p, before, group, state):
        from .. import trace
        from ..trace.summary import jfloat, stats, to_host
        delta = to_host(p._data - before)
        dn = float(np.linalg.norm(delta.astype(np.float64, copy=False).ravel()))
        wn = float(np.linalg.norm(to_host(before).astype(np.float64, copy=False).ravel()))
        ratio = dn / wn if wn > 0 else (0.0 if dn == 0 else math.inf)
        trace.emit({"type": "param_update", "node": trace.tensor_node(p), "name": p._name,
                    "optimizer": type(self).__name__, "lr": jfloat(group["lr"]),
                    "update_stats": stats(delta), "ratio": jfloat(ratio),
                    "state": {k: stats(v._data) for k, v in state.items()
                              if isinstance(v, Tensor) and k != "step"}})

    # ---- state dicts (torch's layout) --------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: _copy(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by ``state_dict`` (here or by torch)."""
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError):
            raise GradvizError("optimizer state_dict must be a dict with 'state' and "
                               "'param_groups'") from None
        if len(saved_groups) != len(self.param_groups):
            raise GradvizError("loaded state dict has a different number of parameter groups")
        for g, s in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise GradvizError("loaded state dict contains a parameter group that doesn't "
                                   "match the size of optimizer's group")
        by_index = {}
        for g, s in zip(self.param_groups, saved_groups):
            for p, i in zip(g["params"], s["params"]):
                by_index[int(i)] = p
        self.state = {}
        for key, st in saved_state.items():
            p = by_index.get(int(key))
            if p is None:
                continue
            self.state[p] = {k: _cast_like(v, p, k) for k, v in st.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = {k: v for k, v in s.items() if k != "params"}
            for k, v in list(ng.items()):
                if isinstance(v, list) and isinstance(g.get(k), tuple):  # betas, etas...
                    ng[k] = tuple(v)
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.param_groups = new_groups


def _raise_shape(g, w):
    raise GradvizError(f"gradient of shape {g.shape} does not match its parameter of shape "
                       f"{w.shape}")


def _copy(v):
    if isinstance(v, Tensor):
        return Tensor._wrap(v._data.copy())
    if isinstance(v, (list, tuple)):   # LBFGS's history
        return type(v)(_copy(x) for x in v)
    return v


# Scalar state that torch keeps as 0-d tensors: here host arrays, so that a step on a device
# reads them without a device-to-host copy. torch casts all but ``step`` to the parameter's
# dtype on load; so does this.
HOST_SCALARS = ("step", "mu_product", "eta", "mu")


def _cast_like(v, p, key):
    """State tensors take the parameter's dtype and device (host scalars: its dtype)."""
    if isinstance(v, (list, tuple)):
        return type(v)(_cast_like(x, p, None) for x in v)
    if key == "step":
        return scalar_state(float(v))
    if isinstance(v, Tensor):
        arr = v._data
    elif hasattr(v, "shape"):
        arr = np.asarray(v)
    else:
        return v
    if key in HOST_SCALARS:
        return scalar_state(float(arr), p._data.dtype)
    from ..engine.backend import as_device, move
    arr = move(np.asarray(arr) if isinstance(arr, np.ndarray) else arr, as_device(p.device))
    return Tensor._wrap(arr.astype(p._data.dtype, copy=True))


def new_state(w, fill=0.0):
    """A state tensor shaped and typed like parameter array ``w``."""
    arr = w.copy()
    arr[...] = fill
    return Tensor._wrap(arr)


def scalar_state(value, dtype=np.float32):
    """A 0-d host tensor (torch keeps ``step`` and similar counters as float32 scalars)."""
    return Tensor._wrap(np.asarray(value, dtype=dtype))


def lazy_state(state, w, *names):
    """On a parameter's first step (empty state, as torch checks): ``step`` and a zeroed
    tensor like ``w`` for each of ``names``. True when it created them."""
    if state:
        return False
    state["step"] = None
    for name in names:
        state[name] = new_state(w)
    return True


def step_count(state):
    """Increment and return the step counter kept (as torch) as a float32 scalar tensor."""
    t = state.get("step")
    n = (float(t._data) if isinstance(t, Tensor) else float(t or 0)) + 1
    state["step"] = scalar_state(n)
    return n


def apply_weight_decay(w, g, lr, wd, decoupled=False):
    """L2 penalty (returns ``g + wd·w``) or decoupled decay (``w *= 1 - lr·wd``, AdamW)."""
    if wd != 0:
        if decoupled:
            w *= 1 - lr * wd
        else:
            g = g + wd * w
    return g


def lerp_(a, end, weight):
    """``a += weight·(end - a)`` in place, in torch's two-sided form (exact at weight 1)."""
    if weight < 0.5:
        a += weight * (end - a)
    else:
        a[...] = end - (end - a) * (1 - weight)
