"""gv.viz.draw labels for people coming from torchviz: module paths, output shapes,
readable attributes and parameter names, checked on real models against torch's."""
import html
import re
import time
import xml.etree.ElementTree as ET

import pytest
import torch

import gradviz as gv
from gradviz import viz
from gradviz.viz.render import attr_lines, fmt_attr

_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)


def _labels(digraph):
    """{dot node id: [label lines]} parsed back from the DOT text."""
    return {nid: text.split("\\n") for nid, text in _NODE.findall(digraph.source)}


def _by_first_line(digraph, first):
    return [lines for lines in _labels(digraph).values() if lines[0] == first]


def _shape(t):
    return "×".join(str(s) for s in t.shape) if t.dim() else "scalar"


def _mlp(lib):
    class MLP(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(4, 8)
            self.fc2 = lib.nn.Linear(8, 10)

        def forward(self, x):
            return self.fc2(lib.relu(self.fc1(x)))
    return MLP()


def _copy_params(dst, src):
    for (n1, p1), (n2, p2) in zip(dst.named_parameters(), src.named_parameters()):
        assert n1 == n2
        p1.data.copy_(gv.tensor(p2.detach().numpy()))


def _cnn(lib):
    """A small CNN in either library: features (conv with padding, relu, pool) and fc."""
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1),
                                          nn.ReLU(), nn.MaxPool2d(2))
            self.fc = nn.Linear(4 * 2 * 2, 10)

        def forward(self, x):
            return self.fc(self.features(x).flatten(1))
    return CNN()


def _cnn_pair():
    torch.manual_seed(0)
    tc, gc = _cnn(torch), _cnn(gv)
    _copy_params(gc, tc)
    x = torch.randn(3, 1, 8, 8)
    return tc, gc, x


def test_mlp_ops_show_module_and_output_shape_and_params_their_names():
    torch.manual_seed(0)
    tm, gm = _mlp(torch), _mlp(gv)
    _copy_params(gm, tm)
    x = torch.randn(32, 4)
    tout = tm(x)
    loss = gm(gv.tensor(x.numpy())).pow(2).mean()
    g = gv.viz.draw(loss, params=dict(gm.named_parameters()))   # torchviz's spelling
    linear = _by_first_line(g, "Linear")
    assert [lines[1:3] for lines in linear] == [["(fc1)", "32×8"], ["(fc2)", _shape(tout)]]
    assert _shape(tout) == "32×10"
    relu, = _by_first_line(g, "Relu")
    assert relu[1] == "32×8"                   # F.relu ran in no module: no path is made up
    for name, p in tm.named_parameters():      # every parameter named as torch names it
        node, = _by_first_line(g, name)
        assert node[1] == f"{_shape(p)} float32"
    mean, = _by_first_line(g, "Mean")
    assert mean[1] == "scalar"
    # without params= an untraced model's leaves are anonymous, as torchviz's
    assert not _by_first_line(gv.viz.draw(loss), "fc1.weight")


def test_cnn_conv_shows_padding_and_stride_as_torch_writes_them():
    tc, gc, x = _cnn_pair()
    conv_t = tc.features[0]
    tfeat = tc.features[0](x)
    loss = gc(gv.tensor(x.numpy())).sum()
    g = gv.viz.draw(loss, params=gc)
    conv, = _by_first_line(g, "Conv")
    assert conv[1] == "(features.0)"
    assert conv[2] == _shape(tfeat) == "3×4×4×4"
    text = ", ".join(conv[3:])
    # torch's own repr of the module's settings: padding=(1, 1), stride=(2, 2)
    for key in ("padding", "stride", "dilation", "groups"):
        assert f"{key}={getattr(conv_t, key)}" in text
    assert "…" not in text and "[[" not in text
    pool, = _by_first_line(g, "MaxPool")   # reads no parameter: its module is unknown
    assert pool[1] == _shape(tc.features[:3](x)) == "3×4×2×2"
    assert "kernel_size=(2, 2)" in ", ".join(pool[2:])
    fc, = _by_first_line(g, "Linear")
    assert fc[1:3] == ["(fc)", _shape(tc(x))]
    names = [lines[0] for lines in _labels(g).values()]
    assert [n for n, _ in tc.named_parameters()] == [n for n in names if "." in n]


def test_a_recording_gives_every_op_its_module_and_names_leaves_by_itself():
    _, gc, x = _cnn_pair()
    with gv.trace.record() as rec:
        loss = gc(gv.tensor(x.numpy())).sum()
        loss.backward()
    g = gv.viz.draw(rec)
    relu, = _by_first_line(g, "Relu")
    assert relu[1:3] == ["(features.1)", "3×4×4×4"]     # known: ran in the ReLU module
    pool, = _by_first_line(g, "MaxPool")
    assert pool[1] == "(features.2)"
    assert _by_first_line(g, "features.0.weight")
    # the model has run while traced: a tensor of a later step knows the names too
    later = gv.viz.draw(gc(gv.tensor(x.numpy())).sum())
    conv, = _by_first_line(later, "Conv")
    assert conv[1] == "(features.0)" and _by_first_line(later, "fc.bias")


def test_attributes_are_never_cut_inside_a_value():
    assert fmt_attr([[1, 1], [2, 2]], "padding") == "(1, 2)"       # symmetric pairs
    assert fmt_attr([[1, 2], [0, 0]], "padding") == "((1, 2), (0, 0))"
    assert fmt_attr([24]) == "(24,)" and fmt_attr(2) == "2" and fmt_attr(0.0) == "0.0"
    assert fmt_attr(list(range(20))) == "(20 values)"
    assert fmt_attr([[0.5] * 30] * 4) == "(4×30 values)"
    assert fmt_attr("array(6,)") == "array(6)" and fmt_attr("array(4, 6)") == "array(4×6)"
    assert fmt_attr(1 / 3) == "0.3333" and fmt_attr(float("nan")) == "nan"
    assert fmt_attr("<function f at 0x7f00dead>") == "<function f>"  # no addresses
    items = {f"k{i:02d}": (i, i + 1) for i in range(12)}
    lines = attr_lines(items)
    assert len(lines) == 3 and lines[-1].endswith("more")
    shown = ", ".join(lines).split(", +")[0]
    assert re.fullmatch(r"(k\d\d=\(\d+, \d+\)(, )?)+", shown)        # whole items only
    n_shown = shown.count("=")
    assert lines[-1].endswith(f"+{12 - n_shown} more")


def test_index_keys_read_as_python_writes_them():
    x = gv.randn(4, 6, requires_grad=True)
    tx = torch.randn(4, 6)
    for key, text in [((slice(0, 2),), "[0:2]"), ((slice(None), None), "[:, None]"),
                      ((Ellipsis, slice(None, 3)), "[..., :3]"),
                      ((slice(1, None, 2),), "[1::2]")]:
        y = x[key]
        op, = [n for n in _labels(gv.viz.draw(y)).values() if n[0] == "Getitem"]
        assert op[1] == _shape(tx[key])
        assert op[2] == f"key={text}"


def test_long_attributes_are_whole_in_the_tooltip_and_svg_stays_valid():
    x = gv.randn(2, 3, requires_grad=True)
    y = gv.nn.functional.cross_entropy(x, gv.tensor([0, 2]), weight=gv.rand(3),
                                       label_smoothing=0.1)
    svg = gv.viz.draw(y).pipe(format="svg").decode()
    ET.fromstring(svg)
    tips = re.findall(r'xlink:title="([^"]*)"', svg)
    tip, = [html.unescape(t) for t in tips if "label_smoothing" in t]
    assert tip.split("\n") == ["ignore_index=-100", "label_smoothing=0.1",
                                  "reduction=mean", "weight=array(3)"]


def test_odd_parameter_names_are_escaped():
    w = gv.randn(3, requires_grad=True)
    odd = 'enc.<w"\\n> & x'
    svg = gv.viz.draw((w * 2).sum(), params={odd: w}).pipe(format="svg")
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert odd in texts
    mul, = [n for n in _labels(gv.viz.draw((w * 2).sum(), params={odd: w})).values()
            if n[0] == "Mul"]
    assert mul[1] == '(enc)'


def test_an_op_reading_two_modules_gets_their_common_parent():
    a = gv.randn(3, requires_grad=True)
    b = gv.randn(3, requires_grad=True)
    c = gv.randn(3, requires_grad=True)
    y = (a * b).sum() + (a - c).sum()
    g = gv.viz.draw(y, params={"enc.l1.w": a, "enc.l2.w": b, "dec.w": c})
    mul, = _by_first_line(g, "Mul")
    sub, = _by_first_line(g, "Sub")
    assert mul[1] == "(enc)" and sub[1] == "3"   # enc.l1 and dec share nothing: no module
    assert [n[1] for n in _by_first_line(g, "Sum")] == ["scalar", "scalar"]  # read no leaf


def test_a_tuple_of_outputs_is_drawn_in_one_graph_as_torchviz():
    x = gv.randn(3, requires_grad=True)
    y1, y2 = (x * 2).sum(), x.exp().mean()
    g = gv.viz.draw((y1, y2), params={"x": x})
    firsts = [lines[0] for lines in _labels(g).values()]
    assert firsts.count("x") == 1 and {"Sum", "Mean", "Mul", "Exp"} <= set(firsts)
    assert g.source.count("peripheries=2") == 2        # both scalar outputs are losses
    with pytest.raises(gv.GradvizError, match="draw"):
        gv.viz.draw((y1, 3))


def test_a_thousand_node_graph_is_labelled_fast_and_deterministically():
    gv.manual_seed(0)
    layers = [gv.nn.Linear(8, 8) for _ in range(250)]
    model = gv.nn.Sequential(*[m for lin in layers for m in (lin, gv.nn.Tanh())])
    loss = model(gv.randn(4, 8)).sum()
    loss.backward()
    start = time.perf_counter()
    g = gv.viz.draw(loss, params=model)
    src = g.source
    took = time.perf_counter() - start
    assert len(viz.graph(loss, params=model)) > 1000
    assert took < 3.0
    assert src == gv.viz.draw(loss, params=model).source
    assert "(498)" in src and "498.weight" in src


def test_a_cast_records_its_dtype_by_name():
    """The event of x.to(float64) said dtype='array()' (a NumPy dtype has a shape)."""
    x = gv.randn(3, requires_grad=True)
    with gv.trace.record() as rec:
        x.to(gv.float64).sum()
    casts = [e for e in rec.events if e.get("op") == "Cast"]
    assert casts and casts[0]["attrs"] == {"dtype": "float64"}
