"""``gv.linalg``: ``torch.linalg`` with gradients. inv, det, slogdet, solve, cholesky,
qr, eigh, svd, svdvals, solve_triangular, lstsq, matrix_exp (one Function class each,
engine/ops/linalg_more.py); pinv, matrix_power, multi_dot, cross, vecdot, diagonal, cond,
matrix_rank, tensorinv, tensorsolve composed of those; norms, the LU family and the *_ex
forms in gradviz/linalg_more.py. Inputs are batches of matrices in the
last two dims. Eigenvectors and singular vectors are unique only up to sign: they match
torch's where LAPACK picks the same signs (NumPy and torch both call it)."""
import collections
import functools
import math

import numpy as np

from .engine import grad_mode
from .engine import ops as O
from .engine.backend import xp_of
from .engine.ops.linalg_more import qr_shapes, svd_shapes, unpack
from .engine.tensor import Tensor
from .engine.tensor_methods import _as_tensor
from .errors import GradvizError, ShapeError

__all__ = ["inv", "det", "slogdet", "solve", "cholesky",
           "qr", "eigh", "eigvalsh", "svd", "svdvals", "solve_triangular", "lstsq",
           "matrix_exp", "pinv", "matrix_power", "multi_dot", "cross", "vecdot", "diagonal",
           "cond", "matrix_rank", "tensorinv", "tensorsolve", "matmul"]

_slogdet = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
_qr = collections.namedtuple("linalg_qr", ["Q", "R"])
_eigh = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_svd = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
_lstsq = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank",
                                                 "singular_values"])


# ---- one Function class each ------------------------------------------------------------------
def _matrices(A, name, square=True, ints=False):
    """``A`` as a Tensor of float matrices (square ones when ``square``; integer ones too
    when ``ints``), else torch's error."""
    A = _as_tensor(A)
    if A._data.dtype.kind != "f" and not (ints and A._data.dtype.kind in "iu"):
        raise GradvizError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {A.dtype}")
    if A.ndim < 2:
        raise ShapeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                         f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return A


def _rhs(A, B, name):
    B = _as_tensor(B, A)
    if B.dtype != A.dtype:
        raise GradvizError(f"linalg.{name}: Expected A and B to have the same dtype, but found "
                           f"A of type {A.dtype} and B of type {B.dtype} instead")
    return B


def inv(A):
    """A^-1 (LinAlgError for a singular A)."""
    return O.Inv.apply(_matrices(A, "inv"))


def det(A):
    """The determinant (its gradient at a singular A is the cofactor matrix, via an SVD, as
    torch's)."""
    return O.Det.apply(_matrices(A, "det"))


def slogdet(A):
    """(sign, logabsdet): det(A) = sign * exp(logabsdet)."""
    A = _matrices(A, "slogdet")
    batch = tuple(A.shape[:-2])
    return _slogdet(*unpack(O.Slogdet.apply(A), [batch, batch], batch))


def solve(A, B, *, left=True):
    """X with A X = B (``left``) or X A = B; B is a batch of vectors when it is 1-D or A's
    shape less the last dim, as torch decides."""
    A = _matrices(A, "solve")
    B = _rhs(A, B, "solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if not left:
        if vector:
            raise ShapeError("linalg.solve: Vector broadcasting of the left hand side is not "
                             "supported for left=False. In this case linalg.solve is "
                             "equivalent to B / A.squeeze(-1)")
        return solve(A.mT, B.mT).mT
    n = A.shape[-1]
    rows = B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else -1)
    if rows != n:
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                         f"AX = B ({n}x{n} and {'x'.join(map(str, B.shape[-2:]))})")
    return O.Solve.apply(A, B, vector=vector)


def cholesky(A, *, upper=False):
    """L with A = L L^T for a symmetric positive-definite A (its lower triangle is read);
    L^T when ``upper``."""
    low = O.Cholesky.apply(_matrices(A, "cholesky"))
    return low.mT if upper else low


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q's columns orthonormal, R upper triangular: Q m x k with
    mode='reduced', m x m with 'complete' (no gradient for a tall A then, as in torch);
    mode='r': R alone, Q empty (and no gradient)."""
    A = _matrices(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise GradvizError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    batch = tuple(A.shape[:-2])
    if mode == "r":
        out = O.Qr.apply(A, mode="r")
        # Q: empty, but an output of the op as torch's is (so it requires grad as A does)
        return _qr(out[..., :0].reshape(0), *unpack(out, qr_shapes(A.shape, "r"), batch))
    return _qr(*unpack(O.Qr.apply(A, mode=mode), qr_shapes(A.shape, mode), batch))


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric A, read from its lower
    (``UPLO='L'``) or upper triangle; the gradient needs distinct eigenvalues."""
    A = _matrices(A, "eigh")
    if UPLO not in ("L", "U"):
        raise GradvizError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    A = A.mT if UPLO == "U" else A   # A's upper triangle is A^T's lower one
    n, batch = A.shape[-1], tuple(A.shape[:-2])
    return _eigh(*unpack(O.Eigh.apply(A), [batch + (n,), batch + (n, n)], batch))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of a symmetric A, ascending."""
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; with ``full_matrices`` U is m x m and
    Vh n x n (an orthonormal completion past the first k = min(m, n), which gets no
    gradient, as in torch); the gradient needs distinct singular values."""
    A = _matrices(A, "svd", square=False)
    full = bool(full_matrices) and A.shape[-1] != A.shape[-2]   # square: the same either way
    out = O.Svd.apply(A, full_matrices=True) if full else O.Svd.apply(A)
    return _svd(*unpack(out, svd_shapes(A.shape, full), tuple(A.shape[:-2])))


def svdvals(A, *, driver=None):
    """The singular values, descending."""
    return O.Svdvals.apply(_matrices(A, "svdvals", square=False))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with T X = B (or X T = B), T the upper or lower triangle of A."""
    A = _matrices(A, "solve_triangular")
    B = _rhs(A, B, "solve_triangular")
    if B.ndim < 2:
        raise ShapeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                         "dimensions.")
    if B.shape[-2 if left else -1] != A.shape[-1]:
        raise ShapeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                         f"equation {'AX = B' if left else 'XA = B'} "
                         f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    return O.SolveTriangular.apply(A, B, upper=upper, left=left, unitriangular=unitriangular)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B for a full-rank A (the least-norm one for a wide
    A); residuals and singular_values are empty, as torch's default driver gives them."""
    A = _matrices(A, "lstsq", square=False)
    B = _rhs(A, B, "lstsq")
    vector = B.ndim == A.ndim - 1
    X = O.Lstsq.apply(A, B.unsqueeze(-1) if vector else B)
    empty = Tensor._wrap(xp_of(A._data).zeros((0,), dtype=A._data.dtype))
    return _lstsq(X.squeeze(-1) if vector else X, empty, matrix_rank(A), empty)


def matrix_exp(A):
    """exp(A) = sum A^k / k!."""
    return O.MatrixExp.apply(_matrices(A, "matrix_exp"))


# ---- compositions -----------------------------------------------------------------------------
def _tolerance(S, shape, atol, rtol):
    """torch's cutoff for 'zero' singular values: max(atol, rtol * largest)."""
    if rtol is None:
        rtol = 0.0 if atol else np.finfo(S._data.dtype).eps * max(shape[-2:])
    # no singular values (a 0-size matrix): a largest of 0, as torch
    top = S.amax(-1, keepdim=True) if S.shape[-1] else S.sum(-1, keepdim=True)
    return (top * rtol).clamp(min=atol or 0.0)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse V diag(1/S) U^T, singular values at or below the tolerance dropped."""
    U, S, Vh = svd(_matrices(A, "pinv", square=False), full_matrices=False)
    with grad_mode.no_grad():
        dropped = S <= _tolerance(S, A.shape, atol, rtol)
    s_inv = S.masked_fill(dropped, 1.0).reciprocal().masked_fill(dropped, 0.0)
    return (Vh.mT * s_inv.unsqueeze(-2)) @ U.mT


def matrix_power(A, n):
    """A @ A @ ... (n times; the identity for 0, powers of inv(A) for n < 0), by squaring."""
    A = _matrices(A, "matrix_power", ints=True)   # torch multiplies integer matrices too
    if n < 0:
        return matrix_power(inv(A), -n)
    xp = xp_of(A._data)
    out = None
    base = A
    while n:
        if n & 1:
            out = base if out is None else out @ base
        n >>= 1
        if n:
            base = base @ base
    if out is None:
        eye = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A._data.dtype), A.shape)
        # A's gradient is 0 (torch's result stays in the graph); where keeps inf out of it
        return A.where(Tensor._wrap(xp.zeros(A.shape, dtype=bool)), Tensor._wrap(eye))
    return out


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be a row vector, the last a column
    one), left to right."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ShapeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    return functools.reduce(lambda a, b: a @ b, tensors)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim``."""
    return input.cross(other, dim=dim)


def vecdot(x, y, *, dim=-1):
    """sum(x * y) along ``dim``."""
    return (x * y).sum(dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset``-th diagonals of the matrices in (dim1, dim2)."""
    return A.diagonal(offset, dim1, dim2)


def cond(A, p=None):
    """The condition number: largest / smallest singular value (p=None or 2; p=-2 its
    inverse), or ||A|| ||A^-1|| in the matrix norm ``p`` ('fro', 'nuc', 1, -1, inf, -inf)."""
    if p in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    if p not in (None, 2, -2):
        raise GradvizError(f"linalg.cond: p={p!r} is not supported")
    S = svdvals(A)
    if not S.shape[-1]:   # a 0 x 0 matrix: torch's condition number is 0
        return S.sum(-1)
    ratio = S[..., 0] / S[..., -1]
    return ratio.reciprocal() if p == -2 else ratio


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above the tolerance (int64, no gradient)."""
    with grad_mode.no_grad():
        S = svdvals(_matrices(A, "matrix_rank", square=False))
        return (S > _tolerance(S, A.shape, atol, rtol)).sum(-1)


def tensorinv(A, ind=2):
    """The inverse of A seen as a matrix of shape (prod(shape[:ind]), prod(shape[ind:]))."""
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise ShapeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                         f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(*A.shape[ind:], *A.shape[:ind])


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B (``dims=None`` only)."""
    if dims is not None:
        raise GradvizError("linalg.tensorsolve: dims is not supported here; move those dims "
                           "of A to the end first")
    return solve(A.reshape(B.numel(), -1), B.reshape(-1)).reshape(*A.shape[B.ndim:])


def matmul(input, other):
    """input @ other."""
    return input @ other


from .linalg_more import *  # noqa: E402,F401,F403  (it reads the functions above)
from .linalg_more import __all__ as _more  # noqa: E402

__all__ += _more
