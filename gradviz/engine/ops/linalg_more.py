"""torch.linalg's decompositions and solvers on ``xp.linalg``, batched over leading dims.

An op with several outputs (Slogdet, Qr, Eigh, Svd) returns one packed array: each output
flattened over its own dims and laid side by side along a last axis; ``unpack`` (Tensor
side) cuts it back into views, so the graph shows one node and the gradients of all the
outputs reach its backward as one packed array. At a singular matrix Det's gradient is the
cofactor matrix (through an SVD, as torch's create_graph one) and Slogdet's holds the infs
and NaNs of torch's lu_solve.
"""
import math

import numpy as np

from ...errors import BackwardError, LinAlgError
from ..backend import on_graph
from ..function import Function
from .graph_xp import _GraphLinalg, _gxp, _la
from .util import unbroadcast

__all__ = ["Inv", "Det", "Slogdet", "Solve", "Cholesky", "Qr", "Eigh", "Svd", "Svdvals",
           "SolveTriangular", "Lstsq", "MatrixExp", "LuNoPivot"]


def _mT(a):
    return a.swapaxes(-1, -2)


def _pack(xp, batch, *arrays):
    return xp.concatenate([xp.reshape(a, batch + (-1,)) for a in arrays], axis=-1)


def unpack(a, shapes, batch):
    """The pieces of a packed ``a``, shaped ``shapes``: an op's outputs (Tensor slices of its
    packed output, so gradients flow back to it) or, in backward, their gradients."""
    out, at = [], 0
    for shape in shapes:
        size = math.prod(shape[len(batch):])
        out.append(a[..., at:at + size].reshape(shape))
        at += size
    return out


def qr_shapes(shape, mode="reduced"):
    """Q's and R's shapes for an input of ``shape`` (mode='r': R's only)."""
    *batch, m, n = shape
    k = m if mode == "complete" else min(m, n)
    return [(*batch, k, n)] if mode == "r" else [(*batch, m, k), (*batch, k, n)]


def svd_shapes(shape, full_matrices=False):
    """U's, S's and Vh's shapes for an input of ``shape``."""
    *batch, m, n = shape
    k = min(m, n)
    if full_matrices:
        return [(*batch, m, m), (*batch, k), (*batch, n, n)]
    return [(*batch, m, k), (*batch, k), (*batch, k, n)]


def _solve(xp, a, b, what):
    """a^-1 b over broadcast batches (CuPy's solve takes equal batches only)."""
    if on_graph(xp):   # create_graph: the Solve op (it broadcasts itself)
        return Solve.apply(a, b)
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    try:
        return xp.linalg.solve(a, b)
    except xp.linalg.LinAlgError:
        raise LinAlgError(f"{what}: The solver failed because the input matrix is "
                          "singular.") from None


def _inv(xp, a, what):
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise LinAlgError(f"{what}: the input matrix is singular, the inversion could not be "
                          "completed") from None


def _scaled_diag(xp, d):
    """A batch of diagonal matrices with ``d`` on the diagonal."""
    return d[..., :, None] * xp.eye(d.shape[-1], dtype=d.dtype)


class Inv(Function):
    rule = "dA = -Y^T dY Y^T"

    def forward(ctx, a):
        y = _inv(ctx.xp, a, "linalg.inv")
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        y, = ctx.saved
        return (-_mT(y) @ g @ _mT(y),)


def _safe_transpose(xp, a, singular):
    """A^T with the ``singular`` matrices of the batch replaced by I (so inv never fails)."""
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    return xp.where(singular[..., None, None], eye, _mT(a))


def _prod_others(xp, s):
    """prod_{j != i} s_j for each i along the last axis (no division: zeros allowed)."""
    if on_graph(xp):   # create_graph: Tensors, joined by the Cat op
        from ..functional import cat
        ones = s[..., :1] * 0 + 1
        before = cat([ones, s[..., :-1]], dim=-1).cumprod(-1)
        return before * xp.flip(cat([ones, xp.flip(s, -1)[..., :-1]], dim=-1).cumprod(-1), -1)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1),
                               axis=-1), -1)
    return before * after


class Det(Function):
    """det(A), factored as A^T (as torch factors a contiguous A, so an exactly singular A gives
    exactly 0 where torch's does). Its gradient is the cofactor matrix everywhere: torch's
    create_graph formula (an SVD where det(A) is 0); torch's plain backward gives 0 there."""

    rule = "dA = dy * det(A) * A^-T ; A singular: dy * det(U) det(V^T) U diag(prod_{j!=i} s_j) V^T"

    def forward(ctx, a):
        d = ctx.xp.linalg.det(_mT(a))
        ctx.save_for_backward(a, d)
        return d

    def backward(ctx, g):
        xp, (a, d) = ctx.xp, ctx.saved
        singular = d == 0
        if on_graph(xp):   # create_graph: det(A) as an op (a 0-d d is no output array); as
            d = Det.apply(a)   # torch's, the SVD formula where |det| < 100 eps (stable there)
            singular = abs(d.detach()) < 100 * float(np.finfo(a._data.dtype).eps)
        # det(A^T) != 0: the same LU of A^T had no zero pivot, so this inverse exists
        grad = (g * d)[..., None, None] * _la(xp).inv(_safe_transpose(xp, a, singular))
        if singular.any():   # one flag read; the SVD only runs then
            # the cofactor matrix, defined at a singular A too (torch's SVD path)
            u, s, vh = _la(xp).svd(a)
            alpha = _la(xp).det(u) * _la(xp).det(vh) * g
            cof = (u * (alpha[..., None] * _prod_others(xp, s))[..., None, :]) @ vh
            grad = xp.where(singular[..., None, None], cof, grad)
        return (grad,)


def _lu_solve_exact(xp, m, rhs):
    """m^-1 rhs by LAPACK's own steps (getrf's partial pivoting, then getrs' column-oriented
    triangular solves), so that a singular m gives the infs and NaNs torch's lu_solve gives.
    ``m`` is (B, n, n), ``rhs`` (B, n, k); a Python loop over n, for singular inputs only."""
    lu, x = m.copy(), rhs.copy()
    n = m.shape[-1]
    rows = xp.arange(m.shape[0])
    for k in range(n):
        p = xp.argmax(xp.abs(lu[:, k:, k]), axis=-1) + k          # first largest, as idamax
        lu_k, lu_p = lu[rows, k].copy(), lu[rows, p].copy()
        lu[rows, k], lu[rows, p] = lu_p, lu_k
        x_k, x_p = x[rows, k].copy(), x[rows, p].copy()
        x[rows, k], x[rows, p] = x_p, x_k
        piv = lu[:, k, k][:, None]
        below = lu[:, k + 1:, k]
        lu[:, k + 1:, k] = xp.where(piv != 0, below / xp.where(piv != 0, piv, 1), below)
        lu[:, k + 1:, k + 1:] -= lu[:, k + 1:, k, None] * lu[:, k, None, k + 1:]
    for k in range(n):                                             # unit lower L
        x[:, k + 1:] -= lu[:, k + 1:, k, None] * x[:, k, None]
    for k in range(n - 1, -1, -1):                                 # upper U, 0/0 kept
        x[:, k] = x[:, k] / lu[:, k, k, None]
        x[:, :k] -= lu[:, :k, k, None] * x[:, k, None]
    return x


class Slogdet(Function):
    """Packed (sign, logabsdet), factored as A^T as torch factors it: sign carries no gradient;
    at a singular A the gradient is what torch's LU solve gives (infs and NaNs)."""

    rule = "dA = dlogabsdet * A^-T"

    def forward(ctx, a):
        sign, logabs = ctx.xp.linalg.slogdet(_mT(a))
        ctx.save_for_backward(a, sign)
        return _pack(ctx.xp, a.shape[:-2], sign, logabs)

    def backward(ctx, g):
        xp, (a, sign) = ctx.xp, ctx.saved
        n = a.shape[-1]
        if not n:
            return (xp.zeros(a.shape, dtype=a.dtype),)
        gl = g[..., 1][..., None, None]
        singular = sign == 0
        grad = gl * _la(xp).inv(_safe_transpose(xp, a, singular))
        if singular.any():   # one flag read; the exact LU solve only runs then
            if on_graph(xp):
                raise BackwardError("double backward (create_graph=True) is not supported "
                                    "through Slogdet at a singular matrix")
            batch = a.shape[:-2]
            flat = xp.reshape(_mT(a), (-1, n, n))
            rhs = xp.reshape(xp.broadcast_to(gl * xp.eye(n, dtype=a.dtype), a.shape), (-1, n, n))
            exact = xp.reshape(_lu_solve_exact(xp, flat, rhs), batch + (n, n))
            grad = xp.where(singular[..., None, None], exact, grad)
        return (grad,)


class Solve(Function):
    """X with A X = B (``vector``: B is a batch of vectors)."""

    rule = "dB = A^-T dX ; dA = -dB X^T"

    def forward(ctx, a, b, vector=False):
        x = _solve(ctx.xp, a, b[..., None] if vector else b, "torch.linalg.solve")
        ctx.save_for_backward(a, x)
        return x[..., 0] if vector else x

    def backward(ctx, g):
        xp, (a, x) = ctx.xp, ctx.saved
        a_in, b_in = ctx.inputs
        vector = ctx.attrs.get("vector", False)
        if on_graph(xp):   # create_graph: X and the solve of dX as ops (a vector X is a view
            x = Solve.apply(a, b_in[..., None] if vector else b_in)   # of the saved array)
            db = Solve.apply(_mT(a), g[..., None] if vector else g)
        else:
            db = _solve(xp, _mT(a), g[..., None] if vector else g, "Solve backward")
        da = unbroadcast(xp, -db @ _mT(x), a_in.shape) if ctx.needs_input_grad[0] else None
        db = db[..., 0] if vector else db
        return da, unbroadcast(xp, db, b_in.shape)


def _phi(xp, a):
    """The lower triangle with the diagonal halved."""
    if on_graph(xp):   # create_graph: Tensor methods
        return a.tril() - 0.5 * _scaled_diag(xp, a.diagonal(dim1=-2, dim2=-1))
    low = xp.tril(a)
    return low - 0.5 * _scaled_diag(xp, xp.diagonal(a, axis1=-2, axis2=-1))


class Cholesky(Function):
    rule = "dA = sym(L^-T phi(L^T dL) L^-1), phi: lower triangle, diagonal halved"

    def forward(ctx, a):
        try:
            low = ctx.xp.linalg.cholesky(a)
        except ctx.xp.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite.") from None
        ctx.save_for_backward(low)
        return low

    def backward(ctx, g):
        xp, (low,) = ctx.xp, ctx.saved
        inv = _la(xp).inv(low)
        da = _mT(inv) @ _phi(xp, _mT(low) @ g) @ inv
        return (0.5 * (da + _mT(da)),)


def _qr_grad(xp, q, r, gq, gr):
    """dA for a square or tall A = Q R (torch's formula)."""
    c = xp.triu(gr @ _mT(r) - _mT(q) @ gq)
    diag = c.diagonal(dim1=-2, dim2=-1) if on_graph(xp) else xp.diagonal(c, axis1=-2, axis2=-1)
    sym = c + _mT(c) - _scaled_diag(xp, diag)
    ga = gq + q @ sym
    return _mT(xp.linalg.solve(r, _mT(ga)))   # ga R^-T


class Qr(Function):
    """Packed (Q, R) (``mode`` 'reduced' or 'complete'), or R alone (mode='r')."""

    rule = "dA = (dQ + Q copyltu(triu(dR R^T - Q^T dQ))) R^-T ; wide A: split [X | Y]"

    def forward(ctx, a, mode="reduced"):
        if mode == "r":
            r = ctx.xp.linalg.qr(a, mode="r")
            return _pack(ctx.xp, a.shape[:-2], r)
        q, r = ctx.xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, q, r)
        return _pack(ctx.xp, a.shape[:-2], q, r)

    def backward(ctx, g):
        mode = ctx.attrs.get("mode", "reduced")
        if mode == "r":
            raise BackwardError("The derivative of linalg.qr depends on Q, which is not "
                                "computed when mode='r'. Please use linalg.qr(A, "
                                "mode='reduced') if you are going to differentiate through "
                                "linalg.qr.")
        xp, (a, q, r) = _gxp(ctx.xp), ctx.saved
        if on_graph(xp):   # create_graph: Q and R as functions of A (saved: constants)
            q, r = unpack(Qr.apply(a, mode=mode), qr_shapes(tuple(a.shape), mode),
                          tuple(a.shape[:-2]))
        m, n = a.shape[-2:]
        if mode == "complete" and m > n:
            raise BackwardError("The QR decomposition is not differentiable when "
                                "mode='complete' and nrows > ncols.")
        gq, gr = unpack(g, qr_shapes(a.shape), a.shape[:-2])
        if m >= n:
            return (_qr_grad(xp, q, r, gq, gr),)
        # A = [X | Y] with X square: Q R_x = X, R = [R_x | Q^T Y]
        gx = _qr_grad(xp, q, r[..., :m], gq + a[..., m:] @ _mT(gr[..., m:]), gr[..., :m])
        return (xp.concatenate([gx, q @ gr[..., m:]], axis=-1),)


def _inv_gaps(xp, w):
    """1 / (w_j - w_i) off the diagonal, 0 on it."""
    gap = w[..., None, :] - w[..., :, None]
    eye = xp.eye(w.shape[-1], dtype=bool)
    return xp.where(eye, 0, 1 / xp.where(eye, 1, gap))


class Eigh(Function):
    """Packed (eigenvalues, eigenvectors) of a symmetric A (its lower triangle is read)."""

    rule = "dA = V (diag(dw) + skew(V^T dV)/2 / (w_j - w_i)) V^T"

    def forward(ctx, a):
        w, v = ctx.xp.linalg.eigh(a)
        ctx.save_for_backward(w, v)
        return _pack(ctx.xp, a.shape[:-2], w, v)

    def backward(ctx, g):
        xp, (w, v) = ctx.xp, ctx.saved
        if on_graph(xp):   # create_graph: w and V as functions of A (saved: constants)
            w, v = _GraphLinalg.eigh(ctx.inputs[0])
        gw, gv = unpack(g, [w.shape, v.shape], w.shape[:-1])
        vgv = _mT(v) @ gv
        inner = 0.5 * (vgv - _mT(vgv)) * _inv_gaps(xp, w) + _scaled_diag(xp, gw)
        return (v @ inner @ _mT(v),)


class Svd(Function):
    """Packed (U, S, Vh); with ``full_matrices`` U and Vh are square, and only their first
    k = min(m, n) columns (rows of Vh) carry a gradient, as in torch: the rest is any
    orthonormal completion."""

    rule = ("dA = U [(skew(U^T dU) S + S skew(V^T dV)) / (s_k^2 - s_j^2) + diag(dS)] V^T "
            "+ the parts of dU, dV outside span U, span V")

    def forward(ctx, a, full_matrices=False):
        u, s, vh = ctx.xp.linalg.svd(a, full_matrices=full_matrices)
        k = s.shape[-1]
        ctx.save_for_backward(u[..., :k], s, vh[..., :k, :])
        return _pack(ctx.xp, a.shape[:-2], u, s, vh)

    def backward(ctx, g):
        xp, (u, s, vh) = ctx.xp, ctx.saved
        m, n = u.shape[-2], vh.shape[-1]
        k = s.shape[-1]
        if on_graph(xp):   # create_graph: U, S, V^T as functions of A (saved: constants)
            u, s, vh = _GraphLinalg.svd(ctx.inputs[0], ctx.attrs.get("full_matrices", False))
            u, vh = u[..., :k], vh[..., :k, :]
        gu, gs, gvh = unpack(g, svd_shapes(u.shape[:-1] + (n,), ctx.attrs.get("full_matrices")),
                             s.shape[:-1])
        gu, gvh = gu[..., :k], gvh[..., :k, :]   # the completion's columns: no gradient
        v, gv = _mT(vh), _mT(gvh)
        ugu, vgv = _mT(u) @ gu, _mT(v) @ gv
        s2 = s * s
        inner = ((ugu - _mT(ugu)) * s[..., None, :] + s[..., :, None] * (vgv - _mT(vgv))) \
            * _inv_gaps(xp, s2) + _scaled_diag(xp, gs)
        if m > k:      # dU's part outside span(U)
            gus = gu / s[..., None, :]
            return ((u @ inner + gus - u @ (_mT(u) @ gus)) @ vh,)
        if n > k:      # dV's part outside span(V)
            gvs = gv / s[..., None, :]
            return (u @ (inner @ vh + _mT(gvs - v @ (_mT(v) @ gvs))),)
        return (u @ inner @ vh,)


class Svdvals(Function):
    rule = "dA = U diag(dS) V^T"

    def forward(ctx, a):
        u, s, vh = ctx.xp.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    def backward(ctx, g):
        u, vh = ctx.saved
        if on_graph(ctx.xp):   # create_graph: U and V^T as functions of A (saved: constants)
            u, _, vh = _GraphLinalg.svd(ctx.inputs[0])
        return ((u * g[..., None, :]) @ vh,)


def _triangle(xp, a, upper, unit):
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        n = a.shape[-1]
        one = 1.0 if on_graph(xp) else xp.ones((), dtype=a.dtype)
        t = xp.where(xp.eye(n, dtype=bool), one, t)
    return t


class SolveTriangular(Function):
    """X with T X = B (``left``) or X T = B, T the ``upper`` or lower triangle of A (ones on
    its diagonal when ``unitriangular``); only that triangle gets a gradient."""

    rule = "dB = T^-T dX (left) ; dA = triangle(-dB X^T), right: dB = dX T^-T, dA = -X^T dB"

    def forward(ctx, a, b, upper=False, left=True, unitriangular=False):
        t = _triangle(ctx.xp, a, upper, unitriangular)
        what = "linalg.solve_triangular"
        x = _solve(ctx.xp, t, b, what) if left else _mT(_solve(ctx.xp, _mT(t), _mT(b), what))
        ctx.save_for_backward(t, x)
        return x

    def backward(ctx, g):
        xp, (t, x) = _gxp(ctx.xp), ctx.saved
        a_in, b_in = ctx.inputs
        upper = ctx.attrs.get("upper", False)
        if on_graph(xp):   # create_graph: T and X as functions of A and B (saved: constants)
            t = _triangle(xp, a_in, upper, ctx.attrs.get("unitriangular", False))
            x = SolveTriangular.apply(a_in, b_in, **ctx.attrs)
        if ctx.attrs.get("left", True):
            db = _solve(xp, _mT(t), g, "SolveTriangular backward")
            da = -db @ _mT(x)
        else:
            db = _mT(_solve(xp, t, _mT(g), "SolveTriangular backward"))
            da = -_mT(x) @ db
        da = xp.triu(da, 1 if ctx.attrs.get("unitriangular") else 0) if upper else \
            xp.tril(da, -1 if ctx.attrs.get("unitriangular") else 0)
        return unbroadcast(xp, da, a_in.shape), unbroadcast(xp, db, b_in.shape)


class Lstsq(Function):
    """The least-squares solution of A X = B for a full-rank A: (A^T A)^-1 A^T B when tall,
    the least-norm A^T (A A^T)^-1 B when wide."""

    rule = ("tall: Y = (A^T A)^-1 dX, dB = A Y, dA = (B - A X) Y^T - A Y X^T ; "
            "wide: W = (A A^T)^-1 A dX, Z = (A A^T)^-1 B, dB = W, dA = Z dX^T - W X^T - Z W^T A")

    def forward(ctx, a, b):
        xp = ctx.xp
        if a.shape[-2] >= a.shape[-1]:
            x = _solve(xp, _mT(a) @ a, _mT(a) @ b, "linalg.lstsq")
        else:
            x = _mT(a) @ _solve(xp, a @ _mT(a), b, "linalg.lstsq")
        ctx.save_for_backward(a, b, x)
        return x

    def backward(ctx, g):
        xp, (a, b, x) = _gxp(ctx.xp), ctx.saved
        what = "Lstsq backward"
        if a.shape[-2] >= a.shape[-1]:
            y = _solve(xp, _mT(a) @ a, g, what)
            db = a @ y
            da = (b - a @ x) @ _mT(y) - db @ _mT(x)
        else:
            gram = a @ _mT(a)
            w = _solve(xp, gram, a @ g, what)
            z = _solve(xp, gram, b, what)
            da = z @ _mT(g) - w @ _mT(x) - z @ _mT(w) @ a
            db = w
        return unbroadcast(xp, da, a.shape), unbroadcast(xp, db, b.shape)


def _expm(xp, a):
    """exp(a) by scaling and squaring a Taylor series (the batch shares one scale)."""
    norm = float(xp.max(xp.sum(xp.abs(a), axis=-2))) if a.size else 0.0
    steps = max(0, math.ceil(math.log2(norm))) + 1 if norm > 0 else 0
    x = a / 2.0 ** steps
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    out, term = eye.copy(), eye
    for k in range(1, 20):
        term = term @ x / k
        out = out + term
    for _ in range(steps):
        out = out @ out
    return out


class MatrixExp(Function):
    rule = "dA = the top-right block of exp([[A^T, dY], [0, A^T]])"

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(ctx.xp, a)

    def backward(ctx, g):
        xp, (a,) = _gxp(ctx.xp), ctx.saved
        n = a.shape[-1]
        zero = xp.zeros_like(a)
        block = xp.concatenate([xp.concatenate([_mT(a), g], axis=-1),
                                xp.concatenate([zero, _mT(a)], axis=-1)], axis=-2)
        if on_graph(xp):   # create_graph: the block's exponential as this op again
            return (MatrixExp.apply(block)[..., :n, n:],)
        return (_expm(xp, block)[..., :n, n:],)



def getrf(xp, a, pivot=True):
    """LU with partial pivoting as LAPACK's getrf computes it (``pivot=False``: none):
    (L and U packed in one matrix, pivots 1-based int32, info int32: the first zero U[i, i],
    1-based, or 0)."""
    *batch, m, n = a.shape
    lu = xp.array(xp.reshape(a, (-1, m, n)), dtype=a.dtype, copy=True)
    k = min(m, n)
    rows = xp.arange(lu.shape[0])
    piv = xp.tile(xp.arange(1, k + 1, dtype=xp.int32), (lu.shape[0], 1))
    info = xp.zeros(lu.shape[0], dtype=xp.int32)
    for j in range(k):
        if pivot:   # the first largest |entry| on or below the diagonal, as idamax picks it
            p = xp.argmax(xp.abs(lu[:, j:, j]), axis=-1) + j
            piv[:, j] = p + 1
            top = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = top
        d = lu[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(xp.int32)
        # a zero pivot (its column is zero below it too) eliminates nothing, as in LAPACK
        lu[:, j + 1:, j] /= xp.where(zero, 1, d)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return (xp.reshape(lu, a.shape), xp.reshape(piv, tuple(batch) + (k,)),
            xp.reshape(info, tuple(batch)))


class LuNoPivot(Function):
    """L and U packed in one matrix (L's unit diagonal left out) of an A whose rows are in
    pivot order already: A = L U with no row exchange (L m x k, U k x n)."""

    rule = ("square: dA = L^-T (tril(L^T dL, -1) + triu(dU U^T)) U^-T ; wide, tall: the same "
            "on the square block, [.. | dU2] and [.. ; dL2] beside it (torch's formulas)")

    def forward(ctx, a):
        lu = getrf(ctx.xp, a, pivot=False)[0]
        ctx.save_for_backward(lu)
        return lu

    def backward(ctx, g):
        xp, (lu,) = _gxp(ctx.xp), ctx.saved
        m, n = lu.shape[-2:]
        k = min(m, n)
        what = "linalg.lu_factor backward"
        low = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
        up = xp.triu(lu[..., :k, :])
        gl, gu = xp.tril(g[..., :, :k], -1), xp.triu(g[..., :k, :])
        if m <= n:   # L square: the lower part through U1^-T, then L^-T on everything
            x = _mT(_solve(xp, up[..., :k], _mT(xp.tril(_mT(low) @ gl - gu @ _mT(up), -1)),
                           what))
            x = xp.concatenate([x + gu[..., :k], gu[..., k:]], axis=-1)
            return (_solve(xp, _mT(low), x, what),)
        # tall, U square: the upper part through L1^-T, then U^-T on everything
        x = _solve(xp, _mT(low[..., :k, :]), xp.triu(gu @ _mT(up) - _mT(low) @ gl), what)
        x = xp.concatenate([x + gl[..., :k, :], gl[..., k:, :]], axis=-2)
        return (_mT(_solve(xp, up, _mT(x), what)),)
