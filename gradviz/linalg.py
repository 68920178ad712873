"""``gv.linalg``: the norms of ``torch.linalg`` (vector p-norms, the Frobenius norm)."""
from .errors import GradvizError

__all__ = ["vector_norm", "matrix_norm", "norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` as a vector (over ``dim``, or every element)."""
    return x.norm(p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The Frobenius norm of the matrices in the last two dims (other ords: not supported)."""
    if ord != "fro":
        raise GradvizError(f"matrix_norm: ord={ord!r} is not supported here (only 'fro')")
    if A.ndim < 2:
        raise GradvizError("matrix_norm: the input must have at least 2 dims")
    return A.norm(p=2, dim=tuple(dim), keepdim=keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: the 2-norm of everything (ord=None), a vector norm over one dim,
    or the Frobenius norm over two."""
    if ord is None or ord == "fro" or (dim is not None and not isinstance(dim, int)
                                       and len(dim) == 1):
        return A.norm(p=2 if ord in (None, "fro") else ord, dim=dim, keepdim=keepdim,
                      dtype=dtype)
    if dim is None and A.ndim == 2 and isinstance(ord, str):
        return matrix_norm(A, ord, keepdim=keepdim, dtype=dtype)
    if isinstance(ord, str) or (dim is None and A.ndim == 2):
        raise GradvizError(f"linalg.norm: ord={ord!r} for matrices is not supported here")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)
