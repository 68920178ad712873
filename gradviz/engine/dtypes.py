"""dtypes with torch's names and torch's promotion rules, backed by NumPy dtypes."""
import numpy as np

from ..errors import GradvizError


class dtype:
    """A tensor element type (``gv.float32`` ...); compares equal only to itself."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "itemsize", "_rank", "_kind")

    def __init__(self, name, np_dtype, kind, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.itemsize = self.np.itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating, 3 complex
        self._rank = rank

    def __repr__(self):
        return f"gradviz.{self.name}"

    @property
    def kind(self):
        """NumPy's kind letter ("b", "i", "u", "f", "c"), so backward formulas written for
        arrays read a graph Tensor's dtype the same way (double backward)."""
        return self.np.kind

    def __reduce__(self):  # dtypes are singletons
        return (from_name, (self.name,))


bool_ = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 1)
int16 = dtype("int16", np.int16, 1, 2)
int32 = dtype("int32", np.int32, 1, 3)
int64 = dtype("int64", np.int64, 1, 4)
float16 = dtype("float16", np.float16, 2, 1)
float32 = dtype("float32", np.float32, 2, 2)
float64 = dtype("float64", np.float64, 2, 3)
complex64 = dtype("complex64", np.complex64, 3, 2)     # ranks pair with float32 / float64
complex128 = dtype("complex128", np.complex128, 3, 3)


class _NamedOnlyDtype(dtype):
    """A torch dtype NumPy has no array type for (bfloat16): the name exists, so scripts that
    mention it (``autocast(dtype=gv.bfloat16, enabled=flag)``) load, but making a tensor of it
    raises instead of silently computing in another precision."""

    __slots__ = ()

    def __init__(self, name, itemsize, rank):  # no base __init__: it would set .np
        self.name, self.is_floating_point, self.itemsize = name, True, itemsize
        self.is_complex = False
        self._kind, self._rank = 2, rank

    @property
    def kind(self):
        """Floating ("f"), as NumPy would call it."""
        return "f"

    @property
    def np(self):
        """Refuse: no NumPy dtype backs this one."""
        raise GradvizError(f"gradviz has no {self.name} tensors (NumPy has no {self.name} "
                           "type); use float32 (or float16) instead")


bfloat16 = _NamedOnlyDtype("bfloat16", 2, 1)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64,
       complex128)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"float": float32, "double": float64, "long": int64, "int": int32,
                 "half": float16, "bool_": bool_, "bfloat16": bfloat16,
                 "cfloat": complex64, "cdouble": complex128})

_default_float = float32

# torch's legacy tensor type names (``x.type('torch.LongTensor')``, ``gv.LongTensor``)
LEGACY_NAMES = {"FloatTensor": float32, "DoubleTensor": float64, "HalfTensor": float16,
                "LongTensor": int64, "IntTensor": int32, "ShortTensor": int16,
                "CharTensor": int8, "ByteTensor": uint8, "BoolTensor": bool_}


def from_name(name):
    """The dtype called ``name`` ("float32", "long" ...)."""
    return _BY_NAME[name]


def from_numpy(np_dtype):
    """The gradviz dtype of a NumPy dtype; unsupported ones raise a clear error."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise GradvizError(f"unsupported dtype {np_dtype}; use one of "
                           + ", ".join(d.name for d in ALL)) from None


def to_complex(d):
    """The complex dtype whose parts are ``d`` (float64 -> complex128; other reals and
    complex64 -> complex64, as gradviz has no complex32)."""
    if d._kind == 3:
        return d
    return complex128 if d is float64 else complex64


def to_real(d):
    """The real dtype of a complex dtype's parts (complex128 -> float64); others unchanged."""
    if d._kind != 3:
        return d
    return float64 if d is complex128 else float32


def default_complex():
    """The dtype of complex numbers made from Python data: complex64 under the default float32,
    complex128 under float64 (torch's rule)."""
    return to_complex(_default_float)


def get_default_dtype():
    """The dtype of floats created from Python numbers (float32 unless changed)."""
    return _default_float


def set_default_dtype(d):
    """Set the default floating dtype (float32 or float64)."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise GradvizError(f"default dtype must be floating point, not {d}")
    _default_float = d


def to_dtype(d):
    """Accept a gradviz dtype, a NumPy dtype, a name or a Python type."""
    if isinstance(d, dtype):
        return d
    legacy = getattr(d, "_legacy_dtype", None)   # gv.FloatTensor ... (x.type(gv.LongTensor))
    if legacy is not None:
        return legacy
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        try:
            return _BY_NAME[d] if d in _BY_NAME else LEGACY_NAMES[d.rpartition(".")[2]]
        except KeyError:
            raise GradvizError(f"unknown dtype name {d!r}") from None
    return from_numpy(d)


def infer_np_dtype(data):
    """The NumPy dtype torch.tensor(data) would give for Python data."""
    return infer_dtype(data).np


def infer_dtype(data):
    """The dtype torch.tensor(data) gives: Python floats take the default dtype, ints int64,
    bools bool; NumPy scalars, arrays and tensors keep theirs; a sequence promotes over its
    items with ``promote_types`` (``[np.float64(0.1), 0.2]`` is float64, as in torch)."""
    if isinstance(data, np.generic):   # before float: np.float64 subclasses it
        return from_numpy(data.dtype)
    if isinstance(data, bool):
        return bool_
    if isinstance(data, int):
        return int64
    if isinstance(data, float):
        return _default_float
    if isinstance(data, complex):
        return default_complex()
    if isinstance(data, (list, tuple)):
        out = None
        for item in data:
            d = infer_dtype(item)
            out = d if out is None else promote_types(out, d)
        return _default_float if out is None else out
    own = getattr(data, "dtype", None)   # NumPy scalars and arrays, CuPy arrays, Tensors
    if isinstance(own, dtype):
        return own
    if own is not None:
        return from_numpy(own)
    kind = np.asarray(data).dtype.kind   # other iterables (range ...): as NumPy reads them
    if kind in "fiubc":
        return {"f": _default_float, "b": bool_, "c": default_complex()}.get(kind, int64)
    raise GradvizError(f"cannot make a tensor from data of type {type(data).__name__}")


def _check_dtype(fname, argname, d):
    if not isinstance(d, dtype):
        raise TypeError(f"{fname}(): argument '{argname}' must be gradviz.dtype, "
                        f"not {type(d).__name__}")


def _promote(a, b):
    if a is b:
        return a
    if a._kind != b._kind:   # bool < integer < floating < complex: the higher kind wins
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi._kind == 3 and lo._kind == 2 and lo._rank > hi._rank:
            return complex128   # float64 with complex64: torch keeps float64's precision
        return hi
    if a is uint8 or b is uint8:   # uint8 with a signed type: int16 when that is int8
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a._rank > b._rank else b


def promote_types(type1, type2):
    """torch.promote_types: the smallest dtype both ``type1`` and ``type2`` convert to."""
    _check_dtype("promote_types", "type1", type1)
    _check_dtype("promote_types", "type2", type2)
    return _promote(type1, type2)


def can_cast(from_, to):
    """torch.can_cast: False only for a cast to a lower kind (complex → real, floating →
    integer/bool, integer → bool)."""
    _check_dtype("can_cast", "from_", from_)
    _check_dtype("can_cast", "to", to)
    return from_._kind <= to._kind


def _combine(higher, lower):
    """torch's combine_categories: a lower category matters only when it brings a higher kind
    (an int tensor with a 0-d float64 tensor gives float64)."""
    if higher is None:
        return lower
    if lower is None or higher._kind == 3:
        return higher
    if lower._kind == 3:   # a complex number with a real tensor: the tensor's precision
        return to_complex(higher) if higher._kind == 2 else lower
    if higher._kind == 2:
        return higher
    if higher is bool_ or lower._kind == 2:
        return _promote(higher, lower)
    return higher


def result_type(*operands):
    """torch.result_type on arrays and Python scalars: tensors with dims > zero-dim tensors >
    Python numbers; each category promotes within itself, then categories combine as torch's
    ``combine_categories`` (Python floats count as the default dtype)."""
    best = [None, None, None]  # per category: the promoted dtype
    for op in operands:
        if isinstance(op, np.ndarray):
            d = _BY_NP.get(op.dtype) or from_numpy(op.dtype)
            cat = 2 if op.ndim else 1
        elif isinstance(op, (bool, np.bool_)):
            d, cat = bool_, 0
        elif isinstance(op, (int, np.integer)):
            d, cat = int64, 0
        elif isinstance(op, (float, np.floating)):
            d, cat = _default_float, 0
        elif isinstance(op, (complex, np.complexfloating)):
            d, cat = default_complex(), 0
        else:  # a CuPy array
            d = from_numpy(op.dtype)
            cat = 2 if getattr(op, "ndim", 0) else 1
        cur = best[cat]
        best[cat] = d if cur is None else _promote(cur, d)
    return _combine(best[2], _combine(best[1], best[0]))


def tensor_result_type(tensor, other):
    """``gv.result_type(tensor_or_number, tensor_or_number)``: the dtype of an op on both."""
    ops = []
    for op in (tensor, other):
        arr = getattr(op, "_data", None)
        if arr is None and not isinstance(op, (bool, int, float, complex, np.generic)):
            raise TypeError("result_type(): arguments must be Tensors or Numbers, "
                            f"not {type(op).__name__}")
        ops.append(op if arr is None else arr)
    return result_type(*ops)


class finfo:
    """torch.finfo: machine limits of a floating dtype (the default dtype without one)."""

    def __init__(self, type=None):  # noqa: A002 - torch's name
        d = _default_float if type is None else to_real(to_dtype(type))
        if not d.is_floating_point:
            raise TypeError("gradviz.finfo() requires a floating point input type. "
                            "Use gradviz.iinfo to handle 'gradviz.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)   # torch: a power of ten
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    __hash__ = None   # as torch.finfo

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the range of an integer dtype (bool is refused, as in torch)."""

    def __init__(self, type):  # noqa: A002 - torch's name
        d = to_dtype(type)
        if d is bool_:
            raise TypeError("gradviz.bool is not supported by gradviz.iinfo")
        if d._kind != 1:
            raise TypeError("gradviz.iinfo() requires an integer input type. "
                            "Use gradviz.finfo to handle 'gradviz.iinfo'")
        info = np.iinfo(d.np)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    __hash__ = None

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
