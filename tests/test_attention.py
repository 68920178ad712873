"""Attention against torch: F.scaled_dot_product_attention, nn.MultiheadAttention (masks,
weights, batch_first, unbatched), nn.TransformerEncoderLayer / TransformerEncoder; their
errors; and that the debugger sees attention's steps as ops of the attention module."""
import fake_cupy
import numpy as np
import pytest
import torch
from nn_twin import compare, load_from_torch

import gradviz as gv

F64 = {"dtype": gv.float64}
RNG = np.random.default_rng(0)


def _both(arr):
    return gv.tensor(arr), torch.tensor(arr)


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3},
                                {"attn_mask": np.tril(np.ones((4, 5), bool))},
                                {"attn_mask": RNG.standard_normal((4, 5))},
                                {"attn_mask": RNG.random((2, 1, 4, 5)) > 0.3},
                                {"enable_gqa": True}])
def test_scaled_dot_product_attention_matches_torch(kw):
    heads_kv = 1 if kw.get("enable_gqa") else 3
    q, k, v = (RNG.standard_normal(s) for s in ((2, 3, 4, 8), (2, heads_kv, 5, 8),
                                                (2, heads_kv, 5, 6)))
    if "attn_mask" in kw and kw["attn_mask"].dtype == bool:
        kw["attn_mask"][..., 0] = True           # every query sees a key (no all -inf row)
    G = [gv.tensor(a, requires_grad=True) for a in (q, k, v)]
    T = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    gkw = {n: gv.tensor(x) if isinstance(x, np.ndarray) else x for n, x in kw.items()}
    tkw = {n: torch.tensor(x) if isinstance(x, np.ndarray) else x for n, x in kw.items()}
    go = gv.nn.functional.scaled_dot_product_attention(*G, **gkw)
    to = torch.nn.functional.scaled_dot_product_attention(*T, **tkw)
    _close(go, to)
    w = RNG.standard_normal(tuple(to.shape))
    (go * gv.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    for a, b in zip(G, T):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_scaled_dot_product_attention_passes_gradcheck_and_drops_out():
    q, k, v = (gv.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    assert gv.autograd.gradcheck(
        lambda a, b, c: gv.nn.functional.scaled_dot_product_attention(a, b, c, is_causal=True),
        (q, k, v))
    gv.manual_seed(0)
    out = gv.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert tuple(out.shape) == (2, 3, 4)
    with pytest.raises(gv.GradvizError, match="is_causal"):
        gv.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=gv.ones(3, 3).bool(),
                                                      is_causal=True)


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_torch_with_separate_key_value(batch_first):
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    gm = gv.nn.MultiheadAttention(8, 2, batch_first=batch_first, **F64)
    assert sorted(gm.state_dict()) == sorted(tm.state_dict())
    q = RNG.standard_normal((3, 4, 8))
    kv = RNG.standard_normal((3, 5, 8) if batch_first else (5, 4, 8))
    compare(gm, tm, q, kv, kv)


_CAUSAL = np.triu(np.ones((4, 4), bool), 1)          # MultiheadAttention: True = masked
_PAD = np.array([[False] * 4, [False, False, False, True], [False, False, True, True]])


@pytest.mark.parametrize("kw", [
    {"attn_mask": _CAUSAL}, {"key_padding_mask": _PAD},
    {"attn_mask": _CAUSAL, "key_padding_mask": _PAD},
    {"attn_mask": np.where(_CAUSAL, -1e9, 0.25)},
    {"attn_mask": np.broadcast_to(_CAUSAL, (6, 4, 4)).copy()},
    {"attn_mask": _CAUSAL, "is_causal": True},
    {"average_attn_weights": False}, {"need_weights": False},
])
def test_multihead_attention_masks_and_weights_match_torch(kw):
    tm = torch.nn.MultiheadAttention(8, 2).double()
    gm = gv.nn.MultiheadAttention(8, 2, **F64)
    load_from_torch(gm, tm)
    x = RNG.standard_normal((4, 3, 8))
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gkw = {n: gv.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()}
    tkw = {n: torch.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()}
    (go, gw), (to, tw) = gm(g, g, g, **gkw), tm(t, t, t, **tkw)
    _close(go, to)
    assert (gw is None) == (tw is None)
    if tw is not None:
        assert tuple(gw.shape) == tuple(tw.shape)
        _close(gw, tw)
        w = np.arange(tw.numel()).reshape(tuple(tw.shape)) % 3
        (go.sum() + (gw * gv.tensor(w)).sum()).backward()
        (to.sum() + (tw * torch.tensor(w)).sum()).backward()
    else:
        go.sum().backward()
        to.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), tp in zip(gm.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_multihead_attention_unbatched_and_errors():
    tm = torch.nn.MultiheadAttention(8, 2).double()
    gm = gv.nn.MultiheadAttention(8, 2, **F64)
    load_from_torch(gm, tm)
    g, t = _both(RNG.standard_normal((4, 8)))
    (go, gw), (to, tw) = gm(g, g, g), tm(t, t, t)
    _close(go, to)
    _close(gw, tw)
    with pytest.raises(gv.GradvizError, match="divisible"):
        gv.nn.MultiheadAttention(8, 3)
    x = gv.randn(4, 3, 8, **F64)
    for call, match in ((lambda: gm(x, x, x, is_causal=True), "is_causal"),
                        (lambda: gm(x, x, x, attn_mask=gv.ones(3, 3).bool()), "2D attn_mask"),
                        (lambda: gm(x, x, x, key_padding_mask=gv.ones(4, 3).bool()),
                         "key_padding_mask"),
                        (lambda: gm(x, x, gv.randn(4, 8, **F64)), "2-D"),
                        (lambda: gm(x, gv.randn(4, 3, 5, **F64), x), "kdim")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


@pytest.mark.parametrize("norm_first, activation, batch_first",
                         [(False, "relu", False), (True, "gelu", True), (False, "gelu", True)])
def test_transformer_encoder_matches_torch(norm_first, activation, batch_first):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                          activation=activation, batch_first=batch_first,
                                          norm_first=norm_first).double()
    te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8).double(),
                                     enable_nested_tensor=False)
    gl = gv.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       activation=activation, batch_first=batch_first,
                                       norm_first=norm_first, **F64)
    ge = gv.nn.TransformerEncoder(gl, 2, norm=gv.nn.LayerNorm(8, **F64))
    assert sorted(ge.state_dict()) == sorted(te.state_dict())
    load_from_torch(ge, te)
    x = RNG.standard_normal((3, 5, 8))
    n = 5 if batch_first else 3
    causal = torch.nn.Transformer.generate_square_subsequent_mask(n).double()
    pad = np.zeros((3 if batch_first else 5, n))   # float, as the causal mask (torch warns
    pad[1, -1] = -np.inf                             # about mixing a bool one with it)
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go = ge(g, mask=gv.tensor(causal.numpy()), src_key_padding_mask=gv.tensor(pad))
    to = te(t, mask=causal, src_key_padding_mask=torch.tensor(pad))
    _close(go, to, 1e-10)
    (go ** 2).sum().backward()
    (to ** 2).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)
    grads = dict(ge.named_parameters())
    for name, p in te.named_parameters():
        np.testing.assert_allclose(grads[name].grad.numpy(), p.grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=name)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning")
@pytest.mark.parametrize("case", ["eval", "train", "grad", "not left aligned", "odd heads",
                                  "seq first", "float mask"])
def test_transformer_encoder_inference_zeroes_padded_positions_as_torch(case):
    """torch's nested-tensor inference path gives zeros at padded positions (before the final
    norm); it runs only in eval, without grad, batch_first, even heads, a left-aligned key
    padding mask and no attn mask. The other positions are the same on every path."""
    torch.manual_seed(0)
    heads = 1 if case == "odd heads" else 2
    first = case != "seq first"
    tl = torch.nn.TransformerEncoderLayer(8, heads, 16, 0.0, batch_first=first).double()
    te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8).double(),
                                     enable_nested_tensor=first and heads == 2)
    ge = gv.nn.TransformerEncoder(gv.nn.TransformerEncoderLayer(8, heads, 16, 0.0,
                                                                batch_first=first, **F64),
                                  2, norm=gv.nn.LayerNorm(8, **F64))
    load_from_torch(ge, te)
    x = RNG.standard_normal((2, 5, 8) if first else (5, 2, 8))
    pad = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], bool)
    if case == "not left aligned":
        pad = pad[:, ::-1].copy()
    masks = [gv.tensor(pad), torch.tensor(pad)]
    if case == "float mask":
        masks = [gv.tensor(np.where(pad, -np.inf, 0.0)), torch.tensor(np.where(pad, -np.inf, 0.0))]
    outs = []
    for enc, lib, mask in ((ge, gv, masks[0]), (te, torch, masks[1])):
        enc.train(case == "train")
        with lib.set_grad_enabled(case == "grad"):
            outs.append(enc(lib.tensor(x), src_key_padding_mask=mask).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-11)
    zeroed = case in ("eval", "float mask")
    norm_of_zero = ge.norm.bias.detach().numpy()    # LayerNorm of a zero row: its bias
    padded_row = outs[0][0, 3] if first else outs[0][3, 0]
    assert np.allclose(padded_row, norm_of_zero) == zeroed


def test_the_debugger_sees_attention_step_by_step_inside_its_module():
    layer = gv.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    x = gv.randn(3, 2, 8)
    with gv.trace.record() as rec:
        layer(x).sum().backward()
    ops = [e for e in rec.events if e["type"] == "op"]
    attn = [e["op"] for e in ops if (e.get("module") or "").startswith("self_attn")]
    assert {"Linear", "Matmul", "Softmax", "Mul"} <= set(attn)
    assert any(e["type"] == "grad" for e in rec.events)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")   # torch's own notice
@pytest.mark.parametrize("norm_first, batch_first", [(False, False), (True, True)])
def test_encoder_decoder_transformer_matches_torch(norm_first, batch_first):
    torch.manual_seed(0)
    tm = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first,
                              norm_first=norm_first).double()
    gm = gv.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first,
                           norm_first=norm_first, **F64)
    assert sorted(gm.state_dict()) == sorted(tm.state_dict())
    load_from_torch(gm, tm)
    S, T, N = 5, 4, 3
    src = RNG.standard_normal((N, S, 8) if batch_first else (S, N, 8))
    tgt = RNG.standard_normal((N, T, 8) if batch_first else (T, N, 8))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(T).double()
    gmask = gv.nn.Transformer.generate_square_subsequent_mask(T, dtype=gv.float64)
    np.testing.assert_array_equal(gmask.numpy(), tmask.numpy())
    pad = np.zeros((N, S))
    pad[1, -1] = -np.inf
    gs, gt = gv.tensor(src, requires_grad=True), gv.tensor(tgt, requires_grad=True)
    ts, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    go = gm(gs, gt, tgt_mask=gmask, memory_key_padding_mask=gv.tensor(pad), tgt_is_causal=True)
    to = tm(ts, tt, tgt_mask=tmask, memory_key_padding_mask=torch.tensor(pad),
            tgt_is_causal=True)
    _close(go, to, 1e-10)
    (go ** 2).sum().backward()
    (to ** 2).sum().backward()
    for a, b in ((gs, ts), (gt, tt)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)
    grads = dict(gm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(grads[name].grad.numpy(), p.grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=name)


def test_a_fresh_transformer_has_torch_s_init_and_the_debugger_sees_cross_attention():
    gv.manual_seed(0)
    model = gv.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    w = model.decoder.layers[0].multihead_attn.in_proj_weight
    bound = (6 / (w.shape[0] + w.shape[1])) ** 0.5        # xavier-uniform for matrices
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.8 * bound
    with gv.trace.record() as rec:
        model(gv.randn(5, 2, 8), gv.randn(4, 2, 8)).sum().backward()
    mods = {e.get("module") for e in rec.events if e["type"] == "op" and e["op"] == "Softmax"}
    assert {"encoder.layers.0.self_attn", "decoder.layers.0.self_attn",
            "decoder.layers.0.multihead_attn"} <= mods


@pytest.mark.parametrize("batch_first", [False, True])
def test_cross_attention_with_other_key_and_value_widths_matches_torch(batch_first):
    tm = torch.nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=batch_first).double()
    gm = gv.nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=batch_first, **F64)
    assert sorted(gm.state_dict()) == sorted(tm.state_dict())   # q/k/v_proj_weight
    q = RNG.standard_normal((3, 4, 8))
    k_shape = (3, 6) if batch_first else (6, 4)     # (N, S) or (S, N), N = 3 or 4
    compare(gm, tm, q, RNG.standard_normal(k_shape + (5,)), RNG.standard_normal(k_shape + (3,)))


@pytest.mark.parametrize("kw", [{"add_bias_kv": True}, {"add_zero_attn": True},
                                {"add_bias_kv": True, "add_zero_attn": True},
                                {"add_bias_kv": True, "kdim": 5, "vdim": 3, "batch_first": True}])
@pytest.mark.parametrize("masks", [False, True])
def test_multihead_attention_with_bias_kv_and_zero_attn_matches_torch(kw, masks):
    tm = torch.nn.MultiheadAttention(8, 2, **kw).double()
    gm = gv.nn.MultiheadAttention(8, 2, **kw, **F64)
    assert list(gm.state_dict()) == list(tm.state_dict())
    assert repr(gm) == repr(tm)
    if kw.get("add_bias_kv"):
        assert tuple(gm.bias_k.shape) == tuple(gm.bias_v.shape) == (1, 1, 8)
    else:
        assert gm.bias_k is None and gm.bias_v is None
    load_from_torch(gm, tm)
    bf = kw.get("batch_first", False)
    N, L, S = 3, 4, 5
    kv = (N, S) if bf else (S, N)
    q, k, v = (RNG.standard_normal(s) for s in ((N, L, 8) if bf else (L, N, 8),
                                                kv + (kw.get("kdim", 8),),
                                                kv + (kw.get("vdim", 8),)))
    mask_kw = {}
    if masks:
        pad = np.zeros((N, S), bool)
        pad[1, 2:] = True
        causal = np.triu(np.ones((L, S), bool), 1)
        causal[0, 0] = True         # query 0 sees none of the keys, only the added one(s)
        mask_kw = {"attn_mask": causal, "key_padding_mask": pad, "average_attn_weights": False}
    G = [gv.tensor(a, requires_grad=True) for a in (q, k, v)]
    T = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    (go, gw) = gm(*G, **{n: gv.tensor(a) if isinstance(a, np.ndarray) else a
                         for n, a in mask_kw.items()})
    (to, tw) = tm(*T, **{n: torch.tensor(a) if isinstance(a, np.ndarray) else a
                         for n, a in mask_kw.items()})
    assert tuple(gw.shape) == tuple(tw.shape)
    _close(go, to)
    _close(gw, tw)
    w = RNG.standard_normal(tuple(tw.shape))
    (go.sum() + (gw * gv.tensor(w)).sum()).backward()
    (to.sum() + (tw * torch.tensor(w)).sum()).backward()
    for a, b in zip(G, T):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    grads = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_bias_k_and_bias_v_start_xavier_normal_as_torch():
    gv.manual_seed(0)
    m = gv.nn.MultiheadAttention(1024, 4, add_bias_kv=True)
    std = (2 / (1024 + 1024)) ** 0.5             # fans of a (1, 1, E) tensor: E and E
    for p in (m.bias_k, m.bias_v):
        a = p.detach().numpy()
        assert abs(a.std() / std - 1) < 0.1 and abs(a.mean()) < 4 * std / 32
    assert m.add_zero_attn is False and gv.nn.MultiheadAttention(8, 2).bias_k is None


def test_bias_kv_and_zero_attn_stay_on_the_device(monkeypatch):
    fake_cupy.install(monkeypatch)
    gv.manual_seed(0)
    m = gv.nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)
    x = RNG.standard_normal((4, 3, 8)).astype(np.float32)
    mask = np.triu(np.ones((4, 4), bool), 1)
    outs = []
    for device in ("cpu", "cuda"):
        m.to(device)
        m.zero_grad()
        a = gv.tensor(x, device=device)
        out, w = m(a, a, a, attn_mask=gv.tensor(mask, device=device))
        (out.sum() + w.sum()).backward()
        assert out.device.type == w.device.type == m.bias_k.grad.device.type == device
        outs.append([t.detach().cpu().numpy() for t in (out, w, m.bias_k.grad, m.bias_v.grad)])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_fully_masked_query_as_torch(need_weights):
    """torch: zeros for a query whose keys are all masked when no weights are asked for (its
    SDPA path, used by the Transformer layers); NaN when the weights are returned."""
    outs = []
    x0 = RNG.standard_normal((1, 3, 4))
    for lib in (torch, gv):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(4, 2, batch_first=True).double()
        if lib is gv:
            load_from_torch(m, outs[0][2])
        x = lib.tensor(x0, requires_grad=True)
        am = lib.tensor([[False, False, False], [True, True, True], [False, True, False]])
        o, _ = m(x, x, x, attn_mask=am, need_weights=need_weights)
        o[:, [0, 2]].sum().backward()
        outs.append((o.detach().numpy(), x.grad.numpy(), m))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-10, equal_nan=True)
    assert np.isnan(outs[1][0][0, 1]).all() == need_weights
