"""MultivariateNormal (from a covariance matrix or its Cholesky factor) and Independent
(batch dims read as event dims)."""
import math

import numpy as np

from . import constraints
from .. import linalg
from .distribution import Distribution, draw, param_alias


def _mahalanobis(low, diff):
    """|L^-1 diff|^2 over the last dim."""
    return solve_tril(low, diff.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


def solve_tril(low, b):
    """L^-1 B for lower-triangular ``low`` (..., n, n) and ``b`` (..., n, k)."""
    return linalg.solve_triangular(low, b, upper=False)


class MultivariateNormal(Distribution):
    """N(loc, Sigma), Sigma given as ``covariance_matrix`` or as ``scale_tril`` (its lower
    Cholesky factor). rsample is loc + L eps."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {k: m for k, m in (("scale_tril", scale_tril),
                                   ("covariance_matrix", covariance_matrix),
                                   ("precision_matrix", precision_matrix)) if m is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        (which, matrix), = given.items()
        if matrix.ndim < 2:
            raise ValueError("scale_tril or covariance_matrix must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        batch = np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        n = loc.shape[-1]
        self.loc = loc.expand(batch + (n,))
        setattr(self, which, matrix.expand(batch + (n, n)))
        super().__init__(batch, (n,), validate_args=validate_args)
        if which == "covariance_matrix":
            self.scale_tril = linalg.cholesky(self.covariance_matrix)
        elif which == "precision_matrix":   # Sigma = P^-1
            self.scale_tril = linalg.cholesky(linalg.inv(self.precision_matrix))

    @property
    def _cov(self):
        low = self.scale_tril
        return low @ low.mT

    def __getattr__(self, name):
        if name == "covariance_matrix":   # L L^T when another matrix was given
            return self._cov
        if name == "precision_matrix":
            return linalg.inv(self._cov)
        raise AttributeError(name)

    mean = param_alias("loc", "loc.")
    mode = param_alias("loc", "loc.")

    @property
    def variance(self):
        """The diagonal of the covariance: the row sums of L^2."""
        return self.scale_tril.pow(2).sum(-1)

    def rsample(self, sample_shape=()):
        """loc + L eps, eps standard normal."""
        eps = draw(self.loc, self._extended_shape(sample_shape), "standard_normal")
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        """-(n log(2 pi) + |L^-1 (x - loc)|^2) / 2 - log det L."""
        self._validate_sample(value)
        n = self._event_shape[0]
        m = _mahalanobis(self.scale_tril, value - self.loc)
        return -0.5 * (n * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        """n (1 + log(2 pi)) / 2 + log det L."""
        n = self._event_shape[0]
        return 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det().expand(
            tuple(self.batch_shape))


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch dims read as
    event dims: log_prob and entropy sum over them."""

    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        k = reinterpreted_batch_ndims
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        if k > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual {k} vs "
                             f"{len(base_distribution.batch_shape)}")
        split = len(base_distribution.batch_shape) - k
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = k
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    has_rsample = property(lambda self: self.base_dist.has_rsample)
    support = property(lambda self: constraints.independent(self.base_dist.support,
                                                            self.reinterpreted_batch_ndims))
    mean = property(lambda self: self.base_dist.mean, doc="The base's mean.")
    mode = property(lambda self: self.base_dist.mode, doc="The base's mode.")
    variance = property(lambda self: self.base_dist.variance, doc="The base's variance.")

    def expand(self, batch_shape, _instance=None):
        """The base expanded to ``batch_shape`` + the reinterpreted dims."""
        k = self.reinterpreted_batch_ndims
        extra = tuple(self.event_shape)[:k] if k else ()
        return Independent(self.base_dist.expand(tuple(batch_shape) + extra), k,
                           validate_args=False)

    def sample(self, sample_shape=()):
        """The base's samples."""
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        """The base's reparameterised samples."""
        return self.base_dist.rsample(sample_shape)

    def _sum(self, t):
        return t.sum(tuple(range(-self.reinterpreted_batch_ndims, 0))) \
            if self.reinterpreted_batch_ndims else t

    def log_prob(self, value):
        """The base's log_prob summed over the reinterpreted dims."""
        return self._sum(self.base_dist.log_prob(value))

    def entropy(self):
        """The base's entropy summed over the reinterpreted dims."""
        return self._sum(self.base_dist.entropy())

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
