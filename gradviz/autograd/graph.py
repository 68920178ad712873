"""``gv.autograd.graph``: saved-tensor hooks and graph-node (``grad_fn``) hooks, as torch's.

Packing happens once a node is linked into the graph (``_after_forward``, reached
because entering ``saved_tensors_hooks`` turns ``HOOKS.on`` on), so an op's forward
costs nothing extra while no hook is set; unpacking happens in the backward loop,
right before the node's backward reads ``ctx.saved``.
"""
import abc

import numpy as np

from ..engine.function import SAVED_HOOKS, Function, Packed
from ..engine.grad_mode import no_grad
from ..engine.tensor import RemovableHandle, Tensor
from ..errors import GradvizError
from ..trace.hooks import HOOKS

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]

_DISABLED = []   # messages of the disable_saved_tensors_hooks blocks in effect


class Node(abc.ABC):
    """A node of the backward graph (every ``grad_fn`` is one), as torch.autograd.graph.Node."""

    @abc.abstractmethod
    def name(self):
        """The node's name, e.g. ``MulBackward``."""

    @abc.abstractmethod
    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after the node's backward."""

    @abc.abstractmethod
    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before the node's backward."""


Node.register(Function)


class saved_tensors_hooks:
    """Call ``pack_hook(tensor)`` for each tensor an op saves for backward and
    ``unpack_hook(packed)`` when backward reads it back (it must return a Tensor)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _DISABLED:
            raise GradvizError(_DISABLED[-1])
        SAVED_HOOKS.append((self.pack_hook, self.unpack_hook))
        HOOKS.packing += 1   # so that apply calls _after_forward, where saved values get packed
        HOOKS.refresh()
        return self

    def __exit__(self, *exc):
        SAVED_HOOKS.pop()   # blocks nest: this one is the innermost
        HOOKS.packing -= 1
        HOOKS.refresh()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors on the CPU and move them back to their device for backward
    (on CPU tensors nothing moves, as torch's). ``pin_memory`` is accepted and ignored."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return t.device, t.cpu()

        def unpack(packed):
            device, t = packed
            return t.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Make ``saved_tensors_hooks`` raise ``error_message`` inside this block (and entering
    it while hooks are in effect), as torch."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        if SAVED_HOOKS:   # torch refuses while hooks are in effect, with the same message
            raise GradvizError(self.error_message)
        _DISABLED.append(self.error_message)
        return self

    def __exit__(self, *exc):
        _DISABLED.pop()
        return False


class _Slot:
    """One saved array after packing: what ``pack_hook`` returned."""

    __slots__ = ("packed", "tensor")

    def __init__(self, packed, tensor=False):
        self.packed = packed
        self.tensor = tensor   # a Tensor was saved (custom Functions): unpack to a Tensor


def pack_saved(ctx, args, out):
    """Pack what ``ctx`` saved with the innermost hooks (called from ``_after_forward``).

    The hook gets the tensor itself where a saved array is an input's or the output's
    values (as torch's), else a new Tensor on the saved array."""
    pack, unpack = SAVED_HOOKS[-1]
    items = []   # _Slots for arrays, other saved values (shapes, flags) as they were
    with no_grad():   # torch runs pack hooks without recording them
        for s in ctx.saved:
            if isinstance(s, Tensor):
                items.append(_Slot(pack(s), tensor=True))
                continue
            if not (isinstance(s, np.ndarray) or hasattr(s, "__cuda_array_interface__")):
                items.append(s)
                continue
            t = out if s is out._data else None
            for a in args:
                if t is None and isinstance(a, Tensor) and a._data is s:
                    t = a
            items.append(_Slot(pack(Tensor._wrap(s) if t is None else t)))
    saved = Packed(items)
    saved.unpack = unpack
    ctx.saved = saved


def call_unpacked(fn, call, g):
    """``call(fn, g)`` (a backward) with fn's packed saved values unpacked for it."""
    packed = fn.saved
    values = []
    for s in packed:
        if type(s) is _Slot:
            r = packed.unpack(s.packed)
            if not isinstance(r, Tensor):
                raise GradvizError("unpack_hook must return a Tensor; got "
                                   f"{type(r).__name__}")
            s = r if s.tensor else r._data
        values.append(s)
    fn.saved = tuple(values)
    try:
        return call(fn, g)
    finally:
        fn.saved = packed


# --- grad_fn.register_hook / register_prehook -------------------------------------------

def register_prehook(fn, hook):
    """``hook(grad_outputs)`` before ``fn``'s backward; it may return new grad_outputs.
    Kept with the output tensor's hooks, marked: torch runs it after them, and only when
    the node runs (not for an input that autograd.grad captures)."""
    def as_tensor_hook(g):
        r = hook((g,))
        return None if r is None else r[0]
    as_tensor_hook.node_prehook = True
    if fn.hooks is None:
        fn.hooks = {}
    return RemovableHandle(fn.hooks, as_tensor_hook)


def register_posthook(fn, hook):
    """``hook(grad_inputs, grad_outputs)`` after ``fn``'s backward; it may return new
    grad_inputs (a tuple, one per input)."""
    if fn.post_hooks is None:
        fn.post_hooks = {}
    return RemovableHandle(fn.post_hooks, hook)


def run_posthooks(fn, g, grads_in, needs, create_graph):
    """fn's post hooks on its gradients (arrays, or Tensors under create_graph)."""
    def wrap(x):
        return x if x is None or create_graph else Tensor._wrap(x)
    grad_inputs = tuple(wrap(gi) if need else None for gi, need in zip(grads_in, needs))
    grad_outputs = (wrap(g),)
    for hook in list(fn.post_hooks.values()):
        r = hook(grad_inputs, grad_outputs)
        if r is not None:
            r = tuple(r)
            if len(r) != len(grad_inputs):
                raise GradvizError(f"hook of {fn.name} returned {len(r)} gradients for "
                                   f"{len(grad_inputs)} inputs")
            grad_inputs = r
    if create_graph:
        return grad_inputs
    return tuple(None if gi is None else gi._data if isinstance(gi, Tensor) else gi
                 for gi in grad_inputs)
