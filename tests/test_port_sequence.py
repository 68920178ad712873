"""Gaps found by porting sequence / NLP / audio training scripts (char-LSTM LM with packed
sequences, nanoGPT, TransformerEncoder classifier, CTC speech toy, MultiheadAttention
seq2seq, LLaMA-style LM, WaveNet) with ``import gradviz as torch``: ``torch.bfloat16``
(named in ``autocast(dtype=torch.bfloat16, enabled=flag)``), and a 3-step packed
bidirectional LSTM run against torch as a guard."""

import numpy as np
import pytest
import torch

import gradviz as gv


def _np(t):
    return np.asarray(t.detach().tolist(), dtype=np.float64)


# ---- 1. bfloat16: the name exists, tensors of it are refused ------------------------------
def test_bfloat16_is_a_named_floating_dtype():
    assert repr(gv.bfloat16) == "gradviz.bfloat16"
    assert gv.bfloat16.is_floating_point == torch.bfloat16.is_floating_point
    assert gv.bfloat16.itemsize == torch.bfloat16.itemsize
    assert gv.bfloat16 != gv.float32 and gv.bfloat16 != gv.float16
    assert gv.bfloat16 == gv.bfloat16


MAKERS = [
    ("zeros", lambda: gv.zeros(2, dtype=gv.bfloat16)),
    ("tensor", lambda: gv.tensor([1.0], dtype=gv.bfloat16)),
    ("to", lambda: gv.ones(2).to(gv.bfloat16)),
    ("to_name", lambda: gv.ones(2).to("bfloat16")),
    ("module_to", lambda: gv.nn.Linear(2, 2).to(gv.bfloat16)),
    ("finfo", lambda: gv.finfo(gv.bfloat16)),
]


@pytest.mark.parametrize("name,make", MAKERS, ids=[m[0] for m in MAKERS])
def test_bfloat16_tensors_raise_a_clear_error(name, make):
    # torch makes bfloat16 tensors; NumPy has no such type, so gradviz must not silently
    # hand back float32 ones
    with pytest.raises(gv.GradvizError, match="no bfloat16 tensors.*use float32"):
        make()


def test_autocast_bfloat16_disabled_runs_in_float32_as_torch():
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    gm = gv.nn.MultiheadAttention(8, 2, batch_first=True)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4, 8)).astype(np.float32)
    outs = []
    for L, m in ((torch, tm), (gv, gm)):
        x_, pad = L.tensor(x), L.tensor([[False] * 4, [False, False, True, True]])
        use_amp = False   # the seq2seq idiom: autocast guarded by a flag
        with L.autocast("cpu", dtype=L.bfloat16, enabled=use_amp):
            y, w = m(x_, x_, x_, key_padding_mask=pad)
        y.sum().backward()
        assert y.dtype == L.float32
        outs.append((y, w, m.in_proj_weight.grad))
    for g, t in zip(outs[1], outs[0]):
        np.testing.assert_allclose(_np(g), _np(t), rtol=1e-5, atol=1e-6)


def test_autocast_bfloat16_enabled_is_accepted_as_float16_is():
    """The name used to be missing (AttributeError). torch's CPU autocast computes in
    bfloat16; gradviz, which has no bfloat16 tensors, runs the region at the inputs' dtype
    as it does for float16, and reports autocast on."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.is_autocast_enabled("cpu")
    for dtype in (gv.bfloat16, gv.float16):
        with gv.autocast("cpu", dtype=dtype):
            assert gv.is_autocast_enabled("cpu")
            assert (gv.ones(2, 2) @ gv.ones(2, 2)).dtype == gv.float32
        assert not gv.is_autocast_enabled("cpu")


# ---- 2. guard: packed bidirectional LSTM LM, truncated BPTT, 3 training steps -------------
def _char_lm(L):
    nn = L.nn

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(12, 6, padding_idx=0)
            self.rnn = nn.LSTM(6, 7, num_layers=2, batch_first=True, bidirectional=True)
            self.head = nn.Linear(14, 12)

        def forward(self, x, lengths, hidden=None):
            packed = nn.utils.rnn.pack_padded_sequence(self.emb(x), lengths, batch_first=True,
                                                       enforce_sorted=False)
            out, hidden = self.rnn(packed, hidden)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                      total_length=x.size(1))
            return self.head(out), hidden
    return CharLM()


def _train_char_lm(L, model):
    rng = np.random.default_rng(3)
    opt = L.optim.Adam(model.parameters(), lr=1e-2)
    sched = L.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    crit = L.nn.CrossEntropyLoss(ignore_index=0)
    hidden, losses, grads = None, [], []
    for _ in range(3):
        seqs = [L.from_numpy(rng.integers(1, 12, size=n)) for n in (5, 2, 4)]
        x = L.nn.utils.rnn.pad_sequence([s[:-1] for s in seqs], batch_first=True)
        y = L.nn.utils.rnn.pad_sequence([s[1:] for s in seqs], batch_first=True)
        if hidden is not None:
            hidden = tuple(h.detach() for h in hidden)
        opt.zero_grad()
        logits, hidden = model(x, L.tensor([4, 1, 3]), hidden)
        loss = crit(logits.reshape(-1, 12), y.view(-1))
        loss.backward()
        L.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        grads.append([p.grad.clone() for p in model.parameters()])
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses, grads


def test_packed_bilstm_char_lm_trains_as_torch():
    torch.manual_seed(0)
    tm, gm = _char_lm(torch), _char_lm(gv)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    (tl, tg), (gl, gg) = _train_char_lm(torch, tm), _train_char_lm(gv, gm)
    np.testing.assert_allclose(gl, tl, rtol=1e-5)
    for step_t, step_g in zip(tg, gg):
        for t, g in zip(step_t, step_g):
            np.testing.assert_allclose(_np(g), _np(t), rtol=1e-4, atol=1e-6)


def test_cuda_is_bf16_supported_says_no():
    # nanoGPT: dtype = 'bfloat16' if cuda.is_available() and cuda.is_bf16_supported() ...
    assert gv.cuda.is_bf16_supported() is False
    assert gv.cuda.is_bf16_supported(including_emulation=False) is False
