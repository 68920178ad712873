"""Op table rows: the loss Functions of gradviz.nn.ops.loss_ops and gradviz.nn.ops.ctc."""
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st

import gradviz as gv
import gradviz.nn.functional_losses as F
from gradviz.engine import ops as O
from gradviz.nn.ops import ctc as CT
from gradviz.nn.ops import loss_ops as LO
from op_table import SHAPES, C, Case, OpRow, T, X, fixed

REDUCTIONS = st.sampled_from(["none", "mean", "sum"])


@st.composite
def pair(draw, da="real", db="real", reductions=REDUCTIONS, **kw):
    """input and target of one shape (0-d included) and a reduction."""
    shape = draw(SHAPES)
    return Case([X(shape, da), X(shape, db)], {"reduction": draw(reductions), **kw})


@st.composite
def classes(draw, spatial=False, smoothing=False):
    """logits (N, C[, d]) or (C,), int targets (some = ignore_index 1), reduction."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    shape = draw(st.sampled_from([(n, c), (c,)] + ([(n, c, 3), (n, c, 2, 2)] if spatial else [])))
    tshape = (shape[:1] + shape[2:]) if len(shape) > 1 else ()
    target = rng.integers(0, c, tshape)
    kw = {"reduction": draw(REDUCTIONS)}
    if draw(st.booleans()) and len(tshape) and target.size > 1:
        target.reshape(-1)[0] = 1
        kw["ignore_index"] = 1
    if smoothing:
        kw["label_smoothing"] = draw(st.sampled_from([0.0, 0.15]))
    return Case([X(shape), T(target)], kw)


def _pos_weight(lib, x):
    w = [0.5, 1.5, 2.0, 1.0][:x.shape[-1]] if x.ndim else 1.5
    return lib.tensor(w, dtype=x.dtype)


def _ctc(lib, fn):
    def call(x, targets, il, tl, **kw):
        if lib is torch:
            il, tl = torch.tensor(il), torch.tensor(tl)
        return fn(x.log_softmax(-1), targets, il, tl, **kw)
    return call


_TARGETS = np.array([[1, 1, 2], [2, 3, 0], [3, 0, 0]])
CTC_CASES = fixed(*[Case([X((6, 3, 4)), T(_TARGETS), C([6, 5, 4]), C([3, 2, 0])],
                         {"reduction": r, "blank": 0}) for r in ("none", "mean", "sum")],
                  Case([X((5, 2, 5)), T(np.array([[1, 2], [3, 3]])), C([5, 5]), C([2, 2])],
                       {"reduction": "mean", "blank": 4, "zero_infinity": True}))

ROWS = [
    OpRow("mse_loss", (LO.MSELoss,), F.mse_loss, TF.mse_loss, pair()),
    OpRow("l1_loss", (LO.L1Loss,), F.l1_loss, TF.l1_loss, pair("real", "nonzero")),
    OpRow("smooth_l1_loss", (LO.SmoothL1Loss,), F.smooth_l1_loss, TF.smooth_l1_loss,
          st.one_of(pair(), pair(beta=0.5))),
    OpRow("huber_loss", (LO.HuberLoss,), F.huber_loss, TF.huber_loss,
          st.one_of(pair(), pair(delta=0.4))),
    OpRow("binary_cross_entropy", (LO.BCELoss, O.Sigmoid),
          lambda x, y, **k: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), **k),
          lambda x, y, **k: TF.binary_cross_entropy(x.sigmoid(), y.sigmoid(), **k), pair()),
    OpRow("bce_with_logits", (LO.BCEWithLogits, O.Sigmoid),
          lambda x, y, **k: F.binary_cross_entropy_with_logits(x, y.sigmoid(), **k),
          lambda x, y, **k: TF.binary_cross_entropy_with_logits(x, y.sigmoid(), **k), pair()),
    OpRow("bce_with_logits_pos_weight", (LO.BCEWithLogits, O.Sigmoid),
          lambda x, y, **k: F.binary_cross_entropy_with_logits(
              x, y.sigmoid(), pos_weight=_pos_weight(gv, x), **k),
          lambda x, y, **k: TF.binary_cross_entropy_with_logits(
              x, y.sigmoid(), pos_weight=_pos_weight(torch, x), **k), pair()),
    OpRow("kl_div", (LO.KLDiv,), F.kl_div, TF.kl_div,
          st.one_of(pair("real", "pos", st.sampled_from(["none", "sum", "batchmean"])),
                    pair(reductions=st.sampled_from(["none", "batchmean"]), log_target=True))),
    OpRow("cross_entropy", (LO.CrossEntropy,), F.cross_entropy, TF.cross_entropy,
          classes(spatial=True, smoothing=True)),
    OpRow("cross_entropy_probs", (LO.CrossEntropy, O.Softmax),
          lambda x, y, **k: F.cross_entropy(x, y.softmax(1), **k),
          lambda x, y, **k: TF.cross_entropy(x, y.softmax(1), **k),
          fixed(Case([X((3, 4)), X((3, 4))], {"reduction": "mean"}),
                Case([X((2, 3, 2)), X((2, 3, 2))], {"reduction": "none",
                                                    "label_smoothing": 0.2}))),
    OpRow("nll_loss", (LO.NLLLoss, O.LogSoftmax),
          lambda x, t, **k: F.nll_loss(x.log_softmax(1 if x.ndim > 1 else 0), t, **k),
          lambda x, t, **k: TF.nll_loss(x.log_softmax(1 if x.ndim > 1 else 0), t, **k),
          classes(spatial=True)),
    OpRow("ctc_loss", (CT.CTCLoss, O.LogSoftmax), _ctc(gv, F.ctc_loss), _ctc(torch, TF.ctc_loss),
          CTC_CASES),
]
