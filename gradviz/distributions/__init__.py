"""``gv.distributions``: torch.distributions' commonly used part. Parameters are gv tensors,
so log_prob, entropy and kl_divergence are graphs of gv ops, and rsample is reparameterised
(gradients flow to the parameters); samples are drawn on the parameters' device."""
from . import constraints
from .continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from .discrete import Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Beta",
           "Bernoulli", "Binomial", "Categorical", "OneHotCategorical", "Poisson",
           "MultivariateNormal", "Independent", "kl_divergence", "register_kl", "constraints"]
