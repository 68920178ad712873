"""Gradients at the hard points against torch: det, slogdet and logdet at singular matrices
(rank n-1 and n-2, batched) and negative determinants; cumprod and prod with zeros and infs.
Values and gradients match torch with their infs and NaNs in place; float64 finite
differences check the smooth ones."""
import fake_cupy
import numpy as np
import pytest
import torch

import gradviz as gv

SINGULAR = {
    "rank1_2x2": [[1.0, 2.0], [2.0, 4.0]],
    "rank2_3x3": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
    "rank1_3x3": [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],
    "zero_2x2": [[0.0, 0.0], [0.0, 0.0]],
    "zero_col": [[0.0, 1.0], [0.0, 1.0]],
    "diag_rank2": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
    "diag_rank1": [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
}
DTYPES = ["float64", "float32"]


def _pair(a, dt="float64"):
    a = np.asarray(a, dtype=dt)
    return (gv.tensor(a.copy(), requires_grad=True),
            torch.tensor(a.copy(), requires_grad=True))


def _same(ours, theirs, tol=1e-10):
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), (ours, theirs)
    assert np.array_equal(np.isposinf(ours), np.isposinf(theirs)), (ours, theirs)
    assert np.array_equal(np.isneginf(ours), np.isneginf(theirs)), (ours, theirs)
    np.testing.assert_allclose(ours, theirs, atol=tol, rtol=tol, equal_nan=True)


def _fd(f, a, seed=0, eps=1e-6):
    """<grad f, v> by backward against a central difference in a random direction v."""
    a = np.asarray(a, dtype=np.float64)
    v = np.random.default_rng(seed).standard_normal(a.shape)
    x = gv.tensor(a.copy(), requires_grad=True)
    f(x).sum().backward()
    with gv.no_grad():
        hi = f(gv.tensor(a + eps * v)).sum().item()
        lo = f(gv.tensor(a - eps * v)).sum().item()
    analytic = float(np.sum(x.grad.numpy() * v))
    assert abs((hi - lo) / (2 * eps) - analytic) <= 1e-6 * (1 + abs(analytic))


# ---- det ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SINGULAR))
def test_det_at_a_singular_matrix_is_torchs_value_and_cofactor_gradient(name):
    g, t = _pair(SINGULAR[name])
    d = gv.linalg.det(g)
    np.testing.assert_array_equal(d.detach().numpy(), torch.linalg.det(t).detach().numpy())
    d.backward()
    # torch's create_graph gradient (the cofactor matrix; its plain backward gives 0)
    theirs, = torch.autograd.grad(torch.linalg.det(t), t, create_graph=True)
    _same(g.grad, theirs, 1e-12)
    _fd(gv.linalg.det, SINGULAR[name])


def test_det_gradient_in_a_batch_of_rank_deficient_and_regular_matrices():
    a = np.stack([np.asarray(SINGULAR["rank2_3x3"]), np.asarray(SINGULAR["rank1_3x3"]),
                  np.asarray(SINGULAR["diag_rank1"]), np.diag([2.0, -1.0, 3.0]) + 0.1])
    g, t = _pair(a)
    gv.linalg.det(g).sum().backward()
    g2, t2 = _pair(a)
    g2.det().sum().backward()
    theirs, = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    _same(g.grad, theirs, 1e-12)
    _same(g2.grad, theirs, 1e-12)
    _fd(gv.linalg.det, a, seed=3)


# ---- slogdet and logdet -------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", sorted(SINGULAR))
def test_slogdet_and_logdet_at_a_singular_matrix_match_torchs_infs_and_nans(name, dt):
    for ours, theirs in ((lambda x: gv.linalg.slogdet(x), lambda x: torch.linalg.slogdet(x)),
                         (lambda x: x.slogdet(), lambda x: x.slogdet()),
                         (lambda x: (x.logdet(),), lambda x: (x.logdet(),)),
                         (lambda x: (gv.logdet(x),), lambda x: (torch.logdet(x),))):
        g, t = _pair(SINGULAR[name], dt)
        go, to = ours(g), theirs(t)
        for a, b in zip(go, to):
            _same(a, b)
        go[-1].backward()
        to[-1].backward()
        _same(g.grad, t.grad, 1e-5 if dt == "float32" else 1e-10)


def test_slogdet_of_a_batch_with_singular_and_negative_matrices():
    a = np.stack([np.asarray(SINGULAR["rank1_3x3"]), np.asarray(SINGULAR["rank2_3x3"]),
                  np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]),
                  np.diag([1.0, 2.0, 3.0]) + 0.2])
    g, t = _pair(a)
    sg, lg = gv.linalg.slogdet(g)
    st, lt = torch.linalg.slogdet(t)
    _same(sg, st)
    _same(lg, lt)
    (lg * gv.tensor([1.0, 2.0, 3.0, 4.0], dtype=gv.float64)).sum().backward()
    (lt * torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)).sum().backward()
    _same(g.grad, t.grad)


@pytest.mark.parametrize("dt", DTYPES)
def test_logdet_of_a_negative_determinant_is_nan_with_zero_gradient(dt):
    a = [[1.0, 2.0, 0.5], [3.0, 1.0, 0.0], [0.0, 0.5, 2.0]]   # det < 0
    g, t = _pair(a, dt)
    y, yt = g.logdet(), torch.logdet(t)
    _same(y, yt)
    assert np.isnan(y.item())
    y.backward()
    yt.backward()
    _same(g.grad, t.grad)
    g, t = _pair(a, dt)
    gv.linalg.slogdet(g).logabsdet.backward()
    torch.linalg.slogdet(t).logabsdet.backward()
    _same(g.grad, t.grad, 1e-5 if dt == "float32" else 1e-10)
    _fd(lambda x: gv.linalg.slogdet(x).logabsdet, a)


def test_slogdet_singular_gradient_on_the_fake_device(monkeypatch):
    fake_cupy.install(monkeypatch)
    a = np.stack([np.asarray(SINGULAR["rank1_3x3"]), np.diag([1.0, 2.0, 3.0])])
    x = gv.tensor(a, device="cuda", requires_grad=True)
    gv.linalg.slogdet(x).logabsdet.sum().backward()
    y = gv.tensor(a, device="cuda", requires_grad=True)
    gv.linalg.det(y).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    torch.linalg.slogdet(t).logabsdet.sum().backward()
    assert x.grad.device.type == "cuda" and type(x.grad._data) is not np.ndarray
    _same(x.grad.cpu(), t.grad)
    t2 = torch.tensor(a, requires_grad=True)
    theirs, = torch.autograd.grad(torch.linalg.det(t2).sum(), t2, create_graph=True)
    _same(y.grad.cpu(), theirs, 1e-12)


# ---- cumprod and prod -----------------------------------------------------------------------
INF = float("inf")
RUNS = [[1.0, 2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 0.0],
        [1.0, 0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [2.0, INF, 3.0, 0.0, 1.0],
        [2.0, -INF, 3.0, 4.0], [INF, 0.0, 2.0], [0.0, INF, 2.0, 3.0], [1.0, 2.0, INF]]


def _weighted(y, lib, n):
    w = np.linspace(0.5, 1.5, n).reshape(tuple(y.shape))
    return (y * lib.tensor(w, dtype=lib.float64)).sum()


@pytest.mark.parametrize("x", RUNS, ids=str)
def test_cumprod_gradient_with_zeros_and_infs_matches_torch(x):
    for dim in (0, 1):
        a = np.tile(np.asarray(x)[:, None], (1, 2)) if dim == 0 else np.tile(x, (2, 1))
        g, t = _pair(a)
        _weighted(g.cumprod(dim), gv, a.size).backward()
        _weighted(t.cumprod(dim), torch, a.size).backward()
        _same(g.grad, t.grad)
        if np.all(np.isfinite(a)):
            _fd(lambda z, d=dim: z.cumprod(d) * gv.tensor(np.linspace(1, 2, a.size).reshape(
                a.shape)), a)


@pytest.mark.parametrize("x", [r for r in RUNS if np.all(np.isfinite(r))], ids=str)
def test_cumprod_double_backward_with_zeros_matches_torch(x):
    g, t = _pair(x)
    gg, = gv.autograd.grad(_weighted(g.cumprod(0), gv, len(x)), g, create_graph=True)
    tg, = torch.autograd.grad(_weighted(t.cumprod(0), torch, len(x)), t, create_graph=True)
    _same(gg, tg)
    h, = gv.autograd.grad((gg * gg).sum(), g)
    ht, = torch.autograd.grad((tg * tg).sum(), t)
    _same(h, ht)


@pytest.mark.parametrize("x", RUNS, ids=str)
def test_prod_gradient_with_zeros_and_infs_matches_torch(x):
    for ours, theirs in ((lambda z: z.prod(), lambda z: z.prod()),
                         (lambda z: z.prod(0), lambda z: z.prod(0)),
                         (lambda z: gv.prod(z.reshape(1, -1), 1, keepdim=True),
                          lambda z: torch.prod(z.reshape(1, -1), 1, keepdim=True))):
        g, t = _pair(x)
        (ours(g) * 1.5).sum().backward()
        (theirs(t) * 1.5).sum().backward()
        _same(g.grad, t.grad)
        if np.all(np.isfinite(x)):
            _fd(ours, x)


def test_prod_dim_with_zeros_in_some_rows_only_matches_torch():
    a = np.array([[1.0, 0.0, 2.0], [3.0, INF, 2.0], [0.0, 0.0, 5.0]])
    for dim in (0, 1):
        g, t = _pair(a)
        g.prod(dim).sum().backward()
        t.prod(dim).sum().backward()
        _same(g.grad, t.grad)
