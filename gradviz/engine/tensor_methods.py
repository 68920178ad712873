"""Tensor's op methods: each is a thin call of one Function class (torch's names and args)."""
import numbers

import numpy as np

from ..errors import BackwardError, GradvizError, ShapeError
from . import dtypes, grad_mode
from . import ops as O
from .backend import xp_of
from .function import apply_binary as _apply2
from .function import apply_unary as _apply1
from .ops.linalg import check_product_dtypes
from .tensor import Tensor

_FLOAT_KINDS = "f"


_NARROW_INT = {np.dtype(d): (np.iinfo(d).min, np.iinfo(d).max)
               for d in (np.uint8, np.int8, np.int16, np.int32)}


def _coerce(a, b):
    """Promote two operands as torch does; returns (a, b) as tensors or Python scalars."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        target = dtypes.result_type(a._data, b._data)
        return (a if da == target.np else a.to(target)), (b if db == target.np else b.to(target))
    t, s = (a, b) if ta else (b, a)
    if isinstance(s, Tensor) or not isinstance(s, (numbers.Number, np.generic)):
        s = _as_tensor(s, t)
        return _coerce(a if ta else s, s if ta else b)
    kind = t._data.dtype.kind
    if isinstance(s, (bool, np.bool_)):
        s = bool(s)
    elif isinstance(s, numbers.Integral):
        s = int(s)
        if kind != "b":
            if kind != "f":
                lim = _NARROW_INT.get(t._data.dtype)
                if lim is not None and not lim[0] <= s <= lim[1]:
                    # torch casts the number to the tensor's dtype (wrapping around, u8 - 3
                    # is u8 + 253); NumPy 2 raises OverflowError instead
                    s = int(np.array(s).astype(t._data.dtype))
            return (a, s) if ta else (s, b)
    elif isinstance(s, numbers.Real):
        s = float(s)
        if kind in "fc":
            return (a, s) if ta else (s, b)
    elif isinstance(s, numbers.Complex):
        s = complex(s)
        if kind == "c":
            return (a, s) if ta else (s, b)
    else:
        raise GradvizError(f"unsupported operand {s!r}")
    target = dtypes.result_type(t._data, s)
    if t._data.dtype != target.np:
        t = t.to(target)
    return (t, s) if ta else (s, t)


def _as_tensor(x, like=None):
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if like is not None and type(like._data) is not np.ndarray:
        from .backend import move
        arr = move(arr, like.device)
    if arr.dtype == np.float64 and not isinstance(x, np.ndarray):
        arr = arr.astype(dtypes.get_default_dtype().np)
    return Tensor._wrap(arr)


def _binary(cls, a, b):
    # fast path: two tensors of one dtype need no promotion
    if type(b) is Tensor and type(a) is Tensor and a._data.dtype is b._data.dtype:
        return _apply2(cls, a, b)
    a, b = _coerce(a, b)
    return cls.apply(a, b)


def _binary_method(cls):
    """``Tensor.__add__``-style operator calling ``cls`` (the fast path of _binary inlined)."""
    apply = cls.apply

    def op(a, b):
        if type(b) is Tensor and type(a) is Tensor and a._data.dtype is b._data.dtype:
            return _apply2(cls, a, b)
        a, b = _coerce(a, b)
        return apply(a, b)
    return op


def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


# ---- arithmetic ---------------------------------------------------------------------------
def add(self, other, alpha=1):
    """self + alpha * other."""
    if alpha != 1:
        other = other * alpha
    return _binary(O.Add, self, other)


def sub(self, other, alpha=1):
    """self - alpha * other."""
    if alpha != 1:
        other = other * alpha
    return _sub(self, other)


def _is_bool(x):
    return isinstance(x, (bool, np.bool_)) or isinstance(x, Tensor) and x._data.dtype == np.bool_


def _sub(a, b):
    """a - b: ``_binary(O.Sub ...)`` that refuses a bool operand as torch does (after
    promotion NumPy would subtract it silently; bool - bool NumPy refuses itself)."""
    if type(b) is Tensor and type(a) is Tensor and a._data.dtype is b._data.dtype:
        return _apply2(O.Sub, a, b)
    if _is_bool(a) or _is_bool(b):
        raise GradvizError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    a, b = _coerce(a, b)
    return O.Sub.apply(a, b)


def mul(self, other):
    """Elementwise product."""
    return _binary(O.Mul, self, other)


def div(self, other, rounding_mode=None):
    """True division (integer inputs give the default float, as torch)."""
    if rounding_mode is not None:
        return _div_rounded(self, other, rounding_mode)
    a, b = self, other
    if not _is_float(a) and not _is_float(b):   # int / int: the default float, as torch
        if isinstance(a, Tensor):
            a = a.to(dtypes.get_default_dtype())
        else:
            b = b.to(dtypes.get_default_dtype())
    return _binary(O.Div, a, b)


def _is_float(x):
    return isinstance(x, (float, complex)) or isinstance(x, Tensor) and x._data.dtype.kind in "fc"


def _values(x):
    return x._data if isinstance(x, Tensor) else x


def _int_divisor(fname, a, b):
    """Refuse what NumPy would silently turn into garbage: an integer divisor of zero (torch
    raises ZeroDivisionError) and bool operands (torch has no bool kernel). Returns whether
    the promoted operands are integers (False for floats, which give inf/nan as torch)."""
    kind = (a if isinstance(a, Tensor) else b)._data.dtype.kind
    if kind == "f":
        return False
    if kind == "b":
        raise GradvizError(f'"{fname}" is not implemented for bool tensors; convert them '
                           "with .long() first")
    y = _values(b)
    if bool((y == 0).any()) if hasattr(y, "shape") else y == 0:
        raise GradvizError(f"ZeroDivisionError: integer {fname} by zero (an integer tensor "
                           "has no inf or nan to give); check the divisor or use float "
                           "tensors")
    return True


def _div_rounded(self, other, rounding_mode, op_mode=None):
    """``div(rounding_mode='floor'|'trunc')`` and ``//``: a zero gradient, as torch."""
    if rounding_mode not in ("floor", "trunc"):
        raise GradvizError(f"rounding_mode must be None, 'floor' or 'trunc', "
                           f"not {rounding_mode!r}")
    a, b = _coerce(self, other)
    x, y = _values(a), _values(b)
    if _int_divisor(f"div_{rounding_mode}", a, b):
        # exact in the integers (float division loses int64 digits and turns x // 0 into
        # garbage); trunc = floor plus one where the quotient is negative and inexact
        q = x // y
        if rounding_mode == "trunc":
            q = q + ((x % y != 0) & ((x < 0) != (y < 0)))
        return Tensor._wrap(q)
    # a Function (not a constant) so the result joins the graph with torch's zero gradient
    return O.DivRounded.apply(a, b, mode=op_mode or rounding_mode)


def floor_divide(self, other):
    """self // other, rounded down (``torch.floor_divide``; like torch, no derivative)."""
    return _div_rounded(self, other, "floor", "floor_divide")


def remainder(self, other):
    """Python's modulus, with the sign of the divisor (``torch.remainder``, ``%``)."""
    a, b = _coerce(self, other)
    if _int_divisor("remainder", a, b):
        return Tensor._wrap(_values(a) % _values(b))
    if not (grad_mode.enabled and (getattr(a, "requires_grad", False)
                                   or getattr(b, "requires_grad", False))):
        return Tensor._wrap(_values(a) % _values(b))  # exact, as torch's kernel
    # a - b * floor(a / b) with the quotient a constant gives torch's gradients (1 and
    # -floor(a / b)) from existing ops (values within rounding of the exact remainder)
    return a - b * Tensor._wrap(_values(a) // _values(b))


def pow(self, exponent):
    """self ** exponent (tensor or number)."""
    if self._data.dtype.kind == "b":
        return _bool_pow(self, exponent)
    return _binary(O.Pow, self, exponent)


def rpow(self, base):
    if self._data.dtype.kind == "b":
        return _bool_pow(base, self)
    return _binary(O.Pow, base, self)


def _bool_pow(a, b):
    """torch has no bool ** bool kernel; a bool tensor ** a Python bool stays bool."""
    if _is_bool(a) and _is_bool(b):
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            raise GradvizError('"pow" not implemented for \'Bool\'')
        t, s = (a, b) if isinstance(a, Tensor) else (b, a)
        if t is b:   # True ** t is 1, False ** t is not t (0 ** 0 = 1)
            raise GradvizError('"pow" not implemented for \'Bool\'')
        return t.clone() if s else Tensor._wrap(xp_of(t._data).ones_like(t._data))
    return _binary(O.Pow, a, b)


def matmul(self, other):
    """Matrix product with torch's rules for 1-D and batched operands."""
    if not isinstance(other, Tensor):
        other = _as_tensor(other, self)
    x, y = self._data, other._data
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError("both arguments to matmul need to be at least 1D")
    if x.dtype is y.dtype:
        a, b = self, other
    else:
        check_product_dtypes(x, y)   # torch promotes no complex operand here: it refuses
        a, b = _coerce(self, other)
        x, y = a._data, b._data
    ka = x.shape[-1]
    sb = y.shape
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied "
                         f"({'x'.join(map(str, a.shape))} and {'x'.join(map(str, b.shape))})")
    return _apply2(O.Matmul, a, b)


def mm(self, other):
    """2-D matrix product."""
    if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
        raise ShapeError("mm expects two 2-D tensors")
    return matmul(self, other)


def bmm(self, other):
    """Batched (3-D) matrix product."""
    if self.ndim != 3 or getattr(other, "ndim", 0) != 3:
        raise ShapeError("bmm expects two 3-D tensors")
    if self.shape[0] != other.shape[0]:
        raise ShapeError("bmm expects the same batch size")
    out = matmul(self, other)
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "BmmBackward0"   # torch.bmm's node (matmul's: UnsafeView)
    return out


def _unary(cls):
    def method(self):
        x = self if self._data.dtype.kind in "fc" else self.to(dtypes.get_default_dtype())
        return cls.apply(x)
    method.__name__ = cls.__name__.lower()
    method.__doc__ = f"Elementwise {cls.__name__.lower()} ({cls.rule})."
    return method


def _scalar_or_tensor(x, like):
    """A reflected operator's left operand: Python numbers stay scalars (torch's promotion
    ranks them below any tensor), anything else becomes a tensor."""
    if isinstance(x, (numbers.Number, np.generic)):
        return x
    return _as_tensor(x, like)


def _pos(self):
    """+self: the same values (a new tensor sharing memory), as torch.positive."""
    if self._data.dtype == np.bool_:
        raise GradvizError("The `+` operator, on a bool tensor is not supported.")
    return self.positive()


def neg(self):
    """-self."""
    try:
        return O.Neg.apply(self)
    except TypeError:   # NumPy refuses bool negation too, with its own words
        if self._data.dtype != np.bool_:
            raise
    raise GradvizError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                       "are trying to invert a mask, use the `~` or `logical_not()` operator "
                       "instead.")


def not_for_bool(self, kernel):
    """Refuse a bool tensor as torch does (NumPy would compute something)."""
    if self._data.dtype == np.bool_:
        raise GradvizError(f'"{kernel}" not implemented for \'Bool\'')


def abs(self):
    """|self|."""
    if self._data.dtype.kind != "f":
        not_for_bool(self, "abs_cpu")
    return O.Abs.apply(self)


def relu(self):
    """max(self, 0)."""
    return _apply1(O.Relu, self)


# int_bounds and where are imported from here by other modules (tensor_inplace, nn.functional)
from .tensor_compare import (_compare, _compare_operator, bitwise_and,  # noqa: E402,F401
                             bitwise_not, bitwise_or, bitwise_xor, clamp,
                             int_bounds, masked_fill, maximum, minimum, where,
                             where_method)
from .tensor_reduce import (amax, amin, argmax, argmin, cumsum, log_softmax,  # noqa: E402
                            logsumexp, max, mean, min, prod, softmax, std, sum, var)
from .tensor_shape import (chunk, expand, expand_as, flatten, gather,  # noqa: E402
                           getitem, permute, repeat, reshape, reshape_as, split, squeeze, t,
                           transpose, unflatten, unsqueeze, view, view_as)
from .tensor_inplace import (add_, clamp_, copy_, div_, fill_, mul_, setitem,  # noqa: E402
                             sub_, zero_)

swapaxes = transpose


_METHODS = {
    "add": add, "sub": sub, "mul": mul, "div": div, "true_divide": div, "pow": pow,
    "matmul": matmul, "mm": mm, "bmm": bmm, "neg": neg, "abs": abs, "relu": relu,
    "exp": _unary(O.Exp), "log": _unary(O.Log), "log1p": _unary(O.Log1p),
    "sqrt": _unary(O.Sqrt), "rsqrt": _unary(O.Rsqrt), "sin": _unary(O.Sin),
    "cos": _unary(O.Cos), "tanh": _unary(O.Tanh), "sigmoid": _unary(O.Sigmoid),
    "clamp": clamp, "clip": clamp, "maximum": maximum, "minimum": minimum,
    "masked_fill": masked_fill, "where": where_method, "sum": sum, "mean": mean, "var": var,
    "std": std, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin,
    "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "cumsum": cumsum,
    "reshape": reshape, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "transpose": transpose, "swapaxes": swapaxes, "t": t, "permute": permute, "expand": expand,
    "expand_as": expand_as, "repeat": repeat, "split": split, "chunk": chunk, "gather": gather,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "zero_": zero_, "fill_": fill_,
    "copy_": copy_, "clamp_": clamp_,
    "floor_divide": floor_divide, "remainder": remainder, "bitwise_and": bitwise_and,
    "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
    "eq": _compare("eq"), "ne": _compare("ne"), "lt": _compare("lt"), "le": _compare("le"),
    "gt": _compare("gt"), "ge": _compare("ge"),
    "__getitem__": getitem, "__setitem__": setitem,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.__add__ = Tensor.__radd__ = _binary_method(O.Add)
Tensor.__sub__ = _sub
Tensor.__rsub__ = lambda a, b: _sub(b, a)
Tensor.__mul__ = Tensor.__rmul__ = _binary_method(O.Mul)
Tensor.__truediv__ = lambda a, b: div(a, b)
# a Python number stays a scalar (a 0-d float32 tensor would outrank a float16 one)
Tensor.__rtruediv__ = lambda a, b: div(_scalar_or_tensor(b, a), a)
Tensor.__pow__ = lambda a, b: pow(a, b)
Tensor.__rpow__ = lambda a, b: rpow(a, b)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda a, b: matmul(_as_tensor(b, a), a)
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__eq__ = _compare_operator("eq")
Tensor.__ne__ = _compare_operator("ne")
Tensor.__lt__ = _compare_operator("lt")
Tensor.__le__ = _compare_operator("le")
Tensor.__gt__ = _compare_operator("gt")
Tensor.__ge__ = _compare_operator("ge")


def _format(t, spec):
    """``f"{loss:.4f}"``: a 0-d tensor formats as its number (``f"{t}"`` too, as torch);
    any other tensor as its repr, with no format spec."""
    if t._data.ndim == 0:
        return t.item().__format__(spec)
    return object.__format__(t, spec)


def _inplace_or_new(inplace, outplace):
    """``a += b``: in place when no graph is involved, else a new graph node that ``a`` is
    rebound to (the same values and gradients as torch's in-place op; also for a view,
    ``buf[i] += x``, whose ``buf[i] = ...`` that Python runs next then joins the graph)."""
    def method(a, b):
        if grad_mode.enabled and (a.grad_fn is not None or not a._requires_grad and (
                isinstance(b, Tensor) and b._requires_grad)):
            return outplace(a, b)   # (a leaf that requires grad: in place refuses it)
        return inplace(a, b)
    return method


Tensor.__iadd__ = _inplace_or_new(add_, lambda a, b: _binary(O.Add, a, b))
Tensor.__isub__ = _inplace_or_new(sub_, lambda a, b: _binary(O.Sub, a, b))
Tensor.__imul__ = _inplace_or_new(mul_, lambda a, b: _binary(O.Mul, a, b))
Tensor.__itruediv__ = _inplace_or_new(div_, div)
Tensor.__format__ = lambda t, spec: _format(t, spec)
Tensor.__hash__ = object.__hash__  # identity, as before; C-level for dict lookups
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = lambda a, b: floor_divide(_scalar_or_tensor(b, a), a)
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda a, b: remainder(_scalar_or_tensor(b, a), a)
Tensor.__pos__ = _pos
Tensor.__invert__ = bitwise_not
# commutative, and _coerce promotes whichever side the tensor is on: no reflected twins
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
