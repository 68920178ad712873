"""Module's hooks: calling a module that has forward or backward hooks, and registering
them (torch's ``register_forward_pre_hook`` ... ``register_full_backward_hook``, with
``prepend``, ``with_kwargs`` and ``always_call``). ``Module`` takes these methods from
``HooksMixin``; the backward hooks' wrapping of inputs and outputs is _backward_hooks.py."""
import warnings

from ..engine import grad_mode
from ..engine.tensor import RemovableHandle
from ..errors import GradvizError
from ._backward_hooks import BackwardHookState


class HooksMixin:
    """The hook registries' methods of Module (the registries are made in its __init__)."""

    # ---- calling ----------------------------------------------------------------
    def _any_backward_hooks(self):
        return bool(self._backward_hooks or self.__dict__.get("_backward_pre_hooks"))

    def _call_hooked(self, args, kwargs):
        pre_kw = self.__dict__.get("_forward_pre_hooks_with_kwargs", {})
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in pre_kw:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise GradvizError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {r}.")
                    args, kwargs = r
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        state = None
        if self._any_backward_hooks() and grad_mode.enabled:
            state = BackwardHookState(self)
            args = state.wrap_inputs(args)
        called = set()
        out = None
        try:
            out = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                called.add(hook_id)
                r = self._run_forward_hook(hook_id, hook, args, kwargs, out)
                if r is not None:
                    out = r
        except Exception:
            self._run_always_called(called, args, kwargs, out)
            raise
        if state is not None:
            out = state.wrap_outputs(out)
        return out

    def _run_forward_hook(self, hook_id, hook, args, kwargs, out):
        if hook_id in self.__dict__.get("_forward_hooks_with_kwargs", {}):
            return hook(self, args, kwargs, out)
        return hook(self, args, out)

    def _run_always_called(self, called, args, kwargs, out):
        """After forward (or a hook) raised: run the ``always_call`` hooks not yet run."""
        always = self.__dict__.get("_forward_hooks_always_called", {})
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in always and hook_id not in called:
                try:
                    r = self._run_forward_hook(hook_id, hook, args, kwargs, out)
                    if r is not None:
                        out = r
                except Exception:   # torch warns and goes on to re-raise the first error
                    warnings.warn("forward hook with ``always_call=True`` raised an exception "
                                  "that was silenced as another error was raised in forward",
                                  stacklevel=3)

    # ---- registration -------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before forward; it may return new args.

        ``with_kwargs=True``: ``hook(module, args, kwargs)`` may return ``(args, kwargs)``;
        ``prepend=True``: run it before the hooks already registered."""
        handle = _register(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._hook_flags("_forward_pre_hooks_with_kwargs")[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Call ``hook(module, args, output)`` after forward; it may return a new output.

        ``with_kwargs=True``: ``hook(module, args, kwargs, output)``; ``always_call=True``:
        also run it (with the output so far, None if forward raised) when forward raises;
        ``prepend=True``: run it before the hooks already registered."""
        handle = _register(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._hook_flags("_forward_hooks_with_kwargs")[handle.id] = True
        if always_call:
            self._hook_flags("_forward_hooks_always_called")[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the output gradients are known, before
        the input gradients are computed; it may return a new grad_output (a tuple)."""
        return _register(self._hook_flags("_backward_pre_hooks"), hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the input gradients are known;
        it may return new grad_input."""
        return _register(self._backward_hooks, hook, prepend)

    def _hook_flags(self, name):
        d = self.__dict__.get(name)
        if d is None:       # a module built before these registries existed
            d = {}
            object.__setattr__(self, name, d)
        return d


def _register(registry, hook, prepend):
    """A handle for ``hook`` in ``registry``; ``prepend`` moves it to the front."""
    handle = RemovableHandle(registry, hook)
    if prepend:
        items = list(registry.items())
        registry.clear()
        registry[handle.id] = hook
        registry.update(items)
    return handle
