"""gv.linalg gaps closed against torch (float64): matrix norms of every ord, full SVD, the
complete and 'r' QR modes, det's gradient at a singular matrix, the LU family and the *_ex
forms. Gradients are compared with torch's and with central finite differences."""
import math
import warnings

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.errors import BackwardError, GradvizError, LinAlgError, ShapeError

ORDS = ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]


def _pair(a, grad=True):
    a = np.array(a, dtype=np.float64)
    return (gv.tensor(a.copy(), requires_grad=grad), torch.tensor(a.copy(), requires_grad=grad))


def _np(t):
    return t.detach().numpy()


def _check(gv_fn, torch_fn, *arrays, seed=0, torch_grad=True):
    """Values, gradients (for a random output weighting; not torch's when ``torch_grad`` is
    False) and a finite difference of gv_fn against torch_fn on the same float64 ``arrays``."""
    rng = np.random.default_rng(seed)
    pairs = [_pair(a) for a in arrays]
    out, ref = gv_fn(*[g for g, _ in pairs]), torch_fn(*[t for _, t in pairs])
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(_np(out), _np(ref), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(tuple(ref.shape))
    (out * gv.from_numpy(w)).sum().backward()
    if torch_grad:
        (ref * torch.from_numpy(w)).sum().backward()
    for (g, t), a in zip(pairs, arrays):
        if torch_grad:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-10)
        v = rng.standard_normal(np.shape(a))
        eps = 1e-6

        def f(shift, a=a):
            args = [gv.from_numpy(np.asarray(b, dtype=np.float64) + (shift if b is a else 0))
                    for b in arrays]
            with gv.no_grad():
                return float((gv_fn(*args) * gv.from_numpy(w)).sum())
        numeric = (f(eps * v) - f(-eps * v)) / (2 * eps)
        assert abs(numeric - float(np.sum(g.grad.numpy() * v))) <= 1e-6 * (1 + abs(numeric))


# ---- matrix norms -----------------------------------------------------------------------------
@pytest.mark.parametrize("ord", ORDS, ids=str)
@pytest.mark.parametrize("shape,dim", [((3, 3), (-2, -1)), ((4, 3), (-1, -2)),
                                       ((2, 3, 5), (-2, -1)), ((3, 2, 4), (0, 2)),
                                       ((2, 4, 3, 2), (1, -2))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_every_ord_matches_torch(ord, shape, dim, keepdim):
    a = np.random.default_rng(len(shape) + dim[0]).standard_normal(shape)
    _check(lambda x: gv.linalg.matrix_norm(x, ord, dim=dim, keepdim=keepdim),
           lambda x: torch.linalg.matrix_norm(x, ord, dim=dim, keepdim=keepdim), a)


@pytest.mark.parametrize("ord", ORDS, ids=str)
def test_norm_with_an_ord_on_a_matrix_is_the_matrix_norm(ord):
    a = np.random.default_rng(3).standard_normal((4, 3))
    _check(lambda x: gv.linalg.norm(x, ord), lambda x: torch.linalg.norm(x, ord), a)
    b = np.random.default_rng(4).standard_normal((2, 3, 4))
    _check(lambda x: gv.linalg.norm(x, ord, dim=(2, 0), keepdim=True),
           lambda x: torch.linalg.norm(x, ord, dim=(2, 0), keepdim=True), b)


@pytest.mark.parametrize("ord,dim", [(None, None), (3, None), (-math.inf, None), (1, 1),
                                     (None, (0,)), (0.5, -1)])
def test_norm_of_vectors_stays_a_vector_norm(ord, dim):
    a = np.random.default_rng(5).standard_normal((3,) if dim is None and ord else (2, 3))
    _check(lambda x: gv.linalg.norm(x, ord, dim), lambda x: torch.linalg.norm(x, ord, dim), a)


@pytest.mark.parametrize("p", ["nuc", 1, -1, math.inf, -math.inf, "fro"], ids=str)
def test_cond_in_every_matrix_norm(p):
    a = np.eye(3) * 2 + np.random.default_rng(6).standard_normal((2, 3, 3)) * 0.3
    # torch's own backward of cond fails here (inv_ex's output changed in place): FD only
    _check(lambda x: gv.linalg.cond(x, p), lambda x: torch.linalg.cond(x, p), a,
           torch_grad=p == "nuc")


def _same_error(gv_call, torch_call, error):
    with pytest.raises(RuntimeError) as theirs:
        torch_call()
    with pytest.raises(error) as ours:
        gv_call()
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("call,error", [
    (lambda lib, x: lib.linalg.matrix_norm(x, 3), GradvizError),
    (lambda lib, x: lib.linalg.matrix_norm(x, "abc"), GradvizError),
    (lambda lib, x: lib.linalg.matrix_norm(x, "fro", dim=(0,)), ShapeError),
    (lambda lib, x: lib.linalg.matrix_norm(x[0, 0]), ShapeError),
    (lambda lib, x: lib.linalg.norm(x, 2), ShapeError),
    (lambda lib, x: lib.linalg.norm(x[0, 0], "fro"), ShapeError),
])
def test_norm_errors_are_torchs(call, error):
    g, t = _pair(np.ones((2, 2, 2)), grad=False)
    _same_error(lambda: call(gv, g), lambda: call(torch, t), error)


# ---- full SVD ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 2), (2, 2, 4), (3, 3)])
def test_svd_full_matrices_is_orthonormal_and_reconstructs(shape):
    a = np.random.default_rng(7).standard_normal(shape)
    g, t = _pair(a)
    U, S, Vh = gv.linalg.svd(g)
    Ut, St, Vht = torch.linalg.svd(t)
    m, n = shape[-2:]
    k = min(m, n)
    assert (U.shape, Vh.shape) == (Ut.shape, Vht.shape) == (shape[:-2] + (m, m),
                                                           shape[:-2] + (n, n))
    np.testing.assert_allclose(_np(U.mT @ U), np.broadcast_to(np.eye(m), U.shape), atol=1e-12)
    np.testing.assert_allclose(_np(Vh @ Vh.mT), np.broadcast_to(np.eye(n), Vh.shape),
                               atol=1e-12)
    sigma = np.zeros(shape)
    sigma[..., range(k), range(k)] = _np(S)
    np.testing.assert_allclose(_np(U) @ sigma @ _np(Vh), a, atol=1e-12)
    np.testing.assert_allclose(_np(S), _np(St), atol=1e-12)
    # the first k columns agree with torch's up to a sign per column
    sign = np.sign(np.sum(_np(U)[..., :k] * _np(Ut)[..., :k], axis=-2, keepdims=True))
    np.testing.assert_allclose(_np(U)[..., :k] * sign, _np(Ut)[..., :k], atol=1e-10)
    np.testing.assert_allclose(_np(Vh)[..., :k, :] * sign.swapaxes(-1, -2),
                               _np(Vht)[..., :k, :], atol=1e-10)


def test_svd_full_matrices_gradient_goes_through_the_first_k_columns_only():
    a = np.random.default_rng(8).standard_normal((5, 3))
    a[range(3), range(3)] += [6.0, 4.0, 2.0]   # distinct singular values, stable signs

    def f(lib, x):
        U, S, Vh = lib.linalg.svd(x)
        # the whole U enters: torch drops the completion's share of the gradient
        return (U ** 3).sum() + S.sum() + (Vh[..., :3, :] ** 3).sum() + 0 * U[..., 3:].sum()
    _check_value_and_grad(lambda x: f(gv, x), lambda x: f(torch, x), a)


def _check_value_and_grad(gv_fn, torch_fn, a):
    g, t = _pair(a)
    out, ref = gv_fn(g), torch_fn(t)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_legacy_svd_some_false_and_compute_uv_false():
    a = np.random.default_rng(9).standard_normal((2, 4, 3))
    g, t = _pair(a, grad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        full, none = torch.svd(t, some=False), torch.svd(t, compute_uv=False)
    ours = gv.svd(g, some=False)
    assert ours.U.shape == full.U.shape and ours.V.shape == full.V.shape
    np.testing.assert_allclose(ours.S.numpy(), full.S.numpy(), atol=1e-12)
    ours = gv.svd(g, compute_uv=False)
    for x, y in zip(ours, none):
        assert x.shape == y.shape
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-12)


# ---- QR modes ---------------------------------------------------------------------------------
def test_qr_complete_of_a_tall_matrix_and_its_gradient_error():
    a = np.random.default_rng(10).standard_normal((2, 5, 3))
    g, t = _pair(a)
    Q, R = gv.linalg.qr(g, mode="complete")
    Qt, Rt = torch.linalg.qr(t, mode="complete")
    assert Q.shape == Qt.shape == (2, 5, 5) and R.shape == Rt.shape == (2, 5, 3)
    np.testing.assert_allclose(_np(Q.mT @ Q), np.broadcast_to(np.eye(5), (2, 5, 5)),
                               atol=1e-12)
    np.testing.assert_allclose(_np(Q @ R), a, atol=1e-12)
    np.testing.assert_allclose(np.abs(_np(R)), np.abs(_np(Rt)), atol=1e-12)
    with pytest.raises(RuntimeError) as theirs:
        Rt.sum().backward()
    with pytest.raises(BackwardError) as ours:
        R.sum().backward()
    assert str(ours.value) == str(theirs.value)


def test_qr_mode_r_gives_an_empty_q_and_no_gradient():
    a = np.random.default_rng(11).standard_normal((4, 3))
    g, t = _pair(a)
    Q, R = gv.linalg.qr(g, mode="r")
    Qt, Rt = torch.linalg.qr(t, mode="r")
    assert Q.shape == Qt.shape == (0,) and Q.dtype == gv.float64
    assert Q.requires_grad == Qt.requires_grad and R.requires_grad
    np.testing.assert_allclose(np.abs(_np(R)), np.abs(_np(Rt)), atol=1e-12)
    with pytest.raises(RuntimeError) as theirs:
        Rt.sum().backward()
    with pytest.raises(BackwardError) as ours:
        R.sum().backward()
    assert str(ours.value) == str(theirs.value)
    _same_error(lambda: gv.linalg.qr(g, mode="x"), lambda: torch.linalg.qr(t, mode="x"),
                GradvizError)


def test_qr_complete_of_a_wide_matrix_has_the_reduced_gradient():
    a = np.random.default_rng(12).standard_normal((3, 5))
    _check(lambda x: gv.linalg.qr(x, mode="complete").R.sum(-1),
           lambda x: torch.linalg.qr(x, mode="complete").R.sum(-1), a)


# ---- det at a singular matrix -----------------------------------------------------------------
@pytest.mark.parametrize("a", [[[1.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [2.0, 4.0]],
                               [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],
                               [[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 5.0]]])
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(a):
    g, t = _pair(a)
    d = gv.linalg.det(g)
    d.backward()
    # torch's plain backward gives 0 here (it solves with a zero right-hand side); its
    # create_graph path and finite differences give the cofactor matrix, as gradviz does
    theirs, = torch.autograd.grad(torch.linalg.det(t), t, create_graph=True)
    np.testing.assert_allclose(g.grad.numpy(), _np(theirs), atol=1e-12)
    assert np.any(g.grad.numpy())
    _check(gv.linalg.det, lambda x: torch.linalg.det(x), np.array(a), torch_grad=False)


def test_det_gradient_in_a_batch_with_singular_and_regular_matrices():
    a = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[2.0, 1.0], [0.5, 3.0]])])
    g, t = _pair(a)
    gv.linalg.det(g).sum().backward()
    theirs, = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    np.testing.assert_allclose(g.grad.numpy(), _np(theirs), atol=1e-12)


# ---- LU ---------------------------------------------------------------------------------------
def test_lu_factor_of_a_singular_matrix_raises_torchs_error_and_ex_reports_info():
    a = np.zeros((2, 3, 3))
    a[1] = np.random.default_rng(13).standard_normal((3, 3))
    g, t = _pair(a, grad=False)
    _same_error(lambda: gv.linalg.lu_factor(g), lambda: torch.linalg.lu_factor(t), LinAlgError)
    _same_error(lambda: gv.linalg.lu_factor_ex(g[0], check_errors=True),
                lambda: torch.linalg.lu_factor_ex(t[0], check_errors=True), LinAlgError)
    ours, theirs = gv.linalg.lu_factor_ex(g), torch.linalg.lu_factor_ex(t)
    assert type(ours).__name__ == type(theirs).__name__ and ours._fields == ("LU", "pivots",
                                                                            "info")
    assert ours.info.dtype == ours.pivots.dtype == gv.int32
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_allclose(ours.LU.numpy(), theirs.LU.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 2), (2, 2, 4)])
def test_lu_of_a_rectangular_matrix_matches_torch_including_gradients(shape):
    a = np.random.default_rng(14).standard_normal(shape)
    for part in (1, 2):
        _check(lambda x: gv.linalg.lu(x)[part], lambda x: torch.linalg.lu(x)[part], a)
    _check(lambda x: gv.linalg.lu_factor(x).LU, lambda x: torch.linalg.lu_factor(x).LU, a)


def test_lu_without_pivoting_is_torchs_cpu_error():
    g, t = _pair(np.eye(2), grad=False)
    _same_error(lambda: gv.linalg.lu(g, pivot=False), lambda: torch.linalg.lu(t, pivot=False),
                GradvizError)


def test_lu_with_pivoting_matches_torch_including_gradients():
    a = np.random.default_rng(15).standard_normal((2, 4, 4))
    b = np.random.default_rng(16).standard_normal((2, 4, 3))
    for part in (1, 2):   # P needs no gradient
        _check(lambda x: gv.linalg.lu(x)[part], lambda x: torch.linalg.lu(x)[part], a)
    for left, adjoint in ((True, False), (True, True), (False, False), (False, True)):
        rhs = b if left else b.swapaxes(-1, -2)
        _check(lambda x, y: gv.linalg.lu_solve(*gv.linalg.lu_factor(x), y, left=left,
                                               adjoint=adjoint),
               lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y, left=left,
                                                  adjoint=adjoint), a, rhs)


# ---- the *_ex forms ---------------------------------------------------------------------------
def _batch_with_a_failure(n=3):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, n, n))
    a = x @ x.swapaxes(-1, -2) + n * np.eye(n)
    a[1, 1, 1] = -5.0   # the leading minor of order 2 is not positive-definite
    a[1, 2, 2] = 0.0
    a[2] = 0.0
    return a


@pytest.mark.parametrize("name", ["inv_ex", "cholesky_ex", "solve_ex"])
def test_ex_forms_report_info_as_torch(name):
    a = _batch_with_a_failure()
    g, t = _pair(a)
    extra = ((gv.ones((3,), dtype=gv.float64),), (torch.ones(3, dtype=torch.float64),)) \
        if name == "solve_ex" else ((), ())
    ours = getattr(gv.linalg, name)(g, *extra[0])
    theirs = getattr(torch.linalg, name)(t, *extra[1])
    assert type(ours).__name__ == type(theirs).__name__
    assert all(getattr(ours, f) is ours[i] for i, f in enumerate(ours._fields))
    assert [getattr(theirs, f).shape for f in ours._fields] == [x.shape for x in ours]
    assert ours.info.dtype == gv.int32
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(_np(ours[0][0]), _np(theirs[0][0]), atol=1e-12)
    assert np.isnan(_np(ours[0][2])).all()
    _same_error(lambda: getattr(gv.linalg, name)(g, *extra[0], check_errors=True),
                lambda: getattr(torch.linalg, name)(t, *extra[1], check_errors=True),
                LinAlgError)
    _same_error(lambda: getattr(gv.linalg, name)(g[2], *extra[0], check_errors=True),
                lambda: getattr(torch.linalg, name)(t[2], *extra[1], check_errors=True),
                LinAlgError)


@pytest.mark.parametrize("name", ["inv_ex", "cholesky_ex", "solve_ex"])
def test_ex_forms_gradients_match_torch_where_they_succeed(name):
    a = _batch_with_a_failure()[:1]
    b = np.random.default_rng(18).standard_normal((1, 3, 2))
    if name == "solve_ex":
        _check(lambda x, y: gv.linalg.solve_ex(x, y, left=False).result,
               lambda x, y: torch.linalg.solve_ex(x, y, left=False).result, a,
               b.swapaxes(-1, -2))
    else:   # symmetric input: cholesky's gradient is the symmetric one, as torch's
        _check(lambda x: getattr(gv.linalg, name)((x + x.mT) * 0.5)[0],
               lambda x: getattr(torch.linalg, name)((x + x.mT) * 0.5)[0], a)
    _check(lambda x: gv.linalg.cholesky_ex((x + x.mT) * 0.5, upper=True).L,
           lambda x: torch.linalg.cholesky_ex((x + x.mT) * 0.5, upper=True).L, a)


# ---- vander, householder_product --------------------------------------------------------------
@pytest.mark.parametrize("x,N", [([0.0, 0.0, 3.0], 4), ([[1.5, -2.0], [0.5, 0.0]], None),
                                 ([2.0], 3)])
def test_vander_matches_torch_with_gradients_at_zero(x, N):
    _check(lambda v: gv.linalg.vander(v, N=N), lambda v: torch.linalg.vander(v, N=N),
           np.array(x))


def test_vander_of_integers_and_errors():
    ours, theirs = gv.linalg.vander(gv.tensor([1, 2, 3])), torch.linalg.vander(
        torch.tensor([1, 2, 3]))
    assert ours.dtype == gv.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for N in (0, 1):
        _same_error(lambda: gv.linalg.vander(gv.ones(2), N=N),
                    lambda: torch.linalg.vander(torch.ones(2), N=N), GradvizError)
    _same_error(lambda: gv.linalg.vander(gv.tensor([True])),
                lambda: torch.linalg.vander(torch.tensor([True])), GradvizError)


@pytest.mark.parametrize("shape,k", [((4, 3), 3), ((4, 3), 2), ((2, 5, 2), 2), ((3, 3), 1)])
def test_householder_product_matches_torch_with_gradients(shape, k):
    rng = np.random.default_rng(19)
    a = rng.standard_normal(shape)
    tau = rng.uniform(0.5, 1.5, shape[:-2] + (k,))
    _check(gv.linalg.householder_product, torch.linalg.householder_product, a, tau)


@pytest.mark.parametrize("a,tau", [((2, 3), (2,)), ((3, 2), (3,)), ((2, 3, 2), (3, 2)),
                                   ((3,), (1,))])
def test_householder_product_errors_are_torchs(a, tau):
    _same_error(lambda: gv.linalg.householder_product(gv.ones(a), gv.ones(tau)),
                lambda: torch.linalg.householder_product(torch.ones(a), torch.ones(tau)),
                ShapeError)
