"""gv.distributions' transforms, TransformedDistribution and the further families (LogNormal,
Gumbel, HalfNormal, HalfCauchy, Cauchy, StudentT, Chi2, Geometric, Dirichlet, Multinomial,
MixtureSameFamily) and KL pairs against torch.distributions in float64: values, moments,
cdf/icdf, entropy and their gradients, reparameterised rsample, sample shapes, argument checks."""
import math

import numpy as np
import pytest
import torch
import torch.distributions as TD
import torch.distributions.transforms as TT

import gradviz as gv
import gradviz.distributions as D
import gradviz.distributions.transforms as GT

RNG = np.random.default_rng(1)
A = RNG.uniform(0.5, 2.0, (2, 3))
B = RNG.uniform(0.5, 2.0, (2, 3))
X = RNG.uniform(0.1, 0.9, (4, 2, 3))
SIMPLEX = RNG.dirichlet(np.ones(3), (4, 2))


def _pair(*arrays):
    g = [gv.tensor(a, dtype=gv.float64, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return g, t


def _close(a, b, tol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def _same_with_grads(out_g, out_t, params_g, params_t, tol=1e-9):
    _close(out_g, out_t, tol)
    if not out_t.requires_grad:   # a constant (a log-det of fixed numbers)
        return
    gg = gv.autograd.grad(out_g.sum(), params_g, allow_unused=True, retain_graph=True)
    gt = torch.autograd.grad(out_t.sum(), params_t, allow_unused=True, retain_graph=True)
    for a, b in zip(gg, gt):
        if b is not None:
            assert a is not None
            _close(a, b, tol)


CASES = {   # name: (param arrays, value for log_prob, has cdf/icdf)
    "LogNormal": ((A - 1, B), X * 3, True),
    "Gumbel": ((A - 1, B), X * 3 - 1, True),
    "HalfNormal": ((B,), X * 3, True),
    "HalfCauchy": ((B,), X * 3, True),
    "Cauchy": ((A - 1, B), X * 3 - 1, True),
    "StudentT": ((A * 2, A - 1, B), X * 3 - 1, False),
    "Chi2": ((A * 2,), X * 3, False),
    "Geometric": ((X[0],), np.floor(X * 8), False),
}


def _make(lib, name, params):
    return getattr(D if lib is gv else TD, name)(*params)


@pytest.mark.parametrize("name", sorted(CASES))
def test_family_like_torch(name):
    arrays, value, has_cdf = CASES[name]
    pg, pt = _pair(*arrays)
    g, t = _make(gv, name, pg), _make(torch, name, pt)
    assert g.batch_shape == tuple(t.batch_shape) and g.event_shape == tuple(t.event_shape)
    assert g.has_rsample == t.has_rsample
    _same_with_grads(g.log_prob(gv.tensor(value)), t.log_prob(torch.tensor(value)), pg, pt)
    _same_with_grads(g.entropy(), t.entropy(), pg, pt)
    for prop in ("mean", "variance", "stddev", "mode"):
        _close(getattr(g, prop), getattr(t, prop))
    if has_cdf:
        _same_with_grads(g.cdf(gv.tensor(value)), t.cdf(torch.tensor(value)), pg, pt)
        _same_with_grads(g.icdf(gv.tensor(X)), t.icdf(torch.tensor(X)), pg, pt)


@pytest.mark.parametrize("name", ["LogNormal", "Gumbel", "HalfNormal", "HalfCauchy", "Cauchy"])
def test_rsample_gradient_is_torchs_reparameterisation(name):
    """Each rsample is a monotone map of fixed noise u, so its gradient is torch's gradient of
    icdf(u) at u = cdf(sample)."""
    arrays = CASES[name][0]
    pg, pt = _pair(*arrays)
    g, t = _make(gv, name, pg), _make(torch, name, pt)
    gv.manual_seed(5)
    x = g.rsample((7,))
    assert x.shape == (7, 2, 3) and x.requires_grad
    u = t.cdf(torch.tensor(x.detach().numpy())).detach()
    _same_with_grads(x, t.icdf(u), pg, pt, tol=1e-7)


@pytest.mark.parametrize("name,arrays", [
    ("LogNormal", (A - 1, B * 0.3)), ("Gumbel", (A - 1, B)), ("HalfNormal", (B,)),
    ("StudentT", (A + 5, A - 1, B)), ("Chi2", (A * 2,)), ("Geometric", (X[0],))])
def test_sample_shape_and_mean(name, arrays):
    gv.manual_seed(0)
    d = getattr(D, name)(*[gv.tensor(a, dtype=gv.float32) for a in arrays])
    s = d.sample((6000,))
    assert s.shape == (6000, 2, 3) and s.dtype == gv.float32 and not s.requires_grad
    se = d.stddev.numpy() / math.sqrt(6000)
    assert np.all(np.abs(s.mean(0).numpy() - d.mean.numpy()) < 5 * se)
    assert d.sample().shape == (2, 3)


def test_cauchy_samples_have_the_right_quartiles():
    gv.manual_seed(1)
    s = D.Cauchy(gv.tensor([1.0]), gv.tensor([2.0])).sample((20000,)).numpy()
    np.testing.assert_allclose(np.percentile(s, [25, 50, 75]), [-1.0, 1.0, 3.0], atol=0.1)
    h = D.HalfCauchy(gv.tensor([2.0])).sample((20000,)).numpy()
    assert h.min() >= 0 and abs(np.median(h) - 2.0) < 0.1


def _transform_pairs():
    (loc, scale, expo), (tloc, tscale, texpo) = _pair(A - 1, B, A)
    return [(GT.ExpTransform(), TT.ExpTransform(), X * 2 - 1),
            (GT.AffineTransform(loc, scale), TT.AffineTransform(tloc, tscale), X),
            (GT.AffineTransform(2.0, -3.0), TT.AffineTransform(2.0, -3.0), X),
            (GT.AffineTransform(loc, scale, event_dim=1),
             TT.AffineTransform(tloc, tscale, event_dim=1), X),
            (GT.SigmoidTransform(), TT.SigmoidTransform(), X * 6 - 3),
            (GT.TanhTransform(), TT.TanhTransform(), X * 6 - 3),
            (GT.PowerTransform(expo), TT.PowerTransform(texpo), X * 2),
            (GT.ComposeTransform([GT.AffineTransform(loc, scale), GT.SigmoidTransform()]),
             TT.ComposeTransform([TT.AffineTransform(tloc, tscale), TT.SigmoidTransform()]),
             X)], [loc, scale, expo], [tloc, tscale, texpo]


def test_standard_gamma_gradient():
    """dx/dalpha of a gamma draw at fixed quantile: against the inverse cdf differentiated
    numerically (SciPy) to 1e-6, and torch's own approximation to its accuracy (~5e-4)."""
    from scipy import special as sp
    from gradviz.distributions.gamma_grad import standard_gamma_grad
    rng = np.random.default_rng(0)
    a = rng.uniform(0.05, 30, 500)
    x = rng.standard_gamma(a).clip(1e-300)
    got = standard_gamma_grad(np, a, x)
    u, h = sp.gammainc(a, x), 1e-6 * a
    fd = (sp.gammaincinv(a + h, u) - sp.gammaincinv(a - h, u)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6)
    ref = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, ref, rtol=2e-3)


def _torch_gamma(alpha, draws):
    """torch's reparameterised gamma at given draws: their value, torch's gradient."""
    grad = torch._standard_gamma_grad(alpha.detach().expand(draws.shape), draws)
    return draws + (alpha - alpha.detach()) * grad


def test_gamma_based_rsample_gradients_like_torch():
    """Chi2 and StudentT rsample: torch's formulas on the same noise give the same values and
    (to torch's gamma-gradient accuracy) the same gradients."""
    (df, loc, scale), (tdf, tloc, tscale) = _pair(A * 2, A - 1, B)
    gv.manual_seed(7)
    x = D.Chi2(df).rsample((5,))
    xt = _torch_gamma(tdf / 2, torch.tensor(x.detach().numpy()) / 2) * 2
    _same_with_grads(x, xt, [df], [tdf], tol=2e-3)
    gv.manual_seed(8)
    y = D.StudentT(df, loc, scale).rsample((5,))
    gv.manual_seed(8)   # the same normal draws (rsample takes them first)
    normal = gv.randn(5, 2, 3, dtype=gv.float64)
    assert y.shape == (5, 2, 3)
    t = (torch.tensor(y.detach().numpy()) - tloc.detach()) / tscale.detach()
    z = tdf.detach() * torch.tensor(normal.numpy()).pow(2) / t.pow(2)   # the chi2 draw
    yt = tloc + tscale * torch.tensor(normal.numpy()) * (
        _torch_gamma(tdf / 2, z / 2) * 2 / tdf).rsqrt()
    _same_with_grads(y, yt, [df, loc, scale], [tdf, tloc, tscale], tol=2e-3)


def test_gamma_rsample_gradients_like_torch():
    """Gamma's rsample as torch's: x = g / rate, dg/dconcentration from the draw itself."""
    (conc, rate), (tconc, trate) = _pair(A * 2, B)
    gv.manual_seed(11)
    x = D.Gamma(conc, rate).rsample((4,))
    assert x.shape == (4, 2, 3) and x.requires_grad
    xt = _torch_gamma(tconc, torch.tensor(x.detach().numpy()) * trate.detach()) / trate
    _same_with_grads(x, xt, [conc, rate], [tconc, trate], tol=2e-3)


@pytest.mark.parametrize("family", ["Dirichlet", "Beta"])
def test_dirichlet_and_beta_rsample_gradient_is_unbiased(family):
    """The mean over draws of d(w . x)/dc matches d(w . mean)/dc (torch's per-draw gradients
    differ: it differentiates the marginals, gv each gamma draw)."""
    (c,), _ = _pair(np.array([[0.7, 2.0, 1.3], [3.0, 0.4, 1.1]]))
    d = D.Dirichlet(c) if family == "Dirichlet" else D.Beta(c[..., 0], c[..., 1])
    w = gv.tensor(np.array([[1.0, -2.0, 0.5], [0.3, 2.0, -1.0]]) if family == "Dirichlet"
                  else np.array([1.0, -2.0]))
    gv.manual_seed(9)
    n = 40000
    x = d.rsample((n,))
    assert d.has_rsample and x.requires_grad
    (mc,) = gv.autograd.grad((x * w).sum() / n, [c])
    (exact,) = gv.autograd.grad((d.mean * w).sum(), [c])
    np.testing.assert_allclose(mc.numpy(), exact.numpy(), atol=0.02)


def test_transforms_like_torch():
    pairs, pg, pt = _transform_pairs()
    for g, t, x in pairs:
        (xg,), (xt,) = _pair(x)
        yg, yt = g(xg), t(xt)
        _same_with_grads(yg, yt, pg + [xg], pt + [xt])
        _same_with_grads(g.inv(yg), t.inv(yt), pg + [xg], pt + [xt], tol=1e-8)
        _same_with_grads(g.log_abs_det_jacobian(xg, yg), t.log_abs_det_jacobian(xt, yt),
                         pg + [xg], pt + [xt], tol=1e-8)
        _same_with_grads(g.inv.log_abs_det_jacobian(yg, xg),
                         t.inv.log_abs_det_jacobian(yt, xt), pg + [xg], pt + [xt], tol=1e-8)
        assert g.domain.event_dim == t.domain.event_dim
        assert g.codomain.event_dim == t.codomain.event_dim
        assert g.forward_shape((4, 2, 3)) == tuple(t.forward_shape((4, 2, 3)))
    assert GT.ExpTransform() == GT.ExpTransform()
    assert GT.ExpTransform().inv.inv == GT.ExpTransform()
    assert GT.AffineTransform(0.0, -2.0).sign == -1
    x = RNG.standard_normal((2, 4))
    _close(GT.SoftmaxTransform()(gv.tensor(x)), TT.SoftmaxTransform()(torch.tensor(x)))
    _close(GT.SoftmaxTransform().inv(gv.tensor(SIMPLEX)),
           TT.SoftmaxTransform().inv(torch.tensor(SIMPLEX)))


def test_transform_cache_returns_the_exact_preimage():
    x = gv.tensor([40.0, -1.0], dtype=gv.float64)
    cached, plain = GT.SigmoidTransform(cache_size=1), GT.SigmoidTransform()
    y = cached(x)
    assert cached.inv(y) is x and cached(x) is y
    assert plain.inv(plain(x)).tolist()[0] < 40.0   # the clamp at 1 - eps loses it
    with pytest.raises(ValueError, match="cache_size"):
        GT.ExpTransform(cache_size=2)
    assert GT.ExpTransform().event_dim == 0 and GT.SoftmaxTransform().event_dim == 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_like_torch(name):
    arrays, value, _ = CASES[name]
    pg, pt = _pair(*[a[:1] for a in arrays])   # batch (1, 3)
    g = _make(gv, name, pg).expand((4, 2, 3))
    t = _make(torch, name, pt).expand((4, 2, 3))
    assert g.batch_shape == (4, 2, 3) and g.sample().shape == (4, 2, 3)
    _same_with_grads(g.log_prob(gv.tensor(value)), t.log_prob(torch.tensor(value)), pg, pt)
    _close(g.mean, t.mean)


def test_transformed_distribution_like_torch():
    (loc, scale, a, b), (tloc, tscale, ta, tb) = _pair(A - 1, B, A, B)
    pg, pt = [loc, scale, a, b], [tloc, tscale, ta, tb]
    # a logit-normal with an affine map after it (a decreasing chain when b < 0)
    g = D.TransformedDistribution(D.Normal(loc, scale), [GT.SigmoidTransform(),
                                                         GT.AffineTransform(a, -b)])
    t = TD.TransformedDistribution(TD.Normal(tloc, tscale), [TT.SigmoidTransform(),
                                                             TT.AffineTransform(ta, -tb)])
    assert g.batch_shape == tuple(t.batch_shape) and g.event_shape == tuple(t.event_shape)
    v = A - B * X
    _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), pg, pt)
    _same_with_grads(g.cdf(gv.tensor(v)), t.cdf(torch.tensor(v)), pg, pt)
    _same_with_grads(g.icdf(gv.tensor(X)), t.icdf(torch.tensor(X)), pg, pt)
    assert g.rsample((5,)).shape == (5, 2, 3) and g.has_rsample
    # an event-dim transform over a scalar base: the base is reinterpreted as Independent
    g = D.TransformedDistribution(D.Normal(loc, scale), GT.AffineTransform(a, b, event_dim=1))
    t = TD.TransformedDistribution(TD.Normal(tloc, tscale), TT.AffineTransform(ta, tb,
                                                                               event_dim=1))
    assert g.batch_shape == (2,) and g.event_shape == (3,) == tuple(t.event_shape)
    _same_with_grads(g.log_prob(gv.tensor(X)), t.log_prob(torch.tensor(X)), pg, pt)
    e = g.expand((5, 2))
    assert e.batch_shape == (5, 2) and e.sample().shape == (5, 2, 3)
    # a transform parameter widening the base's batch
    (wide,), (twide,) = _pair(A[None].repeat(4, 0))
    g = D.TransformedDistribution(D.Normal(loc[0, 0], scale[0, 0]), GT.AffineTransform(wide, 2.0))
    t = TD.TransformedDistribution(TD.Normal(tloc[0, 0], tscale[0, 0]),
                                   TT.AffineTransform(twide, 2.0))
    assert g.batch_shape == (4, 2, 3) == tuple(t.batch_shape)
    _same_with_grads(g.log_prob(gv.tensor(X)), t.log_prob(torch.tensor(X)), pg + [wide],
                     pt + [twide])
    ln = D.LogNormal(loc, scale).expand((4, 2, 3))
    assert ln.batch_shape == (4, 2, 3) and ln.sample().shape == (4, 2, 3)
    assert D.Gumbel(loc, scale).expand((4, 2, 3)).sample().shape == (4, 2, 3)


def test_dirichlet_like_torch():
    (c,), (tc,) = _pair(np.concatenate([A, B[:, :1] * 0.3], -1))
    g, t = D.Dirichlet(c), TD.Dirichlet(tc)
    assert g.batch_shape == (2,) and g.event_shape == (4,)
    v = RNG.dirichlet(np.ones(4), (5, 2))
    _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), [c], [tc])
    _same_with_grads(g.entropy(), t.entropy(), [c], [tc])
    for prop in ("mean", "variance", "mode"):
        _close(getattr(g, prop), getattr(t, prop))
    small = np.array([[0.5, 0.2, 0.9], [2.0, 3.0, 1.5]])
    _close(D.Dirichlet(gv.tensor(small)).mode, TD.Dirichlet(torch.tensor(small)).mode)
    gv.manual_seed(0)
    s = g.sample((8000,))
    assert s.shape == (8000, 2, 4) and not s.requires_grad and g.has_rsample
    np.testing.assert_allclose(s.numpy().sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(s.numpy().mean(0), g.mean.detach().numpy(), atol=0.02)


def test_multinomial_like_torch():
    for kw in ("probs", "logits"):
        p = SIMPLEX[0] if kw == "probs" else SIMPLEX[0] * 4 - 2
        (pg,), (pt,) = _pair(p)
        g, t = D.Multinomial(5, **{kw: pg}), TD.Multinomial(5, **{kw: pt})
        assert g.batch_shape == (2,) and g.event_shape == (3,)
        v = np.array([[[2.0, 3.0, 0.0], [1.0, 1.0, 3.0]], [[5.0, 0.0, 0.0], [0.0, 4.0, 1.0]]])
        _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), [pg], [pt])
        for prop in ("mean", "variance"):
            _same_with_grads(getattr(g, prop), getattr(t, prop), [pg], [pt])
    gv.manual_seed(2)
    s = D.Multinomial(10, probs=gv.tensor([0.2, 0.5, 0.3])).sample((4000,))
    assert s.shape == (4000, 3) and np.all(s.numpy().sum(-1) == 10)
    np.testing.assert_allclose(s.numpy().mean(0), [2.0, 5.0, 3.0], atol=0.1)


def test_mixture_same_family_like_torch():
    (w, loc, scale), (tw, tloc, tscale) = _pair(A, A - 1, B)
    pg, pt = [w, loc, scale], [tw, tloc, tscale]
    g = D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(loc, scale))
    t = TD.MixtureSameFamily(TD.Categorical(logits=tw), TD.Normal(tloc, tscale))
    assert g.batch_shape == (2,) and g.event_shape == ()
    v = X[:, :, 0]
    _same_with_grads(g.log_prob(gv.tensor(v)), t.log_prob(torch.tensor(v)), pg, pt)
    _same_with_grads(g.cdf(gv.tensor(v)), t.cdf(torch.tensor(v)), pg, pt)
    _same_with_grads(g.mean, t.mean, pg, pt)
    _same_with_grads(g.variance, t.variance, pg, pt)
    gv.manual_seed(3)
    s = g.sample((20000,))
    assert s.shape == (20000, 2)
    se = g.stddev.detach().numpy() / math.sqrt(20000)
    assert np.all(np.abs(s.numpy().mean(0) - g.mean.detach().numpy()) < 5 * se)
    # components with an event dim: Independent normals over 3 dims, 2 components
    g = D.MixtureSameFamily(D.Categorical(logits=w[0, :2]),
                            D.Independent(D.Normal(loc, scale), 1))
    t = TD.MixtureSameFamily(TD.Categorical(logits=tw[0, :2]),
                             TD.Independent(TD.Normal(tloc, tscale), 1))
    assert g.batch_shape == () and g.event_shape == (3,)
    _same_with_grads(g.log_prob(gv.tensor(X)), t.log_prob(torch.tensor(X)), pg, pt)
    _same_with_grads(g.mean, t.mean, pg, pt)
    _same_with_grads(g.variance, t.variance, pg, pt)
    assert g.sample((6,)).shape == (6, 3)


def test_more_kl_like_torch():
    (a, b, c, d), (ta, tb, tc, td) = _pair(A, B, A * 0.7 + 0.2, B * 1.3)
    pg, pt = [a, b, c, d], [ta, tb, tc, td]
    pairs = [
        ("Beta", (0, 1), (2, 3)), ("Gamma", (0, 1), (2, 3)), ("Exponential", (0,), (2,)),
        ("Laplace", (0, 1), (2, 3)), ("Poisson", (0,), (2,)), ("Gumbel", (0, 1), (2, 3)),
        ("HalfNormal", (1,), (3,)), ("Cauchy", (0, 1), (2, 3)), ("LogNormal", (0, 1), (2, 3)),
        ("Chi2", (0,), (2,)), ("Dirichlet", (0,), (2,))]
    for name, p_args, q_args in pairs:
        out_g = D.kl_divergence(getattr(D, name)(*[pg[i] for i in p_args]),
                                getattr(D, name)(*[pg[i] for i in q_args]))
        out_t = TD.kl_divergence(getattr(TD, name)(*[pt[i] for i in p_args]),
                                 getattr(TD, name)(*[pt[i] for i in q_args]))
        _same_with_grads(out_g, out_t, pg, pt)
    for (gp, gq), (tp, tq) in [
            ((D.Normal(a, b), D.Laplace(c, d)), (TD.Normal(ta, tb), TD.Laplace(tc, td))),
            ((D.Laplace(a, b), D.Normal(c, d)), (TD.Laplace(ta, tb), TD.Normal(tc, td))),
            ((D.Independent(D.Normal(a, b), 2), D.Independent(D.Normal(c, d), 2)),
             (TD.Independent(TD.Normal(ta, tb), 2), TD.Independent(TD.Normal(tc, td), 2))),
            ((D.Geometric(a / 3), D.Geometric(c / 3)),
             (TD.Geometric(ta / 3), TD.Geometric(tc / 3))),
            ((D.OneHotCategorical(logits=a), D.OneHotCategorical(probs=b)),
             (TD.OneHotCategorical(logits=ta), TD.OneHotCategorical(probs=tb)))]:
        _same_with_grads(D.kl_divergence(gp, gq), TD.kl_divergence(tp, tq), pg, pt)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Independent(D.Normal(a, b), 1), D.Independent(D.Normal(c, d), 2))


def test_validate_args_like_torch():
    bad = gv.tensor([-1.0])
    for make, match in [
            (lambda: D.LogNormal(0.0, bad), "Expected parameter scale"),
            (lambda: D.HalfNormal(bad), "Expected parameter scale"),
            (lambda: D.HalfCauchy(bad), "Expected parameter scale"),
            (lambda: D.Gumbel(0.0, bad), "Expected parameter scale"),
            (lambda: D.Cauchy(0.0, bad), "Expected parameter scale"),
            (lambda: D.StudentT(bad), "Expected parameter df"),
            (lambda: D.Chi2(bad), "Expected parameter df"),
            (lambda: D.Dirichlet(gv.tensor([1.0, -1.0])), "Expected parameter concentration"),
            (lambda: D.Dirichlet(gv.tensor(1.0)), "at least one-dimensional"),
            (lambda: D.Geometric(gv.tensor([0.0])), "to be positive"),
            (lambda: D.Geometric(probs=gv.tensor([0.5]), logits=gv.tensor([0.0])), "Either"),
            (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), 3), "must be a Transform"),
            (lambda: D.HalfNormal(gv.tensor([1.0])).log_prob(bad), "within the support"),
            (lambda: D.LogNormal(0.0, 1.0).log_prob(gv.tensor([0.0])), "within the support"),
            (lambda: D.Dirichlet(gv.ones(3)).log_prob(gv.tensor([0.5, 0.6, 0.1])),
             "within the support"),
            (lambda: D.Multinomial(3, probs=gv.tensor([0.5, 0.5])).log_prob(
                gv.tensor([-1.0, 4.0])), "within the support"),
            (lambda: D.MixtureSameFamily(D.Categorical(logits=gv.zeros(3)),
                                         D.Normal(gv.zeros(4), 1.0)), "does not equal"),
            (lambda: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(gv.zeros(4), 1.0)),
             "Categorical")]:
        with pytest.raises(ValueError, match=match):
            make()
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        D.Multinomial(gv.tensor([3.0]), probs=gv.tensor([0.5, 0.5]))
    lp = D.HalfNormal(gv.tensor([1.0]), validate_args=False).log_prob(gv.tensor([-1.0]))
    assert lp.item() == -math.inf


def test_relaxed_bernoulli_like_torch():
    (temp, logits), (ttemp, tlogits) = _pair(A, A * 2 - 2)
    for kw in ("logits", "probs"):
        p, tp = (logits, tlogits) if kw == "logits" else (logits.sigmoid(), tlogits.sigmoid())
        g, t = D.RelaxedBernoulli(temp, **{kw: p}), TD.RelaxedBernoulli(ttemp, **{kw: tp})
        assert g.batch_shape == (2, 3) and g.has_rsample
        _same_with_grads(g.log_prob(gv.tensor(X)), t.log_prob(torch.tensor(X)),
                         [temp, logits], [ttemp, tlogits])
    gv.manual_seed(4)
    g = D.RelaxedBernoulli(temp, logits=logits)
    x = g.rsample((5,))
    assert x.shape == (5, 2, 3) and np.all((x.detach().numpy() > 0) & (x.detach().numpy() < 1))
    # the same uniform noise through torch's formula gives the same values and gradients
    xt = torch.tensor(x.detach().numpy())
    noise = (ttemp * torch.logit(xt) - tlogits).detach()   # logit(u)
    _same_with_grads(x, torch.sigmoid((noise + tlogits) / ttemp), [temp, logits],
                     [ttemp, tlogits], tol=1e-7)
    s = D.RelaxedBernoulli(gv.tensor(0.05), probs=gv.tensor([0.2, 0.7])).sample((4000,))
    assert np.all(np.abs(s.numpy().mean(0) - [0.2, 0.7]) < 0.05)


def test_relaxed_one_hot_categorical_like_torch():
    (temp, logits), (ttemp, tlogits) = _pair(np.array(0.7), RNG.standard_normal((2, 3)))
    g = D.RelaxedOneHotCategorical(temp, logits=logits)
    t = TD.RelaxedOneHotCategorical(ttemp, logits=tlogits)
    assert g.batch_shape == (2,) and g.event_shape == (3,) and g.has_rsample
    _same_with_grads(g.log_prob(gv.tensor(SIMPLEX)), t.log_prob(torch.tensor(SIMPLEX)),
                     [temp, logits], [ttemp, tlogits])
    (probs,), (tprobs,) = _pair(SIMPLEX[0])
    _same_with_grads(D.RelaxedOneHotCategorical(temp, probs=probs).log_prob(gv.tensor(SIMPLEX)),
                     TD.RelaxedOneHotCategorical(ttemp, probs=tprobs).log_prob(
                         torch.tensor(SIMPLEX)), [temp, probs], [ttemp, tprobs])
    gv.manual_seed(6)
    x = g.rsample((5,))
    assert x.shape == (5, 2, 3)
    np.testing.assert_allclose(x.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    # Gumbel noise up to a per-row shift (softmax ignores it): same values and gradients
    xt = torch.tensor(x.detach().numpy())
    noise = (ttemp * xt.log() - torch.log_softmax(tlogits, -1)).detach()
    _same_with_grads(x, torch.softmax((torch.log_softmax(tlogits, -1) + noise) / ttemp, -1),
                     [temp, logits], [ttemp, tlogits], tol=1e-7)


def test_new_families_sample_on_fake_cupy(monkeypatch):
    import fake_cupy
    fake_cupy.install(monkeypatch)
    gv.manual_seed(0)
    loc = gv.tensor([0.0, 1.0], device="cuda", requires_grad=True)
    scale = gv.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    dists = [D.LogNormal(loc, scale), D.Gumbel(loc, scale), D.HalfNormal(scale),
             D.HalfCauchy(scale), D.Cauchy(loc, scale), D.StudentT(scale + 2, loc, scale),
             D.Chi2(scale), D.Geometric(logits=loc), D.Dirichlet(scale),
             D.Multinomial(4, logits=loc), D.RelaxedBernoulli(scale, logits=loc),
             D.RelaxedOneHotCategorical(scale[0], logits=loc),
             D.MixtureSameFamily(D.Categorical(logits=loc), D.Normal(loc, scale))]
    for d in dists:
        s = d.sample((3,))
        assert s.device.type == "cuda", type(d).__name__
        d.log_prob(s).sum().backward()
    assert loc.grad.device.type == "cuda"


def test_derived_probs_keep_their_graph_when_first_read_by_sample():
    """probs derived from logits (or back) are cached; computed first inside sample's no_grad
    they must still depend on the parameter, as torch's lazy_property."""
    (logits,), _ = _pair(A - 1)
    for d in (D.Bernoulli(logits=logits), D.Binomial(3, logits=logits),
              D.Categorical(logits=logits), D.Geometric(logits=logits),
              D.Multinomial(2, logits=logits), D.RelaxedBernoulli(A, logits=logits)):
        d.sample()
        assert d.probs.requires_grad, type(d).__name__
        assert isinstance(d, (D.Categorical, D.RelaxedBernoulli)) or d.mean.requires_grad
    d = D.Categorical(logits=logits)
    with gv.no_grad():
        d.sample()
    assert d.probs.requires_grad   # torch computes lazy properties with grad enabled too


def test_exported_names():
    for name in ("TransformedDistribution", "LogNormal", "Gumbel", "HalfNormal", "HalfCauchy",
                 "Cauchy", "StudentT", "Chi2", "Dirichlet", "Geometric", "Multinomial",
                 "MixtureSameFamily", "transforms", "RelaxedBernoulli",
                 "RelaxedOneHotCategorical"):
        assert name in D.__all__ and hasattr(gv.distributions, name)
