"""A NumPy-shaped namespace over Tensors, so one backward formula serves twice.

Backward formulas are written against ``ctx.xp``. Normally that is NumPy (or
CuPy) and they compute plain arrays; under ``create_graph=True`` the engine
passes this module instead, the same formulas then build a graph, and
higher-order gradients come for free.
"""
from . import functional as F
from . import ops as O
from . import tensor_methods as M
from .tensor import Tensor

differentiable = True   # formulas check this to pick a graph-building path

# the device of the node whose backward runs (set by autograd around it): the constants a
# formula makes (zeros, eye) go there, so a double backward on CUDA does not mix devices
DEVICE = [None]




def _t(x):
    return x if isinstance(x, Tensor) else M._as_tensor(x)


def sum(a, axis=None, keepdims=False):
    return M.sum(_t(a), dim=axis, keepdim=keepdims)


def mean(a, axis=None, keepdims=False):
    return M.mean(_t(a), dim=axis, keepdim=keepdims)


def reshape(a, shape):
    return M.reshape(_t(a), tuple(shape))


def broadcast_to(a, shape):
    return M.expand(_t(a), tuple(shape))


def swapaxes(a, d0, d1):
    return M.transpose(_t(a), d0, d1)


def transpose(a, axes):
    return M.permute(_t(a), tuple(axes))


def expand_dims(a, axis):
    return M.unsqueeze(_t(a), axis)


def squeeze(a, axis):
    return M.squeeze(_t(a), axis)


def matmul(a, b):
    return M.matmul(_t(a), b)


def where(cond, a, b):
    return M.where(cond, a, b)


def maximum(a, b):
    return M.maximum(_t(a), b)


def minimum(a, b):
    return M.minimum(_t(a), b)


def sign(a):
    a = _t(a)
    return M.where(a > 0, 1.0, 0.0) - M.where(a < 0, 1.0, 0.0)


def astype(a, dtype):
    return _t(a).to(dtype)


def exp(a):
    return _t(a).exp()


def log(a):
    return _t(a).log()


def sqrt(a):
    return _t(a).sqrt()


def sin(a):
    return _t(a).sin()


def cos(a):
    return _t(a).cos()


def tanh(a):
    return _t(a).tanh()


def abs(a):
    return _t(a).abs()


def flip(a, axis):
    a = _t(a)
    idx = [slice(None)] * a.ndim
    for d in (axis,) if isinstance(axis, int) else axis:
        idx[d] = slice(None, None, -1)
    return a[tuple(idx)]


def cumsum(a, axis):
    return _t(a).cumsum(axis)


def cumprod(a, axis):
    return _t(a).cumprod(axis)


def prod(a, axis):
    return M.prod(_t(a), dim=axis)


def moveaxis(a, src, dst):
    a = _t(a)
    order = [i for i in range(a.ndim) if i != src % a.ndim]
    order.insert(dst % a.ndim, src % a.ndim)
    return M.permute(a, tuple(order))


def einsum(equation, *operands):
    from .functional import einsum as e
    return e(equation, *[_t(o) for o in operands])


def zeros(shape, dtype=None):
    from .creation import zeros as z
    return z(*shape, dtype=dtype, device=DEVICE[0])


def eye(n, m=None, dtype=None):
    from .creation import eye as e
    return e(n, m, dtype=dtype, device=DEVICE[0])


__all__ = ["sum", "mean", "reshape", "broadcast_to", "swapaxes", "transpose", "expand_dims",
           "squeeze", "matmul", "where", "maximum", "minimum", "sign", "astype", "exp", "log",
           "sqrt", "sin", "cos", "tanh", "abs", "flip", "cumsum", "zeros", "prod", "moveaxis",
           "einsum", "cumprod", "eye",
           "F", "O"]
