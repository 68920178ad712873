"""More continuous families: Cauchy, StudentT, Chi2 and Dirichlet, all reparameterised (the
last three through gamma draws whose gradient in the shape parameter gamma_grad computes)."""
import math

from ..engine import grad_mode
from ..nn import functional as F
from . import constraints
from .continuous import Gamma, _LocScale
from .distribution import Distribution, broadcast_all, check_property_params, draw
from .gamma_grad import rsample_standard_gamma


def _tiny(like):
    """The smallest normal number of ``like``'s dtype (gamma draws underflow to 0 below it)."""
    return 1.1754943508222875e-38 if like.dtype.itemsize == 4 else 2.2250738585072014e-308


class Cauchy(_LocScale):
    """The Cauchy (Lorentz) distribution: density 1 / (pi scale (1 + ((x - loc)/scale)^2))."""

    _noise = "standard_cauchy"

    @property
    def mean(self):
        """NaN (undefined)."""
        return self.loc * 0 + math.nan

    @property
    def variance(self):
        """inf."""
        return self.loc * 0 + math.inf

    def log_prob(self, value):
        """-log(pi) - log(scale) - log1p(((x - loc) / scale)^2)."""
        self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() \
            - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        """atan((x - loc) / scale) / pi + 1/2."""
        self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        """loc + scale tan(pi (p - 1/2))."""
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        """log(4 pi) + log(scale)."""
        return math.log(4 * math.pi) + self.scale.log()


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    def rsample(self, sample_shape=()):
        """loc + scale X / sqrt(Z / df), X standard normal, Z ~ Chi2(df) (reparameterised)."""
        shape = self._extended_shape(sample_shape)
        half = 0.5 * self.df
        with grad_mode.no_grad():
            x = draw(self.df, shape, "standard_normal")
            g = draw(self.df, shape, "standard_gamma", half.expand(shape)).clamp_min(
                _tiny(self.df))
        z = 2 * rsample_standard_gamma(half, g)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    @property
    def mean(self):
        """loc, NaN where df <= 1."""
        return self.loc.masked_fill(self.df <= 1, math.nan)

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, NaN for df <= 1."""
        df = self.df
        var = (self.scale.pow(2) * df / (df - 2)).masked_fill(df <= 2, math.inf)
        return var.masked_fill(df <= 1, math.nan)

    def log_prob(self, value):
        """-(df + 1)/2 log1p(y^2 / df) - log(scale sqrt(df pi) B(df/2, 1/2)), y standardised."""
        self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) \
            + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma()
        return -0.5 * (self.df + 1.0) * (y ** 2 / self.df).log1p() - z

    def entropy(self):
        """log(scale) + (df+1)/2 (psi((df+1)/2) - psi(df/2)) + log(df)/2 + log B(df/2, 1/2)."""
        half, half1 = 0.5 * self.df, 0.5 * (self.df + 1)
        lbeta = half.lgamma() + math.lgamma(0.5) - half1.lgamma()
        return self.scale.log() + half1 * (half1.digamma() - half.digamma()) \
            + 0.5 * self.df.log() + lbeta


class Chi2(Gamma):
    """The chi-squared distribution: Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}
    has_rsample = True

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)
        check_property_params(self)

    @property
    def df(self):
        """2 concentration."""
        return self.concentration * 2

    def rsample(self, sample_shape=()):
        """standard_gamma(df / 2) / rate, reparameterised in df."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            g = draw(self.rate, shape, "standard_gamma", self.concentration.expand(shape))
            g = g.clamp_min(_tiny(self.rate))
        return rsample_standard_gamma(self.concentration, g) / self.rate


class Dirichlet(Distribution):
    """The Dirichlet distribution on the simplex, with ``concentration`` (..., K). Samples are
    normalised gamma draws, reparameterised through each gamma draw (torch differentiates
    the Dirichlet marginals instead: same distribution and expected gradients, other
    per-sample gradients)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def rsample(self, sample_shape=()):
        """Gamma(concentration, 1) draws divided by their sum."""
        shape = self._extended_shape(sample_shape)
        c = self.concentration
        with grad_mode.no_grad():
            g = draw(c, shape, "standard_gamma", c.expand(shape)).clamp_min(_tiny(c))
        x = rsample_standard_gamma(c, g)
        return x / x.sum(-1, keepdim=True)

    @property
    def mean(self):
        """c / sum(c)."""
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(c - 1)+ / sum((c - 1)+); a one-hot vertex where every c < 1 (as torch)."""
        cm1 = (self.concentration - 1).clamp_min(0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        vertex = F.one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return vertex.where((self.concentration < 1).all(-1, keepdim=True), mode)

    @property
    def variance(self):
        """c (c0 - c) / (c0^2 (c0 + 1)), c0 = sum(c)."""
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def log_prob(self, value):
        """sum((c - 1) log x) + lgamma(sum c) - sum(lgamma c)."""
        from .. import special  # noqa: PLC0415
        self._validate_sample(value)
        c = self.concentration
        return special.xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self):
        """sum(lgamma c) - lgamma(c0) - (K - c0) psi(c0) - sum((c - 1) psi(c))."""
        c = self.concentration
        k = c.shape[-1]
        c0 = c.sum(-1)
        return c.lgamma().sum(-1) - c0.lgamma() - (k - c0) * c0.digamma() \
            - ((c - 1.0) * c.digamma()).sum(-1)
