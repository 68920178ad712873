"""Tensor's comparisons and bounds: eq ... ge (and ``==`` ... ``>=``, where ``t == None``
is False as in torch), bitwise ``& | ^ ~``, where / masked_fill, clamp (with torch's integer
bound rules), maximum and minimum: thin calls of Function classes (Compare, Where, MaskedFill,
Clamp, Maximum/Minimum), or for the bitwise ops plain array logic with no gradient.
tensor_methods.py sets them on Tensor with its other op methods."""
import numbers

import numpy as np

from ..errors import GradvizError
from . import dtypes
from . import ops as O
from .tensor import Tensor
# tensor_methods imports this module after defining these (its promotion rules)
from .tensor_methods import _NARROW_INT, _as_tensor, _binary, _coerce, _values


def clamp(self, min=None, max=None):
    """Limit values to [min, max]."""
    if min is None and max is None:
        raise GradvizError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # torch: self's gradient where min <= self <= max (ties included), a bound's where
        # it is the value; min > max gives max
        out = self
        if min is not None:
            out = where(out < min, min, out)
        if max is not None:
            out = where(out > max, max, out)
        return out
    if self._data.dtype.kind != "f":
        if isinstance(min, float) or isinstance(max, float):
            self = self.to(dtypes.get_default_dtype())  # torch: int tensor, float bound: f32
        else:
            min, max = int_bounds(self._data.dtype, min, max)
    return O.Clamp.apply(self, min=min, max=max)


_C_TYPES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int"}


def int_bounds(dtype, *bounds):
    """Integer bounds as torch casts them to an integer tensor's dtype: wrapped (u8: -3 is
    253; an unsigned type takes -max..max), refused outside the type."""
    lim = _NARROW_INT.get(dtype)
    if lim is None:
        return bounds
    lo, hi = (-lim[1], lim[1]) if lim[0] == 0 else lim
    out = []
    for b in bounds:
        if isinstance(b, numbers.Integral) and not isinstance(b, (bool, np.bool_)):
            if not lo <= b <= hi:
                raise GradvizError(f"value cannot be converted to type {_C_TYPES[dtype.name]} "
                                   "without overflow")
            b = int(np.array(b).astype(dtype))
        out.append(b)
    return tuple(out)


def maximum(self, other):
    """Elementwise maximum (ties split the gradient)."""
    return _binary(O.Maximum, self, other)


def minimum(self, other):
    """Elementwise minimum (ties split the gradient)."""
    return _binary(O.Minimum, self, other)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other`` (broadcasting); ``where(condition)`` is
    the tuple of indices where it holds, as torch."""
    if input is None and other is None:
        cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in cond.nonzero())
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _as_tensor(input)
    a, b = _coerce(input, other)
    return O.Where.apply(cond, a, b)


def where_method(self, condition, other):
    """``self`` where ``condition`` else ``other`` (``Tensor.where``, as torch)."""
    return where(condition, self, other)


def masked_fill(self, mask, value):
    """Replace values where ``mask`` is true."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise GradvizError(f"masked_fill only supports boolean masks, but got mask with dtype "
                           f"{m.dtype}")
    if isinstance(value, Tensor):
        value = value.item()
    return O.MaskedFill.apply(self, m, value=value)


def _compare(op):
    def method(self, other):
        a, b = _coerce(self, other)
        return O.Compare.apply(a, b, op=op)
    method.__name__ = op
    method.__doc__ = f"Elementwise {op} (a bool tensor, no gradient)."
    return method


def _compare_operator(op):
    """``t == other`` and friends: ``_compare``, but ``t == None`` is False and ``t != None``
    True (Python's identity fallback), as torch, instead of an error."""
    method = _compare(op)

    def operator(self, other):
        return NotImplemented if other is None else method(self, other)
    operator.__name__ = f"__{op}__"
    return operator


def _bitwise(name, fn):
    """``& | ^`` on bool and integer tensors, promoted as torch (no gradient: no floats)."""
    def method(self, other):
        a, b = _coerce(self, other)
        if (a if isinstance(a, Tensor) else b)._data.dtype.kind == "f":
            raise GradvizError(f'"bitwise_{name}" is not implemented for floating point '
                               "tensors; use bool or integer tensors")
        return Tensor._wrap(fn(_values(a), _values(b)))
    method.__name__ = f"bitwise_{name}"
    method.__doc__ = f"Elementwise bitwise (logical, for bool) {name}; no gradient."
    return method


def bitwise_not(self):
    """~self for bool and integer tensors (logical not for bool)."""
    if self._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor._wrap(~self._data)


bitwise_and = _bitwise("and", lambda x, y: x & y)
bitwise_or = _bitwise("or", lambda x, y: x | y)
bitwise_xor = _bitwise("xor", lambda x, y: x ^ y)
