"""gv.optim.swa_utils against torch.optim.swa_utils: AveragedModel (SWA mean, EMA through
avg_fn and multi_avg_fn, use_buffers), SWALR's rates and update_bn's BatchNorm statistics."""
import numpy as np
import pytest
import torch

import gradviz as gv
from nn_twin import load_from_torch

R = np.random.default_rng(0)
XS = [R.standard_normal((8, 3)) for _ in range(4)]


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1)).double()


def _train(lib, model, avg, steps=4):
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    for x in XS[:steps]:
        opt.zero_grad()
        (model(lib.tensor(x)) ** 2).mean().backward()
        opt.step()
        avg.update_parameters(model)


def _make_pair():
    torch.manual_seed(0)
    tm = _model(torch)
    gm = _model(gv)
    load_from_torch(gm, tm)
    return gm, tm


@pytest.mark.parametrize("how", ["swa", "ema multi", "ema avg_fn", "use_buffers"])
def test_averaged_model_matches_torch(how):
    gm, tm = _make_pair()
    made = []
    for lib, m in ((gv, gm), (torch, tm)):
        S = lib.optim.swa_utils
        kw = {"swa": {}, "ema multi": {"multi_avg_fn": S.get_ema_multi_avg_fn(0.9)},
              "ema avg_fn": {"avg_fn": S.get_ema_avg_fn(0.9)},
              "use_buffers": {"use_buffers": True}}[how]
        avg = S.AveragedModel(m, **kw)
        _train(lib, m, avg)
        made.append(avg)
    gsd, tsd = made[0].state_dict(), made[1].state_dict()
    assert list(gsd) == list(tsd)
    for k in tsd:
        np.testing.assert_allclose(np.asarray(gsd[k].numpy(), dtype=float),
                                   np.asarray(tsd[k].numpy(), dtype=float), rtol=1e-10,
                                   atol=1e-12, err_msg=k)
    x = XS[0]
    made[0].eval()
    made[1].eval()
    np.testing.assert_allclose(made[0](gv.tensor(x)).detach().numpy(),
                               made[1](torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_update_bn_recomputes_the_statistics_as_torch():
    gm, tm = _make_pair()
    for lib, m in ((gv, gm), (torch, tm)):
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(
            lib.tensor(np.concatenate(XS))), batch_size=8)
        m.eval()
        lib.optim.swa_utils.update_bn(loader, m)
        assert not m.training and m[1].momentum == 0.1
    for k in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        np.testing.assert_allclose(np.asarray(gm.state_dict()[k].numpy(), dtype=float),
                                   np.asarray(tm.state_dict()[k].numpy(), dtype=float),
                                   rtol=1e-10, err_msg=k)


@pytest.mark.parametrize("strategy, epochs", [("cos", 3), ("linear", 4), ("cos", 0)])
def test_swalr_rates_match_torch(strategy, epochs):
    rates = []
    for lib in (gv, torch):
        p = lib.zeros(2, requires_grad=True)
        q = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.2], anneal_epochs=epochs,
                                          anneal_strategy=strategy)
        seen = [sched.get_last_lr()]
        for _ in range(6):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr())
        rates.append(seen)
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-12)
    with pytest.raises(ValueError, match="anneal_strategy"):
        gv.optim.swa_utils.SWALR(opt if False else gv.optim.SGD([gv.zeros(1, requires_grad=True)],
                                                                 lr=0.1), 0.1, anneal_strategy="x")


def test_multi_avg_fns_on_float_and_integer_tensors_as_torch():
    out = []
    for lib in (gv, torch):
        S = lib.optim.swa_utils
        got = []
        for make in (S.get_swa_multi_avg_fn, lambda: S.get_ema_multi_avg_fn(0.9)):
            floats = [lib.tensor([1.0, 2.0], dtype=lib.float64)]
            ints = [lib.tensor(3)]
            make()(floats, [lib.tensor([5.0, -1.0], dtype=lib.float64)], lib.tensor(2))
            if make is not S.get_swa_multi_avg_fn:   # torch's SWA one refuses integers
                make()(ints, [lib.tensor(10)], lib.tensor(2))
            got.append((floats[0].tolist(), ints[0].tolist()))
        out.append(got)
    for (gf, gi), (tf, ti) in zip(*out):   # torch's weight 1/(n+1) is a float32 tensor
        np.testing.assert_allclose(gf, tf, rtol=1e-7)
        assert gi == ti
