"""gv.optim against torch.optim: trajectories, param groups, state dicts, schedulers, events."""
import numpy as np
import pytest
import torch

import gradviz as gv

STEPS = 6


def _init(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in ((5, 3), (5,), (2, 5))], \
        rng.standard_normal((7, 3)).astype(dtype)


def _loss(lib, ws, x):
    """A small two-layer net; the same expression in torch and gradviz."""
    w1, b1, w2 = ws
    h = (x @ w1.T + b1).tanh()
    return ((h @ w2.T) ** 2).mean() + (w1 * w1).sum() * 0.01


def _run(lib, make_opt, steps=STEPS, dtype=np.float32, groups=None):
    arrays, x = _init(dtype=dtype)
    if lib == "torch":
        ws = [torch.tensor(a, requires_grad=True) for a in arrays]
        xt = torch.tensor(x)
    else:
        ws = [gv.tensor(a, requires_grad=True) for a in arrays]
        xt = gv.tensor(x)
    params = ws if groups is None else [dict(g, params=[ws[i] for i in idx])
                                        for idx, g in groups]
    opt = make_opt(lib, params)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, ws, xt).backward()
        opt.step()
        traj.append([w.detach().numpy().copy() for w in ws])
    return traj, opt, ws


def _cls(lib, name):
    return getattr((torch.optim if lib == "torch" else gv.optim), name)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trajectory_matches_torch(name, kw, dtype):
    def make(lib, params):
        return _cls(lib, name)(params, **kw)
    ref, _, _ = _run("torch", make, dtype=dtype)
    got, _, _ = _run("gv", make, dtype=dtype)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    for step_ref, step_got in zip(ref, got):
        for a, b in zip(step_ref, step_got):
            assert b.dtype == a.dtype
            np.testing.assert_allclose(b, a, **tol)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_own_lr(name):
    groups = [([0, 1], dict(lr=0.1)), ([2], dict(lr=0.001))]

    def make(lib, params):
        return _cls(lib, name)(params, lr=0.01, **({"momentum": 0.9} if name == "SGD" else {}))
    ref, topt, _ = _run("torch", make, groups=groups)
    got, gopt, _ = _run("gv", make, groups=groups)
    for a, b in zip(ref[-1], got[-1]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert [g["lr"] for g in gopt.param_groups] == [0.1, 0.001]
    assert gopt.param_groups[1]["momentum" if name == "SGD" else "eps"] == \
        topt.param_groups[1]["momentum" if name == "SGD" else "eps"]


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.2)),
                                     ("Adagrad", dict(lr=0.1))])
def test_state_dict_layout_and_round_trip(name, kw, tmp_path):
    def make(lib, params):
        return _cls(lib, name)(params, **kw)
    _, topt, _ = _run("torch", make, steps=3)
    _, gopt, ws = _run("gv", make, steps=3)
    tsd, gsd = topt.state_dict(), gopt.state_dict()
    assert sorted(gsd["state"]) == sorted(tsd["state"]) == [0, 1, 2]
    for i in tsd["state"]:
        assert set(gsd["state"][i]) == set(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            np.testing.assert_allclose(gsd["state"][i][k].numpy(), v.numpy(), rtol=1e-4,
                                       atol=1e-5)
    assert [g["params"] for g in gsd["param_groups"]] == [[0, 1, 2]]
    for k, v in tsd["param_groups"][0].items():
        if k in gsd["param_groups"][0]:
            assert gsd["param_groups"][0][k] == v

    # save -> new optimizer on copies of the weights -> load -> the same next steps
    path = tmp_path / "opt.gv"
    gv.save(gsd, path)
    copies = [gv.tensor(w.detach().numpy().copy(), requires_grad=True) for w in ws]
    fresh = _cls("gv", name)(copies, **dict(kw, lr=123.0))
    fresh.load_state_dict(gv.load(path))
    assert fresh.param_groups[0]["lr"] == kw["lr"] and fresh.param_groups[0]["params"][0] is \
        copies[0]
    _, x = _init()
    for params, opt in ((ws, gopt), (copies, fresh)):
        for _ in range(2):
            opt.zero_grad()
            _loss("gv", params, gv.tensor(x)).backward()
            opt.step()
    for a, b in zip(ws, copies):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_torch_state_dict_into_gv():
    def make(lib, params):
        return _cls(lib, "Adam")(params, lr=0.01)
    ref, topt, tws = _run("torch", make, steps=3)
    _, gopt, gws = _run("gv", make, steps=3)
    sd = topt.state_dict()
    conv = {"state": {i: {k: gv.tensor(v.numpy()) for k, v in s.items()}
                      for i, s in sd["state"].items()},
            "param_groups": sd["param_groups"]}
    for w, t in zip(gws, tws):
        w.data = gv.tensor(t.detach().numpy().copy())
    gopt.load_state_dict(conv)
    assert float(gopt.state[gws[0]]["step"]) == 3.0


def test_zero_grad_and_identity():
    w = gv.randn(3, requires_grad=True)
    arr = w._data
    opt = gv.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w._data is arr  # updated in place: views and identity survive
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.numpy().any()
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # no grad: nothing happens


def test_bad_arguments():
    w = gv.randn(2, requires_grad=True)
    with pytest.raises(gv.GradvizError):
        gv.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError):
        gv.optim.SGD([w], lr=-1)
    with pytest.raises(ValueError):
        gv.optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(gv.GradvizError):
        gv.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    opt = gv.optim.Adam([w])
    with pytest.raises(gv.GradvizError):
        opt.load_state_dict({"state": {}, "param_groups": []})


@pytest.mark.parametrize("sched,kw", [("StepLR", dict(step_size=3, gamma=0.5)),
                                      ("ExponentialLR", dict(gamma=0.9)),
                                      ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
                                      ("CosineAnnealingLR", dict(T_max=5)),
                                      ("MultiStepLR", dict(milestones=[3, 7, 7], gamma=0.5)),
                                      ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
                                      ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
                                      ("ConstantLR", dict(factor=0.5, total_iters=4)),
                                      ("LinearLR", dict(start_factor=0.25, total_iters=6)),
                                      ("PolynomialLR", dict(total_iters=8, power=2.0))])
def test_schedulers_match_torch(sched, kw):
    tw = torch.zeros(1, requires_grad=True)
    gw = gv.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([{"params": [tw]}], lr=0.1)
    gopt = gv.optim.SGD([{"params": [gw]}], lr=0.1)
    ts = getattr(torch.optim.lr_scheduler, sched)(topt, **kw)
    gs = getattr(gv.optim.lr_scheduler, sched)(gopt, **kw)
    assert gs.get_last_lr() == pytest.approx(ts.get_last_lr())
    for _ in range(13):
        topt.step()
        gopt.step()
        ts.step()
        gs.step()
        assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        assert gopt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])
    state = gs.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 13


@pytest.mark.parametrize("opt, okw, kw", [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"max_lr": 1.0, "total_steps": 21}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"max_lr": 1.0, "total_steps": 21, "three_phase": True,
                                          "anneal_strategy": "linear"}),
    ("Adam", {"lr": 0.1}, {"max_lr": 0.5, "epochs": 3, "steps_per_epoch": 7}),
])
def test_one_cycle_matches_torch_rates_momentum_and_weights(opt, okw, kw):
    start = np.array([1.0, -2.0, 0.5])
    tw, gw = torch.tensor(start, requires_grad=True), gv.tensor(start, requires_grad=True)
    topt, gopt = getattr(torch.optim, opt)([tw], **okw), getattr(gv.optim, opt)([gw], **okw)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, **kw)
    gs = gv.optim.lr_scheduler.OneCycleLR(gopt, **kw)
    for _ in range(21):
        for w, o in ((tw, topt), (gw, gopt)):
            o.zero_grad()
            (w ** 2).sum().backward()
            o.step()
        ts.step()
        gs.step()
        assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        key = "betas" if opt == "Adam" else "momentum"
        assert gopt.param_groups[0][key] == pytest.approx(topt.param_groups[0][key], rel=1e-12)
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-10)
    with pytest.raises(gv.GradvizError, match="Tried to step"):
        gs.step()
    with pytest.raises(gv.GradvizError, match="total_steps"):
        gv.optim.lr_scheduler.OneCycleLR(gopt, max_lr=1.0)


@pytest.mark.parametrize("kw, metric", [
    ({"patience": 2, "factor": 0.5, "cooldown": 1}, lambda i: 1.0 if i > 3 else 5.0 - i),
    ({"mode": "max", "patience": 1, "threshold_mode": "abs", "threshold": 0.1, "min_lr": 0.02},
     lambda i: (i % 4) * 0.05),
])
def test_reduce_on_plateau_matches_torch(kw, metric):
    tw, gw = torch.zeros(1, requires_grad=True), gv.zeros(1, requires_grad=True)
    topt, gopt = torch.optim.SGD([tw], lr=0.1), gv.optim.SGD([gw], lr=0.1)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    gs = gv.optim.lr_scheduler.ReduceLROnPlateau(gopt, **kw)
    lrs = []
    for i in range(25):
        ts.step(metric(i))
        gs.step(metric(i))
        assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        lrs.append(gs.get_last_lr()[0])
    assert len(set(lrs)) > 1                       # it did reduce
    with pytest.raises(gv.GradvizError, match="Factor"):
        gv.optim.lr_scheduler.ReduceLROnPlateau(gopt, factor=1.5)


def test_param_update_events():
    w = gv.randn(4, 3, requires_grad=True)
    w._name = "fc.weight"
    opt = gv.optim.Adam([w], lr=0.1)
    with gv.trace.record() as rec:
        (w * w).sum().backward()
        before = w.detach().numpy().copy()
        opt.step()
    ups = [e for e in rec.events if e["type"] == "param_update"]
    assert len(ups) == 1
    ev = ups[0]
    assert ev["name"] == "fc.weight" and ev["optimizer"] == "Adam" and ev["lr"] == 0.1
    assert ev["node"] == gv.trace.tensor_node(w)
    delta = w.detach().numpy() - before
    assert ev["update_stats"]["norm"] == pytest.approx(float(np.linalg.norm(delta)), rel=1e-5)
    assert ev["ratio"] == pytest.approx(np.linalg.norm(delta) / np.linalg.norm(before),
                                        rel=1e-5)
    assert set(ev["state"]) == {"exp_avg", "exp_avg_sq"}
    # events arrive in order: the op events of the forward pass came before the update
    kinds = [e["type"] for e in rec.events]
    assert kinds.index("param_update") > kinds.index("op")
    # nobody listening: no events and nothing recorded
    opt.step()
    assert len([e for e in rec.events if e["type"] == "param_update"]) == 1


def test_sgd_momentum_state_in_events():
    w = gv.ones(3, requires_grad=True)
    opt = gv.optim.SGD([w], lr=0.1, momentum=0.9)
    with gv.trace.record() as rec:
        (w * 2).sum().backward()
        opt.step()
    ev = [e for e in rec.events if e["type"] == "param_update"][0]
    assert ev["state"]["momentum_buffer"]["mean"] == pytest.approx(2.0)
    assert ev["update_stats"]["mean"] == pytest.approx(-0.2)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("AdamW", dict(lr=0.01))])
def test_nn_model_trajectory_and_names(name, kw):
    """A torch MLP and its gradviz twin (weights copied) trained side by side."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    gm = gv.nn.Sequential(gv.nn.Linear(4, 8), gv.nn.ReLU(), gv.nn.Linear(8, 3))
    gm.load_state_dict({k: gv.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 4)).astype(np.float32), rng.integers(0, 3, 16)
    topt = _cls("torch", name)(tm.parameters(), **kw)
    gopt = _cls("gv", name)(gm.parameters(), **kw)
    for _ in range(5):
        for m, opt, lib, F in ((tm, topt, torch, torch.nn.functional),
                               (gm, gopt, gv, gv.nn.functional)):
            opt.zero_grad()
            F.cross_entropy(m(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    for (k, tv), (gk, gval) in zip(tm.state_dict().items(), gm.state_dict().items()):
        assert k == gk
        np.testing.assert_allclose(gval.numpy(), tv.numpy(), rtol=1e-4, atol=1e-5)
    with gv.trace.record() as rec:
        gv.nn.functional.cross_entropy(gm(gv.tensor(x)), gv.tensor(y)).backward()
        gopt.step()
    names = [e["name"] for e in rec.events if e["type"] == "param_update"]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
