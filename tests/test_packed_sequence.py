"""Packed sequences against torch: ``gv.nn.utils.rnn.PackedSequence``, pack_padded_sequence,
pad_packed_sequence, pack_sequence (data, batch_sizes, sorted/unsorted indices, gradients
through packing and unpacking, errors), and RNN/LSTM/GRU on a packed batch (outputs, each
sequence's final state and every gradient, with the same weights); also on the fake CuPy."""
import fake_cupy
import numpy as np
import pytest
import torch
from nn_twin import load_from_torch
from torch.nn.utils import rnn as trnn

import gradviz as gv
from gradviz.nn.utils import rnn as grnn

RNG = np.random.default_rng(5)


def _same(g, t, tol=0.0):
    """Same shape and values (None matches None)."""
    assert (g is None) == (t is None)
    if t is not None:
        assert tuple(g.shape) == tuple(t.shape)
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=tol,
                                   atol=tol)


def _same_packed(g, t, tol=0.0):
    assert type(g).__name__ == "PackedSequence"
    for a, b in zip(g, t):
        _same(a, b, tol)


@pytest.mark.parametrize("lengths, enforce_sorted", [
    ([5, 3, 3, 1], True), ([2, 5, 1, 5], False), ([4, 4, 4, 4], False),
    (np.array([3, 1, 5, 2]), False), ("tensor", False)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch_and_pass_gradients_back(lengths, enforce_sorted,
                                                          batch_first):
    if isinstance(lengths, str):
        glen, tlen = gv.tensor([1, 4, 2, 4]), torch.tensor([1, 4, 2, 4])
    else:
        glen, tlen = lengths, lengths
    x = RNG.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gp = grnn.pack_padded_sequence(g, glen, batch_first, enforce_sorted)
    tp = trnn.pack_padded_sequence(t, tlen, batch_first, enforce_sorted)
    _same_packed(gp, tp)
    assert gp.batch_sizes.device.type == "cpu" and gp.batch_sizes.dtype == gv.int64
    kw = {"batch_first": batch_first, "padding_value": -2.0, "total_length": 7}
    (gu, gl), (tu, tl) = grnn.pad_packed_sequence(gp, **kw), trnn.pad_packed_sequence(tp, **kw)
    _same(gu, tu)
    _same(gl, tl)
    assert gl.dtype == gv.int64
    w = RNG.standard_normal(tuple(tu.shape))
    (gu * gv.tensor(w)).sum().backward()
    (tu * torch.tensor(w)).sum().backward()
    _same(g.grad, t.grad)


def test_pack_sequence_unpack_sequence_and_the_repr_match_torch():
    arrs = [RNG.standard_normal((n, 2)) for n in (2, 4, 3)]
    G = [gv.tensor(a, requires_grad=True) for a in arrs]
    T = [torch.tensor(a, requires_grad=True) for a in arrs]
    gp = grnn.pack_sequence(G, enforce_sorted=False)
    tp = trnn.pack_sequence(T, enforce_sorted=False)
    _same_packed(gp, tp)
    gs, ts = grnn.unpack_sequence(gp), trnn.unpack_sequence(tp)
    for a, b in zip(gs, ts):
        _same(a, b)
    w = [RNG.standard_normal(a.shape) for a in arrs]
    sum((a * gv.tensor(b)).sum() for a, b in zip(gs, w)).backward()
    sum((a * torch.tensor(b)).sum() for a, b in zip(ts, w)).backward()
    for a, b in zip(G, T):
        _same(a.grad, b.grad)
    small = [[1.0, 2.0], [3.0, 4.0, 5.0]]
    assert repr(grnn.pack_sequence([gv.tensor(s) for s in small], False)) == \
        repr(trnn.pack_sequence([torch.tensor(s) for s in small], False))
    data, batch_sizes, sorted_indices, unsorted_indices = gp     # a namedtuple, as torch's
    assert gp.data is data and unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    assert gp.double() is gp and gp.float().data.dtype == gv.float32 and not gp.is_cuda
    assert grnn.PackedSequence(data, batch_sizes, sorted_indices).unsorted_indices.tolist() \
        == unsorted_indices.tolist()


def test_packing_errors_say_what_is_wrong():
    x = gv.randn(4, 3, 2)
    for call, match in (
            (lambda: grnn.pack_padded_sequence(x, [2, 4, 1]), "sorted in decreasing order"),
            (lambda: grnn.pack_padded_sequence(x, [4, 2, 0]), "greater than 0"),
            (lambda: grnn.pack_padded_sequence(x, [3, 0, 2], enforce_sorted=False),
             "greater than 0"),
            (lambda: grnn.pack_padded_sequence(x, [4, 2]), "batch_size=3"),
            (lambda: grnn.pack_padded_sequence(x, [[4, 2, 1]]), "1D"),
            (lambda: grnn.pack_padded_sequence(x, [5, 2, 1]), "does not fit"),
            (lambda: grnn.pad_packed_sequence(grnn.pack_padded_sequence(x, [4, 2, 1]),
                                              total_length=3), "total_length=3"),
            (lambda: grnn.pack_sequence([]), "empty list"),
            (lambda: gv.nn.GRU(2, 3)(grnn.PackedSequence(x, gv.tensor([2, 2]))), "2D"),
            (lambda: gv.nn.GRU(2, 3)(grnn.pack_padded_sequence(x, [4, 2, 1]), gv.zeros(1, 2, 3)),
             "hidden size")):
        with pytest.raises(gv.GradvizError, match=match):
            call()
    with pytest.raises(ValueError):                   # torch's error type, as torch
        grnn.pad_packed_sequence(grnn.pack_padded_sequence(x, [4, 2, 1]), total_length=3)


_KW = [{}, {"num_layers": 2, "bidirectional": True},
       {"bidirectional": True, "batch_first": True, "bias": False}]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", _KW)
@pytest.mark.parametrize("enforce_sorted, with_state", [(True, False), (False, True)])
def test_recurrent_layers_on_packed_batches_match_torch(kind, kw, enforce_sorted, with_state):
    tm = getattr(torch.nn, kind)(3, 4, **kw).double()
    gm = getattr(gv.nn, kind)(3, 4, **kw, dtype=gv.float64)
    load_from_torch(gm, tm)
    bf = kw.get("batch_first", False)
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 3]
    x = RNG.standard_normal((4, 5, 3) if bf else (5, 4, 3))
    g, t = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    layers = gm.num_layers * (2 if gm.bidirectional else 1)
    states = [RNG.standard_normal((layers, 4, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    gh = [gv.tensor(h, requires_grad=True) for h in states]
    th = [torch.tensor(h, requires_grad=True) for h in states]
    if not with_state:
        ghx = thx = None
    elif kind == "LSTM":
        ghx, thx = tuple(gh), tuple(th)
    else:
        ghx, thx = gh[0], th[0]
    go, gf = gm(grnn.pack_padded_sequence(g, lengths, bf, enforce_sorted), ghx)
    to, tf = tm(trnn.pack_padded_sequence(t, lengths, bf, enforce_sorted), thx)
    _same_packed(go, to, 1e-12)
    gf, tf = (gf, tf) if kind == "LSTM" else ((gf,), (tf,))
    for a, b in zip(gf, tf):                          # each sequence's state after its last step
        _same(a, b, 1e-12)
    gu, tu = grnn.pad_packed_sequence(go, bf)[0], trnn.pad_packed_sequence(to, bf)[0]
    w = [RNG.standard_normal(tuple(o.shape)) for o in (tu, *tf)]
    sum((a * gv.tensor(b)).sum() for a, b in zip((gu, *gf), w)).backward()
    sum((a * torch.tensor(b)).sum() for a, b in zip((tu, *tf), w)).backward()
    for a, b in zip([g] + gh * with_state, [t] + th * with_state):
        _same(a.grad, b.grad, 1e-12)
    grads = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-12,
                                   atol=1e-12, err_msg=name)


def test_a_packed_batch_is_one_scan_per_layer_and_direction_and_padding_changes_nothing():
    m = gv.nn.LSTM(3, 4, bidirectional=True)
    x = gv.randn(5, 2, 3)
    with gv.trace.record() as rec:
        out, (h, _) = m(grnn.pack_padded_sequence(x, [5, 3]))
    ops = [e["op"] for e in rec.events if e["type"] == "op"]
    assert ops.count("LSTMScan") == 2 and ops.count("Linear") == 2
    alone, (h_alone, _) = m(x[:3, 1:])                # the short sequence on its own
    padded = grnn.pad_packed_sequence(out)[0]
    np.testing.assert_allclose(padded[:3, 1:].detach().numpy(), alone.detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h[:, 1:].detach().numpy(), h_alone.detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    assert not np.any(padded[3:, 1].detach().numpy())


def test_packed_batches_stay_on_the_device(monkeypatch):
    fake_cupy.install(monkeypatch)
    gv.manual_seed(0)
    cpu = gv.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    dev = gv.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    dev.load_state_dict(cpu.state_dict())
    dev.to("cuda")
    x = RNG.standard_normal((5, 3, 3)).astype(np.float32)
    results = []
    for m, device in ((cpu, "cpu"), (dev, "cuda")):
        xt = gv.tensor(x, device=device, requires_grad=True)
        packed = grnn.pack_padded_sequence(xt, gv.tensor([2, 5, 4]), enforce_sorted=False)
        assert packed.batch_sizes.device.type == "cpu"
        assert packed.sorted_indices.device.type == device
        out, h = m(packed)
        padded, lengths = grnn.pad_packed_sequence(out, batch_first=True)
        (padded.sum() + h.sum()).backward()
        assert padded.device.type == h.device.type == xt.grad.device.type == device
        assert lengths.device.type == "cpu"
        results.append([a.detach().cpu().numpy() for a in (padded, h, xt.grad)])
    assert grnn.pack_sequence([gv.ones(2, device="cuda")]).to("cpu").data.device.type == "cpu"
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
