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


def _linear_case(xshape, bias, x_grad, dtype):
    rng = np.random.default_rng(3)
    x = gv.tensor(rng.standard_normal(xshape).astype(dtype), requires_grad=x_grad)
    w = gv.nn.Parameter(gv.tensor(rng.standard_normal((4, xshape[-1])).astype(dtype)))
    b = gv.nn.Parameter(gv.tensor(rng.standard_normal(4).astype(dtype))) if bias else None
    return x, w, b


@pytest.mark.parametrize("xshape", [(5, 3), (3,), (2, 5, 3)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_grad", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_direct_apply_matches_function_apply(xshape, bias, x_grad, dtype):
    from gradviz.nn.ops import Linear
    from gradviz.nn.ops.linear import apply_linear
    outs, grads = [], []
    for apply in (apply_linear, Linear.apply):
        x, w, b = _linear_case(xshape, bias, x_grad, dtype)
        y = apply(x, w, b)
        assert type(y.grad_fn) is Linear and y.requires_grad
        assert y.grad_fn.inputs[0] is x and y.grad_fn.inputs[1] is w
        assert y.grad_fn.inputs[2] is b and y.grad_fn.attrs == {}
        assert y.grad_fn.out_data is y._data
        (y * y).sum().backward()
        outs.append(y.detach().numpy())
        grads.append([t.grad.numpy() if t.grad is not None else None
                      for t in (x, w, b) if t is not None])
        with gv.no_grad():
            z = apply(x, w, b)
        assert z.grad_fn is None and not z.requires_grad
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].dtype == dtype
    for a, c in zip(*grads):
        if a is None:
            assert c is None
        else:
            np.testing.assert_array_equal(a, c)


def test_linear_direct_apply_overflows_to_inf_under_raise():
    # a float error raised as an exception: the op is rerun quietly (tolerant) and gives inf
    from gradviz.nn.ops.linear import apply_linear
    big = np.float32(3e38)
    x = gv.tensor(np.full((2, 1), big, np.float32), requires_grad=True)
    w = gv.nn.Parameter(gv.tensor(np.ones((1, 1), np.float32)))
    b = gv.nn.Parameter(gv.tensor(np.full(1, big, np.float32)))
    with np.errstate(over="raise"):
        y = apply_linear(x, w, b)
        assert np.isinf(y.detach().numpy()).all()
        y.backward(gv.tensor(np.full((2, 1), big, np.float32)))  # db = 2 * big overflows
    assert np.isinf(b.grad.numpy()).all()


def test_cross_entropy_plain_call_matches_the_generic_apply():
    from gradviz.nn.ops import loss_ops as L
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((6, 4)).astype(np.float32)
    t = gv.tensor([0, 3, 1, 2, 3, 0])
    for reduction in ("mean", "sum"):
        got = []
        for fast in (True, False):
            x = gv.tensor(xs, requires_grad=True)
            if fast:
                y = L.cross_entropy_plain(x, t, reduction)
            else:
                y = L.CrossEntropy.apply(x, t, weight=None, ignore_index=-100,
                                         label_smoothing=0.0, reduction=reduction)
            fn = y.grad_fn
            assert type(fn) is L.CrossEntropy and fn.inputs == (x, t) and fn.out_data is y._data
            got.append((dict(fn.attrs), y.detach().numpy(), y.shape))
            y.backward()
            got[-1] += (x.grad.numpy(),)
        assert got[0][0] == got[1][0]
        np.testing.assert_array_equal(got[0][1], got[1][1])
        assert got[0][2] == got[1][2] == ()
        np.testing.assert_array_equal(got[0][3], got[1][3])
    with gv.no_grad():
        y = L.cross_entropy_plain(gv.tensor(xs, requires_grad=True), t, "mean")
    assert y.grad_fn is None and not y.requires_grad


def test_needs_input_grad_is_set_for_every_backward_path():
    seen = []

    class Scale(gv.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            seen.append(tuple(ctx.needs_input_grad))
            return g, g, None

    def run(how):
        a = gv.tensor([1.0, 2.0], requires_grad=True)
        b = gv.tensor([3.0, 4.0])
        y = Scale.apply(a * 1.0, b, 2.0).sum()
        if how == "plain":
            y.backward()
        elif how == "general":
            y.backward(gv.tensor(1.0))
        else:
            gv.autograd.grad(y, a)
    for how in ("plain", "general", "grad"):
        run(how)
    assert seen and all(s[1:] == (False, False) and s[0] for s in seen), seen


@pytest.mark.parametrize("layout", ["c", "f"])
def test_cross_entropy_flat_index_gives_the_row_index_results(layout):
    # the fast path picks and scatters by flat index: the bits of logp[rows, target]
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((7, 5)).astype(np.float32)
    ts = np.array([4, 0, 3, 3, 1, 2, 0])
    rows = np.arange(7)
    z = xs - np.maximum.reduce(xs, 1, keepdims=True)
    logp = z - np.log(np.add.reduce(np.exp(z), 1, keepdims=True))
    ref_loss = (-logp[rows, ts]).sum()
    gi = np.asarray(np.float32(0.5))
    ref_grad = np.exp(logp) * gi
    ref_grad[rows, ts] += -gi
    for dt in (np.int64, np.int8, np.uint8, np.int32):
        data = xs.copy() if layout == "c" else np.asfortranarray(xs)
        x = gv.tensor(data, requires_grad=True)
        loss = gv.nn.functional.cross_entropy(x, gv.tensor(ts.astype(dt)), reduction="sum")
        (loss * 0.5).backward()
        np.testing.assert_array_equal(loss.detach().numpy(), ref_loss)
        np.testing.assert_array_equal(x.grad.numpy(), ref_grad)
    ref = torch.nn.functional.cross_entropy(torch.tensor(xs), torch.tensor(ts), reduction="sum")
    np.testing.assert_allclose(ref_loss, ref.item(), rtol=1e-6)


class _GateSpy:
    """Stands for a step gate: records its stop points (op names, in order)."""

    def __init__(self):
        self.calls = []

    def after_forward(self, node, op, out):
        self.calls.append(("forward", op))

    def before_backward(self, node, op, grad_out):
        self.calls.append(("backward", op, grad_out.shape))


def _gated_backward(explicit_seed):
    from gradviz.trace import HOOKS
    gv.manual_seed(0)
    model = gv.nn.Sequential(gv.nn.Linear(3, 4), gv.nn.Tanh(), gv.nn.Linear(4, 2))
    x = gv.tensor(np.linspace(-1, 1, 15).reshape(5, 3).astype(np.float32))
    spy = _GateSpy()
    HOOKS.gate = spy
    HOOKS.refresh()
    try:
        loss = model(x).pow(2).mean()
        loss.backward(gv.ones(())) if explicit_seed else loss.backward()
    finally:
        HOOKS.gate = None
        HOOKS.refresh()
    return spy.calls, [p.grad.numpy().copy() for p in model.parameters()]


def test_plain_backward_stops_at_the_gate_before_each_node_like_the_general_loop(monkeypatch):
    from gradviz.engine import autograd, tensor
    calls = []
    monkeypatch.setattr(tensor, "backward_plain",
                        lambda *a: (calls.append(1), autograd.backward_plain(*a))[1])
    plain, plain_grads = _gated_backward(False)
    general, general_grads = _gated_backward(True)
    assert calls == [1]                 # only the usual call took the plain loop
    assert [c for c in plain if c[0] == "backward"][0][1] == "Mean"
    assert sum(c[0] == "backward" for c in plain) == 5   # Mean, Pow, Linear, Tanh, Linear
    assert plain == general
    for a, b in zip(plain_grads, general_grads):
        np.testing.assert_array_equal(a, b)
