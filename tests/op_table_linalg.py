"""Op table rows for torch.linalg (engine/ops/linalg_more.py, gradviz/linalg.py and
engine/tensor_linalg.py). Inputs are made well conditioned in the row itself (so gradients
flow through the making): 0.2 x + 2 I (invertible), x x^T / 4 + n I (positive-definite), a
small symmetric or rectangular perturbation of diag(4, 3, 2, 1) (distinct eigenvalues and
singular values). Eigenvectors and singular vectors are compared after fixing their signs."""
import warnings

import numpy as np
import torch
from op_table import Case, OpRow, T, X, fixed

import gradviz as gv
from gradviz.engine import ops as O


def _both(fn):
    return (lambda *a, **k: fn(gv, *a, **k)), (lambda *a, **k: fn(torch, *a, **k))


def _row(name, fns, fn, cases, **kw):
    return OpRow(name, fns, *_both(fn), cases, **kw)


def _eye(lib, x):
    return lib.eye(*x.shape[-2:], dtype=x.dtype, device=x.device)


def _well(lib, x):
    """Invertible (full-rank when not square): 0.2 x + 2 I."""
    return x * 0.2 + _eye(lib, x) * 2.0


def _spd(lib, x):
    """Symmetric positive-definite: x x^T / 4 + n I."""
    return x @ x.mT * 0.25 + _eye(lib, x) * x.shape[-1]


def _spread(lib, x, d):
    """diag(4, 3, 2, ...) (m x n) plus a small perturbation: distinct singular values."""
    return x * 0.05 + d.to(x.dtype)


def _diag(m, n):
    k = min(m, n)
    d = np.zeros((m, n))
    d[range(k), range(k)] = np.arange(k + 3, 3, -1)
    return T(d)


def _signs(lib, v):
    """+1 or -1 per column of v: the sign of its diagonal entry."""
    k = v.shape[-1]
    return lib.diagonal(v[..., :k, :], 0, -2, -1).sign()


def _old(call):
    """``call()`` with torch's deprecation warnings of torch.cholesky, torch.qr ... muted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call()


def _sq(*shapes, **kw):
    return fixed(*[Case([X(s)], dict(kw)) for s in shapes])


SQUARE = [(1, 1), (3, 3), (2, 3, 3), (2, 1, 4, 4)]
RECT = [(3, 3), (4, 2), (2, 3), (2, 4, 3), (2, 2, 5)]


def _slogdet(lib, x, flip):
    # flip < 0: a negative det
    a = _well(lib, x) * lib.tensor(flip, dtype=x.dtype, device=x.device)
    return (*lib.linalg.slogdet(a), *lib.slogdet(a), _well(lib, x).logdet())


def _solve(lib, a, b, **kw):
    return lib.linalg.solve(_well(lib, a), b, **kw)


def _cholesky(lib, x, upper):
    a = _spd(lib, x)
    return lib.linalg.cholesky(a, upper=upper), _old(lambda: a.cholesky(upper=upper))


def _qr(lib, x):
    q, r = lib.linalg.qr(x)
    return (q, r, *_old(x.qr)) if x.shape[-2] >= x.shape[-1] else (q, r)


def _eigh(lib, x, d, UPLO="L"):
    a = _spread(lib, (x + x.mT) * 0.5, d)
    w, v = lib.linalg.eigh(a, UPLO=UPLO)
    return w, v * _signs(lib, v).unsqueeze(-2), lib.linalg.eigvalsh(a, UPLO=UPLO)


def _svd(lib, x, d):
    a = _spread(lib, x, d)
    u, s, vh = lib.linalg.svd(a, full_matrices=False)
    sign = _signs(lib, u)
    u2, s2, v2 = _old(a.svd)
    sign2 = _signs(lib, u2)
    return (u * sign.unsqueeze(-2), s, vh * sign.unsqueeze(-1), u2 * sign2.unsqueeze(-2), s2,
            v2 * sign2.unsqueeze(-2))


def _svd_full(lib, x, d):
    """full_matrices=True: the first k columns up to sign; the completion only through what
    does not depend on its basis (U^T U and the projector onto it), detached: torch passes
    no gradient through the completion, so finite differences would disagree with both;
    torch.svd(some=False)."""
    a = _spread(lib, x, d)
    u, s, vh = lib.linalg.svd(a)
    k = s.shape[-1]
    sign = _signs(lib, u[..., :k])
    fu, fv = u.detach(), vh.detach().mT
    u2, s2, v2 = _old(lambda: a.svd(some=False))
    fv2 = v2.detach()
    return (u[..., :k] * sign.unsqueeze(-2), s, vh[..., :k, :] * sign.unsqueeze(-1),
            fu.mT @ fu, fv.mT @ fv, fu[..., k:] @ fu[..., k:].mT, fv[..., k:] @ fv[..., k:].mT,
            s2, fv2[..., k:] @ fv2[..., k:].mT)


def _qr_modes(lib, x, mode):
    """Q's first k columns and R's rows up to the signs of R's diagonal; complete Q's other
    columns through Q Q^T (= I) only, as their basis is LAPACK's choice."""
    q, r = lib.linalg.qr(x, mode=mode)
    k = min(x.shape[-2:])
    sign = lib.diagonal(r, 0, -2, -1).sign()
    rows = r[..., :k, :] * sign.unsqueeze(-1)
    if mode == "r":
        return rows, q
    return q[..., :k] * sign.unsqueeze(-2), rows, r[..., k:, :], q @ q.mT


def _lu(lib, x, b):
    """Rows of 0.2 x + 2 I reversed: pivoting with a clear winner in every column."""
    a = _well(lib, x).flip(-2)
    P, L, U = lib.linalg.lu(a)
    LU, piv = lib.linalg.lu_factor(a)
    LU2, piv2, info = lib.linalg.lu_factor_ex(a)
    return (P, L, U, LU, piv, LU2 * 2, info, lib.linalg.lu_solve(LU, piv, b),
            lib.linalg.lu_solve(LU2, piv, b, adjoint=True))


def _lu_rect(lib, x):
    a = _well(lib, x).flip(-2)   # as in _lu: no near-tie for the pivots (nor for the FD check)
    P, L, U = lib.linalg.lu(a)
    return (P, L, U, *lib.linalg.lu_factor_ex(a))


def _svdvals(lib, x, d):
    a = _spread(lib, x, d)
    return lib.linalg.svdvals(a), lib.linalg.cond(a), lib.linalg.cond(a, -2), \
        lib.linalg.matrix_rank(a)


def _triangular(lib, a, b, **kw):
    return lib.linalg.solve_triangular(_well(lib, a), b, **kw)


def _lstsq(lib, a, b, d):
    return lib.linalg.lstsq(_spread(lib, a, d) * 4.0, b).solution


def _compositions(lib, x, y, v):
    a = _well(lib, x)
    return (lib.linalg.pinv(_well(lib, y)), _well(lib, y).pinverse(),
            lib.linalg.matrix_power(a, 3), a.matrix_power(-2),
            lib.linalg.matrix_power(a, 1), lib.linalg.multi_dot([v, a, y]),
            lib.linalg.vecdot(a, v), lib.linalg.diagonal(a, offset=1),
            lib.linalg.tensorinv(a.reshape(2, 2, 4), ind=2),
            lib.linalg.tensorsolve(a.reshape(4, 2, 2), v), lib.linalg.cross(x[:, :3], x[:, 1:]),
            lib.linalg.matmul(a, y))


ROWS = [
    _row("linalg_inv", (O.Inv,), lambda lib, x: (lib.linalg.inv(_well(lib, x)),
                                                 lib.inverse(_well(lib, x))), _sq(*SQUARE)),
    _row("linalg_det", (O.Det,), lambda lib, x: (lib.linalg.det(_well(lib, x)),
                                                 _well(lib, x).det()), _sq(*SQUARE)),
    _row("linalg_slogdet", (O.Slogdet,), _slogdet,
         fixed(*[Case([X(s)], {"flip": f}) for s in SQUARE for f in (1.0, -1.0)])),
    _row("linalg_solve", (O.Solve,), _solve,
         fixed(Case([X((3, 3)), X((3,))]), Case([X((3, 3)), X((3, 2))]),
               Case([X((2, 3, 3)), X((2, 3))]), Case([X((3, 3)), X((2, 3, 2))]),
               Case([X((2, 1, 3, 3)), X((4, 3, 1))]), Case([X((2, 3, 3)), X((3,))]),
               Case([X((3, 3)), X((2, 3))], {"left": False}))),
    _row("linalg_cholesky", (O.Cholesky,), _cholesky,
         fixed(*[Case([X(s)], {"upper": u}) for s in SQUARE for u in (False, True)])),
    _row("linalg_qr", (O.Qr,), _qr, _sq(*RECT)),
    _row("linalg_eigh", (O.Eigh,), _eigh,
         fixed(*[Case([X(s), _diag(s[-1], s[-1])], {"UPLO": u}) for s in SQUARE
                 for u in ("L", "U")])),
    _row("linalg_svd", (O.Svd,), _svd,
         fixed(*[Case([X(s), _diag(*s[-2:])]) for s in RECT])),
    _row("linalg_svd_full", (O.Svd,), _svd_full,
         fixed(*[Case([X(s), _diag(*s[-2:])]) for s in RECT])),
    _row("linalg_qr_modes", (O.Qr,), _qr_modes,
         fixed(*[Case([X(s)], {"mode": "complete"}) for s in ((3, 3), (2, 4), (2, 2, 5))])),
    _row("linalg_qr_no_grad_modes", (O.Qr,), _qr_modes,
         fixed(*[Case([X(s)], {"mode": m}) for s in RECT for m in ("complete", "r")]),
         grad=False),
    _row("linalg_lu", (O.LuNoPivot,), _lu,
         fixed(*[Case([X(s), X(s[:-1] + (2,))]) for s in SQUARE])),
    _row("linalg_lu_rect", (O.LuNoPivot,), _lu_rect,
         fixed(*[Case([X(s)]) for s in ((4, 2), (2, 3), (2, 5, 3), (2, 2, 4))])),
    _row("linalg_svdvals", (O.Svdvals,), _svdvals,
         fixed(*[Case([X(s), _diag(*s[-2:])]) for s in RECT])),
    _row("linalg_solve_triangular", (O.SolveTriangular,), _triangular,
         fixed(*[Case([X((2, 3, 3)), X(b)], {"upper": u, "left": left, "unitriangular": t})
                 for u in (False, True) for t in (False, True)
                 for left, b in ((True, (3, 2)), (False, (2, 1, 2, 3)))])),
    _row("linalg_lstsq", (O.Lstsq,), _lstsq,
         fixed(Case([X((4, 2)), X((4, 3)), _diag(4, 2)]), Case([X((2, 4)), X((2, 1)),
                                                                 _diag(2, 4)]),
               Case([X((2, 5, 3)), X((2, 5, 2)), _diag(5, 3)]))),
    _row("linalg_matrix_exp", (O.MatrixExp,),
         lambda lib, x, scale: (lib.linalg.matrix_exp(x * scale), lib.matrix_exp(x * scale)),
         fixed(*[Case([X(s)], {"scale": k}) for s in SQUARE for k in (0.3, 2.0)])),
    _row("linalg_compositions", (O.Svd, O.Inv, O.Solve, O.Matmul), _compositions,
         fixed(Case([X((4, 4)), X((4, 3)), X((4,))]))),
]
