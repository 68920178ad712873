"""``gv.distributions``: torch.distributions' commonly used part. Parameters are gv tensors,
so log_prob, entropy and kl_divergence are graphs of gv ops, and rsample is reparameterised
(gradients flow to the parameters); samples are drawn on the parameters' device."""
from . import constraints, transforms, utils
from .continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from .continuous_more import Cauchy, Chi2, Dirichlet, StudentT
from .discrete import Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson
from .discrete_more import Geometric, Multinomial
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from . import kl_more  # noqa: F401  (registers its KL rules)
from . import kl_cross  # noqa: F401  (registers its KL rules)
from .mixture import MixtureSameFamily
from .multivariate import Independent, MultivariateNormal
from .relaxed import (ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli,
                      RelaxedOneHotCategorical)
from .transformed import Gumbel, HalfCauchy, HalfNormal, LogNormal, TransformedDistribution

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Beta",
           "Bernoulli", "Binomial", "Categorical", "OneHotCategorical", "Poisson",
           "MultivariateNormal", "Independent", "kl_divergence", "register_kl", "constraints",
           "transforms", "TransformedDistribution", "LogNormal", "Gumbel", "HalfNormal",
           "HalfCauchy", "Cauchy", "StudentT", "Chi2", "Dirichlet", "Geometric",
           "Multinomial", "MixtureSameFamily", "RelaxedBernoulli", "LogitRelaxedBernoulli",
           "RelaxedOneHotCategorical", "ExpRelaxedCategorical"]
