"""Ranking, embedding, margin and likelihood losses against torch: values and gradients for
every reduction, modules and F.* forms, and their argument errors."""
import numpy as np
import pytest
import torch

import gradviz as gv

RNG = np.random.default_rng(0)
X, Y, Z = (RNG.standard_normal((4, 5)) for _ in range(3))
SIGN = np.array([1.0, -1.0, 1.0, -1.0])
SIGNS = RNG.choice([-1.0, 1.0], (4, 5))
POS = RNG.uniform(0.2, 2.0, (4, 5))
COUNTS = RNG.integers(0, 6, (4, 5)).astype(np.float64)
LABELS = RNG.integers(0, 2, (4, 5)).astype(np.float64)

# name, module args, inputs (d: differentiable), gradient-free extra inputs
CASES = [
    ("MarginRankingLoss", {"margin": 0.3}, [X[:, 0], Y[:, 0]], [SIGN]),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [X], [SIGNS]),
    ("SoftMarginLoss", {}, [X], [SIGNS]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [X, Y], [SIGN]),
    ("TripletMarginLoss", {"margin": 0.5}, [X, Y, Z], []),
    ("TripletMarginLoss", {"p": 1.0, "swap": True}, [X, Y, Z], []),
    ("PoissonNLLLoss", {}, [X * 0.3], [COUNTS]),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, [POS], [COUNTS]),
    ("GaussianNLLLoss", {}, [X, Y, POS], []),
    ("GaussianNLLLoss", {"full": True, "eps": 0.5}, [X, Y, POS[:, 0]], []),
    ("MultiLabelSoftMarginLoss", {}, [X], [LABELS]),
    ("MultiLabelSoftMarginLoss", {"weight": RNG.uniform(0.5, 2, 5)}, [X], [LABELS]),
]


@pytest.mark.parametrize("name, kw, diff, extra", CASES, ids=lambda v: v if isinstance(v, str)
                         else None)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_matches_torch(name, kw, diff, extra, reduction):
    out = []
    for lib in (gv, torch):
        args = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        loss = getattr(lib.nn, name)(**args, reduction=reduction)
        xs = [lib.tensor(a, requires_grad=True) for a in diff]
        ins = xs + [lib.tensor(a) for a in extra]
        if name == "GaussianNLLLoss":     # (input, target, var): target needs no grad
            ins = [xs[0], lib.tensor(diff[1]), xs[2]]
            xs = [xs[0], xs[2]]
        value = loss(*ins)
        w = np.arange(1, value.numel() + 1, dtype=np.float64).reshape(tuple(value.shape))
        (value * lib.tensor(w)).sum().backward()
        out.append((value.detach().numpy(), [x.grad.numpy() for x in xs]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10, atol=1e-12)
    for g, t in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)


def test_functional_forms_and_errors():
    F, TF = gv.nn.functional, torch.nn.functional
    g, t = gv.tensor(X), torch.tensor(X)
    np.testing.assert_allclose(
        F.margin_ranking_loss(g[:, 0], g[:, 1], gv.tensor(SIGN), margin=0.1).item(),
        TF.margin_ranking_loss(t[:, 0], t[:, 1], torch.tensor(SIGN), margin=0.1).item())
    np.testing.assert_allclose(F.soft_margin_loss(g, gv.tensor(SIGNS)).item(),
                               TF.soft_margin_loss(t, torch.tensor(SIGNS)).item())
    with pytest.raises(gv.GradvizError, match="negative"):
        F.gaussian_nll_loss(g, g, gv.tensor(-POS))
    with pytest.raises(gv.GradvizError, match="reduction"):
        F.soft_margin_loss(g, gv.tensor(SIGNS), reduction="avg")
