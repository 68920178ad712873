"""More of ``gv.linalg`` (imported by gradviz/linalg.py): matrix and vector norms, the LU
family (lu_factor, lu_factor_ex, lu, lu_solve), the ``*_ex`` forms that report a failure
in an int32 ``info`` instead of raising, vander and householder_product. Compositions of gv
ops; the LU factors come from one Function class (LuNoPivot) applied to A with its rows put
in pivot order first, so the gradient reaches A through that reordering."""
import collections
import math
import numbers

import numpy as np

from . import linalg as LA
from .engine import grad_mode
from .engine import ops as O
from .engine.backend import xp_of
from .engine.ops.linalg_more import getrf
from .engine.tensor import Tensor
from .engine.tensor_methods import _as_tensor
from .errors import GradvizError, LinAlgError, ShapeError

__all__ = ["vector_norm", "matrix_norm", "norm", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
           "inv_ex", "cholesky_ex", "solve_ex", "vander", "householder_product"]

_lu_factor = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
_lu_factor_ex = collections.namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_lu = collections.namedtuple("linalg_lu", ["P", "L", "U"])
_inv_ex = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
_cholesky_ex = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
_solve_ex = collections.namedtuple("linalg_solve_ex", ["result", "info"])

_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


# ---- norms ------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` as a vector (over ``dim``, or every element)."""
    return x.norm(p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def _dim_pair(dim, ndim, name):
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if len(dims) != 2:
        raise ShapeError(f"{name}: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    d0, d1 = (d % ndim if -ndim <= d < ndim else d for d in dims)
    if not (0 <= d0 < ndim and 0 <= d1 < ndim):
        raise ShapeError(f"{name}: Dimension out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}], but got {dims})")
    if d0 == d1:
        raise ShapeError(f"{name}: dims must be different. Got ({d0}, {d1})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ``ord``-norm of the matrices in dims ``dim``: 'fro', 'nuc' (sum of the singular
    values), 2 / -2 (the largest / smallest one), 1 / -1 (max / min abs column sum), inf /
    -inf (max / min abs row sum)."""
    A = _as_tensor(A)
    name = "linalg.matrix_norm"
    if A.ndim < 2:
        raise ShapeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if isinstance(ord, str) and ord not in ("fro", "nuc") or not isinstance(ord, str) and \
            ord not in _MATRIX_ORDS:
        raise GradvizError(f"{name}: Order {ord} not supported.")
    d0, d1 = _dim_pair(dim, A.ndim, name)
    A = A if dtype is None else A.to(dtype)
    if A._data.dtype.kind != "f":
        raise GradvizError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype}")
    if ord == "fro":
        return A.norm(p=2, dim=(d0, d1), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        S = LA.svdvals(A.movedim((d0, d1), (-2, -1)))
        out = S.sum(-1) if ord == "nuc" else (S.amax(-1) if ord == 2 else S.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    # 1: sum |a_ij| over the rows i, then the max over the columns j; inf: the other way
    summed, reduced = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(reduced, keepdim=True) if ord > 0 else sums.amin(reduced, keepdim=True)
    if not keepdim:
        out = out.reshape(*(s for i, s in enumerate(A.shape) if i not in (d0, d1)))
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a matrix norm over two dims (``dim`` a pair, or ``A`` 2-D with an
    ``ord`` and no ``dim``, or a string ``ord``), else a vector norm (every element when
    both ``ord`` and ``dim`` are None)."""
    A = _as_tensor(A)
    if dim is not None:
        pair = not isinstance(dim, numbers.Integral) and len(dim) == 2
        if pair or isinstance(ord, str):
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if isinstance(ord, str) or A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim != 1:
        raise ShapeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                         f"1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, ord, None, keepdim, dtype=dtype)


# ---- LU ---------------------------------------------------------------------------------------
def _host(a):
    """A NumPy copy of an xp array (CuPy's ``get``)."""
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _row_order(pivots, m):
    """perm with A[..., perm, :] = P^T A, for LAPACK's 1-based row exchanges ``pivots`` of
    an m-row A (batched); row exchanges are few and sequential: a loop on the host."""
    piv = _host(pivots).astype(np.int64) - 1
    *batch, k = piv.shape
    perm = np.tile(np.arange(m), (max(1, math.prod(batch)), 1))
    flat = piv.reshape(-1, k)
    rows = np.arange(perm.shape[0])
    for j in range(k):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(*batch, m)


def _take_rows(B, perm):
    """B[..., perm, :] for a batch of row orders ``perm`` (B broadcast to their batch)."""
    batch = np.broadcast_shapes(tuple(B.shape[:-2]), perm.shape[:-1])
    B = B.expand(*batch, *B.shape[-2:])
    index = np.broadcast_to(perm[..., :, None], batch + (perm.shape[-1], B.shape[-1]))
    return B.gather(-2, Tensor._wrap(xp_of(B._data).asarray(index)))


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): A = P L U with L (unit diagonal, not stored) and U packed in LU,
    pivots LAPACK's 1-based row exchanges (int32), info the first zero U[i, i] (1-based) or
    0. The gradient reaches A (through LU only: pivots and info are ints)."""
    A = LA._matrices(A, "lu_factor_ex", square=False)
    if not pivot:
        raise GradvizError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")
    # getrf runs twice: here for the pivots (ints, no gradient), then in LuNoPivot on the
    # rows in that order, which repeats the same arithmetic and so gives the same LU
    _, pivots, info = getrf(xp_of(A._data), A._data)
    if check_errors:
        _check_lu(info, "torch.linalg.lu_factor_ex")
    LU = O.LuNoPivot.apply(_take_rows(A, _row_order(pivots, A.shape[-2])))
    return _lu_factor_ex(LU, Tensor._wrap(pivots), Tensor._wrap(info))


def _first_failure(info):
    """(batch element, its info) of the first failure, or None."""
    flat = _host(info).reshape(-1)
    bad = np.flatnonzero(flat)
    return None if not bad.size else (int(bad[0]), int(flat[bad[0]]))


def _batch_prefix(info, b):
    return f"(Batch element {b}): " if np.ndim(info) else ""


def _check_lu(info, name):
    fail = _first_failure(info)
    if fail:
        b, i = fail
        raise LinAlgError(f"{name}: {_batch_prefix(info, b)}U[{i},{i}] is zero and using it on "
                          "lu_solve would result in a division by zero. If you still want to "
                          "perform the factorization, consider calling linalg.lu(A, pivot) or "
                          "linalg.lu_factor_ex(A, pivot)")


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of lu_factor_ex; LinAlgError where some U[i, i] is zero."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    _check_lu(info._data, "torch.linalg.lu_factor")
    return _lu_factor(LU, pivots)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U: P a permutation, L unit lower (m x k), U upper (k x n)."""
    LU, pivots, _ = lu_factor_ex(A, pivot=pivot)
    m, n = LU.shape[-2:]
    k = min(m, n)
    xp = xp_of(LU._data)
    perm = _row_order(pivots._data, m)
    P = np.zeros(perm.shape + (m,), dtype=LU._data.dtype)
    # column i of P is row perm[i] of the identity: (P X)[perm[i]] = X[i]
    np.put_along_axis(P, perm[..., None, :], 1.0, axis=-2)
    L = LU[..., :k].tril(-1) + Tensor._wrap(xp.eye(m, k, dtype=LU._data.dtype))
    return _lu(Tensor._wrap(xp.asarray(P)), L, LU[..., :k, :].triu())


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (A^T X = B when ``adjoint``; X A = B when not ``left``), A given by its
    lu_factor; gradients reach LU and B."""
    if not left:   # X A = B <=> A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    tri = LA.solve_triangular
    if not adjoint:   # L U X = P^T B
        Y = tri(LU, _take_rows(B, _row_order(pivots._data, LU.shape[-2])), upper=False,
                unitriangular=True)
        return tri(LU, Y, upper=True)
    # U^T L^T P^T X = B: W = L^-T U^-T B, then X = P W
    W = tri(LU.mT, tri(LU.mT, B, upper=False), upper=True, unitriangular=True)
    return _take_rows(W, np.argsort(_row_order(pivots._data, LU.shape[-2]), axis=-1))


# ---- the *_ex forms ---------------------------------------------------------------------------
def _nan_where_failed(fn, A, failed):
    """fn(A) with the failed matrices of the batch replaced by I first and their results
    NaN (torch leaves them unspecified)."""
    if not failed.any():
        return fn(A)
    xp = xp_of(A._data)
    mask = xp.asarray(failed)[..., None, None]
    eye = xp.eye(A.shape[-1], dtype=A._data.dtype)
    safe = A * Tensor._wrap((~mask).astype(A._data.dtype)) + Tensor._wrap(mask * eye)
    out = fn(safe)
    mask = Tensor._wrap(xp.asarray(failed).reshape(failed.shape + (1,) * (out.ndim -
                                                                         failed.ndim)))
    return out.masked_fill(mask, float("nan"))


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info the first zero U[i, i] of A's LU (1-based), 0 where A is
    invertible; the inverse of a singular A is NaN."""
    A = LA._matrices(A, "inv_ex")
    info = getrf(xp_of(A._data), A._data)[2]
    fail = _first_failure(info)
    if check_errors and fail:
        b, i = fail
        raise LinAlgError(f"linalg.inv_ex: {_batch_prefix(info, b)}The diagonal element {i} is "
                          "zero, the inversion could not be completed because the input "
                          "matrix is singular.")
    return _inv_ex(_nan_where_failed(LA.inv, A, info != 0), Tensor._wrap(info))


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info): linalg.solve's X, with info as inv_ex's (NaN where A is singular)."""
    A = LA._matrices(A, "solve_ex")
    info = getrf(xp_of(A._data), A._data)[2]
    fail = _first_failure(info)
    if check_errors and fail:
        raise LinAlgError(f"torch.linalg.solve_ex: {_batch_prefix(info, fail[0])}The solver "
                          "failed because the input matrix is singular.")
    X = _nan_where_failed(lambda a: LA.solve(a, B, left=left), A, info != 0)
    return _solve_ex(X, Tensor._wrap(info))


def _cholesky_info(a):
    """The order of the first leading minor that is not positive-definite, per matrix (0:
    positive-definite); the lower triangle is read, as numpy's and torch's cholesky read it."""
    # the batch size spelled out: -1 is ambiguous for 0 x 0 matrices
    flat = np.asarray(a).reshape(int(np.prod(a.shape[:-2])), *a.shape[-2:])
    info = np.zeros(flat.shape[0], dtype=np.int32)
    for b, m in enumerate(flat):
        try:
            np.linalg.cholesky(m)
            continue
        except np.linalg.LinAlgError:
            pass
        for k in range(1, m.shape[-1] + 1):   # a leading minor fails, then all larger ones
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                info[b] = k
                break
    return info.reshape(a.shape[:-2])


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): info the order of the first leading minor of A that is not
    positive-definite, 0 where A is; L is NaN there."""
    A = LA._matrices(A, "cholesky_ex")
    with grad_mode.no_grad():
        info = _cholesky_info(_host(A._data))
    fail = _first_failure(info)
    if check_errors and fail:
        b, i = fail
        raise LinAlgError(f"linalg.cholesky_ex: {_batch_prefix(info, b)}The factorization "
                          "could not be completed because the input is not positive-definite "
                          f"(the leading minor of order {i} is not positive-definite).")
    L = _nan_where_failed(LA.cholesky, A, info != 0)
    xp = xp_of(A._data)
    return _cholesky_ex(L.mT if upper else L, Tensor._wrap(xp.asarray(info)))


# ---- matrices built from vectors --------------------------------------------------------------
def vander(x, *, N=None):
    """The Vandermonde matrix [1, x, x^2, ..., x^(N-1)] along a new last dim (N defaults to
    x.shape[-1]); powers by a running product, as torch's, so x = 0 has a gradient."""
    x = _as_tensor(x)
    if x._data.dtype.kind == "b":
        raise GradvizError("linalg.vander supports floating point, complex, and integer "
                           "tensors, but got Bool")
    n = N if N is not None else (x.shape[-1] if x.ndim else 0)
    if n <= 1:
        raise GradvizError("N must be greater than 1.")
    from .engine.functional import cat   # functional imports gv.linalg: not at the top
    ones = x.new_ones(tuple(x.shape) + (1,))
    return cat([ones, x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)], -1)


def householder_product(A, tau):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T with v_i column i of
    A below the diagonal and a 1 on it (what geqrf leaves): Q from a QR in that form."""
    name = "torch.linalg.householder_product"
    A, tau = _as_tensor(A), _as_tensor(tau)
    if A.ndim < 2:
        raise ShapeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise ShapeError(f"{name}: input.shape[-2] must be greater than or equal to "
                         "input.shape[-1]")
    if tau.ndim < 1 or n < tau.shape[-1]:
        raise ShapeError(f"{name}: input.shape[-1] must be greater than or equal to "
                         "tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ShapeError(f"{name}: Expected batch dimensions of tau to be equal to "
                         f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise GradvizError(f"{name}: tau dtype {tau.dtype} does not match input dtype "
                           f"{A.dtype}")
    xp = xp_of(A._data)
    V = A.tril(-1) + Tensor._wrap(xp.eye(m, n, dtype=A._data.dtype))   # column i: v_i
    Q = Tensor._wrap(xp.ascontiguousarray(xp.broadcast_to(xp.eye(m, dtype=A._data.dtype),
                                                           tuple(A.shape[:-2]) + (m, m))))
    for i in range(tau.shape[-1]):   # Q H_i = Q - tau_i (Q v_i) v_i^T
        v = V[..., :, i:i + 1]
        Q = Q - (Q @ v) * tau[..., i, None, None] @ v.mT
    return Q[..., :, :n]
