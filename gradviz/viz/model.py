"""One graph model for every drawing: built from schema events or by walking a tensor's graph.

A :class:`GraphModel` holds nodes (leaves, ops, collapsed modules) and edges
(input → consumer, with the shape that flows along it). The Graphviz drawing,
the exports and the server all read this model, so a drawing of a live tensor
and one of a recording of the same computation look the same.
"""
from ..errors import GradvizError
from ..engine.function import as_seen

KINDS = ("param", "input", "op", "loss", "module")


class VizError(GradvizError):
    """A graph that cannot be drawn or exported as asked (too large, bad input)."""


class Node:
    """One vertex: a leaf tensor, an op's output, or a collapsed module."""

    __slots__ = ("id", "kind", "op", "name", "module", "shape", "dtype", "value", "grad",
                 "state", "attrs", "src", "members", "message")

    def __init__(self, id, kind, op=None, name=None, module=None, shape=None, dtype=None,
                 value=None, grad=None, state="ok", attrs=None, src=None, members=None,
                 message=None):
        self.id, self.kind, self.op, self.name, self.module = id, kind, op, name, module
        self.shape, self.dtype, self.value, self.grad = shape, dtype, value, grad
        self.state, self.attrs, self.src = state, attrs or {}, src
        self.members, self.message = members, message

    @property
    def label(self):
        """The node's title: op name, parameter name, or module path."""
        if self.kind == "module":
            return self.module
        if self.kind in ("param", "input"):
            return self.name or ("param" if self.kind == "param" else "input")
        if self.attrs.get("inplace"):
            return f"{self.op} (in place)"
        return self.op or "?"

    def to_dict(self):
        """A JSON-safe dict of every field (``None`` fields left out)."""
        d = {k: getattr(self, k) for k in self.__slots__}
        d["label"] = self.label
        return {k: v for k, v in d.items() if v is not None and v != {}}

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: d.get(k) for k in cls.__slots__ if k in d})


class Edge:
    """Data flowing from ``src`` into argument ``slot`` of ``dst``."""

    __slots__ = ("src", "dst", "slot", "shape", "grad")

    def __init__(self, src, dst, slot=0, shape=None, grad=None):
        self.src, self.dst, self.slot, self.shape, self.grad = src, dst, slot, shape, grad

    def to_dict(self):
        """A JSON-safe dict (``grad`` is the stats of the gradient sent back along it)."""
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`."""
        return cls(d["src"], d["dst"], d.get("slot", 0), d.get("shape"), d.get("grad"))


class GraphModel:
    """Nodes (in a deterministic order: inputs before their consumers) and edges."""

    def __init__(self, nodes=None, edges=None, root=None):
        self.nodes = {}
        for n in nodes or ():
            self.nodes[n.id] = n
        self.edges = list(edges or ())
        self.root = root

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"<GraphModel {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def add(self, node):
        """Add (or replace) a node."""
        self.nodes[node.id] = node
        return node

    @property
    def source(self):
        """DOT text of the default drawing (as ``graphviz.Digraph.source``)."""
        from .render import to_dot
        return to_dot(self)

    def pipe(self, format="svg", **opts):
        """The rendered bytes (as ``graphviz.Digraph.pipe``); see :func:`render.export`."""
        from .render import export
        return export(self, format, **opts)


def _stats_state(*stats):
    for st in stats:
        if st and ((st.get("nan") or 0) > 0 or (st.get("inf") or 0) > 0):
            return "nan"
    return "ok"


def _grad_summary(g):
    if not g:
        return None
    return {k: v for k, v in g.items() if k != "preview"} | (
        {"values": g["preview"]["values"]} if isinstance(g.get("preview"), dict)
        and "values" in g["preview"] else {})


def _value_summary(ev):
    st = dict(ev.get("stats") or {})
    pv = ev.get("preview")
    if isinstance(pv, dict) and "values" in pv:
        st["values"] = pv["values"]
    return st or None


def graph_from_events(events, root="last"):
    """The graph model of schema events (a ``Recording``'s ``events`` or any list of them).

    ``root="last"`` keeps what the last backward root (else the last op) depends
    on: one step of a training loop. ``root=None`` keeps everything; an int keeps
    what that node depends on.
    """
    events = getattr(events, "events", events)
    if not isinstance(events, (list, tuple)):
        raise VizError(f"draw() takes a Tensor, a Recording or a list of events, "
                       f"not {type(events).__name__}")
    nodes, edges, last_root = {}, {}, None
    for ev in events:
        t = ev.get("type")
        n = ev.get("node")
        if t == "leaf":
            kind = "param" if ev.get("requires_grad") else "input"
            nodes[n] = Node(n, kind, name=ev.get("name"), shape=ev.get("shape"),
                            dtype=ev.get("dtype"), value=_value_summary(ev))
        elif t == "op":
            nodes[n] = Node(n, "op", op=ev.get("op"), module=ev.get("module"),
                            shape=ev.get("shape"), dtype=ev.get("dtype"),
                            value=_value_summary(ev), attrs=ev.get("attrs"), src=ev.get("src"))
            edges[n] = [Edge(i, n, slot) for slot, i in enumerate(ev.get("inputs") or ())]
        elif t in ("grad", "accum") and n in nodes:
            nodes[n].grad = _grad_summary(ev.get("grad"))
            if t == "grad":
                sent = {c.get("to"): c.get("stats") for c in ev.get("contribs") or ()}
                for e in edges.get(n, ()):
                    if e.src in sent:
                        e.grad = sent[e.src]
        elif t == "backward_begin" and ev.get("root") is not None:
            last_root = ev["root"]
        elif t == "anomaly" and n in nodes:
            nodes[n].state = "nan"
            nodes[n].message = ev.get("message")
    if root == "last":
        root = last_root if last_root in nodes else _last_op(nodes, edges)
    keep = _ancestors(root, edges) if root is not None else set(nodes)
    model = GraphModel(root=root)
    for nid, node in nodes.items():
        if nid in keep:
            if node.state == "ok":
                node.state = _stats_state(node.value, node.grad)
            model.add(node)
    for nid in model.nodes:
        for e in edges.get(nid, ()):
            src = nodes.get(e.src)
            if src is not None and e.src in model.nodes:
                e.shape = src.shape
                model.edges.append(e)
    _mark_loss(model)
    return model


def _last_op(nodes, edges):
    used = {e.src for es in edges.values() for e in es}
    ops = [n for n, node in nodes.items() if node.kind == "op" and n not in used]
    return ops[-1] if ops else None


def _ancestors(root, edges):
    keep, stack = set(), [root]
    while stack:
        n = stack.pop()
        if n in keep:
            continue
        keep.add(n)
        stack.extend(e.src for e in edges.get(n, ()))
    return keep


def _mark_loss(model):
    used = {e.src for e in model.edges}
    for n in model.nodes.values():
        if n.kind == "op" and n.id not in used and (n.id == model.root or n.shape == []):
            n.kind = "loss"


def _param_names(params):
    """{id(tensor): name} from a module, a dict name -> tensor, or (name, tensor) pairs."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    elif isinstance(params, dict):
        params = params.items()
    names = {}
    for item in params:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and hasattr(item[1], "_data")):
            raise VizError("params: expected a module, a dict name -> tensor or (name, tensor) "
                           f"pairs, got an item {type(item).__name__}")
        names[id(item[1])] = item[0]
    return names


def _common_path(paths):
    """The longest dotted prefix shared by every path (``None`` if they share nothing)."""
    common = None
    for p in paths:
        parts = p.split(".")
        if common is None:
            common = parts
            continue
        i = 0
        while i < min(len(common), len(parts)) and common[i] == parts[i]:
            i += 1
        common = common[:i]
    return ".".join(common) if common else None


def infer_modules(model):
    """Give op nodes without a module path the module of the named parameters they read.

    A tensor's graph does not record which module each op ran in (a recording does),
    but parameter names do: an op that reads ``features.0.weight`` ran in
    ``features.0``. Only ops reading a named leaf directly are labelled (ops such as an
    activation between modules stay unlabelled); an op reading parameters of two modules
    gets their common parent, or nothing. Returns ``model``, changed in place.
    """
    owner = {n.id: n.name.rsplit(".", 1)[0] for n in model.nodes.values()
             if n.kind in ("param", "input") and n.name and "." in n.name}
    if not owner:
        return model
    read = {}
    for e in model.edges:
        if e.src in owner:
            read.setdefault(e.dst, []).append(owner[e.src])
    for nid, paths in read.items():
        n = model.nodes.get(nid)
        if n is not None and n.kind in ("op", "loss") and not n.module:
            n.module = _common_path(paths)
    return model


def graph_from_tensor(tensor, params=None):
    """The graph model of a tensor's history (or of a tuple of tensors), walked directly.

    Values come from each tensor's data; gradients from leaves' ``.grad`` and
    from non-leaf tensors that ``retain_grad()``. ``params`` names leaves (see
    ``gv.viz.draw``); otherwise a leaf shows the name tracing gave it, if any. Ops
    get the module path of the named parameters they read (:func:`infer_modules`).
    Several outputs (``(y1, y2)``, as torchviz's ``make_dot``) share one drawing; the
    first is the root.
    """
    from ..trace.summary import stats, preview
    ids, order, edges = {}, [], []
    names = _param_names(params)
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    if not roots or not all(hasattr(t, "_data") and hasattr(t, "grad_fn") for t in roots):
        raise VizError("draw() takes a Tensor, a tuple of Tensors, a Recording or a list "
                       "of events")
    root_ids = {id(t) for t in roots}

    def key(t):
        return id(t.grad_fn) if t.grad_fn is not None else id(t)

    def summary(a):
        if a is None:
            return None
        a = getattr(a, "_data", a)
        st = stats(a)
        pv = preview(a)
        if "values" in pv:
            st["values"] = pv["values"]
        return st

    # iterative post-order: inputs get ids before their consumers (deterministic)
    stack, seen = [(t, 0) for t in reversed(roots)], set()
    while stack:
        t, i = stack.pop()
        k = key(t)
        fn = t.grad_fn
        if fn is not None:
            as_seen(fn)   # the versions of its inputs it read (in-place ops since)
        inputs = [a for a in fn.inputs if hasattr(a, "_data")] if fn is not None else []
        if i == 0 and k in seen:
            continue
        seen.add(k)
        if i < len(inputs):
            stack.append((t, i + 1))
            if key(inputs[i]) not in seen:
                stack.append((inputs[i], 0))
            continue
        ids[k] = len(order) + 1
        order.append(t)
    model = GraphModel()
    for t in order:
        nid = ids[key(t)]
        arr = t._data
        shape, dtype = list(arr.shape), str(arr.dtype)
        fn = t.grad_fn
        if fn is None:
            kind = "param" if t.requires_grad else "input"
            node = Node(nid, kind, name=names.get(id(t), t._name), shape=shape, dtype=dtype,
                        value=summary(arr), grad=summary(t.grad))
        else:
            from ..trace.core import jattrs
            retained = fn.retain() if fn.retain is not None else None
            g = retained.grad if retained is not None else (
                t.grad if id(t) in root_ids else None)
            # Python numbers by argument slot, exactly as the recorder writes them, so that a
            # tensor's drawing and a recording's label ``x ** 2`` the same way
            scalars = {str(i): a for i, a in enumerate(fn.inputs)
                       if not hasattr(a, "_data") and isinstance(a, (int, float))}
            attrs = jattrs(dict(fn.attrs or {}, scalars=scalars) if scalars else fn.attrs)
            if fn.inplace:
                attrs["inplace"] = fn.inplace
            node = Node(nid, "op", op=type(fn).__name__, shape=shape, dtype=dtype,
                        value=summary(arr), grad=summary(g), attrs=attrs)
            for slot, a in enumerate(x for x in fn.inputs if hasattr(x, "_data")):
                edges.append(Edge(ids[key(a)], nid, slot, list(a._data.shape)))
        node.state = _stats_state(node.value, node.grad)
        model.add(node)
    model.edges = edges
    model.root = ids[key(roots[0])]
    _mark_loss(model)
    return infer_modules(model)


def collapse(model, max_nodes):
    """A model with at most about ``max_nodes`` nodes: ops grouped by module path.

    The deepest module depth that fits is used; parameters named under a module
    (``fc1.weight`` under ``fc1``) join it. Ops outside any module stay as they are.
    """
    if len(model.nodes) <= max_nodes:
        return model
    depths = [len(n.module.split(".")) for n in model.nodes.values() if n.module]
    best = None
    for depth in range(max(depths, default=0), 0, -1):
        best = _group(model, depth)
        if len(best.nodes) <= max_nodes:
            return best
    return best or model


def _group(model, depth):
    def group_of(n):
        if n.kind in ("op", "loss") and n.module:
            return ".".join(n.module.split(".")[:depth])
        if n.kind == "param" and n.name and "." in n.name:
            return ".".join(n.name.split(".")[:-1][:depth])
        return None
    modules = {n.module and ".".join(n.module.split(".")[:depth])
               for n in model.nodes.values() if n.kind in ("op", "loss")}
    out = GraphModel(root=model.root)
    where = {}
    for n in model.nodes.values():
        g = group_of(n)
        if g is None or g not in modules:
            where[n.id] = n.id
            out.add(n)
            continue
        gid = f"module:{g}"
        where[n.id] = gid
        m = out.nodes.get(gid)
        if m is None:
            m = out.add(Node(gid, "module", module=g, members=[]))
        m.members.append(n.id)
        if n.kind in ("op", "loss"):
            m.shape, m.dtype, m.value, m.grad = n.shape, n.dtype, n.value, n.grad
        if n.state != "ok":
            m.state = n.state
    if model.root in where:
        out.root = where[model.root]
    seen = set()
    for e in model.edges:
        s, d = where[e.src], where[e.dst]
        if s == d or (s, d) in seen:
            continue
        seen.add((s, d))
        out.edges.append(Edge(s, d, e.slot, e.shape, e.grad))
    return out
