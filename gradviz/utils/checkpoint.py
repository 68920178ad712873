"""``gv.utils.checkpoint``: activation checkpointing's API. NumPy arrays are cheap to keep, so
the wrapped function simply runs once with the graph recorded; values and gradients are the ones
torch's recomputation gives, and a script written for torch runs unchanged."""
import warnings

from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]

_EXPLICIT = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
             "use_reentrant=False is recommended, but if you need to preserve the current "
             "default behavior, you can pass use_reentrant=True.")


def noop_context_fn():
    """The default ``context_fn``: two do-nothing context managers."""
    import contextlib
    return contextlib.nullcontext(), contextlib.nullcontext()


def _reentrant_flag(use_reentrant):
    if use_reentrant is None:   # torch warns and keeps its old default
        warnings.warn(_EXPLICIT, UserWarning, stacklevel=3)
        return True
    return bool(use_reentrant)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` as torch's checkpoint does (same values and grads)."""
    kwargs.pop("preserve_rng_state", None)
    if _reentrant_flag(use_reentrant):
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            # the reentrant variant records nothing when no input needs a gradient
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          UserWarning, stacklevel=2)
            with no_grad():
                return function(*args)
        return function(*args)
    forward_ctx, _ = context_fn()
    with forward_ctx:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or list of modules) in ``segments`` checkpointed chunks, as torch."""
    use_reentrant = _reentrant_flag(use_reentrant)
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    from ..nn.containers import Sequential
    mods = list(functions.children()) if isinstance(functions, Sequential) else list(functions)
    size = len(mods) // segments
    cut = size * (segments - 1)   # the first segments - 1 chunks are checkpointed, not the rest
    for lo in range(0, cut, size):
        input = checkpoint(_chain(mods[lo:lo + size]), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return _chain(mods[cut:])(input)


def _chain(mods):
    def run(x):
        for m in mods:
            x = m(x)
        return x
    return run
