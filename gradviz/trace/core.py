"""The tracer: cheap records on the computing thread, events everywhere else.

The engine hands the tracer small tuples (ids, names, a reference to the array).
``drain()`` turns them into schema events (EVENTS.md) and gives them, in
batches, to every sink. A background thread drains while asynchronous sinks
are attached; recorders drain synchronously when read. With no sink nothing
is recorded at all (``HOOKS.listening`` is false and the engine never calls in).
"""
import ctypes
import itertools
import os
import platform
import sys
import threading
import time

import numpy as np

from .hooks import HOOKS, MISSING
from .origins import with_origins
from .summary import jfloat, preview, stats

SCHEMA_VERSION = 1
BUFFER_MAX = 20000          # records held before the computing thread drains itself
DRAIN_INTERVAL = 0.02       # seconds between background drains

_node_ids = itertools.count(1)
_now = time.monotonic_ns
_getframe = sys._getframe
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# frames that are never the user's line: gradviz's own, and the thread bootstrap below a
# job's or a worker's code (a playground job has no user frame: its source is None)
_NOT_USER = (_PKG_DIR, threading.__file__)


def new_node_id():
    """A fresh node id, unique in this process (and so within a session)."""
    return next(_node_ids)


def tensor_node(t):
    """The node id of a tensor, given on first need."""
    n = t._node
    if n is None:
        n = t._node = next(_node_ids)
    return n


def fn_node(fn):
    """The node id of an op (the id of its output tensor)."""
    n = fn.node
    if n is None:
        n = fn.node = next(_node_ids)
    return n


def user_src():
    """``file:line`` of the first frame outside the gradviz package, or None."""
    return _src_text(_user_frame(sys._getframe(2), HOOKS.scope))


def _user_frame(f, scope):
    """(file, line) of the first frame outside the gradviz package (and the thread
    bootstrap) at or above frame ``f``, or None: what records keep (the ``file:line`` text is built at drain time).

    ``scope`` is the innermost ``nn.Module`` call in flight (``HOOKS.scope``): its frame
    is gradviz's own, and while it runs the user's frame above it (and that frame's line)
    cannot change, so the answer found above it is kept there for every later op inside
    it. Ops of a layer stop at their layer's frame after a few hops instead of walking up
    through every enclosing module. A user's frame met first (a user-defined ``forward``
    or hook) is the answer, as without the cache; a scope of another thread is never met.
    """
    known = _PKG_CODES
    stop = scope[0] if scope is not None else None
    passed = None
    where = None
    while f is not None:
        if f is stop:
            where = scope[1]
            if where is not MISSING:
                break
            passed = [scope] if passed is None else passed + [scope]
            scope = scope[2]
            stop = scope[0] if scope is not None else None
            where = None
        code = f.f_code
        if id(code) not in known:  # by id: hashing a code object hashes its whole body
            if not code.co_filename.startswith(_NOT_USER):
                where = code.co_filename, f.f_lineno
                break
            known[id(code)] = code  # gradviz's own code: a finite set; kept alive, so
        f = f.f_back                # its id is never reused by another code object
    if passed is not None:
        for s in passed:
            s[1] = where
    return where


_PKG_CODES = {}


def _src_text(where):
    return None if where is None else f"{where[0]}:{where[1]}"


SRCS_MAX = 200_000   # op nodes whose source line the tracer keeps (a few MB at most)


def forward_src(node):
    """``file:line`` of the user's call that made op node ``node`` (kept while tracing, for
    a backward NaN report to name it), or None."""
    tracer = HOOKS.tracer
    return None if tracer is None else _src_text(tracer.srcs.get(node))


_DTYPE_NAMES = {}


def _dtype_name(a):
    dt = a.dtype
    name = _DTYPE_NAMES.get(dt)
    if name is None:
        name = _DTYPE_NAMES[dt] = str(dt)
    return name


def _device_name(a):
    dev = getattr(a, "device", None)
    return "cpu" if dev is None or isinstance(dev, str) else f"cuda:{dev.id}"


# glibc's mallopt parameters, and the values its own dynamic thresholds reach at most
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD
_heap_kept = [False]


def keep_freed_heap():
    """Let glibc's malloc keep freed memory for reuse while events are recorded (once per
    process; a no-op elsewhere, or with ``GRADVIZ_MALLOC_TUNE=0``).

    Pending records keep arrays alive until the drain summarises them, so the heap grows
    while records wait and shrinks when they are released. By default glibc returns the
    freed top of the heap to the system as soon as it exceeds twice its (adaptive) mmap
    threshold, and every later step page-faults that memory back in: most of the
    capture tax in B3 (docs/performance.md). Fixing both thresholds at the ceiling glibc's
    own adaptation can reach (arrays under 32 MB from the heap; up to 64 MB of free heap
    kept) makes the freed memory reused instead. Returns whether the setting was made.
    """
    if _heap_kept[0]:
        return False
    _heap_kept[0] = True
    if os.environ.get("GRADVIZ_MALLOC_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        if platform.libc_ver()[0] != "glibc":
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, ValueError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


class Tracer:
    """Collects records from the engine and fans events out to sinks."""

    def __init__(self):
        self.records = []
        self.sinks = []               # callables taking a list of events
        self.async_sinks = 0
        self.announced = set()        # leaf node ids already announced
        self.srcs = {}                # op node id -> (file, line) of the user's call (forward_src)
        self.nonfinite = set()        # nodes whose value holds NaN/Inf (see origins.py)
        self.touched = set()          # ops that read or made such a value (see origins.py)
        self.reported = set()         # nodes an anomaly event was sent for (see origins.py)
        self.lock = threading.RLock()
        self.thread = None
        self.wake = threading.Event()
        HOOKS.tracer = self

    # ---- sinks -------------------------------------------------------------
    def add_sink(self, sink, background=False):
        """Start delivering events to ``sink(events)``; background sinks get a drain thread."""
        keep_freed_heap()
        with self.lock:
            self.drain()
            self.sinks.append(sink)
            self.announced = set()  # a new listener must see every leaf again
            self.nonfinite, self.touched, self.reported = set(), set(), set()
            if background:
                self.async_sinks += 1
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(target=self._loop, name="gradviz-trace",
                                                   daemon=True)
                    self.thread.start()
            HOOKS.listening = True
            HOOKS.refresh()

    def remove_sink(self, sink, background=False):
        """Deliver what is pending, then stop delivering to ``sink``."""
        with self.lock:
            self.drain()
            if sink in self.sinks:
                self.sinks.remove(sink)
                if background:
                    self.async_sinks -= 1
            HOOKS.listening = bool(self.sinks)
            HOOKS.refresh()
            if not self.sinks:
                self.records = []

    def _loop(self):
        while True:
            self.wake.wait(DRAIN_INTERVAL)
            self.wake.clear()
            if self.async_sinks <= 0:
                with self.lock:
                    if self.async_sinks <= 0:
                        self.thread = None
                        return
            if self.records:
                self.drain()

    def protect(self, arrays):
        """Copy the pending records' references to ``arrays`` (or views of them) before
        they change in place: an optimizer step, an in-place op, a weight load.

        Much cheaper than draining on the computing thread: nothing is summarised,
        only the arrays about to change are copied. Waits for a drain in progress.
        """
        if not self.records:
            return
        keys = {id(a if getattr(a, "base", None) is None else a.base) for a in arrays}
        with self.lock:
            recs = self.records
            for i, rec in enumerate(recs):
                new = _protected(rec, keys)
                if new is not rec:
                    recs[i] = new

    # ---- the computing thread's side ----------------------------------------
    # Records are plain tuples appended in line (no helper call per record); every
    # ``append`` is followed by the BUFFER_MAX back-pressure check of ``_push``.
    def _push(self, rec):
        recs = self.records
        recs.append(rec)
        if len(recs) >= BUFFER_MAX:
            self.drain()  # back-pressure: never drop what a recorder must keep

    def leaf(self, t):
        """Announce a leaf tensor (once per listener epoch)."""
        node = t._node
        if node is None:
            node = t._node = next(_node_ids)
        if node in self.announced:
            return node
        self.announced.add(node)
        self._push(("leaf", node, t._name, t._data, t._requires_grad, _now()))
        return node

    def op(self, fn, args, attrs, out):
        """Record one forward op; announces leaf inputs first.

        Called by the engine's ``_after_forward`` (itself called by ``Function.apply``):
        the search for the user's frame starts at that caller's caller.
        """
        ids = []
        scalars = None
        recs = self.records
        announced = self.announced
        for i, a in enumerate(args):
            if hasattr(a, "_data"):
                node = a._node
                if node is None:
                    node = a._node = next(_node_ids)
                if a.grad_fn is None and node not in announced:
                    announced.add(node)
                    recs.append(("leaf", node, a._name, a._data, a._requires_grad, _now()))
                ids.append(node)
            elif isinstance(a, (int, float)):  # Python constants: ``x * 3`` shows the 3
                if scalars is None:
                    scalars = {}
                scalars[str(i)] = a
        if scalars is not None:
            attrs = dict(attrs, scalars=scalars)
        node = out._node
        if node is None:
            node = out._node = next(_node_ids)
        fn.node = node
        stack = HOOKS.module_stack  # a snapshot: the dotted path is joined at drain time
        where = _user_frame(_getframe(2), HOOKS.scope)
        srcs = self.srcs
        if len(srcs) >= SRCS_MAX:   # recent graphs only: a backward reads its own forward's
            srcs.clear()
        srcs[node] = where
        recs.append(("op", node, type(fn).__name__, ids, attrs, out._data,
                     tuple(stack) if stack else None, where, _now()))
        if len(recs) >= BUFFER_MAX:
            self.drain()
        return node

    def grad(self, fn, grad_out, contribs):
        """Record one backward node: its incoming grad and what it sends each input
        (the op's class stands for its name and rule until the drain)."""
        node = fn.node
        if node is None:
            node = fn.node = next(_node_ids)
        recs = self.records
        recs.append(("grad", node, type(fn), grad_out, contribs, _now()))
        if len(recs) >= BUFFER_MAX:
            self.drain()

    def accum(self, t, grad):
        """Record a leaf's .grad receiving its summed gradient."""
        node = t._node
        if node is None:
            node = t._node = next(_node_ids)
        recs = self.records
        recs.append(("accum", node, grad, _now()))
        if len(recs) >= BUFFER_MAX:
            self.drain()

    def mark_inplace(self, node, name):
        """Note on the pending record of op ``node`` that it ran as the in-place ``name``
        (``y.add_(w)``): its event's attrs get ``inplace``."""
        recs = self.records
        for i in range(len(recs) - 1, -1, -1):
            rec = recs[i]
            if rec[0] == "op" and rec[1] == node:
                recs[i] = rec[:4] + (dict(rec[4], inplace=name),) + rec[5:]
                return

    def event(self, ev):
        """Record a ready-made event dict (``type`` set; t added here)."""
        ev.setdefault("t", time.monotonic_ns())
        self._push(("raw", ev))

    # ---- everywhere else -------------------------------------------------------
    def drain(self):
        """Summarise pending records and deliver them to every sink, in order."""
        with self.lock:
            recs, self.records = self.records, []
            if not recs or not self.sinks:
                return
            # one array often appears in several records of a drain (a grad sent to a
            # node is that node's incoming grad; a leaf's only contribution is its
            # .grad): summarise it once. ``recs`` keeps every array alive, so ids are
            # not reused while the memo lives.
            self._memo = {}
            try:
                events = with_origins([self._event(r) for r in recs], self.nonfinite,
                                      self.touched, self.reported)
            finally:
                self._memo = None
            for sink in list(self.sinks):
                sink(events)

    _memo = None

    def _memo_of(self, a):
        memo = self._memo
        hit = memo.get(id(a))
        if hit is None or hit[0] is not a:
            hit = memo[id(a)] = [a, None, None]
        return hit

    def _stats(self, a):
        """``stats(a)`` (a fresh dict), computed once per array per drain."""
        if self._memo is None:
            return stats(a)
        hit = self._memo_of(a)
        if hit[1] is None:
            hit[1] = stats(a)
        return dict(hit[1])

    def _preview(self, a):
        """``preview(a)`` (a fresh top-level dict), computed once per array per drain."""
        if self._memo is None:
            return preview(a)
        hit = self._memo_of(a)
        if hit[2] is None:
            hit[2] = preview(a)
            return hit[2]
        return dict(hit[2])

    def _event(self, r):
        kind = r[0]
        if kind == "op":
            _, node, op, ids, attrs, arr, module, src, t = r
            module = ".".join(module) if module else None
            src = _src_text(src)
            return {"v": SCHEMA_VERSION, "type": "op", "t": t, "node": node, "op": op,
                    "inputs": ids, "attrs": jattrs(attrs), "shape": list(arr.shape),
                    "dtype": _dtype_name(arr), "device": _device_name(arr),
                    "stats": self._stats(arr), "preview": self._preview(arr),
                    "module": module, "src": src}
        if kind == "grad":
            _, node, cls, g, contribs, t = r
            st = self._stats
            ev = {"v": SCHEMA_VERSION, "type": "grad", "t": t, "node": node,
                  "op": cls.__name__, "rule": cls.rule,
                  "contribs": [{"to": to, "stats": st(c)} for to, c in contribs]}
            grad = st(g) if g is not None else {}
            grad["preview"] = self._preview(g) if g is not None else None
            grad["shape"] = list(g.shape) if g is not None else None
            ev["grad"] = grad
            return ev
        if kind == "leaf":
            _, node, name, arr, rg, t = r
            return {"v": SCHEMA_VERSION, "type": "leaf", "t": t, "node": node, "name": name,
                    "shape": list(arr.shape), "dtype": _dtype_name(arr),
                    "device": _device_name(arr), "requires_grad": bool(rg),
                    "stats": self._stats(arr), "preview": self._preview(arr)}
        if kind == "accum":
            _, node, g, t = r
            grad = self._stats(g)
            grad["preview"] = self._preview(g)
            return {"v": SCHEMA_VERSION, "type": "accum", "t": t, "node": node, "grad": grad}
        ev = dict(r[1])
        ev.setdefault("v", SCHEMA_VERSION)
        return ev


# where each record kind keeps its arrays (see Tracer.leaf/op/grad/accum)
_ARRAY_SLOTS = {"leaf": (3,), "op": (5,), "grad": (3,), "accum": (2,)}


def _owner(a):
    base = getattr(a, "base", None)
    return id(a if base is None else base)


def _protected(rec, keys):
    """``rec`` with private copies of the arrays whose memory is in ``keys``."""
    slots = _ARRAY_SLOTS.get(rec[0])
    if slots is None:
        return rec
    out = None
    for i in slots:
        a = rec[i]
        if a is not None and _owner(a) in keys:
            out = list(rec) if out is None else out
            out[i] = a.copy()
    if rec[0] == "grad":
        contribs = rec[4]
        if any(_owner(c) in keys for _, c in contribs):
            out = list(rec) if out is None else out
            out[4] = [(to, c.copy() if _owner(c) in keys else c) for to, c in contribs]
    return rec if out is None else tuple(out)


def jattrs(attrs):
    """Op attributes as JSON: numbers, strings, lists; anything else as its repr."""
    if not attrs:
        return {}
    out = {}
    for k, v in attrs.items():
        out[k] = _jvalue(v)
    return out


def _jvalue(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return jfloat(v)
    if isinstance(v, dict):
        return {str(k): _jvalue(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jvalue(x) for x in v]
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        return _jvalue(v.item())
    if isinstance(v, np.dtype):   # x.to(gv.float64)'s attribute: "float64", not an array
        return str(v)
    if hasattr(v, "shape"):
        return f"array{tuple(v.shape)}"
    return repr(v)


TRACER = Tracer()
