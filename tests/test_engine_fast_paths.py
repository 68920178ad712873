"""The engine's fast paths give the general paths' results: the plain backward loop,
nn.Linear's direct call, and double backward through ops that save their output."""
import gc

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, GradvizError


def test_double_backward_through_saved_output_after_output_is_gone():
    # exp and sigmoid save their output; the output Tensor is not kept by anyone but the graph
    x = np.array([0.3, -1.2, 2.0])
    g = gv.tensor(x, dtype=gv.float64, requires_grad=True)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gy = (g.exp() * g.sigmoid()).sum()
    ty = (t.exp() * t.sigmoid()).sum()
    gc.collect()
    gd, = gv.autograd.grad(gy, g, create_graph=True)
    td, = torch.autograd.grad(ty, t, create_graph=True)
    np.testing.assert_allclose(gd.detach().numpy(), td.detach().numpy(), atol=1e-7)
    gd.sum().backward()
    td.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=1e-7)


def test_plain_loop_accumulates_shared_leaves_and_keeps_hooks():
    a = gv.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = a * a
    y.register_hook(lambda gr: seen.append(gr.numpy().copy()))
    y.retain_grad()
    (y + a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 5.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    assert len(seen) == 1
    with pytest.raises(BackwardError, match="second time"):
        (y + a).sum().backward()


def test_linear_module_matches_functional_and_checks_shapes():
    m = gv.nn.Linear(3, 2)
    x = gv.randn(4, 3, requires_grad=True)
    out = m(x)
    ref = gv.nn.functional.linear(x, m.weight, m.bias)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    assert x.grad.shape == (4, 3) and m.weight.grad.shape == (2, 3)
    with pytest.raises(GradvizError, match="cannot be multiplied"):
        m(gv.randn(4, 5))
    with pytest.raises(GradvizError, match="dtype"):
        m(gv.randn(4, 3, dtype=gv.float64))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_backward_masks_bits_exactly_like_where(dtype):
    # large gradients take a branch-free bit mask: the same bits as where(y > 0, g, 0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(3000).astype(dtype)
    x[:5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    g = rng.standard_normal(3000).astype(dtype)
    g[5:10] = [np.nan, -np.nan, np.inf, -np.inf, -0.0]
    t = gv.tensor(x, requires_grad=True)
    t.relu().backward(gv.tensor(g))
    ref = np.where(np.maximum(x, 0) > 0, g, 0)
    assert t.grad.numpy().dtype == ref.dtype
    np.testing.assert_array_equal(t.grad.numpy().view(f"u{ref.itemsize}"),
                                  ref.view(f"u{ref.itemsize}"))
    y = gv.nn.functional.relu(gv.tensor(x[:2048].reshape(64, 32), requires_grad=True))
    y.sum().backward()  # a broadcast (stride-0) incoming gradient


def test_cross_entropy_fast_call_checks_targets_as_before():
    x = gv.randn(4, 3, requires_grad=True)
    for bad in ([0, 1, 3, 2], [0, -1, 1, 2]):
        with pytest.raises(GradvizError, match="out of bounds"):
            gv.nn.functional.cross_entropy(x, gv.tensor(bad))
    t = gv.tensor([0, -100, 2, 1])  # ignore_index: the general path
    loss = gv.nn.functional.cross_entropy(x, t)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x.detach().numpy()),
                                            torch.tensor([0, -100, 2, 1]))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)
    for dt in (gv.int8, gv.int32, gv.int64, gv.uint8):
        loss = gv.nn.functional.cross_entropy(x, gv.tensor([0, 1, 2, 1], dtype=dt))
        assert loss.shape == ()


def test_sgd_fast_step_matches_the_general_update():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((5, 3)).astype(np.float32)
    g0 = rng.standard_normal((5, 3)).astype(np.float32)
    results = []
    for step in (gv.optim.SGD.step, gv.optim.Optimizer.step):  # fast path, general path
        p = gv.nn.Parameter(gv.tensor(w0.copy()))
        p.grad = gv.tensor(g0.copy())
        opt = gv.optim.SGD([p], lr=0.1)
        step(opt)
        assert p in opt.state
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], w0 - np.float32(0.1) * g0)
    np.testing.assert_array_equal(results[0], results[1])
    p = gv.nn.Parameter(gv.zeros(2))
    p.grad = gv.zeros(3)
    with pytest.raises(GradvizError, match="does not match"):
        gv.optim.SGD([p], lr=0.1).step()


def test_plain_backward_runs_leaf_hooks_and_accumulates():
    w = gv.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_hook(lambda g: calls.append(1) or g * 2)
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 6.0])
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [12.0, 12.0])
    assert len(calls) == 2


def _traced_backward(explicit_seed):
    """The events of one traced MLP backward, node ids made relative to the first one."""
    gv.manual_seed(0)
    model = gv.nn.Sequential(gv.nn.Linear(3, 4), gv.nn.Tanh(), gv.nn.Linear(4, 2))
    x = gv.tensor(np.linspace(-1, 1, 15).reshape(5, 3).astype(np.float32))
    y = gv.tensor([0, 1, 1, 0, 1])
    with gv.trace.record() as rec:
        loss = gv.nn.functional.cross_entropy(model(x), y)
        if explicit_seed:      # an explicit gradient takes the general backward loop
            loss.backward(gv.ones(()))
        else:                  # the usual call takes the plain loop, tracer listening
            loss.backward()
    events = rec.events
    base = min(e["node"] for e in events if "node" in e)
    out = []
    for e in events:
        e = {k: v for k, v in e.items() if k not in ("t", "seq", "src")}
        for k in ("node", "root"):
            if isinstance(e.get(k), int):
                e[k] -= base
        if "inputs" in e:
            e["inputs"] = [i - base for i in e["inputs"]]
        if "contribs" in e:
            e["contribs"] = [dict(c, to=c["to"] - base) for c in e["contribs"]]
        out.append(e)
    return out, [p.grad.numpy().copy() for p in model.parameters()]


def test_traced_plain_backward_emits_what_the_general_loop_emits(monkeypatch):
    from gradviz.engine import autograd, tensor
    calls = []

    def spy(*args):
        calls.append(1)
        return autograd.backward_plain(*args)
    monkeypatch.setattr(tensor, "backward_plain", spy)
    plain, plain_grads = _traced_backward(False)
    assert calls == [1]                     # the traced .backward() took the plain loop
    general, general_grads = _traced_backward(True)
    assert calls == [1]
    assert [e["type"] for e in plain].count("grad") >= 4
    assert [e["type"] for e in plain].count("accum") == 4
    assert plain == general
    for a, b in zip(plain_grads, general_grads):
        np.testing.assert_array_equal(a, b)
