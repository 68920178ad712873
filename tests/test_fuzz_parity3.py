"""Parity with torch for what a differential fuzzer of gv.func, gv.autograd.functional,
gv.autograd.forward_ad and gv.distributions found (float64, seeded, compared to torch)."""
import numpy as np
import pytest
import torch
import torch.distributions as TD

import gradviz as gv
import gradviz.distributions as GD

# torch's forward AD and torch.func.jvp script a helper with torch.jit on first use (torch's
# own notice)
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _close(got, want, rtol=1e-7):
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=rtol,
                               atol=1e-10)


def _both_raise(fn, kind):
    """fn(lib, func module) raises ``kind`` under torch and under gradviz alike."""
    for lib, mod in ((torch, torch.func), (gv, gv.func)):
        with pytest.raises(kind):
            fn(lib, mod)


# ---- gv.func ------------------------------------------------------------------------------
def _vjp_fn(lib, mod):
    x = _t(lib, [1.0, 2.0, 3.0])
    return mod.vjp(lambda a: (a.sin(), {"k": a * 2}), x)[1]


@pytest.mark.parametrize("make_ct", [
    lambda lib: [lib.ones(3), {"k": lib.ones(3)}],             # a list for a tuple output
    lambda lib: (lib.ones(3), {"other": lib.ones(3)}),         # another dict key
], ids=["list_for_tuple", "dict_key"])
def test_vjp_fn_cotangents_must_have_the_outputs_structure(make_ct):
    _both_raise(lambda lib, mod: _vjp_fn(lib, mod)(make_ct(lib)), RuntimeError)
    for lib, mod in ((torch, torch.func), (gv, gv.func)):   # the matching structure works
        _vjp_fn(lib, mod)((lib.ones(3, dtype=lib.float64), {"k": lib.ones(3, dtype=lib.float64)}))


def test_vjp_fn_non_tensor_cotangent_is_a_type_error():
    _both_raise(lambda lib, mod: mod.vjp(lambda a: a * 2, _t(lib, [1.0]))[1](3.0), TypeError)


def test_transform_of_a_non_tensor_input_is_a_value_error():
    _both_raise(lambda lib, mod: mod.grad(lambda a: a.sum())(3.0), ValueError)
    _both_raise(lambda lib, mod: mod.jacrev(lambda a: a)(1.5), ValueError)


def test_jvp_needs_at_least_one_primal():
    _both_raise(lambda lib, mod: mod.jvp(lambda: lib.ones(2), (), ()), RuntimeError)


@pytest.mark.parametrize("case", [
    lambda lib, mod: mod.vmap(lambda a: a, in_dims=[0])(lib.ones(2, 3)),
    lambda lib, mod: mod.vmap(lambda t: t[0], in_dims=([0],))((lib.ones(2),)),
    lambda lib, mod: mod.vmap(lambda t: t[0], in_dims=((0,),))([lib.ones(2)]),
    lambda lib, mod: mod.vmap(lambda a: [a, a], out_dims=(0, 0))(lib.ones(2)),
    lambda lib, mod: mod.vmap(lambda a: (a, a), out_dims=[0, 0])(lib.ones(2)),
    lambda lib, mod: mod.vmap(lambda a: a, out_dims=[0])(lib.ones(2)),
    lambda lib, mod: mod.vmap(lambda a: a, out_dims=None)(lib.arange(2.0)),
], ids=["in_list", "list_spec_tuple_arg", "tuple_spec_list_arg",
        "out_tuple_list", "out_list_tuple", "out_list_tensor", "out_none_batched"])
def test_vmap_dims_specs_match_structure_as_torch(case):
    _both_raise(case, ValueError)


def test_vmap_out_dims_one_tuple_and_list_specs():
    x = np.arange(6.0).reshape(2, 3)
    for_torch = torch.func.vmap(lambda a: a * 2, out_dims=(1,))(_t(torch, x))
    _close(gv.func.vmap(lambda a: a * 2, out_dims=(1,))(_t(gv, x)), for_torch)
    want = torch.func.vmap(lambda t: [t[0] * t[1], t[1]], in_dims=([0, None],),
                           out_dims=[1, None])([_t(torch, x), _t(torch, x[0])])
    got = gv.func.vmap(lambda t: [t[0] * t[1], t[1]], in_dims=([0, None],),
                       out_dims=[1, None])([_t(gv, x), _t(gv, x[0])])
    assert isinstance(got, list)
    for g, w in zip(got, want):
        _close(g, w)


def test_vmap_out_dims_out_of_range_is_an_index_error():
    _both_raise(lambda lib, mod: mod.vmap(lambda a: a, out_dims=2)(lib.ones(3)), IndexError)


# ---- gv.autograd.forward_ad ---------------------------------------------------------------
def _dual_run(lib):
    fa = lib.autograd.forward_ad
    p = _t(lib, [0.3, -1.2, 2.0], requires_grad=True)
    with fa.dual_level():
        x = fa.make_dual(p, _t(lib, [1.0, 0.5, -2.0]))
        primal, tangent = fa.unpack_dual((x.sin() * x).sum() + x.exp().mean())
    g_primal, = lib.autograd.grad(primal, p, retain_graph=True)
    g_tangent, = lib.autograd.grad(tangent, p)
    return primal, tangent, g_primal, g_tangent


def test_unpack_dual_keeps_the_reverse_graph_of_the_callers_tensors():
    for got, want in zip(_dual_run(gv), _dual_run(torch)):
        _close(got, want)


def test_unpack_dual_of_duals_from_plain_tensors_stays_detached():
    for lib in (torch, gv):
        fa = lib.autograd.forward_ad
        with fa.dual_level():
            x = fa.make_dual(_t(lib, [1.0, 2.0]), _t(lib, [1.0, 1.0]))
            primal, tangent = fa.unpack_dual(x * x)
        assert not primal.requires_grad and not tangent.requires_grad
        assert tangent.tolist() == [2.0, 4.0]


def test_make_dual_refusals():
    for lib in (torch, gv):
        fa = lib.autograd.forward_ad
        with fa.dual_level():
            x = fa.make_dual(_t(lib, [1.0]), _t(lib, [1.0]))
            with pytest.raises(RuntimeError, match="already has a forward gradient"):
                fa.make_dual(x, _t(lib, [2.0]))
            with pytest.raises(ValueError, match="floating point"):
                fa.make_dual(lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64))


# ---- gv.distributions ---------------------------------------------------------------------
def _grads(out, params, lib):
    w = np.random.default_rng(3).normal(size=tuple(out.shape))
    return lib.autograd.grad((out * _t(lib, w)).sum(), params)


@pytest.mark.parametrize("name", ["Gamma", "Chi2"])
def test_gamma_cdf(name):
    rng = np.random.default_rng(0)
    conc, rate = rng.uniform(0.3, 3, (3, 2)), rng.uniform(0.3, 3, (3, 2))
    value = rng.uniform(0.05, 4, (4, 3, 2))
    res = []
    for lib, mod in ((torch, TD), (gv, GD)):
        r = _t(lib, rate, True)
        dist = mod.Gamma(_t(lib, conc), r) if name == "Gamma" else mod.Chi2(_t(lib, conc))
        cdf = dist.cdf(_t(lib, value))
        res.append((cdf, _grads(cdf, [r], lib)[0] if name == "Gamma" else None))
    _close(res[1][0], res[0][0])
    if name == "Gamma":
        _close(res[1][1], res[0][1])


@pytest.mark.parametrize("name", ["Bernoulli", "Binomial", "OneHotCategorical"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support(name, expand):
    rng = np.random.default_rng(1)
    kwargs = {"Bernoulli": lambda lib: {"probs": _t(lib, rng.uniform(0.1, 0.9, (3, 2)))},
              "Binomial": lambda lib: {"total_count": 4.0,
                                       "probs": _t(lib, rng.uniform(0.1, 0.9, (3, 2)))},
              "OneHotCategorical": lambda lib: {"logits": _t(lib, rng.normal(size=(3, 2, 4)))}}
    want = getattr(TD, name)(**kwargs[name](torch))
    got = getattr(GD, name)(**kwargs[name](gv))
    assert got.has_enumerate_support
    _close(got.enumerate_support(expand), want.enumerate_support(expand))


def test_binomial_inhomogeneous_total_count_refused():
    for mod, lib in ((TD, torch), (GD, gv)):
        dist = mod.Binomial(_t(lib, [2.0, 3.0]), probs=_t(lib, [0.5, 0.5]))
        for call in (dist.enumerate_support, dist.entropy):
            with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
                call()


@pytest.mark.parametrize("name", ["Binomial", "Multinomial"])
def test_binomial_and_multinomial_entropy(name):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(3, 4) if name == "Multinomial" else (3,))
    res = []
    for lib, mod in ((torch, TD), (gv, GD)):
        lg = _t(lib, logits, True)
        count = 5 if name == "Multinomial" else _t(lib, [5.0, 5.0, 5.0])
        ent = getattr(mod, name)(count, logits=lg).entropy()
        res.append((ent, _grads(ent, [lg], lib)[0]))
    _close(res[1][0], res[0][0])
    _close(res[1][1], res[0][1], rtol=1e-6)


def test_multinomial_negative_total_count_refused():
    for mod, lib in ((TD, torch), (GD, gv)):
        with pytest.raises(ValueError, match="total_count"):
            mod.Multinomial(-1, probs=_t(lib, [0.5, 0.5]))


def test_relaxed_one_hot_categorical_expand_keeps_one_temperature():
    rng = np.random.default_rng(4)
    probs = rng.uniform(0.1, 1, 4)
    probs /= probs.sum()
    value = rng.dirichlet(np.ones(4), size=5)
    out = []
    for lib, mod in ((torch, TD), (gv, GD)):
        dist = mod.RelaxedOneHotCategorical(_t(lib, 0.7), probs=_t(lib, probs)).expand((5,))
        out.append(dist.log_prob(_t(lib, value)))
    _close(out[1], out[0])


def test_beta_mode_when_both_concentrations_are_below_one():
    c1, c0 = [0.3, 0.9, 0.5, 2.0, 0.4], [0.5, 0.2, 0.5, 3.0, 1.5]
    want = TD.Beta(_t(torch, c1), _t(torch, c0)).mode
    _close(GD.Beta(_t(gv, c1), _t(gv, c0)).mode, want)


_KL_PARAMS = {
    "Normal": lambda r: {"loc": r.normal(0, 1, 3), "scale": r.uniform(0.3, 2, 3)},
    "Laplace": lambda r: {"loc": r.normal(0, 1, 3), "scale": r.uniform(0.3, 2, 3)},
    "Gumbel": lambda r: {"loc": r.normal(0, 1, 3), "scale": r.uniform(0.3, 2, 3)},
    "Exponential": lambda r: {"rate": r.uniform(0.3, 2, 3)},
    "Gamma": lambda r: {"concentration": r.uniform(0.5, 3, 3), "rate": r.uniform(0.3, 2, 3)},
    "Beta": lambda r: {"concentration1": r.uniform(0.5, 3, 3),
                       "concentration0": r.uniform(0.5, 3, 3)},
    "Uniform": lambda r: {"low": np.array([0.1, 0.2, -0.5]),
                          "high": np.array([0.7, 1.4, 0.9])},   # inside/outside [0, 1]
    "Poisson": lambda r: {"rate": r.uniform(0.3, 2, 3)},
    "Bernoulli": lambda r: {"probs": r.uniform(0.1, 0.9, 3)},
    "Binomial": lambda r: {"total_count": np.array([4.0, 6.0, 5.0]),
                           "probs": r.uniform(0.1, 0.9, 3)},
}
_KL_PAIRS = [
    ("Binomial", "Binomial"), ("Bernoulli", "Poisson"), ("Beta", "Exponential"),
    ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"), ("Exponential", "Beta"),
    ("Exponential", "Gamma"), ("Exponential", "Gumbel"), ("Exponential", "Normal"),
    ("Exponential", "Uniform"), ("Gamma", "Beta"), ("Gamma", "Exponential"),
    ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Gamma", "Uniform"), ("Gumbel", "Beta"),
    ("Gumbel", "Exponential"), ("Gumbel", "Gamma"), ("Gumbel", "Normal"),
    ("Gumbel", "Uniform"), ("Laplace", "Beta"), ("Laplace", "Exponential"),
    ("Laplace", "Gamma"), ("Laplace", "Uniform"), ("Normal", "Beta"),
    ("Normal", "Exponential"), ("Normal", "Gamma"), ("Normal", "Gumbel"),
    ("Normal", "Uniform"), ("Poisson", "Bernoulli"), ("Poisson", "Binomial"),
    ("Uniform", "Beta"), ("Uniform", "Exponential"), ("Uniform", "Gamma"),
    ("Uniform", "Gumbel"), ("Uniform", "Normal"),
]


@pytest.mark.parametrize("p_name,q_name", _KL_PAIRS)
def test_kl_divergence_across_families(p_name, q_name):
    rng = np.random.default_rng(_KL_PAIRS.index((p_name, q_name)))
    p_par, q_par = _KL_PARAMS[p_name](rng), _KL_PARAMS[q_name](rng)
    if (p_name, q_name) == ("Binomial", "Binomial"):   # p's count >= q's (else torch refuses)
        q_par["total_count"] = np.array([4.0, 5.0, 5.0])
    res = []
    for lib, mod in ((torch, TD), (gv, GD)):
        ps = {k: _t(lib, v, k != "total_count") for k, v in p_par.items()}
        qs = {k: _t(lib, v, k != "total_count") for k, v in q_par.items()}
        kl = mod.kl_divergence(getattr(mod, p_name)(**ps), getattr(mod, q_name)(**qs))
        params = [t for t in (*ps.values(), *qs.values()) if t.requires_grad]
        grads = lib.autograd.grad(kl.sum(), params, allow_unused=True) \
            if kl.requires_grad and np.isfinite(kl.detach().numpy()).any() else None
        res.append((kl, grads))
    _close(res[1][0], res[0][0])
    assert (res[1][1] is None) == (res[0][1] is None)
    for g, w in zip(res[1][1] or (), res[0][1] or ()):
        if w is None:
            assert g is None or not g.detach().numpy().any()
        else:
            _close(g, w, rtol=1e-6)
