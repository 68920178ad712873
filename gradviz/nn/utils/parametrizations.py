"""``gv.nn.utils.parametrizations``: ready-made parametrizations, as
``torch.nn.utils.parametrizations`` (``weight_norm``, ``spectral_norm``, ``orthogonal``; real
tensors only)."""
from ... import linalg
from ...engine.backend import xp_of
from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ...errors import ArgumentError
from .. import functional as F
from ..module import Module
from . import parametrize


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (the whole
    tensor's norm, 0-d, when ``dim == -1``: torch's convention)."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    if not others:  # a 1-D v: each element is its own slice
        return v.abs()
    return v.norm(pow, dim=others, keepdim=True)


def _weight_norm(v, g, dim=0):
    # w = g * v / ||v||   (the norm over every dim but ``dim``)
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    """weight = g * v / ||v||, from (original0, original1) = (g, v)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        """(g, v) that give back ``weight``."""
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (keys
    ``parametrizations.<name>.original0`` for g and ``original1`` for v); returns module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module




class _SpectralNorm(Module):
    """weight / sigma, sigma = u^T W v the largest singular value of ``weight`` (as a matrix
    with ``dim`` first), estimated by power iteration on the buffers ``_u`` and ``_v``: one
    step per forward in training mode, none in eval mode."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise ArgumentError(f"Dimension out of range (expected to be in range of "
                                f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ArgumentError("Expected n_power_iterations to be positive, but got "
                                f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # a good first estimate, so that the first forwards already give a sound sigma
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        # u <- W v / ||W v||,  v <- W^T u / ||W^T u||   (in place: the buffers keep identity)
        with no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.mT.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: the graph must not see the next in-place power-iteration update
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        """``value`` itself: assigning sets ``original`` to the unnormalised weight."""
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as ``weight / sigma`` (its spectral norm, by power
    iteration; keys ``parametrizations.<name>.original`` and ``.0._u``, ``.0._v``); ``dim``
    defaults to 1 for ConvTranspose, else 0. Returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ArgumentError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from .. import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _eye_like(X, n, k):
    from ... import eye
    return eye(n, k, dtype=X.dtype, device=X.device)


def _is_orthogonal(Q):
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(xp_of(Q._data).finfo(Q._data.dtype).eps)
    QtQ = (Q.mT @ Q).detach()._data
    return bool(xp_of(QtQ).allclose(QtQ, xp_of(QtQ).eye(k, dtype=QtQ.dtype), atol=eps))


def _make_orthogonal(A):
    """The Q of A = QR (A tall) with diag(R) >= 0."""
    Q, R = linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


def _householder_product(A, tau):
    # Q = H_1 ... H_k [:, :k],  H_i = I - tau_i v_i v_i^T,  v_i = e_i + A[:, i] (A below diag)
    n, k = A.shape[-2], A.shape[-1]
    V = A + _eye_like(A, n, k)
    Q = _eye_like(A, n, k)
    for i in reversed(range(k)):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i:i + 1].unsqueeze(-1) * (v @ (v.mT @ Q))
    return Q


def _geqrf(Q):
    """LAPACK's geqrf: (reflectors below the diagonal with R on and above it, tau)."""
    xp = xp_of(Q._data)
    data = Q.detach()._data
    if data.ndim == 2:
        h, tau = xp.linalg.qr(data, mode="raw")
        return h.T.copy(), tau
    pairs = [_geqrf(Tensor(m)) for m in data.reshape(-1, *data.shape[-2:])]
    A = xp.stack([a for a, _ in pairs]).reshape(data.shape)
    tau = xp.stack([t for _, t in pairs]).reshape(*data.shape[:-2], -1)
    return A, tau


class _Orthogonal(Module):
    """An orthogonal matrix (or batch) from an unconstrained one by ``orthogonal_map``; with
    ``use_trivialization`` the result is ``base @ Q`` and ``base`` is a buffer."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            # A = X - X^T skew-symmetric from X's lower triangle (padded to n x n)
            X = X.tril()
            if n != k:
                X = _cat_zeros(X, n - k)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:  # Q = (I - A/2)^-1 (I + A/2)
                Id = _eye_like(A, n, n)
                Q = linalg.solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # the signs of X's diagonal (truncated, as torch's .int()) flip Q's columns
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        """An ``original`` that gives ``Q`` (made orthogonal by QR first if it is not)."""
        from ... import cat, randn, zeros_like
        if Q.shape != self.shape:
            raise ArgumentError(f"Expected a matrix or batch of matrices of shape "
                                f"{tuple(self.shape)}. Got a tensor of shape {tuple(Q.shape)}.")
        with no_grad():
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                A, tau = _geqrf(Q)
                xp = xp_of(A)
                diag = xp.sign(xp.diagonal(A, axis1=-2, axis2=-1)) * xp.where(tau == 0, -1, 1)
                idx = xp.arange(k)
                A[..., idx, idx] = diag
                A = Tensor(A.astype(Q._data.dtype))
                return A.mT if transpose else A
            if n == k:
                Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
            else:  # complete Q to a square orthogonal matrix with random columns
                N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            neg_Id = zeros_like(Q_init)
            idx = xp_of(neg_Id._data).arange(min(Q_init.shape[-2:]))
            neg_Id._data[..., idx, idx] = -1.0
            return neg_Id


def _cat_zeros(X, m):
    """X with m zero columns appended."""
    from ... import cat, zeros
    return cat([X, zeros(*X.shape[:-1], m, dtype=X.dtype, device=X.device)], dim=-1)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Reparametrize ``module.<name>`` (a matrix or batch) to be orthogonal: orthonormal
    columns if tall, rows if wide. ``orthogonal_map``: "matrix_exp", "cayley" or
    "householder"; default "matrix_exp" for square matrices, else "householder". Returns
    module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ArgumentError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ArgumentError("Expected a matrix or batch of matrices. "
                            f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ArgumentError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                            f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


__all__ = ["orthogonal", "spectral_norm", "weight_norm"]
