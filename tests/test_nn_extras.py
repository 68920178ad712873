"""The layers beyond API.md's list that ported torch scripts use, against torch: RNN/LSTM/GRU
cells, SELU/CELU/Mish/Hardswish/... activations, PReLU, GroupNorm, padding modules,
CosineSimilarity/PairwiseDistance (values, input and parameter gradients), their F.*
twins and errors."""
import fake_cupy
import numpy as np
import pytest
import torch
from nn_twin import compare, load_from_torch

import gradviz as gv

F64 = {"dtype": gv.float64}
RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.standard_normal(shape) * 2


@pytest.mark.parametrize("name, args, kw", [
    ("RNNCell", (3, 5), {}), ("RNNCell", (3, 5), {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", (3, 5), {}), ("GRUCell", (3, 5), {}), ("GRUCell", (3, 5), {"bias": False}),
])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch_with_and_without_a_state(name, args, kw, batched):
    tm = getattr(torch.nn, name)(*args, **kw).double()
    gm = getattr(gv.nn, name)(*args, **kw, **F64)
    assert [n for n, _ in gm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    x = _x(4, 3) if batched else _x(3)
    hs = (4, 5) if batched else (5,)
    compare(gm, tm, x)                                  # no state: zeros
    state = (_x(*hs), _x(*hs)) if name == "LSTMCell" else _x(*hs)
    load_from_torch(gm, tm)
    g_in = gv.tensor(x, requires_grad=True)
    t_in = torch.tensor(x, requires_grad=True)
    wrap = (lambda lib, s: tuple(lib.tensor(a, requires_grad=True) for a in s)) \
        if name == "LSTMCell" else (lambda lib, s: lib.tensor(s, requires_grad=True))
    gs, ts = wrap(gv, state), wrap(torch, state)
    go, to = gm(g_in, gs), tm(t_in, ts)
    go, to = (go, to) if isinstance(go, tuple) else ((go,), (to,))
    for a, b in zip(go, to):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    sum(o.sum() * (i + 1) for i, o in enumerate(go)).backward()
    sum(o.sum() * (i + 1) for i, o in enumerate(to)).backward()
    np.testing.assert_allclose(g_in.grad.numpy(), t_in.grad.numpy(), rtol=1e-10, atol=1e-12)
    as_tuple = (lambda s: s if isinstance(s, tuple) else (s,))
    for a, b in zip(as_tuple(gs), as_tuple(ts)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_an_lstm_cell_unrolled_by_hand_equals_the_lstm_layer():
    cell = gv.nn.LSTMCell(3, 4, **F64)
    layer = gv.nn.LSTM(3, 4, **F64)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = gv.tensor(_x(6, 2, 3))
    h = c = gv.zeros(2, 4, **F64)
    outs = []
    for t in range(6):
        h, c = cell(x[t], (h, c))
        outs.append(h)
    np.testing.assert_allclose(gv.stack(outs).detach().numpy(), layer(x)[0].detach().numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, args", [
    ("SELU", ()), ("CELU", (0.7,)), ("Mish", ()), ("Hardsigmoid", ()), ("Hardswish", ()),
    ("LogSigmoid", ()), ("Softsign", ()), ("Softmin", (1,)), ("GLU", (1,)),
    ("Threshold", (0.3, -2.0)), ("PReLU", ()), ("PReLU", (4,)),
])
def test_activations_match_torch(name, args):
    tm = getattr(torch.nn, name)(*args).double()
    gm = getattr(gv.nn, name)(*args)
    if name == "PReLU":
        gm = gv.nn.PReLU(*args, **F64)
    compare(gm, tm, _x(3, 4, 5))


@pytest.mark.parametrize("fn, kw", [("selu", {}), ("celu", {"alpha": 2.0}), ("mish", {}),
                                    ("hardsigmoid", {}), ("hardswish", {}), ("softsign", {}),
                                    ("glu", {"dim": 0}), ("threshold", {"threshold": 0.1,
                                                                        "value": 5.0})])
def test_functional_twins_match_torch_and_pass_gradcheck(fn, kw):
    x = _x(4, 3)
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go, to = getattr(gv.nn.functional, fn)(g, **kw), getattr(torch.nn.functional, fn)(t, **kw)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    go.sum().backward()
    to.sum().backward()   # (torch's hardsigmoid/hardswish grads use a float32 1/6 in float64)
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-12)
    assert gv.autograd.gradcheck(lambda a: getattr(gv.nn.functional, fn)(a, **kw),
                                 (gv.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("groups, shape, affine", [(2, (3, 4, 5), True), (1, (2, 6, 3, 3), True),
                                                   (3, (2, 6, 4), False), (6, (2, 6), True)])
def test_group_norm_matches_torch(groups, shape, affine):
    tm = torch.nn.GroupNorm(groups, shape[1], affine=affine).double()
    gm = gv.nn.GroupNorm(groups, shape[1], affine=affine, **F64)
    if affine:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_x(shape[1])))
            tm.bias.copy_(torch.tensor(_x(shape[1])))
    compare(gm, tm, _x(*shape))


@pytest.mark.parametrize("name, padding", [
    ("ZeroPad1d", 2), ("ZeroPad2d", (1, 0, 2, 1)), ("ConstantPad2d", 1), ("ConstantPad3d", 1),
    ("ReflectionPad1d", (2, 1)), ("ReflectionPad2d", 1), ("ReplicationPad2d", (1, 2, 0, 1)),
    ("ReplicationPad3d", 1), ("CircularPad1d", 1), ("CircularPad2d", (1, 1, 2, 0)),
])
def test_padding_modules_match_torch(name, padding):
    args = (padding, 3.5) if name.startswith("Constant") else (padding,)
    shape = {"1d": (2, 3, 6), "2d": (2, 3, 5, 6), "3d": (1, 2, 4, 4, 5)}[name[-2:]]
    compare(getattr(gv.nn, name)(*args), getattr(torch.nn, name)(*args), _x(*shape))
    assert repr(getattr(gv.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_distances_match_torch():
    a, b = _x(4, 6), _x(4, 6)
    for gm, tm in ((gv.nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                   (gv.nn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0)),
                   (gv.nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                   (gv.nn.PairwiseDistance(p=1.0, keepdim=True),
                    torch.nn.PairwiseDistance(p=1.0, keepdim=True))):
        compare(gm, tm, a, b)


def test_bad_arguments_get_clear_errors():
    for call, match in ((lambda: gv.nn.GroupNorm(3, 4), "divisible"),
                        (lambda: gv.nn.functional.group_norm(gv.ones(2, 4), 3), "divisible"),
                        (lambda: gv.nn.functional.glu(gv.ones(3)), "even"),
                        (lambda: gv.nn.PReLU(3)(gv.ones(2, 4)), "channel size"),
                        (lambda: gv.nn.RNNCell(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
                        (lambda: gv.nn.LSTMCell(3, 4)(gv.ones(2, 5)), "input_size"),
                        (lambda: gv.nn.GRUCell(3, 4)(gv.ones(2, 3), gv.ones(3, 4)),
                         "hidden state"),
                        (lambda: gv.nn.LSTMCell(3, 4)(gv.ones(2, 3), gv.ones(2, 4)), "2 state")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


_INTERP = [((2, 3, 5), dict(size=8, mode="nearest")),
           ((2, 3, 5), dict(scale_factor=2.5, mode="nearest")),
           ((1, 2, 4, 5), dict(scale_factor=(1.5, 0.7), mode="nearest-exact")),
           ((2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
           ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear")),
           ((1, 2, 4, 5), dict(scale_factor=1.7, mode="bilinear", align_corners=True)),
           ((1, 2, 4, 5), dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)),
           ((1, 1, 3, 4, 2), dict(scale_factor=2, mode="trilinear")),
           ((1, 1, 3, 4, 2), dict(size=(5, 2, 3), mode="nearest")),
           ((1, 2, 4, 5), dict(size=(7, 3), mode="bicubic")),
           ((1, 2, 4, 5), dict(size=(9, 2), mode="bicubic", align_corners=True)),
           ((2, 1, 6, 5), dict(scale_factor=(1.7, 0.6), mode="bicubic")),
           ((2, 1, 6, 5), dict(scale_factor=2.3, mode="bicubic", recompute_scale_factor=True)),
           ((1, 1, 1, 3), dict(size=(4, 1), mode="bicubic", align_corners=True)),
           ((2, 3, 7), dict(size=3, mode="area")),
           ((2, 3, 7), dict(scale_factor=1.5, mode="area")),
           ((1, 2, 7, 5), dict(size=(3, 4), mode="area")),
           ((1, 2, 4, 5, 6), dict(scale_factor=(0.5, 1.4, 0.7), mode="area"))]


@pytest.mark.parametrize("shape, kw", _INTERP)
def test_interpolate_and_upsample_match_torch(shape, kw):
    x = _x(*shape)
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go = gv.nn.functional.interpolate(g, **kw)
    to = torch.nn.functional.interpolate(t, **kw)
    assert tuple(go.shape) == tuple(to.shape)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = _x(*to.shape)
    (go * gv.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
    size, sf = kw.get("size"), kw.get("scale_factor")
    mode, ac = kw["mode"], kw.get("align_corners")
    gm, tm = gv.nn.Upsample(size, sf, mode, ac), torch.nn.Upsample(size, sf, mode, ac)
    assert repr(gm) == repr(tm)
    compare(gm, tm, x)


def test_bicubic_weights_sum_to_one_clamp_at_the_border_and_pass_gradcheck():
    x = gv.tensor(_x(1, 1, 3, 4), requires_grad=True)
    const = gv.nn.functional.interpolate(gv.ones(1, 1, 3, 4), size=(8, 5), mode="bicubic")
    np.testing.assert_allclose(const.numpy(), 1.0, atol=1e-6)
    # torch's backward copies when a dim keeps its size with scale_factor != 1 (gradcheck
    # fails there in torch); gradviz's gradient is the one of the forward that matches torch
    for kw in (dict(size=(6, 7)), dict(scale_factor=1.1), dict(size=2, align_corners=True)):
        assert gv.autograd.gradcheck(
            lambda a, kw=kw: gv.nn.functional.interpolate(a, mode="bicubic", **kw), (x,))
    with gv.trace.record() as rec:
        gv.nn.functional.interpolate(x, scale_factor=2, mode="area")
    assert [e["op"] for e in rec.events if e["type"] == "op"] == ["AdaptiveAvgPool"]


@pytest.mark.parametrize("kw", [dict(size=(5, 7), mode="bicubic", align_corners=True),
                                dict(scale_factor=0.6, mode="bicubic"),
                                dict(scale_factor=1.5, mode="bilinear"),
                                dict(size=(2, 3), mode="area")])
def test_interpolate_modes_stay_on_the_device(kw, monkeypatch):
    fake_cupy.install(monkeypatch)
    x = _x(1, 2, 4, 5).astype(np.float32)
    outs = []
    for device in ("cpu", "cuda"):
        a = gv.tensor(x, device=device, requires_grad=True)
        out = gv.nn.functional.interpolate(a, **kw)
        (out * out).sum().backward()
        assert out.device.type == a.grad.device.type == device
        outs.append([out.detach().cpu().numpy(), a.grad.cpu().numpy()])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_upsampling_2d_modules_and_interpolate_errors():
    x = _x(1, 2, 3, 4)
    compare(gv.nn.UpsamplingNearest2d(scale_factor=2),
            torch.nn.UpsamplingNearest2d(scale_factor=2), x)
    compare(gv.nn.UpsamplingBilinear2d(size=(5, 7)), torch.nn.UpsamplingBilinear2d(size=(5, 7)), x)
    F = gv.nn.functional
    g = gv.tensor(x)
    for call, match in ((lambda: F.interpolate(g), "only one of size"),
                        (lambda: F.interpolate(g, size=4, scale_factor=2), "only one of size"),
                        (lambda: F.interpolate(g, size=4, mode="lanczos"), "not supported"),
                        (lambda: F.interpolate(g[0], size=4, mode="bicubic"), "expects 4-D"),
                        (lambda: F.interpolate(g[None, None], size=4, mode="area"), "or 5-D"),
                        (lambda: F.interpolate(g, size=4, mode="area", align_corners=False),
                         "align_corners"),
                        (lambda: F.interpolate(g, size=4, mode="linear"), "expects 3-D"),
                        (lambda: F.interpolate(g, size=(4, 4, 4)), "size shape"),
                        (lambda: F.interpolate(g, size=4, align_corners=True), "align_corners")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


def test_unfold_fold_modules_double_backward_and_errors():
    x = _x(1, 2, 4, 5)
    compare(gv.nn.Unfold(2, padding=1), torch.nn.Unfold(2, padding=1), x)
    compare(gv.nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2), _x(1, 8, 12))
    grads = []
    for lib in (gv, torch):
        a = lib.tensor(x, requires_grad=True)
        y = (lib.nn.functional.unfold(a, 2) ** 2).tanh().sum()
        (d,) = lib.autograd.grad(y, a, create_graph=True)
        (lib.nn.functional.fold(lib.nn.functional.unfold(d, 2), (4, 5), 2) ** 2).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    F = gv.nn.functional
    for call, match in ((lambda: F.unfold(gv.ones(1, 1, 2, 2), 3), "does not fit"),
                        (lambda: F.fold(gv.ones(1, 8, 5), (4, 5), 2), "expected input"),
                        (lambda: F.unfold(gv.ones(2, 2), 2), "Expected 3D")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


@pytest.mark.parametrize("kw", [{}, {"batch_first": True},
                                {"padding_value": -1.0, "padding_side": "left"}])
def test_pad_sequence_matches_torch(kw):
    arrs = [_x(n, 3) for n in (4, 2, 5)]
    G = [gv.tensor(a, requires_grad=True) for a in arrs]
    T = [torch.tensor(a, requires_grad=True) for a in arrs]
    go = gv.nn.utils.rnn.pad_sequence(G, **kw)
    to = torch.nn.utils.rnn.pad_sequence(T, **kw)
    np.testing.assert_array_equal(go.detach().numpy(), to.detach().numpy())
    w = _x(*to.shape)
    (go * gv.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    for a, b in zip(G, T):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    with pytest.raises(gv.GradvizError, match="trailing"):
        gv.nn.utils.rnn.pad_sequence([gv.ones(2, 3), gv.ones(2, 4)])
