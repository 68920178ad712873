"""Every loss (except CTC: test_ctc.py) against torch: values and grads, every reduction,
float32 and float64, float64 finite differences, modules, argument errors."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import gradviz as gv
import gradviz.nn.functional_losses as F
from gradviz.errors import GradvizError
from gradviz.nn import losses as L

TOL = {"float32": ((1e-6, 1e-4), (1e-5, 1e-3)), "float64": ((1e-7, 1e-7), (1e-7, 1e-7))}
REDUCTIONS = ["none", "mean", "sum"]
KL_MEAN = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _sig(a):
    return 1 / (1 + np.exp(-a))


def compare(gfn, tfn, arrays, grad_of, dtype, seed=0):
    """Run both libraries on the same arrays; check value, dtype and grads of ``grad_of``."""
    (fa, fr), (ga, gr) = TOL[dtype]
    gs, ts = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        a = a.astype(dtype) if a.dtype.kind == "f" else a
        g, t = gv.from_numpy(a.copy()), torch.from_numpy(a.copy())
        if i in grad_of:
            g.requires_grad_()
            t.requires_grad_()
        gs.append(g)
        ts.append(t)
    gout, tout = gfn(*gs), tfn(*ts)
    assert tuple(gout.shape) == tuple(tout.shape)
    assert gout.dtype.name == str(tout.dtype).replace("torch.", "")
    np.testing.assert_allclose(gout.detach().numpy(), tout.detach().numpy(), atol=fa, rtol=fr)
    seed_arr = _rng(seed + 1).standard_normal(tout.shape).astype(dtype)
    gout.backward(gv.from_numpy(seed_arr))
    tout.backward(torch.from_numpy(seed_arr))
    for i in grad_of:
        assert gs[i].grad is not None, f"input {i} got no grad"
        np.testing.assert_allclose(gs[i].grad.numpy(), ts[i].grad.numpy(), atol=ga, rtol=gr,
                                   equal_nan=True, err_msg=f"grad of input {i}")
    return gout


def gradcheck(fn, arrays, grad_of):
    """float64 finite differences of gv ``fn`` w.r.t. the inputs in ``grad_of``."""
    ins = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        t = gv.from_numpy(a.astype(np.float64) if a.dtype.kind == "f" else a)
        ins.append(t.requires_grad_() if i in grad_of else t)
    assert gv.autograd.gradcheck(fn, ins, eps=1e-6, atol=1e-6, rtol=1e-4)


# ---- pointwise losses: (name, gv fn, torch fn, arrays maker, differentiable args) ----------------
def _xy(shape_x=(3, 4), shape_y=None, squash=False):
    def make(rng):
        x, y = rng.standard_normal(shape_x), rng.standard_normal(shape_y or shape_x)
        return [_sig(x), _sig(y)] if squash else [x, y]
    return make


def _w(rng, shape=(4,)):
    return rng.uniform(0.2, 1.5, shape)


POINTWISE = [
    ("mse", F.mse_loss, TF.mse_loss, _xy(), {}),
    ("l1", F.l1_loss, TF.l1_loss, _xy(), {}),
    ("smooth_l1", F.smooth_l1_loss, TF.smooth_l1_loss, _xy(), {"beta": 0.6}),
    ("smooth_l1_beta0", F.smooth_l1_loss, TF.smooth_l1_loss, _xy(), {"beta": 0.0}),
    ("huber", F.huber_loss, TF.huber_loss, _xy(), {"delta": 0.7}),
    ("huber_3d", F.huber_loss, TF.huber_loss, _xy((2, 3, 2)), {}),
    ("bce", F.binary_cross_entropy, TF.binary_cross_entropy, _xy(squash=True), {}),
    ("bce_logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
     lambda rng: [rng.standard_normal((3, 4)) * 3, _sig(rng.standard_normal((3, 4)))], {}),
    ("kl", F.kl_div, TF.kl_div, lambda rng: [rng.standard_normal((3, 4)),
                                             rng.uniform(0.05, 1, (3, 4))], {}),
    ("kl_log_target", F.kl_div, TF.kl_div, _xy(), {"log_target": True}),
    ("scalar_mse", F.mse_loss, TF.mse_loss, _xy(()), {}),
]
WEIGHTED = [  # losses whose weight arguments are tensors: built per call from the rng
    ("bce_weight", F.binary_cross_entropy, TF.binary_cross_entropy, _xy(squash=True),
     lambda rng: {"weight": _w(rng)}),
    ("bce_logits_weights", F.binary_cross_entropy_with_logits,
     TF.binary_cross_entropy_with_logits, _xy(), lambda rng: {"weight": _w(rng, (3, 1)),
                                                              "pos_weight": _w(rng)}),
    ("bce_logits_pos_weight", F.binary_cross_entropy_with_logits,
     TF.binary_cross_entropy_with_logits, _xy(), lambda rng: {"pos_weight": _w(rng)}),
    ("mse_weight", F.mse_loss, TF.mse_loss, _xy(), lambda rng: {"weight": _w(rng, (3, 4))}),
    ("l1_weight", F.l1_loss, TF.l1_loss, _xy(), lambda rng: {"weight": _w(rng, (3, 4))}),
    ("huber_weight", F.huber_loss, TF.huber_loss, _xy(), lambda rng: {"weight": _w(rng, (3, 4))}),
]


def _kw_pair(kw, dtype):
    g = {k: gv.from_numpy(v.astype(dtype)) if isinstance(v, np.ndarray) else v
         for k, v in kw.items()}
    t = {k: torch.from_numpy(v.astype(dtype)) if isinstance(v, np.ndarray) else v
         for k, v in kw.items()}
    return g, t


@KL_MEAN
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,gfn,tfn,make,kw", POINTWISE + WEIGHTED, ids=lambda v: v
                         if isinstance(v, str) else "")
def test_pointwise_losses_match_torch(name, gfn, tfn, make, kw, reduction, dtype):
    rng = _rng(len(name))
    arrays = make(rng)
    kw = kw(rng) if callable(kw) else kw
    gkw, tkw = _kw_pair(kw, dtype)
    compare(lambda x, y: gfn(x, y, reduction=reduction, **gkw),
            lambda x, y: tfn(x, y, reduction=reduction, **tkw), arrays, (0, 1), dtype)


@KL_MEAN
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,gfn,tfn,make,kw", POINTWISE + WEIGHTED, ids=lambda v: v
                         if isinstance(v, str) else "")
def test_pointwise_losses_finite_differences(name, gfn, tfn, make, kw, reduction):
    rng = _rng(len(name) + 7)
    arrays = make(rng)
    kw = kw(rng) if callable(kw) else kw
    gkw, _ = _kw_pair(kw, "float64")
    gradcheck(lambda x, y: gfn(x, y, reduction=reduction, **gkw), arrays, (0, 1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_batchmean(dtype, log_target):
    rng = _rng(3)
    y = rng.standard_normal((5, 3)) if log_target else rng.uniform(0.05, 1, (5, 3))
    arrays = [rng.standard_normal((5, 3)), y]
    compare(lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=log_target),
            lambda x, t: TF.kl_div(x, t, reduction="batchmean", log_target=log_target),
            arrays, (0, 1), dtype)
    gradcheck(lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=log_target),
              arrays, (0, 1))


def test_kl_div_zero_target_and_mean_warning():
    x, y = np.array([-1.0, -0.5, -2.0]), np.array([0.0, 0.5, 0.5])
    compare(lambda a, b: F.kl_div(a, b, reduction="sum"),
            lambda a, b: TF.kl_div(a, b, reduction="sum"), [x, y], (0, 1), "float64")
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(gv.tensor(x), gv.tensor(y))


def test_bce_at_the_boundaries_matches_torch():
    x, y = np.array([0.0, 0.5, 1.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    for red in REDUCTIONS:
        compare(lambda a, b, r=red: F.binary_cross_entropy(a, b, reduction=r),
                lambda a, b, r=red: TF.binary_cross_entropy(a, b, reduction=r), [x, y], (0, 1),
                "float64")


def test_bce_with_logits_is_stable_for_large_logits():
    x, y = np.array([-200.0, -30.0, 0.0, 30.0, 200.0]), np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"),
            [x, y], (0, 1), "float32")


def test_broadcast_target_warns_like_torch():
    x, y = gv.randn(3, 1), gv.randn(3)
    with pytest.warns(UserWarning, match="different to the input size"):
        out = F.mse_loss(x, y, reduction="none")
    assert tuple(out.shape) == (3, 3)


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
def test_broadcast_target_matches_torch():
    compare(lambda a, b: F.l1_loss(a, b), lambda a, b: TF.l1_loss(a, b),
            [np.ones((2, 3)), np.arange(3.0)], (0, 1), "float64")


def test_mixed_dtypes_promote_like_torch():
    x = gv.randn(3, requires_grad=True)
    out = F.mse_loss(x, gv.from_numpy(np.arange(3.0)))
    assert out.dtype == gv.float64
    out.backward()
    assert x.grad.dtype == gv.float32
    assert F.l1_loss(x, gv.tensor([1, 2, 3])).dtype == gv.float32


# ---- cross entropy and NLL -----------------------------------------------------------------------
def _cls(rng, shape, n_cls, ignore=None):
    t = rng.integers(0, n_cls, shape)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


CE_CASES = [  # (id, input shape, kwargs that need a weight of C or not)
    ("plain", (6, 5), {}),
    ("weight", (6, 5), {"weight": True}),
    ("ignore", (6, 5), {"ignore_index": 2}),
    ("smooth", (6, 5), {"label_smoothing": 0.2}),
    ("smooth_weight_ignore", (6, 5), {"weight": True, "ignore_index": 1, "label_smoothing": 0.3}),
    ("smooth_weight_ignore_neg", (6, 5), {"weight": True, "ignore_index": -100,
                                          "label_smoothing": 0.1, "mark": -100}),
    ("spatial", (2, 4, 3, 2), {"weight": True, "ignore_index": 0, "label_smoothing": 0.1}),
    ("spatial_3d", (2, 3, 2, 2, 2), {}),
    ("unbatched", (5,), {"label_smoothing": 0.25, "weight": True}),
    ("one_class", (4, 1), {}),
]


def _ce_args(rng, shape, kw, dtype):
    kw = dict(kw)
    n_cls = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[:1] + shape[2:]) if len(shape) > 1 else ()
    mark = kw.pop("mark", kw.get("ignore_index"))
    target = _cls(rng, tshape, n_cls, mark if tshape else None)
    gkw, tkw = dict(kw), dict(kw)
    if kw.get("weight"):
        w = rng.uniform(0.2, 2.0, n_cls).astype(dtype)
        gkw["weight"], tkw["weight"] = gv.from_numpy(w), torch.from_numpy(w)
    return [rng.standard_normal(shape) * 2, target], gkw, tkw


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: c[0])
def test_cross_entropy_and_nll_match_torch(case, reduction, dtype):
    _, shape, kw = case
    arrays, gkw, tkw = _ce_args(_rng(len(case[0])), shape, kw, dtype)
    compare(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **gkw),
            lambda x, t: TF.cross_entropy(x, t, reduction=reduction, **tkw), arrays, (0,), dtype)
    if "label_smoothing" not in kw:
        compare(lambda x, t: F.nll_loss(x.log_softmax(1 if x.ndim > 1 else 0), t,
                                        reduction=reduction, **gkw),
                lambda x, t: TF.nll_loss(x.log_softmax(1 if x.ndim > 1 else 0), t,
                                         reduction=reduction, **tkw), arrays, (0,), dtype)
        compare(lambda x, t: F.nll_loss(x, t, reduction=reduction, **gkw),
                lambda x, t: TF.nll_loss(x, t, reduction=reduction, **tkw), arrays, (0,), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: c[0])
def test_cross_entropy_and_nll_finite_differences(case, reduction):
    _, shape, kw = case
    arrays, gkw, _ = _ce_args(_rng(len(case[0]) + 3), shape, kw, "float64")
    gradcheck(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **gkw), arrays, (0,))
    if "label_smoothing" not in kw:
        gradcheck(lambda x, t: F.nll_loss(x, t, reduction=reduction, **gkw), arrays, (0,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,smooth,weighted", [((4, 5), 0.0, False), ((4, 5), 0.2, True),
                                                   ((2, 3, 4), 0.1, False), ((5,), 0.0, True)])
def test_cross_entropy_probability_targets(shape, smooth, weighted, reduction, dtype):
    rng = _rng(11)
    dim = 1 if len(shape) > 1 else 0
    p = rng.random(shape)
    p = p / p.sum(dim, keepdims=True)
    gkw, tkw = {"label_smoothing": smooth}, {"label_smoothing": smooth}
    if weighted:
        w = rng.uniform(0.5, 2, shape[dim]).astype(dtype)
        gkw["weight"], tkw["weight"] = gv.from_numpy(w), torch.from_numpy(w)
    arrays = [rng.standard_normal(shape), p]
    compare(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **gkw),
            lambda x, t: TF.cross_entropy(x, t, reduction=reduction, **tkw), arrays, (0, 1),
            dtype)
    if dtype == "float64":
        gradcheck(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **gkw), arrays, (0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_class_weight_with_smoothing_and_ignore(reduction):
    rng = _rng(12)
    w = np.array([0.0, 1.0, 2.0, 0.5])
    x, t = rng.standard_normal((6, 4)), np.array([0, 1, 3, 0, 2, 3])
    for smooth in (0.0, 0.3):
        kw = {"weight": w, "label_smoothing": smooth, "ignore_index": 3, "reduction": reduction}
        compare(lambda a, b, k=kw: F.cross_entropy(a, b, **{**k, "weight": gv.tensor(w)}),
                lambda a, b, k=kw: TF.cross_entropy(a, b, **{**k, "weight": torch.tensor(w)}),
                [x, t], (0,), "float64")


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = gv.randn(3, 4), gv.tensor([1, 1, 1])
    assert np.isnan(F.cross_entropy(x, t, ignore_index=1).item())
    assert F.cross_entropy(x, t, ignore_index=1, reduction="sum").item() == 0.0


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("target, weight, smooth", [
    ([-100, -100, -100], None, 0.0),           # a mean over nothing: NaN, zero gradient
    ([-100, -100, -100], [0.0, 1, 1, 1], 0.3),
    ([0, 0, -100], [0.0, 1, 1, 1], 0.0),       # kept targets of zero weight: NaN gradient
    ([1, -100, 2], [0.0, 1, 1, 1], 0.0)])
def test_mean_over_no_weight_has_torchs_gradient(fn, target, weight, smooth):
    x = _rng(3).standard_normal((3, 4))
    kw = {"label_smoothing": smooth} if fn == "cross_entropy" else {}
    grads = []
    for lib, f in ((gv, F), (torch, TF)):
        xt = lib.tensor(x, requires_grad=True)
        w = None if weight is None else lib.tensor(weight, dtype=lib.float64)
        loss = getattr(f, fn)(xt, lib.tensor(target), weight=w, **kw)
        loss.backward()
        grads.append((loss.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-15,
                               equal_nan=True)


def test_double_backward_matches_torch():
    rng = _rng(5)
    x, y, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), np.array([0, 3, 1])
    w = np.array([1.0, 2, 3, 4])
    nll = (lambda a, b: F.nll_loss(a.log_softmax(1), b, weight=gv.tensor(w)),
           lambda a, b: TF.nll_loss(a.log_softmax(1), b, weight=torch.tensor(w)))
    smooth = (lambda a, b: F.cross_entropy(a, b, label_smoothing=0.2, reduction="sum"),
              lambda a, b: TF.cross_entropy(a, b, label_smoothing=0.2, reduction="sum"))
    for gfn, tfn, other in [(F.mse_loss, TF.mse_loss, y), (F.cross_entropy, TF.cross_entropy, t),
                            (*nll, t), (*smooth, t),
                            (F.binary_cross_entropy_with_logits,
                             TF.binary_cross_entropy_with_logits, _sig(y))]:
        gx, tx = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g1, = gv.autograd.grad(gfn(gx, gv.tensor(other)), gx, create_graph=True)
        t1, = torch.autograd.grad(tfn(tx, torch.tensor(other)), tx, create_graph=True)
        g2, = gv.autograd.grad((g1 * g1).sum(), gx)
        t2, = torch.autograd.grad((t1 * t1).sum(), tx)
        np.testing.assert_allclose(g2.numpy(), t2.numpy(), atol=1e-10)


# ---- modules, events, errors ---------------------------------------------------------------------
def test_modules_match_torch_and_keep_their_buffers():
    rng = _rng(9)
    w = rng.uniform(0.5, 2, 4)
    x, y, t = rng.standard_normal((3, 4)), _sig(rng.standard_normal((3, 4))), np.array([0, 3, 2])
    pairs = [(L.MSELoss(), tnn.MSELoss(), y),
             (L.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum"), y),
             (L.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5), y),
             (L.HuberLoss(delta=0.3), tnn.HuberLoss(delta=0.3), y),
             (L.KLDivLoss(reduction="batchmean"), tnn.KLDivLoss(reduction="batchmean"), y),
             (L.BCEWithLogitsLoss(pos_weight=gv.tensor(w)),
              tnn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)), y),
             (L.CrossEntropyLoss(gv.tensor(w), ignore_index=2, label_smoothing=0.1),
              tnn.CrossEntropyLoss(torch.tensor(w), ignore_index=2, label_smoothing=0.1), t),
             (L.NLLLoss(reduction="none"), tnn.NLLLoss(reduction="none"), t)]
    for gm, tm, other in pairs:
        compare(gm, tm, [x, other], (0,), "float64")
        assert list(gm.state_dict()) == list(tm.state_dict()), type(gm).__name__
    compare(L.BCELoss(weight=gv.tensor(w)), tnn.BCELoss(weight=torch.tensor(w)), [y, y], (0,),
            "float64")
    assert repr(L.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_legacy_size_average_and_reduce():
    x, y = gv.randn(3, 4), gv.randn(3, 4)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        s = F.mse_loss(x, y, size_average=False)
    np.testing.assert_allclose(s.item(), F.mse_loss(x, y, reduction="sum").item(), rtol=1e-6)
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert L.L1Loss(reduce=False).reduction == "none"


@pytest.mark.parametrize("fn,op,args", [
    (F.mse_loss, "MSELoss", lambda: (gv.randn(2, 3), gv.randn(2, 3))),
    (F.l1_loss, "L1Loss", lambda: (gv.randn(2, 3), gv.randn(2, 3))),
    (F.smooth_l1_loss, "SmoothL1Loss", lambda: (gv.randn(2, 3), gv.randn(2, 3))),
    (F.huber_loss, "HuberLoss", lambda: (gv.randn(2, 3), gv.randn(2, 3))),
    (F.binary_cross_entropy, "BCELoss", lambda: (gv.rand(2, 3), gv.rand(2, 3))),
    (F.binary_cross_entropy_with_logits, "BCEWithLogits", lambda: (gv.randn(2, 3), gv.rand(2, 3))),
    (F.kl_div, "KLDiv", lambda: (gv.randn(2, 3), gv.rand(2, 3), "batchmean")),
    (F.cross_entropy, "CrossEntropy", lambda: (gv.randn(2, 3), gv.tensor([0, 2]))),
    (F.nll_loss, "NLLLoss", lambda: (gv.randn(2, 3), gv.tensor([0, 2]))),
])
def test_one_op_event_per_loss(fn, op, args):
    a = args()
    x = a[0].requires_grad_()
    with gv.trace.record() as rec:
        out = fn(x, a[1], reduction=a[2]) if len(a) > 2 else fn(x, a[1])
        out.backward()
    ops = [e["op"] for e in rec.events if e["type"] == "op"]
    assert ops == [op]
    grads = [e for e in rec.events if e["type"] == "grad"]
    assert grads and grads[0]["op"] == op and grads[0]["rule"]


@pytest.mark.parametrize("call,match", [
    (lambda: F.mse_loss(gv.randn(2), gv.randn(2), reduction="avg"), "not a valid value"),
    (lambda: F.cross_entropy(gv.randn(3, 4), gv.tensor([0, 4, 1])), "Target 4 is out of bounds"),
    (lambda: F.nll_loss(gv.randn(3, 4), gv.tensor([0, -1, 1])), "Target -1 is out of bounds"),
    (lambda: F.cross_entropy(gv.randn(3, 4), gv.tensor([0, 1])), "batch_size"),
    (lambda: F.cross_entropy(gv.randn(3, 4), gv.tensor([0, 1, 2]), weight=gv.ones(3)),
     "for all 4 classes"),
    (lambda: F.cross_entropy(gv.randn(3, 4), gv.rand(3, 4), ignore_index=1), "ignore_index"),
    (lambda: F.cross_entropy(gv.randn(3, 4), gv.tensor([0, 1, 2]), label_smoothing=1.5),
     "label_smoothing"),
    (lambda: F.nll_loss(gv.randn(3, 4), gv.rand(3, 4)), "integer dtype"),
    (lambda: F.binary_cross_entropy(gv.randn(3) + 5, gv.rand(3)), "between 0 and 1"),
    (lambda: F.binary_cross_entropy(gv.rand(3), gv.rand(1)), "target size"),
    (lambda: F.binary_cross_entropy_with_logits(gv.rand(3), gv.rand(3, 1)), "must be the same"),
    (lambda: F.smooth_l1_loss(gv.rand(3), gv.rand(3), beta=-1), "negative values for beta"),
    (lambda: F.huber_loss(gv.rand(3), gv.rand(3), delta=0), "non-positive values for delta"),
    (lambda: F.mse_loss(gv.rand(3), gv.rand(3), weight=gv.ones(2)), "same size"),
])
def test_argument_errors_are_gradviz_errors(call, match):
    with pytest.raises(GradvizError, match=match):
        call()
