"""Discrete distributions: Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson.
Samples carry no gradient; Bernoulli, Binomial and the categoricals take ``probs`` or
``logits`` (exactly one) and derive the other on first use."""
import math

import numpy as np

from ..engine import grad_mode
from ..nn import functional as F
from . import constraints
from .distribution import Distribution, broadcast_all, draw, lazy_property


def _probs_or_logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    return ("probs", probs) if probs is not None else ("logits", logits)


def _clamp_probs(p):
    eps = 1.1920928955078125e-07 if p.dtype.itemsize == 4 else 2.220446049250313e-16
    return p.clamp(eps, 1 - eps)


class _Binary(Distribution):
    """probs = sigmoid(logits); the base of Bernoulli and Binomial."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}

    @lazy_property
    def probs(self):
        """sigmoid(logits)."""
        return self.logits.sigmoid()

    @lazy_property
    def logits(self):
        """log(p) - log(1 - p), p clamped away from 0 and 1."""
        return _clamp_probs(self.probs).logit()

    @property
    def _param(self):
        return self.__dict__.get("probs", self.__dict__.get("logits"))

    def _support_values(self, n, expand):
        """0 .. n along a new leading dim (broadcast over the batch when ``expand``)."""
        from ..engine.creation import arange  # noqa: PLC0415
        values = arange(n + 1, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((-1,) + tuple(self.batch_shape)) if expand else values


class Bernoulli(_Binary):
    """1 with probability ``probs`` (or sigmoid(``logits``)), else 0."""

    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, value = _probs_or_logits(probs, logits)
        (self.__dict__[name],) = broadcast_all(value)
        super().__init__(self.__dict__[name].shape, validate_args=validate_args)

    def enumerate_support(self, expand=True):
        """0 and 1 along a new leading dim (broadcast over the batch when ``expand``)."""
        return self._support_values(1, expand)

    def sample(self, sample_shape=()):
        """u < probs, u uniform on [0, 1) (floats 0/1, no gradient)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            return (draw(self._param, shape, "random") < self.probs).to(self._param.dtype)

    @property
    def mean(self):
        """probs."""
        return self.probs

    @property
    def mode(self):
        """1 where probs > 1/2, 0 below, NaN at 1/2."""
        return (self.probs >= 0.5).to(self.probs.dtype).masked_fill(self.probs == 0.5,
                                                                    math.nan)

    @property
    def variance(self):
        """p (1 - p)."""
        return self.probs * (1 - self.probs)

    def log_prob(self, value):
        """-BCE(logits, value)."""
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        """BCE(logits, probs)."""
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Binomial(_Binary):
    """The number of successes in ``total_count`` Bernoulli trials."""

    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        name, value = _probs_or_logits(probs, logits)
        self.total_count, self.__dict__[name] = broadcast_all(total_count, value)
        self.total_count = self.total_count.to(self.__dict__[name].dtype)
        super().__init__(self.total_count.shape, validate_args=validate_args)

    @property
    def arg_constraints(self):
        """total_count a non-negative integer; probs in [0, 1]."""
        return {"total_count": constraints.nonnegative_integer, **_Binary.arg_constraints}

    @property
    def support(self):
        """0, 1, ..., total_count."""
        return constraints.integer_interval(0, self.total_count)

    def sample(self, sample_shape=()):
        """Binomial draws (floats, no gradient)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            n = self.total_count.expand(shape).long()
            return draw(self.total_count, shape, "binomial", n, self.probs.expand(shape))

    @property
    def mean(self):
        """n p."""
        return self.total_count * self.probs

    @property
    def mode(self):
        """floor((n + 1) p), at most n."""
        return ((self.total_count + 1) * self.probs).floor().minimum(self.total_count)

    @property
    def variance(self):
        """n p (1 - p)."""
        return self.total_count * self.probs * (1 - self.probs)

    def log_prob(self, value):
        """log C(n, k) + k logits - n log(1 + exp(logits)), stable for large |logits|."""
        self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_choose = (n + 1).lgamma() - (value + 1).lgamma() - (n - value + 1).lgamma()
        normalize = n * logits.clamp_min(0) + n * (-logits.abs()).exp().log1p()
        return log_choose + value * logits - normalize

    def _homogeneous_count(self, what):
        total = int(self.total_count.max().item())
        if int(self.total_count.min().item()) != total:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total

    def enumerate_support(self, expand=True):
        """0 .. total_count along a new leading dim (one total_count for the whole batch)."""
        return self._support_values(self._homogeneous_count("enumerate_support"), expand)

    def entropy(self):
        """-sum_k P(k) log P(k) over the support (one total_count for the whole batch)."""
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)


class Categorical(Distribution):
    """One of K categories, with probabilities ``probs`` (normalised over the last dim) or
    softmax(``logits``)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, value = _probs_or_logits(probs, logits)
        if value.ndim < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if name == "probs":
            self.probs = value / value.sum(-1, keepdim=True)
        else:
            self.logits = value - value.logsumexp(-1, keepdim=True)
        self._num_events = value.shape[-1]
        self.param_shape = value.shape
        super().__init__(value.shape[:-1], validate_args=validate_args)

    probs = lazy_property(lambda self: self.logits.softmax(-1))
    probs.__doc__ = "softmax(logits)."
    logits = lazy_property(lambda self: _clamp_probs(self.probs).log())
    logits.__doc__ = "log(probs), probs clamped away from 0 and 1."

    @property
    def _param(self):
        return self.__dict__.get("probs", self.__dict__.get("logits"))

    @property
    def support(self):
        """0, 1, ..., K - 1."""
        return constraints.integer_interval(0, self._num_events - 1)

    def sample(self, sample_shape=()):
        """The first index whose running probability exceeds u, u uniform (int64)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            u = draw(self.probs, shape, "random").unsqueeze(-1)
            index = (u >= self.probs.cumsum(-1)).sum(-1)
            return index.clamp_max(self._num_events - 1).long()

    def log_prob(self, value):
        """logits[value]."""
        self._validate_sample(value)
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.batch_shape))
        logits = self.logits.expand(shape + (self._num_events,))
        return logits.gather(-1, value.long().expand(shape).unsqueeze(-1)).squeeze(-1)

    def entropy(self):
        """-sum(p log p)."""
        return -(self.probs * self.logits.clamp_min(-3.4e38)).sum(-1)

    @property
    def mean(self):
        """NaN (categories are not numbers)."""
        return self.probs[..., 0] * math.nan

    @property
    def mode(self):
        """The most likely category."""
        return self.probs.argmax(-1)

    @property
    def variance(self):
        """NaN."""
        return self.mean

    def enumerate_support(self, expand=True):
        """0 .. K-1 along a new leading dim (broadcast over the batch when ``expand``)."""
        from ..engine.creation import arange  # noqa: PLC0415
        values = arange(self._num_events, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((-1,) + tuple(self.batch_shape)) if expand else values


class OneHotCategorical(Distribution):
    """A Categorical whose samples are one-hot vectors of length K (the event)."""

    arg_constraints = Categorical.arg_constraints
    support = constraints.one_hot
    has_enumerate_support = True

    def enumerate_support(self, expand=True):
        """The K one-hot vectors along a new leading dim (broadcast over the batch when
        ``expand``)."""
        from ..engine.creation import eye  # noqa: PLC0415
        n = self._event_shape[0]
        values = eye(n, dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand((n,) + tuple(self.batch_shape) + (n,)) if expand else values

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs, doc="The category probabilities.")
    logits = property(lambda self: self._categorical.logits, doc="Normalised log probs.")

    def expand(self, batch_shape, _instance=None):
        """The same categories broadcast to ``batch_shape``."""
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        return new

    def sample(self, sample_shape=()):
        """one_hot(Categorical sample), in the probabilities' dtype."""
        index = self._categorical.sample(sample_shape)
        return F.one_hot(index, self._categorical._num_events).to(self.probs.dtype)

    def log_prob(self, value):
        """log probs[argmax(value)]."""
        self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        """The Categorical's entropy."""
        return self._categorical.entropy()

    @property
    def mean(self):
        """probs."""
        return self.probs

    @property
    def mode(self):
        """one_hot(argmax(probs))."""
        return F.one_hot(self.probs.argmax(-1), self._categorical._num_events).to(
            self.probs.dtype)

    @property
    def variance(self):
        """p (1 - p)."""
        return self.probs * (1 - self.probs)


class Poisson(Distribution):
    """Counts with mean ``rate`` (sample and log_prob; no entropy, as torch)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def sample(self, sample_shape=()):
        """Poisson draws (floats, no gradient)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            return draw(self.rate, shape, "poisson", self.rate.expand(shape))

    @property
    def mean(self):
        """rate."""
        return self.rate

    @property
    def mode(self):
        """floor(rate)."""
        return self.rate.floor()

    @property
    def variance(self):
        """rate."""
        return self.rate

    def log_prob(self, value):
        """k log(rate) - rate - lgamma(k + 1)."""
        from .. import special  # noqa: PLC0415
        self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return special.xlogy(value, rate) - rate - (value + 1).lgamma()
