"""Creation functions with torch's names: tensor, zeros, ones, rand, arange, eye ..."""
import numpy as np

from ..errors import GradvizError
from . import dtypes
from .backend import as_device, move
from .random import generator
from .tensor import Tensor


def _finish(arr, device, requires_grad):
    t = Tensor._wrap(move(arr, as_device(device)) if device is not None else arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _np_dtype(dtype, default=None):
    if dtype is None:
        return (default or dtypes.get_default_dtype()).np
    return dtypes.to_dtype(dtype).np


def _size_arg(fname, args, size):
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or torch's keyword form ``f(size=(2, 3))``."""
    if size is None:
        return _size(args)
    if args:
        raise TypeError(f"{fname}() got multiple values for argument 'size'")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'size' must be tuple of ints, "
                        f"not {type(size).__name__}")
    return _size(tuple(size))


def _float_only(fname, dtype):
    """torch samples rand/randn only into floating dtypes (it raises for Long, Bool...)."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise GradvizError(f'"{fname}" is not implemented for {d.name} tensors: it samples '
                           f"floating point values; pass a floating dtype (e.g. "
                           f"dtype=gradviz.float32)" + (" or use gv.randint for integers"
                                                        if d.name != "bool" else ""))


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        return tuple(int(s) for s in size)
    except TypeError:
        raise GradvizError(f"size must be ints, got {size!r}") from None


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (lists, numbers, arrays, tensors)."""
    if isinstance(data, Tensor):
        arr = np.array(move(data._data, as_device("cpu")))
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array([x.tolist() if isinstance(x, Tensor) else x for x in data])
    else:
        arr = np.array(data)
    if dtype is not None:
        arr = arr.astype(dtypes.to_dtype(dtype).np)
    elif arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic, Tensor)):
        arr = arr.astype(dtypes.get_default_dtype().np)  # Python floats → float32
    dtypes.from_numpy(arr.dtype)
    return _finish(arr, device, requires_grad)


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with ``data`` when it can."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if (dtype or device) else data
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array, both ways."""
    if not isinstance(ndarray, np.ndarray):
        raise GradvizError(f"from_numpy expects a numpy.ndarray, got {type(ndarray).__name__}")
    dtypes.from_numpy(ndarray.dtype)
    return Tensor._wrap(ndarray)


def zeros(*args, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros."""
    return _finish(np.zeros(_size_arg("zeros", args, size), _np_dtype(dtype)), device,
                   requires_grad)


def ones(*args, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return _finish(np.ones(_size_arg("ones", args, size), _np_dtype(dtype)), device,
                   requires_grad)


def empty(*args, size=None, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor (zeros here, for reproducibility)."""
    return zeros(_size_arg("empty", args, size), dtype=dtype, device=device,
                 requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value`` (dtype inferred from it, as torch)."""
    if dtype is None:
        dtype = dtypes.bool_ if isinstance(fill_value, bool) else (
            dtypes.int64 if isinstance(fill_value, int) else dtypes.get_default_dtype())
    return _finish(np.full(_size((size,)), fill_value, _np_dtype(dtype)), device, requires_grad)


def rand(*args, size=None, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) samples."""
    _float_only("rand", dtype)
    arr = generator().random(_size_arg("rand", args, size)).astype(_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def randn(*args, size=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    _float_only("randn", dtype)
    arr = generator().standard_normal(_size_arg("randn", args, size)).astype(_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def randint(low=None, high=None, size=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high) (``randint(high, size)`` and ``randint(high=h, size=s)`` too)."""
    if low is None:  # torch: low defaults to 0 when high is given by keyword
        if high is None:
            raise GradvizError("randint needs a high bound, e.g. gv.randint(0, 10, (3,))")
        low = 0
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise GradvizError("randint needs a size, e.g. gv.randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    arr = generator().integers(low, high, size=_size((size,))).astype(
        _np_dtype(dtype, dtypes.int64))
    return _finish(arr, device, requires_grad)


def randperm(n, dtype=None, device=None):
    """A random permutation of 0..n-1."""
    return _finish(generator().permutation(n).astype(_np_dtype(dtype, dtypes.int64)), device,
                   False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Evenly spaced values in [start, end)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        floaty = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if floaty else dtypes.int64
    return _finish(np.arange(start, end, step).astype(_np_dtype(dtype)), device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end inclusive."""
    return _finish(np.linspace(start, end, steps).astype(_np_dtype(dtype)), device,
                   requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """Identity matrix."""
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), device, requires_grad)


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                  requires_grad=requires_grad, **kw)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"{fn.__name__} with the shape (and dtype, device) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """``full`` with the shape (and dtype, device) of ``input``."""
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)
