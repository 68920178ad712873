"""nn gaps against torch, part 2: LSTM with proj_size, fractional max pooling, and
embedding_bag's scale_grad_by_freq. Values and every gradient compared with torch."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF
from nn_twin import compare, load_from_torch, twin

import gradviz as gv
from gradviz import nn
from gradviz.nn import functional as F

RNG = np.random.default_rng(11)


# ---- 1. LSTM(proj_size=...) ---------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {},
    {"num_layers": 2, "batch_first": True},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "bias": False, "batch_first": True},
])
def test_lstm_proj_size_matches_torch(kwargs):
    gm, tm = twin(nn.LSTM, tnn.LSTM, 3, 5, proj_size=2, **kwargs)
    assert list(gm.state_dict()) == list(tm.state_dict())
    assert {k: tuple(v.shape) for k, v in gm.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert gm._flat_weights_names == tm._flat_weights_names
    assert gm._all_weights == tm._all_weights
    assert [[tuple(p.shape) for p in ps] for ps in gm.all_weights] == \
        [[tuple(p.shape) for p in ps] for ps in tm.all_weights]
    assert repr(gm) == repr(tm)
    x = RNG.standard_normal((2, 4, 3) if kwargs.get("batch_first") else (4, 2, 3))
    gout, _ = compare(gm, tm, x)
    dirs = 2 if kwargs.get("bidirectional") else 1
    assert gout[0].shape[-1] == 2 * dirs and gout[1].shape[-1] == 2 and gout[2].shape[-1] == 5


def test_lstm_proj_size_initial_states_and_unbatched():
    gm, tm = twin(nn.LSTM, tnn.LSTM, 3, 4, proj_size=3, num_layers=2, bidirectional=True)

    class Wrap(tnn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, h, c):
            return self.m(x, (h, c))

    class GWrap(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, h, c):
            return self.m(x, (h, c))

    x = RNG.standard_normal((5, 2, 3))
    h0, c0 = RNG.standard_normal((4, 2, 3)), RNG.standard_normal((4, 2, 4))
    compare(GWrap(gm), Wrap(tm), x, h0, c0)
    compare(GWrap(gm), Wrap(tm), x[:, 0], h0[:, 0], c0[:, 0])
    with pytest.raises(ValueError, match="Expected hidden"):
        gm(gv.tensor(x), (gv.tensor(c0), gv.tensor(c0)))


def test_lstm_proj_size_packed_sequence():
    gm, tm = twin(nn.LSTM, tnn.LSTM, 3, 4, proj_size=2, num_layers=2, bidirectional=True,
                  batch_first=True)
    load_from_torch(gm, tm)
    x = RNG.standard_normal((3, 5, 3))
    lengths = [3, 5, 2]
    gx, tx = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gp = gv.nn.utils.rnn.pack_padded_sequence(gx, lengths, batch_first=True,
                                              enforce_sorted=False)
    tp = tnn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=True,
                                            enforce_sorted=False)
    (gd, *_), (gh, gc) = gm(gp)
    (td, *_), (th, tc) = tm(tp)
    outs = [(gd, td), (gh, th), (gc, tc)]
    gl, tl = 0, 0
    for g, t in outs:
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), atol=1e-10)
        w = RNG.standard_normal(tuple(t.shape))
        gl, tl = gl + (g * gv.tensor(w)).sum(), tl + (t * torch.tensor(w)).sum()
    gl.backward()
    tl.backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    tparams = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), atol=1e-10,
                                   err_msg=name)


def test_lstm_proj_size_double_backward():
    gm, tm = twin(nn.LSTM, tnn.LSTM, 2, 3, proj_size=2)
    load_from_torch(gm, tm)
    x = RNG.standard_normal((3, 2, 2))
    grads = []
    for lib, m in ((gv, gm), (torch, tm)):
        xt = lib.tensor(x, requires_grad=True)
        out = m(xt)[0]
        (g,) = lib.autograd.grad((out ** 2).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        grads.append([xt.grad] + [p.grad for p in m.parameters()])
    for g, t in zip(*grads):
        np.testing.assert_allclose(g.numpy(), t.numpy(), atol=1e-10)


@pytest.mark.parametrize("make, match", [
    (lambda lib: lib.nn.LSTM(3, 4, proj_size=4), "proj_size has to be smaller"),
    (lambda lib: lib.nn.LSTM(3, 4, proj_size=5), "proj_size has to be smaller"),
    (lambda lib: lib.nn.LSTM(3, 4, proj_size=-1), "positive integer or zero"),
    (lambda lib: lib.nn.RNN(3, 4, proj_size=2), "only supported for LSTM"),
    (lambda lib: lib.nn.GRU(3, 4, proj_size=0), "only supported for LSTM"),
])
def test_proj_size_errors_as_torch(make, match):
    for lib in (torch, gv):
        with pytest.raises(ValueError, match=match):
            make(lib)


# ---- 2. fractional max pooling --------------------------------------------------------------
def _pool_pair(n, shape, kernel, dtype="float64", **kw):
    """gv's and torch's fractional_max_pool{n}d on one input with the same _random_samples:
    (outputs, indices, input grads)."""
    x = RNG.standard_normal(shape).astype(dtype)
    batch = 1 if len(shape) == n + 1 else shape[0]
    u = RNG.random((batch, shape[-n - 1], n)).astype(dtype)
    res = []
    for lib, fn in ((gv, getattr(F, f"fractional_max_pool{n}d")),
                    (torch, getattr(tF, f"fractional_max_pool{n}d"))):
        xt = lib.tensor(x, requires_grad=True)
        out, idx = fn(xt, kernel, return_indices=True, _random_samples=lib.tensor(u), **kw)
        w = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(dtype)
        (out * lib.tensor(w)).sum().backward()
        res.append((out.detach().numpy(), idx.numpy(), xt.grad.numpy()))
    return res


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, kernel, kw", [
    ((2, 3, 9, 11), (2, 3), {"output_size": (4, 5)}),
    ((2, 3, 9, 11), 2, {"output_size": 8}),
    ((3, 7, 7), 2, {"output_size": 6}),           # unbatched
    ((1, 2, 10, 10), 3, {"output_ratio": (0.5, 0.5)}),
    ((2, 1, 12, 8), (3, 2), {"output_ratio": (0.5, 0.7)}),
    ((1, 1, 5, 5), 2, {"output_size": 1}),
    ((1, 1, 5, 5), 1, {"output_size": 5}),
])
def test_fractional_max_pool2d_matches_torch(dtype, shape, kernel, kw):
    (go, gi, gg), (to, ti, tg) = _pool_pair(2, shape, kernel, dtype, **kw)
    np.testing.assert_array_equal(go, to)
    np.testing.assert_array_equal(gi, ti)
    np.testing.assert_allclose(gg, tg, atol=1e-6)


@pytest.mark.parametrize("shape, kernel, kw", [
    ((2, 2, 7, 8, 9), (2, 3, 2), {"output_size": (3, 4, 5)}),
    ((2, 6, 6, 6), 2, {"output_ratio": 0.5}),     # unbatched; torch: _triple(0.5)
])
def test_fractional_max_pool3d_matches_torch(shape, kernel, kw):
    (go, gi, gg), (to, ti, tg) = _pool_pair(3, shape, kernel, **kw)
    np.testing.assert_array_equal(go, to)
    np.testing.assert_array_equal(gi, ti)
    np.testing.assert_allclose(gg, tg, atol=1e-12)


def test_fractional_max_pool_nan_and_ties_as_torch():
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 2, 2] = np.nan
    u = np.array([[[0.3, 0.6]]])
    g = F.fractional_max_pool2d_with_indices(gv.tensor(x), 2, 3, _random_samples=gv.tensor(u))
    t = tF.fractional_max_pool2d_with_indices(torch.tensor(x), 2, 3,
                                              _random_samples=torch.tensor(u))
    np.testing.assert_array_equal(g[0].numpy(), t[0].numpy())
    np.testing.assert_array_equal(g[1].numpy(), t[1].numpy())


def test_fractional_max_pool_modules_and_random_samples():
    u = gv.tensor(RNG.random((2, 3, 2)))
    x = RNG.standard_normal((2, 3, 9, 9))
    gm = nn.FractionalMaxPool2d(3, output_size=4, return_indices=True, _random_samples=u)
    tm = tnn.FractionalMaxPool2d(3, output_size=4, return_indices=True,
                                 _random_samples=torch.tensor(u.numpy()))
    assert list(gm.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    for a, b in zip(gm(gv.tensor(x)), tm(torch.tensor(x))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    gm3 = nn.FractionalMaxPool3d(2, output_ratio=0.5)
    assert gm3(gv.randn(1, 2, 8, 8, 8)).shape == (1, 2, 4, 4, 4)
    # without samples: drawn from gv's generator, so a seed repeats them; windows still fit
    m = nn.FractionalMaxPool2d(2, output_size=(5, 4))
    gv.manual_seed(5)
    a = m(gv.tensor(x))
    gv.manual_seed(5)
    np.testing.assert_array_equal(m(gv.tensor(x)).numpy(), a.numpy())
    assert a.shape == (2, 3, 5, 4)


@pytest.mark.parametrize("make, err, match", [
    (lambda lib: lib.nn.FractionalMaxPool2d(2), ValueError, "requires specifying either"),
    (lambda lib: lib.nn.FractionalMaxPool2d(2, 3, 0.5), ValueError, "only one of"),
    (lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError,
     "between 0 and 1"),
    (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.zeros(1, 1, 5, 5), 3, 4),
     RuntimeError, "pool height 3 too large relative to input height 5"),
    (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.zeros(1, 1, 5, 5), 2),
     ValueError, "requires specifying either"),
    (lambda lib: lib.nn.functional.fractional_max_pool3d(lib.zeros(1, 1, 5, 6, 6), 3, 4),
     RuntimeError, "pool time 3 too large relative to input time 5"),
    (lambda lib: lib.nn.functional.fractional_max_pool2d(
        lib.zeros(1, 2, 5, 5), 2, 2, _random_samples=lib.zeros(1, 3, 2)), RuntimeError,
     "_random_samples.size\\(1\\) equals to input channel size"),
])
def test_fractional_max_pool_errors_as_torch(make, err, match):
    for lib in (torch, gv):
        with pytest.raises(err, match=match):
            make(lib)


# ---- 3. embedding_bag(scale_grad_by_freq=True) ------------------------------------------------
@pytest.mark.parametrize("mode, kw", [
    (mode, kw) for mode in ("sum", "mean") for kw in (
        {"offsets": [0, 3, 3, 6]},
        {"offsets": [0, 3, 5, 10], "include_last_offset": True},
        {"offsets": [0, 2, 7], "padding_idx": 2},
        {"two_d": True})
] + [("sum", {"offsets": [0, 4], "per_sample_weights": True})])
def test_embedding_bag_scale_grad_by_freq_matches_torch(mode, kw):
    kw = dict(kw)
    if kw.pop("per_sample_weights", False):   # torch takes them in 'sum' mode only
        kw["per_sample_weights"] = RNG.random(10)
    inp = RNG.integers(0, 6, size=(2, 5) if kw.pop("two_d", False) else 10)
    inp[:3] = 1                      # repeated indices: the counts matter
    w = RNG.standard_normal((6, 3))
    grads = []
    for lib in (gv, torch):
        args = {k: (lib.tensor(v) if k in ("offsets", "per_sample_weights") else v)
                for k, v in kw.items()}
        wt = lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor(inp), wt, mode=mode,
                                              scale_grad_by_freq=True, **args)
        (out * lib.tensor(np.arange(out.numel()).reshape(tuple(out.shape)) + 1.0)).sum() \
            .backward()
        grads.append((out.detach().numpy(), wt.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], atol=1e-12)


def test_embedding_bag_module_scale_grad_by_freq():
    gm, tm = twin(nn.EmbeddingBag, tnn.EmbeddingBag, 7, 3, mode="sum", scale_grad_by_freq=True)
    compare(gm, tm, np.array([0, 0, 1, 3, 3, 3, 6]), np.array([0, 2, 5]))
    for lib in (torch, gv):
        with pytest.raises(ValueError, match="max mode does not support scaling"):
            lib.nn.functional.embedding_bag(lib.tensor([0, 1]), lib.zeros(3, 2),
                                            lib.tensor([0]), mode="max",
                                            scale_grad_by_freq=True)


@pytest.mark.parametrize("kw", [dict(), dict(scale_grad_by_freq=True, mode="sum", padding_idx=0),
                                dict(max_norm=2.0, norm_type=1.0, mode="max")])
def test_embedding_bag_repr_as_torch(kw):
    assert repr(gv.nn.EmbeddingBag(5, 3, **kw)) == repr(torch.nn.EmbeddingBag(5, 3, **kw))
