"""``gv.debug``: programmatic breakpoints (API.md), with or without a server.

``gv.debug.break_on(op="Log", when="nan")`` stops the computation where the
condition holds. Attached to a server (``gv.attach``), the step gate pauses and
the browser shows the node; in a plain script the breakpoint raises
``BreakpointHit`` (or calls ``pdb``, or your handler) at that op.
"""

import threading

from .errors import GradvizError
from .trace.conditions import (Origins, _any_nonfinite, _finite_flags, check_op, made_at,
                               op_key, where_made)
from .trace.hooks import HOOKS

__all__ = ["break_on", "BreakpointHit", "clear"]

_CONDITIONS = (None, "nan", "inf", "nonfinite")
# per thread: a user condition or action is running; its own tensor ops pass every gate
# unchecked (a condition written with tensor ops would otherwise recurse forever)
_BUSY = threading.local()


class BreakpointHit(GradvizError):
    """Raised at a breakpoint in a script that is not attached to a server."""

    def __init__(self, message, info):
        super().__init__(message)
        self.info = info


class _Breakpoint:
    """One programmatic breakpoint; ``.remove()`` deletes it, and as a context manager
    (``with gv.debug.break_on("Log"): ...``) it holds only inside the block."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __init__(self, gate, op, node, when, phase, action):
        self.gate, self.op, self.node, self.when, self.phase = gate, op, node, when, phase
        self.action = action
        self.key = op_key(op) if op is not None else None

    def matches(self, node, op, arr, phase, origin=None):
        """True when this breakpoint holds; ``origin``: ``(nan, inf, NaN/Inf starts here)``
        (NaN/Inf conditions stop where non-finite values first appear, not downstream)."""
        if self.op is not None and op_key(op) != self.key:
            return False
        if self.node is not None and node != self.node:
            return False
        if self.phase is not None and phase != self.phase:
            return False
        when = self.when
        if when is None:
            return True
        if callable(when):
            from .engine.tensor import Tensor
            _BUSY.on = True
            try:
                return bool(when(Tensor._wrap(arr)))
            finally:
                _BUSY.on = False
        if origin is None:
            return False
        nan, inf, new = origin
        if not new:
            return False
        if when == "nan":
            return nan
        if when == "inf":
            return inf
        return nan or inf

    def remove(self):
        """Delete this breakpoint (the gate goes away with the last one)."""
        self.gate.remove(self)


class _LocalGate:
    """Checks programmatic breakpoints, then hands over to the gate it wraps (if any).

    ``gv.attach`` installs its gate as ``inner`` when this one is already there, and
    takes it out again on close (see ``install_gate``), in either order."""

    wraps_gates = True

    def __init__(self, inner):
        self.inner = inner
        self.breakpoints = []
        self.origins = Origins()
        self.forwarded = True   # a forward op ran since the last backward node

    def after_forward(self, node, op, out):
        if getattr(_BUSY, "on", False):
            return
        self.forwarded = True
        self._check(node, op, out, "forward")
        if self.inner is not None:
            self.inner.after_forward(node, op, out)

    def before_backward(self, node, op, grad_out):
        if getattr(_BUSY, "on", False):
            return
        first, self.forwarded = self.forwarded, False   # the seed of a backward pass
        self._check(node, op, grad_out, "backward", first=first)
        if self.inner is not None:
            self.inner.before_backward(node, op, grad_out)

    def after_backward(self, node, op, grads):
        """What backward node ``node`` sends its inputs (a leaf's gradient too)."""
        if getattr(_BUSY, "on", False):
            return
        if any(isinstance(bp.when, str) for bp in self.breakpoints):
            nan, inf = _any_nonfinite(grads)
            new = self.origins.outgoing(node, nan or inf)
            if new:
                for bp in list(self.breakpoints):
                    if isinstance(bp.when, str) and bp.phase in (None, "backward") and \
                            bp.node in (None, node) and \
                            (bp.key is None or bp.key == op_key(op)) and \
                            bp.matches(node, op, None, "backward", (nan, inf, True)):
                        bad = next((g for g in grads if g is not None and any(
                            _finite_flags(g))), None)
                        self._hit(bp, node, op, bad, "backward", sent=True)
                        break
        if self.inner is not None and hasattr(self.inner, "after_backward"):
            self.inner.after_backward(node, op, grads)

    def __getattr__(self, name):  # checkpoint(), command() ... of the wrapped gate
        if name in ("inner", "__setstate__") or self.inner is None:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _check(self, node, op, arr, phase, first=False):
        origin = None
        if arr is not None and any(isinstance(bp.when, str) for bp in self.breakpoints):
            nan, inf = _finite_flags(arr)
            if phase == "forward":
                new = self.origins.forward(node, nan or inf)
            else:
                new = self.origins.incoming(node, nan or inf, first)
            origin = (nan, inf, new)
        for bp in list(self.breakpoints):
            if bp.matches(node, op, arr, phase, origin):
                self._hit(bp, node, op, arr, phase)

    def _hit(self, bp, node, op, arr, phase, sent=False):
        from .engine.tensor import Tensor
        info = {"node": node, "op": op, "phase": phase,
                "tensor": Tensor._wrap(arr) if arr is not None else None}
        what = bp.when if isinstance(bp.when, str) else "condition"
        src = made_at(node, phase)
        if src is not None:   # the user's line (in backward: its forward's, while tracing)
            info["src"] = src
        if sent:
            info["sent"] = True   # ``tensor``: a gradient this node sent (to a leaf, say)
            message = (f"breakpoint: the backward of {op} (node {node}) sent {what} "
                       "gradients (from a finite incoming gradient)")
        else:
            message = (f"breakpoint: {op} (node {node}) in the {phase} pass"
                       + (f", {what} values" if bp.when is not None else ""))
        message += where_made(src, phase)
        if HOOKS.listening:
            HOOKS.tracer.event({"type": "anomaly" if bp.when else "paused", "node": node,
                                "where": phase, "what": what, "message": message,
                                "phase": phase})
        if self.inner is not None and hasattr(self.inner, "command"):
            # attached: the browser takes over at this node
            if sent and hasattr(self.inner, "pause_at"):
                self.inner.pause_at("after_backward", node, op, "backward")
            else:
                self.inner.command("pause")
            return
        if bp.action == "pdb":
            import pdb
            pdb.set_trace()
        elif callable(bp.action):
            _BUSY.on = True
            try:
                bp.action(info)
            finally:
                _BUSY.on = False
        else:
            raise BreakpointHit(message, info)

    def remove(self, bp):
        if bp in self.breakpoints:
            self.breakpoints.remove(bp)
        if not self.breakpoints and HOOKS.gate is self:
            HOOKS.gate = self.inner
            HOOKS.refresh()


def break_on(op=None, node=None, when=None, phase=None, action="raise"):
    """Stop where an op (by name, e.g. "Log"), a node id, or a condition matches.

    ``when``: "nan", "inf", "nonfinite" or a callable taking the tensor (the op's
    output in the forward pass, the incoming gradient in the backward pass) and
    returning True to stop. ``phase``: "forward", "backward" or both (None).
    ``action``: "raise" (BreakpointHit), "pdb", or a callable ``handler(info)``;
    attached to a server the gate pauses instead. Returns a handle with ``.remove()``,
    also a context manager that removes it at the end of its block. A forward stop's
    message and ``info["src"]`` name the user's ``file:line``.
    """
    if op is None and node is None and when is None:
        raise GradvizError("break_on needs an op, a node or a condition (when=...)")
    if not callable(when) and when not in _CONDITIONS:
        raise GradvizError(f"when must be one of {_CONDITIONS[1:]} or a callable, not {when!r}")
    if phase not in (None, "forward", "backward"):
        raise GradvizError("phase must be 'forward', 'backward' or None")
    if op is not None and not isinstance(op, str):
        raise GradvizError("op must be an op name such as 'Log' or 'Conv2d'")
    if op is not None:
        check_op(op)   # 'Conv2d', 'conv2d', 'ReLU' mean the Conv and Relu ops
    if not (action in ("raise", "pdb") or callable(action)):
        raise GradvizError("action must be 'raise', 'pdb' or a callable")
    gate = HOOKS.gate
    if not isinstance(gate, _LocalGate):
        gate = _LocalGate(gate)
        HOOKS.gate = gate
        HOOKS.refresh()
    bp = _Breakpoint(gate, op, node, when, phase, action)
    gate.breakpoints.append(bp)
    return bp


def clear():
    """Remove every programmatic breakpoint."""
    gate = HOOKS.gate
    while isinstance(gate, _LocalGate):
        gate.breakpoints.clear()
        HOOKS.gate = gate = gate.inner
    HOOKS.refresh()


