"""gv.linalg beyond the op table: torch's errors, namedtuple fields, batched shapes, the
no-gradient results (matrix_rank) and what is not supported here."""
import warnings

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import GradvizError, LinAlgError, ShapeError


def _pair(a):
    return gv.from_numpy(np.array(a, dtype=np.float64)), torch.tensor(a, dtype=torch.float64)


def _raises_like_torch(gv_call, torch_call, error):
    with pytest.raises(RuntimeError) as theirs:
        torch_call()
    with pytest.raises(error) as ours:
        gv_call()
    assert str(ours.value).split(":")[0] in str(theirs.value)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "matrix_exp"])
def test_non_square_input_is_torchs_error(name):
    g, t = _pair(np.ones((2, 3)))
    _raises_like_torch(lambda: getattr(gv.linalg, name)(g),
                       lambda: getattr(torch.linalg, name)(t), ShapeError)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        getattr(gv.linalg, name)(gv.ones(3))
    with pytest.raises(GradvizError, match="Expected a floating point"):
        getattr(gv.linalg, name)(gv.ones((2, 2), dtype=gv.int64))


def test_singular_and_not_positive_definite_are_linalg_errors():
    g, t = _pair(np.zeros((2, 2)))
    _raises_like_torch(lambda: gv.linalg.inv(g), lambda: torch.linalg.inv(t), LinAlgError)
    _raises_like_torch(lambda: gv.linalg.solve(g, gv.ones(2, dtype=gv.float64)),
                       lambda: torch.linalg.solve(t, torch.ones(2, dtype=torch.float64)),
                       LinAlgError)
    g, t = _pair(-np.eye(2))
    with pytest.raises(LinAlgError, match="not positive-definite"):
        gv.linalg.cholesky(g)
    with pytest.raises(ShapeError, match="Incompatible shapes"):
        gv.linalg.solve(gv.eye(3), gv.ones(2))


def test_namedtuple_fields_and_batched_shapes():
    rng = np.random.default_rng(0)
    a = gv.from_numpy(rng.standard_normal((2, 3, 5, 4)))
    q, r = gv.linalg.qr(a)
    assert gv.linalg.qr(a).Q is not None and q.shape == (2, 3, 5, 4) and r.shape == (2, 3, 4, 4)
    svd = gv.linalg.svd(a, full_matrices=False)
    assert (svd.U.shape, svd.S.shape, svd.Vh.shape) == ((2, 3, 5, 4), (2, 3, 4), (2, 3, 4, 4))
    np.testing.assert_allclose((svd.U * svd.S.unsqueeze(-2) @ svd.Vh).numpy(), a.numpy(),
                               atol=1e-12)
    sym = a.mT @ a
    e = gv.linalg.eigh(sym)
    assert e.eigenvalues.shape == (2, 3, 4) and e.eigenvectors.shape == (2, 3, 4, 4)
    s = gv.linalg.slogdet(sym)
    assert s.sign.shape == s.logabsdet.shape == (2, 3)
    old = gv.slogdet(sym)
    assert type(old).__name__ == "slogdet" and old._fields == ("sign", "logabsdet")
    assert gv.svd(a)._fields == ("U", "S", "V") and gv.qr(a)._fields == ("Q", "R")


def test_lstsq_fields_and_rank():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    ours = gv.linalg.lstsq(gv.from_numpy(a), gv.from_numpy(b))
    theirs = torch.linalg.lstsq(torch.from_numpy(a), torch.from_numpy(b))
    assert ours._fields == ("solution", "residuals", "rank", "singular_values")
    np.testing.assert_allclose(ours.solution.numpy(), theirs.solution.numpy(), atol=1e-10)
    assert int(ours.rank) == int(theirs.rank) == 3 and ours.rank.dtype == gv.int64
    assert ours.residuals.shape == theirs.residuals.shape == (0,)


def test_matrix_rank_cond_and_powers_match_torch():
    a = np.diag([3.0, 2.0, 1e-20]) @ np.random.default_rng(2).standard_normal((3, 3))
    g, t = _pair(a)
    r = gv.linalg.matrix_rank(g)
    assert int(r) == int(torch.linalg.matrix_rank(t)) == 2 and not r.requires_grad
    g, t = _pair(np.eye(3) * 2 + 0.1)
    for p in (None, 2, -2, "fro"):
        np.testing.assert_allclose(float(gv.linalg.cond(g, p)), float(torch.linalg.cond(t, p)))
    np.testing.assert_allclose(gv.linalg.matrix_power(g, 0).numpy(), np.eye(3))
    np.testing.assert_allclose(gv.linalg.matrix_power(g, -3).numpy(),
                               torch.linalg.matrix_power(t, -3).numpy())
    g, t = _pair(np.diag([-1.0, 1.0]))
    assert np.isnan(float(g.logdet())) and np.isnan(float(torch.logdet(t)))


def test_what_is_not_supported_says_so():
    a = gv.ones((3, 2))
    with pytest.raises(ShapeError, match="at least 2 tensors"):
        gv.linalg.multi_dot([a])
    with pytest.raises(ShapeError, match="prod"):
        gv.linalg.tensorinv(gv.ones((2, 3)), ind=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert torch.svd(torch.ones(3, 2)).V.shape == gv.svd(a).V.shape == (2, 2)
