"""``gv.nn.utils.parametrizations``: ready-made parametrizations, as
``torch.nn.utils.parametrizations`` (``weight_norm``; ``orthogonal`` and ``spectral_norm``
are not here yet)."""
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


__all__ = ["weight_norm"]
