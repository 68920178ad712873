"""Full values of a node for a viewer, answered by an attached process (``gv.attach``).

The server forwards a viewer's ``tensor {session, node, what}`` to the producer
as ``tensor_request {node, what, max_elements, max_bytes}`` and relays the
acknowledgement. The answer comes from the arrays the attachment's step gate
keeps for the most recent nodes (``keep_values`` bytes, oldest dropped first:
about the last step of a small model), or, for a leaf such as a parameter that
the gate never sees, from the live Tensor carrying that node id (found on
demand among the objects the garbage collector tracks). Everything here runs on
the socket's thread, never on the computing thread.
"""
import gc
import json

import numpy as np

from .trace.summary import jvalues, stats, to_host

KEEP_VALUES = 32 * 1024 * 1024   # bytes of recent node values an attached process keeps


def _live_leaf(node, what):
    """The value (or ``.grad``) of a live Tensor whose node id is ``node``, or None."""
    from .engine.tensor import Tensor
    kinds, todo = set(), [Tensor]
    while todo:                     # Tensor and its subclasses (Parameter...)
        k = todo.pop()
        if k not in kinds:
            kinds.add(k)
            todo.extend(k.__subclasses__())
    for o in gc.get_objects():
        if type(o) in kinds and getattr(o, "_node", None) == node:  # type(): no proxy lookups
            src = o.grad if what == "grad" else o
            return None if src is None else src._data
    return None


def _error(code, message, **extra):
    return {"ok": False, "error": dict({"code": code, "message": message}, **extra)}


def answer(gate, msg):
    """The acknowledgement of ``tensor_request {node, what, max_elements, max_bytes}``:
    ``{ok, shape, dtype, stats, values}`` or ``{ok: False, error: {code, message}}``."""
    if not isinstance(msg, dict):
        return _error("BAD_MESSAGE", "tensor_request needs an object")
    node, what = msg.get("node"), msg.get("what", "value")
    if not isinstance(node, int) or isinstance(node, bool) or what not in ("value", "grad"):
        return _error("BAD_MESSAGE", "tensor_request needs an integer 'node' and 'what'")
    arr = gate.value(node, what) if gate is not None else None
    if arr is None:
        try:
            arr = _live_leaf(node, what)
        except Exception:   # never leave the server without an answer
            arr = None
    if arr is None:
        return _error("NOT_AVAILABLE", f"the attached process no longer keeps the {what} of "
                                       f"node {node} (it keeps only its most recent nodes)")
    a = np.array(to_host(arr), copy=True)          # the computing thread may change it
    max_el = msg.get("max_elements")
    if isinstance(max_el, int) and a.size > max_el:
        return _error("TENSOR_TOO_LARGE", f"node {node} has {a.size} elements, over the "
                                          f"server's limit of {max_el}")
    values = jvalues(a)
    max_bytes = msg.get("max_bytes")
    if isinstance(max_bytes, int):
        size = len(json.dumps(values, separators=(",", ":")))
        if size > max_bytes:
            return _error("TENSOR_TOO_LARGE", f"the values of node {node} are {size} bytes "
                                              f"of JSON, over the limit of {max_bytes}")
    return {"ok": True, "shape": list(a.shape), "dtype": str(a.dtype), "stats": stats(a),
            "values": values}
