"""Graph export of a session (svg, png, dot, json) from its events.

``gradviz.viz`` owns drawing; when it offers ``graph_from_events`` (or
``draw``) it is used, otherwise this small local builder writes the same
graph (leaves and ops as nodes, inputs as edges) through Graphviz.
"""
import json
import logging

from .limits import ApiError

log = logging.getLogger("gradviz.web")
DEFAULT = object()   # export_graph: viz's own node limit

FORMATS = {"svg": "image/svg+xml", "png": "image/png", "dot": "text/vnd.graphviz",
           "json": "application/json"}


def _node_id(v):
    return isinstance(v, int) and not isinstance(v, bool)


def well_formed(events):
    """The graph events a builder can trust: integer ``node`` ids and list ``inputs`` (of
    integer ids); a producer may store anything, so the rest are skipped, not fatal."""
    out = []
    for ev in events:
        if not isinstance(ev, dict):
            continue
        t = ev.get("type")
        if t in ("op", "leaf", "grad", "accum") and not _node_id(ev.get("node")):
            continue
        if t == "op":
            inputs = ev.get("inputs", [])
            if not isinstance(inputs, list):
                continue
            if not all(_node_id(i) for i in inputs):
                ev = dict(ev, inputs=[i for i in inputs if _node_id(i)])
        out.append(ev)
    return out


def current_graph(events):
    """The events of the latest forward graph: what the last root (or op) depends on
    (malformed events skipped: see ``well_formed``)."""
    events = well_formed(events)
    ops, leaves, root = {}, {}, None
    for ev in events:
        t = ev.get("type")
        if t == "op":
            ops[ev["node"]] = ev
        elif t == "leaf":
            leaves[ev["node"]] = ev
        elif t == "backward_begin" and _node_id(ev.get("root")):
            root = ev["root"]
    if root is None or root not in ops:
        root = max(ops) if ops else None
    keep, stack = set(), [root] if root is not None else []
    while stack:
        n = stack.pop()
        if n in keep:
            continue
        keep.add(n)
        if n in ops:
            stack.extend(ops[n].get("inputs", []))
    if root is None:
        keep = set(leaves)
    picked = [ev for ev in events if ev.get("type") in ("leaf", "op")
              and ev["node"] in keep]
    picked += [ev for ev in events if ev.get("type") in ("grad", "accum")
               and ev["node"] in keep]
    return picked


def graph_json(events):
    """``{"nodes": [...], "edges": [...]}`` of a graph's events."""
    nodes, edges = {}, []
    for ev in events:
        t = ev.get("type")
        if t == "leaf":
            # unnamed leaves are labelled as the SVG/DOT drawings label them
            unnamed = "param" if ev.get("requires_grad") else "input"
            nodes[ev["node"]] = {"id": ev["node"], "kind": "leaf",
                                 "label": ev.get("name") or unnamed, "shape": ev.get("shape")}
        elif t == "op":
            nodes[ev["node"]] = {"id": ev["node"], "kind": "op", "label": ev.get("op"),
                                 "shape": ev.get("shape"), "module": ev.get("module")}
            edges.extend({"from": i, "to": ev["node"]} for i in ev.get("inputs", []))
        elif t == "grad" and ev.get("node") in nodes:
            nodes[ev["node"]]["grad_norm"] = (ev.get("grad") or {}).get("norm")
    return {"nodes": list(nodes.values()), "edges": edges}


def graph_dot(graph):
    """DOT text of ``graph_json`` output."""
    lines = ["digraph gradviz {", "  rankdir=BT;", '  node [fontname="Helvetica" fontsize=10];']
    for n in graph["nodes"]:
        shape = "box" if n["kind"] == "op" else "ellipse"
        label = f"{n['label']}\\n{n.get('shape')}".replace('"', "'")
        lines.append(f'  n{n["id"]} [label="{label}" shape={shape}];')
    for e in graph["edges"]:
        lines.append(f"  n{e['from']} -> n{e['to']};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def export_graph(events, fmt, max_nodes=DEFAULT):
    """``(bytes, mimetype)`` of the current graph in ``fmt`` (``max_nodes``: the svg/png
    size guard of ``gradviz.viz.export``; None draws any size)."""
    if fmt not in FORMATS:
        raise ApiError("BAD_FORMAT", f"export format must be one of {tuple(FORMATS)}")
    events = current_graph(events)
    viz = _viz_builder()
    if viz is not None and fmt != "json":
        from ..viz.model import VizError
        opts = {} if max_nodes is DEFAULT else {"max_nodes": max_nodes}
        try:
            g = viz(events)
            data = g.source.encode() if fmt == "dot" else g.pipe(format=fmt, **opts)
        except VizError as e:
            raise ApiError("EXPORT_FAILED", str(e), status=422) from None
        except (TypeError, ValueError, KeyError, AttributeError):
            # stored events come from producers: an odd field must not become a 500
            log.warning("graph export failed on the session's events", exc_info=True)
            raise ApiError("BAD_EVENTS", "the session's events have fields the graph "
                           "export cannot read (a producer sent malformed events)",
                           status=422) from None
        return data, FORMATS[fmt]
    graph = graph_json(events)
    if fmt == "json":
        return json.dumps(graph, allow_nan=False).encode(), FORMATS[fmt]
    dot = graph_dot(graph)
    if fmt == "dot":
        return dot.encode(), FORMATS[fmt]
    import graphviz
    try:
        return graphviz.Source(dot).pipe(format=fmt), FORMATS[fmt]
    except graphviz.ExecutableNotFound:
        raise ApiError("NO_GRAPHVIZ", "Graphviz 'dot' is not installed; export as dot or json",
                       status=501) from None


def _viz_builder():
    try:
        from .. import viz
    except ImportError:
        return None
    return getattr(viz, "graph_from_events", None)
