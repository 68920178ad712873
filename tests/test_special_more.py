"""gv.special's Bessel family, erfcx, zeta, incomplete gamma, polygamma and orthogonal
polynomials against torch.special: values in float64 and float32 (edges: 0, negative, large,
inf), 0-d and broadcasting, gradients exactly where torch has them, no SciPy, fake CuPy."""
import sys

import numpy as np
import pytest
import torch

import fake_cupy
import gradviz as gv
import gradviz.special as S

EDGE = np.array([-np.inf, -800.0, -50.0, -3.3, -1.0, -1e-30, 0.0, 1e-30, 0.5, 1.0, 3.3, 20.0,
                 50.0, 100.0, 700.0, 800.0, 1e5, 1e20, np.inf, np.nan])
MODERATE = np.array([-20.0, -3.3, -1.0, -0.2, 0.0, 0.2, 0.5, 1.0, 3.3, 8.0, 20.0, 60.0])
UNARY = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
         "erfcx", "i0e", "i1", "i1e"]
WITH_GRAD = ["erfcx", "i0e", "i1", "i1e"]
POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


def _same(g, t, rtol, atol=0.0):
    """gv result against torch's: dtype, shape, requires_grad and values (NaN where NaN)."""
    assert g.dtype.name == str(t.dtype).replace("torch.", "")
    assert tuple(g.shape) == tuple(t.shape)
    assert g.requires_grad == t.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol,
                               equal_nan=True)


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_like_torch(name):
    # torch's own Bessel kernels are good to ~1e-10 relative near their zeros (SciPy's are
    # better), so float64 is compared to 1e-9, with zeros of the function given an atol
    _same(getattr(S, name)(gv.tensor(EDGE)), getattr(torch.special, name)(torch.tensor(EDGE)),
          1e-9, 1e-12)
    _same(getattr(S, name)(gv.tensor(MODERATE, dtype=gv.float32)),
          getattr(torch.special, name)(torch.tensor(MODERATE, dtype=torch.float32)), 1e-5, 1e-6)
    _same(getattr(S, name)(gv.tensor(0.5)), getattr(torch.special, name)(torch.tensor(0.5)),
          1e-6)
    _same(getattr(S, name)(gv.tensor([1, 2])), getattr(torch.special, name)(torch.tensor([1, 2])),
          1e-6)   # ints: float32, as torch


@pytest.mark.parametrize("name", sorted(set(UNARY) - set(WITH_GRAD)))
def test_no_gradient_where_torch_has_none(name):
    """torch's output never requires grad here; gv's neither, and backward says so."""
    g = gv.tensor([0.5, 2.0], requires_grad=True)
    t = torch.tensor([0.5, 2.0], requires_grad=True)
    yg, yt = getattr(S, name)(g), getattr(torch.special, name)(t)
    assert yg.requires_grad is yt.requires_grad is False
    with pytest.raises(gv.errors.BackwardError, match="does not require grad"):
        yg.sum().backward()


@pytest.mark.parametrize("name", WITH_GRAD)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradients_like_torch(name, dtype):
    x = np.array([-30.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.7, 2.0, 10.0, 30.0, 700.0])
    g = gv.tensor(x, dtype=getattr(gv, dtype), requires_grad=True)
    t = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    yg, yt = getattr(S, name)(g), getattr(torch.special, name)(t)
    tol = 1e-12 if dtype == "float64" else 1e-5
    _same(yg, yt, tol, tol)
    w = np.linspace(-1, 1, x.size)
    yg.backward(gv.tensor(w, dtype=yg.dtype))
    yt.backward(torch.tensor(w, dtype=yt.dtype))
    _same(g.grad, t.grad, tol, tol)
    assert yg.grad_fn.name() == type(yt.grad_fn).__name__


def test_zeta_broadcasts_and_differentiates_in_q_only():
    x = np.array([[1.0], [1.5], [2.0], [3.0], [0.5], [20.0]])
    q = np.array([1.0, 2.0, 0.5, -1.0, -1.5, 0.0, 3.0])
    _same(S.zeta(gv.tensor(x), gv.tensor(q)), torch.special.zeta(torch.tensor(x),
                                                                  torch.tensor(q)), 1e-12)
    _same(S.zeta(2.0, gv.tensor(q, dtype=gv.float32)),
          torch.special.zeta(2.0, torch.tensor(q, dtype=torch.float32)), 1e-6)
    _same(S.zeta(gv.tensor(x[:, 0]), 2), torch.special.zeta(torch.tensor(x[:, 0]), 2), 1e-12)
    _same(S.zeta(gv.tensor(3), gv.tensor(2)), torch.special.zeta(torch.tensor(3),
                                                                 torch.tensor(2)), 1e-6)
    xs, qs = np.array([[2.0], [3.5]]), np.array([0.5, 1.0, 4.0])
    g, t = gv.tensor(qs, requires_grad=True), torch.tensor(qs, requires_grad=True)
    S.zeta(gv.tensor(xs), g).sum().backward()
    torch.special.zeta(torch.tensor(xs), t).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    with pytest.raises(gv.errors.BackwardError, match="derivative for 'zeta' is not impl"):
        S.zeta(gv.tensor(xs, requires_grad=True), g).sum().backward()


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_like_torch(name):
    a = np.array([[0.5], [1.0], [3.0]])
    x = np.array([0.0, 0.2, 1.0, 4.0, 30.0])
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg = getattr(S, name)(gv.tensor(a), g)
    yt = getattr(torch.special, name)(torch.tensor(a), t)
    _same(yg, yt, 1e-12, 1e-15)
    yg.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    with pytest.raises(gv.errors.BackwardError, match="derivative for 'igamma"):
        getattr(S, name)(gv.tensor(a, requires_grad=True), g).sum().backward()


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_like_torch(n):
    x = np.array([0.1, 0.5, 1.0, 2.5, 10.0, -0.5])
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg, yt = S.polygamma(n, g), torch.special.polygamma(n, t)
    _same(yg, yt, 1e-8)   # torch's trigamma is good to ~5e-10 relative (SciPy's to 1e-16)
    yg.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-8)


def _poly_grid():
    xs = np.concatenate([np.random.default_rng(0).uniform(-1.2, 1.2, 60),
                         [-1, 1, 0, 0.5, -0.5, 2, -2, np.inf, -np.inf, 1e-20, 3.7, -10]])
    ns = np.concatenate([np.arange(-2, 30), [2.7, -0.5, np.nan, np.inf, -np.inf, 40.0]])
    return [a.ravel() for a in np.meshgrid(xs, ns)]


@pytest.mark.parametrize("name", POLYS)
def test_polynomials_like_torch(name):
    """torch's recurrences and shortcuts (|x| = 1, cos(n acos x) at high degree), n cast to an
    integer (2.7 is 2, NaN and inf give 0 as n < 0 does)."""
    fg, ft = getattr(S, name), getattr(torch.special, name)
    x, n = _poly_grid()
    _same(fg(gv.tensor(x), gv.tensor(n)), ft(torch.tensor(x), torch.tensor(n)), 1e-9, 1e-9)
    small = np.abs(x) < 3   # no float32 cancellation contest at high degree and large x
    x32, n32 = x[small & (n < 12)], n[small & (n < 12)]
    _same(fg(gv.tensor(x32, dtype=gv.float32), gv.tensor(n32, dtype=gv.float32)),
          ft(torch.tensor(x32, dtype=torch.float32), torch.tensor(n32, dtype=torch.float32)),
          1e-4, 1e-4)
    xb, nb = np.linspace(-1.5, 1.5, 12).reshape(3, 1, 4), np.arange(5).reshape(5, 1)
    _same(fg(gv.tensor(xb), gv.tensor(nb)), ft(torch.tensor(xb), torch.tensor(nb)), 1e-12, 1e-12)
    _same(fg(gv.tensor(xb, dtype=gv.float32), 3), ft(torch.tensor(xb, dtype=torch.float32), 3),
          1e-5, 1e-5)
    _same(fg(0.3, gv.tensor(nb)), ft(0.3, torch.tensor(nb)), 1e-6, 1e-6)
    _same(fg(gv.tensor(0.25), gv.tensor(4)), ft(torch.tensor(0.25), torch.tensor(4)), 1e-6)
    g = gv.tensor(xb, requires_grad=True)
    assert not fg(g, 2).requires_grad   # torch gives no gradient either


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "shifted_chebyshev_polynomial_w",
                                  "hermite_polynomial_h", "hermite_polynomial_he"])
def test_huge_degree_outside_the_interval_is_nan_at_once(name):
    """Past overflow the recurrence is NaN (as torch): gv stops there, not after 1e12 steps."""
    x, n = np.array([2.0, -3.0, 5.0]), np.array([1e9, 1e12, 3.0])
    _same(getattr(S, name)(gv.tensor(x), gv.tensor(n)),
          getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)), 1e-12)


def test_without_scipy_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)   # ``import scipy`` raises ImportError
    for name in ("i0e", "bessel_j0", "airy_ai"):
        with pytest.raises(gv.errors.GradvizError, match="needs SciPy for"):
            getattr(S, name)(gv.tensor([1.0]))
    with pytest.raises(gv.errors.GradvizError, match="needs SciPy for zeta"):
        S.zeta(gv.tensor([2.0]), gv.tensor([1.0]))
    # the polynomials and sin(x)/x need no SciPy
    assert S.legendre_polynomial_p(gv.tensor([0.5]), 2).tolist() == [-0.125]
    assert S.spherical_bessel_j0(gv.tensor([0.0])).tolist() == [1.0]


def test_on_fake_cupy(monkeypatch):
    x = np.array([-3.0, -0.5, 0.0, 0.2, 3.0])
    host = {n: getattr(S, n)(gv.tensor(x)).numpy() for n in UNARY}
    polys = {n: getattr(S, n)(gv.tensor(x), gv.tensor([0, 1, 2, 5, 11.0])).numpy()
             for n in POLYS}
    fake_cupy.install(monkeypatch)
    d = gv.tensor(x, device="cuda", requires_grad=True)
    for name, want in host.items():
        y = getattr(S, name)(d)
        assert y.device.type == "cuda"
        np.testing.assert_allclose(y.detach().cpu().numpy(), want, rtol=1e-12)
    for name, want in polys.items():
        y = getattr(S, name)(d, gv.tensor([0, 1, 2, 5, 11.0], device="cuda"))
        np.testing.assert_allclose(y.cpu().numpy(), want, rtol=1e-12)
    loss = sum(getattr(S, n)(d).sum() for n in WITH_GRAD) + S.zeta(2.0, d.abs() + 1).sum()
    loss.backward()
    assert d.grad.device.type == "cuda"
