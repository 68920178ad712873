"""What values a parameter or a sample may take (torch.distributions.constraints' common part):
each constraint's ``check(value)`` is a bool tensor, its repr torch's."""
from ..engine.backend import xp_of
from ..engine.tensor import Tensor


class Constraint:
    """A set of allowed values; ``event_dim`` trailing dims are checked together."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """True where ``value`` lies in the set (one entry per event)."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items())
        return f"{type(self).__name__.lstrip('_')}({args})"


class _Dependent(Constraint):
    """Depends on other parameters: checked by the distribution, never here."""

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


class _Real(Constraint):
    def check(self, value):
        return value == value   # False only at NaN


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return value > self.lower_bound


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return value >= self.lower_bound


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        return super().check(value) & (value % 1 == 0)


class _IntegerGreaterThan(_GreaterThan):
    is_discrete = True

    def check(self, value):
        return (value >= self.lower_bound) & (value % 1 == 0)


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(dim=-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        return ((value == 0) | (value == 1)).all(dim=-1) & (value.sum(-1) == 1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        lower = (value.tril() == value).all(dim=-1).all(dim=-1)
        return lower & (value.diagonal(dim1=-2, dim2=-1) > 0).all(dim=-1)


class _PositiveDefinite(Constraint):
    event_dim = 2

    def check(self, value):
        """Symmetric (to 1e-6, relative) with all eigenvalues above 0, per matrix."""
        data = value.detach()._data
        xp = xp_of(data)
        sym = xp.all(xp.abs(data - xp.swapaxes(data, -1, -2)) <= 1e-6 * (1 + xp.abs(data)),
                     axis=(-2, -1))
        return Tensor._wrap(sym & xp.all(xp.linalg.eigvalsh(data) > 0, axis=-1))


class _Independent(Constraint):
    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete
        self.event_dim = base_constraint.event_dim + reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base_constraint.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            ok = ok.all(dim=-1)
        return ok


class _RealVector(_Independent):
    def __init__(self):
        super().__init__(real, 1)

    def __repr__(self):
        return "IndependentConstraint(Real(), 1)"


dependent = _Dependent()
real = _Real()
boolean = _Boolean()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
nonnegative_integer = _IntegerGreaterThan(0)
simplex = _Simplex()
one_hot = _OneHot()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
real_vector = _RealVector()
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
independent = _Independent
__all__ = ["Constraint", "dependent", "real", "boolean", "positive", "nonnegative",
           "unit_interval", "nonnegative_integer", "simplex", "one_hot", "lower_cholesky",
           "positive_definite", "real_vector", "greater_than", "greater_than_eq", "less_than",
           "interval", "integer_interval", "independent"]
