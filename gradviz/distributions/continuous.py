"""Continuous distributions on the real line: Normal, Uniform, Exponential, Laplace, Beta (all
reparameterised) and Gamma (sampled without a gradient)."""
import math

from .. import special
from ..engine import grad_mode
from . import constraints
from .distribution import Distribution, broadcast_all, draw, param_alias
from .gamma_grad import rsample_standard_gamma

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class _LocScale(Distribution):
    """A location-scale family: ``loc + scale * noise``, noise drawn as ``_noise``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _noise = "standard_normal"

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def rsample(self, sample_shape=()):
        """loc + scale * eps, eps drawn from the standard member of the family."""
        eps = draw(self.loc, self._extended_shape(sample_shape), self._noise)
        return self.loc + eps * self.scale

    mean = param_alias("loc", "loc.")
    mode = param_alias("loc", "loc.")


class Normal(_LocScale):
    """The normal distribution N(loc, scale^2)."""

    @property
    def stddev(self):
        """scale."""
        return self.scale

    @property
    def variance(self):
        """scale^2."""
        return self.scale ** 2

    def log_prob(self, value):
        """-(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""
        self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() \
            - _LOG_SQRT_2PI

    def cdf(self, value):
        """ndtr((x - loc) / scale)."""
        self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value):
        """loc + scale * sqrt(2) erfinv(2p - 1)."""
        return self.loc + self.scale * special.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        """1/2 + log(sqrt(2 pi)) + log(scale)."""
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()


class Laplace(_LocScale):
    """The Laplace distribution: density exp(-|x - loc| / scale) / (2 scale)."""

    def rsample(self, sample_shape=()):
        """loc - scale sign(u) log(1 - |u|), u uniform on (-1, 1)."""
        u = 2 * draw(self.loc, self._extended_shape(sample_shape), "random") - 1
        u = u.clamp_min(-1 + 1e-7 if u.dtype.itemsize == 4 else -1 + 1e-16)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    @property
    def variance(self):
        """2 scale^2."""
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        """sqrt(2) scale."""
        return math.sqrt(2) * self.scale

    def log_prob(self, value):
        """-log(2 scale) - |x - loc| / scale."""
        self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        """1/2 - 1/2 sign(x - loc) expm1(-|x - loc| / scale)."""
        self._validate_sample(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value):
        """loc - scale sign(p - 1/2) log1p(-2 |p - 1/2|)."""
        t = value - 0.5
        return self.loc - self.scale * t.sign() * (-2 * t.abs()).log1p()

    def entropy(self):
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()


class Uniform(Distribution):
    """The uniform distribution on [low, high)."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def arg_constraints(self):
        """low < high."""
        if "high" not in self.__dict__:
            return {"low": constraints.dependent, "high": constraints.dependent}
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    @property
    def support(self):
        """[low, high]."""
        return constraints.interval(self.low, self.high)

    def rsample(self, sample_shape=()):
        """low + u (high - low), u uniform on [0, 1)."""
        u = draw(self.low, self._extended_shape(sample_shape), "random")
        return self.low + u * (self.high - self.low)

    @property
    def mean(self):
        """(low + high) / 2."""
        return (self.high + self.low) / 2

    @property
    def mode(self):
        """NaN (every point is a mode)."""
        return self.high * math.nan

    @property
    def variance(self):
        """(high - low)^2 / 12."""
        return (self.high - self.low) ** 2 / 12

    def log_prob(self, value):
        """-log(high - low) inside, -inf outside."""
        self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()

    def cdf(self, value):
        """(x - low) / (high - low), clamped to [0, 1]."""
        self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        """low + p (high - low)."""
        return value * (self.high - self.low) + self.low

    def entropy(self):
        """log(high - low)."""
        return (self.high - self.low).log()


class Exponential(Distribution):
    """The exponential distribution of rate ``rate``."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def rsample(self, sample_shape=()):
        """e / rate, e standard exponential."""
        return draw(self.rate, self._extended_shape(sample_shape),
                    "standard_exponential") / self.rate

    @property
    def mean(self):
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def mode(self):
        """0."""
        return self.rate * 0

    @property
    def variance(self):
        """1 / rate^2."""
        return self.rate ** -2

    def log_prob(self, value):
        """log(rate) - rate x."""
        self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        """1 - exp(-rate x)."""
        self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        """-log(1 - p) / rate."""
        return -(-value).log1p() / self.rate

    def entropy(self):
        """1 - log(rate)."""
        return 1.0 - self.rate.log()


class Gamma(Distribution):
    """The gamma distribution (shape ``concentration``, rate ``rate``). rsample is
    reparameterised: a draw's gradient in ``concentration`` comes from the incomplete gamma
    function at the draw (SciPy on the CPU), in ``rate`` from x = g / rate."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def sample(self, sample_shape=()):
        """standard_gamma(concentration) / rate (no gradient)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            conc = self.concentration.expand(shape)
            return (draw(self.rate, shape, "standard_gamma", conc) / self.rate).clamp_min(
                1e-38 if self.rate.dtype.itemsize == 4 else 1e-300)

    def rsample(self, sample_shape=()):
        """standard_gamma(concentration) / rate, differentiable in both parameters."""
        from .gamma_grad import rsample_standard_gamma
        shape = self._extended_shape(sample_shape)
        tiny = 1e-38 if self.rate.dtype.itemsize == 4 else 1e-300
        with grad_mode.no_grad():
            g = draw(self.rate, shape, "standard_gamma", self.concentration.expand(shape))
            g = g.clamp_min(tiny)
        return (rsample_standard_gamma(self.concentration, g) / self.rate).clamp_min(tiny)

    @property
    def mean(self):
        """concentration / rate."""
        return self.concentration / self.rate

    @property
    def mode(self):
        """(concentration - 1) / rate, at least 0."""
        return ((self.concentration - 1) / self.rate).clamp_min(0)

    @property
    def variance(self):
        """concentration / rate^2."""
        return self.concentration / self.rate ** 2

    def log_prob(self, value):
        """a log(rate) + (a - 1) log(x) - rate x - lgamma(a)."""
        self._validate_sample(value)
        a = self.concentration
        return special.xlogy(a, self.rate) + special.xlogy(a - 1, value) \
            - self.rate * value - a.lgamma()

    def cdf(self, value):
        """P(a, rate x), the regularised lower incomplete gamma function."""
        self._validate_sample(value)
        return special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        """a - log(rate) + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()


class Beta(Distribution):
    """The beta distribution on [0, 1]. Sampling is X / (X + Y) of two gamma draws; rsample
    carries their gradients in the concentrations (gamma_grad)."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    def sample(self, sample_shape=()):
        """X / (X + Y), X ~ Gamma(a, 1), Y ~ Gamma(b, 1) (no gradient)."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            x = draw(self.concentration1, shape, "standard_gamma",
                     self.concentration1.expand(shape))
            y = draw(self.concentration1, shape, "standard_gamma",
                     self.concentration0.expand(shape))
            return x / (x + y)

    def rsample(self, sample_shape=()):
        """X / (X + Y) as in sample, reparameterised through each gamma draw."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            x, y = (draw(self.concentration1, shape, "standard_gamma", c.expand(shape))
                    for c in (self.concentration1, self.concentration0))
        x = rsample_standard_gamma(self.concentration1, x)
        y = rsample_standard_gamma(self.concentration0, y)
        return x / (x + y)

    @property
    def mean(self):
        """a / (a + b)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """(a - 1) / (a + b - 2) with a - 1 and b - 1 clamped at 0; 1 when both are below 1
        (torch takes Dirichlet's mode, whose argmax over two NaNs picks the first vertex)."""
        from ..engine.creation import ones_like  # noqa: PLC0415
        a, b = self.concentration1, self.concentration0
        a1, b1 = (a - 1).clamp_min(0), (b - 1).clamp_min(0)
        return (a1 / (a1 + b1)).where(~((a < 1) & (b < 1)), ones_like(a))

    @property
    def variance(self):
        """a b / ((a + b)^2 (a + b + 1))."""
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def _log_beta(self):
        a, b = self.concentration1, self.concentration0
        return a.lgamma() + b.lgamma() - (a + b).lgamma()

    def log_prob(self, value):
        """(a - 1) log(x) + (b - 1) log(1 - x) - log B(a, b)."""
        self._validate_sample(value)
        return special.xlogy(self.concentration1 - 1, value) \
            + special.xlog1py(self.concentration0 - 1, -value) - self._log_beta()

    def entropy(self):
        """log B(a, b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)."""
        a, b = self.concentration1, self.concentration0
        return self._log_beta() - (a - 1) * a.digamma() - (b - 1) * b.digamma() \
            + (a + b - 2) * (a + b).digamma()
