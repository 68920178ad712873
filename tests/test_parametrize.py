"""gv.nn.utils.parametrize, parametrizations.weight_norm and the old weight_norm: keys,
reprs, errors and gradients against torch."""
import fake_cupy
import numpy as np
import pytest
import torch
import torch.nn as tnn
from torch.nn.utils import parametrize as TP
from torch.nn.utils.parametrizations import weight_norm as t_weight_norm

import gradviz as gv
from gradviz import nn
from gradviz.nn.utils import parametrize as P
from gradviz.nn.utils.parametrizations import weight_norm


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(0, 1)


class TSymmetric(tnn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(0, 1)


class Double(nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, x):
        return x / 2


class TDouble(tnn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, x):
        return x / 2


def pair(n=3, m=3, seed=0):
    """A gradviz and a torch Linear with the same weights."""
    rng = np.random.default_rng(seed)
    g, t = nn.Linear(n, m), tnn.Linear(n, m)
    w, b = rng.standard_normal((m, n)).astype(np.float32), rng.standard_normal(m)
    g.weight.data = gv.tensor(w)
    g.bias.data = gv.tensor(b.astype(np.float32))
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    return g, t


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def test_register_keys_repr_and_class():
    g, t = pair()
    P.register_parametrization(g, "weight", Symmetric())
    TP.register_parametrization(t, "weight", TSymmetric())
    assert list(g.state_dict()) == list(t.state_dict()) == \
        ["bias", "parametrizations.weight.original"]
    assert repr(g).replace("Symmetric", "TSymmetric") == repr(t)
    assert type(g).__name__ == "ParametrizedLinear" and isinstance(g, nn.Linear)
    assert P.is_parametrized(g) and P.is_parametrized(g, "weight")
    assert not P.is_parametrized(g, "bias") and not P.is_parametrized(nn.Linear(2, 2))
    assert "weight" not in dict(g.named_parameters())
    assert P.type_before_parametrizations(g) is nn.Linear
    close(g.weight, t.weight)
    w = g.weight.detach().numpy()
    assert np.allclose(w, w.T)


def test_gradients_reach_original_and_match_torch():
    g, t = pair()
    P.register_parametrization(g, "weight", Symmetric())
    P.register_parametrization(g, "weight", Double())
    TP.register_parametrization(t, "weight", TSymmetric())
    TP.register_parametrization(t, "weight", TDouble())
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    (g(gv.tensor(x)) ** 2).sum().backward()
    (t(torch.tensor(x)) ** 2).sum().backward()
    close(g.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad)
    close(g.bias.grad, t.bias.grad)
    assert len(g.parametrizations.weight) == 2


def test_right_inverse_on_register_and_assign():
    g, t = pair(seed=2)
    P.register_parametrization(g, "weight", Double())
    TP.register_parametrization(t, "weight", TDouble())
    close(g.parametrizations.weight.original, t.parametrizations.weight.original)
    close(g.weight, t.weight)
    new = np.arange(9, dtype=np.float32).reshape(3, 3)
    original = g.parametrizations.weight.original
    g.weight = gv.tensor(new)
    t.weight = torch.tensor(new)
    assert g.parametrizations.weight.original is original
    close(g.weight, t.weight)
    close(original, t.parametrizations.weight.original)


def test_remove_leaves_parametrized_or_original():
    for leave in (True, False):
        g, t = pair(seed=3)
        P.register_parametrization(g, "weight", Symmetric())
        TP.register_parametrization(t, "weight", TSymmetric())
        P.remove_parametrizations(g, "weight", leave_parametrized=leave)
        TP.remove_parametrizations(t, "weight", leave_parametrized=leave)
        assert type(g) is nn.Linear and not hasattr(g, "parametrizations")
        assert isinstance(g.weight, nn.Parameter)
        assert list(g.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
        close(g.weight, t.weight)


def test_parametrize_a_buffer():
    m = nn.Module()
    m.register_buffer("b", gv.ones(3, 3))
    P.register_parametrization(m, "b", Double())
    assert list(m.state_dict()) == ["parametrizations.b.original"]
    assert np.allclose(m.b.numpy(), 1.0) and np.allclose(m.parametrizations.b.original.numpy(),
                                                         0.5)


def test_errors_as_torch():
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(nn.Linear(2, 2), "weight")
    with pytest.raises(ValueError, match="parametrized element with name 'foo'"):
        P.register_parametrization(nn.Linear(2, 2), "foo", Double())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]
    with pytest.raises(ValueError, match="may not change the shape or dtype"):
        P.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    m = P.register_parametrization(nn.Linear(2, 2), "weight", Shrink(), unsafe=True)
    assert m.weight.shape == (1, 2)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(weight_norm(nn.Linear(2, 2)), "weight",
                                  leave_parametrized=False)


def test_cached_computes_once():
    calls = []

    class Count(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x + 0

    m = P.register_parametrization(nn.Linear(2, 2), "weight", Count(), unsafe=True)
    calls.clear()
    with P.cached():
        assert m.weight is m.weight
    assert len(calls) == 1
    assert m.weight is not m.weight


@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_weight_norm_matches_torch(dim):
    g, t = pair(3, 4, seed=4)
    weight_norm(g, dim=dim)
    t_weight_norm(t, dim=dim)
    assert list(g.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert repr(g) == repr(t)
    close(g.parametrizations.weight.original0, t.parametrizations.weight.original0)
    close(g.weight, t.weight)
    x = np.random.default_rng(5).standard_normal((2, 3)).astype(np.float32)
    (g(gv.tensor(x)) ** 2).sum().backward()
    (t(torch.tensor(x)) ** 2).sum().backward()
    for k in ("original0", "original1"):
        close(getattr(g.parametrizations.weight, k).grad,
              getattr(t.parametrizations.weight, k).grad, 1e-4)


def test_old_weight_norm_warns_and_matches_torch():
    g, t = pair(3, 4, seed=6)
    msg = "deprecated in favor of `torch.nn.utils.parametrizations.weight_norm`"
    with pytest.warns(FutureWarning, match=msg):
        gv.nn.utils.weight_norm(g)
    with pytest.warns(FutureWarning, match=msg):
        tnn.utils.weight_norm(t)
    assert list(g.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert repr(g) == repr(t)
    close(g.weight_g, t.weight_g)
    x = np.random.default_rng(7).standard_normal((2, 3)).astype(np.float32)
    (g(gv.tensor(x)) ** 2).sum().backward()
    (t(torch.tensor(x)) ** 2).sum().backward()
    close(g.weight_g.grad, t.weight_g.grad, 1e-4)
    close(g.weight_v.grad, t.weight_v.grad, 1e-4)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        gv.nn.utils.weight_norm(g)
    gv.nn.utils.remove_weight_norm(g)
    tnn.utils.remove_weight_norm(t)
    assert list(g.state_dict()) == list(t.state_dict())
    close(g.weight, t.weight, 1e-4)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        gv.nn.utils.remove_weight_norm(g)


@pytest.fixture
def fake_dev(monkeypatch):
    """'cuda' backed by the fake CuPy (NumPy arrays marked as device data)."""
    fake_cupy.install(monkeypatch)
    return "cuda"


def test_parametrized_on_fake_cupy(fake_dev):
    g, t = pair(3, 4, seed=8)
    g.to(fake_dev)
    weight_norm(g)
    P.register_parametrization(g, "bias", Double())
    t_weight_norm(t)
    TP.register_parametrization(t, "bias", TDouble())
    x = np.random.default_rng(9).standard_normal((2, 3)).astype(np.float32)
    out = g(gv.tensor(x, device=fake_dev))
    assert out.device.type == "cuda" and type(out._data) is not np.ndarray
    (out ** 2).sum().backward()
    (t(torch.tensor(x)) ** 2).sum().backward()
    grad = g.parametrizations.weight.original1.grad
    assert type(grad._data) is not np.ndarray
    close(grad, t.parametrizations.weight.original1.grad, 1e-4)
    close(g.parametrizations.bias.original.grad, t.parametrizations.bias.original.grad)


def test_post_accumulate_grad_hook_as_torch():
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        handle = w.register_post_accumulate_grad_hook(
            lambda t: seen.append((t is w, t.grad.tolist())))
        w.register_hook(lambda g: g * 10)
        (w * w).sum().backward()          # w used twice: one call, after the sum
        (w * 3).sum().backward()          # accumulates onto the existing grad
        handle.remove()
        w.sum().backward()
        return seen, w.grad.tolist()
    assert run(gv) == run(torch)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (gv.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gv.ones(2).register_post_accumulate_grad_hook(print)


# ---- spectral_norm and orthogonal (parametrizations) ----

from torch.nn.utils.parametrizations import orthogonal as t_orthogonal  # noqa: E402
from torch.nn.utils.parametrizations import spectral_norm as t_spectral_norm  # noqa: E402

from gradviz.nn.utils.parametrizations import orthogonal, spectral_norm  # noqa: E402


def copy_state(g, t):
    """Copy torch's state (weights and the random _u/_v or base) into gradviz's module."""
    g_state = dict(g.state_dict())
    assert sorted(g_state) == sorted(t.state_dict())
    for k, v in t.state_dict().items():
        g_state[k].copy_(gv.tensor(v.numpy()))


@pytest.mark.parametrize("make,shape", [
    (lambda M: M.Linear(4, 5), (3, 4)),
    (lambda M: M.Conv2d(2, 3, 3), (1, 2, 5, 5)),
    (lambda M: M.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4)),
])
def test_spectral_norm_train_eval_and_grads_vs_torch(make, shape):
    torch.manual_seed(0)
    t, g = t_spectral_norm(make(tnn)), spectral_norm(make(nn))
    assert sorted(dict(g.state_dict())) == sorted(t.state_dict())
    assert "parametrizations.weight.0._u" in dict(g.state_dict())
    copy_state(g, t)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    for mode in ("train", "eval", "train"):
        getattr(t, mode)(), getattr(g, mode)()
        yt, yg = t(torch.tensor(x)), g(gv.tensor(x))
        close(yg, yt)
        close(g.parametrizations.weight[0]._u, t.parametrizations.weight[0]._u)
        yt.square().sum().backward(), yg.square().sum().backward()
        close(g.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad,
              1e-4)


def test_spectral_norm_dim_default_eval_no_update_and_sigma():
    g = spectral_norm(nn.ConvTranspose1d(2, 3, 3))
    assert g.parametrizations.weight[0].dim == 1
    g = spectral_norm(nn.Linear(6, 4), n_power_iterations=30)
    w = g.weight.detach().numpy()  # training mode: many iterations, sigma converged
    np.testing.assert_allclose(np.linalg.norm(w, 2), 1.0, rtol=1e-4)
    g.eval()
    u = g.parametrizations.weight[0]._u.numpy().copy()
    g.weight
    np.testing.assert_array_equal(g.parametrizations.weight[0]._u.numpy(), u)
    with pytest.raises(gv.GradvizError):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def orth_pair(shape, orthogonal_map, use_trivialization, seed=0):
    W = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    tm, gm = tnn.Module(), nn.Module()
    tm.weight, gm.weight = tnn.Parameter(torch.tensor(W)), nn.Parameter(gv.tensor(W))
    t_orthogonal(tm, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    orthogonal(gm, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    return gm, tm


def assert_orthogonal(Q):
    Q = Q.detach().numpy()
    if Q.shape[-2] < Q.shape[-1]:
        Q = np.swapaxes(Q, -1, -2)
    QtQ = np.swapaxes(Q, -1, -2) @ Q
    np.testing.assert_allclose(QtQ, np.broadcast_to(np.eye(Q.shape[-1]), QtQ.shape), atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 5), (6, 3), (3, 6), (2, 4, 3)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_vs_torch_and_after_a_step(shape, orthogonal_map, use_trivialization):
    torch.manual_seed(0)
    gm, tm = orth_pair(shape, orthogonal_map, use_trivialization)
    assert_orthogonal(gm.weight)
    close(gm.weight, tm.weight)  # QR of the same W: no randomness in the first columns
    copy_state(gm, tm)  # base holds random columns when W is not square
    close(gm.weight, tm.weight)
    optg = gv.optim.SGD(gm.parameters(), lr=0.1)
    optt = torch.optim.SGD(tm.parameters(), lr=0.1)
    target = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    (gm.weight * gv.tensor(target)).sum().backward()
    (tm.weight * torch.tensor(target)).sum().backward()
    close(gm.parametrizations.weight.original.grad, tm.parametrizations.weight.original.grad,
          1e-4)
    optg.step(), optt.step()
    assert_orthogonal(gm.weight)
    close(gm.weight, tm.weight, 1e-4)


def test_orthogonal_default_map_and_errors():
    assert orthogonal(nn.Linear(3, 3)).parametrizations.weight[0].orthogonal_map == "matrix_exp"
    assert orthogonal(nn.Linear(3, 5)).parametrizations.weight[0].orthogonal_map == "householder"
    with pytest.raises(gv.GradvizError):
        orthogonal(nn.Linear(3, 3), orthogonal_map="svd")
    with pytest.raises(gv.GradvizError):
        orthogonal(nn.Linear(3, 3), name="bias")
    m = orthogonal(nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError):
        m.weight = gv.eye(3)
