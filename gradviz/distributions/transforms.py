"""Bijections between constrained spaces (torch.distributions.transforms' common part): each
transform maps x to y = t(x), inverts with ``t.inv(y)`` and gives log|dy/dx| as
``log_abs_det_jacobian(x, y)``, all as graphs of gv ops so gradients reach the parameters."""
import math
import numbers
from functools import reduce

import numpy as np

from ..engine.tensor import Tensor
from ..nn import functional as F
from . import constraints

__all__ = ["Transform", "ExpTransform", "AffineTransform", "SigmoidTransform", "TanhTransform",
           "SoftmaxTransform", "PowerTransform", "AbsTransform", "ComposeTransform",
           "identity_transform"]


def sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost dims (as torch's _sum_rightmost)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def _tiny_eps(x):
    return (1.1754943508222875e-38, 1.1920928955078125e-07) if x.dtype.itemsize == 4 else \
        (2.2250738585072014e-308, 2.220446049250313e-16)


class Transform:
    """An invertible map with a computable log|det Jacobian| (``bijective`` when exact)."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached_x_y = None, None

    @property
    def event_dim(self):
        """The event dims of domain and codomain, where they agree (deprecated in torch)."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform: ``t.inv(t(x)) == x``."""
        return _InverseTransform(self)

    @property
    def sign(self):
        """+1 or -1: whether the (monotone) map increases or decreases."""
        raise NotImplementedError(f"{type(self).__name__} has no sign")

    def __call__(self, x):
        if not self._cache_size:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y):
        """The inverse at y; with cache_size=1, the x that last gave this very y."""
        if not self._cache_size:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old   # exact, even where the inverse is lossy (clamped sigmoid, ...)
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def log_abs_det_jacobian(self, x, y):
        """log |dy/dx| at x (with y = t(x))."""
        raise NotImplementedError(f"{type(self).__name__} has no log_abs_det_jacobian")

    def forward_shape(self, shape):
        """The shape of t(x) for x of ``shape``."""
        return tuple(shape)

    def inverse_shape(self, shape):
        """The shape of t.inv(y) for y of ``shape``."""
        return tuple(shape)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __repr__(self):
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """The inverse of a transform; its inverse is the original."""

    def __init__(self, transform):
        super().__init__()
        self._inv = transform

    domain = property(lambda self: self._inv.codomain)
    codomain = property(lambda self: self._inv.domain)
    bijective = property(lambda self: self._inv.bijective)
    sign = property(lambda self: self._inv.sign)
    inv = property(lambda self: self._inv, doc="The original transform.")

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        """-log|dx/dy| of the original at (y, x)."""
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        """The original's inverse_shape."""
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        """The original's forward_shape."""
        return self._inv.forward_shape(shape)

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self):
        return f"_InverseTransform({self._inv!r})"


class _Stateless(Transform):
    """A transform without parameters: all instances are equal (as torch)."""

    bijective = True
    sign = 1

    def __eq__(self, other):
        return type(other) is type(self)

    __hash__ = object.__hash__


class ExpTransform(_Stateless):
    """y = exp(x)."""

    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        """x."""
        return x


class SigmoidTransform(_Stateless):
    """y = sigmoid(x), kept inside (0, 1) (clamped to [tiny, 1 - eps], as torch)."""

    codomain = constraints.unit_interval

    def _call(self, x):
        tiny, eps = _tiny_eps(x)
        return x.sigmoid().clamp(tiny, 1 - eps)

    def _inverse(self, y):
        tiny, eps = _tiny_eps(y)
        y = y.clamp(tiny, 1 - eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        """-softplus(-x) - softplus(x)."""
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(_Stateless):
    """y = tanh(x)."""

    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        """2 (log 2 - x - softplus(-2x)), stable for large |x|."""
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AbsTransform(_Stateless):
    """y = |x| (not injective: the inverse picks the non-negative root)."""

    bijective = False
    codomain = constraints.positive

    @property
    def sign(self):
        """Not monotone."""
        raise NotImplementedError("AbsTransform is not monotone")

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class SoftmaxTransform(_Stateless):
    """y = softmax(x) over the last dim (not injective; the inverse is log y)."""

    bijective = False
    domain = constraints.real_vector
    codomain = constraints.simplex

    @property
    def sign(self):
        """Not monotone."""
        raise NotImplementedError("SoftmaxTransform has no sign")

    def _call(self, x):
        probs = (x - x.amax(-1, keepdim=True)).exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()


def _shape_of(value):
    return tuple(value.shape) if isinstance(value, Tensor) else ()


class AffineTransform(Transform):
    """y = loc + scale x, with ``event_dim`` trailing dims per event."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def domain(self):
        """The reals, ``event_dim`` dims at a time."""
        return constraints.real if self._event_dim == 0 else \
            constraints.independent(constraints.real, self._event_dim)

    codomain = domain

    @property
    def event_dim(self):
        """The trailing dims per event."""
        return self._event_dim

    @property
    def sign(self):
        """sign(scale)."""
        if isinstance(self.scale, numbers.Real):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        """log|scale|, summed over the event dims, broadcast to x's batch shape."""
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Real):
            result = x.new_full(tuple(x.shape), math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self._event_dim:
            result = sum_rightmost(result, self._event_dim)
            shape = shape[:-self._event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        """shape broadcast with loc's and scale's."""
        return np.broadcast_shapes(tuple(shape), _shape_of(self.loc), _shape_of(self.scale))

    inverse_shape = forward_shape

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        for a, b in ((self.loc, other.loc), (self.scale, other.scale)):
            if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
                if a != b:
                    return False
            elif not bool((_as_array(a) == _as_array(b)).all()):
                return False
        return self._event_dim == other._event_dim

    __hash__ = object.__hash__

    def __repr__(self):
        return f"AffineTransform(loc={self.loc}, scale={self.scale})"


def _as_array(v):
    return v.detach().cpu().numpy() if isinstance(v, Tensor) else np.asarray(v)


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals."""

    bijective = True
    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size)
        self.exponent = exponent

    @property
    def sign(self):
        """sign(exponent)."""
        e = self.exponent
        return e.sign() if isinstance(e, Tensor) else (1 if e > 0 else -1 if e < 0 else 0)

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        """log|exponent y / x|."""
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        """shape broadcast with the exponent's."""
        return np.broadcast_shapes(tuple(shape), _shape_of(self.exponent))

    inverse_shape = forward_shape

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and bool(
            (_as_array(self.exponent) == _as_array(other.exponent)).all())

    __hash__ = object.__hash__


class ComposeTransform(Transform):
    """parts[-1](... parts[0](x)): applied left to right; log-dets add up."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @property
    def domain(self):
        """The first part's domain, with as many event dims as the whole chain needs."""
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @property
    def codomain(self):
        """The last part's codomain, with as many event dims as the whole chain needs."""
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def bijective(self):
        """Every part is."""
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        """The product of the parts' signs."""
        return reduce(lambda a, b: a * b, (p.sign for p in self.parts), 1)

    @property
    def inv(self):
        """The parts' inverses in reverse order."""
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def __call__(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y):
        return self.inv(y)

    def log_abs_det_jacobian(self, x, y):
        """The sum of the parts' log-dets, each summed over the dims the chain adds."""
        if not self.parts:
            return x.new_zeros(tuple(x.shape))
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        total, event_dim = 0, self.domain.event_dim
        for part, a, b in zip(self.parts, xs[:-1], xs[1:]):
            total = total + sum_rightmost(part.log_abs_det_jacobian(a, b),
                                          event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return total

    def forward_shape(self, shape):
        """Each part's forward_shape in turn."""
        for part in self.parts:
            shape = part.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape):
        """Each part's inverse_shape, last part first."""
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self):
        return "ComposeTransform(" + ", ".join(repr(p) for p in self.parts) + ")"


identity_transform = ComposeTransform([])
