"""CTC loss against torch: values and gradients (leaf log_probs and log_softmax paths), lengths,
repeated labels, impossible alignments, zero_infinity, blank != 0, target layouts, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradviz as gv
import gradviz.nn.functional_losses as F
from gradviz.errors import BackwardError, GradvizError
from gradviz.nn.losses import CTCLoss

TOL = {"float32": ((1e-6, 1e-4), (1e-5, 1e-3)), "float64": ((1e-7, 1e-7), (1e-7, 1e-7))}


def _problem(seed, T=12, N=4, C=6, S=5, blank=0):
    """Random logits, padded targets (no blank inside), lengths that vary per item."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C)) * 1.5
    labels = [c for c in range(C) if c != blank]
    targets = rng.choice(labels, (N, S))
    il = rng.integers(max(T // 2, 1), T + 1, N)
    il[0] = T
    tl = rng.integers(0, S + 1, N)
    tl[0] = S
    tl = np.minimum(tl, il // 2)   # keep alignments feasible (repeats need a blank between)
    return logits, targets, il, tl


def run_both(logits, targets, il, tl, dtype, log_softmax=True, grad_seed=None, **kw):
    """gradviz and torch results: (gv loss, torch loss, gv grad, torch grad) as numpy."""
    a = logits.astype(dtype)
    gx, tx = gv.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(a.copy()).requires_grad_()
    glp = gx.log_softmax(-1) if log_softmax else gx
    tlp = tx.log_softmax(-1) if log_softmax else tx
    gl = F.ctc_loss(glp, gv.from_numpy(targets), gv.from_numpy(il), gv.from_numpy(tl), **kw)
    tl_ = TF.ctc_loss(tlp, torch.from_numpy(targets), torch.from_numpy(il), torch.from_numpy(tl),
                      **kw)
    seed = np.ones(tl_.shape, dtype) if grad_seed is None else grad_seed.astype(dtype)
    gl.backward(gv.from_numpy(seed))
    tl_.backward(torch.from_numpy(seed))
    return gl.detach().numpy(), tl_.detach().numpy(), gx.grad.numpy(), tx.grad.numpy()


def check(res, dtype):
    (fa, fr), (ga, gr) = TOL[dtype]
    gl, tl, gg, tg = res
    assert gl.shape == tl.shape and gl.dtype == tl.dtype
    np.testing.assert_allclose(gl, tl, atol=fa, rtol=fr)
    assert gg.dtype == tg.dtype
    np.testing.assert_allclose(gg, tg, atol=ga, rtol=gr, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("log_softmax", [True, False], ids=["log_softmax", "leaf"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctc_matches_torch(seed, log_softmax, reduction, dtype):
    logits, targets, il, tl = _problem(seed)
    gseed = np.random.default_rng(seed + 9).standard_normal(4) if reduction == "none" else None
    check(run_both(logits, targets, il, tl, dtype, log_softmax, gseed, reduction=reduction),
          dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_repeated_labels_and_empty_targets(dtype):
    logits, _, _, _ = _problem(3, T=10, N=4, C=4, S=4)
    targets = np.array([[1, 1, 1, 1], [2, 2, 3, 3], [1, 2, 1, 2], [3, 0, 0, 0]])
    il = np.array([10, 9, 8, 10])
    tl = np.array([4, 4, 4, 0])   # item 3: the empty labelling (all blanks)
    for red in ("none", "mean"):
        check(run_both(logits, targets, il, tl, dtype, reduction=red), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("blank", [2, 5])
def test_blank_other_than_zero(blank, dtype):
    logits, targets, il, tl = _problem(4, C=6, blank=blank)
    for red in ("none", "mean", "sum"):
        check(run_both(logits, targets, il, tl, dtype, reduction=red, blank=blank), dtype)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_impossible_alignment_is_inf_and_nan_grad_like_torch(reduction):
    logits = np.random.default_rng(5).standard_normal((4, 2, 5))
    targets = np.array([[1, 1, 1, 2], [1, 2, 0, 0]])
    il, tl = np.array([2, 4]), np.array([4, 2])   # item 0: 4 labels (3 repeats) in 2 steps
    gl, tl_, gg, tg = run_both(logits, targets, il, tl, "float64", reduction=reduction)
    np.testing.assert_allclose(gl, tl_)
    assert np.isinf(gl).any()
    np.testing.assert_allclose(gg, tg, atol=1e-7, equal_nan=True)
    assert np.isnan(gg[:2, 0]).all() and not np.isnan(gg[2:, 0]).any()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_zero_infinity(reduction, dtype):
    logits = np.random.default_rng(6).standard_normal((4, 2, 5))
    targets = np.array([[1, 1, 1, 2], [1, 2, 0, 0]])
    il, tl = np.array([2, 4]), np.array([4, 2])
    res = run_both(logits, targets, il, tl, dtype, reduction=reduction, zero_infinity=True)
    check(res, dtype)
    gl, _, gg, _ = res
    assert np.isfinite(gl).all()
    assert not gg[:, 0].any(), "the impossible item must get a zero gradient"
    assert gg[:, 1].any()


def test_target_layouts_and_length_types_agree():
    logits, targets, il, tl = _problem(7, T=9, N=3, C=5, S=3)
    lp = gv.from_numpy(logits).log_softmax(2)
    ref = F.ctc_loss(lp, gv.from_numpy(targets), gv.from_numpy(il), gv.from_numpy(tl),
                     reduction="none").numpy()
    concat = np.concatenate([targets[i, :tl[i]] for i in range(3)])
    variants = [
        (gv.from_numpy(concat), il.tolist(), tuple(tl.tolist())),
        (targets.tolist(), tuple(il.tolist()), tl.tolist()),
        (np.pad(targets, ((0, 0), (0, 4)), constant_values=-1), il, tl),  # extra padding
    ]
    for t, a, b in variants:
        np.testing.assert_allclose(F.ctc_loss(lp, t, a, b, reduction="none").numpy(), ref)
    tref = TF.ctc_loss(torch.from_numpy(logits).log_softmax(2), torch.from_numpy(concat),
                       tuple(il.tolist()), tuple(tl.tolist()), reduction="none")
    np.testing.assert_allclose(ref, tref.numpy(), rtol=1e-7)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_unbatched_input(reduction):
    rng = np.random.default_rng(8)
    logits, targets = rng.standard_normal((7, 4)), np.array([1, 3, 3])
    gx = gv.from_numpy(logits).requires_grad_()
    tx = torch.from_numpy(logits).requires_grad_()
    g = F.ctc_loss(gx.log_softmax(-1), gv.from_numpy(targets), 7, 3, reduction=reduction)
    t = TF.ctc_loss(tx.log_softmax(-1), torch.from_numpy(targets), torch.tensor(7),
                    torch.tensor(3), reduction=reduction)
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-7)
    g.backward()
    t.backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-7)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_finite_differences_through_log_softmax(reduction):
    # torch's CTC gradient is the gradient w.r.t. the logits behind log_softmax, so
    # differentiating through log_softmax gives the true gradient of the loss
    logits, targets, il, tl = _problem(9, T=6, N=3, C=4, S=3)
    x = gv.from_numpy(logits).requires_grad_()
    assert gv.autograd.gradcheck(
        lambda a: F.ctc_loss(a.log_softmax(2), targets, il, tl, reduction=reduction), (x,),
        eps=1e-6, atol=1e-6, rtol=1e-4)


def test_module_and_event_name():
    logits, targets, il, tl = _problem(10)
    x = gv.from_numpy(logits).requires_grad_()
    loss_fn = CTCLoss(blank=0, zero_infinity=True)
    with gv.trace.record() as rec:
        loss = loss_fn(x.log_softmax(2), targets, il, tl)
        loss.backward()
    ops = [e["op"] for e in rec.events if e["type"] == "op"]
    assert ops == ["LogSoftmax", "CTCLoss"]
    grad = [e for e in rec.events if e["type"] == "grad" and e["op"] == "CTCLoss"]
    assert grad and "alpha" in grad[0]["rule"]
    ref = TF.ctc_loss(torch.from_numpy(logits).log_softmax(2), torch.from_numpy(targets),
                      torch.from_numpy(il), torch.from_numpy(tl), zero_infinity=True)
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-7)


def test_double_backward_is_refused_clearly():
    logits, targets, il, tl = _problem(11)
    x = gv.from_numpy(logits).requires_grad_()
    loss = F.ctc_loss(x.log_softmax(2), targets, il, tl)
    with pytest.raises(BackwardError, match="CTCLoss"):
        gv.autograd.grad(loss, x, create_graph=True)


@pytest.mark.parametrize("change,match", [
    ({"il": [13, 5, 5, 5]}, "at most 12"),
    ({"il": [12, 5]}, "one entry per batch item"),
    ({"tl": [6, 1, 1, 1]}, "size at least 6"),
    ({"blank": 6}, "blank must be in label range"),
    ({"targets": np.full((4, 5), 9)}, r"must lie in \[0, 6\)"),
    ({"reduction": "batchmean"}, "not a valid value"),
])
def test_argument_errors(change, match):
    logits, targets, il, tl = _problem(12)
    args = {"targets": targets, "il": il, "tl": tl, "blank": 0, "reduction": "mean"}
    args.update(change)
    with pytest.raises(GradvizError, match=match):
        F.ctc_loss(gv.from_numpy(logits).log_softmax(2), args["targets"], args["il"], args["tl"],
                   blank=args["blank"], reduction=args["reduction"])
