"""Tensor reductions: sum, mean, var/std, prod, max/min, softmax and friends."""
import collections

import numpy as np

from ..errors import DimError, GradvizError
from . import dtypes
from . import ops as O
from .ops.util import norm_dims
from .tensor import Tensor

_RESULTS = {}   # op name -> its (values, indices) named tuple type


def values_indices(values, indices, name="values_indices"):
    """``(values, indices)`` as torch's ``torch.return_types.<name>``: a named tuple that
    prints as torch's does (``gradviz.return_types.max(values=..., indices=...)``)."""
    cls = _RESULTS.get(name)
    if cls is None:
        base = collections.namedtuple(name, ["values", "indices"])
        cls = _RESULTS[name] = type(name, (base,), {
            "__slots__": (), "__module__": "gradviz.return_types",
            "__repr__": lambda self: (f"gradviz.return_types.{name}(\nvalues={self.values!r},"
                                      f"\nindices={self.indices!r})")})
    return cls(values, indices)


def _refuse_empty(fname, x, dim, no_dim_error=GradvizError):
    """torch's errors for max/min-like reductions of an empty tensor, which have no value to
    return: with no dim, or along a zero-size dim (only called when ``x`` is empty)."""
    if dim is None or dim == ():
        raise no_dim_error(f"{fname}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")
    for d in norm_dims(dim, x.ndim):
        if x._data.shape[d] == 0:
            raise DimError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")


def _float(self):
    return self if self._data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())


def _accumulator(self, dtype):
    """The input of sum/prod/cumsum/cumprod: ``dtype`` when given, else bool and integer
    tensors as int64 (torch's accumulator; NumPy would give uint64 for uint8)."""
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(dtypes.int64)
    return x


def sum(self, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (all when None)."""
    return O.Sum.apply(_accumulator(self, dtype), dim=dim, keepdim=keepdim)


def mean(self, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim``."""
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind not in "fc":
        raise GradvizError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype.name}")
    return O.Mean.apply(x, dim=dim, keepdim=keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def _floating(self):
    if self._data.dtype.kind not in "fc":
        raise GradvizError("std and var only support floating point and complex dtypes")
    return self


def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance (Bessel's correction by default, as torch)."""
    return O.Var.apply(_floating(self), dim=dim, correction=_correction(unbiased, correction),
                       keepdim=keepdim)


def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """Standard deviation (Bessel's correction by default)."""
    return O.Std.apply(_floating(self), dim=dim, correction=_correction(unbiased, correction),
                       keepdim=keepdim)


def prod(self, dim=None, keepdim=False, dtype=None):
    """Product over ``dim`` (all when None)."""
    return O.Prod.apply(_accumulator(self, dtype), dim=dim, keepdim=keepdim)


def _extreme(self, dim, keepdim, name, pairwise, whole, along):
    """max/min: of everything, ``(values, indices)`` along one dim, or elementwise with a
    tensor (``pairwise``)."""
    if isinstance(dim, Tensor):
        return pairwise(self, dim)
    if not self._data.size:
        _refuse_empty(name, self, dim)
    if dim is None:
        return whole.apply(self)
    if not isinstance(dim, int):
        raise GradvizError(f"{name}(): dim must be one int (use amax/amin for several dims), "
                           f"not {dim!r}")
    values = along.apply(self, dim=dim, keepdim=keepdim)
    if values.grad_fn is not None:
        indices = values.grad_fn.out_indices
    else:
        indices = getattr(self._data, along.pick)(axis=dim, keepdims=keepdim)
    return values_indices(values, Tensor._wrap(indices), name)


def max(self, dim=None, keepdim=False):
    """max() → the largest value; max(dim) → (values, indices); max(other) → maximum."""
    return _extreme(self, dim, keepdim, "max", Tensor.maximum, O.Amax, O.MaxDim)


def min(self, dim=None, keepdim=False):
    """min() → the smallest value; min(dim) → (values, indices); min(other) → minimum."""
    return _extreme(self, dim, keepdim, "min", Tensor.minimum, O.Amin, O.MinDim)


def amax(self, dim=(), keepdim=False):
    """Max over ``dim`` (all when empty); ties share the gradient."""
    if not self._data.size:
        _refuse_empty("amax", self, dim)
    return O.Amax.apply(self, dim=None if dim == () else dim, keepdim=keepdim)


def amin(self, dim=(), keepdim=False):
    """Min over ``dim`` (all when empty); ties share the gradient."""
    if not self._data.size:
        _refuse_empty("amin", self, dim)
    return O.Amin.apply(self, dim=None if dim == () else dim, keepdim=keepdim)


def argmax(self, dim=None, keepdim=False):
    """Index of the max (flattened when dim is None)."""
    if not self._data.size:
        _refuse_empty("argmax", self, dim, no_dim_error=DimError)
    if self._data.dtype.kind == "b":
        raise GradvizError("argmax(): does not support bool input")
    return O.Argmax.apply(self, dim=dim, keepdim=keepdim)


def argmin(self, dim=None, keepdim=False):
    """Index of the min (flattened when dim is None)."""
    if not self._data.size:
        _refuse_empty("argmin", self, dim, no_dim_error=DimError)
    if self._data.dtype.kind == "b":
        raise GradvizError("argmin(): does not support bool input")
    return O.Argmin.apply(self, dim=dim, keepdim=keepdim)


def logsumexp(self, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed stably."""
    return O.Logsumexp.apply(_float(self), dim=dim, keepdim=keepdim)


def softmax(self, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    x = _float(self) if dtype is None else self.to(dtype)
    return O.Softmax.apply(x, dim=dim)


def log_softmax(self, dim, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    x = _float(self) if dtype is None else self.to(dtype)
    return O.LogSoftmax.apply(x, dim=dim)


def cumsum(self, dim, dtype=None):
    """Running sum along ``dim``."""
    return O.Cumsum.apply(_accumulator(self, dtype), dim=dim)


