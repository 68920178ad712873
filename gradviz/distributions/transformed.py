"""TransformedDistribution (a base distribution pushed through transforms) and the families
torch builds on it: LogNormal, Gumbel, HalfNormal, HalfCauchy."""
import math

from ..engine import grad_mode
from . import constraints
from .continuous import Normal, Uniform
from .continuous_more import Cauchy
from .distribution import Distribution, broadcast_all, check_property_params
from .multivariate import Independent
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform,
                         Transform, sum_rightmost)

_EULER_GAMMA = 0.57721566490153286060


class TransformedDistribution(Distribution):
    """The law of ``transforms[-1](... transforms[0](x))`` for x from ``base_distribution``;
    log_prob is the base's log_prob at the preimage minus the transforms'
    log|det Jacobian| (change of variables)."""

    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not (isinstance(transforms, list) and all(isinstance(t, Transform)
                                                       for t in transforms)):
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")
        self.transforms = transforms
        base_shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        base_event_dim = len(base_distribution.event_shape)
        chain = ComposeTransform(transforms)
        if len(base_shape) < chain.domain.event_dim:
            raise ValueError(f"base_distribution needs to have shape with size at least "
                             f"{chain.domain.event_dim}, but got {base_shape}.")
        shape = tuple(chain.forward_shape(base_shape))
        expanded = tuple(chain.inverse_shape(shape))
        if expanded != base_shape:   # a transform's parameters widen the batch
            base_distribution = base_distribution.expand(
                expanded[:len(expanded) - base_event_dim])
        extra = chain.domain.event_dim - base_event_dim
        if extra > 0:
            base_distribution = Independent(base_distribution, extra)
        self.base_dist = base_distribution
        event_dim = chain.codomain.event_dim + max(base_event_dim - chain.domain.event_dim, 0)
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)
        check_property_params(self)

    @property
    def has_rsample(self):
        """The base's."""
        return self.base_dist.has_rsample

    @property
    def support(self):
        """The last transform's codomain (the base's support without transforms)."""
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support, len(self.event_shape) - support.event_dim)
        return support

    def expand(self, batch_shape, _instance=None):
        """The base expanded to the preimage of ``batch_shape`` + event_shape."""
        new = super().expand(batch_shape)
        shape = tuple(batch_shape) + tuple(self.event_shape)
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        new.base_dist = self.base_dist.expand(shape[:len(shape)
                                                    - len(self.base_dist.event_shape)])
        return new

    def rsample(self, sample_shape=()):
        """The base's rsample pushed through the transforms."""
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def sample(self, sample_shape=()):
        """The base's sample pushed through the transforms (no gradient)."""
        with grad_mode.no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def log_prob(self, value):
        """base.log_prob(x) - sum of log|dy/dx| along the chain back from ``value``."""
        self._validate_sample(value)
        event_dim = len(self.event_shape)
        log_prob, y = 0.0, value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - sum_rightmost(t.log_abs_det_jacobian(x, y),
                                                event_dim - t.domain.event_dim)
            y = x
        return log_prob + sum_rightmost(self.base_dist.log_prob(y),
                                        event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value):
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5   # a decreasing chain flips the cdf

    def cdf(self, value):
        """The base's cdf at the preimage (1 - it for a decreasing chain)."""
        for t in reversed(self.transforms):
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        """The transforms applied to the base's icdf."""
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value


class LogNormal(TransformedDistribution):
    """exp(X) for X ~ Normal(loc, scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(),
                         validate_args=validate_args)

    loc = property(lambda self: self.base_dist.loc, doc="The Normal's loc.")
    scale = property(lambda self: self.base_dist.scale, doc="The Normal's scale.")

    @property
    def mean(self):
        """exp(loc + scale^2 / 2)."""
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        """exp(loc - scale^2)."""
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self):
        """(exp(scale^2) - 1) exp(2 loc + scale^2)."""
        s2 = self.scale.pow(2)
        return s2.expm1() * (2 * self.loc + s2).exp()

    def entropy(self):
        """The Normal's entropy + loc."""
        return self.base_dist.entropy() + self.loc


class Gumbel(TransformedDistribution):
    """The Gumbel (type-I extreme value) distribution: loc - scale log(-log U), U uniform."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        tiny, eps = (1.1754943508222875e-38, 1.1920928955078125e-07) \
            if self.loc.dtype.itemsize == 4 else (2.2250738585072014e-308, 2.220446049250313e-16)
        base = Uniform(self.loc.new_full(tuple(self.loc.shape), tiny),
                       self.loc.new_full(tuple(self.loc.shape), 1 - eps),
                       validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(0, -self.scale.new_ones(
            tuple(self.scale.shape))), ExpTransform().inv, AffineTransform(self.loc, -self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """A Gumbel of the expanded loc and scale."""
        return Gumbel(self.loc.expand(tuple(batch_shape)), self.scale.expand(tuple(batch_shape)),
                      validate_args=False)

    def log_prob(self, value):
        """z - exp(z) - log(scale), z = (loc - x) / scale."""
        self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - self.scale.log()

    @property
    def mean(self):
        """loc + scale * euler_gamma."""
        return self.loc + self.scale * _EULER_GAMMA

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def stddev(self):
        """pi / sqrt(6) scale."""
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        """stddev^2."""
        return self.stddev.pow(2)

    def entropy(self):
        """log(scale) + 1 + euler_gamma."""
        return self.scale.log() + (1 + _EULER_GAMMA)


class _HalfSymmetric(TransformedDistribution):
    """|X| for X from a family symmetric about 0 with parameter ``scale`` (``_base``)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base = None

    def __init__(self, scale, validate_args=None):
        super().__init__(self._base(0.0, scale, validate_args=False), AbsTransform(),
                         validate_args=validate_args)

    scale = property(lambda self: self.base_dist.scale, doc="The base's scale.")

    @property
    def mode(self):
        """0."""
        return self.scale * 0

    def log_prob(self, value):
        """base.log_prob + log 2 where x >= 0, -inf below."""
        self._validate_sample(value)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return lp.where(value >= 0, -math.inf)

    def cdf(self, value):
        """2 base.cdf(x) - 1."""
        self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, value):
        """base.icdf((p + 1) / 2)."""
        return self.base_dist.icdf((value + 1) / 2)

    def entropy(self):
        """base.entropy - log 2."""
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_HalfSymmetric):
    """|X| for X ~ Normal(0, scale)."""

    _base = Normal

    @property
    def mean(self):
        """scale sqrt(2 / pi)."""
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        """scale^2 (1 - 2 / pi)."""
        return self.scale.pow(2) * (1 - 2 / math.pi)


class HalfCauchy(_HalfSymmetric):
    """|X| for X ~ Cauchy(0, scale)."""

    _base = Cauchy

    @property
    def mean(self):
        """inf."""
        return self.scale * 0 + math.inf

    @property
    def variance(self):
        """inf."""
        return self.scale * 0 + math.inf
