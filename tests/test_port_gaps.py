"""Gaps found by porting real torch scripts: autograd.grad's flags, attention on fully
masked rows, module hook options, optimizer implementation flags, RNN weight views,
Embedding max_norm / scale_grad_by_freq, multinomial without replacement, xlogy's
gradient, the old spectral_norm, get_total_norm / clip_grads_with_norm_."""
import inspect

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


# ---- 1. autograd.grad ---------------------------------------------------------------------
def test_grad_accepts_only_inputs_and_materialize_grads():
    outs = []
    for lib in (torch, gv):
        x = lib.ones(2, requires_grad=True)
        y = lib.ones(3, requires_grad=True)
        outs.append(lib.autograd.grad((x * 2).sum(), [x, y], only_inputs=True,
                                      materialize_grads=True))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(_np(b), _np(a))
    x = gv.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="allow_unused"):
        gv.autograd.grad(x.sum(), [x], materialize_grads=True, allow_unused=False)
    with pytest.raises(GradvizError, match="is_grads_batched"):
        gv.autograd.grad(x.sum(), [x], is_grads_batched=True)
    assert list(inspect.signature(gv.autograd.grad).parameters) == \
        list(inspect.signature(torch.autograd.grad).parameters)


# ---- 2. attention with a fully masked query row ------------------------------------------
@pytest.mark.parametrize("kind", ["bool", "float", "bool_batched"])
def test_sdpa_fully_masked_row_is_zero_without_nan_grads(kind):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 4)))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    if kind == "float":
        mask = np.where(mask, 0.0, -np.inf)
    res = []
    for lib in (torch, gv):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        m = lib.tensor(mask)
        if kind == "bool_batched":   # an all-False bool mask row via a batch-shaped mask
            m = lib.tensor(np.broadcast_to(mask, (2, 3, 5)).copy())
        out = lib.nn.functional.scaled_dot_product_attention(*ts, attn_mask=m)
        (out * 1.5).sum().backward()
        res.append([_np(out)] + [_np(t.grad) for t in ts])
    for a, b in zip(*res):
        assert not np.isnan(b).any()
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(res[1][0][:, 1], 0.0)


# ---- 3. module hooks ---------------------------------------------------------------------
def _hooked(lib, log):
    m = lib.nn.Linear(2, 2)
    m.register_forward_pre_hook(lambda mod, a: log.append("pre-a"))
    m.register_forward_pre_hook(lambda mod, a: log.append("pre-first"), prepend=True)

    def pre_kw(mod, args, kwargs):
        log.append(("pre-kw", sorted(kwargs)))
        return (args[0] * 2,), kwargs
    m.register_forward_pre_hook(pre_kw, with_kwargs=True)
    m.register_forward_hook(lambda mod, a, o: log.append("fwd-a"))

    def fwd_kw(mod, args, kwargs, out):
        log.append(("fwd-kw", sorted(kwargs)))
        return out + 1
    m.register_forward_hook(fwd_kw, with_kwargs=True, prepend=True)
    return m


def test_forward_hooks_prepend_with_kwargs_match_torch():
    logs, outs = ([], []), []
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    for lib, log in zip((torch, gv), logs):
        m = _hooked(lib, log)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
            m.bias.zero_()
        outs.append(_np(m(lib.tensor(x))))
    assert logs[0] == logs[1]
    np.testing.assert_allclose(outs[1], outs[0])


def test_forward_hook_always_call_runs_when_forward_raises():
    logs = ([], [])
    for lib, log in zip((torch, gv), logs):
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise KeyError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, a, o: log.append(("plain", o)))
        m.register_forward_hook(lambda mod, a, o: log.append(("always", o)), always_call=True)
        with pytest.raises(KeyError):
            m(lib.ones(1))
    assert logs[0] == logs[1] == [("always", None)]


def test_full_backward_pre_hook_sees_and_replaces_grad_output():
    seen, grads = ([], []), []
    for lib, log in zip((torch, gv), seen):
        m = lib.nn.Linear(2, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        m.register_full_backward_pre_hook(lambda mod, g: log.append(_np(g[0]).copy()))
        m.register_full_backward_pre_hook(lambda mod, g: (g[0] * 3,))
        m.register_full_backward_hook(lambda mod, gi, go: log.append(_np(go[0]).copy()))
        x = lib.ones(1, 2, requires_grad=True)
        m(x).sum().backward()
        grads.append((_np(x.grad), _np(m.weight.grad)))
    for a, b in zip(*seen):
        np.testing.assert_allclose(b, a)
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a)
    m = gv.nn.Linear(2, 2)
    m.register_full_backward_pre_hook(lambda mod, g: (g[0], g[0]))
    with pytest.raises(GradvizError, match="invalid number of grad_output"):
        m(gv.ones(1, 2, requires_grad=True)).sum().backward()


# ---- 4. optimizer implementation flags -----------------------------------------------------
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
         "Rprop", "ASGD", "Adafactor"]


@pytest.mark.parametrize("name", NAMES)
def test_optimizers_take_torch_s_implementation_flags(name):
    tcls, gcls = getattr(torch.optim, name), getattr(gv.optim, name)
    tsig, gsig = (inspect.signature(c).parameters for c in (tcls, gcls))
    assert [(k, p.default, p.kind) for k, p in tsig.items()] == \
        [(k, p.default, p.kind) for k, p in gsig.items()]
    t = tcls([torch.zeros(2, requires_grad=True)])
    g = gcls([gv.zeros(2, requires_grad=True)])
    assert g.defaults == t.defaults
    flags = {k: True for k in ("foreach", "capturable", "differentiable") if k in tsig}
    if "fused" in tsig:
        for bad in ({"fused": True, "differentiable": True}, {"fused": True, "foreach": True}):
            with pytest.raises(RuntimeError) as te:
                tcls([torch.zeros(2, requires_grad=True)], **bad)
            with pytest.raises(GradvizError) as ge:
                gcls([gv.zeros(2, requires_grad=True)], **bad)
            assert str(ge.value) == str(te.value)
    p = gv.tensor([1.0, -2.0], requires_grad=True)
    ref = gv.tensor([1.0, -2.0], requires_grad=True)
    for opt, w in ((gcls([p], **{k: False for k in flags}), p), (gcls([ref]), ref)):
        w.grad = gv.tensor([0.5, 0.25])
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), ref.detach().numpy())


def test_adam_decoupled_weight_decay_is_adamw():
    ws = []
    for kw, cls in (({"decoupled_weight_decay": True}, gv.optim.Adam), ({}, gv.optim.AdamW)):
        w = gv.tensor([1.0, -2.0], requires_grad=True)
        opt = cls([w], weight_decay=0.1, **kw)
        for _ in range(3):
            w.grad = gv.tensor([0.5, 0.25])
            opt.step()
        ws.append(w.detach().numpy())
    np.testing.assert_array_equal(ws[0], ws[1])


# ---- 5. RNN weights ------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_all_weights_flat_weights_and_flatten_parameters(cls):
    t = getattr(torch.nn, cls)(3, 4, num_layers=2, bidirectional=True, bias=True)
    g = getattr(gv.nn, cls)(3, 4, num_layers=2, bidirectional=True, bias=True)
    g.flatten_parameters()
    assert g._all_weights == t._all_weights
    assert [[tuple(p.shape) for p in ps] for ps in g.all_weights] == \
        [[tuple(p.shape) for p in ps] for ps in t.all_weights]
    assert g.all_weights[1][0] is g.weight_ih_l0_reverse
    assert [p is q for p, q in zip(g._flat_weights, g.parameters())] == [True] * 16


# ---- 6. Embedding ----------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0},
                                {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": 2,
                                 "max_norm": 2.0}])
@pytest.mark.parametrize("module", [False, True])
def test_embedding_max_norm_and_scale_grad_by_freq_match_torch(kw, module):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 3)) * 2
    idx = np.array([[0, 2, 2], [5, 2, 1]])
    up = rng.standard_normal((2, 3, 3))
    res = []
    for lib in (torch, gv):
        if module:
            emb = lib.nn.Embedding(6, 3, _weight=lib.tensor(w.copy()), **kw)
            weight, out = emb.weight, emb(lib.tensor(idx))
        else:
            weight = lib.tensor(w.copy(), requires_grad=True)
            out = lib.nn.functional.embedding(lib.tensor(idx), weight, **kw)
        (out * lib.tensor(up)).sum().backward()
        res.append((_np(out), _np(weight), _np(weight.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    if module:
        assert repr(emb) == repr(torch.nn.Embedding(6, 3, **kw))


def test_embedding_bag_max_norm_matches_torch_and_sparse_is_refused():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((6, 3)) * 2
    idx = np.array([[0, 2, 2], [5, 2, 1]])
    res = []
    for lib in (torch, gv):
        weight = lib.tensor(w.copy(), requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor(idx), weight, max_norm=1.0,
                                              mode="sum")
        out.sum().backward()
        res.append((_np(out), _np(weight), _np(weight.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    with pytest.raises(GradvizError, match="sparse=True"):
        gv.nn.Embedding(3, 2, sparse=True)
    with pytest.raises(GradvizError, match="sparse=True"):
        gv.nn.functional.embedding(gv.tensor([0]), gv.ones(3, 2), sparse=True)


# ---- 7. multinomial -----------------------------------------------------------------------
def test_multinomial_without_replacement_takes_zero_probability_categories_last():
    gv.manual_seed(0)
    p = gv.tensor([[0.0, 3.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]])
    for _ in range(5):
        out = gv.multinomial(p, 5).numpy()
        ref = torch.multinomial(torch.tensor(p.numpy()), 5).numpy()
        for row, tref in zip(out, ref):
            assert sorted(row) == sorted(tref) == [0, 1, 2, 3, 4]
        assert set(out[0, :2]) == {1, 3} and out[1, 0] == 0
    with pytest.raises(GradvizError, match="n_sample > prob_dist.size"):
        gv.multinomial(p, 6)


# ---- 8. xlogy -------------------------------------------------------------------------------
@pytest.mark.parametrize("ys", [(6,), (3,)])
def test_xlogy_gradients_at_zero_match_torch(ys):
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 0.0])
    y = np.array([0.0, 2.0, -1.0, 0.0, 3.0, 0.0])
    if ys == (3,):
        x, y = x.reshape(2, 3), y[:3]
    res = []
    for lib in (torch, gv):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        out = lib.xlogy(a, b)
        out.sum().backward()
        res.append((_np(out), _np(a.grad), _np(b.grad)))
    for a, b in zip(*res):
        np.testing.assert_array_equal(b, a)


# ---- 9. old spectral_norm ------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("conv", [False, True])
def test_old_spectral_norm_matches_torch(mode, conv):
    torch.manual_seed(0)
    if conv:
        t = torch.nn.utils.spectral_norm(torch.nn.ConvTranspose2d(2, 3, 2).double())
        g = gv.nn.utils.spectral_norm(gv.nn.ConvTranspose2d(2, 3, 2).double())
        x = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    else:
        t = torch.nn.utils.spectral_norm(torch.nn.Linear(4, 3).double(), n_power_iterations=2)
        g = gv.nn.utils.spectral_norm(gv.nn.Linear(4, 3).double(), n_power_iterations=2)
        x = torch.randn(2, 4, dtype=torch.float64)
    assert list(g.state_dict()) == list(t.state_dict())
    g.load_state_dict({k: gv.tensor(v.numpy()) for k, v in t.state_dict().items()})
    getattr(t, mode)()
    getattr(g, mode)()
    for _ in range(3):
        to, go = t(x), g(gv.tensor(x.numpy()))
        to.pow(2).sum().backward()
        go.pow(2).sum().backward()
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-10)
    np.testing.assert_allclose(_np(g.weight_orig.grad), _np(t.weight_orig.grad), rtol=1e-9)
    for k in ("weight_u", "weight_v"):
        np.testing.assert_allclose(_np(getattr(g, k)), _np(getattr(t, k)), rtol=1e-10)
    torch.nn.utils.remove_spectral_norm(t)
    gv.nn.utils.remove_spectral_norm(g)
    assert list(g.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(_np(g.weight), _np(t.weight), rtol=1e-10)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        gv.nn.utils.remove_spectral_norm(g)
    gv.nn.utils.spectral_norm(g)
    with pytest.raises(GradvizError, match="two spectral_norm hooks"):
        gv.nn.utils.spectral_norm(g)


# ---- 10. clip_grad_norm_ pieces -------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_get_total_norm_and_clip_grads_with_norm_match_torch(norm_type):
    rng = np.random.default_rng(3)
    gs = [rng.standard_normal(s) for s in ((3,), (2, 2))]
    res = []
    for lib in (torch, gv):
        ps = [lib.zeros(*g.shape, dtype=lib.float64, requires_grad=True) for g in gs]
        for p, g in zip(ps, gs):
            p.grad = lib.tensor(g)
        U = lib.nn.utils
        total = U.get_total_norm([p.grad for p in ps], norm_type, foreach=None)
        assert U.clip_grads_with_norm_(ps, 0.5, total, foreach=False) is None
        again = U.clip_grad_norm_(iter(ps), 0.25, norm_type, foreach=True)
        res.append([_np(total), _np(again)] + [_np(p.grad) for p in ps])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    assert float(gv.nn.utils.get_total_norm([])) == 0.0
    with pytest.raises(GradvizError, match="non-finite"):
        gv.nn.utils.get_total_norm([gv.tensor([float("inf")])], error_if_nonfinite=True)
