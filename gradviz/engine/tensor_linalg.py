"""torch's linear-algebra Tensor methods and their ``gv.*`` forms (inverse, det, logdet,
slogdet, cholesky, qr, svd, pinverse, matrix_power, matrix_exp): thin calls of ``gv.linalg``
(gradviz/linalg.py), with the older torch.* argument names and results."""
import collections

from .. import linalg as LA
from .tensor import Tensor

_slogdet = collections.namedtuple("slogdet", ["sign", "logabsdet"])
_qr = collections.namedtuple("qr", ["Q", "R"])
_svd = collections.namedtuple("svd", ["U", "S", "V"])


def logdet(self):
    """log(det(self)): NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = LA.slogdet(self)
    return logabs.masked_fill(sign < 0, float("nan"))


def slogdet(self):
    """(sign, logabsdet) of the determinant."""
    return _slogdet(*LA.slogdet(self))


def cholesky(self, upper=False):
    """L with self = L L^T (L^T when ``upper``)."""
    return LA.cholesky(self, upper=upper)


def qr(self, some=True):
    """(Q, R): reduced when ``some``, complete otherwise."""
    return _qr(*LA.qr(self, "reduced" if some else "complete"))


def svd(self, some=True, compute_uv=True):
    """(U, S, V) with self = U diag(S) V^T (V, not linalg.svd's Vh); ``some``: reduced;
    not ``compute_uv``: U and V zero-filled m x m and n x n, as torch's."""
    if not compute_uv:
        S = LA.svdvals(self)
        m, n = self.shape[-2:]
        batch = tuple(self.shape[:-2])
        return _svd(self.new_zeros(batch + (m, m)), S, self.new_zeros(batch + (n, n)))
    U, S, Vh = LA.svd(self, full_matrices=not some)
    return _svd(U, S, Vh.mT)


def pinverse(self, rcond=1e-15):
    """The pseudo-inverse, singular values below rcond * the largest dropped."""
    return LA.pinv(self, rtol=rcond)


def matrix_power(self, n):
    """self @ self @ ... n times (inverse powers for n < 0)."""
    return LA.matrix_power(self, n)


_METHODS = {"inverse": LA.inv, "det": LA.det, "logdet": logdet, "slogdet": slogdet,
            "cholesky": cholesky, "qr": qr, "svd": svd, "pinverse": pinverse,
            "matrix_power": matrix_power, "matrix_exp": LA.matrix_exp}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
NAMES = list(_METHODS)   # gv.<name> too
