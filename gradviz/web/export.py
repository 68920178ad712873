"""Graph export of a session (svg, png, dot, json) from its events.

``gradviz.viz`` owns drawing; when it offers ``graph_from_events`` (or
``draw``) it is used, otherwise this small local builder writes the same
graph (leaves and ops as nodes, inputs as edges) through Graphviz.
"""
import json

from .limits import ApiError

FORMATS = {"svg": "image/svg+xml", "png": "image/png", "dot": "text/vnd.graphviz",
           "json": "application/json"}


def current_graph(events):
    """The events of the latest forward graph: what the last root (or op) depends on."""
    ops, leaves, root = {}, {}, None
    for ev in events:
        t = ev.get("type")
        if t == "op":
            ops[ev["node"]] = ev
        elif t == "leaf":
            leaves[ev["node"]] = ev
        elif t == "backward_begin" and ev.get("root") is not None:
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
            stack.extend(i for i in ops[n].get("inputs", []) if isinstance(i, int))
    if root is None:
        keep = set(leaves)
    picked = [ev for ev in events if ev.get("type") in ("leaf", "op")
              and ev.get("node") in keep]
    picked += [ev for ev in events if ev.get("type") in ("grad", "accum")
               and ev.get("node") in keep]
    return picked


def graph_json(events):
    """``{"nodes": [...], "edges": [...]}`` of a graph's events."""
    nodes, edges = {}, []
    for ev in events:
        t = ev.get("type")
        if t == "leaf":
            nodes[ev["node"]] = {"id": ev["node"], "kind": "leaf", "label": ev.get("name")
                                 or f"leaf {ev['node']}", "shape": ev.get("shape")}
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


def export_graph(events, fmt):
    """``(bytes, mimetype)`` of the current graph in ``fmt``."""
    if fmt not in FORMATS:
        raise ApiError("BAD_FORMAT", f"export format must be one of {tuple(FORMATS)}")
    events = current_graph(events)
    viz = _viz_builder()
    if viz is not None and fmt != "json":
        g = viz(events)
        data = g.source.encode() if fmt == "dot" else g.pipe(format=fmt)
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
