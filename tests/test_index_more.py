"""scatter_reduce, index_copy, index_put, masked_scatter: ties, zeros, ints, in-place forms,
errors, and the CuPy paths (on the fake CuPy) against torch."""
import fake_cupy
import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, GradvizError, ShapeError

IDX = np.array([[0, 2, 2, 1], [1, 1, 3, 0], [4, 3, 4, 4]])


def _both(x, src, reduce, include_self, device="cpu"):
    """Values and gradients of scatter_reduce in gradviz and torch."""
    gx = gv.tensor(x, device=device, requires_grad=True)
    gs = gv.tensor(src, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ts = torch.tensor(src, requires_grad=True)
    w = np.arange(x.size, dtype=np.float64).reshape(x.shape) - 4.0
    go = gx.scatter_reduce(1, gv.tensor(IDX, device=device), gs, reduce,
                           include_self=include_self)
    to = tx.scatter_reduce(1, torch.tensor(IDX), ts, reduce, include_self=include_self)
    (go * gv.tensor(w, device=device)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    for a, b in ((go, to), (gx.grad, tx.grad), (gs.grad, ts.grad)):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), atol=1e-9)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_ties_share_the_gradient_as_torch(reduce, include_self):
    x = np.zeros((3, 5))
    src = np.array([[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, -1.0, 0.0], [2.0, 1.0, 2.0, 2.0]])
    _both(x, src, reduce, include_self)


@pytest.mark.parametrize("include_self", [True, False])
def test_prod_with_zeros_as_torch(include_self):
    x = np.array([[0.0, 2.0, 3.0, 0.5, 1.5]] * 3)
    src = np.array([[0.0, 0.0, 2.0, 0.0], [1.5, 0.0, 3.0, 2.0], [0.0, 2.0, 0.5, 0.0]])
    _both(x, src, "prod", include_self)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_the_cupy_paths_match_torch(monkeypatch, reduce):
    fake_cupy.install(monkeypatch)
    rng = np.random.default_rng(1)
    src = rng.standard_normal((3, 4))
    src[1, 1] = 0.0
    _both(rng.standard_normal((3, 5)), src, reduce, False, device="cuda")
    _both(rng.standard_normal((3, 5)), src, reduce, True, device="cuda")


def test_integer_mean_rounds_down_as_torch():
    a, i, s = [5, 7, 9], [0, 0, 1], [2, -3, 4]
    for inc in (True, False):
        got = gv.tensor(a).scatter_reduce(0, gv.tensor(i), gv.tensor(s), "mean",
                                          include_self=inc)
        want = torch.tensor(a).scatter_reduce(0, torch.tensor(i), torch.tensor(s), "mean",
                                              include_self=inc)
        assert got.tolist() == want.tolist()


def test_in_place_forms_write_into_self():
    x = gv.zeros(3, 4)
    assert x.scatter_reduce_(1, gv.tensor([[1, 1]] * 3), gv.ones(3, 2), "sum") is x
    x.index_copy_(1, gv.tensor([0]), gv.full((3, 1), 5.0))
    x.index_put_((gv.tensor([2]), gv.tensor([3])), gv.tensor(7.0), accumulate=True)
    x.masked_scatter_(gv.tensor([False, False, True, False]), gv.tensor([-1.0, -2.0, -3.0]))
    t = torch.zeros(3, 4)
    t.scatter_reduce_(1, torch.tensor([[1, 1]] * 3), torch.ones(3, 2), "sum")
    t.index_copy_(1, torch.tensor([0]), torch.full((3, 1), 5.0))
    t.index_put_((torch.tensor([2]), torch.tensor([3])), torch.tensor(7.0), accumulate=True)
    t.masked_scatter_(torch.tensor([False, False, True, False]), torch.tensor([-1.0, -2.0, -3.0]))
    assert x.tolist() == t.tolist()


def test_in_place_on_a_leaf_that_needs_grad_is_refused():
    x = gv.zeros(3, requires_grad=True)
    with pytest.raises(BackwardError, match="leaf Variable"):
        x.index_copy_(0, gv.tensor([0]), gv.ones(1))


def test_index_put_accumulate_adds_repeats_and_their_gradients():
    gx, gv_ = gv.zeros(2, 3, requires_grad=True), gv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx, tv = torch.zeros(2, 3, requires_grad=True), torch.tensor([1.0, 2.0, 3.0],
                                                                 requires_grad=True)
    key = ([0, 0, 1], [2, 2, 0])
    go = gx.index_put(tuple(gv.tensor(k) for k in key), gv_, accumulate=True)
    to = tx.index_put(tuple(torch.tensor(k) for k in key), tv, accumulate=True)
    assert go.tolist() == to.tolist()
    w = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    (go * gv.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    assert gv_.grad.tolist() == tv.grad.tolist() and gx.grad.tolist() == tx.grad.tolist()


def test_errors_say_what_was_wrong():
    x, i = gv.zeros(3, 5), gv.tensor(IDX[:, :3])
    with pytest.raises(GradvizError, match="reduce argument must be either"):
        x.scatter_reduce(1, i, gv.zeros(3, 3), "max")
    with pytest.raises(GradvizError, match="out of bounds"):
        x.scatter_reduce(1, i + 5, gv.zeros(3, 3), "sum")
    with pytest.raises(GradvizError, match="dtype"):
        x.scatter_reduce(1, i, gv.zeros(3, 3, dtype=gv.float64), "sum")
    with pytest.raises(ShapeError, match="Number of indices"):
        x.index_copy(1, gv.tensor([0, 1]), gv.zeros(3, 3))
    with pytest.raises(GradvizError, match="out of bounds"):
        x.index_copy(1, gv.tensor([5]), gv.zeros(3, 1))
    with pytest.raises(GradvizError, match="out of bounds"):
        x.index_put((gv.tensor([3]),), gv.tensor(1.0))
    with pytest.raises(ShapeError, match="cannot be broadcast"):
        x.index_put((gv.tensor([0, 1]),), gv.zeros(3))
    with pytest.raises(GradvizError, match="Number of elements of source"):
        x.masked_scatter(gv.ones(3, 5, dtype=gv.bool), gv.zeros(4))


def test_src_larger_than_index_has_no_gradient_as_torch():
    s = gv.zeros(3, 4, requires_grad=True)
    out = gv.zeros(3, 5).scatter_reduce(1, gv.tensor(IDX[:, :3]), s, "sum")
    with pytest.raises(BackwardError, match="src.shape == index.shape"):
        out.sum().backward()


def test_prod_double_backward_through_a_computed_src():
    """Refused until prod had a create_graph path; the src here is computed (s * s)."""
    got = []
    for lib in (torch, gv):
        s = lib.tensor(np.linspace(0.5, 2.0, 12).reshape(3, 4), requires_grad=True)
        x = lib.tensor(np.linspace(1.0, 1.5, 15).reshape(3, 5))
        out = x.scatter_reduce(1, lib.tensor(IDX), s * s, "prod")
        g, = lib.autograd.grad(out.sum(), s, create_graph=True)
        h, = lib.autograd.grad((g * g).sum(), s)
        got.append((g.detach().numpy(), h.numpy()))
    for a, b in zip(*got):
        np.testing.assert_allclose(b, a, rtol=1e-6)
