"""Drawing autograd graphs: ``gv.viz.draw(loss)`` → a ``graphviz.Digraph``.

The drawing shows op nodes (op name, module path), leaves (parameter names),
shapes on edges, and each node's value and gradient summary; parameters,
inputs, ops and the loss are coloured apart and NaN/Inf nodes are red.
Tensors are walked directly; recordings are read from their events; both
become one :class:`GraphModel` (``graph_from_events``, ``graph_from_tensor``)
that ``to_digraph``, ``to_dot``, ``to_json`` and ``export`` render.
"""
from .model import (Edge, GraphModel, Node, VizError, collapse, graph_from_events,
                    graph_from_tensor)
from .render import EXPORT_MAX_NODES, export, from_json, to_digraph, to_dot, to_json

__all__ = ["draw", "graph", "GraphModel", "Node", "Edge", "VizError", "graph_from_events",
           "graph_from_tensor", "collapse", "to_digraph", "to_dot", "to_json", "from_json",
           "export", "EXPORT_MAX_NODES"]


def graph(obj, root="last", params=None):
    """The GraphModel of a Tensor, a Recording, a list of events, or a GraphModel
    (``params``: see :func:`draw`)."""
    if isinstance(obj, GraphModel):
        return obj
    if hasattr(obj, "_data") and hasattr(obj, "grad_fn"):
        return graph_from_tensor(obj, params=params)
    return graph_from_events(obj, root=root)


def draw(tensor_or_recording, show_values=True, show_grads=True, rankdir="LR", max_nodes=None,
         root="last", params=None):
    """A ``graphviz.Digraph`` of a tensor's graph or of a recording's last graph.

    ``.pipe(format="svg")`` gives an SVG; Jupyter shows the result inline.
    ``max_nodes`` collapses ops by module above that size (a recording knows modules; a
    tensor's graph does not, and a UserWarning says so); ``root=None`` draws
    every event of a recording instead of the last step's graph. ``params`` names the
    leaves of a tensor's graph, as torchviz's ``make_dot(params=...)``: a module, a dict
    name → tensor, or ``(name, tensor)`` pairs such as ``model.named_parameters()``
    (a recording, or a model that has run while traced, knows its names already).
    """
    return to_digraph(graph(tensor_or_recording, root=root, params=params),
                      show_values=show_values, show_grads=show_grads, rankdir=rankdir,
                      max_nodes=max_nodes, _stacklevel=3)
