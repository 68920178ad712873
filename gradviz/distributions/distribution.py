"""The Distribution base class (torch.distributions.Distribution) and the helpers every
distribution shares: parameter broadcasting, argument checks and noise drawn on the
parameters' device (gv's generator on the host, CuPy's, seeded by gv.manual_seed, on a
device)."""
import copy
import functools

import numpy as np

from ..engine import grad_mode
from ..engine.random import draws
from ..engine.tensor import Size, Tensor
from ..engine.tensor_methods import _as_tensor
from . import constraints


def broadcast_all(*values):
    """The values as tensors of one broadcast shape (numbers take the first tensor's dtype and
    device, or the default dtype)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    ts = [v if isinstance(v, Tensor) else _number(v, like) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    return [t.expand(shape) if tuple(t.shape) != shape else t for t in ts]


def _number(v, like):
    t = _as_tensor(float(v), like)
    return t.to(like.dtype) if like is not None and like._data.dtype.kind == "f" else t


def draw(like, shape, kind, *params):
    """``kind`` draws (a NumPy Generator / cupy.random method: standard_normal, random,
    standard_gamma, poisson...) of ``shape``, with ``like``'s dtype and device."""
    arrays = [p.detach()._data if isinstance(p, Tensor) else p for p in params]
    out = draws(like._data, kind, shape, *arrays)
    return Tensor._wrap(out.astype(like._data.dtype, copy=False))


def check_param(dist, name, constraint, value):
    """Raise torch's ValueError when parameter ``name`` of ``dist`` breaks ``constraint``."""
    if not bool(constraint.check(value).all()):
        raise ValueError(
            f"Expected parameter {name} ({type(value).__name__} of shape "
            f"{tuple(value.shape)}) of distribution {dist!r} to satisfy the constraint "
            f"{constraint!r}, but found invalid values:\n{value}")


def check_property_params(dist):
    """check_param for the parameters that are properties of ``dist``'s class (derived from
    a base distribution), which Distribution.__init__ leaves out."""
    if not dist._validate_args:
        return
    for name, constraint in dist.arg_constraints.items():
        if name not in dist.__dict__ and isinstance(getattr(type(dist), name, None), property):
            check_param(dist, name, constraint, getattr(dist, name))


class lazy_property(functools.cached_property):  # noqa: N801 - torch's name
    """A cached property computed with gradients on (as torch's lazy_property), so a derived
    parameter first read inside ``sample``'s no_grad still keeps its graph."""

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with grad_mode.enable_grad():
            return super().__get__(instance, owner)


def param_alias(name, doc):
    """A read-only property returning the parameter ``name`` (mean = loc, ...)."""
    return property(lambda self: getattr(self, name), doc=doc)


def _fmt(t):
    return f"{t.item()}" if t.numel() == 1 else f"{Size(t.shape)}"


class Distribution:
    """A batch of probability distributions: shapes, sampling, densities and moments."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints = {}
    support = None
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument and sample checks on or off for every distribution made later."""
        Distribution._validate_args = bool(value)

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        for name, constraint in self.arg_constraints.items():
            if constraint is constraints.dependent:
                continue
            if name not in self.__dict__:
                continue   # probs or logits, whichever was not given; MVN's derived factor
            check_param(self, name, constraint, getattr(self, name))

    @property
    def batch_shape(self):
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one sample."""
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """Samples of shape sample_shape + batch_shape + event_shape, no gradient."""
        with grad_mode.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """Reparameterised samples: gradients flow to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample")

    def sample_n(self, n):
        """``n`` samples (deprecated in torch; sample((n,)))."""
        return self.sample((n,))

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        raise NotImplementedError

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError

    def icdf(self, value):
        """The inverse of cdf."""
        raise NotImplementedError

    def entropy(self):
        """The entropy of each distribution in the batch."""
        raise NotImplementedError

    def perplexity(self):
        """exp(entropy)."""
        return self.entropy().exp()

    @property
    def mean(self):
        """The mean."""
        raise NotImplementedError

    @property
    def mode(self):
        """The mode."""
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self):
        """The variance."""
        raise NotImplementedError

    @property
    def stddev(self):
        """The standard deviation."""
        return self.variance.sqrt()

    def expand(self, batch_shape, _instance=None):
        """A distribution with the same parameters broadcast to ``batch_shape``."""
        batch_shape = Size(batch_shape)
        new = copy.copy(self)
        new.__dict__ = dict(self.__dict__)
        old = len(self._batch_shape)
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and value.ndim >= old:
                new.__dict__[name] = value.expand(tuple(batch_shape) + tuple(value.shape[old:]))
        new._batch_shape = batch_shape
        return new

    def _validate_sample(self, value):
        if not self._validate_args:
            return
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event = tuple(self._event_shape)
        if event and tuple(value.shape[-len(event):]) != event:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {event}.")
        try:
            np.broadcast_shapes(tuple(value.shape), tuple(self._extended_shape()))
        except ValueError:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                             f"{tuple(value.shape)} vs {tuple(self._extended_shape())}."
                             ) from None
        if not bool(self.support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({self.support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {_fmt(self.__dict__[k])}" for k in names)
        return f"{type(self).__name__}({args})"
