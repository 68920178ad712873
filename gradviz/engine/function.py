"""The Function base class: one subclass per op, and the one place forward events come from.

A Function instance is both the op's context (``ctx``) and its node in the
graph (``tensor.grad_fn``), as in Chainer and tinygrad. ``forward`` and
``backward`` work on raw ``xp`` arrays (NumPy or CuPy); ``backward`` returns
one gradient per input (None where not needed). The class attribute ``rule``
is the backward formula in math form, the text of its ``grad`` events.
"""
import types
import weakref

import numpy as np

from ..errors import BackwardError, DeviceError, GradvizError, ShapeError
from ..trace.hooks import HOOKS
from . import grad_mode
from .backend import cupy, device_of, gpu_index


class Function:
    """Base of every differentiable op; subclass and call ``Cls.apply(*inputs, **attrs)``."""

    rule = ""               # backward formula, e.g. "dx = dy * y"
    differentiable = True   # False for ops whose output never needs grad (argmax, eq...)
    complex_ok = False      # True for ops right for complex inputs (ops/complex.py sets it)
    # per-node state, read from the class until an instance sets its own (saves a
    # store per op in apply)
    saved = ()
    xp = np
    node = None
    hooks = None
    retain = None
    epoch = None            # INPLACE[0] when the node was made (None: not checked)
    # {input index: indices of the inputs whose gradient reads that input's saved value};
    # None: any gradient may read any saved input
    saved_for = None
    out_modified = 0        # INPLACE[0] when its output was last changed in place
    shared_version = None   # the counter its output shares with tensors detach() made of it
    attrs = types.MappingProxyType({})  # ops called without keyword attributes
    # the output's array, so that create_graph can rebuild the output as a graph Tensor
    # (a plain reference: the output Tensor holds the same array for as long as it lives)
    out_data = None
    out = None              # weakref to the output Tensor, set only while tracing (keeps ids)
    inplace = None          # the in-place method it ran as (``add_``), for drawings
    post_hooks = None       # {id: hook(grad_inputs, grad_outputs)}: grad_fn.register_hook
    torch_name = None       # torch's node name where it is not ``<Class>Backward0`` (see name)

    def forward(ctx, *arrays, **attrs):  # pragma: no cover - abstract
        """Compute the output array from input arrays."""
        raise NotImplementedError(f"{type(ctx).__name__} has no forward")

    def backward(ctx, grad_out):
        """Return one gradient array per input (None where not needed)."""
        from ..errors import BackwardError
        raise BackwardError(f"no gradient rule for {type(ctx).__name__}; "
                            "use it under gv.no_grad() or on tensors that need no grad")

    def save_for_backward(ctx, *arrays):
        """Keep arrays for backward (freed after it unless retain_graph)."""
        ctx.saved = arrays

    @property
    def saved_tensors(ctx):
        """What forward saved (torch's name)."""
        return ctx.saved

    @property
    def name(ctx):
        """torch-style node name, e.g. ``MulBackward0`` (torch numbers its built-in ops'
        overloads; a custom Function's node is ``CubeBackward``); also callable, as torch's
        ``name()``.

        It is ``<Class>Backward0`` unless ``torch_name`` says otherwise: a class attribute
        where torch names the op differently (``Log1p``: ``"Log1PBackward0"``), or a per-node
        one that ``forward`` sets where torch's name depends on the inputs' ranks or the
        arguments (``Matmul``: ``MmBackward0``, ``DotBackward0``...). Only the displayed name
        changes: events, breakpoints and the op table use the class name."""
        return NodeName(ctx.torch_name or type(ctx).__name__ + "Backward0")

    def register_hook(ctx, hook):
        """torch's Node.register_hook: ``hook(grad_inputs, grad_outputs)`` after this node's
        backward, which may return new grad_inputs. Returns a handle with ``.remove()``."""
        from ..autograd.graph import register_posthook
        return register_posthook(ctx, hook)

    def register_prehook(ctx, hook):
        """torch's Node.register_prehook: ``hook(grad_outputs)`` before this node's backward,
        which may return new grad_outputs. Returns a handle with ``.remove()``."""
        from ..autograd.graph import register_prehook
        return register_prehook(ctx, hook)

    @property
    def next_functions(ctx):
        """((grad_fn or None, 0), ...) for each input, as torch shows them."""
        out = []
        as_seen(ctx)
        for a in ctx.inputs:
            fn = getattr(a, "grad_fn", None)
            out.append((fn, 0))
        return tuple(out)

    def __repr__(ctx):
        return f"<{ctx.name}>"

    @classmethod
    def apply(cls, *args, **attrs):
        """Run the op on tensors (or constants) and link the result into the graph."""
        # the hot path of every op: kept flat (no helper calls) for speed
        arrays = []
        requires = False
        xp = np
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                arrays.append(d)
                if a._requires_grad:
                    requires = True
                if type(d) is not ndarray:
                    xp = None
                if d.dtype.kind == "c" and not cls.complex_ok:
                    _refuse_complex(cls)
            else:
                arrays.append(a)
        if xp is None:   # a device array among them
            xp = _check_device(args)
        ctx = _new(cls)
        if xp is not np:
            ctx.xp = xp
        try:
            out = ctx.forward(*arrays, **attrs)
        except ValueError as e:
            raise _shape_error(cls, e) from None
        if type(out) is not ndarray and xp is np and not hasattr(out, "__cuda_array_interface__"):
            raw, out = out, np.asarray(out)  # NumPy scalars from 0-d ops and full reductions
            if ctx.saved and any(s is raw for s in ctx.saved):
                ctx.saved = tuple(out if s is raw else s for s in ctx.saved)
        t = _new(Tensor)
        t._data = out
        t.grad = None
        t._node = None
        t._name = None
        t._hooks = None
        # only floating-point (and complex) results join the graph, as torch: an integer or
        # bool result (x.long(), a custom Function's indices) has no grad_fn
        if requires and grad_mode.enabled and cls.differentiable and out.dtype.kind in "fc":
            t._requires_grad = True
            t.grad_fn = ctx
            ctx.inputs = args
            if attrs:
                ctx.attrs = attrs
            ctx.out_data = out
            ctx.epoch = INPLACE[0]
        else:
            t._requires_grad = False
            t.grad_fn = None
        if HOOKS.on:
            _after_forward(ctx, args, attrs, t)
        return t


def _refuse_complex(cls):
    raise GradvizError(f"{cls.__name__} does not support complex tensors (gradviz supports "
                       "complex only in the ops listed in gradviz/engine/ops/complex.py); "
                       "apply it to .real, .imag or .abs() instead")


class NodeName(str):
    """A node's name: a string (gradviz's ``grad_fn.name``) that may also be called
    (torch's ``grad_fn.name()``)."""

    def __call__(self):
        return str(self)


def apply_binary(cls, a, b):
    """``cls.apply(a, b)`` for two Tensors: the arithmetic operators' fast path (same result).

    Skips the generic argument loop and ``**attrs`` packing; anything unusual (arrays of
    two kinds or on two GPUs, a NumPy scalar result) goes through ``cls.apply``.
    """
    x = a._data
    y = b._data
    kind = type(x)
    if kind is not type(y) or not cls.complex_ok and x.dtype.kind == "c":  # (x tells)
        return cls.apply(a, b)   # apply refuses complex for an op that does not take it
    ctx = _new(cls)
    if kind is not ndarray:      # two device arrays: on one GPU, the same path
        index = gpu_index(x)
        if index is None or gpu_index(y) != index:
            return cls.apply(a, b)
        ctx.xp = cupy()
    try:
        out = ctx.forward(x, y)
    except ValueError as e:
        raise _shape_error(cls, e) from None
    if type(out) is not kind:  # 0-d operands give a NumPy scalar: the generic path fixes it
        return cls.apply(a, b)
    t = _new(Tensor)
    t._data = out
    t.grad = None
    t._node = None
    t._name = None
    t._hooks = None
    if (a._requires_grad or b._requires_grad) and grad_mode.enabled and cls.differentiable:
        t._requires_grad = True
        t.grad_fn = ctx
        ctx.inputs = (a, b)
        ctx.out_data = out
        ctx.epoch = INPLACE[0]
    else:
        t._requires_grad = False
        t.grad_fn = None
    if HOOKS.on:
        _after_forward(ctx, (a, b), {}, t)
    return t


def link_output(ctx, out, inputs, requires):
    """The output Tensor of an op whose forward a fast path ran itself (``apply_linear``,
    ``cross_entropy_plain``): ``out`` wrapped, and ``ctx`` made its grad_fn when an input
    requires grad and grad mode is on (what ``apply`` does; ``apply`` and the arithmetic
    fast paths keep this inline, they are the per-op hot path measured by B1)."""
    t = _new(Tensor)
    t._data = out
    t.grad = None
    t._node = None
    t._name = None
    t._hooks = None
    if requires and grad_mode.enabled:
        t._requires_grad = True
        t.grad_fn = ctx
        ctx.inputs = inputs
        ctx.out_data = out
        ctx.epoch = INPLACE[0]
    else:
        t._requires_grad = False
        t.grad_fn = None
    return t


def apply_unary(cls, a):
    """``cls.apply(a)`` for one Tensor and no attributes: the activations' fast path (same
    result); non-NumPy arrays and NumPy scalar results go through ``cls.apply``."""
    x = a._data
    if type(x) is not ndarray or not cls.complex_ok and x.dtype.kind == "c":
        return cls.apply(a)
    ctx = _new(cls)
    out = ctx.forward(x)
    if type(out) is not ndarray:
        return cls.apply(a)
    t = _new(Tensor)
    t._data = out
    t.grad = None
    t._node = None
    t._name = None
    t._hooks = None
    if a._requires_grad and grad_mode.enabled and cls.differentiable:
        t._requires_grad = True
        t.grad_fn = ctx
        ctx.inputs = (a,)
        ctx.out_data = out
        ctx.epoch = INPLACE[0]
    else:
        t._requires_grad = False
        t.grad_fn = None
    if HOOKS.on:
        _after_forward(ctx, (a,), {}, t)
    return t


# In-place changes so far (torch's version counters, in one number): a tensor changed in
# place records the count in ``_modified``; a node records it when made (``epoch``); the
# backward loop checks a node's saved inputs only when the count moved since.
INPLACE = [0]

# (pack, unpack) of the gv.autograd.graph.saved_tensors_hooks blocks in effect, innermost last
SAVED_HOOKS = []


class Packed(tuple):
    """A node's ``saved`` once saved_tensors_hooks packed it (gv.autograd.graph): the backward
    loop unpacks it for the node's backward; ``unpack`` is the hook to do it with."""

    unpack = None


def note_inplace(t):
    """``t``'s values are about to change in place (an in-place op, an optimizer step)."""
    INPLACE[0] += 1
    t._modified = INPLACE[0]
    fn = t.grad_fn
    if fn is not None:   # an output ops like exp and tanh saved for their backward
        fn.out_modified = INPLACE[0]
    shared = t.__dict__.get("_shared_version")
    if shared is not None:   # t and the tensors detach() made of it (or it of): one counter
        shared[0] = INPLACE[0]


# In-place ops on tensors in a graph (torch's rebase): INPLACE[0] at the last one. A node
# made before it may read a tensor whose place in the graph has changed since (as_seen).
REBASED = [0]


def rebase(t, prev, new):
    """``t`` becomes ``new`` in place: an in-place op on a tensor in a graph, as torch.

    ``prev`` is the stand-in for t's previous version (a copy of its values, its grad_fn and
    trace node) that the op ``new`` was computed from. new's values are written into t's
    array (views and aliases see them, as torch's), t takes new's place in the graph, and
    the nodes made before keep reading the previous version: the node that made it, now
    here, and its consumers when backward walks them (``as_seen``).
    """
    arr = t._data
    old_fn = t.grad_fn
    modified = 0 if old_fn is None else old_fn.out_modified
    note_inplace(t)
    if old_fn is not None:
        # what old_fn saved of its output now lives in prev's copy, unchanged by this write
        # (unless it saved a view of it: its backward then raises torch's error)
        if _swap_saved(old_fn, arr, prev._data):
            old_fn.out_modified, old_fn.shared_version = modified, None
            if old_fn.out_data is arr:
                old_fn.out_data = prev._data
        if old_fn.retain is not None and old_fn.retain() is t:   # retain_grad follows t
            new.grad_fn.retain, old_fn.retain = old_fn.retain, None
    arr[...] = new._data
    fn = new.grad_fn
    if fn is not None:   # t's array is the op's output now (new's copy can go)
        _swap_saved(fn, new._data, arr)
        fn.out_data = arr
        if fn.out is not None:
            fn.out = _ref(t)
    t.grad_fn = fn
    if fn is not None:   # its output is t's values as of this write, not changed after it
        fn.epoch = INPLACE[0]
    t._requires_grad = new._requires_grad
    t._node = new._node
    REBASED[0] = INPLACE[0]
    t.__dict__.setdefault("_history", []).append((INPLACE[0], prev))


def _swap_saved(fn, arr, copy):
    """Point what ``fn`` saved of ``arr`` at ``copy`` (the same values); False when fn saved
    a view of ``arr`` instead (its values changed: backward then raises torch's error)."""
    saved = fn.saved
    if not isinstance(saved, tuple):
        return True
    if any(s is not arr and getattr(s, "base", None) is arr for s in saved):
        return False
    if any(s is arr for s in saved):
        fn.saved = tuple(copy if s is arr else s for s in saved)
    return True


def as_seen(fn):
    """Point ``fn``'s inputs at the versions it read when it ran: an input changed in place
    in a graph since (``rebase``) is replaced by the stand-in of that version, and what fn
    saved of it by the stand-in's values (torch's error if it saved a view of it, whose
    values changed). For nodes older than the last rebase only."""
    epoch = fn.epoch
    if epoch is None or epoch >= REBASED[0]:
        return
    inputs = list(fn.inputs)
    for i, a in enumerate(inputs):
        history = a.__dict__.get("_history") if isinstance(a, Tensor) else None
        for count, prev in history or ():
            if count > epoch:
                if not _swap_saved(fn, a._data, prev._data):
                    _raise_modified(fn, a._data, f"input {i}")
                inputs[i] = prev
                break
    fn.inputs = tuple(inputs)


def _version(a):
    """The last in-place change of ``a`` (or of a tensor sharing its version counter)."""
    v = getattr(a, "_modified", 0)
    shared = getattr(a, "__dict__", {}).get("_shared_version")
    return v if shared is None or shared[0] < v else shared[0]


def check_saved(fn):
    """Raise torch's error if a value ``fn`` saved for its backward (an input, or its own
    output) was changed in place after ``fn`` ran: its gradient would use the new values."""
    saved = fn.saved if isinstance(fn.saved, tuple) else ()

    def is_saved(d):
        return any(s is d or getattr(s, "base", None) is d for s in saved)

    shared = fn.shared_version
    out_modified = fn.out_modified if shared is None else max(fn.out_modified, shared[0])
    if out_modified > fn.epoch and is_saved(fn.out_data):
        _raise_modified(fn, fn.out_data, "output 0")
    needs, readers = fn.needs_input_grad, fn.saved_for
    for i, a in enumerate(fn.inputs):
        if _version(a) <= fn.epoch:
            continue
        if readers is not None and not any(needs[j] for j in readers.get(i, ())):
            continue   # no gradient this backward computes reads it (torch: no error)
        if is_saved(a._data):
            _raise_modified(fn, a._data, f"input {i}")


def _raise_modified(fn, d, which):
    raise BackwardError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{d.dtype} {list(d.shape)}] is {which} of {type(fn).__name__}, "
        "changed after it ran (an optimizer step or an in-place op under no_grad before "
        "backward?). Run the forward pass again, or change a .clone() instead.")


def _shape_error(cls, e):
    """A NumPy ValueError in an op's forward (shapes that do not broadcast, a bad reshape)
    as the project's ShapeError naming the op: a RuntimeError as torch raises, and still a
    ValueError. Errors of our own pass through unchanged."""
    if isinstance(e, GradvizError):
        return e
    return ShapeError(f"{cls.__name__}: {str(e).strip()}")


_NO_TENSOR = object()


def _check_device(args):
    """The array module of the tensors among ``args``, or torch's error when they sit on
    different devices. (On the hot path of every GPU op: compares GPU indices, makes no
    device objects.)"""
    first = _NO_TENSOR
    for a in args:
        if isinstance(a, Tensor):
            index = gpu_index(a._data)
            if first is _NO_TENSOR:
                first = index
            elif index != first:
                devs = {device_of(a._data) for a in args if isinstance(a, Tensor)}
                raise DeviceError("Expected all tensors to be on the same device, but found "
                                  "at least two devices, "
                                  + " and ".join(sorted(str(d) for d in devs)) + "!")
    return np if first is None else cupy()


def _after_forward(ctx, args, attrs, t):
    if t.grad_fn is ctx:  # double backward under tracing then reuses this very Tensor (its node)
        ctx.out = _ref(t)
    node = None
    if HOOKS.listening:
        node = HOOKS.tracer.op(ctx, args, attrs, t)
    if HOOKS.anomaly:
        from .anomaly import check_forward
        check_forward(ctx, t, node)
    gate = HOOKS.gate
    if gate is not None:
        if node is None:
            from ..trace.core import tensor_node
            node = ctx.node = tensor_node(t)
        gate.after_forward(node, type(ctx).__name__, t._data)
    if SAVED_HOOKS and t.grad_fn is ctx and ctx.saved:
        # gv.autograd.graph.saved_tensors_hooks (which turns HOOKS.on on): pack what the
        # node saved, now that it is in the graph and its inputs and output are known
        from ..autograd.graph import pack_saved
        pack_saved(ctx, args, t)


from .tensor import Tensor  # noqa: E402  (circular: Tensor methods call Function.apply)

ndarray = np.ndarray
_new = object.__new__
_ref = weakref.ref
