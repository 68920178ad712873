"""gv.viz: the graph model from tensors and recordings, and its drawings and exports."""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import gradviz as gv
from gradviz import viz


def _mlp_like():
    gv.manual_seed(0)
    w = gv.randn(3, 4, requires_grad=True)
    w._name = "0.weight"
    b = gv.randn(4, requires_grad=True)
    b._name = "0.bias"
    x = gv.randn(2, 3)
    return w, b, x


def _forward(w, b, x):
    return ((x @ w + b).relu() * 2).sum()


def test_tensor_graph_counts_kinds_and_labels():
    w, b, x = _mlp_like()
    loss = _forward(w, b, x)
    loss.backward()
    m = viz.graph_from_tensor(loss)
    kinds = [(n.kind, n.label) for n in m.nodes.values()]
    assert kinds == [("input", "input"), ("param", "0.weight"), ("op", "Matmul"),
                     ("param", "0.bias"), ("op", "Add"), ("op", "Relu"), ("op", "Mul"),
                     ("loss", "Sum")]
    assert len(m.edges) == 7
    shapes = {(m.nodes[e.src].label, m.nodes[e.dst].label): e.shape for e in m.edges}
    assert shapes[("0.weight", "Matmul")] == [3, 4]
    assert shapes[("Mul", "Sum")] == [2, 4]
    wnode = m.nodes[2]
    assert wnode.grad["norm"] == pytest.approx(float(np.linalg.norm(w.grad.numpy())), rel=1e-5)
    assert m.nodes[8].value["values"] == pytest.approx(loss.item())


def test_draw_tensor_gives_digraph_with_labels_and_edge_shapes():
    w, b, x = _mlp_like()
    loss = _forward(w, b, x)
    loss.backward()
    g = gv.viz.draw(loss)
    src = g.source
    assert type(g).__name__ == "Digraph"
    for text in ("0.weight", "0.bias", "Matmul", "Relu", "Sum", "label=\"3×4\"", "grad ",
                 "rankdir=LR"):
        assert text in src
    assert src.count("->") == 7
    assert "rankdir=TB" in gv.viz.draw(loss, rankdir="TB").source
    bare = gv.viz.draw(loss, show_values=False, show_grads=False).source
    assert "value " not in bare and "grad " not in bare


def test_recording_and_tensor_give_the_same_graph():
    w, b, x = _mlp_like()
    with gv.trace.record() as rec:
        loss = _forward(w, b, x)
        loss.backward()
    from_events = viz.graph_from_events(rec.events)
    from_tensor = viz.graph_from_tensor(loss)
    assert [(n.kind, n.label, n.shape) for n in from_events.nodes.values()] == \
        [(n.kind, n.label, n.shape) for n in from_tensor.nodes.values()]
    assert len(from_events.edges) == len(from_tensor.edges) == 7
    # the recording knows every node's gradient, and where each op was called
    assert all(n.grad for n in from_events.nodes.values() if n.kind != "input")
    assert all(n.src for n in from_events.nodes.values() if n.kind in ("op", "loss"))
    assert "0.weight" in gv.viz.draw(rec).source


def test_recording_draws_the_last_step_only_by_default():
    w, b, x = _mlp_like()
    with gv.trace.record() as rec:
        for _ in range(3):
            _forward(w, b, x).backward()
    last = viz.graph_from_events(rec.events)
    everything = viz.graph_from_events(rec.events, root=None)
    assert len(last) == 8
    assert len(everything) == 3 + 3 * 5


def test_svg_is_valid_xml_with_the_labels():
    w, b, x = _mlp_like()
    loss = _forward(w, b, x)
    loss.backward()
    svg = gv.viz.draw(loss).pipe(format="svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = svg.decode()
    for label in ("0.weight", "Matmul", "Sum"):
        assert label in text
    assert viz.export(viz.graph(loss), "png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.export(viz.graph(loss), "dot").startswith(b"digraph")


def test_json_export_round_trips():
    w, b, x = _mlp_like()
    with gv.trace.record() as rec:
        _forward(w, b, x).backward()
    m = viz.graph_from_events(rec.events)
    text = viz.to_json(m)
    json.loads(text)  # no NaN literals: to_json uses allow_nan=False
    back = viz.from_json(text)
    assert viz.to_json(back) == text
    assert viz.to_dot(back) == viz.to_dot(m)
    assert viz.export(m, "json") == text.encode()


@np.errstate(all="ignore")  # the engine's log warns on -1 where torch is silent
def test_nan_values_are_shown_as_nan_and_coloured_red():
    a = gv.tensor([1.0, -1.0, 4.0], requires_grad=True)
    a._name = "a"
    loss = a.log().sum()  # log(-1) = nan
    loss.backward()
    src = gv.viz.draw(loss).source
    assert "nan" in src
    assert "#ff6b6b" in src
    with gv.trace.record() as rec:
        a.log().sum().backward()
    m = viz.graph_from_events(rec.events)
    assert {n.state for n in m.nodes.values() if n.kind in ("op", "loss")} == {"nan"}
    assert "nan" in gv.viz.draw(rec).pipe(format="svg").decode()
    json.loads(viz.to_json(m))


def test_output_is_deterministic():
    w, b, x = _mlp_like()
    loss = _forward(w, b, x)
    assert gv.viz.draw(loss).source == gv.viz.draw(loss).source


def _module_events(n_modules=4, ops_per_module=5):
    events, node = [], 0
    prev = None
    for m in range(n_modules):
        node += 1
        events.append({"type": "leaf", "node": node, "name": f"layer{m}.weight",
                       "requires_grad": True, "shape": [4], "dtype": "float32"})
        w = node
        for i in range(ops_per_module):
            node += 1
            inputs = [x for x in (prev, w if i == 0 else None) if x is not None]
            events.append({"type": "op", "node": node, "op": "Mul", "inputs": inputs,
                           "shape": [4], "module": f"layer{m}"})
            prev = node
    return events


def test_collapse_by_module_above_max_nodes():
    m = viz.graph_from_events(_module_events())
    assert len(m) == 24
    small = viz.collapse(m, 10)
    assert len(small) == 4
    assert [n.label for n in small.nodes.values()] == ["layer0", "layer1", "layer2", "layer3"]
    assert len(small.edges) == 3
    src = gv.viz.draw(_module_events(), max_nodes=10).source
    assert "6 nodes" in src and "box3d" in src


def test_export_refuses_graphs_too_large_for_dot():
    events = [{"type": "leaf", "node": 1, "name": None, "requires_grad": True, "shape": [1]}]
    for i in range(2, 60):
        events.append({"type": "op", "node": i, "op": "Neg", "inputs": [i - 1], "shape": [1]})
    m = viz.graph_from_events(events)
    with pytest.raises(viz.VizError, match="limit"):
        viz.export(m, "svg", max_nodes=20)
    assert viz.export(m, "json", max_nodes=20)  # json and dot have no limit
    with pytest.raises(viz.VizError, match="format"):
        viz.export(m, "gif")


def test_bad_input_raises_a_gradviz_error():
    with pytest.raises(gv.GradvizError, match="draw"):
        gv.viz.draw(42)
    with pytest.raises(gv.GradvizError, match="rankdir"):
        gv.viz.draw(gv.tensor([1.0], requires_grad=True) * 2, rankdir="XY")


@pytest.mark.skipif(not hasattr(gv.nn, "Linear"), reason="gv.nn not available")
def test_nn_parameter_names_and_module_paths_appear():
    model = gv.nn.Sequential(gv.nn.Linear(3, 4), gv.nn.ReLU(), gv.nn.Linear(4, 2))
    with gv.trace.record() as rec:
        model(gv.randn(5, 3)).sum().backward()
    src = gv.viz.draw(rec).source
    for text in ("0.weight", "0.bias", "2.weight", "(0)", "(2)"):
        assert text in src
    labels = [n.label for n in viz.graph_from_tensor(model(gv.randn(5, 3)).sum()).nodes.values()]
    assert "0.weight" in labels and "2.bias" in labels
    small = viz.collapse(viz.graph_from_events(rec.events), 5)
    assert {"0", "2"} <= {n.module for n in small.nodes.values() if n.kind == "module"}


@pytest.mark.parametrize("how", ["module", "dict", "pairs"])
def test_params_name_the_leaves_of_an_untraced_graph_as_torchviz(how):
    model = gv.nn.Sequential(gv.nn.Linear(2, 4), gv.nn.ReLU(), gv.nn.Linear(4, 1))
    loss = model(gv.randn(8, 2)).pow(2).mean()        # never traced: no names known
    plain = [n.label for n in viz.graph_from_tensor(loss).nodes.values() if n.kind == "param"]
    assert sorted(plain) == ["param"] * 4
    params = {"module": model, "dict": dict(model.named_parameters()),
              "pairs": model.named_parameters()}[how]
    src = gv.viz.draw(loss, params=params).source
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert name in src
    with pytest.raises(gv.GradvizError, match="params"):
        gv.viz.draw(loss, params=[model[0].weight])


def _traced_mlp_step():
    gv.manual_seed(0)
    model = gv.nn.Sequential(gv.nn.Linear(3, 8), gv.nn.ReLU(), gv.nn.Linear(8, 1))
    with gv.trace.record() as rec:
        loss = model(gv.randn(5, 3)).pow(2).mean()
        loss.backward()
    return rec, loss


def test_max_nodes_on_a_tensor_warns_that_there_is_nothing_to_collapse_by():
    rec, _ = _traced_mlp_step()
    model = gv.nn.Sequential(gv.nn.Linear(3, 8), gv.nn.ReLU(), gv.nn.Linear(8, 1))
    loss = model(gv.randn(5, 3)).pow(2).mean()   # never traced, no params=: no names
    assert not any(n.module for n in viz.graph_from_tensor(loss).nodes.values())
    with pytest.warns(UserWarning, match="no module paths") as got:
        src = gv.viz.draw(loss, max_nodes=3).source
    assert got[0].filename == __file__          # points at the draw() call
    assert "box3d" not in src and src.count("Linear") == 2   # drawn in full
    # a recording of the same step collapses (no warning: warnings are errors here)
    assert "box3d" in gv.viz.draw(rec, max_nodes=6).source
    # parameter names give a tensor's ops their modules, and so something to collapse by
    named = gv.viz.draw(loss, params=model, max_nodes=6).source
    assert "box3d" in named and "Linear" not in named
    gv.viz.draw(loss, max_nodes=100)            # small enough: nothing to say


def test_constants_are_labelled_the_same_from_a_tensor_and_a_recording():
    x = gv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with gv.trace.record() as rec:
        loss = ((2 - x).pow(2) * 3).sum()
        loss.backward()
    from_events = viz.graph_from_events(rec.events)
    from_tensor = viz.graph_from_tensor(loss)
    assert [(n.op, n.attrs) for n in from_events.nodes.values()] == \
        [(n.op, n.attrs) for n in from_tensor.nodes.values()]
    for m in (from_events, from_tensor):
        labels = {n.op: viz.render.node_label(n) for n in m.nodes.values() if n.op}
        assert "arg1=2" in labels["Pow"] and "arg0=2" in labels["Sub"]
        assert "arg1=3" in labels["Mul"] and "scalars" not in labels["Pow"]
    assert [viz.render.node_label(n, False, False) for n in from_events.nodes.values()] == \
        [viz.render.node_label(n, False, False) for n in from_tensor.nodes.values()]
