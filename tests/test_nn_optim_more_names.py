"""torch 2.13 names added to gv.optim and gv.nn: optim.Muon, nn.DataParallel,
F.native_channel_shuffle and F.conv_tbc, each compared with torch in float64."""
import inspect

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError

RNG = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


# ---- optim.Muon ---------------------------------------------------------------------------------
def test_muon_signature_matches_torch():
    g = inspect.signature(gv.optim.Muon).parameters
    t = inspect.signature(torch.optim.Muon).parameters
    assert list(g) == list(t)
    assert all(g[k].default == t[k].default for k in t if k != "params")
    assert "Muon" in gv.optim.__all__


def _muon_run(lib, arrays, steps=5, **kw):
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    opt = lib.optim.Muon(params, **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((params[0] @ params[1]).tanh() ** 2).sum() + (params[2] ** 3).sum()
        loss.backward()
        opt.step()
    return params, opt


@pytest.mark.parametrize("kw", [
    {},
    dict(nesterov=False),
    dict(lr=0.05, momentum=0.5, weight_decay=0.01, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.02, weight_decay=0, adjust_lr_fn="original", ns_steps=3, eps=1e-3),
    dict(lr=0.1, momentum=0.0, ns_coefficients=(2.0, -1.5, 0.5)),
])
def test_muon_five_steps_and_state_dict_match_torch(kw):
    arrays = [RNG.standard_normal(s) for s in [(5, 3), (3, 6), (4, 4)]]
    gp, go = _muon_run(gv, arrays, **kw)
    tp, to = _muon_run(torch, arrays, **kw)
    for g, t in zip(gp, tp):
        # the Newton-Schulz iteration runs in bfloat16 in torch; gradviz rounds likewise
        np.testing.assert_allclose(_np(g), _np(t), rtol=1e-12, atol=1e-12)
    gs, ts = go.state_dict(), to.state_dict()
    assert gs["param_groups"] == ts["param_groups"]
    assert gs["state"].keys() == ts["state"].keys()
    for i, st in ts["state"].items():
        assert gs["state"][i].keys() == st.keys() == {"momentum_buffer"}
        np.testing.assert_allclose(_np(gs["state"][i]["momentum_buffer"]),
                                   _np(st["momentum_buffer"]), rtol=1e-12, atol=1e-14)


def test_muon_load_state_dict_from_torch_continues_as_torch():
    arrays = [RNG.standard_normal(s) for s in [(4, 3), (3, 5), (2, 2)]]
    tp, to = _muon_run(torch, arrays, steps=2, lr=0.03)
    gp = [gv.tensor(_np(t), requires_grad=True) for t in tp]
    go = gv.optim.Muon(gp, lr=0.03)
    go.load_state_dict({"state": {i: {k: gv.tensor(_np(v)) for k, v in s.items()}
                                  for i, s in to.state_dict()["state"].items()},
                        "param_groups": to.state_dict()["param_groups"]})
    for lib, params, opt in ((gv, gp, go), (torch, tp, to)):
        opt.zero_grad()
        ((params[0] @ params[1]).sin().sum() + params[2].sum()).backward()
        opt.step()
    for g, t in zip(gp, tp):
        np.testing.assert_allclose(_np(g), _np(t), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (dict(momentum=-0.1), "momentum should be >= 0 but is: -0.1"),
    (dict(weight_decay=-0.1), "weight decay should be >= 0 but is: -0.1"),
    (dict(adjust_lr_fn="nope"), "Adjust learning rate function nope is not supported"),
])
def test_muon_argument_checks_match_torch(kw, match):
    with pytest.raises(ValueError, match=match):
        torch.optim.Muon([torch.zeros(2, 2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=match):
        gv.optim.Muon([gv.zeros(2, 2, requires_grad=True)], **kw)


def test_muon_refuses_non_2d_params_and_bad_ns_settings():
    for lib in (torch, gv):
        with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
            lib.optim.Muon([lib.zeros(3, requires_grad=True)])
        for kw, match in ((dict(ns_steps=100), "less than 100"),
                          (dict(ns_coefficients=(1.0, 2.0)), "exactly 3 values")):
            p = lib.ones(2, 3, requires_grad=True)
            opt = lib.optim.Muon([p], **kw)
            p.sum().backward()
            with pytest.raises(ValueError, match=match):
                opt.step()


# ---- nn.DataParallel ----------------------------------------------------------------------------
def test_data_parallel_wraps_and_forwards_as_torch_on_cpu():
    w, b, x = RNG.standard_normal((3, 4)), RNG.standard_normal(3), RNG.standard_normal((2, 4))
    outs = []
    for lib in (gv, torch):
        lin = lib.nn.Linear(4, 3).double()
        lin.load_state_dict({"weight": lib.tensor(w), "bias": lib.tensor(b)})
        dp = lib.nn.DataParallel(lin, device_ids=None, output_device=None, dim=0)
        assert dp.module is lin and dp.device_ids == []
        assert lib.nn.parallel.DataParallel is lib.nn.DataParallel
        xt = lib.tensor(x, requires_grad=True)
        y = dp(xt)
        y.pow(2).sum().backward()
        outs.append((y, xt.grad, lin.weight.grad, list(dp.state_dict()), repr(dp),
                     [n for n, _ in dp.named_parameters()]))
    (gy, gx, gw, gkeys, grepr, gnames), (ty, tx, tw, tkeys, trepr, tnames) = outs
    np.testing.assert_allclose(_np(gy), _np(ty), rtol=1e-12)
    np.testing.assert_allclose(_np(gx), _np(tx), rtol=1e-12)
    np.testing.assert_allclose(_np(gw), _np(tw), rtol=1e-12)
    assert gkeys == tkeys == ["module.weight", "module.bias"]
    assert gnames == tnames
    assert grepr == trepr


def test_data_parallel_load_state_dict_with_module_prefix():
    src = torch.nn.DataParallel(torch.nn.Linear(2, 2).double())
    dp = gv.nn.DataParallel(gv.nn.Linear(2, 2).double())
    dp.load_state_dict({k: gv.tensor(_np(v)) for k, v in src.state_dict().items()})
    np.testing.assert_array_equal(_np(dp.module.weight), _np(src.module.weight))


# ---- F.native_channel_shuffle, F.conv_tbc -------------------------------------------------------
def test_native_channel_shuffle_matches_torch():
    x = RNG.standard_normal((2, 6, 3, 2))
    g = gv.tensor(x, requires_grad=True)
    out = gv.nn.functional.native_channel_shuffle(g, 3)
    np.testing.assert_array_equal(
        _np(out), _np(torch.nn.functional.native_channel_shuffle(torch.tensor(x), 3)))
    (out * gv.tensor(x)).sum().backward()     # a permutation: grad = the weights, unshuffled
    np.testing.assert_array_equal(
        _np(g.grad), _np(torch.nn.functional.channel_shuffle(torch.tensor(x), 2)))
    for lib in (torch, gv):
        with pytest.raises(RuntimeError, match="divisible by groups"):
            lib.nn.functional.native_channel_shuffle(lib.zeros(2, 4, 3), 3)


@pytest.mark.parametrize("time, width, pad", [(5, 2, 0), (5, 3, 1), (4, 1, 2), (6, 3, -1),
                                              (5, 2, -2), (2, 3, 0)])
def test_conv_tbc_values_and_grads_match_torch(time, width, pad):
    arrays = [RNG.standard_normal(s) for s in [(time, 2, 3), (width, 3, 4), (4,)]]
    res = []
    for lib in (gv, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.nn.functional.conv_tbc(*ts, pad)
        out.sin().sum().backward()
        res.append([out] + [t.grad for t in ts])
    assert tuple(res[0][0].shape) == tuple(res[1][0].shape)
    for g, t in zip(*res):
        np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10, atol=1e-12)


def test_conv_tbc_finite_differences():
    arrays = [RNG.standard_normal(s) for s in [(4, 2, 3), (2, 3, 2), (2,)]]
    ts = [gv.tensor(a, requires_grad=True) for a in arrays]
    assert gv.autograd.gradcheck(lambda *a: gv.nn.functional.conv_tbc(*a, 1), ts)


@pytest.mark.parametrize("shapes, match", [
    ([(5, 3), (2, 3, 4), (4,)], "Input must have 3 dims"),
    ([(5, 2, 3), (3, 4), (4,)], "Weight tensor must have 3 dims"),
    ([(5, 2, 3), (2, 3, 4), (1, 4)], "Bias must be 1-D"),
    ([(5, 2, 3), (2, 3, 4), (2,)], "Bias size must equal dim 2"),
    ([(5, 2, 2), (2, 3, 4), (4,)], "Input dim 2 \\(input channels\\)"),
    ([(1, 2, 3), (3, 3, 4), (4,)], "negative dimension -1"),
])
def test_conv_tbc_errors_match_torch(shapes, match):
    for lib in (torch, gv):
        with pytest.raises(RuntimeError, match=match):
            lib.nn.functional.conv_tbc(*[lib.zeros(*s) for s in shapes])
    for lib in (torch, gv):
        with pytest.raises(TypeError, match="must be Tensor"):
            lib.nn.functional.conv_tbc(lib.zeros(3, 1, 2), lib.zeros(1, 2, 2), None)


def test_data_parallel_refuses_several_devices_on_a_gpu(monkeypatch):
    from gradviz.nn import parallel
    monkeypatch.setattr(parallel, "cuda_available", lambda: True)
    with pytest.raises(GradvizError, match="one device"):
        gv.nn.DataParallel(gv.nn.Linear(2, 2), device_ids=[0, 1])


# ---- device-generic paths on the fake CuPy (tests/fake_cupy.py: no GPU, only the code paths) --
def test_muon_and_data_parallel_on_fake_cuda(monkeypatch):
    import fake_cupy
    fake_cupy.install(monkeypatch)
    arrays = [RNG.standard_normal(s) for s in [(5, 3), (3, 6), (4, 4)]]
    gp = [gv.tensor(a, device="cuda", requires_grad=True) for a in arrays]
    opt = gv.optim.Muon(gp, lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        ((gp[0] @ gp[1]).tanh().pow(2).sum() + gp[2].pow(3).sum()).backward()
        opt.step()
    tp, _ = _muon_run(torch, arrays, steps=3, lr=0.05)
    for g, t in zip(gp, tp):
        assert g.device.type == "cuda"
        np.testing.assert_allclose(g.cpu().detach().numpy(), _np(t), rtol=1e-12, atol=1e-12)
    dp = gv.nn.DataParallel(gv.nn.Linear(4, 3).double())
    assert dp.device_ids == [0] and dp.output_device == 0 and dp.dim == 0
    assert dp.module.weight.device.type == "cuda"
    y = dp(gv.tensor(RNG.standard_normal((2, 4))))     # the input follows the module
    assert y.device.type == "cuda" and tuple(y.shape) == (2, 3)
