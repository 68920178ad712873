"""Parity of gv.optim with torch.optim found by fuzzing option combinations: refusals of the
implementation flags, Adagrad's accumulator, ASGD's float32 scalars, state dicts both ways,
and the schedulers' state-dict keys and milestone restarts. Seeded; compared to torch."""
import random

import numpy as np
import pytest
import torch
from optim_helpers import to_gv

import gradviz as gv

SHAPES = [(3, 4), (4,), (2, 3)]


def _params(lib, seed=0):
    rng = np.random.RandomState(seed)
    return [lib.tensor(rng.randn(*s), dtype=lib.float64, requires_grad=True) for s in SHAPES]


def _grads(tp, gp, rng, drop=0.2):
    """The same random gradients on both sides; some parameters get none this step."""
    for a, b in zip(tp, gp):
        if rng.rand() < drop:
            a.grad = b.grad = None
        else:
            g = rng.randn(*a.shape)
            a.grad = torch.tensor(g)
            b.grad = gv.tensor(g.copy())


def _host(v):
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, gv.Tensor):
        return v.detach().numpy()
    return v


def _assert_same_sd(tsd, gsd):
    assert len(tsd["param_groups"]) == len(gsd["param_groups"])
    for a, b in zip(tsd["param_groups"], gsd["param_groups"]):
        assert set(a) == set(b)
        for k in a:
            va, vb = a[k], b[k]
            if isinstance(va, torch.Tensor):
                va, vb = va.item(), vb.item()
            assert (list(va) if isinstance(va, tuple) else va) == (
                list(vb) if isinstance(vb, tuple) else vb), k
    assert set(tsd["state"]) == set(gsd["state"])
    for i, st in tsd["state"].items():
        assert set(st) == set(gsd["state"][i])
        for k, v in st.items():
            a, b = _host(v), _host(gsd["state"][i][k])
            assert a.dtype == b.dtype, (i, k)
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14, err_msg=f"{i} {k}")


def _same_error(make):
    """``make(lib)`` raises in torch and in gradviz, with the same message."""
    with pytest.raises(Exception) as t_err:
        make(torch)
    with pytest.raises(gv.GradvizError) as g_err:
        make(gv)
    assert str(g_err.value) == str(t_err.value)


def _run_both(name, groups_kw, steps=10, seed=0, load_at=5, **kw):
    tp, gp = _params(torch, seed), _params(gv, seed)

    def groups(ps):
        out, k = [], 0
        for n, gkw in groups_kw:
            out.append({"params": ps[k:k + n], **gkw})
            k += n
        return out
    topt = getattr(torch.optim, name)(groups(tp), **kw)
    gopt = getattr(gv.optim, name)(groups(gp), **kw)
    _assert_same_sd(topt.state_dict(), gopt.state_dict())
    rng = np.random.RandomState(seed + 1)
    for step in range(steps):
        _grads(tp, gp, rng)
        if step == load_at:   # torch's own state dict, converted, into gradviz
            topt.load_state_dict(topt.state_dict())
            gopt.load_state_dict(to_gv(topt.state_dict()))
        topt.step()
        gopt.step()
        for a, b in zip(tp, gp):
            np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12,
                                       atol=1e-13)
        _assert_same_sd(topt.state_dict(), gopt.state_dict())
    return topt, gopt


# ---- a seeded fuzz over options and param groups -----------------------------------------
OPTIONS = {
    "SGD": dict(lr=[0.01, 0.1], momentum=[0, 0.9], dampening=[0, 0.1], weight_decay=[0, 0.1],
                maximize=[False, True]),
    "Adam": dict(lr=[0.01, 0.003], betas=[(0.9, 0.999), (0.3, 0.6)], amsgrad=[False, True],
                 weight_decay=[0, 0.1], decoupled_weight_decay=[False, True],
                 maximize=[False, True]),
    "NAdam": dict(lr=[0.01], momentum_decay=[4e-3, 0.1], weight_decay=[0, 0.1],
                  decoupled_weight_decay=[False, True]),
    "RAdam": dict(lr=[0.01], betas=[(0.9, 0.999), (0.3, 0.6)], weight_decay=[0, 0.1]),
    "Adagrad": dict(lr=[0.1], lr_decay=[0, 0.1], initial_accumulator_value=[0, 0.1],
                    weight_decay=[0, 0.1]),
    "RMSprop": dict(lr=[0.01], momentum=[0, 0.9], centered=[False, True],
                    weight_decay=[0, 0.1]),
    "ASGD": dict(lr=[0.01, 0.1], lambd=[1e-4, 0.1], alpha=[0.5, 0.75], t0=[0, 2, 1e6]),
    "Adamax": dict(lr=[0.01], weight_decay=[0, 0.1], maximize=[False, True]),
    "Adadelta": dict(lr=[1.0, 0.5], rho=[0.9, 0.5], weight_decay=[0, 0.1]),
    "Rprop": dict(lr=[0.01], etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50),
                                                                         (1e-3, 0.06)]),
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_fuzzed_options_and_groups_match_torch(name):
    """Random options, three groups with their own, None grads, a torch → gv load."""
    rnd = random.Random(name)
    for trial in range(3):
        space = OPTIONS[name]
        kw = {k: rnd.choice(v) for k, v in space.items() if rnd.random() < 0.7}
        groups = [(1, {k: rnd.choice(v) for k, v in space.items() if rnd.random() < 0.4}),
                  (1, {}), (1, {k: rnd.choice(v) for k, v in space.items()
                                if rnd.random() < 0.4})]
        _run_both(name, groups, seed=trial, **kw)


# ---- Adagrad --------------------------------------------------------------------------------
def test_adagrad_accumulator_starts_at_the_constructors_value():
    """torch fills ``sum`` with the constructor's initial_accumulator_value, not a group's."""
    _run_both("Adagrad", [(1, {"initial_accumulator_value": 0.5}), (2, {})],
              initial_accumulator_value=0.1, lr=0.1)


def test_adagrad_state_for_an_added_group():
    tp, gp = _params(torch), _params(gv)
    topt = torch.optim.Adagrad(tp[:1], lr=0.1, initial_accumulator_value=0.2)
    gopt = gv.optim.Adagrad(gp[:1], lr=0.1, initial_accumulator_value=0.2)
    topt.add_param_group({"params": tp[1:], "initial_accumulator_value": 0.7})
    gopt.add_param_group({"params": gp[1:], "initial_accumulator_value": 0.7})
    rng = np.random.RandomState(3)
    for _ in range(3):
        _grads(tp, gp, rng, drop=0)
        topt.step()
        gopt.step()
    _assert_same_sd(topt.state_dict(), gopt.state_dict())


@pytest.mark.parametrize("kw", [dict(lr_decay=-0.1), dict(initial_accumulator_value=-1)])
def test_adagrad_error_messages(kw):
    _same_error(lambda lib: lib.optim.Adagrad(_params(lib), **kw))


# ---- ASGD's float32 scalars --------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(t0=2, lambd=0.1), dict(t0=0, alpha=0.5, lr=0.1)])
def test_asgd_eta_mu_after_a_load(kw):
    """After a load eta/mu take the parameter's dtype, yet torch writes float32 values."""
    _run_both("ASGD", [(1, {}), (2, {"lr": 0.003})], load_at=3, **kw)


def test_asgd_tensor_lr_after_a_load():
    """With a float64 tensor lr torch's eta is computed (and kept) in float64."""
    tp, gp = _params(torch), _params(gv)
    topt = torch.optim.ASGD(tp, lr=torch.tensor(0.01, dtype=torch.float64), lambd=0.1)
    gopt = gv.optim.ASGD(gp, lr=gv.tensor(0.01, dtype=gv.float64), lambd=0.1)
    rng = np.random.RandomState(0)
    for step in range(6):
        _grads(tp, gp, rng, drop=0)
        if step == 2:
            topt.load_state_dict(topt.state_dict())
            gopt.load_state_dict(gopt.state_dict())
        topt.step()
        gopt.step()
    assert topt.state[tp[0]]["eta"].item() == gopt.state[gp[0]]["eta"].item()
    _assert_same_sd(topt.state_dict(), gopt.state_dict())


# ---- the implementation flags: refused as torch refuses them ------------------------------
def _step_error(name, **kw):
    def make(lib):
        ps = _params(lib)
        opt = getattr(lib.optim, name)(ps, **kw)
        for p in ps:
            p.grad = lib.ones_like(p)
        opt.step()
    _same_error(make)


@pytest.mark.parametrize("name,kw", [
    ("Adam", dict(capturable=True)),
    ("Adam", dict(capturable=True, foreach=True)),
    ("NAdam", dict(capturable=True)),
    ("NAdam", dict(capturable=True, foreach=True)),
    ("ASGD", dict(capturable=True)),
    ("Adadelta", dict(capturable=True)),
    ("RMSprop", dict(capturable=True, foreach=True)),
    ("Rprop", dict(capturable=True)),
    ("SGD", dict(differentiable=True)),
    ("SGD", dict(differentiable=True, foreach=True, momentum=0.9)),
    ("Adam", dict(differentiable=True)),
    ("Adamax", dict(differentiable=True, foreach=True)),
    ("Adamax", dict(differentiable=True, foreach=True, capturable=True)),
    ("Adam", dict(differentiable=True, foreach=True, capturable=True)),
    ("Adagrad", dict(differentiable=True, foreach=True)),
], ids=lambda v: str(v)[:40])
def test_step_refuses_flags_as_torch(name, kw):
    """capturable needs an accelerator; differentiable steps a leaf in place with grad on."""
    _step_error(name, **kw)


def test_fused_capturable_steps_on_the_cpu():
    _run_both("Adam", [(3, {})], steps=3, fused=True, capturable=True)


@pytest.mark.parametrize("name,kw", [
    ("AdamW", dict(lr=-0.1, foreach=True, fused=True)),
    ("Adam", dict(betas=(1.0, 0.9), foreach=True, fused=True)),
    ("Adam", dict(lr="tensor", foreach=True)),
    ("SGD", dict(lr="vector")),
    ("Adam", dict(lr="vector")),
    ("Adam", dict(betas=(0, 0.9))),
], ids=lambda v: str(v)[:40])
def test_constructor_errors_in_torch_order(name, kw):
    def make(lib):
        opts = dict(kw)
        if opts.get("lr") == "tensor":
            opts["lr"] = lib.tensor(0.01)
        elif opts.get("lr") == "vector":
            opts["lr"] = lib.tensor([0.01, 0.02])
        getattr(lib.optim, name)(_params(lib), **opts)
    _same_error(make)


def test_param_group_errors():
    _same_error(lambda lib: lib.optim.SGD(_params(lib)[:1], lr=0.1).add_param_group(
        {"params": set(_params(lib)[1:2])}))
    _same_error(lambda lib: lib.optim.SGD(_params(lib)[:1], lr=0.1).add_param_group(
        _params(lib)[1:]))


def test_tensor_lr_groups_and_zero_grad():
    """A tensor lr (non-foreach), groups; zero_grad(set_to_none=False) then None."""
    topt, gopt = _run_both("Adam", [(1, {"lr": 0.003}), (2, {})], steps=4,
                           lr=0.01, foreach=False)
    for lib, opt in ((torch, topt), (gv, gopt)):
        opt.zero_grad(set_to_none=False)
    for group_t, group_g in zip(topt.param_groups, gopt.param_groups):
        for a, b in zip(group_t["params"], group_g["params"]):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                assert not b.grad.detach().numpy().any()
    tp, gp = _params(torch), _params(gv)
    topt = torch.optim.Adam(tp, lr=torch.tensor(0.01, dtype=torch.float64))
    gopt = gv.optim.Adam(gp, lr=gv.tensor(0.01, dtype=gv.float64))
    rng = np.random.RandomState(5)
    for _ in range(4):
        _grads(tp, gp, rng)
        topt.step()
        gopt.step()
    for a, b in zip(tp, gp):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)


# ---- schedulers --------------------------------------------------------------------------
def _sched_pair(make, kind="SGD", steps=30):
    """Make the scheduler on both sides, step optimizer then scheduler; the rates match."""
    out = []
    for lib in (torch, gv):
        ps = [lib.tensor(np.ones(2), requires_grad=True) for _ in range(2)]
        groups = [{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.05}]
        opt = (lib.optim.SGD(groups, lr=0.1, momentum=0.9) if kind == "SGD"
               else lib.optim.Adam(groups, lr=0.1))
        out.append((opt, make(lib, opt)))
    (topt, ts), (gopt, gs) = out
    for _ in range(steps):
        topt.step()
        gopt.step()
        ts.step()
        gs.step()
        np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=0)
    return ts, gs


def _sl(lib):
    return lib.optim.lr_scheduler


@pytest.mark.parametrize("name,kw", [
    ("StepLR", dict(step_size=3)), ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=40, three_phase=True,
                        anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=[0.1, 0.2], total_steps=30)),
], ids=lambda v: str(v)[:30])
def test_scheduler_state_dict_keys_and_resume(name, kw):
    ts, gs = _sched_pair(lambda lib, o: getattr(_sl(lib), name)(o, **kw), steps=12)
    tsd, gsd = ts.state_dict(), gs.state_dict()
    assert set(gsd) == set(tsd)
    if name == "OneCycleLR":
        assert gsd["_schedule_phases"] == tsd["_schedule_phases"]
        assert gsd["_anneal_func_type"] == tsd["_anneal_func_type"]
    # a fresh scheduler loaded from the state dict goes on as torch's
    gopt = gs.optimizer
    fresh = getattr(_sl(gv), name)(gopt, **kw)
    fresh.load_state_dict(gsd)
    for _ in range(10):
        ts.optimizer.step()
        gopt.step()
        ts.step()
        fresh.step()
        np.testing.assert_allclose(fresh.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("second", ["MultiplicativeLR", "PolynomialLR", "LinearLR"])
def test_sequential_restart_at_a_milestone(second):
    """At a milestone torch restarts the next scheduler with ``_update_lr(0)``, which is not
    the initial step: MultiplicativeLR (no closed form) multiplies, as torch."""
    kws = {"MultiplicativeLR": dict(lr_lambda=lambda e: 0.9),
           "PolynomialLR": dict(total_iters=4, power=2.0),
           "LinearLR": dict(start_factor=0.5, total_iters=4)}

    def make(lib, opt):
        first = _sl(lib).StepLR(opt, step_size=2, gamma=0.5)
        nxt = getattr(_sl(lib), second)(opt, **kws[second])
        return _sl(lib).SequentialLR(opt, [first, nxt], milestones=[5])
    _sched_pair(make, steps=12)


@pytest.mark.parametrize("kw", [dict(total_steps=10.0), dict(total_steps=10, pct_start=1),
                                dict(epochs=2, steps_per_epoch=0), dict()])
def test_one_cycle_errors(kw):
    def make(lib):
        p = lib.tensor(np.ones(2), requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        _sl(lib).OneCycleLR(opt, max_lr=0.1, **kw)
    _same_error(make)


@pytest.mark.parametrize("name,kw", [("PolynomialLR", dict(total_iters=10, power=2.0)),
                                     ("LinearLR", dict(start_factor=0.5, total_iters=10)),
                                     ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9))])
def test_resumed_scheduler_keeps_the_rate_on_its_initial_step(name, kw):
    """Made with ``last_epoch >= 0`` the initial step leaves the rates (torch's
    ``_is_initial``), then the schedule goes on."""
    def make(lib, opt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        return getattr(_sl(lib), name)(opt, last_epoch=3, **kw)
    _sched_pair(make, steps=8)
