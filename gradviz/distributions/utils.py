"""``torch.distributions.utils``: the helpers user code imports (clamp_probs,
probs_to_logits, logits_to_probs, broadcast_all, lazy_property, the tril packing pair)."""
from ..engine import creation
from ..engine.dtypes import finfo
from .distribution import broadcast_all, lazy_property

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant, as torch names it

__all__ = ["broadcast_all", "lazy_property", "clamp_probs", "probs_to_logits",
           "logits_to_probs", "euler_constant", "vec_to_tril_matrix", "tril_matrix_to_vec"]


def clamp_probs(probs):
    """Probabilities clamped to [eps, 1 - eps], eps of their dtype."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log(p) (categorical) or log(p) - log1p(-p) (binary), of the clamped probabilities."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) (binary) or softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(dim=-1)


def _tril_mask(n, diag, like):
    arange = creation.arange(n, device=like.device)
    return arange < arange.view(-1, 1) + (diag + 1)


def vec_to_tril_matrix(vec, diag=0):
    """A (batch of) vector(s) as lower-triangular D x D matrices, filled in row order."""
    k = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag, vec)] = vec
    return mat


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries of a (batch of) D x D matrix, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat)]
