"""Geometric and Multinomial (samples carry no gradient; log_prob and moments are graphs of
gv ops in the parameters)."""
import math

import numpy as np

from ..engine import grad_mode
from ..nn import functional as F
from . import constraints
from .discrete import Binomial, Categorical, _Binary, _probs_or_logits
from .distribution import Distribution, broadcast_all, draw


class Geometric(_Binary):
    """The number of failures before the first success in Bernoulli(``probs``) trials."""

    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, value = _probs_or_logits(probs, logits)
        (self.__dict__[name],) = broadcast_all(value)
        super().__init__(self.__dict__[name].shape, validate_args=validate_args)
        if self._validate_args and name == "probs" and not bool((self.probs > 0).all()):
            raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                             f"{tuple(self.probs.shape)}) of distribution {self!r} to be "
                             f"positive but found invalid values:\n{self.probs}")

    @property
    def _param(self):
        return self.__dict__.get("probs", self.__dict__.get("logits"))

    @property
    def mean(self):
        """1 / p - 1."""
        return self.probs.reciprocal() - 1

    @property
    def mode(self):
        """0."""
        return self.probs * 0

    @property
    def variance(self):
        """(1 / p - 1) / p."""
        return (self.probs.reciprocal() - 1) / self.probs

    def sample(self, sample_shape=()):
        """floor(log(u) / log(1 - p)), u uniform (floats, no gradient)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            tiny = 1.1754943508222875e-38 if self._param.dtype.itemsize == 4 \
                else 2.2250738585072014e-308
            u = draw(self._param, shape, "random").clamp_min(tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        """k log(1 - p) + log(p) (0 at k = 0 when p = 1)."""
        self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.masked_fill((probs == 1) & (value == 0), 0.0)   # 0 * log(0) -> 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        """BCE(logits, probs) / probs."""
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


class _MultinomialSupport(constraints.Constraint):
    """Non-negative integer vectors whose sum is at most ``upper_bound``."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= 0).all(dim=-1) & (value.sum(-1) <= self.upper_bound)


class Multinomial(Distribution):
    """Counts of each of K categories in ``total_count`` draws from Categorical(probs)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, (int, np.integer)):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits,
                                        validate_args=validate_args)
        validate = self._validate_args if validate_args is None else validate_args
        if validate and self.total_count < 0:   # torch's check (by its inner Binomial)
            raise ValueError(f"Expected parameter total_count ({self.total_count}) of "
                             f"distribution {type(self).__name__} to satisfy the constraint "
                             "IntegerGreaterThan(lower_bound=0), but found invalid values")
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs, doc="The category probabilities.")
    logits = property(lambda self: self._categorical.logits, doc="Normalised log probs.")

    @property
    def param_shape(self):
        """The probabilities' shape."""
        return self._categorical.param_shape

    @property
    def support(self):
        """Non-negative integer counts summing to at most total_count."""
        return _MultinomialSupport(self.total_count)

    def expand(self, batch_shape, _instance=None):
        """The same categories broadcast to ``batch_shape``."""
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        new._categorical.param_shape = tuple(batch_shape) + tuple(self._event_shape)
        return new

    @property
    def mean(self):
        """n p."""
        return self.probs * self.total_count

    @property
    def variance(self):
        """n p (1 - p)."""
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """One-hot Categorical draws summed over the total_count trials (no gradient)."""
        k = self._event_shape[0]
        with grad_mode.no_grad():
            index = self._categorical.sample((self.total_count,) + tuple(sample_shape))
            return F.one_hot(index, k).sum(0).to(self.probs.dtype)

    def entropy(self):
        """n H(Categorical) - lgamma(n + 1) + sum_i E[lgamma(x_i + 1)], x_i ~ Binomial(n, p_i)
        (torch's formula)."""
        n = self.total_count
        binomial = Binomial(n, self.probs, validate_args=False)
        support = binomial.enumerate_support(expand=False)[1:]
        weights = (support + 1).lgamma()
        term2 = (binomial.log_prob(support).exp() * weights).sum(0).sum(-1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + term2

    def log_prob(self, value):
        """lgamma(n + 1) - sum(lgamma(x + 1)) + sum(x logits)."""
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.masked_fill((value == 0) & (logits == -math.inf), 0.0)
        return (value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1) \
            + (logits * value).sum(-1)
