"""gv.distributions against torch.distributions: densities, moments, cdf/icdf, entropy, KL
and their gradients in float64; reparameterised rsample; sample shapes and statistics;
argument checks; one run on the fake CuPy."""
import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import fake_cupy
import gradviz as gv
import gradviz.distributions as D

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, (2, 3))
B = RNG.uniform(0.5, 2.0, (2, 3))
X = RNG.uniform(0.1, 0.9, (4, 2, 3))
K = RNG.uniform(0.1, 1.0, (2, 4))
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])
COV2 = np.array([[1.0, -0.4, 0.0], [-0.4, 2.0, 0.5], [0.0, 0.5, 1.0]])


def _pair(*arrays):
    g = [gv.tensor(a, dtype=gv.float64, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return g, t


def _close(a, b, tol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def _same_with_grads(out_g, out_t, params_g, params_t):
    _close(out_g, out_t)
    gg = gv.autograd.grad(out_g.sum(), params_g, allow_unused=True, retain_graph=True)
    gt = torch.autograd.grad(out_t.sum(), params_t, allow_unused=True, retain_graph=True)
    for a, b in zip(gg, gt):
        if b is not None:
            _close(a, b)


CASES = {   # name: (param arrays, kwargs names, value for log_prob)
    "Normal": ((A - 1, B), ("loc", "scale"), X * 3 - 1),
    "Laplace": ((A - 1, B), ("loc", "scale"), X * 3 - 1),
    "Uniform": ((A - 1.5, A), ("low", "high"), A - 1.5 + X * 1.4),
    "Exponential": ((A,), ("rate",), X * 3),
    "Gamma": ((A, B), ("concentration", "rate"), X * 3),
    "Beta": ((A, B), ("concentration1", "concentration0"), X),
    "Poisson": ((A * 2,), ("rate",), np.floor(X * 8)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_continuous_like_torch(name):
    arrays, names, value = CASES[name]
    pg, pt = _pair(*arrays)
    g = getattr(D, name)(**dict(zip(names, pg)))
    t = getattr(TD, name)(**dict(zip(names, pt)))
    assert g.batch_shape == tuple(t.batch_shape) and g.event_shape == tuple(t.event_shape)
    _same_with_grads(g.log_prob(gv.tensor(value)), t.log_prob(torch.tensor(value)), pg, pt)
    for prop in ("mean", "variance", "stddev", "mode"):
        _close(getattr(g, prop), getattr(t, prop))
    if name != "Poisson":
        _same_with_grads(g.entropy(), t.entropy(), pg, pt)
    if name in ("Normal", "Laplace", "Uniform", "Exponential"):
        _same_with_grads(g.cdf(gv.tensor(value)), t.cdf(torch.tensor(value)), pg, pt)
        _same_with_grads(g.icdf(gv.tensor(X)), t.icdf(torch.tensor(X)), pg, pt)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shape_dtype_and_mean(name):
    arrays, names, _ = CASES[name]
    gv.manual_seed(0)
    d = getattr(D, name)(*[gv.tensor(a, dtype=gv.float32) for a in arrays])
    s = d.sample((4000,))
    assert s.shape == (4000, 2, 3) and s.dtype == gv.float32
    se = d.stddev.numpy() / math.sqrt(4000)
    assert np.all(np.abs(s.mean(0).numpy() - d.mean.numpy()) < 5 * se)
    assert d.sample().shape == (2, 3)


def test_binary_and_categorical_like_torch():
    for kw in ("probs", "logits"):
        p = K[:, :1] if kw == "probs" else K[:, :1] * 4 - 2
        (pg,), (pt,) = _pair(p)
        g, t = D.Bernoulli(**{kw: pg}), TD.Bernoulli(**{kw: pt})
        v = (X[:, :, :1] > 0.5) * 1.0
        _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), [pg], [pt])
        _same_with_grads(g.entropy(), t.entropy(), [pg], [pt])
        n = np.array([[3.0], [5.0]])
        g, t = D.Binomial(gv.tensor(n), **{kw: pg}), TD.Binomial(torch.tensor(n), **{kw: pt})
        v = np.array([[0.0, 2.0, 3.0], [5.0, 1.0, 4.0]])
        _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), [pg], [pt])
        for prop in ("mean", "variance", "mode"):
            _close(getattr(g, prop), getattr(t, prop))
        pk = K if kw == "probs" else K * 3
        (pg,), (pt,) = _pair(pk)
        g, t = D.Categorical(**{kw: pg}), TD.Categorical(**{kw: pt})
        v = np.array([[0, 3], [2, 1], [1, 1]])
        _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), [pg], [pt])
        _same_with_grads(g.entropy(), t.entropy(), [pg], [pt])
        assert g.mode.tolist() == t.mode.tolist()
        g, t = D.OneHotCategorical(**{kw: pg}), TD.OneHotCategorical(**{kw: pt})
        oh = np.eye(4)[[1, 3]]
        _same_with_grads(g.log_prob(gv.tensor(oh)), t.log_prob(torch.tensor(oh)), [pg], [pt])
        _close(g.entropy(), t.entropy())
        _close(g.variance, t.variance)


def test_discrete_samples():
    gv.manual_seed(1)
    cat = D.Categorical(probs=gv.tensor([0.2, 0.5, 0.3]))
    s = cat.sample((6000,))
    assert s.dtype == gv.int64 and s.shape == (6000,)
    freq = np.bincount(s.numpy(), minlength=3) / 6000
    assert np.all(np.abs(freq - [0.2, 0.5, 0.3]) < 0.03)
    oh = D.OneHotCategorical(logits=gv.zeros(2, 5)).sample((7,))
    assert oh.shape == (7, 2, 5) and np.all(oh.numpy().sum(-1) == 1)
    b = D.Bernoulli(probs=gv.tensor([0.1, 0.9])).sample((5000,))
    assert set(np.unique(b.numpy())) <= {0.0, 1.0}
    assert np.all(np.abs(b.numpy().mean(0) - [0.1, 0.9]) < 0.03)
    n = D.Binomial(10, probs=gv.tensor([0.3])).sample((4000,))
    assert abs(n.numpy().mean() - 3.0) < 5 * math.sqrt(2.1 / 4000)
    assert cat.enumerate_support().tolist() == [0, 1, 2]


def test_rsample_is_reparameterised():
    """d/dloc of rsample().sum() is 1 per draw and d/dscale is the noise eps, as in torch."""
    gv.manual_seed(3)
    loc = gv.tensor([0.5, -1.0], dtype=gv.float64, requires_grad=True)
    scale = gv.tensor([2.0, 0.5], dtype=gv.float64, requires_grad=True)
    x = D.Normal(loc, scale).rsample((5,))
    eps = ((x - loc) / scale).detach()
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.numpy().sum(0))
    tl = torch.tensor(loc.detach().numpy(), requires_grad=True)
    ts = torch.tensor(scale.detach().numpy(), requires_grad=True)
    (tl + torch.tensor(eps.numpy()) * ts).sum().backward()   # torch's rsample, same noise
    np.testing.assert_allclose(scale.grad.numpy(), ts.grad.numpy())
    for d in (D.Uniform(loc, loc + scale), D.Exponential(scale), D.Laplace(loc, scale)):
        loc.grad = scale.grad = None
        d.rsample((3,)).sum().backward()
        assert scale.grad is not None and d.has_rsample
    assert D.Gamma(scale, scale).has_rsample and not D.Gamma(scale, 1.0).sample().requires_grad


def test_multivariate_normal_like_torch():
    (loc, cov), (tloc, tcov) = _pair(np.array([[0.1, -0.3, 1.0], [0.0, 0.5, 0.2]]), COV)
    v = X[:, 0, :] * 2 - 1
    g, t = D.MultivariateNormal(loc, covariance_matrix=cov), TD.MultivariateNormal(
        tloc, covariance_matrix=tcov)
    assert g.batch_shape == (2,) and g.event_shape == (3,)
    lg, lt = g.log_prob(gv.tensor(v[:, None])), t.log_prob(torch.tensor(v[:, None]))
    _same_with_grads(lg, lt, [loc, cov], [tloc, tcov])
    _same_with_grads(g.entropy(), t.entropy(), [loc, cov], [tloc, tcov])
    _close(g.variance, t.variance)
    _close(g.scale_tril, t.scale_tril)
    (low,), (tlow,) = _pair(np.linalg.cholesky(COV2))
    g2, t2 = D.MultivariateNormal(loc, scale_tril=low), TD.MultivariateNormal(tloc,
                                                                               scale_tril=tlow)
    _close(g2.covariance_matrix, t2.covariance_matrix)
    _same_with_grads(D.kl_divergence(g, g2), TD.kl_divergence(t, t2), [loc, cov, low],
                     [tloc, tcov, tlow])
    gv.manual_seed(2)
    s = D.MultivariateNormal(gv.zeros(3), covariance_matrix=gv.tensor(COV)).sample((20000,))
    assert s.shape == (20000, 3)
    np.testing.assert_allclose(np.cov(s.numpy().T), COV, atol=0.08)
    x = g2.rsample((4,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), np.full((2, 3), 4.0))
    assert low.grad is not None


def test_independent_and_expand():
    (loc, scale), (tloc, tscale) = _pair(A, B)
    g, t = D.Independent(D.Normal(loc, scale), 1), TD.Independent(TD.Normal(tloc, tscale), 1)
    assert g.batch_shape == (2,) and g.event_shape == (3,)
    _same_with_grads(g.log_prob(gv.tensor(X)), t.log_prob(torch.tensor(X)), [loc, scale],
                     [tloc, tscale])
    _close(g.entropy(), t.entropy())
    assert g.rsample((5,)).shape == (5, 2, 3)
    e = D.Normal(gv.tensor(0.0), gv.tensor(1.0)).expand((4, 2))
    assert e.batch_shape == (4, 2) and e.sample().shape == (4, 2)
    assert g.expand((7, 2)).batch_shape == (7, 2)


def test_kl_like_torch():
    (a, b, c, d), (ta, tb, tc, td) = _pair(A - 1, B, A, B * 0.5)
    pairs = [((D.Normal(a, b), D.Normal(c, d)), (TD.Normal(ta, tb), TD.Normal(tc, td))),
             ((D.Uniform(a, a + 3), D.Uniform(a - 1, a + 4)),
              (TD.Uniform(ta, ta + 3), TD.Uniform(ta - 1, ta + 4))),
             ((D.Bernoulli(logits=a), D.Bernoulli(logits=c)),
              (TD.Bernoulli(logits=ta), TD.Bernoulli(logits=tc))),
             ((D.Categorical(logits=a), D.Categorical(probs=b)),
              (TD.Categorical(logits=ta), TD.Categorical(probs=tb)))]
    for (gp, gq), (tp, tq) in pairs:
        _same_with_grads(D.kl_divergence(gp, gq), TD.kl_divergence(tp, tq), [a, b, c, d],
                         [ta, tb, tc, td])
    out = D.kl_divergence(D.Uniform(a, a + 1), D.Uniform(a + 0.5, a + 3))
    assert np.all(np.isinf(out.detach().numpy()))
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(a, b), D.Poisson(b))   # torch registers no such pair

    class MyNormal(D.Normal):
        pass
    _close(D.kl_divergence(MyNormal(a, b), D.Normal(c, d)), TD.kl_divergence(
        TD.Normal(ta, tb), TD.Normal(tc, td)))


def test_validate_args():
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(0.0, gv.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.Bernoulli(probs=gv.tensor([1.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical(probs=gv.ones(3), logits=gv.ones(3))
    with pytest.raises(ValueError, match="within the support"):
        D.Exponential(gv.tensor([1.0])).log_prob(gv.tensor([-1.0]))
    with pytest.raises(ValueError, match="within the support"):
        D.Poisson(gv.tensor([1.0])).log_prob(gv.tensor([0.5]))
    with pytest.raises(ValueError, match="Expected parameter low"):
        D.Uniform(gv.tensor([2.0]), gv.tensor([1.0]))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.MultivariateNormal(gv.zeros(2), covariance_matrix=gv.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="right-most size"):
        D.MultivariateNormal(gv.zeros(2), scale_tril=gv.eye(2)).log_prob(gv.zeros(3))
    out = D.Normal(0.0, gv.tensor([-1.0]), validate_args=False).log_prob(gv.tensor([0.0]))
    assert np.isnan(out.numpy()).all()
    assert "Normal(loc: 0.0" in repr(D.Normal(0.0, 1.0))


def test_on_fake_cupy(monkeypatch):
    fake_cupy.install(monkeypatch)
    gv.manual_seed(0)
    loc = gv.tensor([0.0, 1.0], device="cuda", requires_grad=True)
    scale = gv.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    dists = [D.Normal(loc, scale), D.Uniform(loc, loc + scale), D.Exponential(scale),
             D.Laplace(loc, scale), D.Gamma(scale, scale), D.Beta(scale, scale),
             D.Poisson(scale), D.Bernoulli(logits=loc), D.Binomial(3, logits=loc),
             D.Categorical(logits=loc), D.OneHotCategorical(logits=loc),
             D.MultivariateNormal(loc, covariance_matrix=gv.eye(2, device="cuda") * 2)]
    for d in dists:
        s = d.sample((3,))
        assert s.device.type == "cuda", type(d).__name__
        d.log_prob(s).sum().backward()
    x = D.Normal(loc, scale).rsample()
    assert x.device.type == "cuda"
    kl = D.kl_divergence(dists[-1], D.MultivariateNormal(loc, scale_tril=gv.eye(2,
                                                                               device="cuda")))
    kl.backward()
    assert loc.grad.device.type == "cuda"


def test_reachable_as_gv_attributes_like_torch_submodules():
    """``gv.distributions`` / ``gv.special`` / ``gv.func`` with no import of their own (a
    fresh process)."""
    import subprocess
    import sys
    code = ("import gradviz as gv; gv.distributions.Normal(0.0, 1.0); "
            "assert gv.func.grad(lambda x: (x * x).sum())(gv.ones(2)).tolist() == [2.0, 2.0]; "
            "print(gv.special.expit(gv.tensor(0.0)).item())")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "0.5", p.stderr


def test_multivariate_normal_from_a_precision_matrix_as_torch():
    rng = np.random.default_rng(4)
    b = rng.standard_normal((2, 3, 3))
    prec, loc, x = b @ b.transpose(0, 2, 1) + 3 * np.eye(3), rng.standard_normal(3), \
        rng.standard_normal((2, 3))
    out = []
    for lib, dist in ((gv, D), (torch, torch.distributions)):
        p = lib.tensor(prec, requires_grad=True)
        m = dist.MultivariateNormal(lib.tensor(loc), precision_matrix=p)
        lp = m.log_prob(lib.tensor(x))
        lp.sum().backward()
        out.append([t.detach().numpy() for t in (lp, m.entropy(), m.covariance_matrix,
                                                 m.precision_matrix, m.scale_tril, p.grad)])
    for g, t in zip(*out):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(gv.zeros(3), covariance_matrix=gv.eye(3), precision_matrix=gv.eye(3))
