"""dtypes with torch's names and torch's promotion rules, backed by NumPy dtypes."""
import numpy as np

from ..errors import GradvizError


class dtype:
    """A tensor element type (``gv.float32`` ...); compares equal only to itself."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "_rank", "_kind")

    def __init__(self, name, np_dtype, kind, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = kind == 2
        self.itemsize = self.np.itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating
        self._rank = rank

    def __repr__(self):
        return f"gradviz.{self.name}"

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

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"float": float32, "double": float64, "long": int64, "int": int32,
                 "half": float16, "bool_": bool_})

_default_float = float32


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
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        try:
            return _BY_NAME[d]
        except KeyError:
            raise GradvizError(f"unknown dtype name {d!r}") from None
    return from_numpy(d)


def infer_np_dtype(data):
    """The NumPy dtype torch.tensor(data) would give for Python data."""
    arr = np.asarray(data)
    k = arr.dtype.kind
    if k == "f":
        return _default_float.np if not isinstance(data, np.ndarray) else arr.dtype
    if k in "iu":
        return np.dtype(np.int64) if not isinstance(data, np.ndarray) else arr.dtype
    if k == "b":
        return np.dtype(np.bool_)
    raise GradvizError(f"cannot make a tensor from data of type {arr.dtype}")


def result_type(*operands):
    """torch.result_type: tensors with dims > zero-dim tensors > Python scalars.

    Within the highest category present, the largest kind wins; a lower
    category only matters when it brings a higher kind (an int tensor times a
    Python float gives the default float, as in torch).
    """
    best = [None, None, None]  # per category: (kind, rank, dtype)
    for op in operands:
        if isinstance(op, np.ndarray):
            d = _BY_NP.get(op.dtype) or from_numpy(op.dtype)
            cat = 2 if op.ndim else 1
        elif isinstance(op, bool):
            d, cat = bool_, 0
        elif isinstance(op, int):
            d, cat = int64, 0
        elif isinstance(op, float):
            d, cat = _default_float, 0
        else:  # a CuPy array or NumPy scalar
            d = from_numpy(op.dtype)
            cat = 2 if getattr(op, "ndim", 0) else 1
        cur = best[cat]
        if cur is None or (d._kind, d._rank) > (cur._kind, cur._rank):
            best[cat] = d
    out = None
    for cat in (2, 1, 0):
        d = best[cat]
        if d is None:
            continue
        if out is None:
            out = d
        elif d._kind > out._kind:
            out = _default_float if d._kind == 2 and cat == 0 else d
    return out
