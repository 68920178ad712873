"""Creation functions with torch's names: tensor, zeros, ones, rand, arange, eye ..."""
import numpy as np

from ..errors import GradvizError, ShapeError
from . import dtypes
from .backend import as_device, move, xp_of
from .ops.convert import axis_order, in_axis_order, laid_out
from .random import draws
from .random import generator as _rng
from .tensor import Size, Tensor


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
    """A new tensor holding a copy of ``data`` (lists, numbers, arrays, tensors); its dtype is
    inferred as torch's: Python floats take the default dtype, NumPy scalars keep theirs."""
    target = dtypes.to_dtype(dtype) if dtype is not None else dtypes.infer_dtype(data)
    if isinstance(data, Tensor):
        arr = np.array(move(data._data, as_device("cpu")))
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array(_lists(data))
    else:
        arr = np.array(data)
    if arr.dtype != target.np:
        if arr.dtype.kind == "c" and target.np.kind != "c":   # as torch: never drop imag
            raise TypeError(f"cannot make a {target.name} tensor of complex data")
        arr = arr.astype(target.np)
    return _finish(arr, device, requires_grad)


def _lists(data):
    """Nested lists with tensors replaced by their values (lists or numbers)."""
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_lists(x) for x in data]
    return data


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


def empty(*args, size=None, dtype=None, device=None, requires_grad=False, memory_format=None):
    """An uninitialised tensor (zeros here, for reproducibility), laid out in
    ``memory_format`` (``gv.channels_last`` ...) when given."""
    out = zeros(_size_arg("empty", args, size), dtype=dtype, device=device,
                requires_grad=requires_grad)
    if memory_format is not None and memory_format.name == "preserve_format":
        raise GradvizError("unsupported memory format Preserve: empty() has no tensor to "
                           "preserve the format of; use empty_like(t)")
    return _in_format(out, memory_format, None)


def _in_format(out, memory_format, like):
    """``out`` (fresh, C order) laid out in ``memory_format``; preserve_format (the default
    with ``like``) takes ``like``'s axis order, as torch's ``*_like`` functions do."""
    name = "preserve_format" if memory_format is None else memory_format.name
    if name == "preserve_format":
        if like is None or like._data.flags.c_contiguous:
            return out
        out._data = in_axis_order(out._data, axis_order(like._data))
    elif name != "contiguous_format":
        out._data = laid_out(out._data, name)
    return out


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value`` (dtype inferred from it, as torch)."""
    if dtype is None:
        dtype = dtypes.bool_ if isinstance(fill_value, bool) else (
            dtypes.int64 if isinstance(fill_value, int) else dtypes.get_default_dtype())
    return _finish(np.full(_size((size,)), fill_value, _np_dtype(dtype)), device, requires_grad)


def rand(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) samples (from ``generator``, a gv.Generator, when given)."""
    _float_only("rand", dtype)
    arr = _rng(generator).random(_size_arg("rand", args, size)).astype(_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def randn(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples (from ``generator``, a gv.Generator, when given)."""
    _float_only("randn", dtype)
    arr = _rng(generator).standard_normal(_size_arg("randn", args, size)).astype(_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def randint(low=None, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
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
    arr = _rng(generator).integers(low, high, size=_size((size,))).astype(
        _np_dtype(dtype, dtypes.int64))
    return _finish(arr, device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1."""
    return _finish(_rng(generator).permutation(n).astype(_np_dtype(dtype, dtypes.int64)), device,
                   requires_grad)


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
    def like(input, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
        out = fn(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad, **kw)
        return _in_format(out, memory_format, input)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"{fn.__name__} with the shape (and dtype, device) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    """``full`` with the shape (and dtype, device) of ``input``."""
    out = full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
               device=device or input.device, requires_grad=requires_grad)
    return _in_format(out, memory_format, input)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values from base**start to base**end, evenly spaced in the exponent."""
    arr = np.logspace(start, end, steps, base=base)
    return _finish(arr.astype(_np_dtype(dtype)), device, requires_grad)


def _tri_indices(fname, np_fn, row, col, offset, dtype, device):
    if row < 0 or col < 0:
        raise GradvizError(f"{fname}(): row and col must be non-negative, got {row}, {col}")
    rows, cols = np_fn(int(row), int(offset), int(col))
    arr = np.stack([rows, cols]).astype(_np_dtype(dtype, dtypes.int64))
    return _finish(arr.reshape(2, -1), device, False)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix (rows
    in order, as torch); ``offset`` moves the diagonal up (> 0) or down (< 0)."""
    return _tri_indices("tril_indices", np.tril_indices, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _tri_indices("triu_indices", np.triu_indices, row, col, offset, dtype, device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """torch.normal: samples of N(mean, std) where ``mean`` and/or ``std`` are tensors
    (broadcast together; the dtype is ``mean``'s when it is a tensor), or floats with a
    ``size``. ``generator``: a gv.Generator. As in torch, the gradient with
    respect to a tensor ``mean`` or ``std`` is zero."""
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (tm or ts):
        if size is None:
            raise TypeError("normal() needs a size when mean and std are numbers, e.g. "
                            "gv.normal(0.0, 1.0, size=(3,))")
        if std < 0:
            raise GradvizError(f"normal expects std >= 0.0, but found std {std}")
        _float_only("normal", dtype)
        shape = _size((size,))
        noise = _draw(generator, np.zeros(0), shape)
        arr = (noise * float(std) + float(mean)).astype(_np_dtype(dtype))
        return _finish(arr, device, requires_grad)
    if size is not None:
        raise TypeError("normal(): size is only taken when mean and std are numbers")
    like = mean if tm else std
    if not like.is_floating_point():
        raise GradvizError(f'"normal" is not implemented for {like.dtype.name} tensors')
    m = mean._data if tm else float(mean)
    sd = std._data if ts else float(std)
    if (xp_of(sd).any(sd < 0) if ts else sd < 0):
        raise GradvizError("normal expects all elements of std >= 0.0" if ts else
                           f"normal expects std >= 0.0, but found std {sd}")
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(sd))
    except ValueError:
        raise ShapeError(f"normal(): mean of shape {tuple(mean.shape)} and std of shape "
                         f"{tuple(std.shape)} do not broadcast") from None
    noise = _draw(generator, like._data, shape)
    out = Tensor._wrap((noise * sd + m).astype(like._data.dtype, copy=False))
    for t in (mean, std):   # torch's NormalBackward: a zero gradient for tensor arguments
        if isinstance(t, Tensor) and t.requires_grad:
            from .ops import Where
            cond = xp_of(like._data).ones(shape, dtype=bool)
            out = Where.apply(cond, out, t.to(like.dtype))
    return out


def _draw(gen, like, shape):
    """Standard normal draws from ``gen`` (a gv.Generator), else gradviz's generator."""
    return draws(like, "standard_normal", shape, gen=gen)


class _LegacyType(type):
    """The metaclass of gv.FloatTensor ...: calling one makes a tensor of its dtype, and
    ``isinstance(x, gv.FloatTensor)`` checks the dtype (torch's legacy tensor types)."""

    def __call__(cls, *args, device=None):
        d = cls._legacy_dtype
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0].to(d)
        if not args or (all(_is_int(a) for a in args)) or (
                len(args) == 1 and isinstance(args[0], Size)):
            return zeros(_size(args) if args else (0,), dtype=d, device=device)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence of data, "
                            f"got {args!r}")
        if isinstance(args[0], (bool, float, complex)):
            raise TypeError(f"{cls.__name__}(): data must be a sequence "
                            f"(got {type(args[0]).__name__})")
        return tensor(args[0], dtype=d, device=device)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype

    def __repr__(cls):
        return f"<class 'gradviz.{cls.__name__}'>"


def _is_int(a):
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def _legacy(name):
    d = dtypes.LEGACY_NAMES[name]
    return _LegacyType(name, (), {"_legacy_dtype": d, "dtype": d, "__doc__":
                                  f"torch's legacy ``{name}``: ``{name}(data)`` is a "
                                  f"{d.name} tensor of data, ``{name}(2, 3)`` one of zeros."})


FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, \
    ByteTensor, BoolTensor = (_legacy(n) for n in dtypes.LEGACY_NAMES)
