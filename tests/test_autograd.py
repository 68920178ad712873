"""Autograd features against torch: backward options, accumulation, freed graphs, retain_grad,
hooks, grad modes, autograd.grad and higher-order gradients, deep graphs."""
import sys

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError


def pair(values, dtype="float64"):
    """The same leaf in gradviz and torch."""
    arr = np.asarray(values, dtype=dtype)
    return (gv.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True))


def close(g, t, tol=1e-7):
    np.testing.assert_allclose(np.asarray(g.detach().numpy()), t.detach().numpy(), atol=tol,
                               rtol=tol)


def test_backward_with_gradient_for_non_scalar():
    g, t = pair([[1.0, -2.0], [0.5, 3.0]])
    seed = [[1.0, 2.0], [3.0, 4.0]]
    (g * g).tanh().backward(gv.tensor(seed, dtype=gv.float64))
    (t * t).tanh().backward(torch.tensor(seed, dtype=torch.float64))
    close(g.grad, t.grad)
    with pytest.raises(BackwardError, match="scalar outputs"):
        (g * 2).backward()
    with pytest.raises(BackwardError, match="Mismatch in shape"):
        (g * 2).backward(gv.ones(3, dtype=gv.float64))
    with pytest.raises(BackwardError, match="does not require grad"):
        gv.ones(2).sum().backward()


def test_gradients_accumulate_and_fan_in_sums():
    g, t = pair([1.0, 2.0, 3.0])
    for _ in range(2):
        (g * g + g.exp() * g).sum().backward()
        (t * t + t.exp() * t).sum().backward()
    close(g.grad, t.grad)
    g.grad = None
    (g + g + g).sum().backward()
    assert g.grad.tolist() == [3.0, 3.0, 3.0]


def test_grads_never_share_memory_between_leaves():
    a, b = gv.ones(3, requires_grad=True), gv.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    seed = gv.ones(3)
    c = gv.ones(3, requires_grad=True)
    (c * 1).backward(seed)
    c.grad.add_(5)
    assert seed.tolist() == [1.0, 1.0, 1.0]


def test_second_backward_raises_unless_retain_graph():
    g, _ = pair([1.0, 2.0])
    y = (g.exp() * g).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(g.grad.numpy(), 2 * (np.exp([1.0, 2.0]) * [2.0, 3.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_grad_on_non_leaf():
    g, t = pair([0.5, -1.0])
    gm, tm = g.sin(), t.sin()
    gm.retain_grad()
    tm.retain_grad()
    (gm * gm).sum().backward()
    (tm * tm).sum().backward()
    assert gm.retains_grad
    close(gm.grad, tm.grad)
    close(g.grad, t.grad)
    u = g * 3
    (u * 2).sum().backward()
    assert u.grad is None  # not retained: torch leaves it None too


def test_hooks_on_leaf_and_non_leaf_can_replace_the_grad_and_be_removed():
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h_leaf = x.register_hook(lambda grad: seen.append(("leaf", grad.tolist())))
    y = x * 3
    h_mid = y.register_hook(lambda grad: grad * 10)
    y.sum().backward()
    assert x.grad.tolist() == [30.0, 30.0] and seen == [("leaf", [30.0, 30.0])]
    h_mid.remove()
    h_leaf.remove()
    h_leaf.remove()  # idempotent
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and len(seen) == 1
    x.grad = None
    h = x.register_hook(lambda grad: grad + 1)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    h.remove()
    with pytest.raises(BackwardError):
        gv.ones(2).register_hook(lambda g: g)


def test_grad_modes():
    x = gv.ones(2, requires_grad=True)
    with gv.no_grad():
        assert not gv.is_grad_enabled()
        assert not (x * 2).requires_grad
        with gv.enable_grad():
            assert (x * 2).requires_grad
    assert gv.is_grad_enabled()
    with gv.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @gv.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad and gv.is_grad_enabled()
    gv.set_grad_enabled(False)
    try:
        assert not gv.is_grad_enabled()
    finally:
        gv.set_grad_enabled(True)
    assert gv.is_grad_enabled()


def test_autograd_grad_does_not_touch_dot_grad():
    g, t = pair([0.3, -0.7, 1.1])
    w = gv.tensor([1.0, 2.0], requires_grad=True)
    gy, = gv.autograd.grad((g.tanh() * g).sum(), g)
    ty, = torch.autograd.grad((t.tanh() * t).sum(), t)
    close(gy, ty)
    assert g.grad is None
    with pytest.raises(BackwardError, match="allow_unused"):
        gv.autograd.grad((g * 2).sum(), [g, w])
    a, b = gv.autograd.grad((g * 2).sum(), [g, w], allow_unused=True)
    assert b is None and a.tolist() == [2.0, 2.0, 2.0]
    gs = gv.autograd.grad(g * 2, g, grad_outputs=gv.ones(3, dtype=gv.float64))
    assert gs[0].tolist() == [2.0, 2.0, 2.0]


def test_grad_of_intermediate_input():
    g, t = pair([0.3, -0.7])
    gm, tm = g.exp(), t.exp()
    close(gv.autograd.grad((gm * gm).sum(), gm)[0], torch.autograd.grad((tm * tm).sum(), tm)[0])


FUNCS = {
    "tanh": lambda m, x: x.tanh(),
    "exp": lambda m, x: x.exp(),
    "sin": lambda m, x: x.sin(),
    "poly": lambda m, x: 3 * x ** 3 - 2 * x * x + x / 4 - 1,
    "sigmoid_log": lambda m, x: (x.sigmoid() + 1).log() * x.cos(),
    "softmax": lambda m, x: x.reshape(2, 2).softmax(-1)[:, 0] * x[:2],
    "matmul": lambda m, x: x.reshape(2, 2) @ x.reshape(2, 2).T @ x.reshape(2, 2),
    "div_sqrt": lambda m, x: (x * x + 1).sqrt() / (x * x + 2),
    "logsumexp": lambda m, x: x.reshape(2, 2).logsumexp(1) * x[1:3],
    "mean_var": lambda m, x: x.var() * x.mean() + x.std() * x,
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_second_and_third_derivatives_match_torch(name):
    f = FUNCS[name]
    g, t = pair([0.4, -0.3, 1.2, 0.7])
    gy, ty = f(gv, g).sum(), f(torch, t).sum()
    gd, = gv.autograd.grad(gy, g, create_graph=True)
    td, = torch.autograd.grad(ty, t, create_graph=True)
    close(gd, td)
    w = [0.5, -1.0, 2.0, 1.5]
    gd2, = gv.autograd.grad((gd * gv.tensor(w, dtype=gv.float64)).sum(), g, create_graph=True)
    td2, = torch.autograd.grad((td * torch.tensor(w, dtype=torch.float64)).sum(), t,
                               create_graph=True)
    close(gd2, td2, 1e-6)
    gd3, = gv.autograd.grad((gd2 * gd2).sum(), g)
    td3, = torch.autograd.grad((td2 * td2).sum(), t)
    close(gd3, td3, 1e-6)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_then_differentiate_grad():
    g, t = pair([0.5, 1.5])
    (g ** 3).sum().backward(create_graph=True)
    (t ** 3).sum().backward(create_graph=True)
    assert g.grad.requires_grad
    gg, = gv.autograd.grad(g.grad.sum(), g)
    tg, = torch.autograd.grad(t.grad.sum(), t)
    close(gg, tg)


def test_ten_thousand_op_chain_backward_is_iterative():
    x = gv.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert abs(x.grad.item() - 1.0001 ** 10_000) < 1e-2


def test_backward_order_is_deterministic():
    def run():
        x = gv.tensor([1.0, 2.0], requires_grad=True)
        order = []
        a, b = x * 2, x.exp()
        c = a + b
        d = c.sin() * a
        for name, t in (("a", a), ("b", b), ("c", c), ("d", d)):
            t.register_hook(lambda g, n=name: order.append(n))
        d.sum().backward()
        return order
    first = run()
    assert first == run() == run()
    assert first.index("d") < first.index("c") < first.index("b")


def test_backward_through_non_differentiable_outputs():
    x = gv.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = x.max(0)
    assert not idx.requires_grad and idx.dtype == gv.int64
    (vals * 2).backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0]
    assert not (x > 1).requires_grad and not x.argmax().requires_grad


def test_backward_inputs_argument():
    a, b = gv.ones(2, requires_grad=True), gv.ones(2, requires_grad=True)
    (a * b * 3).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None


def test_float32_leaf_gets_float32_grad_through_float64_ops():
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == gv.float32 and x.grad.tolist() == [2.0, 2.0]


def test_grad_accumulates_in_place_as_torch():
    # torch's AccumulateGrad adds into the existing .grad: a reference taken before sees it
    seen = []
    for lib in (gv, torch):
        w = lib.ones(2, requires_grad=True)
        (w * 2).sum().backward()
        g = w.grad
        (w * 3).sum().backward()
        seen.append((g.tolist(), g is w.grad))
    assert seen[0] == seen[1] == ([5.0, 5.0], True)
    w = gv.ones(2, requires_grad=True)
    with gv.trace.record() as rec:   # the first accum event keeps the values it saw
        (w * 2).sum().backward()
        (w * 3).sum().backward()
    means = [e["grad"]["mean"] for e in rec.events if e["type"] == "accum"]
    assert means == [2.0, 5.0]
