"""Drawing autograd graphs: ``gv.viz.draw(loss)`` → a ``graphviz.Digraph``.

The drawing shows op nodes (op name, module path, output shape, attributes), leaves
(parameter names and shapes), shapes on edges, and each node's value and gradient
summary; parameters, inputs, ops and the loss are coloured apart and NaN/Inf nodes are red.
Tensors are walked directly; recordings are read from their events; both
become one :class:`GraphModel` (``graph_from_events``, ``graph_from_tensor``)
that ``to_digraph``, ``to_dot``, ``to_json`` and ``export`` render.
"""
from .model import (Edge, GraphModel, Node, VizError, collapse, graph_from_events,
                    graph_from_tensor, infer_modules)
from .render import EXPORT_MAX_NODES, export, from_json, to_digraph, to_dot, to_json

__all__ = ["draw", "graph", "GraphModel", "Node", "Edge", "VizError", "graph_from_events",
           "graph_from_tensor", "infer_modules", "collapse", "to_digraph", "to_dot", "to_json",
           "from_json", "export", "EXPORT_MAX_NODES"]


def _is_tensor(obj):
    return hasattr(obj, "_data") and hasattr(obj, "grad_fn")


def graph(obj, root="last", params=None):
    """The GraphModel of a Tensor (or a tuple of Tensors), a Recording, a list of events,
    or a GraphModel (``params``: see :func:`draw`)."""
    if isinstance(obj, GraphModel):
        return obj
    if _is_tensor(obj) or (isinstance(obj, (list, tuple)) and any(map(_is_tensor, obj))):
        return graph_from_tensor(obj, params=params)
    return graph_from_events(obj, root=root)


def draw(tensor_or_recording, show_values=True, show_grads=True, rankdir="LR", max_nodes=None,
         root="last", params=None):
    """A ``graphviz.Digraph`` of a tensor's graph or of a recording's last graph.

    ``.pipe(format="svg")`` gives an SVG; Jupyter shows the result inline. An op node
    shows the op, the module path it ran in (``(features.0)``), its output shape
    (``32×10``) and its attributes (``padding=(1, 1), stride=(1, 1)``; all of them whole
    in the tooltip); a leaf shows its name and shape; edges carry shapes.

    ``params`` names the leaves of a tensor's graph, as torchviz's
    ``make_dot(params=...)``: a module, a dict name → tensor, or ``(name, tensor)`` pairs
    such as ``model.named_parameters()`` (a recording, or a model that has run while
    traced, knows its names already). A tensor's graph does not record modules, so an op
    gets the module of the named parameters it reads (``fc1`` for the op reading
    ``fc1.weight``); a recording knows every op's module. A tuple of tensors draws them
    all, as torchviz does. ``max_nodes`` collapses ops by module above that size (with
    no module paths at all a UserWarning says so); ``root=None`` draws every event of a
    recording instead of the last step's graph.
    """
    return to_digraph(graph(tensor_or_recording, root=root, params=params),
                      show_values=show_values, show_grads=show_grads, rankdir=rankdir,
                      max_nodes=max_nodes, _stacklevel=3)
