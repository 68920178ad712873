"""GraphModel → Graphviz drawing, DOT, JSON, SVG and PNG (through the ``dot`` binary)."""
import json
import math
import re
import warnings

from .model import Edge, GraphModel, Node, VizError, collapse

EXPORT_MAX_NODES = 1500   # `dot` takes ~0.3 s at 1k nodes, ~2 s at 2k, ~30 s at 5k
FORMATS = ("svg", "png", "dot", "json")

FILL = {"param": "#cfe2ff", "input": "#e9ecef", "op": "#fff3bf", "loss": "#ffc078",
        "module": "#d3f9d8"}
SHAPE = {"param": "ellipse", "input": "ellipse", "op": "box", "loss": "box", "module": "box3d"}
NAN_FILL, NAN_EDGE = "#ff6b6b", "#c92a2a"


def fmt_num(x):
    """A stats number in 4 significant figures; "nan"/"inf" strings stay as they are."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if isinstance(x, bool) or isinstance(x, int):
        return str(x)
    if x != x:
        return "nan"
    return f"{x:.4g}"


def _flat(v):
    out = []
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def fmt_summary(st):
    """One line: the value itself for up to 4 elements, else mean and norm (+ nan/inf)."""
    if not st:
        return "-"
    vals = st.get("values")
    if vals is not None:
        flat = _flat(vals)
        if len(flat) <= 4:
            text = ", ".join(fmt_num(v) for v in flat)
            return text if len(flat) == 1 else f"[{text}]"
    text = f"mean {fmt_num(st.get('mean'))}  norm {fmt_num(st.get('norm'))}"
    bad = [f"{k} {st[k]}" for k in ("nan", "inf") if st.get(k)]
    return text + ("  " + " ".join(bad) if bad else "")


def fmt_shape(shape):
    """``64×128`` (``scalar`` for shape ())."""
    if shape is None:
        return ""
    return "×".join(str(s) for s in shape) if len(shape) else "scalar"


def _esc(text):
    return str(text).replace("\\", "\\\\").replace("\n", " ")


_ARRAY = re.compile(r"array\(([\d, ]*)\)")
_SLICE = re.compile(r"slice\((-?\d+|None), (-?\d+|None), (-?\d+|None)\)")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
ATTR_WIDTH = 36      # characters per attribute line in a node's label
ATTR_LINES = 3       # attribute lines at most; the rest is counted ("+2 more")
SHORT_SEQ = 8        # lists and tuples up to this many numbers are shown whole
REPR_MAX = 40        # longer reprs of odd objects are shortened (whole in the tooltip)


def _shape_of(v):
    """The shape of a rectangular nested list (``None`` if ragged or holding lists of
    different depths)."""
    shape, level = [], [v]
    while isinstance(level[0], (list, tuple)):
        n = len(level[0])
        if any(not isinstance(x, (list, tuple)) or len(x) != n for x in level):
            return None
        shape.append(n)
        level = [y for x in level for y in x]
        if not level:
            break
    if any(isinstance(x, (list, tuple)) for x in level):
        return None
    return shape


def _index_text(key):
    """An indexing key as Python writes it: ``[0:2]``, ``[..., None]``, ``[array(2)]``."""
    parts = []
    for k in key if isinstance(key, (list, tuple)) else [key]:
        m = _SLICE.fullmatch(k) if isinstance(k, str) else None
        if m:
            a, b, c = ("" if x == "None" else x for x in m.groups())
            parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
        elif k == "Ellipsis":
            parts.append("...")
        else:
            parts.append(fmt_attr(k, short=False))
    return "[" + ", ".join(parts) + "]"


def fmt_attr(v, key=None, short=True, depth=0):
    """One attribute value, readable and never cut inside a number: numbers in 4
    significant figures, short lists and tuples whole as tuples (``(1, 1)``), longer ones
    as their shape (``(3×20 values)``), arrays as ``array(4×6)``, an index key as Python
    writes it (``[0:2, None]``), and the symmetric (before, after) padding pairs of
    conv and pooling ops per dimension, as torch's modules show them (``(1, 1)``)."""
    if key == "key" and isinstance(v, (list, tuple)):
        return _index_text(v)
    if depth > 4:
        return "…"                        # a malformed event's deep nesting
    if v is None or isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v == v and len(repr(v)) <= 7:
        return repr(v)                    # 0.0, 0.3, 1e-05: as Python (and torch) write them
    if isinstance(v, (int, float)):
        return fmt_num(v)
    if isinstance(v, str):
        if v == "Ellipsis":
            return "..."
        m = _ARRAY.fullmatch(v)
        if m:
            dims = [d for d in m.group(1).replace(" ", "").split(",") if d]
            return f"array({'×'.join(dims)})"
        m = _SLICE.fullmatch(v)
        if m:
            return _index_text([v])[1:-1]
        v = _ADDRESS.sub("", v)           # "<function f at 0x7f..>": no run-to-run noise
        return v if not short or len(v) <= REPR_MAX else v[:REPR_MAX - 1] + "…"
    if isinstance(v, dict):
        if len(v) > SHORT_SEQ // 2:
            return f"{{{len(v)} items}}"
        return "{" + ", ".join(f"{k}: {fmt_attr(x, short=short, depth=depth + 1)}"
                               for k, x in sorted(v.items())) + "}"
    if isinstance(v, (list, tuple)):
        if (key == "padding" and v and all(isinstance(p, (list, tuple)) and len(p) == 2
                                           and p[0] == p[1] for p in v)):
            v = [p[0] for p in v]
        shape = _shape_of(v)
        if shape is not None and (math.prod(shape) > SHORT_SEQ or len(shape) > 2):
            return f"({'×'.join(map(str, shape))} values)"
        if shape is None and len(v) > SHORT_SEQ:
            return f"({len(v)} items)"
        inner = [fmt_attr(x, short=short, depth=depth + 1) for x in v]
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    return fmt_attr(repr(v), short=short)


def attr_items(attrs, short=True):
    """An op's constants and attributes as ``name=value`` texts: ``arg1=2`` for the
    Python number in argument 1 (``x ** 2``, ``2 - x`` is ``arg0=2``), then the rest by
    name (sorted, so that a recording, a tensor and a JSON export read the same)."""
    scalars = attrs.get("scalars")
    parts = []
    if isinstance(scalars, dict):
        parts = [f"arg{i}={fmt_attr(v)}" for i, v in sorted(
            scalars.items(), key=lambda kv: (len(str(kv[0])), str(kv[0])))]
    parts += [f"{k}={fmt_attr(v, k, short)}" for k, v in sorted(attrs.items())
              if not (k == "scalars" and isinstance(scalars, dict))]
    return parts


def attrs_text(attrs):
    """An op's constants and attributes on one line (see :func:`attr_items`)."""
    return ", ".join(attr_items(attrs))


def attr_lines(attrs, width=ATTR_WIDTH, max_lines=ATTR_LINES):
    """The attributes wrapped between items (never inside one) into at most
    ``max_lines`` lines of about ``width`` characters; items that do not fit are
    counted on the last line (``+2 more``)."""
    items = attr_items(attrs)
    lines = []
    for i, item in enumerate(items):
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        elif len(lines) < max_lines:
            lines.append(item)
        else:
            rest = len(items) - i
            lines[-1] += f", +{rest} more"
            break
    return lines


def node_label(n, show_values=True, show_grads=True):
    """The label lines of one node: the op (or leaf name, or module), the module path an
    op ran in, its output shape, its attributes, then value and gradient summaries."""
    lines = [n.label]
    if n.kind in ("op", "loss") and n.module:
        lines.append(f"({n.module})")
    if n.kind in ("op", "loss", "module") and n.shape is not None:
        lines.append(fmt_shape(n.shape))
    if n.kind in ("op", "loss") and n.attrs and isinstance(n.attrs, dict):
        lines.extend(attr_lines(n.attrs))
    if n.kind == "module":
        lines.append(f"{len(n.members or ())} nodes")
    if n.kind in ("param", "input"):
        lines.append(f"{fmt_shape(n.shape)} {n.dtype or ''}".strip())
    if show_values and n.value:
        lines.append("value " + fmt_summary(n.value))
    if show_grads and n.grad:
        lines.append("grad " + fmt_summary(n.grad))
    if n.message:
        lines.append(n.message[:60])
    return "\\n".join(_esc(x) for x in lines)


def node_tooltip(n):
    """The hover text of a node: where it was called and all of its attributes, whole."""
    parts = [n.src] if n.src else []
    if n.kind in ("op", "loss") and n.attrs and isinstance(n.attrs, dict):
        parts.extend(attr_items(n.attrs, short=False))
    return "\\n".join(_esc(x) for x in parts)


def _dot_id(nid):
    return f"n{nid}" if isinstance(nid, int) else "m_" + "".join(
        c if c.isalnum() else "_" for c in str(nid)) + f"_{abs(hash(str(nid))) % 10**6}"


def to_digraph(model, show_values=True, show_grads=True, rankdir="LR", max_nodes=None,
               name="gradviz", _stacklevel=2):
    """A ``graphviz.Digraph`` of the model (collapsed by module above ``max_nodes``)."""
    import graphviz
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise VizError(f"rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), not {rankdir!r}")
    if max_nodes is not None:
        if len(model.nodes) > max_nodes and not any(n.module for n in model.nodes.values()):
            # a tensor's graph knows module paths only from parameter names (a recording
            # knows them all): say so rather than quietly drawing everything
            warnings.warn(f"max_nodes={max_nodes}: this graph has {len(model.nodes)} nodes but "
                          "no module paths to collapse by, so it is drawn in full (a "
                          "tensor's graph knows modules only from parameter names: pass "
                          "params=model, or draw a gv.trace.record() recording of the "
                          "model)", UserWarning, stacklevel=_stacklevel)
        model = collapse(model, max_nodes)
    g = graphviz.Digraph(name, graph_attr={"rankdir": rankdir},
                         node_attr={"fontname": "Helvetica", "fontsize": "10",
                                    "style": "filled,rounded"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    ids = {}
    for n in model.nodes.values():
        ids[n.id] = did = _dot_id(n.id)
        attrs = {"shape": SHAPE.get(n.kind, "box"), "fillcolor": FILL.get(n.kind, "white")}
        if n.kind == "loss":
            attrs["peripheries"] = "2"
        if n.state != "ok":
            attrs.update(fillcolor=NAN_FILL, color=NAN_EDGE, penwidth="2")
        tip = node_tooltip(n)
        if tip:
            attrs["tooltip"] = graphviz.nohtml(tip)
        # nohtml: a label such as "<lambda>" is text, not one of Graphviz's HTML labels
        g.node(did, graphviz.nohtml(node_label(n, show_values, show_grads)), **attrs)
    for e in model.edges:
        if e.src in ids and e.dst in ids:
            g.edge(ids[e.src], ids[e.dst], label=fmt_shape(e.shape))
    return g


def to_dot(model, **opts):
    """DOT source text of the drawing."""
    return to_digraph(model, **opts).source


def to_json(model):
    """``{"version", "root", "nodes", "edges"}`` as a JSON string (no NaN literals)."""
    data = {"version": 1, "root": model.root, "nodes": [n.to_dict() for n in model.nodes.values()],
            "edges": [e.to_dict() for e in model.edges]}
    return json.dumps(data, allow_nan=False, sort_keys=True)


def from_json(text):
    """The GraphModel written by :func:`to_json`."""
    data = json.loads(text) if isinstance(text, (str, bytes)) else text
    nodes = []
    for d in data.get("nodes", ()):
        d = dict(d)
        d.pop("label", None)
        nodes.append(Node.from_dict(d))
    return GraphModel(nodes, [Edge.from_dict(e) for e in data.get("edges", ())],
                      root=data.get("root"))


def export(model, fmt="svg", max_nodes=EXPORT_MAX_NODES, **opts):
    """Bytes of the model in ``fmt`` (svg, png, dot, json).

    SVG and PNG run Graphviz ``dot``: above ``max_nodes`` the graph is collapsed
    by module, and if it still does not fit an error says so rather than
    letting ``dot`` run for minutes. Pass ``max_nodes=None`` to force it.
    """
    if fmt not in FORMATS:
        raise VizError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "json":
        return to_json(model).encode()
    if fmt == "dot":
        return to_dot(model, **opts).encode()
    if max_nodes is not None and len(model.nodes) > max_nodes:
        small = collapse(model, max_nodes)
        if len(small.nodes) > max_nodes:
            raise VizError(
                f"graph has {len(model.nodes)} nodes ({len(small.nodes)} after collapsing by "
                f"module), over the {max_nodes}-node limit for {fmt} export: Graphviz dot "
                f"needs about 30 s for 5k nodes. Export as json or dot, draw a smaller part, "
                f"or pass max_nodes=None to wait for it.")
        model = small
    import graphviz
    try:
        return to_digraph(model, **opts).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise VizError("Graphviz 'dot' is not installed (apt-get install graphviz); "
                       "export as dot or json instead") from None
