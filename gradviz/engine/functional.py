"""``gv.add``, ``gv.cat``, ``gv.where`` ...: function forms of the Tensor ops."""
import numbers

from ..errors import GradvizError, ShapeError
from . import ops as O
from . import tensor_math, tensor_select
from . import tensor_extra  # sets its methods on Tensor, as the two above do
from . import tensor_index_more  # scatter_reduce, index_copy, index_put, masked_scatter
from . import tensor_linalg  # inverse, det ... matrix_exp (thin calls of gv.linalg)
from . import tensor_funcs  # meshgrid, hstack, searchsorted, cdist, tensordot ...
from . import tensor_complex  # real, imag, conj, angle (before the aliases' real-only conj)
from . import tensor_aliases  # byte, aminmax, asinh ..., and the other in-place forms
from . import tensor_specials  # erfc, polygamma, gcd, *_scatter, cov, trapezoid, windows ...
from . import numpy_names  # axis=/keepdims= as torch takes them
from . import tensor_methods as M
from .tensor import Tensor
from .tensor_shape import split_function


# binary ops whose first argument may be a Python number (torch: a weak, wrapped scalar)
_SCALAR_FIRST = {"add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "pow"}


def _fn(name):
    method = getattr(Tensor, name)
    scalar_first = name in _SCALAR_FIRST

    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            if scalar_first and args and isinstance(args[0], Tensor) \
                    and isinstance(input, numbers.Number):
                # the number takes the tensor's (promoted) dtype, as torch ranks it below
                # any tensor: gv.div(2.5, f16 tensor) is float16
                s, t = M._coerce(input, args[0])
                input = M._as_tensor(s, t).to(t.dtype)
            else:
                input = M._as_tensor(input)
        return method(input, *args, **kwargs)
    f.__name__ = name
    f.__doc__ = method.__doc__
    return f


_NAMES = ["add", "sub", "mul", "div", "true_divide", "pow", "matmul", "mm", "bmm", "neg", "abs",
          "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu",
          "clamp", "clip", "maximum", "minimum", "sum", "mean", "var", "std", "prod", "max",
          "min", "amax", "amin", "argmax", "argmin", "logsumexp", "softmax", "log_softmax",
          "cumsum", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
          "swapaxes", "t", "permute", "split", "chunk", "gather", "masked_fill", "eq", "ne",
          "lt", "le", "gt", "ge", "floor_divide", "remainder", "bitwise_and", "bitwise_or",
          "bitwise_xor", "bitwise_not"] + tensor_math.NAMES + tensor_select.NAMES
tensor_aliases.register()   # last: only the names no module above has set
tensor_specials.register()   # after it: fills only the names still missing
_NAMES += tensor_extra.NAMES + tensor_linalg.NAMES + tensor_index_more.NAMES
_NAMES += tensor_aliases.NAMES
globals().update({n: _fn(n) for n in _NAMES})
split = split_function  # torch.split(tensor, split_size_or_sections, dim): its own arg names
where = M.where
globals().update({n: getattr(tensor_funcs, n) for n in tensor_funcs.NAMES})
globals().update(tensor_specials.FUNCTIONS)
__all__ = _NAMES + tensor_funcs.NAMES + ["where", "cat", "concat", "stack", "numel",
                                         "is_tensor", "multiply", "subtract", "divide",
                                         "negative", "einsum"]
__all__ += list(tensor_specials.FUNCTIONS)
globals().update(tensor_complex.FUNCTIONS)
__all__ += list(tensor_complex.FUNCTIONS)
multiply, subtract, divide, negative = mul, sub, div, neg  # noqa: F821


def _same(tensors, what):
    tensors = [t if isinstance(t, Tensor) else M._as_tensor(t) for t in tensors]
    if not tensors:
        raise ShapeError(f"{what}(): expected a non-empty list of Tensors")
    first = tensors[0]
    out = [first]
    for t in tensors[1:]:
        a, b = M._coerce(first, t)
        out.append(b)
        if a is not first:
            first = a
            out = [x.to(first.dtype) for x in out]
    return out


def cat(tensors, dim=0):
    """Concatenate along an existing dim."""
    ts = _same(list(tensors), "cat")
    kept = [t for t in ts if t._data.shape != (0,)]
    if len(kept) != len(ts):
        # torch skips 1-D empty tensors (a legacy rule: they fit any shape, after taking
        # part in dtype promotion); all of them empty gives one of them, along dim 0
        if not kept:
            kept, dim = ts[:1], 0
        ts = kept
    nd = ts[0].ndim
    if nd == 0:
        raise ShapeError("zero-dimensional tensor (at position 0) cannot be concatenated; "
                         "use gv.stack")
    for t in ts:
        if t.ndim != nd:
            raise ShapeError("Tensors must have same number of dimensions: got "
                             f"{nd} and {t.ndim}")
        for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)):
            if i != dim % nd and a != b:
                raise ShapeError(f"Sizes of tensors must match except in dimension {dim}. "
                                 f"Expected size {b} but got size {a}")
    return O.Cat.apply(*ts, dim=dim)


concat = cat


def stack(tensors, dim=0):
    """Stack along a new dim."""
    ts = _same(list(tensors), "stack")
    for t in ts:
        if t.shape != ts[0].shape:
            raise ShapeError(f"stack expects each tensor to be equal size, but got "
                             f"{list(ts[0].shape)} and {list(t.shape)}")
    return O.Stack.apply(*ts, dim=dim)


def numel(input):
    """Number of elements."""
    return input.numel()


def is_tensor(obj):
    """True for gradviz tensors."""
    return isinstance(obj, Tensor)


def einsum(equation, *operands):
    """Einstein summation over ``operands`` (``...`` broadcasts, the output may be implicit):
    one Einsum node whose gradient is an einsum per operand. Also torch's sublist form,
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if isinstance(equation, Tensor):
        equation, operands = tensor_funcs.einsum_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ShapeError("einsum(): must provide at least one operand")
    first = next((t for t in operands if isinstance(t, Tensor)), None)
    for t in operands:
        if isinstance(t, Tensor) and first is not None and t._data.dtype != first._data.dtype:
            # torch does not promote einsum's operands
            raise GradvizError(f"expected scalar type {_TORCH_NAMES.get(first.dtype.name)} "
                               f"but found {_TORCH_NAMES.get(t.dtype.name)}")
    return O.Einsum.apply(*_same(list(operands), "einsum"), equation=str(equation))


_TORCH_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}


# last, once every method and function is set: torch's numpy names (axis=, keepdims=)
_methods = numpy_names.wrapped(vars(Tensor))
for _name, _method in _methods.items():
    setattr(Tensor, _name, _method)
globals().update(numpy_names.wrapped(globals()))
# the function forms made by _fn hold the unwrapped method: wrap them as well
globals().update({n: numpy_names.accept_numpy_names(globals()[n]) for n in _NAMES
                  if n in _methods})
