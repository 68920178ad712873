"""Differences found by the nn / optim audit against torch (tensor lr, scheduler state dicts,
GroupNorm's bias, LayerNorm / ModuleList reprs, init's ``generator``)."""
import inspect

import numpy as np
import pytest
import torch

import gradviz as gv

W0 = np.random.default_rng(0).standard_normal((3, 2))


def _train(lib, make, steps=5):
    w = lib.tensor(W0.copy(), dtype=lib.float64, requires_grad=True)
    opt = make(lib, w)
    for _ in range(steps):
        opt.zero_grad()
        ((w.tanh() - 0.3) ** 2 + w ** 4 * 0.1).sum().backward()
        opt.step()
    return opt, w.detach().numpy()


def _lr(L, value):
    """A float64 tensor lr (a float32 one is rounded differently inside torch's kernels)."""
    return L.tensor(value, dtype=L.float64)


TENSOR_LR = {
    "sgd": lambda L, w: L.optim.SGD([w], lr=_lr(L, 0.1)),
    "sgd_momentum": lambda L, w: L.optim.SGD([w], lr=_lr(L, 0.1), momentum=0.9, nesterov=True),
    "adam": lambda L, w: L.optim.Adam([w], lr=_lr(L, 0.01), amsgrad=True),
    "adamw": lambda L, w: L.optim.AdamW([w], lr=_lr(L, 0.01)),
    "rmsprop": lambda L, w: L.optim.RMSprop([w], lr=_lr(L, 0.01), centered=True),
    "adagrad": lambda L, w: L.optim.Adagrad([w], lr=_lr(L, 0.01)),
}


@pytest.mark.parametrize("name", sorted(TENSOR_LR))
def test_tensor_lr_updates_like_torch(name):
    t_opt, tw = _train(torch, TENSOR_LR[name])
    g_opt, gw = _train(gv, TENSOR_LR[name])
    assert not np.allclose(gw, W0)
    np.testing.assert_allclose(gw, tw, rtol=1e-9, atol=1e-12)
    assert isinstance(g_opt.param_groups[0]["lr"], gv.Tensor)


def test_scheduler_keeps_tensor_lr_a_tensor():
    out = {}
    for lib in (torch, gv):
        w = lib.zeros(2, requires_grad=True)
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([w], lr=lr)
        sch = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        for _ in range(3):
            opt.step()
            sch.step()
        assert opt.param_groups[0]["lr"] is lr   # updated in place, as torch does
        out[lib.__name__] = opt.param_groups[0]["lr"]
    assert isinstance(out["gradviz"], gv.Tensor)
    assert out["gradviz"].item() == pytest.approx(out["torch"].item())


def _sched_keys(lib, name, **kw):
    w = lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    keys = set(getattr(lib.optim.lr_scheduler, name)(opt, **kw).state_dict())
    return sorted(keys - {"_get_lr_called_within_step"})   # torch's transient flag


@pytest.mark.parametrize("name,kw", [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
    ("ReduceLROnPlateau", dict(mode="max", min_lr=0.01)),
])
def test_scheduler_state_dict_keys_match_torch(name, kw):
    assert _sched_keys(gv, name, **kw) == _sched_keys(torch, name, **kw)


class _Decay:
    """A callable object: torch saves its ``__dict__`` in LambdaLR's state_dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def test_lambda_lr_state_dict_saves_callable_object_attributes():
    sds = {}
    for lib in (torch, gv):
        w = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        sds[lib.__name__] = lib.optim.lr_scheduler.LambdaLR(
            opt, [_Decay(0.5)]).state_dict()["lr_lambdas"]
    assert sds["gradviz"] == sds["torch"] == [{"rate": 0.5}]
    w = gv.zeros(2, requires_grad=True)
    fn = _Decay(0.9)
    sch = gv.optim.lr_scheduler.LambdaLR(gv.optim.SGD([w], lr=0.1), fn)
    sch.load_state_dict({**sch.state_dict(), "lr_lambdas": [{"rate": 0.25}]})
    assert fn.rate == 0.25 and sch.lr_lambdas[0] is fn


@pytest.mark.parametrize("bias", [True, False])
def test_group_norm_bias_flag(bias):
    tm = torch.nn.GroupNorm(2, 4, bias=bias).double()
    gm = gv.nn.GroupNorm(2, 4, bias=bias, dtype=gv.float64)
    assert repr(gm) == repr(tm)
    assert [n for n, _ in gm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert list(gm.state_dict()) == list(tm.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 4, 3))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    gm.weight.data = gv.tensor([1.0, 2.0, 3.0, 4.0], dtype=gv.float64)
    np.testing.assert_allclose(gm(gv.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"elementwise_affine": False}])
def test_layer_norm_repr_shows_bias(kw):
    assert repr(gv.nn.LayerNorm(4, **kw)) == repr(torch.nn.LayerNorm(4, **kw))


def test_transformer_layer_repr_matches_torch():
    assert repr(gv.nn.TransformerEncoderLayer(4, 2, 8)) == \
        repr(torch.nn.TransformerEncoderLayer(4, 2, 8))


def test_module_list_repr_collapses_repeats():
    def build(L):
        return L.nn.ModuleList([L.nn.Linear(2, 2) for _ in range(3)]
                               + [L.nn.ReLU(), L.nn.Linear(2, 2), L.nn.Tanh(), L.nn.Tanh()])
    assert repr(build(gv)) == repr(build(torch))
    assert repr(gv.nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(gv.nn.AdaptiveLogSoftmaxWithLoss(16, 6, [2, 4])) == \
        repr(torch.nn.AdaptiveLogSoftmaxWithLoss(16, 6, [2, 4]))


INITS = ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
         "orthogonal_", "trunc_normal_"]


@pytest.mark.parametrize("name", INITS)
def test_init_takes_generator(name):
    assert "generator" in inspect.signature(getattr(torch.nn.init, name)).parameters
    fn = getattr(gv.nn.init, name)
    a, b = gv.empty(4, 3), gv.empty(4, 3)
    fn(a, generator=gv.Generator().manual_seed(7))
    gv.manual_seed(123)   # the global generator's state must not matter
    fn(b, generator=gv.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = gv.empty(4, 3)
    fn(c, generator=gv.Generator().manual_seed(8))
    assert not np.array_equal(a.numpy(), c.numpy())
