"""gv.special against torch.special: values and gradients in float64, tails, and one run on
the fake CuPy."""
import numpy as np
import pytest
import torch

import fake_cupy
import gradviz as gv
import gradviz.special as S

X = np.array([-40.0, -25.0, -19.5, -5.0, -0.5, 0.0, 0.3, 2.0, 7.0, 30.0])
POS = np.array([0.01, 0.3, 1.0, 2.5, 7.0, 30.0])
UNIT = np.array([0.001, 0.2, 0.5, 0.9, 0.999])
UNARY = [("expit", X), ("erf", X), ("erfc", X), ("ndtr", X), ("log_ndtr", X), ("i0", X),
         ("sinc", X), ("expm1", X), ("exp2", X), ("log1p", POS), ("gammaln", POS),
         ("digamma", POS), ("psi", POS), ("entr", POS), ("logit", UNIT), ("erfinv", UNIT * 2 - 1),
         ("ndtri", UNIT), ("round", X * 1.3)]


def _check(fn_g, fn_t, *arrays, tol=1e-9):
    g = [gv.tensor(a, dtype=gv.float64, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    yg, yt = fn_g(*g), fn_t(*t)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    if not yt.requires_grad:
        return
    yg.sum().backward()
    yt.sum().backward()
    for a, b in zip(g, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name,x", UNARY, ids=[n for n, _ in UNARY])
def test_unary_like_torch(name, x):
    _check(getattr(S, name), getattr(torch.special, name), x)


def test_reductions_and_binary_like_torch():
    a = np.random.default_rng(0).normal(size=(3, 4))
    for name in ("logsumexp", "softmax", "log_softmax"):
        _check(lambda t, n=name: getattr(S, n)(t, 1), lambda t, n=name: getattr(
            torch.special, n)(t, 1), a)
    y = np.array([[0.0, 0.5, 2.0, -1.0]])
    x = np.array([[0.0, 1.5, -2.0, 3.0]])
    _check(S.xlogy, torch.special.xlogy, x, np.abs(y) + 0.1)
    _check(S.xlog1py, torch.special.xlog1py, x, y * 0.9)
    np.testing.assert_array_equal(S.xlogy(0.0, gv.tensor([0.0])).numpy(), [0.0])
    np.testing.assert_array_equal(S.xlog1py(gv.tensor([0.0]), gv.tensor([-1.0])).numpy(), [0.0])
    _check(lambda t: S.multigammaln(t, 3), lambda t: torch.special.multigammaln(t, 3),
           POS[2:] + 1)
    with pytest.raises(ValueError, match="greater than"):
        S.multigammaln(gv.tensor([0.5]), 3)


def test_tails_and_float32():
    assert np.isfinite(S.log_ndtr(gv.tensor([-50.0])).item())
    np.testing.assert_allclose(S.log_ndtr(gv.tensor([-50.0, 3.0])).numpy(),
                               torch.special.log_ndtr(torch.tensor([-50.0, 3.0])).numpy(),
                               rtol=1e-6)
    assert S.erfc(gv.tensor([10.0], dtype=gv.float64)).item() == pytest.approx(2.088487583e-45)
    assert S.entr(gv.tensor([-1.0, 0.0])).tolist() == [-np.inf, 0.0]
    assert S.log_expit(gv.tensor([-200.0])).item() == pytest.approx(-200.0)


@pytest.mark.parametrize("shape", [(), (5,)])
def test_without_scipy_erfc_and_erfinv_fall_back_and_i0_grad_says_why(monkeypatch, shape):
    """SciPy is not a gradviz dependency: erfc/erfinv compute per element without it (the
    same values), i0's gradient (i1) refuses with a clear error."""
    import sys
    monkeypatch.setitem(sys.modules, "scipy", None)   # ``import scipy`` raises ImportError
    x = np.resize(np.array([-3.0, -0.2, 0.0, 0.7, 12.0]), shape)
    _check(S.erfc, torch.special.erfc, x)
    _check(S.erfinv, torch.special.erfinv, np.tanh(x))
    t = gv.tensor(x, requires_grad=True)
    with pytest.raises(gv.errors.GradvizError, match="needs SciPy for i1"):
        S.i0(t).sum().backward()


def test_on_fake_cupy(monkeypatch):
    fake_cupy.install(monkeypatch)
    x = gv.tensor([-30.0, -0.5, 0.2, 3.0], device="cuda", requires_grad=True)
    y = (S.log_ndtr(x) + S.erfc(x) + S.i0(x) + S.xlog1py(x, x.abs()) + S.entr(x.abs())
         + S.erfinv(x.tanh())).sum()
    y.backward()
    assert y.device.type == "cuda" and x.grad.device.type == "cuda"
