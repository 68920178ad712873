"""In-place ops on tensors in a graph, as torch: ``y.add_(w)``, ``t[key] = v``, ``total +=
loss``, ``scores.masked_fill_(mask, -inf)`` ... join the graph (the tensor becomes the op's
output; nodes made before keep reading the previous version). Checked against torch and by
float64 finite differences; what torch refuses (or what would lose a gradient) raises."""
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, GradvizError, ShapeError

X0 = np.arange(1.0, 7.0).reshape(2, 3) / 2
W0 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def _f(lib):
    return gv.nn.functional if lib is gv else torch.nn.functional


# each case: fn(lib, x, w) -> scalar, written the way torch users write it; where torch itself
# refuses the in-place form (it saved the value the op overwrites) ``ref`` is torch's
# out-of-place twin, gradviz keeps the values it saved and gives the same gradient
CASES = {
    "accumulate a loss": (lambda lib, x, w: _accumulate(lib, x, w), None),
    "older consumers read the old version": (lambda lib, x, w: _older(lib, x, w), None),
    "masked_fill_ -inf before softmax": (lambda lib, x, w: _attention(lib, x, w), None),
    "fill a buffer row by row": (lambda lib, x, w: _rows(lib, x, w), None),
    "copy_ then assign one element": (lambda lib, x, w: _copy_assign(lib, x, w), None),
    "clamp_ relu_ exp_ chained": (
        lambda lib, x, w: _chain(lib, x), lambda lib, x, w: x.clamp(0.8, 2.2).relu().exp().sum()),
    "mul_ by itself": (lambda lib, x, w: _square(lib, x),
                       lambda lib, x, w: ((x * 1) ** 2).sum()),
    "buf[i] += x (Python's get, iadd, set)": (lambda lib, x, w: _iadd_rows(lib, x, w), None),
    "sub_ alpha, div_ by a tensor": (
        lambda lib, x, w: _sub_div(lib, x, w),
        lambda lib, x, w: ((x.sigmoid() - 0.5 * 2) / (w + 2)).sum()),
    "zero_ then add_": (lambda lib, x, w: _zero_add(lib, x, w), None),
    "fill_ with a 0-d tensor": (lambda lib, x, w: _fill(lib, x, w), None),
    "setitem by slice and by mask": (lambda lib, x, w: _setitem(lib, x, w), None),
    "add_ a broadcast row": (lambda lib, x, w: _broadcast_row(lib, x, w),
                             lambda lib, x, w: ((x.tanh() + w[0]) ** 2).sum()),
    "scatter_add_ into a graph tensor": (lambda lib, x, w: _scatter(lib, x, w), None),
    "F.relu_ of sub_": (lambda lib, x, w: _f_relu(lib, x, w), None),
    "clamp_ with tensor bounds": (lambda lib, x, w: _clamp_t(lib, x, w), None),
    "masked_fill_ with a tensor value": (lambda lib, x, w: _masked_t(lib, x, w), None),
    "setitem with an index list": (lambda lib, x, w: _index_list(lib, x, w), None),
    "in place on views of a graph tensor": (lambda lib, x, w: _views(lib, x, w), None),
    "in place on one element of a 1-d tensor": (lambda lib, x, w: _element(lib, x, w), None),
}


def _accumulate(lib, x, w):
    total = lib.zeros((), dtype=x.dtype)
    for i in range(3):
        total += (x * w * (i + 1)).sum()
    return total


def _older(lib, x, w):
    y = x * 2
    z = y * 3
    y.add_(w)
    y.mul_(w)
    return (z + y).sum()


def _attention(lib, x, w):
    s = x @ w.T
    s.masked_fill_(lib.tensor([[True, False], [False, False]]), float("-inf"))
    return s.softmax(-1)[0, 1] + (s[1] ** 2).sum()


def _rows(lib, x, w):
    buf = lib.zeros(3, 2, 3, dtype=x.dtype)
    for t in range(3):
        buf[t] = x * (t + 1) + w
    return (buf ** 2).sum()


def _copy_assign(lib, x, w):
    buf = lib.zeros(2, 3, dtype=x.dtype)
    buf.copy_(x)
    buf[0, 1] = w[1, 2] * 5
    return (buf * w).sum()


def _chain(lib, x):
    y = x.clone()
    y.clamp_(0.8, 2.2)
    y.relu_()
    y.exp_()
    return y.sum()


def _square(lib, x):
    y = x * 1
    y.mul_(y)
    return y.sum()


def _iadd_rows(lib, x, w):
    buf = lib.zeros(2, 3, dtype=x.dtype)
    buf[0] += x[0]
    buf[1] -= w[1]
    return (buf * buf * x).sum()


def _sub_div(lib, x, w):
    y = x.sigmoid()
    y.sub_(0.5, alpha=2)
    y.div_(w + 2)
    return y.sum()


def _zero_add(lib, x, w):
    y = x * 2
    y.zero_()
    y.add_(w)
    return (y * x).sum()


def _fill(lib, x, w):
    y = x * 2
    y.fill_(w[0, 0])
    return (y * x).sum()


def _setitem(lib, x, w):
    y = x * 2
    y[:, 1] = w[:, 0] ** 2
    y[y > 2.5] = 0.0
    return (y * x).sum()


def _broadcast_row(lib, x, w):
    y = x.tanh()
    y.add_(w[0])
    return (y ** 2).sum()


def _scatter(lib, x, w):
    y = x * 1
    y.scatter_add_(1, lib.tensor([[0, 0, 1], [2, 2, 2]]), w)
    return (y ** 2).sum()


def _f_relu(lib, x, w):
    y = x * w
    _f(lib).relu_(y.sub_(0.1))
    return (y * x).sum()


def _clamp_t(lib, x, w):
    y = x * 1
    y.clamp_(min=w, max=w + 1.85)
    return (y * y).sum()


def _masked_t(lib, x, w):
    y = x * 1
    y.masked_fill_(x > 1.6, w[0, 1])
    return (y * x).sum()


def _index_list(lib, x, w):
    y = x * 1
    y[[0, 1], [2, 0]] = w[0, :2] * 3
    return (y * y).sum()


def _views(lib, x, w):
    y = x * 2
    z = y.exp()
    y[0].mul_(w[1])            # torch: CopySlices; here an IndexPut into y's last version
    y[:, 1:].clamp_(max=4.5)
    y.T[2].add_(w[0, :2])      # a view of a view
    y.view(-1)[::2].sub_(0.5)
    return (y ** 2).sum() + z.sum() * 1e-3


def _element(lib, x, w):
    y = x.reshape(-1) * 1
    y[2].mul_(w[0, 0])
    y[-1].fill_(w[1, 1] ** 2)
    return (y * y).sum()


def _run(lib, fn, x0=X0, w0=W0):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    out = fn(lib, x, w)
    out.backward()
    return out.item(), x.grad.numpy(), None if w.grad is None else w.grad.numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_ops_in_a_graph_match_torch(name):
    fn, ref = CASES[name]
    got = _run(gv, fn)
    want = _run(torch, ref or fn)
    assert got[0] == pytest.approx(want[0], rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-12)
    if want[2] is None:
        assert got[2] is None or not got[2].any()
    else:
        np.testing.assert_allclose(got[2], want[2], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_ops_in_a_graph_match_finite_differences(name):
    fn = CASES[name][0]
    _, gx, gw = _run(gv, fn)
    eps = 1e-6
    for which, grad in ((0, gx), (1, gw)):
        num = np.zeros(6)
        for i in range(6):
            pair = []
            for sign in (1, -1):
                arrs = [X0.copy(), W0.copy()]
                arrs[which].flat[i] += sign * eps
                with gv.no_grad():
                    pair.append(fn(gv, gv.tensor(arrs[0]), gv.tensor(arrs[1])).item())
            num[i] = (pair[0] - pair[1]) / (2 * eps)
        got = np.zeros(6) if grad is None else grad.ravel()
        np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-6)


def test_accumulating_into_a_plain_tensor_keeps_the_gradient():
    # these used to write the values only: the gradient of x was silently lost
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    total = gv.zeros(())
    total += (x * x).sum()
    buf = gv.zeros(2)
    buf.add_(x)
    out = gv.zeros(2)
    out.copy_(x * 3)
    assert total.requires_grad and buf.requires_grad and out.requires_grad
    assert not buf.is_leaf and buf.grad_fn.name == "AddBackward0"
    (total + buf.sum() + out.sum()).backward()
    assert x.grad.tolist() == [2.0 + 1 + 3, 4.0 + 1 + 3]


def test_the_tensor_keeps_its_identity_and_aliases_see_the_new_values():
    x = gv.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 2
    alias = y.detach()     # shares y's memory, as torch's
    keep = y
    y.relu_()
    assert keep is y and alias.tolist() == [2.0, 0.0, 6.0] == y.tolist()
    assert y.grad_fn.name == "ReluBackward0" and y.grad_fn.next_functions[0][0].name == \
        "MulBackward0"
    a = gv.zeros(3)
    a[1].add_(5)           # a one-element index is a view, as torch's
    assert a.tolist() == [0.0, 5.0, 0.0]


def test_nodes_made_before_still_point_at_the_previous_version():
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y.exp()
    y.add_(1)
    assert z.grad_fn.next_functions[0][0].name == "MulBackward0"
    assert y.grad_fn.next_functions[0][0].name == "MulBackward0"
    assert y.grad_fn.next_functions[0][0] is z.grad_fn.next_functions[0][0]
    drawn = gv.viz.draw(z + y).source
    assert drawn.count("Mul") == 1 and "Exp" in drawn and "Add" in drawn


def test_retain_grad_follows_the_tensor_and_double_backward_matches_torch():
    grads = []
    for lib in (gv, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        y.retain_grad()
        y.mul_(x)
        (y * 2).sum().backward(retain_graph=True)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        grads.append((y.grad.tolist(), g.tolist(), g2.tolist()))
    assert grads[0] == grads[1]


def test_refused_as_torch_refuses_or_where_a_gradient_would_be_lost():
    x = gv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        x.view(3, 1).add_(1)
    y = x * 2
    with pytest.raises(BackwardError, match="more than one of its elements refers to one"):
        y.expand(2, 3).mul_(2)         # torch: "more than one element ... single memory"
    buf = gv.zeros(2, 3)
    with pytest.raises(BackwardError, match=r"not part of the graph.*base\[key\] = value"):
        buf[0].copy_(x)                # buf could not learn of the change
    with pytest.raises(BackwardError, match="not part of the graph"):
        buf.view(6).add_(gv.ones(6, requires_grad=True))
    tmp = gv.arange(6.0).reshape(2, 3)  # views a temporary nothing else holds: allowed
    tmp[0] = x
    assert tmp.requires_grad
    assert buf.tolist() == [[0.0] * 3] * 2 and not buf.requires_grad
    buf[0] = x                     # the way that works
    buf.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_bad_input_raises_before_anything_changes():
    x = gv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    fn, values = y.grad_fn, y.tolist()
    with pytest.raises(ShapeError, match=r"output with shape \[3\] doesn't match"):
        y.add_(gv.ones(2, 3))
    with pytest.raises(ShapeError):
        y.add_(gv.ones(4))
    with pytest.raises(IndexError):
        y[5] = 1.0
    with pytest.raises(ShapeError, match="cannot be broadcast"):
        y[0] = gv.ones(2, requires_grad=True)
    with pytest.raises(GradvizError, match="can't be cast"):
        gv.arange(3).add_(x)
    assert y.grad_fn is fn and y.tolist() == values
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_saved_value_changed_outside_the_graph_still_raises_torchs_error():
    for lib in (gv, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.exp_()                 # ExpBackward saves its output: y's values
        with lib.no_grad():
            y.add_(1)            # changed without the graph knowing
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_random_fills_give_no_gradient_to_the_old_values():
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    gv.manual_seed(3)
    y.normal_()
    gv.manual_seed(3)
    assert y.tolist() == gv.zeros(2).normal_().tolist()
    (y * x).sum().backward()
    assert x.grad.tolist() == y.tolist()


def test_events_show_the_in_place_op_consuming_the_previous_version():
    w = gv.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    with gv.trace.record() as rec:
        y = w * 2
        z = y.exp()
        y.add_(1)
        y[0, 0] = 0.0
        loss = (z + y).sum()
        loss.backward()
    ops = [e for e in rec.events if e["type"] == "op"]
    assert [o["op"] for o in ops] == ["Mul", "Exp", "Add", "IndexPut", "Add", "Sum"]
    mul, exp, add_, put, add, _ = (o["node"] for o in ops)
    assert ops[1]["inputs"] == ops[2]["inputs"] == [mul]     # exp and add_ read y's first version
    assert ops[3]["inputs"][0] == add_ and ops[4]["inputs"] == [exp, put]
    grads = [e["node"] for e in rec.events if e["type"] == "grad"]
    assert {mul, exp, add_, put, add} <= set(grads)
    from_events = gv.viz.graph_from_events(rec.events)
    from_tensor = gv.viz.graph_from_tensor(loss)
    def edges(model):   # node ids differ (events number nodes process-wide): use labels
        return sorted((model.nodes[e.src].label, model.nodes[e.dst].label)
                      for e in model.edges)
    assert edges(from_events) == edges(from_tensor)
    assert len(from_events.edges) == 8
    want = 2 * np.exp(2 * w.detach().numpy()) + 2
    want[0, 0] -= 2
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("when", ["after", "before"])
def test_detach_of_a_tensor_an_in_place_op_made_keeps_its_backward(when):
    """torch: y.detach() shares y's version counter, but the in-place op that made y's
    current values ran before (or as) that counter moved: backward still works; a change
    through the detached tensor after it is still caught."""
    for lib in (torch, gv):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        d = y.detach() if when == "before" else None
        y.exp_()
        d = y.detach() if when == "after" else d
        y.sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), np.exp([1.0, 2.0]),
                                   rtol=1e-6)
    x = gv.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 1).exp_()
    y.detach().add_(1.0)
    with pytest.raises(BackwardError, match="modified by an inplace operation"):
        y.sum().backward()
