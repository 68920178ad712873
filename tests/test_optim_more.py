"""gv.optim's other optimizers (Adamax, NAdam, RAdam, Adadelta, Rprop, ASGD, Adafactor, LBFGS)
against torch.optim: trajectories, defaults, errors, param groups, state dicts both ways,
events, and a run on a (fake) CUDA device. Schedulers: test_lr_scheduler_more.py; nn.init:
test_init_more.py."""
import copy
import inspect
import re

import numpy as np
import pytest
import torch
from optim_helpers import to_gv
from test_cuda import dev, on_device  # noqa: F401 - dev: the (fake) CUDA device fixture
from test_optim import _cls, _init, _loss, _run

import gradviz as gv

CASES = [
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.5), weight_decay=0.1)),    # never rectified
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.6), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.06))),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=2, weight_decay=0.1)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-3, 1e-2), d=1.1, weight_decay=0.1)),
]
NAMES = sorted({name for name, _ in CASES})
NOT_HERE = set()   # torch's kernel choices (foreach, fused ...) are accepted too
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}


def _make(name, kw):
    return lambda lib, params: _cls(lib, name)(params, **kw)


def _host(v):
    """Nested torch / gv tensors as NumPy arrays (lists stay lists)."""
    if isinstance(v, (list, tuple)):
        return [_host(x) for x in v]
    if v is None:
        return None
    return np.asarray(v.detach().numpy() if isinstance(v, torch.Tensor) else
                      v.cpu().numpy() if isinstance(v, gv.Tensor) else v)


def _assert_same_state(got, ref, **tol):
    assert set(got) == set(ref)
    for key, value in ref.items():
        a, b = _host(value), _host(got[key])
        if isinstance(a, list):
            assert len(a) == len(b), key
            for x, y in zip(a, b):
                assert (x is None) == (y is None), key
                if x is not None:
                    np.testing.assert_allclose(y, x, err_msg=key, **tol)
        else:
            assert a.shape == b.shape, key
            np.testing.assert_allclose(b, a, err_msg=key, **tol)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trajectory_matches_torch(name, kw, dtype):
    ref, _, _ = _run("torch", _make(name, kw), steps=8, dtype=dtype)
    got, _, _ = _run("gv", _make(name, kw), steps=8, dtype=dtype)
    for step_ref, step_got in zip(ref, got):
        for a, b in zip(step_ref, step_got):
            assert b.dtype == a.dtype
            np.testing.assert_allclose(b, a, **TOL[dtype])


@pytest.mark.parametrize("name", NAMES + ["LBFGS"])
def test_defaults_and_signature_match_torch(name):
    w = [torch.zeros(2, requires_grad=True)]
    tgroup = _cls("torch", name)(w).param_groups[0]
    ggroup = _cls("gv", name)([gv.zeros(2, requires_grad=True)]).param_groups[0]
    assert set(ggroup) == set(tgroup) - NOT_HERE
    assert all(ggroup[k] == tgroup[k] for k in ggroup if k != "params")
    tsig = inspect.signature(_cls("torch", name)).parameters
    gsig = inspect.signature(_cls("gv", name)).parameters
    assert [k for k in tsig if k not in NOT_HERE] == list(gsig)
    assert all(gsig[k].default == tsig[k].default for k in gsig)


def _groups_run(lib, name, kw, steps=6):
    """Two groups, a third added half-way, zero_grad both ways."""
    arrays, x = _init()
    lib_tensor = torch.tensor if lib == "torch" else gv.tensor
    ws = [lib_tensor(a, requires_grad=True) for a in arrays]
    xt = lib_tensor(x)
    opt = _cls(lib, name)([{"params": [ws[0]]}, {"params": [ws[1]], "lr": 0.003}], **kw)
    for i in range(steps):
        if i == steps // 2:
            opt.add_param_group({"params": ws[2], "lr": 0.02})
        opt.zero_grad(set_to_none=i % 2 == 0)
        _loss(lib, ws, xt).backward()
        opt.step()
    return [w.detach().numpy() for w in ws], opt


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_add_param_group_and_zero_grad(name):
    ref, topt = _groups_run("torch", name, dict(lr=0.01))
    got, gopt = _groups_run("gv", name, dict(lr=0.01))
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert [g["lr"] for g in gopt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert set(gopt.param_groups[2]) == set(topt.param_groups[2]) - NOT_HERE


def _resume(lib, name, start, state_dict, steps=2):
    """Fresh weights ``start`` and a fresh optimizer that loads ``state_dict``; two steps."""
    _, x = _init()
    ws = [lib.tensor(a.copy(), requires_grad=True) for a in start]
    opt = _cls(lib.__name__, name)(ws, lr=123.0)
    opt.load_state_dict(state_dict)
    assert opt.param_groups[0]["params"][0] is ws[0] and opt.param_groups[0]["lr"] != 123.0
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib.__name__, ws, lib.tensor(x)).backward()
        opt.step()
    return [w.detach().numpy() for w in ws], opt


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[1]], ids=lambda v: str(v)[:20])
def test_state_dicts_map_both_ways(name, kw, tmp_path):
    _, topt, tws = _run("torch", _make(name, kw), steps=3)
    _, gopt, _ = _run("gv", _make(name, kw), steps=3)
    tsd, gsd = copy.deepcopy(topt.state_dict()), gopt.state_dict()
    assert sorted(gsd["state"]) == sorted(tsd["state"])
    for i in tsd["state"]:
        _assert_same_state(gsd["state"][i], tsd["state"][i], rtol=1e-4, atol=1e-6)
    group = {k: v for k, v in tsd["param_groups"][0].items() if k not in NOT_HERE}
    assert gsd["param_groups"][0] == group

    # torch's state dict loaded here, and gv's saved and loaded: both go on as torch does
    start = [w.detach().numpy().copy() for w in tws]
    ref, _ = _resume(torch, name, start, copy.deepcopy(tsd))   # torch steps what it loads
    gv.save(gsd, tmp_path / "opt.gv")
    as_lists = to_gv(tsd)
    as_lists["param_groups"] = [{k: list(v) if isinstance(v, tuple) else v
                                 for k, v in g.items()} for g in tsd["param_groups"]]
    for sd in (as_lists, gv.load(tmp_path / "opt.gv")):
        got, opt = _resume(gv, name, start, sd)
        assert [k for k, v in opt.param_groups[0].items() if isinstance(v, tuple)] == \
            [k for k, v in group.items() if isinstance(v, tuple)]
        for a, b in zip(ref, got):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


BAD = [
    ("Adamax", dict(lr=-1)), ("Adamax", dict(betas=(1.0, 0.9))), ("Adamax", dict(eps=-1e-3)),
    ("Adamax", dict(weight_decay=-1)), ("NAdam", dict(momentum_decay=-1)),
    ("NAdam", dict(betas=(0.9, 1.5))), ("RAdam", dict(weight_decay=-0.1)),
    ("RAdam", dict(betas=(-0.1, 0.9))), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(lr=-1)),
    ("Adadelta", dict(eps=-1)), ("Adadelta", dict(weight_decay=-2)),
    ("Rprop", dict(etas=(1.1, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))), ("Rprop", dict(lr=-1)),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)), ("LBFGS", dict(lr=-1)),
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1, 1e-3))), ("Adafactor", dict(eps=(None, -1))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1)),
]


@pytest.mark.parametrize("name,kw", BAD, ids=lambda v: str(v)[:20])
def test_bad_arguments_raise_as_torch(name, kw):
    with pytest.raises(Exception) as ref:
        _cls("torch", name)([torch.zeros(1, requires_grad=True)], **kw)
    with pytest.raises(type(ref.value), match=re.escape(str(ref.value))) as got:
        _cls("gv", name)([gv.zeros(1, requires_grad=True)], **kw)
    assert isinstance(got.value, gv.GradvizError)


# ---- LBFGS --------------------------------------------------------------------------------
def _lbfgs_run(lib, kw, dtype, steps=4, state=None):
    arrays, x = _init(dtype=dtype)
    lib_tensor = torch.tensor if lib == "torch" else gv.tensor
    ws = [lib_tensor(a, requires_grad=True) for a in arrays]
    xt = lib_tensor(x)
    opt = _cls(lib, "LBFGS")(ws, **kw)
    if state is not None:
        opt.load_state_dict(state)

    def closure():
        opt.zero_grad()
        loss = _loss(lib, ws, xt)
        loss.backward()
        return loss
    out = []
    for _ in range(steps):
        loss = opt.step(closure)
        out.append(([w.detach().numpy().copy() for w in ws], loss.item()))
    return out, opt


LBFGS_CASES = [dict(), dict(lr=0.5, history_size=3, max_iter=7), dict(tolerance_grad=1e-2),
               dict(line_search_fn="strong_wolfe"),
               dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5,
                    tolerance_change=1e-5)]


@pytest.mark.parametrize("kw", LBFGS_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lbfgs_matches_torch(kw, dtype):
    ref, topt = _lbfgs_run("torch", kw, dtype)
    got, gopt = _lbfgs_run("gv", kw, dtype)
    tol = dict(rtol=1e-2, atol=2e-3) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-10)
    for (tw, tloss), (gw, gloss) in zip(ref, got):
        assert gloss == pytest.approx(tloss, rel=tol["rtol"], abs=tol["atol"])
        for a, b in zip(tw, gw):
            assert b.dtype == a.dtype
            np.testing.assert_allclose(b, a, **tol)
    tstate = topt.state_dict()["state"][0]
    gstate = gopt.state_dict()["state"][0]
    assert (gstate["func_evals"], gstate["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])
    if dtype == np.float64:
        _assert_same_state(gstate, tstate, rtol=1e-6, atol=1e-9)


def test_lbfgs_resumes_from_torch_state_and_checks_arguments():
    kw = dict(history_size=4, max_iter=5)
    ref, topt = _lbfgs_run("torch", kw, np.float64, steps=2)
    sd = topt.state_dict()
    more, _ = _lbfgs_run("torch", kw, np.float64, steps=2, state=copy.deepcopy(sd))
    got, gopt = _lbfgs_run("gv", kw, np.float64, steps=2, state=to_gv(sd))
    for (tw, _), (gw, _) in zip(more, got):
        for a, b in zip(tw, gw):
            np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-10)
    w = gv.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        gv.optim.LBFGS([{"params": [w]}, {"params": [gv.zeros(1, requires_grad=True)]}])
    opt = gv.optim.LBFGS([w], line_search_fn="armijo")

    def closure():
        loss = ((w - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_minimises_a_quadratic_and_emits_updates():
    target, scale = gv.tensor(np.array([1.0, -2.0, 3.0])), gv.tensor(np.array([1.0, 10, 100]))
    w = gv.zeros(3, requires_grad=True, dtype=gv.float64)
    w._name = "w"
    opt = gv.optim.LBFGS([w], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - target) ** 2 * scale).sum()
        loss.backward()
        return loss
    with gv.trace.record() as rec:
        opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), target.numpy(), atol=1e-6)
    ups = [e for e in rec.events if e["type"] == "param_update"]
    assert [(e["name"], e["optimizer"]) for e in ups] == [("w", "LBFGS")]
    assert {"d", "prev_flat_grad"} <= set(ups[0]["state"])
    assert opt.step(closure).item() < 1e-10


def test_new_optimizer_state_in_events():
    w = gv.ones(3, requires_grad=True)
    opt = gv.optim.NAdam([w], lr=0.1)
    with gv.trace.record() as rec:
        (w * 2).sum().backward()
        opt.step()
    ev = [e for e in rec.events if e["type"] == "param_update"][0]
    assert set(ev["state"]) == {"exp_avg", "exp_avg_sq", "mu_product"}
    assert ev["optimizer"] == "NAdam" and ev["ratio"] > 0


# ---- on a device --------------------------------------------------------------------------
@pytest.mark.parametrize("name,kw", [c for c in CASES if c[1]] + [("LBFGS", {}),
                         ("LBFGS", {"line_search_fn": "strong_wolfe"})],
                         ids=lambda v: str(v)[:20])
def test_optimizers_on_cuda_match_cpu(name, kw, dev):
    arrays, x = _init()
    runs = []
    for device in ("cpu", dev):
        ws = [gv.tensor(a, device=device, requires_grad=True) for a in arrays]
        xt = gv.tensor(x, device=device)
        opt = _cls("gv", name)(ws, **kw)

        def closure():
            opt.zero_grad()
            loss = _loss("gv", ws, xt)
            loss.backward()
            return loss
        for _ in range(3):
            if name == "LBFGS":
                opt.step(closure)
            else:
                closure()
                opt.step()
        runs.append(ws)
        for state in opt.state.values():
            for key, value in state.items():
                if key in gv.optim.optimizer.HOST_SCALARS:   # read each step: kept on host
                    assert type(value._data) is np.ndarray, key
                elif isinstance(value, gv.Tensor) and device != "cpu":
                    assert on_device(value), key
    for c, g in zip(*runs):
        assert on_device(g)
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), 1e-4, 1e-5)
