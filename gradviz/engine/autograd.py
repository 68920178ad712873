"""The backward pass: iterative, deterministic, and the one place grad events come from."""
import numpy as np

from ..errors import BackwardError
from ..trace.core import fn_node, tensor_node
from ..trace.hooks import HOOKS
from . import grad_mode
from .backend import device_of
from .custom import Function as CustomFunction
from .function import INPLACE, Packed, check_saved
from .graph_walk import _drop_pruned, _needed, _order, _pruned_needs, _stranded
from .tensor import Tensor

_FREED = object()   # marks saved values released after a backward without retain_graph


def _add(a, b):
    return b if a is None else a + b


def run_backward(roots, grad_roots, retain_graph=False, create_graph=False, inputs=None,
                 accumulate=True, allow_unused=False):
    """Propagate ``grad_roots`` from ``roots`` (tensors) through the graph.

    Without ``inputs``, leaves' ``.grad`` accumulate when ``accumulate``. With ``inputs``,
    only the nodes on a path from the roots to an input run (as torch prunes the graph):
    ``accumulate=False`` returns the gradients reaching those tensors (autograd.grad);
    ``accumulate=True`` accumulates them into the inputs' ``.grad`` as torch's
    ``backward(inputs=...)`` (a non-leaf input retains its grad) and returns Nones.
    """
    fns = [t.grad_fn for t in roots]
    order, deps = _order(fns)
    grads = {}            # id(fn) -> summed grad of that node's output
    leaf_grads = {}       # id(leaf) -> summed grad
    want = None
    run = None            # with inputs: ids of the nodes whose backward runs
    cap = None            # autograd.grad: the inputs whose gradients are captured
    captured = {}
    handed = {id(_raw(g)) for g in grad_roots}  # the caller keeps the seeds: copy them
    if inputs is not None:
        want = {}
        for t in inputs:
            want[id(t.grad_fn) if t.grad_fn is not None else id(t)] = t
            if accumulate and t.grad_fn is not None:
                t.retain_grad()   # as torch: backward(inputs=[y]) keeps y.grad
        run = _needed(order, want, accumulate)
        if not accumulate:
            cap = want
    for t, g in zip(roots, grad_roots):
        if t.grad_fn is None:  # a leaf root: its grad is the seed itself
            if want is not None and id(t) not in want:
                continue
            leaf_grads[id(t)] = _add(leaf_grads.get(id(t)), g)
            if not order:
                _finish_leaf(t, leaf_grads.pop(id(t)), accumulate, cap, captured, create_graph,
                             handed)
            continue
        k = id(t.grad_fn)
        grads[k] = _add(grads.get(k), g)
    tracing = HOOKS.on
    listening = HOOKS.listening
    count = len(order) if run is None else len(run)   # the nodes that may run
    if listening:
        HOOKS.tracer.event({"type": "backward_begin", "root": fn_node(fns[0]) if fns[0] else None,
                            "count": count})
    prev_mode = grad_mode.enabled
    grad_mode.enabled = bool(create_graph)
    try:
        if not (create_graph or want is not None or tracing):
            _plain_loop(order, grads, leaf_grads, deps, retain_graph, accumulate, handed)
        else:
            for fn in order:
                k = id(fn)
                g = grads.pop(k, None)
                if g is None:
                    continue
                if run is not None:
                    if k not in run:   # a captured input's node that nothing else needs
                        if cap is not None and k in cap:
                            if fn.hooks or fn.retain is not None:   # not the node's own
                                g = _node_hooks(fn, g, create_graph, node_runs=False)
                            captured[k] = g
                        continue
                    if cap is not None and k in cap:
                        captured[k] = g   # as torch: before the hooks of a node that runs
                if fn.hooks or fn.retain is not None:
                    g = _node_hooks(fn, g, create_graph)
                if tracing:
                    if HOOKS.gate is not None:
                        HOOKS.gate.before_backward(fn_node(fn), type(fn).__name__, _raw(g))
                if run is None:
                    grads_in = _call_backward(fn, g, create_graph)
                elif isinstance(fn, CustomFunction):   # its needs_input_grad is fixed
                    grads_in = _drop_pruned(fn, _call_backward(fn, g, create_graph), run, want)
                else:
                    grads_in = _call_backward(fn, g, create_graph, _pruned_needs(fn, run, want))
                if tracing and HOOKS.gate is not None:
                    _gate_sent(HOOKS.gate, fn, tuple(_raw(gi) for gi in grads_in))
                if listening:
                    _trace_grad(fn, g, grads_in)
                if HOOKS.anomaly:
                    from .anomaly import check_backward
                    check_backward(fn, grads_in)
                if not retain_graph and fn.saved:
                    fn.saved = _FREED
                for a, gi in zip(fn.inputs, grads_in):
                    if gi is None or not getattr(a, "requires_grad", False):
                        continue
                    child = a.grad_fn
                    if child is not None:
                        ck = id(child)
                        grads[ck] = _add(grads.get(ck), gi)
                    else:
                        lk = id(a)
                        leaf_grads[lk] = _add(leaf_grads.get(lk), gi)
                        deps[lk] -= 1
                        if deps[lk] == 0:
                            _finish_leaf(a, leaf_grads.pop(lk), accumulate, cap, captured,
                                         create_graph, handed)
        if leaf_grads:
            for t, g in _stranded(roots, order, leaf_grads):
                _finish_leaf(t, g, accumulate, cap, captured, create_graph, handed)
    finally:
        grad_mode.enabled = prev_mode
    if listening:
        HOOKS.tracer.event({"type": "backward_end", "root": fn_node(fns[0]) if fns[0] else None,
                            "count": count})
        # the next forward pass is a new graph: announce its leaves (with their new values)
        HOOKS.tracer.announced.clear()
    if HOOKS.gate is not None:
        _gate_end(HOOKS.gate)
    if want is None:
        return None
    if cap is None:   # backward(inputs=...): accumulated above
        return (None,) * len(inputs)
    result = []
    for t in inputs:
        k = id(t.grad_fn) if t.grad_fn is not None else id(t)
        g = captured.get(k)
        if g is None:
            if not allow_unused:
                raise BackwardError("One of the differentiated Tensors appears to not have been "
                                    "used in the graph. Set allow_unused=True if this is the "
                                    "desired behavior.")
            result.append(None)
        else:
            result.append(g if create_graph else Tensor._wrap(g))
    return tuple(result)


def backward_plain(fn, seed, retain_graph):
    """``tensor.backward()`` in the common case: a non-leaf root seeded with ``seed``,
    accumulating into leaves, no ``inputs=``, no create_graph, nothing tracing. The same
    work as ``run_backward`` (same order, same checks, same results) without its
    general-case bookkeeping. A listening tracer and a step gate get the same events and
    stop points as from ``run_backward``; anomaly mode takes ``run_backward``."""
    order, deps = _order((fn,))
    listening = HOOKS.listening
    if listening:
        HOOKS.tracer.event({"type": "backward_begin", "root": fn_node(fn), "count": len(order)})
    prev_mode = grad_mode.enabled
    grad_mode.enabled = False
    try:
        leaf_grads, handed = {}, {id(seed)}
        _plain_loop(order, {id(fn): seed}, leaf_grads, deps, retain_graph, True, handed)
        if leaf_grads:
            for t, g in _stranded((), order, leaf_grads):
                _finish_leaf(t, g, True, None, {}, False, handed)
    finally:
        grad_mode.enabled = prev_mode
    if listening:
        HOOKS.tracer.event({"type": "backward_end", "root": fn_node(fn), "count": len(order)})
        HOOKS.tracer.announced.clear()   # the next forward pass announces its leaves again
    if HOOKS.gate is not None:
        _gate_end(HOOKS.gate)


def _plain_loop(order, grads, leaf_grads, deps, retain_graph, accumulate, handed):
    """The backward loop of the common case: no create_graph, no ``inputs=``, no anomaly
    mode (a listening tracer gets its grad and accum records here too, and a step gate
    its ``before_backward`` stop point before each node, as in the general loop). The
    same work as the general loop (node hooks, retain_grad, checks) with fewer lookups:
    ``_call_backward`` and the hand-out to inputs are merged into one pass, and a leaf's
    first gradient is wrapped here unless hooks or a tracer want it."""
    pop = grads.pop
    get = grads.get
    leaf_pop = leaf_grads.pop
    hooks = HOOKS
    for fn in order:
        g = pop(id(fn), None)
        if g is None:
            continue
        if fn.hooks or fn.retain is not None:
            g = _node_hooks(fn, g, False)
        gate = hooks.gate
        if gate is not None:   # may block: the debugger's step-backward stops here
            gate.before_backward(fn_node(fn), type(fn).__name__, g)
        if fn.saved is _FREED:
            _raise_freed(fn)
        if fn.epoch is not None and fn.epoch != INPLACE[0]:  # something changed in place
            check_saved(fn)
        inputs = fn.inputs
        needs = fn.needs_input_grad  # set by _order
        if type(fn.saved) is Packed:   # saved_tensors_hooks packed them: unpack first
            from ..autograd.graph import call_unpacked
            grads_in = call_unpacked(fn, type(fn).backward, g)
        else:
            grads_in = fn.backward(g)
        if not isinstance(grads_in, tuple):
            grads_in = (grads_in,)
        if len(grads_in) != len(inputs):
            _raise_count(fn, grads_in)
        if fn.post_hooks:   # grad_fn.register_hook (gv.autograd.graph)
            from ..autograd.graph import run_posthooks
            grads_in = run_posthooks(fn, g, grads_in, needs, False)
        if gate is not None:   # a NaN breakpoint also sees what this node sends (leaves too)
            _gate_sent(gate, fn, grads_in)
        if hooks.listening:
            _trace_grad(fn, g, grads_in)
        if not retain_graph and fn.saved:
            fn.saved = _FREED
        for a, gi, need in zip(inputs, grads_in, needs):
            if gi is None or not need:
                continue
            data = a._data
            if gi.shape != data.shape:
                _raise_shape(fn, gi, data)
            if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                if gi.dtype.kind == "c" and data.dtype.kind != "c":
                    gi = gi.real   # a real input of a complex result: Re(grad), as torch
                gi = gi.astype(data.dtype)
            child = a.grad_fn
            if child is not None:
                ck = id(child)
                old = get(ck)
                grads[ck] = gi if old is None else old + gi
                continue
            lk = id(a)
            left = deps[lk] - 1
            deps[lk] = left
            if leaf_grads:  # partial sums of leaves used more than once (usually none)
                old = leaf_pop(lk, None)
                if old is not None:
                    gi = old + gi
            if left:
                leaf_grads[lk] = gi
            elif a.grad is None and accumulate and not a._hooks and not hooks.listening:
                # _finish_leaf's common case, inline: never share an array between leaves
                # or with the caller, nor a view that may share memory with other grads
                if id(gi) in handed or getattr(gi, "base", None) is not None:
                    gi = gi.copy()
                handed.add(id(gi))
                t = _new(Tensor)
                t._data = gi
                t._requires_grad = False
                t.grad = None
                t.grad_fn = None
                t._node = None
                t._name = None
                t._hooks = None
                a.grad = t
            else:
                _finish_leaf(a, gi, accumulate, None, None, False, handed)


def _node_hooks(fn, g, create_graph, node_runs=True):
    """Run the hooks on fn's output gradient in torch's order: the output tensor's hooks,
    then retain_grad's copy, then the node's pre hooks (``grad_fn.register_prehook``),
    which torch runs only when the node runs (not for an input autograd.grad captures)."""
    pre = ()
    if fn.hooks:
        for hook in list(fn.hooks.values()):
            if getattr(hook, "node_prehook", False):
                pre += (hook,)
            else:
                g = _call_hook(hook, g, create_graph)
    if fn.retain is not None:
        t = fn.retain()
        if t is not None:
            gt = g if create_graph else Tensor._wrap(g.copy())
            t.grad = gt if t.grad is None else t.grad + gt
    if node_runs:
        for hook in pre:
            g = _call_hook(hook, g, create_graph)
    return g


def _call_hook(hook, g, create_graph):
    r = hook(g if create_graph else Tensor._wrap(g))
    return g if r is None else r if create_graph else _raw(r)


def _gate_sent(gate, fn, grads_in):
    after = getattr(gate, "after_backward", None)   # a gate may watch inputs only
    if after is not None:
        after(fn_node(fn), type(fn).__name__, grads_in)


def _gate_end(gate):
    """The step gate's stop point at the end of a backward pass (after ``backward_end``):
    where "continue" from inside backward and "step backward" past the last node stop,
    before the optimizer's update, in any script (the playground's loop says the same)."""
    end = getattr(gate, "checkpoint", None)   # a gate may watch ops and nodes only
    if end is not None:
        end("backward_end")


def _raw(g):
    return g._data if hasattr(g, "_data") else g


def _finish_leaf(t, g, accumulate, want, captured, create_graph, handed):
    if t._hooks:
        for hook in t._hooks.values():
            r = hook(g if create_graph else Tensor._wrap(g))
            if r is not None:
                g = r if create_graph else _raw(r)
    if want is not None:
        if id(t) in want:
            captured[id(t)] = g
        return
    if not accumulate:
        return
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
    elif t.grad is not None:
        # in place, as torch's AccumulateGrad: a reference to .grad taken before sees the sum
        # (a pending trace record of the old sum keeps its values)
        if HOOKS.listening:
            HOOKS.tracer.protect([t.grad._data])
        t.grad._data += g
    else:
        # the same array may reach several leaves (Add passes dy through): never share it
        if id(g) in handed or getattr(g, "base", None) is not None:
            g = g.copy()  # views (broadcasts, reshapes) may share memory with other grads
        handed.add(id(g))
        t.grad = Tensor._wrap(g)
    if HOOKS.listening:
        HOOKS.tracer.accum(t, _raw(t.grad))
    post = getattr(t._hooks, "post", None)   # a LeafHooks: post-accumulate-grad hooks
    if post:
        for hook in list(post.values()):
            hook(t)


def _call_backward(fn, g, create_graph, needs=None):
    """fn's backward on ``g``: one gradient per input, None where not needed. ``needs``:
    the gradients a pruned backward wants (default: those of the inputs requiring grad)."""
    if fn.saved is _FREED:
        _raise_freed(fn)
    requires = tuple([type(a) is Tensor and a.requires_grad or
                      getattr(a, "requires_grad", False) for a in fn.inputs])
    fn.needs_input_grad = requires
    if fn.epoch is not None and fn.epoch != INPLACE[0]:
        check_saved(fn)   # as torch: what forward saved is checked, pruned gradients too
    if needs is None:
        needs = requires
    else:
        fn.needs_input_grad = needs
    call = _call_differentiable if create_graph else type(fn).backward
    if type(fn.saved) is Packed:   # saved_tensors_hooks packed them: unpack first
        from ..autograd.graph import call_unpacked
        grads = call_unpacked(fn, call, g)
    else:
        grads = call(fn, g)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(fn.inputs):
        _raise_count(fn, grads)
    if fn.post_hooks:   # grad_fn.register_hook (gv.autograd.graph)
        from ..autograd.graph import run_posthooks
        grads = run_posthooks(fn, g, grads, needs, create_graph)
    out = []
    for a, gi, need in zip(fn.inputs, grads, needs):
        if not need or gi is None:
            out.append(None)
            continue
        if gi.shape != a._data.shape:
            _raise_shape(fn, gi, a._data)
        if not create_graph and gi.dtype is not a._data.dtype and gi.dtype != a._data.dtype:
            if gi.dtype.kind == "c" and a._data.dtype.kind != "c":
                gi = gi.real   # a real input of a complex result: Re(grad), as torch
            gi = gi.astype(a._data.dtype)
        out.append(gi)
    return tuple(out)


def _raise_freed(fn):
    raise BackwardError(
        f"Trying to backward through the graph a second time (or directly access saved "
        f"tensors after they have already been freed): {type(fn).__name__} was freed. "
        "Specify retain_graph=True if you need to backward a second time or to access "
        "saved tensors after calling backward.")


def _raise_count(fn, grads):
    raise BackwardError(f"{type(fn).__name__}.backward returned {len(grads)} gradients "
                        f"for {len(fn.inputs)} inputs")


def _raise_shape(fn, gi, data):
    raise BackwardError(f"{type(fn).__name__}.backward gave a gradient of shape "
                        f"{tuple(gi.shape)} for an input of shape {tuple(data.shape)}")


def _call_differentiable(fn, g):
    """Run ``fn.backward`` on Tensors so that the gradient itself has a graph."""
    from . import tnp
    saved = fn.saved
    mapped = []
    for s in saved:
        m = None
        arr = s._data if type(s) is Tensor else s   # custom Functions save Tensors
        for a in fn.inputs:
            if isinstance(a, Tensor) and arr is a._data:
                m = a
                break
        if m is None and arr is fn.out_data:
            m = _output_tensor(fn)
        if m is None:
            m = s if type(s) is Tensor else Tensor._wrap(s) if hasattr(s, "shape") else s
        mapped.append(m)
    xp = fn.xp
    fn.saved, fn.xp = tuple(mapped), tnp
    device = tnp.DEVICE[0]
    tnp.DEVICE[0] = None if fn.out_data is None else device_of(fn.out_data)
    try:
        gt = g if isinstance(g, Tensor) else Tensor._wrap(g)
        return fn.backward(gt)
    except AttributeError as exc:
        raise BackwardError(f"double backward (create_graph=True) is not supported through "
                            f"{type(fn).__name__}: {exc}") from None
    finally:
        fn.saved, fn.xp = saved, xp
        tnp.DEVICE[0] = device


def _output_tensor(fn):
    """fn's output as a graph Tensor: the original while it lives (tracing keeps a weakref
    to it), else a new Tensor on the same array with the same grad_fn (the same graph node)."""
    out = fn.out() if fn.out is not None else None
    if out is not None and out._data is fn.out_data:
        return out
    t = Tensor._wrap(fn.out_data, requires_grad=True)
    t.grad_fn = fn
    return t


def _trace_grad(fn, g, grads_in):
    contribs = []
    for a, gi in zip(fn.inputs, grads_in):
        if gi is not None:  # only Tensors that require grad receive one
            n = a._node
            contribs.append((tensor_node(a) if n is None else n,
                             gi if type(gi) is _ndarray else _raw(gi)))
    HOOKS.tracer.grad(fn, g if type(g) is _ndarray else _raw(g), contribs)


_ndarray = np.ndarray
_new = object.__new__
