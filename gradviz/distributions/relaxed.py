"""Continuous relaxations of Bernoulli and one-hot categorical draws (Concrete / Gumbel-softmax,
as torch): reparameterised, so gradients reach logits and temperature through rsample."""
from . import constraints
from .discrete import Categorical, _Binary, _clamp_probs, _probs_or_logits
from .distribution import Distribution, _number, broadcast_all, draw
from .transformed import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform


def _temperature(value, like):
    """A number as a tensor of the parameter's dtype and device; a tensor as it is."""
    return value if hasattr(value, "shape") else _number(value, like)


class LogitRelaxedBernoulli(_Binary):
    """The logit of a RelaxedBernoulli: (logit(u) + logits) / temperature, u uniform."""

    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        name, value = _probs_or_logits(probs, logits)
        (self.__dict__[name],) = broadcast_all(value)
        self.temperature = _temperature(temperature, self.__dict__[name])
        super().__init__(self.__dict__[name].shape, validate_args=validate_args)

    @property
    def _param(self):
        return self.__dict__.get("probs", self.__dict__.get("logits"))

    def rsample(self, sample_shape=()):
        """(logit(u) + logit(p)) / temperature, u and p clamped away from 0 and 1."""
        shape = self._extended_shape(sample_shape)
        probs = _clamp_probs(self.probs.expand(shape))
        u = _clamp_probs(draw(self._param, shape, "random"))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        """log(t) + d - 2 log1p(exp(d)), d = logits - t x."""
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid of a LogitRelaxedBernoulli: values in (0, 1) that approach Bernoulli draws as
    the temperature goes to 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature, doc="The temperature.")
    probs = property(lambda self: self.base_dist.probs, doc="The probabilities.")
    logits = property(lambda self: self.base_dist.logits, doc="The logits.")


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical: log_softmax((logits + Gumbel noise) / t)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = _temperature(temperature, self._categorical._param)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs, doc="The category probabilities.")
    logits = property(lambda self: self._categorical.logits, doc="Normalised log probs.")

    def expand(self, batch_shape, _instance=None):
        """The same categories broadcast to ``batch_shape``."""
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        new.temperature = self.temperature   # one temperature for all, as torch
        return new

    def rsample(self, sample_shape=()):
        """log_softmax((logits + g) / t), g = -log(-log u) Gumbel noise."""
        shape = self._extended_shape(sample_shape)
        u = _clamp_probs(draw(self.logits, shape, "random"))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        """lgamma(K) + (K - 1) log t + sum(log_softmax(logits - t x))."""
        self._validate_sample(value)
        k = self._categorical._num_events
        logits, value = broadcast_all(self.logits, value)
        log_scale = (self.temperature * 0 + float(k)).lgamma() + self.temperature.log() * (k - 1)
        score = logits - value * self.temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp of an ExpRelaxedCategorical: points of the simplex that approach one-hot draws as
    the temperature goes to 0."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature, doc="The temperature.")
    probs = property(lambda self: self.base_dist.probs, doc="The category probabilities.")
    logits = property(lambda self: self.base_dist.logits, doc="Normalised log probs.")
