"""nn gaps against torch, part 3: lazy norms and transposed convolutions,
AdaptiveLogSoftmaxWithLoss, SyncBatchNorm, CrossMapLRN2d, Container,
NLLLoss2d and multi_head_attention_forward. Values and
every gradient compared with torch (float64)."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nn_twin import compare, load_from_torch

import gradviz as gv
from gradviz import nn
from gradviz.nn.functional import multi_head_attention_forward
from gradviz.nn.layers.lazy import LazyModuleMixin

RNG = np.random.default_rng(13)


def _np(t):
    return t.detach().numpy()


# ---- 1. lazy norms, lazy transposed convolutions, UninitializedBuffer ----------------------
LAZY_NORMS = [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 4)),
              ("BatchNorm3d", (2, 3, 2, 3, 3)), ("InstanceNorm1d", (2, 3, 5)),
              ("InstanceNorm2d", (2, 3, 4, 4)), ("InstanceNorm3d", (2, 3, 2, 3, 3))]


@pytest.mark.parametrize("kind, shape", LAZY_NORMS)
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"track_running_stats": False},
                                    {"bias": False, "momentum": None}])
def test_lazy_norms_take_num_features_from_the_first_input_as_torch(kind, shape, kwargs):
    x = RNG.standard_normal(shape)
    mods = []
    for lib in (gv, torch):
        m = getattr(lib.nn, "Lazy" + kind)(**kwargs).double()
        assert m.has_uninitialized_params()
        assert sorted(m.state_dict()) == sorted(getattr(lib.nn, "Lazy" + kind)(**kwargs)
                                                .state_dict())
        before = {n: p for n, p in m.named_parameters()}
        out = m(lib.tensor(x))
        out = m(lib.tensor(x))  # a second step: running statistics move on
        assert type(m).__name__ == kind
        assert all(type(t) in (lib.Tensor, lib.nn.Parameter) for t in m.state_dict().values())
        assert all(p is before[n] for n, p in m.named_parameters())  # the same objects
        mods.append((m, out))
    (gm, go), (tm, to) = mods
    assert not isinstance(gm, LazyModuleMixin) and isinstance(gm, getattr(nn, kind))
    assert repr(gm) == repr(tm)
    np.testing.assert_allclose(_np(go), _np(to), atol=1e-10)
    assert sorted(gm.state_dict()) == sorted(tm.state_dict())
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(gm.state_dict()[k].numpy(), v.numpy(), atol=1e-12,
                                   err_msg=k)
    compare(gm, tm, x)   # outputs and every gradient after the lazy start
    gm.eval()
    tm.eval()
    tm.zero_grad()
    gm.zero_grad()
    compare(gm, tm, x)


def test_lazy_norm_keeps_eval_mode_hooks_and_settings_made_before_the_first_call():
    x = RNG.standard_normal((4, 3))
    calls = []
    gm, tm = nn.LazyBatchNorm1d().double(), tnn.LazyBatchNorm1d().double()
    gm.register_forward_hook(lambda *a: calls.append(1))
    for m in (gm, tm):
        m.eval()
        m.eps = 1e-3
    go, to = gm(gv.tensor(x)), tm(torch.tensor(x))
    assert not gm.training and calls == [1] and gm.eps == 1e-3
    np.testing.assert_allclose(_np(go), _np(to), atol=1e-12)
    assert repr(gm) == repr(tm)


def test_lazy_norm_with_nothing_lazy_turns_ordinary_at_the_first_call_as_torch():
    x = RNG.standard_normal((2, 3, 4))
    for kind in ("BatchNorm1d", "InstanceNorm1d"):
        gm = getattr(nn, "Lazy" + kind)(affine=False, track_running_stats=False)
        tm = getattr(tnn, "Lazy" + kind)(affine=False, track_running_stats=False)
        assert not gm.has_uninitialized_params() and not tm.has_uninitialized_params()
        assert repr(gm) == repr(tm)
        with pytest.warns(UserWarning) if kind == "InstanceNorm1d" else _nothing():
            go = gm(gv.tensor(x))
        with pytest.warns(UserWarning) if kind == "InstanceNorm1d" else _nothing():
            to = tm(torch.tensor(x))
        assert type(gm).__name__ == kind and repr(gm) == repr(tm)
        np.testing.assert_allclose(_np(go), _np(to), atol=1e-6)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("kwargs", [{}, {"affine": False}])
def test_lazy_norm_load_state_dict_sets_the_size(kwargs):
    tm = tnn.BatchNorm2d(3, **kwargs).double()
    tm(torch.tensor(RNG.standard_normal((2, 3, 4, 4))))   # statistics not 0/1
    gm = nn.LazyBatchNorm2d(**kwargs).double()
    load_from_torch(gm, tm)
    assert type(gm) is nn.BatchNorm2d and gm.num_features == 3
    assert int(gm.num_batches_tracked.item()) == 1
    tm.eval()
    gm.eval()
    compare(gm, tm, RNG.standard_normal((2, 3, 4, 4)), load=False)


def test_lazy_norm_bad_input_raises_as_torch():
    for lib, err in ((gv, ValueError), (torch, ValueError)):
        with pytest.raises(err, match="expected 4D input"):
            getattr(lib.nn, "LazyBatchNorm2d")()(lib.zeros(4, 3))
        with pytest.raises(err, match="to match num_features"):
            getattr(lib.nn, "LazyInstanceNorm1d")()(lib.zeros(3, 5))   # dim 1 read, as torch
    with pytest.raises(ValueError, match="dim 1"):
        nn.LazyBatchNorm1d()(gv.zeros(3))


@pytest.mark.parametrize("n, kw, shape", [
    (1, {"stride": 2}, (2, 3, 5)), (1, {"groups": 3, "bias": False}, (3, 4)),
    (2, {"stride": 2, "output_padding": 1, "padding": 1}, (1, 3, 4, 4)),
    (2, {"dilation": 2, "groups": 3}, (2, 3, 3, 3)), (3, {"stride": (1, 2, 1)}, (1, 3, 2, 3, 3))])
def test_lazy_conv_transpose_matches_torch(n, kw, shape):
    name = f"LazyConvTranspose{n}d"
    x = RNG.standard_normal(shape)
    gm, tm = getattr(nn, name)(6, 3, **kw).double(), getattr(tnn, name)(6, 3, **kw).double()
    assert repr(gm) == repr(tm) and gm.has_uninitialized_params()
    w = gm.weight
    gm(gv.tensor(x))
    tm(torch.tensor(x))
    assert type(gm).__name__ == f"ConvTranspose{n}d" and gm.weight is w
    assert repr(gm) == repr(tm) and gm.in_channels == tm.in_channels == 3
    compare(gm, tm, x)
    fresh = getattr(nn, name)(6, 3, **kw).double()
    load_from_torch(fresh, tm)
    assert type(fresh) is getattr(nn, f"ConvTranspose{n}d")
    tm.zero_grad()
    compare(fresh, tm, x, load=False)


def test_lazy_conv_repr_before_the_first_call_as_torch():
    for name, args, kw in (("LazyConv2d", (4, 3), {"padding": "same", "dilation": 2}),
                           ("LazyConv1d", (2, 5), {"stride": 2, "bias": False}),
                           ("LazyLinear", (3,), {})):
        assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(tnn, name)(*args, **kw))


def test_lazy_conv_transpose_output_size_and_padding_mode():
    x = RNG.standard_normal((1, 3, 4, 4))
    gm, tm = nn.LazyConvTranspose2d(2, 3, stride=2).double(), \
        tnn.LazyConvTranspose2d(2, 3, stride=2).double()
    go = gm(gv.tensor(x), output_size=(10, 10))
    to = tm(torch.tensor(x), output_size=(10, 10))
    assert tuple(go.shape) == tuple(to.shape) == (1, 2, 10, 10)
    for lib in (gv, torch):
        with pytest.raises((ValueError, RuntimeError), match='Only "zeros" padding mode'):
            lib.nn.LazyConvTranspose2d(2, 3, padding_mode="reflect")


def test_uninitialized_buffer_as_torch():
    gb, tb = nn.UninitializedBuffer(), tnn.UninitializedBuffer()
    assert repr(gb) == repr(tb) == "<UninitializedBuffer>"
    assert gb.requires_grad is tb.requires_grad is False
    m = nn.Module()
    m.register_buffer("buf", nn.UninitializedBuffer(dtype=gv.float64))
    assert "buf" in dict(m.named_buffers())
    m.buf.materialize((2, 3))
    assert type(m.buf) is gv.Tensor and tuple(m.buf.shape) == (2, 3)
    assert m.buf.dtype == gv.float64


# ---- 2. AdaptiveLogSoftmaxWithLoss ------------------------------------------------------
class _GvCall(nn.Module):
    def __init__(self, m, method):
        super().__init__()
        self.m, self.method = m, method

    def forward(self, *args):
        return getattr(self.m, self.method)(*args)


class _TorchCall(tnn.Module):
    def __init__(self, m, method):
        super().__init__()
        self.m, self.method = m, method

    def forward(self, *args):
        return getattr(self.m, self.method)(*args)


def _asm_twin(*args, **kwargs):
    tm = tnn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs).double()
    gm = nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs).double()
    assert repr(gm) == repr(tm)
    assert {k: tuple(v.shape) for k, v in gm.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    load_from_torch(gm, tm)
    return gm, tm


@pytest.mark.parametrize("kwargs, target", [
    ({"cutoffs": [3, 6], "div_value": 2.0, "head_bias": True}, [0, 9, 4, 2, 7, 5, 1]),
    ({"cutoffs": [3, 6], "div_value": 2.0}, [0, 2, 1, 1]),   # only the shortlist
    ({"cutoffs": [2]}, [5, 9, 3]),                      # only a cluster
    ({"cutoffs": [1, 4, 8], "div_value": 1.5}, [8]),     # one row
])
def test_adaptive_log_softmax_forward_matches_torch(kwargs, target):
    gm, tm = _asm_twin(8, 10, **kwargs)
    x = RNG.standard_normal((len(target), 8))
    gout, tout = compare(gm, tm, x, np.array(target), load=False)
    res = gm(gv.tensor(x), gv.tensor(np.array(target)))
    assert res._fields == ("output", "loss") and res.loss is res[1]
    tm.zero_grad()
    gm.zero_grad()
    compare(_GvCall(gm, "log_prob"), _TorchCall(tm, "log_prob"), x, load=False)
    assert gm.predict(gv.tensor(x)).tolist() == tm.predict(torch.tensor(x)).tolist()


def test_adaptive_log_softmax_unbatched_and_predict_mixed_rows():
    gm, tm = _asm_twin(6, 12, [2, 5], div_value=2.0)
    x = RNG.standard_normal(6)
    for target in (0, 7, 11):
        tm.zero_grad()
        gm.zero_grad()
        g, t = compare(gm, tm, x, np.array(target), load=False)
        assert tuple(g[0].shape) == ()
    x = RNG.standard_normal((40, 6)) * 3
    with torch.no_grad():
        tm.head.weight[:2] *= 0.1   # argmax of the head both in and outside the shortlist
    load_from_torch(gm, tm)
    pred = tm.predict(torch.tensor(x))
    assert (pred < 2).any() and (pred >= 2).any()
    assert gm.predict(gv.tensor(x)).tolist() == pred.tolist()
    assert gm.predict(gv.tensor(x)).tolist() == \
        gm.log_prob(gv.tensor(x)).argmax(dim=1).tolist()


def test_adaptive_log_softmax_errors_as_torch():
    for lib in (gv, torch):
        for cutoffs in ([], [3, 2], [0, 3], [3, 10], [3, 3]):
            with pytest.raises(ValueError, match="cutoffs should be a sequence"):
                lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)
        m = lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
        for x, t, msg in [((2, 4), [0, 10], "Target values should be in \\[0, 9\\]"),
                          ((3, 4), [0, 1], "same size in the batch"),
                          ((2, 4), 1, "0D target tensor expects 1D"),
                          ((2, 2, 4), [0, 1], "1D target tensor expects 2D"),
                          ((2, 4), [[0, 1]], "multi-target not supported")]:
            with pytest.raises(RuntimeError, match=msg):
                m(lib.zeros(*x), lib.tensor(t))


# ---- 3. SyncBatchNorm ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 3),
                                   (2, 3, 2, 2, 2, 2)])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None, "bias": False},
                                    {"affine": False, "track_running_stats": False}])
def test_sync_batch_norm_in_one_process_is_batch_norm_as_torch(shape, kwargs):
    gm = nn.SyncBatchNorm(3, **kwargs).double()
    tm = tnn.SyncBatchNorm(3, **kwargs).double()
    assert repr(gm) == repr(tm) and sorted(gm.state_dict()) == sorted(tm.state_dict())
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(0.5, 1.5)
    for _ in range(2):   # train: batch statistics, running ones updated
        tm.zero_grad()
        gm.zero_grad()
        compare(gm, tm, RNG.standard_normal(shape))
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(gm.state_dict()[k].numpy(), v.numpy(), atol=1e-12)
    gm.eval()
    tm.eval()
    tm.zero_grad()
    gm.zero_grad()
    compare(gm, tm, RNG.standard_normal(shape), load=False)


def test_sync_batch_norm_bad_input_as_torch():
    for lib in (gv, torch):
        m = lib.nn.SyncBatchNorm(3)
        with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
            m(lib.zeros(4))
        with pytest.raises(ValueError, match="number of input channels should be non-zero"):
            lib.nn.SyncBatchNorm(0)(lib.zeros(4, 0))


def test_convert_sync_batchnorm_as_torch():
    def build(lib):
        seq = lib.nn.Sequential(lib.nn.Conv2d(3, 3, 1), lib.nn.BatchNorm2d(3, momentum=None),
                                lib.nn.Sequential(lib.nn.BatchNorm1d(3, affine=False),
                                                  lib.nn.BatchNorm3d(3, bias=False)),
                                lib.nn.InstanceNorm1d(3))
        seq[1].weight.data.fill_(2.0)
        seq[1].running_mean.fill_(1.5)
        seq[1].num_batches_tracked.fill_(7)
        seq.eval()
        return seq
    tseq, gseq = build(torch), build(gv)
    old = [gseq[1].weight, gseq[1].running_mean, gseq[1].num_batches_tracked]
    tout = tnn.SyncBatchNorm.convert_sync_batchnorm(tseq, process_group="pg")
    gout = nn.SyncBatchNorm.convert_sync_batchnorm(gseq, process_group="pg")
    assert gout is gseq and repr(gout) == repr(tout)
    assert [type(m).__name__ for m in gout.modules()] == \
        [type(m).__name__ for m in tout.modules()]
    assert gout[1].weight is old[0] and gout[1].running_mean is old[1]
    assert gout[1].num_batches_tracked is old[2] and gout[1].momentum is None
    assert gout[1].process_group == "pg" and not gout[1].training and not gout[2][0].training
    assert gout[2][1].bias is None
    assert sorted(gout.state_dict()) == sorted(tout.state_dict())
    bn = nn.BatchNorm1d(3)
    sbn = nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert type(sbn) is nn.SyncBatchNorm and sbn.weight is bn.weight and sbn.training
    assert type(nn.SyncBatchNorm.convert_sync_batchnorm(nn.Linear(2, 2))) is nn.Linear


# ---- 4. CrossMapLRN2d, Container, NLLLoss2d ----------------------------------------------
@pytest.mark.parametrize("size", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("channels", [1, 3, 8])
def test_cross_map_lrn2d_values_and_grads_as_torch(size, channels):
    # torch's legacy op: its window drifts after the first channels and its backward is its
    # own formula (not the exact gradient); both are matched
    gm = nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)
    tm = tnn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)
    assert repr(gm) == repr(tm)
    compare(gm, tm, RNG.standard_normal((2, channels, 3, 2)))


def test_cross_map_lrn2d_errors_as_torch():
    for lib in (gv, torch):
        with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
            lib.nn.CrossMapLRN2d(3)(lib.zeros(2, 3, 4))
        x = lib.ones(1, 3, 2, 2, requires_grad=True)
        y = lib.nn.CrossMapLRN2d(1)(x)   # size 1: forward works, torch's backward fails
        with pytest.raises(RuntimeError, match=r"start \(1\) \+ length \(3\) exceeds"):
            y.sum().backward()
    np.testing.assert_allclose(_np(nn.CrossMapLRN2d(1, k=2)(gv.ones(1, 3, 2, 2))),
                               _np(tnn.CrossMapLRN2d(1, k=2)(torch.ones(1, 3, 2, 2))), rtol=1e-6)


def test_container_and_nllloss2d_are_torch_s_deprecated_aliases():
    for lib in (gv, torch):
        with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
            c = lib.nn.Container(a=lib.nn.Linear(2, 3), b=lib.nn.ReLU())
        assert [n for n, _ in c.named_children()] == ["a", "b"]
        with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
            loss = lib.nn.NLLLoss2d(ignore_index=1, reduction="sum")
        assert isinstance(loss, lib.nn.NLLLoss) and loss.ignore_index == 1
    with pytest.warns(FutureWarning):
        gl, tl = nn.NLLLoss2d(weight=gv.tensor([1.0, 2.0, 0.5], dtype=gv.float64)), \
            tnn.NLLLoss2d(weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))
    x = RNG.standard_normal((2, 3, 4, 4))
    t = RNG.integers(0, 3, (2, 4, 4))
    compare(gl, tl, x, t, load=False)


# ---- 5. multi_head_attention_forward --------------------------------------------------------
def _mha_call(mha_fn, m, q, k, v, masks, kw):
    """Call the functional form with module ``m``'s weights (as torch's module does); the
    weights dropped when None (nn_twin.compare takes tensors only)."""
    sep = not m._qkv_same_embed_dim
    out, weights = mha_fn(q, k, v, m.embed_dim, m.num_heads, m.in_proj_weight, m.in_proj_bias,
                  m.bias_k, m.bias_v, m.add_zero_attn, m.dropout, m.out_proj.weight,
                  m.out_proj.bias, use_separate_proj_weight=sep,
                  q_proj_weight=m.q_proj_weight, k_proj_weight=m.k_proj_weight,
                  v_proj_weight=m.v_proj_weight, **masks, **kw)
    return out if weights is None else (out, weights)


class _GvMHA(nn.MultiheadAttention):
    def __init__(self, names, kw, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names, self.kw = names, kw

    def forward(self, q, k, v, *masks):
        return _mha_call(multi_head_attention_forward, self, q, k, v,
                         dict(zip(self.names, masks)), self.kw)


class _TorchMHA(tnn.MultiheadAttention):
    def __init__(self, names, kw, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names, self.kw = names, kw

    def forward(self, q, k, v, *masks):
        return _mha_call(torch.nn.functional.multi_head_attention_forward, self, q, k, v,
                         dict(zip(self.names, masks)), self.kw)


L, S, N, E, H = 4, 5, 3, 8, 2
_KPM = np.zeros((N, S), dtype=bool)
_KPM[0, -2:] = True
_KPM[2, 0] = True
_BOOL3 = RNG.random((N * H, L, S)) < 0.3
_BOOL3[..., 1] = False   # every query keeps a key


@pytest.mark.parametrize("module_kw, call_kw, masks", [
    ({}, {}, {}),
    ({}, {"average_attn_weights": False}, {}),
    ({}, {"need_weights": False}, {}),
    ({"bias": False}, {}, {"key_padding_mask": _KPM}),
    ({}, {"need_weights": False}, {"key_padding_mask": _KPM, "attn_mask": _BOOL3}),
    ({}, {}, {"attn_mask": RNG.standard_normal((L, S))}),
    ({}, {"is_causal": True}, {"attn_mask": _BOOL3}),      # the mask given is used
    ({"add_bias_kv": True}, {"is_causal": True, "need_weights": False},
     {"attn_mask": _BOOL3[0]}),                           # torch's causal mask instead
    ({"add_bias_kv": True}, {}, {"key_padding_mask": _KPM, "attn_mask": _BOOL3[0]}),
    ({"add_zero_attn": True}, {"average_attn_weights": False},
     {"key_padding_mask": _KPM, "attn_mask": RNG.standard_normal((N * H, L, S))}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"need_weights": False},
     {"key_padding_mask": _KPM}),
    ({"kdim": 6, "vdim": 3}, {}, {"key_padding_mask": _KPM}),
    ({"dropout": 0.5}, {"training": False}, {}),
])
@pytest.mark.parametrize("batched", [True, False])
def test_multi_head_attention_forward_matches_torch(module_kw, call_kw, masks, batched):
    if not batched:
        masks = {n: (m[0] if n == "key_padding_mask" else m[:H] if m.ndim == 3 else m)
                 for n, m in masks.items()}
    names = list(masks)
    gm = _GvMHA(names, call_kw, E, H, **module_kw).double()
    tm = _TorchMHA(names, call_kw, E, H, **module_kw).double()
    with torch.no_grad():   # biases not zero: their gradients are compared too
        for p in tm.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.1)
    kd, vd = module_kw.get("kdim", E), module_kw.get("vdim", E)
    lead = (N,) if batched else ()
    q = RNG.standard_normal((L, *lead, E))
    k = RNG.standard_normal((S, *lead, kd))
    v = RNG.standard_normal((S, *lead, vd))
    mixed = len({np.asarray(m).dtype.kind for m in masks.values()}) > 1
    with pytest.warns(UserWarning, match="mismatched key_padding_mask") if mixed \
            else _nothing():
        gout, tout = compare(gm, tm, q, k, v, *masks.values())
    assert len(tout) == (1 if call_kw.get("need_weights") is False else 2)


def test_multi_head_attention_forward_static_kv_and_errors():
    tm = tnn.MultiheadAttention(E, H).double()
    gm = nn.MultiheadAttention(E, H).double()
    load_from_torch(gm, tm)
    q = RNG.standard_normal((L, N, E))
    sk, sv = RNG.standard_normal((2, N * H, S, E // H))
    outs = []
    for lib, fn, m in ((gv, multi_head_attention_forward, gm),
                       (torch, torch.nn.functional.multi_head_attention_forward, tm)):
        args = [lib.tensor(a, requires_grad=True) for a in (q, sk, sv)]
        out, w = _mha_call(fn, m, args[0], args[0], args[0], {"static_k": args[1],
                                                             "static_v": args[2]}, {})
        assert tuple(w.shape) == (N, L, S)
        (out.sum() + (w * w).sum()).backward()
        outs.append([out, w] + [a.grad for a in args])
    for g, t in zip(*outs):
        np.testing.assert_allclose(_np(g), _np(t), atol=1e-10)
    x = gv.zeros(L, N, E, dtype=gv.float64)
    with pytest.raises(ValueError, match="was expecting embedding dimension of 6"):
        multi_head_attention_forward(x, x, x, 6, H, gm.in_proj_weight, None, None, None,
                                     False, 0.0, gm.out_proj.weight, None)
    with pytest.raises(ValueError, match="expected `key` and `value` to be 3-D"):
        multi_head_attention_forward(x, x[0], x[0], E, H, gm.in_proj_weight, None, None,
                                     None, False, 0.0, gm.out_proj.weight, None)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal"):
        multi_head_attention_forward(x, x, x, E, H, gm.in_proj_weight, None, None, None,
                                     False, 0.0, gm.out_proj.weight, None, is_causal=True)
    with pytest.raises(ValueError, match=r"The shape of the 2D attn_mask is \(3, 3\)"):
        multi_head_attention_forward(x, x, x, E, H, gm.in_proj_weight, None, None, None,
                                     False, 0.0, gm.out_proj.weight, None,
                                     attn_mask=gv.zeros(3, 3, dtype=gv.float64))


def test_lazy_modules_inside_a_container_take_their_shapes_from_load_state_dict():
    """torch sizes each lazy submodule from its own checkpoint entries (a load hook per
    module), so a Sequential of lazy layers loads a trained model's state_dict."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                             torch.nn.Conv1d(4, 2, 1)).double().eval()
    gm = gv.nn.Sequential(gv.nn.LazyLinear(4), gv.nn.LazyBatchNorm1d(),
                          gv.nn.LazyConv1d(2, 1)).double().eval()
    sd = {k: gv.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    assert repr(gm.load_state_dict(sd)) == "<All keys matched successfully>"
    assert [type(m).__name__ for m in gm] == ["Linear", "BatchNorm1d", "Conv1d"]
    x = np.random.default_rng(0).standard_normal((5, 3))
    want = tm[2](tm[1](tm[0](torch.tensor(x))).unsqueeze(-1))
    got = gm[2](gm[1](gm[0](gv.tensor(x))).unsqueeze(-1))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
