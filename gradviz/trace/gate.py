"""The step gate: the debugger's stop points inside the engine (UI.md, stepping).

The engine calls ``after_forward(node, op, out)`` after each forward op (its
event already recorded) and ``before_backward(node, op, grad_out)`` before each
backward node, on the computing thread, whenever ``HOOKS.gate`` is set, and
``checkpoint("backward_end")`` when a backward pass ends (so "continue" from inside
backward stops there, before the optimizer's update, in any script). A training loop
may add ``checkpoint("step", i)`` before each step (the playground's also says
``checkpoint("backward_end", i)``: a second call there does not stop again). When the gate
decides to stop, the computing thread flushes the tracer (so viewers see the
node that just ran), emits ``paused`` and waits until a command
(``step_forward``, ``step_backward``, ``continue``, ``run``) releases it.

Commands and breakpoints arrive from other threads (the web server, or the
socket of ``gv.attach``). The gate knows nothing about the engine: tests drive
it from a plain thread with NumPy arrays.
"""
import itertools
import math
import threading
import time
from collections import OrderedDict

from ..errors import GradvizError
from .conditions import Origins, _norm, _origin, made_at, op_key, where_made

ACTIONS = ("run", "pause", "step_forward", "step_backward", "continue")
CONDITIONS = (None, "nan", "inf", "nonfinite", "grad_norm")
_VALUE_CONDITIONS = ("nan", "inf", "nonfinite")


class JobStopped(GradvizError):
    """Raised on the computing thread when its job is stopped at a gate point."""


def install_gate(gate):
    """Make ``gate`` the engine's step gate; under a wrapping gate already there
    (``gv.debug.break_on``'s, marked ``wraps_gates``) as its innermost ``inner``, so that
    both work whichever came first."""
    from .hooks import HOOKS
    w = HOOKS.gate
    if getattr(w, "wraps_gates", False):
        while getattr(w.inner, "wraps_gates", False):
            w = w.inner
        w.inner = gate
    else:
        HOOKS.gate = gate
    HOOKS.refresh()


def uninstall_gate(gate):
    """Take ``gate`` out of the engine's gates (``install_gate``'s undo); the others stay."""
    from .hooks import HOOKS
    w = HOOKS.gate
    if w is gate:
        HOOKS.gate = None
    else:
        while getattr(w, "wraps_gates", False):
            if w.inner is gate:
                w.inner = None
                break
            w = w.inner
    HOOKS.refresh()


def make_breakpoint(spec):
    """Validate a breakpoint spec ``{node?, op?, when?, threshold?, phase?}``."""
    if not isinstance(spec, dict):
        raise GradvizError("a breakpoint is an object {node, op, when, threshold, phase}")
    node, op, when = spec.get("node"), spec.get("op"), spec.get("when")
    phase = spec.get("phase")
    if node is not None and (not isinstance(node, int) or isinstance(node, bool)):
        raise GradvizError("breakpoint 'node' must be an integer node id")
    if op is not None and (not isinstance(op, str) or len(op) > 100):
        raise GradvizError("breakpoint 'op' must be an op name such as 'Mul'")
    if when not in CONDITIONS:
        raise GradvizError(f"breakpoint 'when' must be one of {CONDITIONS[1:]} or absent")
    if phase not in (None, "forward", "backward"):
        raise GradvizError("breakpoint 'phase' must be 'forward', 'backward' or absent")
    if when is None and node is None and op is None:
        raise GradvizError("a breakpoint needs a node, an op or a condition ('when')")
    threshold = spec.get("threshold")
    if when == "grad_norm":
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not math.isfinite(threshold):
            raise GradvizError("a 'grad_norm' breakpoint needs a finite numeric 'threshold'")
        threshold = float(threshold)
    return {"node": node, "op": op, "when": when, "threshold": threshold, "phase": phase}


class StepGate:
    """Pause points for one traced computation; commands come from other threads."""

    def __init__(self, paused=False, emit=None, flush=None, keep_values=0):
        from . import recorder
        self._emit = emit or recorder.emit
        self._flush = flush or recorder.flush
        self._cond = threading.Condition()
        self._until = "pause" if paused else None   # None = run freely
        self._passed = 0            # backward nodes let through since the last command
        self._origin = None         # phase when 'continue' was given
        self._token = 0             # bumped by every releasing command
        self._ids = itertools.count(1)
        self.breakpoints = {}
        self.stopped = False
        self.paused = None          # dict describing where the computing thread waits
        self.pause_count = 0        # pauses so far (lets a caller wait for the next one)
        self.paused_seconds = 0.0   # time spent waiting (jobs budget running time only)
        self.phase = "idle"
        self.node = None            # last node that ran (forward op or backward node)
        self.step = None
        self.keep_values = int(keep_values)
        self._origins = Origins()   # where NaN/Inf starts (NaN/Inf breakpoints stop there)
        self._values = OrderedDict()    # (kind, node) -> array, bounded by keep_values bytes
        self._value_bytes = 0

    # ---- engine side (computing thread) ----------------------------------------------
    def after_forward(self, node, op, out):
        """Called after each forward op; may block."""
        if self.stopped:
            raise JobStopped("the job was stopped")
        last_phase = self.phase
        self.phase, self.node = "forward", node
        if self.keep_values:
            self._keep("value", node, out)
        if self._until is None and not self.breakpoints:
            return
        hit = self._check(node, op, out, "forward") if self.breakpoints else None
        seen, u = self._token, self._until
        stop = hit is not None or u == "pause" or u == "forward_op" or \
            (u == "backward_node" and self._passed > 0) or \
            (u == "end_of_pass" and self._origin == "backward" and last_phase == "backward")
        if stop:
            self._wait("after_forward", node, op, None, hit, seen=seen)

    def before_backward(self, node, op, grad_out):
        """Called before each backward node runs; may block."""
        if self._until is None and not self.breakpoints and not self.stopped:
            if self.keep_values and grad_out is not None:   # running freely: nothing to check
                self._keep("grad", node, grad_out)
            self.phase, self.node = "backward", node
            return
        if self.stopped:
            raise JobStopped("the job was stopped")
        last_phase, last = self.phase, self.node
        if self.keep_values and grad_out is not None:
            self._keep("grad", node, grad_out)
        hit = self._check(node, op, grad_out, "backward", first=last_phase != "backward") \
            if self.breakpoints else None
        seen, u = self._token, self._until
        stop = hit is not None or u == "pause" or \
            (u == "backward_node" and self._passed > 0) or \
            (u == "end_of_pass" and self._origin != "backward" and last_phase != "backward")
        if stop:
            self._wait("before_backward", last, op, node, hit, phase=last_phase, seen=seen)
        self.phase, self.node = "backward", node
        if self._until == "backward_node":
            self._passed += 1

    def after_backward(self, node, op, grads):
        """Called after backward node ``node`` computed what it sends its inputs (``grads``:
        one array or None per input); stops when a NaN/Inf breakpoint sees a non-finite
        gradient made here (into a leaf's ``.grad`` too); may block."""
        if self.stopped:
            raise JobStopped("the job was stopped")
        if not self.breakpoints:
            return
        hit = self._check(node, op, grads, "backward", out=True)
        if hit is not None:
            self._wait("after_backward", node, op, None, hit, phase="backward",
                       seen=self._token)

    def pause_at(self, at, node, op, phase):
        """Pause here now, as a debugger command would (``gv.debug.break_on`` hit while
        attached, at a point where the gate itself does not stop); may block."""
        with self._cond:
            self._until = "pause"
            seen = self._token
        self._wait(at, node, op, None, None, phase=phase, seen=seen)

    def checkpoint(self, kind, step=None):
        """A loop-level stop point: ``"step"`` (before a step) or ``"backward_end"``."""
        if self.stopped:
            raise JobStopped("the job was stopped")
        if kind == "step":
            self.step = step
        seen, u = self._token, self._until
        stop = u == "pause" or (u == "backward_node" and self._passed > 0) or \
            (u == "end_of_pass" and (self.phase == "backward" or self._origin == "backward"))
        if stop:
            self._wait(kind, self.node, None, None, None, phase=self.phase, seen=seen)
        if kind == "step":
            self.phase = "step"
        elif kind == "backward_end":
            self.phase = "backward_end"

    # ---- the pause itself ---------------------------------------------------------------
    def _wait(self, at, node, op, nxt, hit, phase=None, seen=None):
        """Pause here until a command releases the gate. ``seen``: the command count when
        the caller decided to stop; a command given since (a second click of "step" while
        the first one runs) is not swallowed by this pause: it goes on, and its own rule
        says where to stop next (a breakpoint hit pauses all the same)."""
        phase = phase or self.phase
        info = {"type": "paused", "node": node, "phase": phase, "at": at, "next": nxt,
                "step": self.step}
        if hit is not None:
            bp_id, bp, what, message = hit
            info["reason"] = "breakpoint"
            info["breakpoint"] = bp_id
            if bp["when"] is not None:
                where_node = node if at in ("after_forward", "after_backward") else nxt
                self._emit({"type": "anomaly", "node": where_node,
                            "where": "forward" if at == "after_forward" else "backward",
                            "what": what, "message": message})
        self._flush()
        with self._cond:
            if self.stopped:
                raise JobStopped("the job was stopped")
            token = self._token
            if hit is None and (self._until is None or token != seen):
                return  # released (run), or commanded again, while we were deciding
            self._until = "paused"
            self.paused = info
            self.pause_count += 1
            self._emit(dict(info))
            self._cond.notify_all()
        self._flush()
        t0 = time.monotonic()
        with self._cond:
            while self._token == token and not self.stopped:
                self._cond.wait(0.5)
            self.paused = None
            self.paused_seconds += time.monotonic() - t0
            stopped = self.stopped
            self._cond.notify_all()
        if stopped:
            raise JobStopped("the job was stopped")
        self._emit({"type": "resumed", "node": node, "phase": phase})

    # ---- commands (any thread) -------------------------------------------------------
    def command(self, action, **kw):
        """Apply a debugger command: run, pause, step_forward, step_backward, continue."""
        if action not in ACTIONS:
            raise GradvizError(f"unknown gate action {action!r}; expected one of {ACTIONS}")
        with self._cond:
            if action == "pause":
                if self.paused is None:
                    self._until = "pause"
                self._cond.notify_all()
                return self.state()
            if action == "run":
                self._until = None
            elif action == "step_forward":
                self._until = "forward_op"
            elif action == "step_backward":
                self._until, self._passed = "backward_node", 0
            else:  # continue
                where = self.paused["phase"] if self.paused else self.phase
                at = self.paused["at"] if self.paused else None
                if at in ("before_backward", "after_backward"):
                    where = "backward"   # forward is done: continue runs the backward pass
                elif at in ("step", "backward_end"):
                    where = "forward"    # the next pass is the next step's forward
                self._until = "end_of_pass"
                self._origin = "backward" if where == "backward" else "forward"
            self._token += 1
            self._cond.notify_all()
            return self.state()

    def apply(self, msg):
        """Apply a command message ``{action, ...}``: a gate action or ``breakpoint``.

        ``{"action": "breakpoint", node|op|when|threshold|phase}`` adds one,
        ``{"action": "breakpoint", "remove": id}`` removes one, ``"clear": true`` all.
        """
        if not isinstance(msg, dict):
            raise GradvizError("a gate command is an object {action, ...}")
        if msg.get("action") == "breakpoint":
            if msg.get("clear"):
                self.clear_breakpoints()
            elif msg.get("remove") is not None:
                self.remove_breakpoint(msg["remove"])
            else:
                self.add_breakpoint({k: msg.get(k) for k in
                                     ("node", "op", "when", "threshold", "phase")})
            return self.state()
        return self.command(msg.get("action"))

    def release(self):
        """Run freely from now on (used when the controlling side goes away)."""
        with self._cond:
            self._until = None
            self._token += 1
            self._cond.notify_all()

    def stop(self):
        """Make the computing thread raise ``JobStopped`` at its next gate point."""
        with self._cond:
            self.stopped = True
            self._token += 1
            self._cond.notify_all()

    def wait_paused(self, timeout=None, after=0):
        """Block until the computing thread is paused (for the ``after``+1-th time or later)."""
        with self._cond:
            self._cond.wait_for(lambda: (self.paused is not None and self.pause_count > after)
                                or self.stopped, timeout)
            return self.paused if self.pause_count > after else None

    def state(self):
        """A JSON-safe description: mode, where it is paused, breakpoints."""
        mode = "paused" if self.paused else ("running" if self._until is None else "stepping")
        return {"mode": mode, "paused": dict(self.paused) if self.paused else None,
                "phase": self.phase, "node": self.node, "step": self.step,
                "breakpoints": [dict(bp, id=i) for i, bp in self.breakpoints.items()]}

    # ---- breakpoints --------------------------------------------------------------------
    def add_breakpoint(self, spec):
        """Add a breakpoint (see ``make_breakpoint``); returns its id."""
        bp = make_breakpoint(spec)
        with self._cond:
            i = next(self._ids)
            self.breakpoints = dict(self.breakpoints, **{str(i): bp})
            return i

    def remove_breakpoint(self, bp_id):
        """Remove one breakpoint by id (unknown ids are ignored)."""
        with self._cond:
            bps = dict(self.breakpoints)
            bps.pop(str(bp_id), None)
            self.breakpoints = bps

    def clear_breakpoints(self):
        """Remove every breakpoint."""
        with self._cond:
            self.breakpoints = {}

    def _check(self, node, op, arr, phase, first=False, out=False):
        """The first breakpoint that holds here: ``(id, bp, what, message)`` or None.
        ``out``: ``arr`` is what backward node ``node`` sends its inputs (only NaN/Inf
        conditions are checked then). NaN/Inf conditions hold only where non-finite values
        first appear (``Origins``), not at every op that carries them on."""
        origin = None   # (nan, inf, NaN/Inf starts here), for every op: Origins keeps count
        if arr is not None and any(bp["when"] in _VALUE_CONDITIONS
                                   for bp in self.breakpoints.values()):
            origin = _origin(self._origins, node, arr, phase, first, out)
        for bp_id, bp in self.breakpoints.items():
            if bp["phase"] not in (None, phase):
                continue
            if bp["node"] is not None and bp["node"] != node:
                continue
            if bp["op"] is not None and op_key(bp["op"]) != op_key(op):
                continue
            when = bp["when"]
            if out and when not in ("nan", "inf", "nonfinite"):
                continue
            if when is None:
                return bp_id, bp, None, None
            if arr is None:
                continue
            if when == "grad_norm":
                if phase != "backward":
                    continue
                norm = _norm(arr)
                if not norm <= bp["threshold"]:
                    return bp_id, bp, "grad_norm", (f"gradient norm {norm:.6g} above "
                                                    f"{bp['threshold']:.6g} at {op} (node {node})")
                continue
            nan, inf, new = origin
            if new and ((when in ("nan", "nonfinite") and nan) or
                        (when in ("inf", "nonfinite") and inf)):
                what = "nan" if nan else "inf"
                if out:
                    return bp_id, bp, what, (f"the backward of {op} (node {node}) sent "
                                             f"{what.upper()} gradients (from a finite "
                                             "incoming gradient)"
                                             f"{where_made(made_at(node, phase), phase)}")
                kind = "value" if phase == "forward" else "gradient"
                return bp_id, bp, what, (f"{what.upper()} in the {kind} of {op} (node {node})"
                                         + where_made(made_at(node, phase), phase))
        return None

    # ---- values kept for on-demand inspection -----------------------------------------------
    def _keep(self, kind, node, arr):
        key = (kind, node)
        nbytes = int(getattr(arr, "nbytes", 0))
        if nbytes > self.keep_values:
            return
        old = self._values.pop(key, None)
        if old is not None:
            self._value_bytes -= int(getattr(old, "nbytes", 0))
        self._values[key] = arr
        self._value_bytes += nbytes
        while self._value_bytes > self.keep_values and self._values:
            _, dropped = self._values.popitem(last=False)
            self._value_bytes -= int(getattr(dropped, "nbytes", 0))

    def value(self, node, what="value"):
        """The kept array of a node's value or incoming gradient, or None."""
        return self._values.get(("grad" if what == "grad" else "value", node))
