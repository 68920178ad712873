"""What the debugger's breakpoints test, apart from the gate that stops: an op name as a key
(``op_key``: case, underscores, torch's aliases and a ``1d/2d/3d`` suffix ignored), where
NaN/Inf first appear (``Origins``: an op whose inputs were finite, a backward node that made
NaN/Inf from a finite incoming gradient), and where a node was made (``made_at``)."""
import difflib
import math
import re
import sys

import numpy as np

from ..errors import GradvizError


def _finite_flags(a):
    """``(has_nan, has_inf)`` of an array (cheap when everything is finite)."""
    a = np.asarray(a) if not hasattr(a, "dtype") else a
    if a.dtype.kind not in "fc":
        return False, False
    if bool(np.isfinite(a).all()):
        return False, False
    return bool(np.isnan(a).any()), bool(np.isinf(a).any())


# torch-style names (modules, functionals) of the op a breakpoint means, besides its class
_OP_ALIASES = {"mm": "matmul", "bmm": "matmul", "dot": "matmul", "mv": "matmul",
               "convolution": "conv", "multiply": "mul", "subtract": "sub",
               "divide": "div", "truediv": "div", "negative": "neg", "power": "pow",
               "dense": "linear", "relu6": "clamp", "hardtanh": "clamp",
               # torch's node names (grad_fn) for gradviz's ops, as ``grad_fn.name`` shows them
               "addmm": "linear", "binarycrossentropy": "bceloss",
               "binarycrossentropywithlogits": "bcewithlogits", "nativebatchnorm": "batchnorm",
               "nativelayernorm": "layernorm", "tocopy": "cast", "col2im": "fold",
               "im2col": "unfold", "constantpadnd": "pad", "linalgvectornorm": "norm",
               "specialerfcx": "erfcx", "speciali0e": "i0e", "speciali1": "i1",
               "speciali1e": "i1e", "specialzeta": "zeta"}
_OP_KEYS = {}


def op_key(name):
    """The key two op names share when they mean the same op: case-insensitive, without
    underscores, a torch node's ``Backward0`` or a ``1d``/``2d``/``3d`` suffix, aliases
    resolved (``Conv2d``, ``conv2d`` and ``Conv`` -> ``conv``; ``ReLU`` -> ``relu``;
    ``max_pool2d`` -> ``maxpool``; ``MmBackward0`` -> ``matmul``)."""
    k = _OP_KEYS.get(name)
    if k is None:
        k = re.sub(r"[123]d$", "", re.sub(r"backward\d*$", "", name.lower().replace("_", "")))
        k = _OP_ALIASES.get(k, k)
        if len(_OP_KEYS) < 10_000:
            _OP_KEYS[name] = k
    return k


def known_ops():
    """Names of every op class (the engine's and nn's Function subclasses, custom ones
    defined so far); what events carry as ``op``."""
    from .. import nn  # noqa: F401  (nn's op classes are defined on import)
    from ..nn import functional  # noqa: F401
    from ..engine.function import Function
    seen, todo = set(), [Function]
    while todo:
        for c in todo.pop().__subclasses__():
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return sorted({c.__name__ for c in seen if not c.__name__.startswith("_")} - {"Function"})


def check_op(name):
    """Raise ``GradvizError`` (with close matches) unless ``name`` means a known op."""
    names = known_ops()
    if op_key(name) in {op_key(n) for n in names}:
        return name
    lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lower), n=5, cutoff=0.6)
    hint = (" Did you mean " + ", ".join(repr(lower[c]) for c in close) + "?") if close else ""
    raise GradvizError(f"no op is called {name!r} (op names are the classes events carry, "
                       f"such as 'Log', 'Conv' (Conv2d), 'Relu' (ReLU), 'MaxPool').{hint}")


def _input_nodes(node):
    """The input node ids of forward op ``node`` from the tracer's pending records (None when
    nothing records it: no listener, or already drained)."""
    from .hooks import HOOKS
    tracer = HOOKS.tracer
    recs = getattr(tracer, "records", None) if HOOKS.listening else None
    if not recs:
        return None
    try:
        for i in range(len(recs) - 1, max(-1, len(recs) - 50), -1):
            rec = recs[i]
            if rec[0] == "op" and rec[1] == node:
                return rec[3]
    except IndexError:   # the drain thread took the records meanwhile
        return None
    return None


class Origins:
    """Where NaN/Inf first appears, for the "NaN / Inf anywhere" breakpoints (as the
    trace's origin anomaly, origins.py): a forward op whose inputs were finite, a backward
    node sending a non-finite gradient from a finite incoming one. Not an op that merely
    carries a NaN on. Per gate, on the computing thread."""

    def __init__(self):
        self.bad = set()          # forward nodes whose value held NaN/Inf
        self.grad_bad = None      # backward: (node, incoming grad was non-finite)
        self.produced = False     # the engine reports what backward nodes produce

    def forward(self, node, nonfinite):
        """Note op ``node``'s output; True when it is where NaN/Inf starts."""
        if not nonfinite:
            return False
        if len(self.bad) > 100_000:
            self.bad.clear()
        inputs = _input_nodes(node)
        self.bad.add(node)
        return not (inputs and any(i in self.bad for i in inputs))

    def incoming(self, node, nonfinite, first):
        """Note backward node ``node``'s incoming gradient; True to stop at it (the seed of
        backward, or any non-finite gradient when producers are not reported)."""
        self.grad_bad = (node, nonfinite)
        return nonfinite and (first or not self.produced)

    def outgoing(self, node, nonfinite):
        """Note what backward node ``node`` sent; True when it made NaN/Inf from finite."""
        self.produced = True
        carried = self.grad_bad is not None and self.grad_bad[0] == node and self.grad_bad[1]
        return nonfinite and not carried


def _any_nonfinite(arrays):
    """``(has_nan, has_inf)`` over several arrays (Nones skipped)."""
    nan = inf = False
    for a in arrays:
        if a is None or not hasattr(a, "dtype"):
            continue
        n, i = _finite_flags(a)
        nan, inf = nan or n, inf or i
    return nan, inf


def _origin(origins, node, arr, phase, first, out):
    """``(has_nan, has_inf, NaN/Inf starts here)`` for a gate check (see ``Origins``)."""
    nan, inf = _any_nonfinite(arr) if out else _finite_flags(arr)
    if phase == "forward":
        return nan, inf, origins.forward(node, nan or inf)
    if out:
        return nan, inf, origins.outgoing(node, nan or inf)
    return nan, inf, origins.incoming(node, nan or inf, first)


def _caller_src():
    """``file:line`` of the user's call of the forward op the computing thread is in (the
    first frame outside gradviz, as an ``op`` event's ``src``), or None."""
    from .core import _src_text, _user_frame
    from .hooks import HOOKS
    return _src_text(_user_frame(sys._getframe(1), HOOKS.scope))


def made_at(node, phase):
    """``file:line`` of the user's call behind a NaN/Inf report: the caller's in the forward
    pass, the line the tracer kept for the node in the backward (None when unknown)."""
    if phase == "forward":
        return _caller_src()
    from .core import forward_src
    return forward_src(node)


def where_made(src, phase):
    """`` (called at file:line)`` in the forward pass, `` (its forward called at
    file:line)`` in the backward, or ``""`` (``src``: ``made_at``'s answer): what a NaN/Inf
    report adds so that the user finds the line of their script."""
    if src is None:
        return ""
    return f" (called at {src})" if phase == "forward" else f" (its forward called at {src})"


def _norm(a):
    f = np.asarray(a, dtype=np.float64).ravel()
    return math.sqrt(float(np.dot(f, f)))
