"""torch's check that backward never uses values changed in place after the forward pass
(its version counters): an in-place op under no_grad or an optimizer step between the
forward pass and backward raises, as torch does; what needs no saved value still works."""
import numpy as np
import pytest
import torch

import gradviz as gv

W = np.array([1.0, -2.0, 3.0], dtype=np.float32)


def _both(build, change):
    """Run build -> change -> backward in torch and gradviz; returns (torch, gv) outcomes."""
    out = []
    for lib in (torch, gv):
        w = lib.tensor(W.copy(), requires_grad=True)
        y = build(w)
        with lib.no_grad():
            change(w)
        try:
            y.backward()
            out.append(("ok", w.grad.numpy().copy()))
        except RuntimeError as e:
            out.append(("raised", str(e)))
    return out


@pytest.mark.parametrize("change", [lambda w: w.mul_(2), lambda w: w.add_(1), lambda w: w.zero_(),
                                    lambda w: w.copy_(w * 3), lambda w: w.__setitem__(0, 5.0)])
def test_values_saved_for_backward_changed_in_place_raise_as_torch(change):
    t, g = _both(lambda w: (w * w).sum(), change)
    assert t[0] == "raised" and "modified by an inplace operation" in t[1]
    assert g[0] == "raised" and "modified by an inplace operation" in g[1]
    assert "input 0 of Mul" in g[1]


def test_ops_that_saved_nothing_of_the_input_still_backpropagate():
    t, g = _both(lambda w: (w + 1).sum(), lambda w: w.mul_(2))   # Add keeps no input
    assert t[0] == g[0] == "ok"
    np.testing.assert_array_equal(t[1], g[1])


def test_data_is_not_tracked_as_torch():
    for lib in (torch, gv):
        w = lib.tensor(W.copy(), requires_grad=True)
        y = (w * w).sum()
        w.data.mul_(2)                             # torch's escape hatch: no version bump
        y.backward()
        np.testing.assert_allclose(w.grad.numpy(), 4 * W)


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_an_optimizer_step_between_forward_and_backward_raises(opt):
    for lib in (torch, gv):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        o = getattr(lib.optim, opt)(m.parameters(), lr=0.1)
        loss = m(lib.ones(4, 3)).pow(2).mean()
        loss.backward(retain_graph=True)
        o.step()                                   # changes the weights the graph saved
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()                        # the 2nd layer's W is read for its dx


def test_a_changed_value_no_needed_gradient_reads_is_no_error_as_torch():
    grads = []
    for lib in (torch, gv):                        # one layer on an input without grad:
        lib.manual_seed(0)                         # dW reads x, not W; db reads nothing
        m = lib.nn.Linear(3, 2)
        loss = m(lib.ones(4, 3)).pow(2).mean()
        loss.backward(retain_graph=True)
        with lib.no_grad():
            m.weight.mul_(2)
        m.weight.grad = None
        loss.backward()
        grads.append(m.weight.grad.numpy().copy())
    assert grads[0].shape == grads[1].shape


def test_a_normal_training_loop_is_unaffected():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    losses = {}
    for lib in (torch, gv):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 10))
            m.bias.zero_()
        o = lib.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        out = []
        for _ in range(4):
            o.zero_grad()
            loss = m(lib.tensor(x)).pow(2).mean()
            loss.backward()
            o.step()
            out.append(loss.item())
        losses[lib.__name__] = out
    np.testing.assert_allclose(losses["gradviz"], losses["torch"], rtol=1e-5)


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid"])
def test_an_output_saved_for_backward_changed_in_place_raises_as_torch(op):
    for lib in (torch, gv):
        x = lib.tensor(W.copy(), requires_grad=True)
        y = getattr(x, op)()                       # these ops keep their output for backward
        with lib.no_grad():
            y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("build, change", [
    (lambda w: (w * w).sum(), lambda w: w.detach().mul_(2)),           # through a detached view
    (lambda w: (w * w.detach()).sum(), lambda w: w.mul_(2)),           # the detached one saved
    (lambda w: (w * 2).exp().sum(), None),                             # an op's saved output
    (lambda w: (w + 1).sum(), lambda w: w.detach().zero_()),           # nothing saved: fine
])
def test_detach_shares_the_version_counter_as_torch(build, change):
    if change is None:                       # exp's output changed through its detached twin
        out = []
        for lib in (torch, gv):
            w = lib.tensor(W.copy(), requires_grad=True)
            e = (w * 2).exp()
            e.detach().detach().add_(1)
            try:
                e.sum().backward()
                out.append("ok")
            except RuntimeError as exc:
                out.append("raised" if "modified by an inplace" in str(exc) else str(exc))
        assert out == ["raised", "raised"]
        return
    t, g = _both(build, change)
    assert t[0] == g[0], (t, g)
    if t[0] == "ok":
        np.testing.assert_allclose(g[1], t[1])


def test_a_kept_detached_loss_does_not_keep_its_graph_alive():
    import gc
    import weakref
    x = gv.ones(3, requires_grad=True)
    loss = (x * 2).sum()
    node = weakref.ref(loss.grad_fn)
    kept = loss.detach()
    del loss
    gc.collect()
    assert node() is None and kept.item() == 6.0
