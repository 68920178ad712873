"""autograd.grad / backward(inputs=...) run only the graph that leads to the inputs, as
torch prunes it: unrelated nodes' backward, hooks and trace events do not happen."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError
from gradviz.trace.gate import install_gate, uninstall_gate

LIBS = [gv, torch]


def counting(lib, log, name, fail=False):
    """A custom Function (x * 2) that logs ``name`` each time its backward runs."""
    class Twice(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            log.append(name)
            if fail:
                raise RuntimeError(f"{name} must not run")
            return g * 2
    return Twice


def plain(v):
    """Tensors as nested lists (None kept), for comparing the two libraries' results."""
    if isinstance(v, (tuple, list)):
        return [plain(x) for x in v]
    if isinstance(v, (gv.Tensor, torch.Tensor)):
        return v.detach().numpy().tolist()
    return v


def both(fn):
    """fn(lib) for gradviz and torch; the values as nested lists/None for comparison."""
    return plain(fn(gv)), plain(fn(torch))


def test_unrelated_custom_function_not_called_by_grad():
    def run(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        bad = counting(lib, log, "bad", fail=True)
        out = (x * 3).sum() + bad.apply(w).sum()
        g, = lib.autograd.grad(out, [x])
        return g, log
    g, t = both(run)
    assert g == t and g[1] == []


def test_big_unrelated_branch_is_not_computed():
    def run(lib):
        log = []
        f = counting(lib, log, "branch")
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([0.5], requires_grad=True)
        h = w
        for _ in range(40):
            h = f.apply(h)
        out = (x * x).sum() + h.sum()
        g, = lib.autograd.grad(out, x, retain_graph=True)
        n_grad = len(log)
        gw, = lib.autograd.grad(out, w)   # the branch does run when it leads to an input
        return g, gw, n_grad, len(log)
    g, t = both(run)
    assert g == t and g[2] == 0 and g[3] == 40


def test_hooks_on_unrelated_tensors_not_called():
    def run(lib):
        hits = []
        x = lib.tensor(1.0, requires_grad=True)
        w = lib.tensor(2.0, requires_grad=True)
        u = w * 5
        u.register_hook(lambda g: hits.append("u"))
        w.register_hook(lambda g: hits.append("w"))   # a leaf sibling of the input
        x.register_hook(lambda g: hits.append("x"))
        x.register_post_accumulate_grad_hook(lambda t: hits.append("x-post"))
        (gx,) = lib.autograd.grad(x * w + u, [x])
        return gx, hits, x.grad, w.grad
    g, t = both(run)
    assert g == t and g[1] == ["x"]


def test_grad_fn_post_hook_of_capture_only_node_not_called():
    def run(lib):
        hits = []
        x = lib.tensor(1.0, requires_grad=True)
        y = x * 2
        y.grad_fn.register_hook(lambda gi, go: hits.append("post"))
        g, = lib.autograd.grad(y * 3, [y])
        return g, hits
    g, t = both(run)
    assert g == t and g[1] == []


def test_non_leaf_input_stops_there_for_grad_but_runs_its_node_for_backward():
    def run(lib):
        log = []
        f = counting(lib, log, "f")
        x = lib.tensor(1.5, requires_grad=True)
        y = f.apply(x)
        g, = lib.autograd.grad(y * 3, [y])
        n_grad = len(log)
        y2 = f.apply(x)
        (y2 * 3).backward(inputs=[y2])   # torch runs y2's own node, nothing past it
        return g, n_grad, len(log), y2.grad, y2.retains_grad, x.grad
    g, t = both(run)
    assert g == t and g[1:3] == [0, 1] and g[5] is None


def test_non_leaf_input_needed_for_another_input_captures_before_its_hooks():
    # torch's engine captures a needed node's grad before the tensor's hooks; an input
    # nothing else needs gets the hooked grad (both are torch 2.13's behaviour)
    def run(lib):
        out = []
        for inputs in ("yx", "y"):
            x = lib.tensor(1.0, requires_grad=True)
            y = x * 2
            y.register_hook(lambda g: g * 10)
            out.append(lib.autograd.grad(y * 3, [y, x] if inputs == "yx" else [y]))
        x = lib.tensor(1.0, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        out.append(lib.autograd.grad(y, [y, x]))   # an input that is the output
        return out
    g, t = both(run)
    assert g == t and g[0] == [3.0, 60.0] and g[1] == [30.0]


def test_retain_grad_on_capture_only_input():
    def run(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x * 2
        y.retain_grad()
        g, = lib.autograd.grad(y * y, [y])
        return g, y.grad, x.grad
    g, t = both(run)
    assert g == t and g[1] == 8.0


def test_backward_inputs_prunes_and_accumulates_like_torch():
    def run(lib):
        hits, log = [], []
        f = counting(lib, log, "f", fail=True)
        x = lib.ones(2, requires_grad=True)
        w = lib.ones(2, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: hits.append("x-post"))
        w.register_hook(lambda g: hits.append("w"))
        (x * 2).sum().backward()
        ref = x.grad
        (x * w * 3 + f.apply(w)).sum().backward(inputs=[x])
        return x.grad, ref is x.grad, w.grad, hits, log
    g, t = both(run)
    assert g == t and g[1] is True and g[3] == ["x-post", "x-post"]


def test_autograd_backward_takes_inputs():
    def run(lib):
        x = lib.tensor(1.0, requires_grad=True)
        w = lib.tensor(2.0, requires_grad=True)
        lib.autograd.backward([x * 3, w * w * 5], inputs=[w])
        lib.autograd.backward(x * w, grad_tensors=lib.tensor(2.0), inputs=w)
        return x.grad, w.grad
    g, t = both(run)
    assert g == t and g == [None, 22.0]
    x = gv.tensor(1.0, requires_grad=True)
    with pytest.raises(BackwardError, match="cannot be empty"):
        gv.autograd.backward(x * 2, inputs=[])


def _graph(lib, a, b, c):
    h = (a * b).tanh() + c.exp() * a
    u = (h * b).sin().sum()
    v = (c * c).sum() + (h ** 2).sum()
    return h, u + v


@pytest.mark.parametrize("pick", ["a", "b", "c", "ab", "ca", "h", "ha", "hc", "aa"])
def test_results_unchanged_grad_and_double_backward(pick):
    rng = np.random.default_rng(3)
    vals = [rng.normal(size=3) for _ in range(3)]

    def run(lib):
        a, b, c = (lib.tensor(v, requires_grad=True) for v in vals)
        h, out = _graph(lib, a, b, c)
        named = {"a": a, "b": b, "c": c, "h": h}
        inputs = [named[k] for k in pick]
        gs = lib.autograd.grad(out, inputs, create_graph=True)
        again = lib.autograd.grad(out, inputs, retain_graph=True)   # graph kept above
        second = lib.autograd.grad(sum((g * g).sum() for g in gs), [a, b, c],
                                   allow_unused=True, materialize_grads=True)
        return gs, again, second
    g, t = both(run)
    np.testing.assert_allclose(np.array(g[0]), np.array(t[0]), rtol=1e-10)
    np.testing.assert_allclose(np.array(g[1]), np.array(t[1]), rtol=1e-10)
    np.testing.assert_allclose(np.array(g[2]), np.array(t[2]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("pick", ["a", "c", "ab"])
def test_pruned_grad_matches_finite_differences(pick):
    rng = np.random.default_rng(5)
    vals = [rng.normal(size=3) for _ in range(3)]
    a, b, c = (gv.tensor(v, requires_grad=True) for v in vals)
    named = {"a": a, "b": b, "c": c}
    grads = gv.autograd.grad(_graph(gv, a, b, c)[1], [named[k] for k in pick])
    eps = 1e-6
    for k, g in zip(pick, grads):
        i = "abc".index(k)
        num = np.zeros(3)
        for j in range(3):
            def f(d):
                vs = [v.copy() for v in vals]
                vs[i][j] += d
                return float(_graph(gv, *(gv.tensor(v) for v in vs))[1].item())
            num[j] = (f(eps) - f(-eps)) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), num, rtol=1e-6, atol=1e-8)


def test_allow_unused_and_materialize_with_pruning():
    def run(lib):
        x = lib.tensor(1.0, requires_grad=True)
        w = lib.tensor(2.0, requires_grad=True)
        z = lib.tensor(3.0, requires_grad=True)
        out = x * 2 + w * 3
        r1 = lib.autograd.grad(out, [x, z, x], allow_unused=True, retain_graph=True)
        r2 = lib.autograd.grad(out, [z, w], materialize_grads=True)
        return r1, r2
    g, t = both(run)
    assert g == t and g[0] == [2.0, None, 2.0]
    x = gv.tensor(1.0, requires_grad=True)
    z = gv.tensor(1.0, requires_grad=True)
    with pytest.raises(BackwardError, match="allow_unused"):
        gv.autograd.grad(x * 2 + (z * 3).detach(), [z])


def test_pruned_nodes_emit_no_trace_events():
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    w = gv.tensor([3.0, 4.0], requires_grad=True)
    with gv.trace.record() as rec:
        out = (x * 3).sum() + w.exp().tanh().sum()
        gv.autograd.grad(out, [x])
    ops = [e["op"] for e in rec.events if e["type"] == "grad"]
    accums = [e for e in rec.events if e["type"] == "accum"]
    assert sorted(ops) == ["Add", "Mul", "Sum"] and accums == []


class _Gate:
    """The smallest step gate: records the backward nodes it is asked to stop before."""

    def __init__(self):
        self.seen = []

    def after_forward(self, node, op, out):
        pass

    def before_backward(self, node, op, grad_out):
        self.seen.append(op)


def test_step_gate_sees_only_nodes_that_run():
    gate = _Gate()
    install_gate(gate)
    try:
        x = gv.tensor([1.0, 2.0], requires_grad=True)
        w = gv.tensor([3.0, 4.0], requires_grad=True)
        y = x.exp()
        out = (y * 3).sum() + w.tanh().sum()
        gv.autograd.grad(out, [y], retain_graph=True)
        first = list(gate.seen)
        gate.seen.clear()
        out.backward(inputs=[w])
    finally:
        uninstall_gate(gate)
    assert sorted(first) == ["Add", "Mul", "Sum"]   # neither Exp nor the w branch
    assert sorted(gate.seen) == ["Add", "Sum", "Tanh"]
