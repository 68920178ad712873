"""SequentialLR, ChainedScheduler, CosineAnnealingWarmRestarts and CyclicLR against torch:
the rates (and cycled momentum) step by step, state dicts, and torch's argument errors."""
import re

import numpy as np
import pytest
import torch

import gradviz as gv


def _pair(opt="SGD", groups=1, **okw):
    """The same optimizer in torch and gv over zero weights (one weight per group)."""
    okw = okw or {"lr": 0.1}
    tw = [torch.zeros(1, requires_grad=True) for _ in range(groups)]
    gw = [gv.zeros(1, requires_grad=True) for _ in range(groups)]
    return (getattr(torch.optim, opt)([{"params": [w]} for w in tw], **okw),
            getattr(gv.optim, opt)([{"params": [w]} for w in gw], **okw))


def _both(make, topt, gopt):
    """``make(lr_scheduler_module, optimizer)`` for torch and for gv."""
    return make(torch.optim.lr_scheduler, topt), make(gv.optim.lr_scheduler, gopt)


def _assert_same_rates(ts, gs, topt, gopt, steps=20, keys=("lr",)):
    """Step both (after their optimizers, as torch wants) and compare every step."""
    assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    for _ in range(steps):
        topt.step()
        gopt.step()
        ts.step()
        gs.step()
        assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        for key in keys:
            assert [g[key] for g in gopt.param_groups] == pytest.approx(
                [g[key] for g in topt.param_groups], rel=1e-12, abs=1e-15), key


def _sequential(mod, opt):
    return mod.SequentialLR(opt, [mod.ConstantLR(opt, factor=0.1, total_iters=2),
                                  mod.ExponentialLR(opt, gamma=0.9)], milestones=[2])


def _sequential3(mod, opt):
    return mod.SequentialLR(opt, [mod.LinearLR(opt, start_factor=0.2, total_iters=3),
                                  mod.StepLR(opt, step_size=2, gamma=0.5),
                                  mod.CosineAnnealingLR(opt, T_max=5, eta_min=0.001)],
                            milestones=[3, 7])


def _chained(mod, opt):
    return mod.ChainedScheduler([mod.ConstantLR(opt, factor=0.1, total_iters=2),
                                 mod.ExponentialLR(opt, gamma=0.9)])


def _nested(mod, opt):
    warm = mod.LinearLR(opt, start_factor=0.1, total_iters=4)
    return mod.ChainedScheduler([mod.SequentialLR(opt, [warm, mod.StepLR(opt, step_size=3,
                                                                         gamma=0.5)],
                                                  milestones=[4]),
                                 mod.MultiplicativeLR(opt, lambda e: 0.97)], optimizer=opt)


@pytest.mark.parametrize("make", [_sequential, _sequential3, _chained, _nested],
                         ids=lambda f: f.__name__)
def test_composite_schedulers_match_torch(make):
    topt, gopt = _pair(groups=2)
    ts, gs = _both(make, topt, gopt)
    _assert_same_rates(ts, gs, topt, gopt)
    state = gs.state_dict()
    assert "optimizer" not in state and len(state["_schedulers"]) == len(gs._schedulers)
    assert set(state) == set(ts.state_dict())
    # a fresh copy that loads the state goes on with the same rates
    topt2, gopt2 = _pair(groups=2)
    ts2, gs2 = _both(make, topt2, gopt2)
    ts2.load_state_dict(ts.state_dict())
    gs2.load_state_dict(state)
    for g2, g in zip(gopt2.param_groups, gopt.param_groups):
        g2["lr"] = g["lr"]
    for t2, t in zip(topt2.param_groups, topt.param_groups):
        t2["lr"] = t["lr"]
    _assert_same_rates(ts2, gs2, topt2, gopt2, steps=5)


@pytest.mark.parametrize("kw", [dict(T_0=3), dict(T_0=2, T_mult=2, eta_min=0.01),
                                dict(T_0=4, T_mult=3, eta_min=0.05)], ids=str)
def test_warm_restarts_match_torch(kw):
    topt, gopt = _pair()
    ts, gs = _both(lambda mod, opt: mod.CosineAnnealingWarmRestarts(opt, **kw), topt, gopt)
    _assert_same_rates(ts, gs, topt, gopt, steps=30)
    for epoch in range(12):   # fractional epochs, stepped per batch
        for i in range(4):
            ts.step(epoch + i / 4)
            gs.step(epoch + i / 4)
            assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
            assert (gs.T_cur, gs.T_i, gs.last_epoch) == pytest.approx(
                (ts.T_cur, ts.T_i, ts.last_epoch))


class _Halve:
    """A scale_fn that is an object: its attributes travel in the state dict."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


@pytest.mark.parametrize("opt, okw, kw", [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, dict(base_lr=[0.01, 0.02], max_lr=0.1,
                                               step_size_up=3, step_size_down=5,
                                               mode="triangular2", base_momentum=[0.7, 0.8])),
    ("SGD", {"lr": 0.1}, dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range",
                              gamma=0.9, cycle_momentum=False)),
    ("Adam", {"lr": 0.1}, dict(base_lr=0.001, max_lr=0.01, step_size_up=2,
                               scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations")),
    ("Adam", {"lr": 0.1}, dict(base_lr=0.001, max_lr=0.01, step_size_up=2, scale_fn=_Halve(),
                               max_momentum=0.95)),
    ("Adagrad", {"lr": 0.1}, dict(base_lr=0.01, max_lr=0.1, step_size_up=2,
                                  cycle_momentum=False)),
], ids=lambda v: str(v)[:24])
def test_cyclic_lr_matches_torch(opt, okw, kw):
    topt, gopt = _pair(opt, groups=2, **okw)
    ts, gs = _both(lambda mod, o: mod.CyclicLR(o, **kw), topt, gopt)
    keys = ("lr", "betas" if opt == "Adam" else "momentum") if kw.get(
        "cycle_momentum", True) else ("lr",)
    _assert_same_rates(ts, gs, topt, gopt, steps=25, keys=keys)
    state = gs.state_dict()
    assert set(state) == set(ts.state_dict())
    assert state["_scale_fn_custom"] == ts.state_dict()["_scale_fn_custom"]
    fresh = gv.optim.lr_scheduler.CyclicLR(gopt, **kw)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == gs.last_epoch and fresh.get_last_lr() == gs.get_last_lr()


def test_cyclic_lr_trains_as_torch():
    start = np.array([1.0, -2.0, 0.5])
    tw, gw = torch.tensor(start, requires_grad=True), gv.tensor(start, requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    gopt = gv.optim.SGD([gw], lr=0.1, momentum=0.9)
    ts, gs = _both(lambda mod, o: mod.CyclicLR(o, 0.01, 0.2, step_size_up=3), topt, gopt)
    for _ in range(15):
        for w, o, s in ((tw, topt, ts), (gw, gopt, gs)):
            o.zero_grad()
            (w ** 2).sum().backward()
            o.step()
            s.step()
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-10)


def _bad_sequential(mod, opt):
    return mod.SequentialLR(opt, [mod.ConstantLR(opt)], milestones=[2])


def _plateau_inside(mod, opt):
    return mod.ChainedScheduler([mod.ReduceLROnPlateau(opt)])


def _not_a_scheduler(mod, opt):
    return mod.SequentialLR(opt, [object()], milestones=[])


BAD = [
    lambda mod, opt: mod.SequentialLR(opt, [], milestones=[]),
    lambda mod, opt: mod.ChainedScheduler([]),
    _bad_sequential, _plateau_inside, _not_a_scheduler,
    lambda mod, opt: mod.CosineAnnealingWarmRestarts(opt, T_0=0),
    lambda mod, opt: mod.CosineAnnealingWarmRestarts(opt, T_0=2.5),
    lambda mod, opt: mod.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0),
    lambda mod, opt: mod.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"),
    lambda mod, opt: mod.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1),
    lambda mod, opt: mod.CyclicLR(opt, 0.01, 0.1, mode="sine"),
    lambda mod, opt: mod.CyclicLR(opt, [0.01, 0.02], 0.1),
    lambda mod, opt: mod.CyclicLR(opt, 0.01, 0.1, max_momentum=[0.9, 0.8]),
    lambda mod, opt: mod.CyclicLR(object(), 0.01, 0.1),
]


@pytest.mark.parametrize("make", BAD)
def test_bad_arguments_raise_as_torch(make):
    topt, gopt = _pair(momentum=0.9, lr=0.1)
    with pytest.raises(Exception) as ref:
        make(torch.optim.lr_scheduler, topt)
    with pytest.raises(type(ref.value), match=re.escape(str(ref.value))):
        make(gv.optim.lr_scheduler, gopt)


def test_errors_naming_optimizers():
    for lib in (torch, gv):
        w = lib.zeros(1, requires_grad=True)
        opt, other, mod = lib.optim.SGD([w], lr=0.1), lib.optim.SGD([w]), lib.optim.lr_scheduler
        with pytest.raises(ValueError, match="expects all schedulers to belong to the same"):
            mod.SequentialLR(opt, [mod.ConstantLR(other)], milestones=[])
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            mod.CyclicLR(lib.optim.Adagrad([w]), 0.01, 0.1)
    with pytest.raises(gv.GradvizError):
        gv.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="sine")
