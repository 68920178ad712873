"""Double backward (create_graph=True, then the gradient of gradients) through RNN, LSTM and
GRU, against torch in float64: first-order grads keep a graph, and the gradient of their
squared sum with respect to the input, the initial states and every weight matches torch's;
finite differences of the first-order grads agree with the second-order ones."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nn_twin import load_from_torch

import gradviz as gv
from gradviz import nn
from gradviz.nn.layers.rnn import run_layers

LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
CONFIGS = [
    {},
    {"num_layers": 2, "batch_first": True},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "bias": False},
    {"num_layers": 2, "bidirectional": True, "initial": True},
    {"batch_first": True, "bias": False, "initial": True},
]


def _ids(cases):
    return ["-".join([k] + [f"{a}={b}" for a, b in kw.items()]) if isinstance(kw, dict) else k
            for k, kw in cases]


def _run(lib, m, x, states, seeds):
    """First-order grads (create_graph) of a loss on the output and final states, then the
    grads of sum(g**2) over them, with respect to x, the initial states and the weights."""
    xs = [lib.tensor(x, requires_grad=True)] + [lib.tensor(s, requires_grad=True)
                                                for s in states]
    hx = None if not states else (tuple(xs[1:]) if len(states) == 2 else xs[1])
    out, finals = m(xs[0], hx)
    finals = finals if isinstance(finals, tuple) else (finals,)
    loss = (out * lib.tensor(seeds[0])).sum() + (out ** 2).sum() / 2
    for f, w in zip(finals, seeds[1:]):
        loss = loss + (f * lib.tensor(w)).sum() + (f ** 2).sum()
    wrt = xs + list(m.parameters())
    first = lib.autograd.grad(loss, wrt, create_graph=True)
    assert all(g.requires_grad for g in first)
    penalty = sum((g ** 2).sum() for g in first)
    second = lib.autograd.grad(penalty, wrt, allow_unused=True)
    return ([g.detach().numpy() for g in first],
            [None if g is None else g.detach().numpy() for g in second])


@pytest.mark.parametrize("config", CONFIGS, ids=_ids([("", c) for c in CONFIGS]))
@pytest.mark.parametrize("kind, kw", LAYERS, ids=_ids(LAYERS))
def test_double_backward_matches_torch(kind, kw, config):
    config = dict(config)
    initial = config.pop("initial", False)
    torch.manual_seed(len(kind) + len(config))
    tm = getattr(tnn, kind)(3, 4, **kw, **config).double()
    gm = getattr(nn, kind)(3, 4, **kw, **config).to(gv.float64)
    load_from_torch(gm, tm)
    rng = np.random.default_rng(5)
    T, B = 5, 2
    x = rng.standard_normal((B, T, 3) if config.get("batch_first") else (T, B, 3))
    dirs = 2 if config.get("bidirectional") else 1
    sshape = (config.get("num_layers", 1) * dirs, B, 4)
    n_states = 2 if kind == "LSTM" else 1
    states = [rng.standard_normal(sshape) for _ in range(n_states)] if initial else []
    out_shape = x.shape[:2] + (4 * dirs,)
    seeds = [rng.standard_normal(out_shape)] + [rng.standard_normal(sshape)
                                                for _ in range(n_states)]
    g1, g2 = _run(gv, gm, x, states, seeds)
    t1, t2 = _run(torch, tm, x, states, seeds)
    names = ["input"] + [f"state {i}" for i in range(len(states))] + \
        [n for n, _ in gm.named_parameters()]
    for a, b, name in zip(g1, t1, names):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=f"first: {name}")
    for a, b, name in zip(g2, t2, names):
        if b is None or a is None:
            assert not np.any(a if b is None else b), name
            continue
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f"second: {name}")


def _layer_inputs(mode, rng, T=3, B=2, I=2, H=2, layers=2, dirs=2, bias=True):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * H
    arrays = [rng.standard_normal((T, B, I))]
    arrays += [rng.standard_normal((layers * dirs, B, H))
               for _ in range(2 if mode == "LSTM" else 1)]
    for layer in range(layers):
        for _ in range(dirs):
            arrays += [rng.standard_normal((gates, I if layer == 0 else H * dirs)) * 0.6,
                       rng.standard_normal((gates, H)) * 0.6]
            if bias:
                arrays += [rng.standard_normal(gates) * 0.3, rng.standard_normal(gates) * 0.3]
    return [gv.tensor(a, requires_grad=True) for a in arrays]


def _grad_function(mode, inputs, layers, dirs, bias, rng):
    """A scalar projection of run_layers' first-order grads, as a function of its inputs."""
    n_states = 2 if mode == "LSTM" else 1
    seeds = [rng.standard_normal(tuple(t.shape)) for t in inputs]
    out_seed = rng.standard_normal((3, 2, 2 * dirs))

    def first_order(*ts):
        with gv.enable_grad():  # gradcheck's finite differences run under no_grad
            states, params = ts[1:1 + n_states], list(ts[1 + n_states:])
            per = 4 if bias else 2
            weights = [tuple(params[i:i + per]) if bias else (params[i], params[i + 1], None,
                                                              None)
                       for i in range(0, len(params), per)]
            out, finals = run_layers(mode, ts[0], states, weights, layers, dirs)
            loss = (out * gv.tensor(out_seed)).sum() + sum((f ** 2).sum() for f in finals) \
                + (out.tanh() ** 2).sum()
            grads = gv.autograd.grad(loss, list(ts), create_graph=True)
            return sum((g * gv.tensor(s)).sum() for g, s in zip(grads, seeds))
    return first_order


@pytest.mark.parametrize("mode, layers, dirs, bias", [
    ("RNN_TANH", 2, 2, True), ("RNN_RELU", 1, 2, False), ("LSTM", 1, 2, True),
    ("LSTM", 2, 1, False), ("GRU", 1, 2, True), ("GRU", 2, 1, False)])
def test_first_order_grads_match_finite_differences(mode, layers, dirs, bias):
    rng = np.random.default_rng(11)
    inputs = _layer_inputs(mode, rng, layers=layers, dirs=dirs, bias=bias)
    f = _grad_function(mode, inputs, layers, dirs, bias, rng)
    assert gv.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_backward_after_create_graph_keeps_first_order_results(kind):
    rng = np.random.default_rng(2)
    m = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).to(gv.float64)
    x = rng.standard_normal((4, 2, 3))

    def loss_of(xi):
        out, _ = m(xi)
        return (out ** 2).sum()

    xi = gv.tensor(x, requires_grad=True)
    loss_of(xi).backward()
    plain = [xi.grad.numpy().copy()] + [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    # the same graph: grad with create_graph, then a plain backward through it
    xi = gv.tensor(x, requires_grad=True)
    loss = loss_of(xi)
    first = gv.autograd.grad(loss, [xi] + list(m.parameters()), create_graph=True)
    loss.backward()
    again = [xi.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]
    for a, b, c in zip(plain, [g.detach().numpy() for g in first], again):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(c, a)
    # backward(create_graph=True): .grad keeps a graph, a penalty on it reaches the weights
    m.zero_grad()
    xi = gv.tensor(x, requires_grad=True)
    loss_of(xi).backward(create_graph=True)
    assert xi.grad.requires_grad
    np.testing.assert_allclose(xi.grad.detach().numpy(), plain[0], rtol=1e-12, atol=1e-12)
    penalty = (xi.grad ** 2).sum()
    m.zero_grad()
    penalty.backward()
    assert all(p.grad is not None for p in m.parameters())


def test_gradient_penalty_in_float32_and_third_order_match_torch():
    torch.manual_seed(0)
    tm = tnn.LSTM(2, 3, batch_first=True).double()
    gm = nn.LSTM(2, 3, batch_first=True).to(gv.float64)
    load_from_torch(gm, tm)
    x = np.random.default_rng(4).standard_normal((2, 4, 2))
    got = []
    for m, lib in ((gm, gv), (tm, torch)):
        xi = lib.tensor(x, requires_grad=True)
        out, (_, c) = m(xi)
        (g,) = lib.autograd.grad((out ** 3).sum() + (c ** 2).sum(), [xi], create_graph=True)
        (gg,) = lib.autograd.grad((g ** 2).sum(), [xi], create_graph=True)
        (ggg,) = lib.autograd.grad((gg * xi).sum(), [xi])
        got.append([gg.detach().numpy(), ggg.numpy()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
    tm, gm = tm.float(), gm.to(gv.float32)
    got = []
    for m, lib in ((gm, gv), (tm, torch)):
        xi = lib.tensor(x.astype(np.float32), requires_grad=True)
        (g,) = lib.autograd.grad(m(xi)[0].sum(), [xi], create_graph=True)
        (g ** 2).sum().backward()
        assert g.dtype == xi.dtype
        got.append([p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_double_backward_under_tracing():
    m = nn.GRU(2, 3).to(gv.float64)
    x = gv.tensor(np.random.default_rng(0).standard_normal((3, 1, 2)), requires_grad=True)
    (g,) = gv.autograd.grad(m(x)[0].sum(), [x], create_graph=True)
    (g ** 2).sum().backward()
    want = [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    with gv.trace.record() as rec:
        (g,) = gv.autograd.grad(m(x)[0].sum(), [x], create_graph=True)
        (g ** 2).sum().backward()
    assert any(e["type"] == "grad" and e.get("op") == "GRUScan" for e in rec.events)
    for p, w in zip(m.parameters(), want):
        np.testing.assert_array_equal(p.grad.numpy(), w)
