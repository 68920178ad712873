"""``gv.debug``: programmatic breakpoints (API.md), with or without a server.

``gv.debug.break_on(op="Log", when="nan")`` stops the computation where the
condition holds. Attached to a server (``gv.attach``), the step gate pauses and
the browser shows the node; in a plain script the breakpoint raises
``BreakpointHit`` (or calls ``pdb``, or your handler) at that op.
"""

from .errors import GradvizError
from .trace.hooks import HOOKS

__all__ = ["break_on", "BreakpointHit", "clear"]

_CONDITIONS = (None, "nan", "inf", "nonfinite")


class BreakpointHit(GradvizError):
    """Raised at a breakpoint in a script that is not attached to a server."""

    def __init__(self, message, info):
        super().__init__(message)
        self.info = info


class _Breakpoint:
    """One programmatic breakpoint; ``.remove()`` deletes it."""

    def __init__(self, gate, op, node, when, phase, action):
        self.gate, self.op, self.node, self.when, self.phase = gate, op, node, when, phase
        self.action = action

    def matches(self, node, op, arr, phase):
        if self.op is not None and op != self.op:
            return False
        if self.node is not None and node != self.node:
            return False
        if self.phase is not None and phase != self.phase:
            return False
        when = self.when
        if when is None:
            return True
        from .engine.tensor import Tensor
        if callable(when):
            return bool(when(Tensor._wrap(arr)))
        if arr is None or getattr(arr, "dtype", None) is None or arr.dtype.kind != "f":
            return False
        from .engine.backend import xp_of
        xp = xp_of(arr)
        if when == "nan":
            return bool(xp.isnan(arr).any())
        if when == "inf":
            return bool(xp.isinf(arr).any())
        return not bool(xp.isfinite(arr).all())

    def remove(self):
        """Delete this breakpoint (the gate goes away with the last one)."""
        self.gate.remove(self)


class _LocalGate:
    """Checks programmatic breakpoints, then hands over to the gate it wraps (if any)."""

    def __init__(self, inner):
        self.inner = inner
        self.breakpoints = []

    def after_forward(self, node, op, out):
        self._check(node, op, out, "forward")
        if self.inner is not None:
            self.inner.after_forward(node, op, out)

    def before_backward(self, node, op, grad_out):
        self._check(node, op, grad_out, "backward")
        if self.inner is not None:
            self.inner.before_backward(node, op, grad_out)

    def __getattr__(self, name):  # checkpoint(), command() ... of the wrapped gate
        if self.inner is None:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _check(self, node, op, arr, phase):
        for bp in list(self.breakpoints):
            if bp.matches(node, op, arr, phase):
                self._hit(bp, node, op, arr, phase)

    def _hit(self, bp, node, op, arr, phase):
        from .engine.tensor import Tensor
        info = {"node": node, "op": op, "phase": phase,
                "tensor": Tensor._wrap(arr) if arr is not None else None}
        what = bp.when if isinstance(bp.when, str) else "condition"
        message = (f"breakpoint: {op} (node {node}) in the {phase} pass"
                   + (f", {what} values" if bp.when is not None else ""))
        if HOOKS.listening:
            HOOKS.tracer.event({"type": "anomaly" if bp.when else "paused", "node": node,
                                "where": phase, "what": what, "message": message,
                                "phase": phase})
        if self.inner is not None and hasattr(self.inner, "command"):
            self.inner.command("pause")  # attached: the browser takes over at this node
            return
        if bp.action == "pdb":
            import pdb
            pdb.set_trace()
        elif callable(bp.action):
            bp.action(info)
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
    attached to a server the gate pauses instead. Returns a handle with ``.remove()``.
    """
    if op is None and node is None and when is None:
        raise GradvizError("break_on needs an op, a node or a condition (when=...)")
    if not callable(when) and when not in _CONDITIONS:
        raise GradvizError(f"when must be one of {_CONDITIONS[1:]} or a callable, not {when!r}")
    if phase not in (None, "forward", "backward"):
        raise GradvizError("phase must be 'forward', 'backward' or None")
    if op is not None and not isinstance(op, str):
        raise GradvizError("op must be an op name such as 'Log' or 'Conv2d'")
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


